"""One entry point for a between-arm analysis at a visit, used by the CLI and every page.

:func:`analyze` takes a trial and a :class:`Selection` and returns an :class:`AnalysisResult`
holding unrounded numbers; :meth:`AnalysisResult.to_dict` is the JSON contract of
``respine analyze`` (DESIGN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from respine import derive, stats
from respine import schema as S
from respine.errors import AnalysisError, SelectionError
from respine.memo import per_trial
from respine.rules import MCID_ODI_POINTS, MCID_VAS_MM, PRIMARY_RULE, ResponderRule

CONTINUOUS_METHODS = {
    "welch": "Welch t-test",
    "ancova": "ANCOVA adjusted for baseline",
    "mmrm": "MMRM over all visits (REML)",
    "mann_whitney": "Mann-Whitney with Hodges-Lehmann shift",
}
COVARIANCES = {"us": "unstructured", "cs": "compound symmetry", "ar1": "AR(1)", "toep": "Toeplitz"}
DF_METHODS = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}
BINARY_METHODS = {
    **stats.BINARY_TESTS,
    "cmh": "Cochran-Mantel-Haenszel, stratified by the covariates",
    "logistic": "Logistic regression adjusted for the covariates",
}


@dataclass(frozen=True)
class Selection:
    """Everything that defines one view of the data. Hashable, so results can be cached."""

    endpoint: str = "RESP"
    visit: float = 12.0
    population: str | None = None
    measure: str = "chg"
    method: str | None = None
    filters: derive.Filters = ()
    rule: ResponderRule = PRIMARY_RULE
    mcid_vas: float = MCID_VAS_MM
    mcid_odi: float = MCID_ODI_POINTS
    covariates: tuple[str, ...] = ()
    reference: str | None = None
    covariance: str = "us"
    df_method: str = "satterthwaite"
    lsmeans_weights: str = "observed"

    def with_(self, **changes: object) -> Selection:
        return replace(self, **changes)

    def for_trend(self, kind: str) -> Selection:
        """The selection a course over visits depends on: neither the visit nor the comparison
        method (one cache entry and one figure serve every visit and method)."""
        return self.normalised(kind).with_(visit=0.0, method=None, covariates=())

    def normalised(self, kind: str) -> Selection:
        """The same selection with the fields this analysis does not use set to their defaults,
        so that equal analyses share one cache entry (e.g. an MCID rate does not depend on the
        responder rule; a t-test does not depend on the MMRM covariance)."""
        d = Selection()
        changes: dict[str, object] = {}
        if self.endpoint != "RESP":
            changes["rule"] = d.rule
        if self.endpoint != "MCID_VAS":
            changes["mcid_vas"] = d.mcid_vas
        if self.endpoint != "MCID_ODI":
            changes["mcid_odi"] = d.mcid_odi
        if kind == "binary":
            changes["measure"] = "aval"
        if self.method not in ("ancova", "mmrm", "cmh", "logistic"):
            changes["covariates"] = ()
        if self.method != "mmrm":
            changes.update(covariance=d.covariance, df_method=d.df_method)
        if self.method != "ancova":
            changes["lsmeans_weights"] = d.lsmeans_weights
        return replace(self, **changes)


@dataclass(frozen=True)
class AnalysisResult:
    """Per-arm summaries and between-arm contrasts at one visit."""

    endpoint: str
    endpoint_label: str
    kind: str
    visit: float
    visit_label: str
    measure: str
    method: str
    method_label: str
    population: str
    arms: tuple[stats.ContinuousSummary | stats.BinarySummary, ...]
    contrasts: tuple[stats.Contrast, ...]
    n_total: int
    lsmeans: tuple[dict[str, float | str], ...] = ()
    filters: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""
    synthetic: bool = False
    methods_text: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The JSON contract of ``respine analyze --format json``."""
        arms = []
        lsm = {d["arm"]: d for d in self.lsmeans}
        for a in self.arms:
            d = a.to_dict()
            if a.arm in lsm:
                d["lsmean"] = lsm[a.arm]["lsmean"]
                d["lsmean_se"] = lsm[a.arm]["se"]
            arms.append(d)
        return {
            "endpoint": self.endpoint,
            "endpoint_label": self.endpoint_label,
            "kind": self.kind,
            "visit": self.visit_label,
            "visit_number": self.visit,
            "measure": self.measure,
            "method": self.method,
            "method_label": self.method_label,
            "population": self.population,
            "filters": list(self.filters),
            "n_total": self.n_total,
            "arms": arms,
            "contrasts": [c.to_dict() for c in self.contrasts],
            "notes": list(self.notes),
            "methods_text": self.methods_text,
            "data": {"source": self.source, "synthetic": self.synthetic},
            **self.extra,
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
            f"{ep.label} has no data at {visit_label} in this selection. "
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
            from respine.nonparametric import mann_whitney_hodges_lehmann

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
        endpoint_label=ep.label,
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
    from respine import stratified

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
        rule = f" Responders were defined as {sel.rule.describe()}." if result.endpoint == "RESP" else ""
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


def _by_visit_and_arm(frame: pd.DataFrame, trial: S.Trial) -> pd.DataFrame:
    """Rows ordered by visit, then arm in the study's order (treatment arms first, reference last)."""
    order = {a: i for i, a in enumerate(derive.arm_order(trial))}
    return frame.sort_values(
        ["visit_month", "arm"], key=lambda c: c.map(order) if c.name == "arm" else c
    ).reset_index(drop=True)


def over_time(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Per-arm summary at every visit: mean (95% CI) or rate (Wilson 95% CI), with n.

    Columns: arm, visit_month, visit, n, estimate, ci_low, ci_high (plus sd/median for
    continuous endpoints, responders for binary ones).
    """
    ep = trial.endpoint(sel.endpoint)
    population = sel.population or trial.design.default_population
    data = derive.endpoint_data(trial, ep.id, population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi)
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}.get(sel.measure, S.VALUE)
    if ep.kind != "continuous":
        column = S.VALUE
    rows = []
    for (arm, month), g in data.groupby([S.ARM, S.VISIT_MONTH], sort=True):
        if ep.kind == "continuous":
            s = stats.summarise_continuous(g[column], str(arm))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "n": s.n,
                    "estimate": s.mean,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "sd": s.sd,
                    "median": s.median,
                }
            )
        else:
            b = stats.summarise_binary(g[S.VALUE], str(arm))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "n": b.n,
                    "estimate": b.rate,
                    "ci_low": b.ci_low,
                    "ci_high": b.ci_high,
                    "responders": b.responders,
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        raise AnalysisError(f"{ep.label} has no data in this selection.")
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)


def visits_with_data(trial: S.Trial, endpoint: str) -> list[float]:
    """Visit numbers at which an endpoint has any data (derived ones: post-baseline visits)."""
    return list(_visits_with_data(trial, endpoint))


@per_trial(maxsize=256)
def _visits_with_data(trial: S.Trial, endpoint: str) -> tuple[float, ...]:
    ep = trial.endpoint(endpoint)
    m = trial.measurements
    sources = ep.derived_from or (ep.id,)
    months = sorted(set(m.loc[m[S.ENDPOINT].isin(sources), S.VISIT_MONTH].unique()))
    if ep.is_derived:
        base = min(v.number for v in trial.design.visits)
        months = [v for v in months if v != base]
    return tuple(float(v) for v in months)


def available_endpoints(trial: S.Trial) -> list[str]:
    """Endpoint ids of the study that have data (derived ones need their sources)."""
    return list(_available_endpoints(trial))


@per_trial(maxsize=16)
def _available_endpoints(trial: S.Trial) -> tuple[str, ...]:
    have = set(trial.measurements[S.ENDPOINT].unique())
    out = []
    for ep_id in trial.design.endpoints or sorted(have):
        ep = trial.endpoint(ep_id)
        if (ep.is_derived and all(d in have for d in ep.derived_from)) or ep_id in have:
            out.append(ep_id)
    return tuple(out)


def over_time_adjusted(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Model-based course: LS means (95% CI) per arm and post-baseline visit from an ANCOVA of
    the chosen measure on arm and baseline at each visit (same columns as :func:`over_time`).

    A repeated-measures model over all visits (MMRM) is the fuller alternative; this per-visit
    ANCOVA is the model the comparison table uses.
    """
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError("Model-based means need a continuous endpoint.")
    base = min(v.number for v in trial.design.visits)
    rows = []
    for month in visits_with_data(trial, ep.id):
        if month == base:
            continue
        try:
            result = analyze(trial, sel.with_(visit=month, method="ancova"))
        except AnalysisError:
            continue
        n_by_arm = {a.arm: a.n for a in result.arms}
        for d in result.lsmeans:
            rows.append(
                {
                    "arm": d["arm"],
                    "visit_month": month,
                    "n": n_by_arm.get(d["arm"], 0),
                    "estimate": d["lsmean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "sd": np.nan,
                    "median": np.nan,
                }
            )
    if not rows:
        raise AnalysisError(f"No visit of {ep.label} has enough data for the model in this selection.")
    out = pd.DataFrame(rows)
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)


def post_baseline_visits(trial: S.Trial, endpoint: str) -> list[float]:
    """Visits after baseline at which an endpoint has data."""
    base = min(v.number for v in trial.design.visits)
    return [v for v in visits_with_data(trial, endpoint) if v != base]


def _mmrm_frame(trial: S.Trial, sel: Selection) -> tuple[pd.DataFrame, str]:
    data = derive.endpoint_data(trial, sel.endpoint, sel.population, sel.filters)
    base_visit = min(v.number for v in trial.design.visits)
    data = data[data[S.VISIT_MONTH] != base_visit]
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    if sel.covariates:
        data = data.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
        for cov in trial.design.covariates:
            if cov.kind == "categorical" and cov.column in sel.covariates:
                data[cov.column] = derive.as_levels(data[cov.column]).where(data[cov.column].notna())
    return data, column


@per_trial(maxsize=64)
def mmrm_fit(trial: S.Trial, sel: Selection):
    """The MMRM of the selected endpoint over all post-baseline visits (one fit serves every visit).

    Model: measure ~ arm * visit + baseline * visit + covariates, REML, with the selection's
    covariance structure and degrees-of-freedom method; see :func:`respine.mmrm.fit_mmrm`.
    """
    from respine.mmrm import fit_mmrm

    if trial.endpoint(sel.endpoint).kind != "continuous":
        raise AnalysisError(
            "An MMRM needs a continuous endpoint; for responders use the GEE on the Robustness page."
        )
    if sel.covariance not in COVARIANCES:
        raise SelectionError(
            f"Unknown covariance '{sel.covariance}'. Choose one of: {', '.join(COVARIANCES)}."
        )
    if sel.df_method not in DF_METHODS:
        raise SelectionError(
            f"Unknown degrees-of-freedom method '{sel.df_method}'. Choose one of: {', '.join(DF_METHODS)}."
        )
    data, column = _mmrm_frame(trial, sel)
    reference = sel.reference or trial.design.reference_arm
    return fit_mmrm(
        data,
        response=column,
        baseline=derive.BASE,
        covariates=sel.covariates,
        reference=reference,
        covariance=sel.covariance,
        df_method=sel.df_method,
        arm_order=tuple(derive.arm_order(trial)),
    )


def _mmrm_at_visit(
    fit, visit: float, visit_label: str
) -> tuple[tuple[stats.Contrast, ...], tuple, list[str]]:
    contrasts = fit.contrasts[fit.contrasts["visit"] == visit]
    if contrasts.empty:
        raise AnalysisError(
            f"The MMRM models post-baseline visits only; choose a visit after baseline, not {visit_label}."
        )
    test = f"MMRM ({COVARIANCES[fit.covariance]}, {DF_METHODS.get(fit.df_method, fit.df_method)} df)"
    out = tuple(
        stats.Contrast(
            r.arm,
            r.reference,
            "mean_difference",
            float(r.estimate),
            float(r.se),
            float(r.ci_low),
            float(r.ci_high),
            float(r.p_value),
            test,
            df=float(r.df),
        )
        for r in contrasts.itertuples()
    )
    lsm = fit.lsmeans[fit.lsmeans["visit"] == visit]
    lsmeans = tuple(
        {
            "arm": r.arm,
            "lsmean": float(r.estimate),
            "se": float(r.se),
            "ci_low": float(r.ci_low),
            "ci_high": float(r.ci_high),
        }
        for r in lsm.itertuples()
    )
    return out, lsmeans, list(fit.notes)


def over_time_mmrm(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """LS means (95% CI) per arm and post-baseline visit from one MMRM (same columns as
    :func:`over_time`)."""
    fit = mmrm_fit(trial, sel)
    out = fit.lsmeans.rename(columns={"visit": "visit_month"})[
        ["arm", "visit_month", "n", "estimate", "ci_low", "ci_high"]
    ].copy()
    out["sd"], out["median"] = np.nan, np.nan
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)
