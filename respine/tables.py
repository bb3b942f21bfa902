"""Tables as specs applied to data (the rtables idea: the layout is declared before the data).

A :class:`TableSpec` is a tuple of columns, each a header and a function from one result row to a
display string. The same built table is shown on the page, downloaded as CSV and snapshot-tested.

Every builder takes ``min_cell`` (k of :mod:`respine.privacy`): cells that describe fewer than k
subjects are suppressed; 0, the default, shows everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from respine import fmt, privacy
from respine.analysis import AnalysisResult
from respine.stats import BinarySummary


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
    """An arm summary describes too few subjects: its n, or its responders, is below k."""
    return privacy.is_small(s.n, k) or (
        isinstance(s, BinarySummary) and privacy.is_small(s.responders, k)
    )


def arm_table(result: AnalysisResult, min_cell: int = 0) -> pd.DataFrame:
    """Per-arm summary at the visit; adds LS means when the analysis has them."""
    first = result.arms[0] if result.arms else None
    binary = isinstance(first, BinarySummary)
    spec = BINARY_ARMS if binary else CONTINUOUS_ARMS
    table = spec.build(result.arms)
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
    return privacy.mask_rows(table, [arm_suppressed(s, k) for s in result.arms], ("Arm",), counts)


def primary_metrics(result: AnalysisResult, min_cell: int = 0) -> list[tuple[str, str, str]]:
    """(label, value, help) of the headline metrics of a binary result: each arm's responder rate,
    then the first contrast's p-value; all suppressed when an arm describes fewer than ``min_cell``
    subjects (the p-value would let the small arm be worked back)."""
    hidden = [arm_suppressed(s, min_cell) for s in result.arms]
    metrics = [
        (f"{s.arm} responders", privacy.SUPPRESSED, f"Fewer than {min_cell} subjects.")
        if small
        else (f"{s.arm} responders", f"{100 * s.rate:.0f}%", f"{s.responders} of {s.n}")
        for s, small in zip(result.arms, hidden, strict=True)
    ]
    rd = result.contrasts[0]
    metrics.append(("p-value", privacy.SUPPRESSED if any(hidden) else f"{rd.p_value:.2f}", rd.test))
    return metrics


def contrast_table(result: AnalysisResult, min_cell: int = 0) -> pd.DataFrame:
    """Contrasts; one that involves an arm with a suppressed summary is suppressed too."""
    table = CONTRASTS.build(result.contrasts)
    small = {s.arm for s in result.arms if arm_suppressed(s, min_cell)}
    flags = [c.arm in small or c.reference in small for c in result.contrasts]
    return privacy.mask_rows(table, flags, ("Comparison", "Measure", "Test"))


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
    return privacy.mask_rows(table, privacy.small_rows(frame, TREND_COUNTS, k), ("Visit", "Arm"), counts)


TREND_COUNTS = ("n", "responders")  # count columns of an over-time frame (by arm and visit)


def baseline_display(
    frame: pd.DataFrame, groups: list[str], summary: str = "mean", min_cell: int = 0
) -> pd.DataFrame:
    """Baseline table for display: mean (SD) or median (IQR) for continuous rows, n (%) for levels."""
    k = min_cell
    out = []
    for _, r in frame.iterrows():
        row = {"Characteristic": r["variable"] if not r["level"] else f"{r['variable']}: {r['level']}"}
        suppressed = False
        for g in [*groups, "Overall"]:
            if r["kind"] == "continuous":
                n = int(r[f"{g}|n"])
                cell = (
                    fmt.mean_sd(r[f"{g}|mean"], r[f"{g}|sd"])
                    if summary == "mean"
                    else fmt.median_iqr(r[f"{g}|median"], r[f"{g}|q1"], r[f"{g}|q3"])
                )
                if privacy.is_small(n, k):
                    cell, suppressed = privacy.SUPPRESSED, True
                row[g] = f"{cell} [n={privacy.count_cell(n, k)}]"
            elif privacy.is_small(r[f"{g}|count"], k):
                row[g], suppressed = f"<{k}", True
            else:
                row[g] = f"{int(r[f'{g}|count'])} ({fmt.num(r[f'{g}|pct'])}%)"
        # the SMD of a row with a suppressed cell would let the cell be worked back
        row["SMD"] = privacy.SUPPRESSED if suppressed else fmt.num(r["smd"], 2)
        out.append(row)
    return pd.DataFrame(out)


def counts_display(
    frame: pd.DataFrame,
    arms: list[str],
    label_column: str,
    header: str,
    with_rd: bool = True,
    min_cell: int = 0,
) -> pd.DataFrame:
    """Subject counts per arm as 'k/n (x%)', plus risk difference [95% CI] and p where present."""
    out = []
    for _, r in frame.iterrows():
        row = {header: r[label_column]}
        suppressed = False
        for a in arms:
            count, n = int(r[f"{a}|count"]), int(r[f"{a}|n"])
            suppressed = suppressed or privacy.is_small(count, min_cell)
            row[a] = privacy.count_of_cell(count, n, min_cell, fmt.n_pct)
        if with_rd and "rd" in r:
            row["Risk difference [95% CI]"] = (
                privacy.SUPPRESSED
                if suppressed
                else fmt.contrast_estimate("risk_difference", r["rd"], r["rd_low"], r["rd_high"])
            )
            row["p (Fisher)"] = privacy.SUPPRESSED if suppressed else fmt.p_value(r["p_value"])
        out.append(row)
    return pd.DataFrame(out)


def subgroup_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    n_cols = [c for c in frame.columns if c.startswith("n ")]
    small = privacy.small_rows(frame, n_cols, min_cell)
    out = []
    for (_, r), suppressed in zip(frame.iterrows(), small, strict=True):
        row = {"Subgroup": r["variable"] if r["variable"] == "Overall" else f"{r['variable']}: {r['level']}"}
        for c in n_cols:
            row[c] = privacy.count_cell(int(r[c]), min_cell)
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
    cells = [
        privacy.count_of_cell(o, e, min_cell, fmt.n_pct)
        for o, e in zip(frame["observed"], frame["expected"], strict=True)
    ]
    return pd.DataFrame({"Visit": frame["visit"], "Arm": frame["arm"], "With a value": cells})


def counts_frame_display(frame: pd.DataFrame, count_columns: list[str], min_cell: int = 0) -> pd.DataFrame:
    """A table of subject counts (missing-data patterns, participant flow) with small counts as <k.

    Without suppression (``min_cell`` 0) the counts stay numbers, for the CSV and Excel files."""
    if min_cell <= 0:
        return frame
    out = frame.copy()
    for c in count_columns:
        out[c] = [privacy.count_cell(int(n), min_cell) for n in frame[c]]
    return out


def check_display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns={"item": "Item", "published": "Published", "recomputed": "Recomputed"})
    out["Result"] = ["✓ matches" if m else "✗ differs" for m in frame["matches"]]
    return out.drop(columns=["matches"])


def sensitivity_display(frame: pd.DataFrame, min_cell: int = 0) -> pd.DataFrame:
    """One row per missing-data approach; the numbers of imputed subjects follow the small-cell rule."""
    measure = "risk_difference" if frame["estimate_arm"].dropna().between(0, 1).all() else "mean_difference"
    out = []
    for _, r in frame.iterrows():
        est = r["estimate_arm"]
        per_arm = (
            (fmt.pct(r["estimate_arm"]), fmt.pct(r["estimate_reference"]))
            if measure == "risk_difference"
            else (fmt.num(r["estimate_arm"]), fmt.num(r["estimate_reference"]))
        )
        out.append(
            {
                "Analysis": r["label"],
                str(r["arm"]): f"{per_arm[0]} (n={int(r['n_arm'])}, "
                f"{privacy.count_cell(r['imputed_arm'], min_cell)} imputed)"
                if not pd.isna(est)
                else fmt.DASH,
                str(
                    r["reference"]
                ): f"{per_arm[1]} (n={int(r['n_reference'])}, "
                f"{privacy.count_cell(r['imputed_reference'], min_cell)} imputed)"
                if not pd.isna(est)
                else fmt.DASH,
                "Difference [95% CI]": fmt.contrast_estimate(
                    measure, r["estimate"], r["ci_low"], r["ci_high"]
                )
                if not pd.isna(r["estimate"])
                else fmt.DASH,
                "p-value": fmt.p_value(r["p_value"]),
                "Note": r["notes"],
            }
        )
    return pd.DataFrame(out)


def bayes_display(results: list) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Prior": r.prior_label,
                "Posterior mean [95% CrI]": fmt.contrast_estimate(
                    "risk_difference", r.mean, r.ci_low, r.ci_high
                ),
                "P(any benefit)": fmt.pct(r.p_positive),
                f"P(benefit > {100 * r.threshold:g} points)": fmt.pct(r.p_threshold),
                "Prior, in words": r.prior_description,
            }
            for r in results
        ]
    )


SMALL_ROW_COUNTS = ("n_min", "count_min")  # subjects a row of a family of comparisons describes


def multiplicity_display(frame: pd.DataFrame, first: str = "Visit", min_cell: int = 0) -> pd.DataFrame:
    """A family of comparisons with adjusted p-values; a row describing fewer than ``min_cell``
    subjects (smallest arm, or fewest responders) is suppressed, its label kept."""
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
    return privacy.mask_rows(table, privacy.small_rows(frame, SMALL_ROW_COUNTS, min_cell), (first,))


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
