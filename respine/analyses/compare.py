"""One entry point for a between-arm analysis at a visit, used by the CLI and every page.

:func:`analyze` takes a trial and a :class:`Selection` and returns an :class:`AnalysisResult`
holding unrounded numbers; :meth:`AnalysisResult.to_dict` is the JSON contract of
``respine analyze`` (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from respine import derive, stats
from respine.analyses.repeated import _mmrm_at_visit, mmrm_fit
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.endpoints import Responder
from respine.model.labels import endpoint_label, rule_modified
from respine.model.results import AnalysisResult
from respine.model.selection import Selection

CONTINUOUS_METHODS = {
    "welch": "Welch t-test",
    "ancova": "ANCOVA adjusted for baseline",
    "mmrm": "MMRM over all visits (REML)",
    "mann_whitney": "Mann-Whitney with Hodges-Lehmann shift",
}
BINARY_METHODS = {
    **stats.BINARY_TESTS,
    "cmh": "Cochran-Mantel-Haenszel, stratified by the covariates",
    "logistic": "Logistic regression adjusted for the covariates",
}


def default_method(kind: str) -> str:
    return "chisq_yates" if kind == "binary" else "welch"


def methods_for(kind: str) -> dict[str, str]:
    return BINARY_METHODS if kind == "binary" else CONTINUOUS_METHODS


def analyze(trial: S.Trial, sel: Selection) -> AnalysisResult:
    """Compare every treatment arm with the reference arm at one visit.

    Continuous endpoints: per-arm summaries of the chosen measure (change from baseline by
    default) and the difference in means by Welch's t-test or by ANCOVA adjusted for baseline
    (plus any chosen covariates). Binary endpoints: responder rates with Wilson CIs; risk
    difference (Newcombe), relative risk and odds ratio, with the p-value of the chosen test.
    Analyses use the subjects with a value at the visit (complete cases).
    """
    design = trial.design
    ep = trial.endpoint(sel.endpoint)
    population = sel.population or design.default_population
    design.population(population)
    reference = sel.reference or design.reference_arm
    if reference not in design.arms:
        raise SelectionError(f"Unknown reference arm '{reference}'. Choose one of: {', '.join(design.arms)}.")
    method = sel.method or default_method(ep.kind)
    if method not in methods_for(ep.kind):
        raise SelectionError(
            f"Method '{method}' does not apply to {ep.kind} endpoint {ep.id}. "
            f"Choose one of: {', '.join(methods_for(ep.kind))}."
        )
    derive.check_covariates(trial, sel.covariates, "Covariate")
    if sel.measure not in derive.MEASURES:
        raise SelectionError(f"Unknown measure '{sel.measure}'. Choose one of: {', '.join(derive.MEASURES)}.")
    data = derive.endpoint_data(trial, ep.id, population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi)
    at_visit = data[data[S.VISIT_MONTH] == sel.visit]
    visit_label = design.visit_label(sel.visit)
    if at_visit.empty:
        have = sorted(data[S.VISIT_MONTH].unique())
        raise AnalysisError(
            f"{endpoint_label(ep, sel.rule, trial.endpoint)} has no data at {visit_label} in this selection. "
            f"Visits with data: {', '.join(design.visit_label(v) for v in have)}."
        )
    arms_order = [*(a for a in design.arms if a != reference), reference]
    notes: list[str] = []
    lsmeans: tuple[dict[str, float | str], ...] = ()
    base_visit = min(v.number for v in design.visits)
    if ep.kind == "continuous":
        measure = sel.measure
        if measure != "aval" and sel.visit == base_visit:
            measure = "aval"
            notes.append("At baseline the observed value is analysed (change is zero).")
        column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[measure]
        values = at_visit.dropna(subset=[column])
        summaries = tuple(
            stats.summarise_continuous(values.loc[values[S.ARM] == a, column], a) for a in arms_order
        )
        if method == "mmrm":
            fit = mmrm_fit(trial, sel.with_(reference=reference))
            contrasts, lsmeans, mmrm_notes = _mmrm_at_visit(fit, sel.visit, visit_label)
            notes.extend(mmrm_notes)
        elif method == "welch":
            contrasts = tuple(
                stats.welch_t(
                    values.loc[values[S.ARM] == a, column],
                    values.loc[values[S.ARM] == reference, column],
                    a,
                    reference,
                )
                for a in arms_order[:-1]
            )
        elif method == "mann_whitney":
            from respine.stats.nonparametric import mann_whitney_hodges_lehmann

            contrasts = tuple(
                mann_whitney_hodges_lehmann(
                    values.loc[values[S.ARM] == a, column],
                    values.loc[values[S.ARM] == reference, column],
                    a,
                    reference,
                )
                for a in arms_order[:-1]
            )
        else:
            if measure == "aval" and sel.visit == base_visit:
                raise AnalysisError(
                    "ANCOVA adjusted for baseline cannot be fitted at the baseline "
                    "visit; choose a later visit or the Welch t-test."
                )
            frame = values.merge(
                derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left"
            )
            # A covariate the study declares categorical is a factor even when coded as numbers.
            for cov in design.covariates:
                if cov.kind == "categorical" and cov.column in sel.covariates:
                    frame[cov.column] = derive.as_levels(frame[cov.column]).where(frame[cov.column].notna())
            fit = stats.ancova(
                frame,
                column,
                S.ARM,
                reference,
                (derive.BASE, *sel.covariates),
                arm_order=tuple(arms_order),
                weights=sel.lsmeans_weights,
            )
            contrasts, lsmeans = fit.contrasts, fit.lsmeans
            dropped = len(values) - fit.n
            if dropped:
                notes.append(
                    f"{dropped} subjects without baseline or covariate values were left out of the ANCOVA."
                )
        n_total = int(sum(s.n for s in summaries))
    else:
        measure = "aval"
        summaries = tuple(
            stats.summarise_binary(at_visit.loc[at_visit[S.ARM] == a, S.VALUE], a) for a in arms_order
        )
        ref = summaries[-1]
        if method in stats.BINARY_TESTS:
            contrasts = tuple(
                c
                for s in summaries[:-1]
                for c in stats.compare_binary(
                    s.responders, s.n, ref.responders, ref.n, s.arm, reference, method
                )
            )
        else:
            contrasts = _adjusted_binary(trial, at_visit, method, sel.covariates, reference, arms_order)
        n_total = int(sum(s.n for s in summaries))
        if any(s.n and min(s.responders, s.n - s.responders) < 5 for s in summaries) and method != "fisher":
            notes.append("Some cells hold fewer than 5 subjects; Fisher's exact test is safer.")
    empty = [s.arm for s in summaries if s.n == 0]
    if empty:
        raise AnalysisError(
            f"No subject with a value in arm(s) {', '.join(empty)} at "
            f"{visit_label}; widen the population or filters."
        )
    result = AnalysisResult(
        endpoint=ep.id,
        endpoint_label=endpoint_label(ep, sel.rule, trial.endpoint),
        kind=ep.kind,
        visit=sel.visit,
        visit_label=visit_label,
        measure=measure,
        method=method,
        method_label=methods_for(ep.kind)[method],
        population=population,
        arms=summaries,
        contrasts=contrasts,
        n_total=n_total,
        lsmeans=lsmeans,
        filters=tuple(f.describe() for f in sel.filters),
        notes=tuple(notes),
        source=trial.source,
        synthetic=trial.synthetic,
        # Says in the JSON output whether the responder rule differs from the study's primary rule,
        # and which direction is better (None: unknown), so a script can read a contrast's sign.
        extra={"rule_modified": rule_modified(ep, sel.rule), "lower_is_better": ep.lower_is_better},
    )
    return replace(result, methods_text=methods_text(result, sel, trial))


def _adjusted_binary(
    trial: S.Trial,
    at_visit: pd.DataFrame,
    method: str,
    covariates: tuple[str, ...],
    reference: str,
    arms_order: list[str],
) -> tuple[stats.Contrast, ...]:
    """Stratified (CMH) or covariate-adjusted (logistic) comparisons of a binary endpoint."""
    from respine.stats import stratified

    if not covariates:
        raise AnalysisError(
            f"The {BINARY_METHODS[method]} needs at least one covariate: choose, for example, country or sex."
        )
    frame = at_visit.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
    if method == "logistic":
        return stratified.logistic_adjusted(
            frame, S.VALUE, S.ARM, reference, covariates, arm_order=tuple(arms_order)
        )
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise AnalysisError(f"Covariates {missing} are not subject covariates.")
    frame = frame.assign(_stratum=frame[list(covariates)].astype(str).agg(" / ".join, axis=1))
    out: list[stats.Contrast] = []
    for arm in arms_order[:-1]:
        pair = frame[frame[S.ARM].isin([arm, reference])]
        out.append(stratified.cmh_risk_difference(pair, S.ARM, S.VALUE, "_stratum", arm, reference))
        out.append(stratified.cmh_odds_ratio(pair, S.ARM, S.VALUE, "_stratum", arm, reference))
    return tuple(out)


def methods_text(result: AnalysisResult, sel: Selection, trial: S.Trial) -> str:
    """One or two sentences stating what was done, ready to paste into a report."""
    pop = trial.design.population(result.population).label
    ref = sel.reference or trial.design.reference_arm
    if result.kind == "binary" and result.method in ("cmh", "logistic"):
        covs = ", ".join(sel.covariates)
        how = (
            f"stratified by {covs} with Cochran-Mantel-Haenszel weights (risk difference with Sato's "
            "variance; Mantel-Haenszel odds ratio with the Robins-Breslow-Greenland CI)"
            if result.method == "cmh"
            else f"by logistic regression adjusted for {covs} (Wald CIs)"
        )
        return (
            f"{result.endpoint_label} at {result.visit_label} was compared between arms in the {pop} "
            f"population (complete cases) {how}, with {ref} as reference."
        )
    if result.kind == "binary":
        derivation = trial.endpoint(result.endpoint).derivation
        rule = ""
        if isinstance(derivation, Responder):  # the rule in the words of its declared components
            unit = trial.endpoint(derivation.first).unit
            words = sel.rule.describe(derivation.first, derivation.second, unit)
            rule = f" Responders were defined as {words}."
        return (
            f"{result.endpoint_label} at {result.visit_label} was compared between arms in the "
            f"{pop} population using subjects with an assessment (complete cases).{rule} "
            f"Rates are shown with Wilson 95% CIs; the risk difference with Newcombe's hybrid "
            f"score CI; relative risk and odds ratio with log-scale Wald CIs; the p-value is "
            f"from {result.method_label}, with {ref} as reference."
        )
    what = derive.MEASURES[result.measure].lower()
    if result.method == "mmrm":
        fit = mmrm_fit(trial, sel.with_(reference=ref))
        return fit.methods_text(result.endpoint_label, pop) + f" Contrasts are arm minus {ref} at each visit."
    if result.method == "mann_whitney":
        how = (
            "by the Mann-Whitney test, with the Hodges-Lehmann estimate of the shift and its CI (Bauer 1972)"
        )
    elif result.method == "ancova":
        covs = ", ".join(["baseline value", *sel.covariates])
        weighting = (
            "equal weights for the levels of categorical covariates"
            if sel.lsmeans_weights == "equal"
            else "observed-margin weighting"
        )
        how = f"by analysis of covariance with arm and {covs} as terms; least-squares means use {weighting}"
    elif result.method == "welch":
        how = "by Welch's unequal-variance t-test"
    return (
        f"The {what} in {result.endpoint_label} at {result.visit_label} was compared between "
        f"arms in the {pop} population (complete cases) {how}; differences are "
        f"arm minus {ref} with 95% CIs."
    )

