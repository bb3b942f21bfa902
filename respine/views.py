"""Computations behind the reader's views: responder profile, individual trajectories,
waterfall, MRI against clinical change, missing data, and the full paper check.

Each function returns a tidy DataFrame of unrounded numbers; :mod:`respine.figures` draws them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from respine import derive, stats
from respine import schema as S
from respine.analysis import Selection, analyze, visits_with_data
from respine.errors import AnalysisError

SPAGHETTI_MAX_SUBJECTS = 300


def _improvement(trial: S.Trial, sel: Selection, endpoint: str, relative: bool) -> pd.DataFrame:
    """Improvement from baseline at the visit (baseline minus value; percent of baseline if
    ``relative``), positive = better for lower-is-better scales."""
    ep = trial.endpoint(endpoint)
    data = derive.endpoint_data(trial, endpoint, sel.population, sel.filters)
    at = data[data[S.VISIT_MONTH] == sel.visit].dropna(subset=[derive.CHG])
    sign = -1.0 if ep.lower_is_better else 1.0
    at = at.assign(improvement=sign * (at[derive.PCHG] if relative else at[derive.CHG]))
    at = at.dropna(subset=["improvement"])
    if at.empty:
        raise AnalysisError(
            f"{ep.label} has no change from baseline at "
            f"{trial.design.visit_label(sel.visit)} in this selection."
        )
    return at


def cumulative_distribution(
    trial: S.Trial, sel: Selection, endpoint: str, relative: bool = False
) -> pd.DataFrame:
    """Per arm: each subject's improvement and the share of the arm improving at least that much.

    Columns: arm, improvement, share (the proportion with improvement >= this value), n. This is
    the "responder curve" the FDA guidance on patient-reported outcomes recommends.

    References
    ----------
    .. [1] FDA. Patient-reported outcome measures: use in medical product development to support
       labeling claims. Guidance for industry, 2009 (cumulative distribution function displays).
    """
    at = _improvement(trial, sel, endpoint, relative)
    rows = []
    for arm in derive.arm_order(trial):
        x = np.sort(at.loc[at[S.ARM] == arm, "improvement"].to_numpy(float))
        n = x.size
        if n == 0:
            continue
        share = 1.0 - np.arange(n) / n  # P(improvement >= x_i), ties share the top value
        rows.append(pd.DataFrame({"arm": arm, "improvement": x, "share": share, "n": n}))
    return pd.concat(rows, ignore_index=True)


def threshold_sweep(
    trial: S.Trial, sel: Selection, endpoint: str, thresholds: np.ndarray, relative: bool = False
) -> pd.DataFrame:
    """Responder rate per arm and risk difference (Newcombe 95% CI) as the threshold sweeps.

    A subject responds at threshold t when their improvement is at least t.
    Columns: threshold, ``rate <arm>`` and ``responders <arm>`` per arm, rd, rd_low, rd_high.
    """
    at = _improvement(trial, sel, endpoint, relative)
    d = trial.design
    treat, ref = d.treatment_arms[0], d.reference_arm
    x = at.loc[at[S.ARM] == treat, "improvement"].to_numpy(float)
    y = at.loc[at[S.ARM] == ref, "improvement"].to_numpy(float)
    if x.size == 0 or y.size == 0:
        raise AnalysisError("Both arms need subjects with a value to sweep the threshold.")
    rows = []
    for t in thresholds:
        k1, k2 = int((x >= t - 1e-9).sum()), int((y >= t - 1e-9).sum())
        lo, hi = stats.newcombe_difference_ci(k1, x.size, k2, y.size)
        rows.append(
            {
                "threshold": float(t),
                f"rate {treat}": k1 / x.size,
                f"rate {ref}": k2 / y.size,
                f"responders {treat}": k1,
                f"responders {ref}": k2,
                "rd": k1 / x.size - k2 / y.size,
                "rd_low": lo,
                "rd_high": hi,
            }
        )
    return pd.DataFrame(rows)


def trajectories(trial: S.Trial, sel: Selection, seed: int = 1) -> tuple[pd.DataFrame, int]:
    """Individual values over visits; at most ``SPAGHETTI_MAX_SUBJECTS`` subjects per arm drawn
    at random (seeded) so large trials stay legible. Returns (frame, subjects in the selection)."""
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError(f"Individual trajectories need a continuous endpoint; {ep.label} is binary.")
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters)
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    data = data.dropna(subset=[column])
    total = data[S.SUBJECT_ID].nunique()
    rng = np.random.default_rng(seed)
    keep = []
    for _, part in data.groupby(S.ARM):
        ids = part[S.SUBJECT_ID].unique()
        if ids.size > SPAGHETTI_MAX_SUBJECTS:
            ids = rng.choice(ids, SPAGHETTI_MAX_SUBJECTS, replace=False)
        keep.extend(ids)
    out = data[data[S.SUBJECT_ID].isin(keep)]
    return out.assign(y=out[column])[[S.SUBJECT_ID, S.ARM, S.VISIT_MONTH, S.VISIT, "y"]], total


def waterfall(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Percent change from baseline at the visit, one bar per subject, sorted within arm.

    Columns: subject_id, arm, pchg, rank (1 = largest increase).
    """
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError(f"A waterfall plot needs a continuous endpoint; {ep.label} is binary.")
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters)
    at = data[data[S.VISIT_MONTH] == sel.visit].dropna(subset=[derive.PCHG])
    if at.empty:
        raise AnalysisError(f"{ep.label} has no percent change at {trial.design.visit_label(sel.visit)}.")
    at = at.sort_values([S.ARM, derive.PCHG], ascending=[True, False])
    at = at.assign(rank=at.groupby(S.ARM).cumcount() + 1)
    return at[[S.SUBJECT_ID, S.ARM, derive.PCHG, "rank"]].reset_index(drop=True)


def structure_vs_symptoms(
    trial: S.Trial, sel: Selection, clinical: str = "VAS", structural: str = "MRIT2"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change in the structural endpoint against change in a clinical one, per subject, and the
    Spearman correlation per arm and overall.

    Returns (points: subject_id, arm, structural, clinical; correlations: arm, n, rho, p).

    References
    ----------
    .. [1] Spearman C. The proof and measurement of association between two things.
       Am J Psychol 1904;15:72-101.
    """
    frames = []
    for ep in (structural, clinical):
        d = derive.endpoint_data(trial, ep, sel.population, sel.filters)
        d = d[d[S.VISIT_MONTH] == sel.visit][[S.SUBJECT_ID, S.ARM, derive.CHG]]
        frames.append(d.rename(columns={derive.CHG: ep}))
    points = frames[0].merge(frames[1], on=[S.SUBJECT_ID, S.ARM]).dropna()
    if len(points) < 3:
        raise AnalysisError(
            f"Too few subjects with both {structural} and {clinical} change at "
            f"{trial.design.visit_label(sel.visit)}."
        )
    rows = []
    for arm, part in [*points.groupby(S.ARM), ("All", points)]:
        if len(part) >= 3 and part[structural].nunique() > 1 and part[clinical].nunique() > 1:
            rho, p = sps.spearmanr(part[structural], part[clinical])
            rows.append({"arm": arm, "n": len(part), "rho": float(rho), "p_value": float(p)})
        else:
            rows.append({"arm": arm, "n": len(part), "rho": math.nan, "p_value": math.nan})
    return points, pd.DataFrame(rows)


def completion(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Subjects with a value at each visit, per arm, out of the population.

    Columns: arm, visit_month, visit, observed, expected, pct.
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    m = trial.measurements
    m = m[(m[S.ENDPOINT] == endpoint) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    arm_of = subjects.set_index(S.SUBJECT_ID)[S.ARM]
    expected = subjects.groupby(S.ARM).size()
    rows = []
    for month in visits_with_data(trial, endpoint):
        ids = m.loc[m[S.VISIT_MONTH] == month, S.SUBJECT_ID]
        observed = arm_of[ids].value_counts()
        for arm in derive.arm_order(trial):
            e, o = int(expected.get(arm, 0)), int(observed.get(arm, 0))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "visit": trial.design.visit_label(month),
                    "observed": o,
                    "expected": e,
                    "pct": 100 * o / e if e else math.nan,
                }
            )
    return pd.DataFrame(rows)


def missing_patterns(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Patterns of observed (X) and missing (.) values across visits, with counts per arm.

    Also says whether each pattern is monotone (once missing, always missing: dropout) or
    intermittent. Columns: pattern (named with the visits, e.g. "pattern (Baseline M1 M3)"),
    kind, one per arm, Total; most frequent first.
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    months = visits_with_data(trial, endpoint)
    m = trial.measurements
    m = m[(m[S.ENDPOINT] == endpoint) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    seen = set(zip(m[S.SUBJECT_ID], m[S.VISIT_MONTH], strict=True))
    patterns = []
    for sid, arm in zip(subjects[S.SUBJECT_ID], subjects[S.ARM], strict=True):
        marks = "".join("X" if (sid, mo) in seen else "." for mo in months)
        patterns.append((arm, marks))
    frame = pd.DataFrame(patterns, columns=["arm", "pattern"])
    table = frame.groupby(["pattern", "arm"]).size().unstack(fill_value=0)
    for arm in derive.arm_order(trial):
        if arm not in table.columns:
            table[arm] = 0
    table = table[derive.arm_order(trial)]
    table.columns.name = None
    table["Total"] = table.sum(axis=1)
    table = table.sort_values("Total", ascending=False, kind="mergesort").reset_index()

    def kind(p: str) -> str:
        if "." not in p:
            return "complete"
        return "monotone (dropout)" if "X" not in p[p.index(".") :] else "intermittent"

    table.insert(1, "kind", table["pattern"].map(kind))
    header = " ".join(trial.design.visit_label(mo).replace("Month ", "M") for mo in months)
    table["pattern"] = table["pattern"].map(lambda p: " ".join(p))
    return table.rename(columns={"pattern": f"pattern ({header})"})


def paper_check(trial: S.Trial) -> pd.DataFrame:
    """Every published fact beside the same fact recomputed from the loaded data.

    Columns: item, published, recomputed, matches. On the synthetic twin every row matches; on
    real data this is the first check a statistician runs.
    """
    from respine.published import primary_check, primary_selection
    from respine.synth import secondary_p_values

    rows = []
    if trial.design.primary is not None:
        result = analyze(trial, primary_selection(trial))
        rows.extend(primary_check(trial, result).to_dict("records"))
    ae = trial.adverse_events
    if {"serious", "related_product"} <= set(ae.columns):
        both = ae[(ae["serious"].astype(str) == "Y") & (ae["related_product"].astype(str) == "Y")]
        n = both[S.SUBJECT_ID].nunique()
        rows.append(
            {
                "item": "Serious adverse events related to the product",
                "published": "none",
                "recomputed": f"{n} subjects",
                "matches": n == 0,
            }
        )
    if trial.design.id == "RESPINE" and set(trial.design.arms) == {"BM-MSC", "Sham"}:
        from respine.synth import SyntheticTrial

        p_values = secondary_p_values(SyntheticTrial(trial.subjects, trial.measurements, ae, 0, 0, {}))
        secondary = {k: v for k, v in p_values.items() if " by " not in k}
        significant = sorted(k for k, v in secondary.items() if v < 0.05)
        rows.append(
            {
                "item": f"Secondary outcomes differing between arms ({len(secondary)} comparisons)",
                "published": "none",
                "recomputed": ", ".join(significant) or "none (all p >= 0.05)",
                "matches": not significant,
            }
        )
    return pd.DataFrame(rows, columns=["item", "published", "recomputed", "matches"])


def sweep_thresholds(cumulative: pd.DataFrame, relative: bool) -> tuple[float, ...]:
    """A threshold grid from 0 to the largest improvement seen (at most 100): steps of 5 for
    percentages and wide scales, 2 for narrow ones."""
    top = float(np.ceil(max(cumulative["improvement"].max(), 1.0)))
    step = 5.0 if relative or top > 40 else 2.0
    return tuple(float(t) for t in np.arange(0.0, min(top, 100.0) + step, step))


# ---------------------------------------------------------------- robustness of a result


def sensitivity(trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024) -> pd.DataFrame:
    """Missing-data strategies for the selected endpoint and visit, one row each
    (see :func:`respine.imputation.primary_sensitivity`), with each one's methods sentence."""
    from respine import imputation

    results = imputation.primary_sensitivity(
        trial,
        sel.endpoint,
        sel.visit,
        sel.population,
        sel.filters,
        sel.rule,
        n_imputations=n_imputations,
        seed=seed,
        measure=sel.measure if sel.measure != "aval" else "chg",
        mcid_vas=sel.mcid_vas,
        mcid_odi=sel.mcid_odi,
    )
    table = imputation.sensitivity_table(results)
    table["methods_text"] = [r.methods_text for r in results]
    return table


def tipping(
    trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024
) -> tuple[pd.DataFrame, str]:
    """The tipping-point grid and one sentence on the smallest shift that changes the conclusion."""
    from respine import imputation

    table = imputation.tipping_point(
        trial,
        sel.endpoint,
        sel.visit,
        sel.population,
        sel.filters,
        sel.rule,
        measure=sel.measure if sel.measure != "aval" else "chg",
        n_imputations=n_imputations,
        seed=seed,
    )
    shift = imputation.smallest_tipping_shift(table)
    summary = (
        shift.description
        if shift
        else ("No assumption about the missing outcomes in this grid changes the conclusion.")
    )
    return table, summary


def bayes_reading(trial: S.Trial, sel: Selection, threshold: float = 0.10) -> list:
    """Posterior of the risk difference (first treatment arm vs reference) at the selected visit,
    under the sceptical, neutral and enthusiastic priors of :mod:`respine.bayes`."""
    from respine import bayes

    if trial.endpoint(sel.endpoint).kind != "binary":
        raise AnalysisError("The Bayesian reading is for a binary endpoint such as the responder rule.")
    result = analyze(trial, sel.with_(method="chisq_yates", covariates=()))
    arm, ref = result.arms[0], result.arms[-1]
    return bayes.bayes_all_priors(arm.responders, arm.n, ref.responders, ref.n, threshold=threshold)


def _adjusted_family(
    trial: S.Trial, family: list[tuple[str, Selection]], label: str, empty: str
) -> pd.DataFrame:
    """The first comparison of each selection in a family, with Holm, Hochberg and
    Benjamini-Hochberg adjusted p-values over the family; items without enough data are left out.

    ``n_min`` (smallest arm) and ``count_min`` (fewest responders in an arm; NaN for continuous
    endpoints) say how many subjects each row describes, for the small-cell rule."""
    from respine.multiplicity import adjust_table

    rows = []
    for name, item in family:
        try:
            result = analyze(trial, item)
        except AnalysisError:
            continue
        c = result.contrasts[0]
        responders = [getattr(a, "responders", None) for a in result.arms]
        rows.append(
            {
                label: name,
                "n_min": min(a.n for a in result.arms),
                "count_min": min(responders) if None not in responders else float("nan"),
                "measure": c.measure,
                "estimate": c.estimate,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "p_value": c.p_value,
                "test": c.test,
            }
        )
    if not rows:
        raise AnalysisError(empty)
    return adjust_table(pd.DataFrame(rows))


def multiplicity_over_visits(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """The comparison at every post-baseline visit, with raw and Holm, Hochberg and
    Benjamini-Hochberg adjusted p-values (one family: the visits)."""
    from respine.analysis import post_baseline_visits

    family = [
        (trial.design.visit_label(m), sel.with_(visit=m)) for m in post_baseline_visits(trial, sel.endpoint)
    ]
    return _adjusted_family(
        trial, family, "visit", "No visit has enough data for a comparison in this selection."
    )


def gee_over_visits(trial: S.Trial, sel: Selection, correlation: str = "exchangeable") -> pd.DataFrame:
    """Responder odds ratios at every visit from one logistic GEE across visits."""
    from respine.stratified import gee_responder

    if trial.endpoint(sel.endpoint).kind != "binary":
        raise AnalysisError("GEE across visits is for a binary endpoint such as the responder rule.")
    data = derive.endpoint_data(
        trial, sel.endpoint, sel.population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi
    )
    out = gee_responder(
        data,
        S.SUBJECT_ID,
        S.VISIT_MONTH,
        S.ARM,
        S.VALUE,
        trial.design.reference_arm,
        correlation=correlation,
        arm_order=tuple(derive.arm_order(trial)),
    )
    # subjects and responders per arm at each visit, for the small-cell rule
    counts = data.dropna(subset=[S.VALUE]).groupby([S.VISIT_MONTH, S.ARM])[S.VALUE].agg(["size", "sum"])
    by_visit = counts.groupby(level=0).min()
    out["n_min"] = out["visit"].map(by_visit["size"]).astype(float)
    out["count_min"] = out["visit"].map(by_visit["sum"]).astype(float)
    out["visit"] = out["visit"].map(trial.design.visit_label)
    return out


def multiplicity_over_endpoints(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """The comparison of every endpoint at the selected visit (default methods: Welch for change,
    chi-square with Yates' correction for rates), with Holm, Hochberg and Benjamini-Hochberg
    adjusted p-values over this family of endpoints."""
    from respine.analysis import available_endpoints, visits_with_data

    family = [
        (
            trial.endpoint(e).label,
            sel.with_(
                endpoint=e,
                method=None,
                covariates=(),
                measure="chg" if trial.endpoint(e).kind == "continuous" else "aval",
            ),
        )
        for e in available_endpoints(trial)
        if sel.visit in visits_with_data(trial, e)
    ]
    return _adjusted_family(
        trial, family, "endpoint", "No endpoint has enough data at this visit in this selection."
    )
