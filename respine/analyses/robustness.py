"""Robustness of a result: missing-data strategies, tipping point, Bayesian reading, multiplicity
over visits and endpoints, and a GEE over visits. Each takes a trial and a :class:`Selection`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from respine import derive
from respine.analyses import imputation
from respine.analyses.availability import visits_with_data
from respine.analyses.compare import analyze
from respine.analyses.progress import ProgressCallback, run_steps
from respine.derive.arms import require_view
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.labels import endpoint_label
from respine.model.selection import Selection

# ---------------------------------------------------------------- robustness of a result


def _missing_data_inputs(trial: S.Trial, sel: Selection) -> dict[str, Any]:
    """What the missing-data analyses take of a selection, the same for every one of them (the
    tipping point used to leave out the MCID thresholds, so it analysed the default MCID); the
    trial must show the arms the selection names."""
    require_view(trial, sel.arms, sel.pool)
    return {
        "endpoint": sel.endpoint, "visit": sel.visit, "population": sel.population,
        "filters": sel.filters, "rule": sel.rule,
        # observed values of a continuous endpoint are analysed as change from baseline
        "measure": sel.measure if sel.measure != "aval" else "chg",
        "mcid_vas": sel.mcid_vas, "mcid_odi": sel.mcid_odi,
    }


def compared_arm(trial: S.Trial, arm: str = "", reference: str | None = None) -> str:
    """The arm a view that shows one comparison compares with ``reference`` (None: the trial's):
    ``arm``, or the only other arm when ``arm`` is ""; never a silent pick among several.

    Raises
    ------
    SelectionError
        ``arm`` is not a treatment arm, or is "" in a study of several treatment arms.
    """
    reference = reference or trial.design.reference_arm
    treatment = tuple(a for a in trial.design.arms if a != reference)
    if arm in treatment or (not arm and len(treatment) == 1):
        return arm or treatment[0]
    what = f"'{arm}' is not a treatment arm of this view" if arm else "This study has several treatment arms"
    raise SelectionError(f"{what}: choose the arm to compare with {reference} among "
                         f"{', '.join(treatment) or '(none)'}.")


def sensitivity(trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024) -> pd.DataFrame:
    """Missing-data strategies for the selected endpoint and visit, one row per treatment arm
    (against the reference) and strategy, in the order of the arms (see
    :func:`respine.analyses.imputation.primary_sensitivity`, which analyses each pair of arms
    alone), with each one's methods sentence."""
    tables = []
    for arm in trial.design.treatment_arms:
        results = imputation.primary_sensitivity(
            trial, **_missing_data_inputs(trial, sel), n_imputations=n_imputations, seed=seed, arm=arm)
        table = imputation.sensitivity_table(results)
        table["methods_text"] = [r.methods_text for r in results]
        if len(trial.design.treatment_arms) > 1:
            # a strategy without a result for this endpoint (NRI of a scale) names no arms; among
            # several comparisons its row must say which one it belongs to
            table = table.fillna({"arm": arm, "reference": trial.design.reference_arm})
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def tipping(
    trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024, arm: str = ""
) -> tuple[pd.DataFrame, str]:
    """The tipping-point grid of ``arm`` against the reference (see :func:`compared_arm`: one
    arm, as a grid shows one comparison) and one sentence on the smallest shift that changes the
    conclusion."""
    table = imputation.tipping_point(
        trial, **_missing_data_inputs(trial, sel), n_imputations=n_imputations, seed=seed,
        arm=compared_arm(trial, arm))
    shift = imputation.smallest_tipping_shift(table)
    summary = (
        shift.description
        if shift
        else ("No assumption about the missing outcomes in this grid changes the conclusion.")
    )
    return table, summary


def bayes_reading(trial: S.Trial, sel: Selection, threshold: float = 0.10, arm: str = "") -> list:
    """Posterior of the risk difference of ``arm`` vs the reference (see :func:`compared_arm`)
    at the selected visit, under the sceptical, neutral and enthusiastic priors of
    :mod:`respine.stats.bayes`."""
    from respine.stats import bayes

    if trial.endpoint(sel.endpoint).kind != "binary":
        raise AnalysisError("The Bayesian reading is for a binary endpoint such as the responder rule.")
    require_view(trial, sel.arms, sel.pool)
    reference = sel.reference or trial.design.reference_arm
    chosen = compared_arm(trial, arm, reference)
    result = analyze(trial, sel.with_(method="chisq_yates", covariates=()))
    by_arm = {a.arm: a for a in result.arms}
    a, ref = by_arm[chosen], by_arm[reference]
    return bayes.bayes_all_priors(a.responders, a.n, ref.responders, ref.n, threshold=threshold)


def _adjusted_family(
    trial: S.Trial, family: list[tuple[str, Selection]], label: str, empty: str
) -> pd.DataFrame:
    """The comparison of every treatment arm with the reference for each selection in a family
    (each arm's first contrast: the difference), with Holm, Hochberg and Benjamini-Hochberg
    adjusted p-values over the family, one family per treatment arm; items without enough data
    are left out. Rows: by arm, then in the family's order.

    ``n_min`` (smaller arm of the two) and ``count_min`` (fewer responders; NaN for continuous
    endpoints) say how many subjects each row describes, for the small-cell rule."""
    from respine.stats.multiplicity import adjust_table

    for _, item in family:
        require_view(trial, item.arms, item.pool)
    reference = next((item.reference for _, item in family if item.reference), trial.design.reference_arm)
    rows: dict[str, list[dict[str, Any]]] = {a: [] for a in trial.design.arms if a != reference}
    for name, item in family:
        try:
            result = analyze(trial, item)
        except AnalysisError:
            continue
        summaries = {a.arm: a for a in result.arms}
        ref = summaries[reference]
        for arm in rows:
            c = next(c for c in result.contrasts if c.arm == arm)
            pair = (summaries[arm], ref)
            responders = [getattr(a, "responders", None) for a in pair]
            rows[arm].append(
                {
                    label: name,
                    "arm": arm,
                    "reference": ref.arm,
                    "n_min": min(a.n for a in pair),
                    "count_min": min(r for r in responders if r is not None)
                    if None not in responders else float("nan"),
                    "measure": c.measure,
                    "estimate": c.estimate,
                    "ci_low": c.ci_low,
                    "ci_high": c.ci_high,
                    "p_value": c.p_value,
                    "test": c.test,
                }
            )
    tables = [adjust_table(pd.DataFrame(r)) for r in rows.values() if r]
    if not tables:
        raise AnalysisError(empty)
    return pd.concat(tables, ignore_index=True)


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
    require_view(trial, sel.arms, sel.pool)
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



# ---------------------------------------------------------------- every analysis above, with progress


def robustness_report(trial: S.Trial, sel: Selection, n_imputations: int = 50, seed: int = 2024,
                      threshold: float = 0.10, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Every robustness analysis of a selection, in turn, reporting each step to ``progress``
    (at 10,000 subjects they take seconds; see :mod:`respine.analyses.progress`).

    Returns
    -------
    dict
        ``sensitivity`` (:func:`sensitivity`), ``tipping`` (arm -> :func:`tipping`),
        ``multiplicity`` (:func:`multiplicity_over_visits`) and, for a binary endpoint, ``bayes``
        (arm -> :func:`bayes_reading`) and ``gee`` (:func:`gee_over_visits`).
    """
    arms = trial.design.treatment_arms
    several = len(arms) > 1
    binary = trial.endpoint(sel.endpoint).kind == "binary"
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("missing-data strategies", partial(sensitivity, trial, sel, n_imputations, seed))]
    steps += [(f"tipping point{f', {a}' if several else ''}",
               partial(tipping, trial, sel, n_imputations, seed, arm=a)) for a in arms]
    steps.append(("multiplicity over visits", partial(multiplicity_over_visits, trial, sel)))
    if binary:
        steps += [(f"Bayesian reading{f', {a}' if several else ''}",
                   partial(bayes_reading, trial, sel, threshold, arm=a)) for a in arms]
        steps.append(("GEE over visits", partial(gee_over_visits, trial, sel)))
    results = iter(run_steps(steps, progress))
    out: dict[str, Any] = {"sensitivity": next(results), "tipping": {a: next(results) for a in arms},
                           "multiplicity": next(results)}
    if binary:
        out["bayes"] = {a: next(results) for a in arms}
        out["gee"] = next(results)
    return out


# ---------------------------------------------------------------- estimands (ICH E9(R1))


@dataclass(frozen=True)
class EstimandSpec:
    """The estimand attributes an analysis declares (ICH E9(R1) section A.3.2).

    ``strategies`` are the keys of :data:`respine.analyses.imputation.ESTIMAND_STRATEGIES` whose
    intercurrent-event strategy the analysis uses (several for an analysis that shows several);
    ``summary`` the population-level summary by endpoint kind. Population and variable come from
    the selection the analysis is run on.
    """

    label: str
    strategies: tuple[str, ...]
    summary: dict[str, str]


_DIFF = {"continuous": "difference in means (treatment minus reference)",
         "binary": "difference in responder proportions (risk difference)"}

#: Declared once per analysis of the page; the registry attaches each to its analysis.
ESTIMANDS: dict[str, EstimandSpec] = {
    "sensitivity": EstimandSpec("Missing data handled five ways",
                                tuple(imputation.STRATEGIES), _DIFF),
    "reference_based": EstimandSpec("Reference-based multiple imputation",
                                    tuple(imputation.REFERENCE_BASED),
                                    {"continuous": "difference in ANCOVA-adjusted means (treatment "
                                                   "minus reference)"}),
    "tipping": EstimandSpec("Tipping point", ("delta",),
                            {"continuous": _DIFF["continuous"], "binary": _DIFF["binary"]}),
    "bayes": EstimandSpec("Bayesian reading", ("complete_case",),
                          {"binary": "posterior of the risk difference"}),
    "multiplicity": EstimandSpec("Multiplicity over visits", ("complete_case",), _DIFF),
    "gee": EstimandSpec("GEE over visits", ("mi",), {"binary": "odds ratio of response at each visit"}),
}


def estimand_table(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """One row per analysis and intercurrent-event strategy of the Robustness page: population,
    variable, intercurrent-event strategy and its assumption, population-level summary (the four
    estimand attributes of ICH E9(R1)), from the declarations in :data:`ESTIMANDS`.

    References
    ----------
    .. [1] ICH E9(R1) addendum on estimands and sensitivity analysis in clinical trials to the
       guideline on statistical principles for clinical trials, 2019, section A.3.
    """
    ep = trial.endpoint(sel.endpoint)
    pop = trial.design.population(sel.population or trial.design.default_population)
    measure = sel.measure if ep.kind == "continuous" and sel.measure != "aval" else (
        "chg" if ep.kind == "continuous" else "aval")
    what = f"{derive.MEASURES[measure].lower()} of " if ep.kind == "continuous" else ""
    visit = trial.design.visit_label(sel.visit)
    label = endpoint_label(ep, sel.rule, trial.endpoint)
    rows = []
    for name, spec in ESTIMANDS.items():
        summary = spec.summary.get(ep.kind)
        if summary is None:
            continue
        variable = (f"{what}{label} at every post-baseline visit" if name in ("multiplicity", "gee")
                    else f"{what}{label} at {visit}")
        if name == "reference_based" and ep.is_derived:
            continue
        for s in spec.strategies:
            strategy, assumption = imputation.ESTIMAND_STRATEGIES[s]
            method = (imputation.STRATEGIES.get(s) or imputation.REFERENCE_BASED.get(s)
                      or "delta adjustment")
            rows.append({"analysis": spec.label, "method": method, "population": pop.label,
                         "variable": variable, "intercurrent_event_strategy": strategy,
                         "assumption": assumption, "summary": summary})
    return pd.DataFrame(rows)


def reference_based(trial: S.Trial, sel: Selection, strategy: str = "JR", method: str = "condmean",
                    n_samples: int = 20, seed: int = 2024, arm: str = "",
                    deltas: tuple[float, ...] = (0.0,)) -> pd.DataFrame:
    """Reference-based multiple imputation of ``arm`` against the reference (see
    :func:`compared_arm`) at the selected visit under ``strategy`` (``"all"``: MAR, JR, CR and CIR);
    see :func:`respine.analyses.imputation.reference_based`."""
    require_view(trial, sel.arms, sel.pool)
    inputs = _missing_data_inputs(trial, sel)
    strategies = tuple(imputation.refbased.STRATEGIES) if strategy == "all" else (strategy,)
    return imputation.reference_based(
        trial, inputs["endpoint"], inputs["visit"], inputs["population"], inputs["filters"],
        strategies, method, n_samples, seed, arm=compared_arm(trial, arm), measure=inputs["measure"],
        deltas=deltas)
