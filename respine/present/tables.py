"""Tables as specs applied to data (the rtables idea: the layout is declared before the data).

A :class:`TableSpec` is a tuple of columns, each a header and a function from one result row to a
display string. The same built table is shown on the page, downloaded as CSV and snapshot-tested.

Every builder takes ``min_cell`` (k of :mod:`respine.present.privacy`): cells that describe fewer than k
subjects are suppressed; 0, the default, shows everything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from respine.analyses import baseline, flow, survival
from respine.analyses.screening import Screening
from respine.model.endpoints import Endpoint
from respine.model.results import AnalysisResult, BinarySummary
from respine.present import fmt, privacy
from respine.present import labels as wording


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[object], str]


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[Column, ...]

    def build(self, rows: Iterable[object]) -> pd.DataFrame:
        return pd.DataFrame(
            [{c.header: c.cell(r) for c in self.columns} for r in rows],
            columns=[c.header for c in self.columns],
        )


CONTINUOUS_ARMS = TableSpec(
    (
        Column("Arm", lambda s: s.arm),
        Column("n", lambda s: str(s.n)),
        Column("Mean (SD)", lambda s: fmt.mean_sd(s.mean, s.sd)),
        Column("95% CI of mean", lambda s: f"{fmt.num(s.ci_low)} to {fmt.num(s.ci_high)}"),
        Column("Median (IQR)", lambda s: fmt.median_iqr(s.median, s.q1, s.q3)),
        Column("Range", lambda s: f"{fmt.num(s.minimum)} to {fmt.num(s.maximum)}"),
    )
)

BINARY_ARMS = TableSpec(
    (
        Column("Arm", lambda s: s.arm),
        Column("Responders / n", lambda s: fmt.n_pct(s.responders, s.n)),
        Column("Rate", lambda s: fmt.pct(s.rate)),
        Column("95% CI (Wilson)", lambda s: f"{fmt.pct(s.ci_low)} to {fmt.pct(s.ci_high)}"),
    )
)

CONTRASTS = TableSpec(
    (
        Column("Comparison", lambda c: f"{c.arm} vs {c.reference}"),
        Column("Measure", lambda c: fmt.contrast_label(c.measure)),
        Column(
            "Estimate [95% CI]", lambda c: fmt.contrast_estimate(c.measure, c.estimate, c.ci_low, c.ci_high)
        ),
        Column("p-value", lambda c: fmt.p_value(c.p_value)),
        Column("Test", lambda c: c.test),
    )
)

OVER_TIME_CONTINUOUS = TableSpec(
    (
        Column("Visit", lambda r: r["visit"]),
        Column("Arm", lambda r: r["arm"]),
        Column("n", lambda r: str(int(r["n"]))),
        Column("Mean [95% CI]", lambda r: fmt.est_ci(r["estimate"], r["ci_low"], r["ci_high"])),
        Column("SD", lambda r: fmt.num(r["sd"])),
        Column("Median", lambda r: fmt.num(r["median"])),
    )
)

OVER_TIME_BINARY = TableSpec(
    (
        Column("Visit", lambda r: r["visit"]),
        Column("Arm", lambda r: r["arm"]),
        Column("Responders / n", lambda r: fmt.n_pct(int(r["responders"]), int(r["n"]))),
        Column(
            "Rate [95% CI]",
            lambda r: f"{fmt.pct(r['estimate'])} [{fmt.pct(r['ci_low'])}, {fmt.pct(r['ci_high'])}]",
        ),
    )
)


def arm_suppressed(s: object, k: int) -> bool:
    """An arm summary describes too few subjects: its n, its responders or its non-responders
    are below k."""
    return privacy.is_small(s.n, k) or (
        isinstance(s, BinarySummary) and privacy.split_small(s.responders, s.n, k)
    )


def arm_table(result: AnalysisResult, min_cell: int = 0) -> pd.DataFrame:
    """Per-arm summary at the visit; adds LS means when the analysis has them."""
    first = result.arms[0] if result.arms else None
    binary = isinstance(first, BinarySummary)
    spec = BINARY_ARMS if binary else CONTINUOUS_ARMS
    table = spec.build(result.arms)
    if binary and result.method == "exact":  # the exact method's arms carry Clopper-Pearson intervals
        table = table.rename(columns={"95% CI (Wilson)": "95% CI (Clopper-Pearson)"})
    if result.lsmeans:
        lsm = {d["arm"]: d for d in result.lsmeans}
        table["LS mean [95% CI]"] = [
            fmt.est_ci(lsm[a]["lsmean"], lsm[a]["ci_low"], lsm[a]["ci_high"]) if a in lsm else fmt.DASH
            for a in table["Arm"]
        ]
    k = min_cell
    if binary:
        counts = {
            "Responders / n": [privacy.count_of_cell(s.responders, s.n, k, fmt.n_pct) for s in result.arms]
        }
    else:
        counts = {"n": [privacy.count_cell(s.n, k) for s in result.arms]}
        if k > 0:  # order statistics: no range, quantiles only with k subjects on each side
            table["Median (IQR)"] = [median_iqr_cell(s.median, s.q1, s.q3, s.n, k) for s in result.arms]
            table["Range"] = privacy.SUPPRESSED
    return privacy.mask_rows(table, [arm_suppressed(s, k) for s in result.arms], ("Arm",), counts)


def median_iqr_cell(median: float, q1: float, q3: float, n: int, k: int) -> str:
    """'median (Q1 to Q3)' under :func:`privacy.quantile_allowed`: the quartiles need k subjects
    on each side (n >= 4k), the median too (n >= 2k); what may not be shown reads 'suppressed'."""
    if privacy.quantile_allowed(0.25, n, k):
        return fmt.median_iqr(median, q1, q3)
    if privacy.quantile_allowed(0.5, n, k):
        return fmt.median_iqr_withheld(median, privacy.SUPPRESSED)
    return privacy.SUPPRESSED


def median_cell(median: float, n: int, k: int) -> str:
    """A median alone, shown only with k subjects on each side of it (n >= 2k)."""
    return fmt.num(median) if privacy.quantile_allowed(0.5, n, k) else privacy.SUPPRESSED


def primary_metrics(result: AnalysisResult, min_cell: int = 0) -> list[tuple[str, str, str]]:
    """(label, value, help) of the headline metrics of a binary result: each arm's responder rate,
    then the p-value of each treatment arm's first contrast with the reference (named after its
    arm when there are several); all suppressed when an arm describes fewer than ``min_cell``
    subjects (the p-value would let the small arm be worked back)."""
    hidden = [arm_suppressed(s, min_cell) for s in result.arms]
    metrics = [
        (f"{s.arm} responders", privacy.SUPPRESSED, f"Fewer than {min_cell} subjects.")
        if small
        else (f"{s.arm} responders", f"{100 * s.rate:.0f}%", f"{s.responders} of {s.n}")
        for s, small in zip(result.arms, hidden, strict=True)
    ]
    firsts = list({c.arm: c for c in reversed(result.contrasts)}.values())[::-1]
    for rd in firsts:
        name = "p-value" if len(firsts) == 1 else f"p-value, {rd.arm}"
        metrics.append((name, privacy.SUPPRESSED if any(hidden) else f"{rd.p_value:.2f}", rd.test))
    return metrics


def contrast_table(result: AnalysisResult, min_cell: int = 0) -> pd.DataFrame:
    """Contrasts; one that involves an arm with a suppressed summary is suppressed too."""
    table = CONTRASTS.build(result.contrasts)
    small = {s.arm for s in result.arms if arm_suppressed(s, min_cell)}
    flags = [c.arm in small or c.reference in small for c in result.contrasts]
    return privacy.mask_rows(table, flags, ("Comparison", "Measure", "Test"))


def homogeneity_table(result: AnalysisResult, min_cell: int = 0) -> pd.DataFrame:
    """The Breslow-Day tests of a stratified (CMH) result, one row per comparison (empty when the
    result has none); suppressed where an arm of the comparison is."""
    rows = list(result.extra.get("homogeneity", ()) or ())  # type: ignore[call-overload]
    table = pd.DataFrame(
        {"Comparison": [f"{r['arm']} vs {r['reference']}" for r in rows],
         "Test": [str(r["test"]) for r in rows],
         "Chi-square": [fmt.num(float(r["statistic"]), 2) for r in rows],
         "df": [str(r["df"]) for r in rows],
         "p-value": [fmt.p_value(float(r["p_value"])) for r in rows]})
    small = {s.arm for s in result.arms if arm_suppressed(s, min_cell)}
    return privacy.mask_rows(table, [r["arm"] in small or r["reference"] in small for r in rows],
                             ("Comparison", "Test"))


TYPE3 = TableSpec(
    (
        Column("Term", lambda r: r.label),
        Column("Numerator df", lambda r: f"{r.num_df:g}"),
        Column("Denominator df", lambda r: fmt.num(r.denom_df, 1)),
        Column("F", lambda r: fmt.num(r.f_stat, 2)),
        Column("p", lambda r: fmt.p_value(r.p_value)),
    )
)


def type3_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Type III F tests of a model's terms (:func:`respine.analyses.repeated.mmrm_type3`); model
    statistics of every subject, so nothing to mask in aggregate-only mode."""
    return TYPE3.build(frame.itertuples())


def covariance_sensitivity_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The MMRM contrast under each covariance choice
    (:func:`respine.analyses.repeated.covariance_sensitivity`); a structure that could not be
    fitted shows why instead of numbers."""
    rows = []
    for r in frame.to_dict("records"):
        fitted = not r["message"]
        rows.append({
            "Covariance": str(r["label"]) + (" per arm" if r["covariance_by"] == "arm" else ""),
            "Standard errors": "empirical (CR2)" if r["vcov"] != "model" else "model-based",
            "Comparison": f"{r['arm']} vs {r['reference']}" if fitted else "",
            "Estimate [95% CI]": (fmt.est_ci(r["estimate"], r["ci_low"], r["ci_high"]) if fitted
                                  else "not fitted"),
            "p-value": fmt.p_value(r["p_value"]) if fitted else "",
            "AIC": fmt.num(r["aic"], 1) if fitted else "",
            "Note": r["message"],
        })
    return pd.DataFrame(rows, columns=["Covariance", "Standard errors", "Comparison", "Estimate [95% CI]",
                                       "p-value", "AIC", "Note"])


def over_time_table(frame: pd.DataFrame, kind: str, min_cell: int = 0) -> pd.DataFrame:
    spec = OVER_TIME_BINARY if kind == "binary" else OVER_TIME_CONTINUOUS
    table = spec.build(r for _, r in frame.iterrows())
    k = min_cell
    if kind == "binary":
        counts = {
            "Responders / n": [
                privacy.count_of_cell(c, n, k, fmt.n_pct)
                for c, n in zip(frame["responders"], frame["n"], strict=True)
            ]
        }
    else:
        counts = {"n": [privacy.count_cell(n, k) for n in frame["n"]]}
        if k > 0:
            table["Median"] = [median_cell(m, n, k) for m, n in zip(frame["median"], frame["n"], strict=True)]
    small = [
        a or b for a, b in zip(privacy.small_rows(frame, TREND_COUNTS, k),
                               privacy.small_split_rows(frame, [("responders", "n")], k), strict=True)
    ]
    return privacy.mask_rows(table, small, ("Visit", "Arm"), counts)


TREND_COUNTS = ("n", "responders")  # count columns of an over-time frame (by arm and visit)


def baseline_display(
    frame: pd.DataFrame, groups: list[str], summary: str = "mean", min_cell: int = 0
) -> pd.DataFrame:
    """Baseline table for display: mean (SD) or median (IQR) for continuous rows, n (%) for levels.

    With ``min_cell`` k > 0: counts of 1 to k-1 read ``<k``, and counts that would let one be
    worked back from the Overall column or the arm totals read ``suppressed``
    (:func:`privacy.secondary_suppression` over :func:`baseline.count_cells`), with their
    percentage or statistic; medians and quartiles follow :func:`privacy.quantile_allowed`; the
    SMD of a variable with a hidden cell is hidden."""
    k = min_cell
    status: dict = {}
    if k > 0 and not frame.empty:
        counts, lines, prefer = baseline.count_cells(frame, groups)
        status = privacy.secondary_suppression(counts, lines, k, prefer)
    columns = [*groups, "Overall"]
    hidden_variables = {frame["variable"].iat[i] for i, _ in status}
    # one SMD per treatment arm (vs the reference): "SMD" when there is one, "SMD <arm>" else
    smds = [c for c in frame.columns if str(c).startswith("smd|")]
    smd_headers = {c: "SMD" if len(smds) == 1 else f"SMD {c.removeprefix('smd|')}" for c in smds}
    out = []
    for i, (_, r) in enumerate(frame.iterrows()):
        row = {"Characteristic": r["variable"] if not r["level"] else f"{r['variable']}: {r['level']}"}
        for g in columns:
            hidden = status.get((i, g))
            if r["kind"] == "continuous":
                n = int(r[f"{g}|n"])
                if hidden:
                    cell = privacy.SUPPRESSED
                elif summary == "mean":
                    cell = fmt.mean_sd(r[f"{g}|mean"], r[f"{g}|sd"])
                elif k > 0:
                    cell = median_iqr_cell(r[f"{g}|median"], r[f"{g}|q1"], r[f"{g}|q3"], n, k)
                else:
                    cell = fmt.median_iqr(r[f"{g}|median"], r[f"{g}|q1"], r[f"{g}|q3"])
                row[g] = f"{cell} [n={privacy.hidden_count(n, hidden, k)}]"
            elif hidden:
                row[g] = privacy.hidden_count(r[f"{g}|count"], hidden, k)
            else:
                row[g] = f"{int(r[f'{g}|count'])} ({fmt.num(r[f'{g}|pct'])}%)"
        # the SMD of a variable with a hidden cell would let the cell be worked back
        for c, header in smd_headers.items():
            row[header] = privacy.SUPPRESSED if r["variable"] in hidden_variables else fmt.num(r[c], 2)
        out.append(row)
    return pd.DataFrame(out)


RD_HEADER, P_HEADER = "Risk difference [95% CI]", "p (Fisher)"


def _compared_arms(frame: pd.DataFrame, arms: list[str]) -> tuple[list[str], str]:
    """The arms a counts frame compares with the reference (those with ``<arm>|rd`` columns) and
    the reference (the arm without one)."""
    compared = [a for a in arms if f"{a}|rd" in frame.columns]
    rest = [a for a in arms if a not in compared]
    return compared, (rest[-1] if rest else "")


def counts_display(
    frame: pd.DataFrame,
    arms: list[str],
    label_column: str,
    header: str,
    with_rd: bool = True,
    min_cell: int = 0,
    hidden: Mapping[tuple[int, str], str] | None = None,
) -> pd.DataFrame:
    """Subject counts per arm as 'k/n (x%)', followed by '[events]' where the frame counts events
    (``<arm>|events``), then the risk difference [95% CI] and Fisher's p of each treatment arm
    against the reference (``<arm>|rd``, ``<arm>|rd_low``, ``<arm>|rd_high``, ``<arm>|p_value``;
    a frame of one comparison may carry them as ``rd``, ``rd_low``, ``rd_high``, ``p_value``).

    With one comparison the columns are "Risk difference [95% CI]" and "p (Fisher)"; with several,
    each is prefixed by "<arm> vs <reference>: ". A small count (see
    :func:`respine.present.privacy.count_of_cell`) hides its events and the row's comparisons;
    ``hidden`` (from :func:`respine.present.privacy.secondary_suppression`, cells keyed by row
    position and arm) hides the cells whose count the table's sums would give away.
    """
    hidden = hidden or {}
    compared, reference = _compared_arms(frame, arms)
    if with_rd and not compared and "rd" in frame.columns:
        # one comparison in the columns of old: the first arm against the last
        frame = frame.rename(columns={c: f"{arms[0]}|{c}" for c in ("rd", "rd_low", "rd_high", "p_value")})
        compared, reference = [arms[0]], arms[-1]
    out = []
    for i, (_, r) in enumerate(frame.iterrows()):
        row = {header: r[label_column]}
        suppressed = False
        for a in arms:
            count, n = int(r[f"{a}|count"]), int(r[f"{a}|n"])
            small = privacy.split_small(count, n, min_cell) or (i, a) in hidden
            suppressed = suppressed or small
            cell = (privacy.SUPPRESSED if hidden.get((i, a)) == privacy.COMPLEMENTARY
                    else privacy.count_of_cell(count, n, min_cell, fmt.n_pct))
            events = r.get(f"{a}|events")
            if not small and events is not None and not pd.isna(events) and not privacy.is_small(n, min_cell):
                cell = f"{cell} [{int(events)}]"
            row[a] = cell
        if with_rd:
            for a in compared:
                several = len(compared) > 1
                rd_header = f"{a} vs {reference}: risk difference [95% CI]" if several else RD_HEADER
                p_header = f"{a} vs {reference}: p (Fisher)" if several else P_HEADER
                rd = (r[f"{a}|rd"], r[f"{a}|rd_low"], r[f"{a}|rd_high"])
                row[rd_header] = (privacy.SUPPRESSED if suppressed
                                  else fmt.contrast_estimate("risk_difference", *rd))
                row[p_header] = privacy.SUPPRESSED if suppressed else fmt.p_value(r[f"{a}|p_value"])
        out.append(row)
    return pd.DataFrame(out)


def ae_overview_display(frame: pd.DataFrame, arms: list[str], min_cell: int = 0) -> pd.DataFrame:
    """The adverse-event overview (:func:`respine.analyses.safety.ae_overview`) as
    :func:`counts_display` shows it, with disclosure control of its sums: in each arm the worst
    severity rows (and the worst grade rows) add up to the subjects with any event, so a small
    count among them gets a complement hidden too."""
    if frame.empty:
        return pd.DataFrame()
    keys = [str(k) for k in frame["key"]]
    hidden: dict[Hashable, str] = {}
    if min_cell > 0 and "any" in keys:
        counts = {(i, a): int(frame[f"{a}|count"].iat[i]) for a in arms for i in range(len(frame))}
        lines: list[privacy.Line] = [
            ([(i, a) for i, key in enumerate(keys) if key.startswith(f"{group}:")], (keys.index("any"), a))
            for group in ("severity", "grade") for a in arms if any(k.startswith(f"{group}:") for k in keys)]
        hidden = privacy.secondary_suppression(counts, lines, min_cell)
    return counts_display(frame, arms, "category", "Category", min_cell=min_cell,
                          hidden={key: status for key, status in hidden.items() if isinstance(key, tuple)})


#: Indentation of a preferred term beneath its organ class (em spaces: a table keeps them).
TERM_INDENT = "\u2003\u2003"


def ae_term_display(frame: pd.DataFrame, arms: list[str], min_cell: int = 0) -> pd.DataFrame:
    """Adverse events by system organ class and preferred term
    (:func:`respine.analyses.safety.ae_by_term`): the total row, each organ class, and its terms
    indented beneath it, with the cells and comparisons of :func:`counts_display`."""
    if frame.empty:
        return pd.DataFrame()
    shown = frame.assign(_label=[f"{TERM_INDENT}{label}" if level else str(label)
                                 for label, level in zip(frame["label"], frame["level"], strict=True)])
    return counts_display(shown, arms, "_label", "System organ class / preferred term", min_cell=min_cell)


def comparisons(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The comparisons of a frame of contrasts with ``arm`` and ``reference`` columns, in their
    order: ``(arm, reference, rows)``; one ``("", "", frame)`` for a frame without them."""
    if "arm" not in frame.columns or frame.empty:
        return [("", "", frame)]
    named = frame.dropna(subset=["arm", "reference"])
    pairs = list(dict.fromkeys(zip(named["arm"].astype(str), named["reference"].astype(str), strict=True)))
    if len(pairs) <= 1:  # one comparison: every row (a row without a result names no arm)
        return [(*(pairs[0] if pairs else ("", "")), frame)]
    return [(a, r, frame[(frame["arm"] == a) & (frame["reference"] == r)]) for a, r in pairs]


def subgroup_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """The subgroup table: one row per level of each comparison. With one comparison its arms
    head the count columns (``n <arm>``); with several a Comparison column says which two arms
    the row compares, and the counts are of the treatment arm and the reference."""
    parts = comparisons(frame)
    several = len(parts) > 1
    out = []
    for arm, ref, part in parts:
        n_cols = [f"n {arm}", f"n {ref}"] if arm else [c for c in part.columns if c.startswith("n ")]
        headers = ["n (arm)", "n (reference)"] if several else n_cols
        small = privacy.small_rows(part, n_cols, min_cell)
        for (_, r), suppressed in zip(part.iterrows(), small, strict=True):
            row: dict[str, object] = {"Comparison": f"{arm} vs {ref}"} if several else {}
            overall = r["variable"] == "Overall"
            row["Subgroup"] = r["variable"] if overall else f"{r['variable']}: {r['level']}"
            for c, header in zip(n_cols, headers, strict=True):
                row[header] = privacy.count_cell(int(r[c]), min_cell)
            row[fmt.contrast_label(r["measure"]) + " [95% CI]"] = (
                privacy.SUPPRESSED
                if suppressed
                else fmt.contrast_estimate(r["measure"], r["estimate"], r["ci_low"], r["ci_high"])
            )
            # interaction tests use every level of the covariate, so they stay
            row["Interaction p"] = "" if pd.isna(r["p_interaction"]) else fmt.p_value(r["p_interaction"])
            row["Interaction p (Holm)"] = (
                "" if pd.isna(r["p_interaction_holm"]) else fmt.p_value(r["p_interaction_holm"])
            )
            row["Note"] = r["note"]
            out.append(row)
    return pd.DataFrame(out)


def sweep_display(
    frame: pd.DataFrame, treat: str, reference: str, unit: str, min_cell: int = 0
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            f"Improvement at least ({unit})": [f"{t:g}" for t in frame["threshold"]],
            treat: [fmt.pct(x) for x in frame[f"rate {treat}"]],
            reference: [fmt.pct(x) for x in frame[f"rate {reference}"]],
            "Risk difference [95% CI]": [
                fmt.contrast_estimate("risk_difference", d, lo, hi)
                for d, lo, hi in zip(frame["rd"], frame["rd_low"], frame["rd_high"], strict=True)
            ],
        }
    )
    # a rate of 1 to k-1 responders at a threshold is suppressed
    responders = [c for c in frame.columns if c.startswith("responders ")]
    small = privacy.small_rows(frame, responders, min_cell)
    return privacy.mask_rows(table, small, (f"Improvement at least ({unit})",))


def correlation_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "Arm": frame["arm"],
            "n": [privacy.count_cell(n, min_cell) for n in frame["n"]],
            "Spearman rho": [fmt.num(x, 2) for x in frame["rho"]],
            "p-value": [fmt.p_value(x) for x in frame["p_value"]],
        }
    )
    small = [privacy.is_small(n, min_cell) for n in frame["n"]]
    return privacy.mask_rows(table, small, ("Arm", "n"))


def completion_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """Subjects with a value at each visit, 'observed/expected (x%)'. The subjects without one
    are a count too: fewer than ``min_cell`` of them read '>expected-k/expected'."""
    cells = [
        privacy.count_of_cell(o, e, min_cell, fmt.n_pct, complement=True)
        for o, e in zip(frame["observed"], frame["expected"], strict=True)
    ]
    return pd.DataFrame({"Visit": frame["visit"], "Arm": frame["arm"], "With a value": cells})


def count_hidden(table: pd.DataFrame, column: str) -> list[bool]:
    """Rows of a display table whose count in ``column`` is not shown as a plain 'n/N (x%)'
    (suppressed, '<k', '>m/N'): a figure of the same rows must not show them either."""
    return [not (isinstance(v, str) and v.endswith("%)") and "/" in v) for v in table[column]]


def _with_hidden_counts(frame: pd.DataFrame, columns: Sequence[str], counts: Mapping[tuple[int, str], int],
                        status: Mapping[Hashable, str], k: int) -> pd.DataFrame:
    """``frame`` with each count cell of ``columns`` as shown after disclosure control: the count,
    ``<k`` (primary) or ``suppressed`` (complementary), by the ``status`` of cell ``(row, column)``."""
    out = frame.copy()
    for c in columns:
        shown = [privacy.hidden_count(counts[(i, c)], status.get((i, c)), k) for i in range(len(frame))]
        out[c] = pd.Series(shown, index=frame.index, dtype=object)
    return out


def missing_display(
    completion: pd.DataFrame, patterns: pd.DataFrame, count_columns: list[str], min_cell: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables of the Missing data page, suppressed together: completion by visit
    (:func:`completion_display`) and the patterns of missingness (:func:`counts_frame_display`).

    The tables are linked: at each visit the patterns with a value add up to the completion
    count, those without one to the rest of the arm. So the subjects with and without a value
    at each visit are cells of one system with the patterns (:func:`privacy.secondary_suppression`),
    and a completion count hidden to protect a pattern reads 'suppressed/expected'. A completion
    count whose rest is under k reads '>expected-k/expected', one under k '<k/expected'.

    Parameters
    ----------
    completion
        :func:`respine.analyses.missing.completion` (arm, visit_month, visit, observed, expected).
    patterns
        :func:`respine.analyses.missing.missing_patterns` of the same population and endpoint.
    count_columns
        The arms and "Total" of ``patterns``.
    min_cell
        Suppression threshold k; 0 shows every count.
    """
    if min_cell <= 0:
        return completion_display(completion), counts_frame_display(patterns, count_columns)
    k = min_cell
    arms = [c for c in count_columns if c != "Total"]
    counts: dict = {(i, c): int(patterns[c].iat[i]) for c in count_columns for i in range(len(patterns))}
    lines: list[privacy.Line] = [([(i, a) for a in arms], (i, "Total")) for i in range(len(patterns))]
    lines += [([(i, c) for i in range(len(patterns))], None) for c in count_columns]
    first = str(patterns.columns[0])
    marks = [str(p).split(" ") for p in patterns[first]]
    months = list(dict.fromkeys(completion["visit_month"]))
    for j in range(len(completion)):
        observed, expected = int(completion["observed"].iat[j]), int(completion["expected"].iat[j])
        counts[("observed", j)], counts[("missing", j)] = observed, expected - observed
        lines.append(([("observed", j), ("missing", j)], None))
        arm, v = completion["arm"].iat[j], months.index(completion["visit_month"].iat[j])
        if arm in arms and len(months) == (len(marks[0]) if marks else 0):
            for mark, cell in (("X", ("observed", j)), (".", ("missing", j))):
                lines.append(([(i, arm) for i in range(len(marks)) if marks[i][v] == mark], cell))
    prefer = {(i, "Total") for i in range(len(patterns))}
    status = privacy.secondary_suppression(counts, lines, k, prefer)
    shown_patterns = _with_hidden_counts(patterns, count_columns, counts, status, k)
    cells = []
    for j in range(len(completion)):
        observed, expected = counts[("observed", j)], int(completion["expected"].iat[j])
        hidden, rest = status.get(("observed", j)), status.get(("missing", j))
        if privacy.is_small(expected, k) or hidden == privacy.PRIMARY:
            cells.append(privacy.count_of_cell(observed, expected, k, fmt.n_pct))
        elif rest == privacy.PRIMARY:
            cells.append(f">{expected - k}/{expected}")
        elif hidden:
            cells.append(f"{privacy.SUPPRESSED}/{expected}")
        else:
            cells.append(fmt.n_pct(observed, expected))
    shown_completion = pd.DataFrame(
        {"Visit": completion["visit"], "Arm": completion["arm"], "With a value": cells}
    )
    return shown_completion, shown_patterns


def counts_frame_display(
    frame: pd.DataFrame,
    count_columns: list[str],
    min_cell: int = 0,
    lines: list[privacy.Line] | None = None,
) -> pd.DataFrame:
    """A table of subject counts (missing-data patterns, participant flow, population counts)
    with small counts as <k and the counts that would give them away as 'suppressed'.

    Cells are ``(row position, column)``. ``lines`` are the sums the table publishes (see
    :func:`privacy.secondary_suppression`); by default :func:`count_lines` reads them from the
    table's layout. Without suppression (``min_cell`` 0) the counts stay numbers, for the CSV
    and Excel files."""
    if min_cell <= 0:
        return frame
    counts = {(i, c): int(frame[c].iat[i]) for c in count_columns for i in range(len(frame))}
    if lines is None:
        lines = count_lines(frame, count_columns, min_cell)
    prefer = {(i, "Total") for i in range(len(frame))} if "Total" in count_columns else set()
    status = privacy.secondary_suppression(counts, lines, min_cell, prefer)
    return _with_hidden_counts(frame, count_columns, counts, status, min_cell)


def count_lines(frame: pd.DataFrame, count_columns: list[str], min_cell: int = 0) -> list[privacy.Line]:
    """The sums a table of counts publishes, read from its layout.

    Every row whose arms add up to its ``Total``; the participant flow's allocation and
    withdrawal rows (:func:`flow.flow_lines`); and for missing-data patterns (first column
    ``pattern (...)``), every column (it adds up to the arm's N), and at each visit the patterns
    with a value and those without one, when the completion table beside it shows how many had
    a value (:func:`completion_display`; the Total column when every arm's number is shown).
    """
    rows = range(len(frame))
    arms = [c for c in count_columns if c != "Total"]
    lines: list[privacy.Line] = []
    if "Total" in count_columns and arms:
        lines += [([(i, a) for a in arms], (i, "Total")) for i in rows]
    if {"stage", "detail"} <= set(frame.columns):
        lines += flow.flow_lines(frame, count_columns)
    first = str(frame.columns[0]) if len(frame.columns) else ""
    if first.startswith("pattern ("):
        marks = [str(p).split(" ") for p in frame[first]]
        visits = range(len(marks[0]) if marks else 0)
        k = min_cell
        for c in count_columns:
            lines.append(([(i, c) for i in rows], None))
        for v in visits:
            with_value = [i for i in rows if marks[i][v] == "X"]
            n = {a: sum(int(frame[a].iat[i]) for i in rows) for a in arms}
            observed = {a: sum(int(frame[a].iat[i]) for i in with_value) for a in arms}
            published = {a: privacy.count_shown(observed[a], n[a], k, complement=True) for a in arms}
            published["Total"] = all(published.values())
            for c in count_columns:
                if published[c]:
                    for mark in ("X", "."):
                        lines.append(([(i, c) for i in rows if marks[i][v] == mark], None))
    return lines


def check_display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns={"item": "Item", "published": "Published", "recomputed": "Recomputed"})
    out["Result"] = ["✓ matches" if m else "✗ differs" for m in frame["matches"]]
    return out.drop(columns=["matches"])


def sensitivity_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """One row per missing-data approach (and treatment arm); the numbers of imputed subjects
    follow the small-cell rule. With one comparison its two arms head their columns; with several
    a Comparison column names the two arms and the columns are "Arm" and "Reference"."""
    measure = "risk_difference" if frame["estimate_arm"].dropna().between(0, 1).all() else "mean_difference"
    parts = comparisons(frame)
    several = len(parts) > 1
    out = []
    for arm, ref, part in parts:
        for _, r in part.iterrows():
            est = r["estimate_arm"]
            per_arm = (
                (fmt.pct(r["estimate_arm"]), fmt.pct(r["estimate_reference"]))
                if measure == "risk_difference"
                else (fmt.num(r["estimate_arm"]), fmt.num(r["estimate_reference"]))
            )
            row = {"Comparison": f"{arm} vs {ref}"} if several else {}
            row["Analysis"] = r["label"]
            row["Arm" if several else str(r["arm"])] = (
                f"{per_arm[0]} (n={int(r['n_arm'])}, "
                f"{privacy.count_cell(r['imputed_arm'], min_cell)} imputed)"
                if not pd.isna(est) else fmt.DASH)
            row["Reference" if several else str(r["reference"])] = (
                f"{per_arm[1]} (n={int(r['n_reference'])}, "
                f"{privacy.count_cell(r['imputed_reference'], min_cell)} imputed)"
                if not pd.isna(est) else fmt.DASH)
            row["Difference [95% CI]"] = (
                fmt.contrast_estimate(measure, r["estimate"], r["ci_low"], r["ci_high"])
                if not pd.isna(r["estimate"]) else fmt.DASH)
            row["p-value"] = fmt.p_value(r["p_value"])
            row["Note"] = r["notes"]
            out.append(row)
    return pd.DataFrame(out)


def bayes_display(results: list, endpoint: Endpoint | None = None) -> pd.DataFrame:
    """The Bayesian reading of a risk difference (arm minus reference), one row per prior.

    The headers of the two posterior probabilities speak of benefit (or harm) only when the
    ``endpoint``'s direction says which arm a positive difference favours; without an endpoint,
    or for one whose direction is unknown, they speak of a difference
    (:func:`respine.present.labels.benefit_headers`).
    """
    rows = []
    for r in results:
        above_zero, above_threshold = wording.benefit_headers(endpoint, 100 * r.threshold)
        rows.append({
            "Prior": r.prior_label,
            "Posterior mean [95% CrI]": fmt.contrast_estimate("risk_difference", r.mean, r.ci_low, r.ci_high),
            above_zero: fmt.pct(r.p_positive),
            above_threshold: fmt.pct(r.p_threshold),
            "Prior, in words": r.prior_description,
        })
    return pd.DataFrame(rows)


SMALL_ROW_COUNTS = ("n_min", "count_min")  # subjects a row of a family of comparisons describes


def multiplicity_display(frame: pd.DataFrame, first: str = "Visit", min_cell: int = 0) -> pd.DataFrame:
    """A family of comparisons with adjusted p-values; a row describing fewer than ``min_cell``
    subjects (smallest arm, or fewest responders) is suppressed, its label kept. A frame of
    several treatment arms gets a Comparison column (each arm's family is adjusted on its own)."""
    table = pd.DataFrame(
        {
            first: frame[frame.columns[0]],  # the family: visits or endpoints
            "Estimate [95% CI]": [
                fmt.contrast_estimate(m, e, lo, hi)
                for m, e, lo, hi in zip(
                    frame["measure"], frame["estimate"], frame["ci_low"], frame["ci_high"], strict=True
                )
            ],
            "p (raw)": [fmt.p_value(p) for p in frame["p_value"]],
            "p (Holm)": [fmt.p_value(p) for p in frame["p_holm"]],
            "p (Hochberg)": [fmt.p_value(p) for p in frame["p_hochberg"]],
            "p (Benjamini-Hochberg, FDR)": [fmt.p_value(p) for p in frame["p_bh"]],
        }
    )
    kept: tuple[str, ...] = (first,)
    if len(comparisons(frame)) > 1:
        table.insert(1, "Comparison", (frame["arm"] + " vs " + frame["reference"]).to_numpy())
        kept = (first, "Comparison")
    return privacy.mask_rows(table, privacy.small_rows(frame, SMALL_ROW_COUNTS, min_cell), kept)


def gee_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """Odds ratios by visit from the GEE; a visit with an arm of fewer than ``min_cell`` subjects
    or responders is suppressed."""
    table = pd.DataFrame(
        {
            "Visit": frame["visit"],
            "Comparison": frame["arm"] + " vs " + frame["reference"],
            "Odds ratio [95% CI]": [
                fmt.est_ci(e, lo, hi, 2)
                for e, lo, hi in zip(frame["estimate"], frame["ci_low"], frame["ci_high"], strict=True)
            ],
            "p-value": [fmt.p_value(p) for p in frame["p_value"]],
        }
    )
    small = privacy.small_rows(frame, SMALL_ROW_COUNTS, min_cell)
    return privacy.mask_rows(table, small, ("Visit", "Comparison"))



# Time to event ---------------------------------------------------------------------------------
NOT_REACHED = "NR"  # a median (or a limit) the Kaplan-Meier curve never reaches


def _time_or_nr(x: float) -> str:
    return NOT_REACHED if x != x else fmt.num(x)  # NaN: not reached


def risk_times(result: survival.TimeToEvent, most: int = 7) -> list[float]:
    """Round times from 0 to the last observed time, at most ``most`` of them, at which the
    numbers at risk are shown (a step of 1, 2 or 5 times a power of ten, as an axis has)."""
    last = max((float(km.time[-1]) for km in result.curves.values()), default=0.0)
    if last <= 0:
        return [0.0]
    raw = last / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(int(last // step) + 1)]


def time_to_event_display(result: survival.TimeToEvent, min_cell: int = 0) -> pd.DataFrame:
    """Per arm: subjects, events, median time [95% CI] and the hazard ratio against the reference
    [95% CI] with its Wald p. Under aggregate-only mode an arm of fewer than ``min_cell``
    subjects, or whose events or non-events are that few, shows no count, median or ratio."""
    hr = {h.group: h for h in result.hazard_ratios}
    rows, hidden = [], []
    unit = f" ({result.unit})" if result.unit else ""
    level = f"{100 * next(iter(result.curves.values())).confidence:g}%" if result.curves else "95%"
    for arm, km in result.curves.items():
        h = hr.get(arm)
        rows.append({
            "Arm": arm,
            "Subjects": privacy.count_cell(km.n, min_cell),
            "Events": privacy.count_of_cell(km.n_events, km.n, min_cell, fmt.n_pct),
            f"Median{unit} [{level} CI]": f"{_time_or_nr(km.median)} [{_time_or_nr(km.median_low)}, "
                                          f"{_time_or_nr(km.median_high)}]",
            f"Hazard ratio vs {result.reference} [{level} CI]":
                fmt.est_ci(h.hazard_ratio, h.ci_low, h.ci_high, 2) if h else fmt.DASH,
            "p (Wald)": fmt.p_value(h.p_value) if h else fmt.DASH,
        })
        hidden.append(privacy.is_small(km.n, min_cell) or privacy.split_small(km.n_events, km.n, min_cell))
    table = pd.DataFrame(rows)
    if not rows:
        return table
    if any(h for arm, h in zip(result.curves, hidden, strict=True) if arm == result.reference):
        # A ratio against a reference arm too small to show would let that arm be worked back.
        table[table.columns[4]] = table[table.columns[5]] = privacy.SUPPRESSED
    counts = {c: [str(v) for v in table[c]] for c in ("Subjects", "Events")}
    return privacy.mask_rows(table, hidden, ("Arm",), counts)


def at_risk_display(result: survival.TimeToEvent, times: Sequence[float], min_cell: int = 0) -> pd.DataFrame:
    """Numbers at risk (subjects still followed and without the event) of each arm at ``times``;
    a number of 1 to ``min_cell`` - 1 reads '<k'."""
    rows = []
    for arm, km in result.curves.items():
        row: dict[str, object] = {"Arm": arm}
        for t, n in zip(times, km.number_at_risk(times), strict=True):
            row[fmt.num(t, 0)] = privacy.count_cell(int(n), min_cell)
        rows.append(row)
    return pd.DataFrame(rows)


def logrank_display(result: survival.TimeToEvent, stratum_label: str = "") -> pd.DataFrame:
    """The log-rank test(s): unstratified, and stratified by the chosen covariate if any."""
    tests = [("Log-rank", result.logrank)]
    if result.stratified is not None:
        tests.append((f"Log-rank stratified by {stratum_label or result.stratify}", result.stratified))
    return pd.DataFrame([{"Test": name, "Chi-square": fmt.num(t.statistic, 2), "df": t.df,
                          "p": fmt.p_value(t.p_value)} for name, t in tests])


def screening_display(screening: Screening, min_cell: int = 0, top: int = 15) -> pd.DataFrame:
    """The ``top`` subgroups of a screening furthest from the overall effect (by their scaled
    deviation), with both chance bands at their size; rows with an arm of fewer than ``min_cell``
    subjects are suppressed (aggregate-only mode)."""
    frame = screening.subgroups.assign(_order=screening.subgroups["z"].abs()).sort_values(
        "_order", ascending=False).head(top)
    counts = [c for c in frame.columns if c.startswith("n ")]
    measure = screening.measure

    scale, unit = (100.0, " pp") if measure == "risk_difference" else (1.0, "")

    def band(lo: float, hi: float) -> str:
        return f"{fmt.num(lo * scale)} to {fmt.num(hi * scale)}{unit}"

    table = pd.DataFrame({
        "Subgroup": frame["subgroup"].tolist(),
        **{f"n {c[2:]}": [privacy.count_cell(int(v), min_cell) for v in frame[c]] for c in counts},
        "Effect": [f"{fmt.num(e * scale)}{unit}" for e in frame["estimate"]],
        "Chance alone, pointwise": [
            band(lo, hi) for lo, hi in zip(frame["pointwise_low"], frame["pointwise_high"], strict=True)],
        "Chance alone, simultaneous": [
            band(lo, hi)
            for lo, hi in zip(frame["simultaneous_low"], frame["simultaneous_high"], strict=True)],
        "Adjusted p (max-T)": [fmt.p_value(p) for p in frame["p_adjusted"]],
        "Beyond chance": ["yes" if o else "no" for o in frame["outside_simultaneous"]],
    })
    small = [any(privacy.is_small(int(r[c]), min_cell) for c in counts) for _, r in frame.iterrows()]
    return privacy.mask_rows(table, small, ("Subgroup",))


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A built table with its cells as a reader sees them (:func:`fmt.cell`): flags as Yes/No,
    missing text as a dash. Number columns keep their numbers (the grid shows a dash for a
    missing one), so sorting and the downloads stay numeric; the frame given is not changed."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_bool_dtype(column) or column.dtype == object or isinstance(
                column.dtype, pd.StringDtype):
            shown_cells = column.map(fmt.cell, na_action=None).astype(object)
            if len({isinstance(v, str) for v in shown_cells}) > 1:
                # numbers beside text (a count beside "suppressed", a dash for a missing one): all
                # as text, so the grid (Arrow) gets one type, as the reader reads the cells
                shown_cells = shown_cells.map(_as_text)
            out[name] = shown_cells
    return out


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a count read as a float
    return str(value)


def estimand_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The estimand attributes (ICH E9(R1)) of each analysis of the Robustness page."""
    return pd.DataFrame({
        "Analysis": frame["analysis"], "Method": frame["method"], "Population": frame["population"],
        "Variable": frame["variable"], "Intercurrent-event strategy": frame["intercurrent_event_strategy"],
        "Assumption": frame["assumption"], "Population-level summary": frame["summary"]})


def reference_based_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """One row per reference-based strategy and delta: imputed subjects (small-cell rule), the
    ANCOVA difference with its 95% CI and p-value."""
    rows = []
    for _, r in frame.iterrows():
        rows.append({
            "Strategy": r["label"], "Estimand strategy": r["estimand_strategy"],
            "Delta": fmt.num(r["delta"]),
            f"{r['arm']} imputed": f"{privacy.count_cell(r['imputed_arm'], min_cell)} of {int(r['n_arm'])}",
            f"{r['reference']} imputed":
                f"{privacy.count_cell(r['imputed_reference'], min_cell)} of {int(r['n_reference'])}",
            "Difference [95% CI]": fmt.contrast_estimate("mean_difference", r["estimate"], r["ci_low"],
                                                         r["ci_high"]),
            "p-value": fmt.p_value(r["p_value"])})
    return pd.DataFrame(rows)
