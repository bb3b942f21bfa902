"""Robustness of a result: missing-data strategies, tipping point, Bayesian reading, multiplicity
over visits and endpoints, and a GEE over visits. Each takes a trial and a :class:`Selection`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from respine import derive
from respine.analyses import imputation
from respine.analyses.availability import visits_with_data
from respine.analyses.compare import analyze
from respine.errors import AnalysisError
from respine.model import design as S
from respine.model.labels import endpoint_label
from respine.model.selection import Selection

# ---------------------------------------------------------------- robustness of a result


def _missing_data_inputs(sel: Selection) -> dict[str, Any]:
    """What the missing-data analyses take of a selection, the same for every one of them (the
    tipping point used to leave out the MCID thresholds, so it analysed the default MCID)."""
    return {
        "endpoint": sel.endpoint, "visit": sel.visit, "population": sel.population,
        "filters": sel.filters, "rule": sel.rule,
        # observed values of a continuous endpoint are analysed as change from baseline
        "measure": sel.measure if sel.measure != "aval" else "chg",
        "mcid_vas": sel.mcid_vas, "mcid_odi": sel.mcid_odi,
    }


def sensitivity(trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024) -> pd.DataFrame:
    """Missing-data strategies for the selected endpoint and visit, one row each
    (see :func:`respine.analyses.imputation.primary_sensitivity`), with each one's methods sentence."""
    results = imputation.primary_sensitivity(
        trial, **_missing_data_inputs(sel), n_imputations=n_imputations, seed=seed)
    table = imputation.sensitivity_table(results)
    table["methods_text"] = [r.methods_text for r in results]
    return table


def tipping(
    trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024
) -> tuple[pd.DataFrame, str]:
    """The tipping-point grid and one sentence on the smallest shift that changes the conclusion."""
    table = imputation.tipping_point(
        trial, **_missing_data_inputs(sel), n_imputations=n_imputations, seed=seed)
    shift = imputation.smallest_tipping_shift(table)
    summary = (
        shift.description
        if shift
        else ("No assumption about the missing outcomes in this grid changes the conclusion.")
    )
    return table, summary


def bayes_reading(trial: S.Trial, sel: Selection, threshold: float = 0.10) -> list:
    """Posterior of the risk difference (first treatment arm vs reference) at the selected visit,
    under the sceptical, neutral and enthusiastic priors of :mod:`respine.stats.bayes`."""
    from respine.stats import bayes

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
    from respine.stats.multiplicity import adjust_table

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
    from respine.analyses.availability import post_baseline_visits

    family = [
        (trial.design.visit_label(m), sel.with_(visit=m)) for m in post_baseline_visits(trial, sel.endpoint)
    ]
    return _adjusted_family(
        trial, family, "visit", "No visit has enough data for a comparison in this selection."
    )


def gee_over_visits(trial: S.Trial, sel: Selection, correlation: str = "exchangeable") -> pd.DataFrame:
    """Responder odds ratios at every visit from one logistic GEE across visits."""
    from respine.stats.stratified import gee_responder

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
    from respine.analyses.availability import available_endpoints

    family = [
        (
            endpoint_label(trial.endpoint(e), sel.rule, trial.endpoint),
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

