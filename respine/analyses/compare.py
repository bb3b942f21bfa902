"""One entry point for a between-arm analysis at a visit, used by the CLI and every page.

:func:`analyze` takes a trial and a :class:`Selection` and returns an :class:`AnalysisResult`
holding unrounded numbers; :meth:`AnalysisResult.to_dict` is the JSON contract of
``respine analyze`` (DESIGN.md section 4).

Records: the comparison at a visit (Welch, ANCOVA, Mann-Whitney, binary tests) reads the analysis
records, derived ones included, as the study's plan flags them (the CDISC pilot's LOCF ANCOVA);
the MMRM reads observed records only (:mod:`respine.analyses.repeated`). The result counts the
observed and derived records it read, and its methods sentence says so.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd

from respine import derive, stats
from respine.analyses.repeated import _mmrm_at_visit, mmrm_fit, mmrm_records
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.endpoints import Responder
from respine.model.labels import endpoint_label, filters_sentence, rule_modified
from respine.model.results import AnalysisResult, DoseResponse, RecordCounts
from respine.model.selection import Selection

CONTINUOUS_METHODS = {
    "welch": "Welch t-test",
    "ancova": "ANCOVA adjusted for baseline",
    "mmrm": "MMRM over all visits (REML)",
    "mann_whitney": "Mann-Whitney with Hodges-Lehmann shift",
    "van_elteren": "Van Elteren rank test, stratified by the covariates",
}
BINARY_METHODS = {
    **stats.BINARY_TESTS,
    "cmh": "Cochran-Mantel-Haenszel, stratified by the covariates",
    "logistic": "Logistic regression adjusted for the covariates",
    "exact": "Exact and score methods (Clopper-Pearson, Miettinen-Nurminen, exact odds ratio; Fisher)",
    "gcomp_ye": "G-computation adjusted for the covariates (Ye robust variance)",
    "gcomp_ge": "G-computation adjusted for the covariates (Ge delta-method variance)",
}
#: The variance of each g-computation method (respine.stats.marginal).
GCOMP_VARIANCE = {"gcomp_ye": "Ye", "gcomp_ge": "Ge"}


#: The records a comparison at one visit reads (see the module docstring).
VISIT_RECORDS: derive.Records = "analysis"


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
    Analyses use the subjects with a value at the visit: the analysis records, derived ones
    (LOCF) included where the data flag them; the MMRM uses observed records only. An endpoint
    without a baseline value (a global impression of change) is analysed as its observed value,
    and its ANCOVA has no baseline term. With three or more arms that have doses
    (``design.arm_doses``), the ANCOVA adds the linear trend across doses
    (:attr:`AnalysisResult.dose_response`).
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
    data = derive.endpoint_data(trial, ep.id, population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi,
                                records=VISIT_RECORDS)
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
    records: RecordCounts | None = None
    dose: DoseResponse | None = None
    method_label = methods_for(ep.kind)[method]
    if ep.kind == "continuous":
        measure = sel.measure
        has_baseline = bool(data[derive.BASE].notna().any())
        if measure != "aval" and sel.visit == base_visit:
            measure = "aval"
            notes.append("At baseline the observed value is analysed (change is zero).")
        elif measure != "aval" and not has_baseline:
            measure = "aval"
            notes.append(
                f"{ep.label} has no baseline value (no record at {design.visit_label(base_visit)}), so "
                f"the observed value is analysed: {derive.MEASURES[sel.measure].lower()} needs a baseline."
            )
        column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[measure]
        values = at_visit.dropna(subset=[column])
        summaries = tuple(
            stats.summarise_continuous(values.loc[values[S.ARM] == a, column], a) for a in arms_order
        )
        records = derive.count_records(values, VISIT_RECORDS, arms_order)
        if method == "mmrm":
            mmrm_sel = sel.with_(reference=reference, measure=measure)
            fit = mmrm_fit(trial, mmrm_sel)
            contrasts, lsmeans, mmrm_notes = _mmrm_at_visit(fit, sel.visit, visit_label)
            notes.extend(mmrm_notes)
            records = mmrm_records(trial, mmrm_sel)
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
        elif method == "van_elteren":
            contrasts, strata_notes = _van_elteren(trial, values, column, sel.covariates, reference,
                                                   arms_order)
            notes.extend(strata_notes)
        else:
            if measure == "aval" and sel.visit == base_visit:
                raise AnalysisError(
                    "ANCOVA adjusted for baseline cannot be fitted at the baseline "
                    "visit; choose a later visit or the Welch t-test."
                )
            frame = _model_frame(trial, values, sel.covariates)
            # No baseline term for an endpoint without a baseline value (the pilot's CIBIC+).
            terms = (*((derive.BASE,) if has_baseline else ()), *sel.covariates)
            if not has_baseline:
                method_label = "ANCOVA without a baseline term" if sel.covariates else "ANOVA on arm"
            fit = stats.ancova(
                frame,
                column,
                S.ARM,
                reference,
                terms,
                arm_order=tuple(arms_order),
                weights=sel.lsmeans_weights,
            )
            contrasts, lsmeans = fit.contrasts, fit.lsmeans
            used = frame[stats.complete_rows(frame, [column, S.ARM, *terms])]
            records = derive.count_records(used, VISIT_RECORDS, arms_order)
            dropped = len(values) - fit.n
            if dropped:
                what = "baseline or covariate values" if has_baseline else "covariate values"
                notes.append(f"{dropped} subjects without {what} were left out of the ANCOVA.")
            dose, dose_note = _dose_response(trial, frame, column, terms)
            if dose_note:
                notes.append(dose_note)
        n_total = int(sum(s.n for s in summaries))
    else:
        measure = "aval"
        # the exact method's rates carry Clopper-Pearson intervals, the others' Wilson intervals
        rates = [stats.summarise_binary(at_visit.loc[at_visit[S.ARM] == a, S.VALUE], a) for a in arms_order]
        summaries = tuple(_clopper_pearson(s) if method == "exact" else s for s in rates)
        records = derive.count_records(at_visit.dropna(subset=[S.VALUE]), VISIT_RECORDS, arms_order)
        ref = summaries[-1]
        homogeneity: list[dict[str, object]] = []
        if method == "exact":
            contrasts = tuple(c for s in rates[:-1] for c in _exact_contrasts(s, rates[-1]))
        elif method in stats.BINARY_TESTS:
            contrasts = tuple(
                c
                for s in summaries[:-1]
                for c in stats.compare_binary(
                    s.responders, s.n, ref.responders, ref.n, s.arm, reference, method
                )
            )
        else:
            contrasts, homogeneity, adjusted_notes = _adjusted_binary(trial, at_visit, method, sel.covariates,
                                                                      reference, arms_order)
            notes.extend(adjusted_notes)
        n_total = int(sum(s.n for s in summaries))
        small = any(s.n and min(s.responders, s.n - s.responders) < 5 for s in summaries)
        if small and method not in ("fisher", "exact"):
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
        method_label=method_label,
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
        extra={"rule_modified": rule_modified(ep, sel.rule), "lower_is_better": ep.lower_is_better,
               # CMH: the Breslow-Day test of homogeneous odds ratios over the strata, per arm
               **({"homogeneity": homogeneity} if ep.kind == "binary" and method == "cmh" else {})},
        records=records,
        dose_response=dose,
    )
    # the filters end the sentence whatever the method, so a pasted methods text names them
    return replace(result, methods_text=methods_text(result, sel, trial) + filters_sentence(sel.filters))


def _model_frame(trial: S.Trial, values: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    """The values at a visit with the subject covariates of a linear model beside them."""
    frame = values.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
    # A covariate the study declares categorical is a factor even when coded as numbers.
    for cov in trial.design.covariates:
        if cov.kind == "categorical" and cov.column in covariates:
            frame[cov.column] = derive.as_levels(frame[cov.column]).where(frame[cov.column].notna())
    return frame


def dose_arms(trial: S.Trial) -> dict[str, float]:
    """The arms' doses when a linear trend across doses can be tested: three or more arms, each
    with a dose (``design.arm_doses``), at three or more distinct doses; else empty."""
    doses = trial.design.arm_doses
    if len(trial.design.arms) < 3 or any(a not in doses for a in trial.design.arms):
        return {}
    return dict(doses) if len(set(doses.values())) >= 3 else {}


def _dose_response(
    trial: S.Trial, frame: pd.DataFrame, column: str, terms: tuple[str, ...]
) -> tuple[DoseResponse | None, str]:
    """The linear trend across doses in the ANCOVA's rows and terms (None, with the reason as a
    note, when the selection cannot support it; None without a note when the study has no doses)."""
    doses = dose_arms(trial)
    if not doses:
        return None, ""
    dosed = frame.assign(_dose=frame[S.ARM].map(doses))
    try:
        trend = stats.dose_trend(dosed, column, "_dose", terms)
    except AnalysisError as exc:
        return None, f"No dose-response test: {exc}"
    return replace(trend, doses={a: doses[a] for a in trial.design.arms}), ""


def dose_response(trial: S.Trial, sel: Selection) -> DoseResponse | None:
    """Linear trend across the arms' doses at the selection's visit: the slope of dose as a
    continuous term of the ANCOVA (same rows, baseline and covariates), as in the CDISC pilot's
    Table 14-3.01. None when the study has fewer than three arms with doses.

    References
    ----------
    .. [1] Ruberg SJ. Dose response studies. I. Some design considerations. J Biopharm Stat
       1995;5:1-14.
    """
    if trial.endpoint(sel.endpoint).kind != "continuous" or not dose_arms(trial):
        return None
    return analyze(trial, sel.with_(method="ancova")).dose_response


def _clopper_pearson(s: stats.BinarySummary) -> stats.BinarySummary:
    """An arm's rate with the Clopper-Pearson interval in place of Wilson's."""
    lo, hi = stats.clopper_pearson_ci(s.responders, s.n) if s.n else (math.nan, math.nan)
    return replace(s, ci_low=lo, ci_high=hi)


def _exact_contrasts(s: stats.BinarySummary, ref: stats.BinarySummary) -> tuple[stats.Contrast, ...]:
    """Risk difference with the Miettinen-Nurminen score CI and the conditional odds ratio with its
    exact CI, both with Fisher's exact p-value (the figures of R's ``fisher.test``)."""
    if not s.n or not ref.n:
        raise AnalysisError(f"No subject with a value in arm '{s.arm if not s.n else ref.arm}'; widen the "
                            "population or filters, or choose another visit.")
    p = stats.fisher_exact_2x2(s.responders, s.n, ref.responders, ref.n)
    lo, hi = stats.miettinen_nurminen_ci(s.responders, s.n, ref.responders, ref.n)
    rd = stats.Contrast(s.arm, ref.arm, "risk_difference", s.rate - ref.rate, None, lo, hi, p,
                        "Miettinen-Nurminen score CI; Fisher's exact test")
    odds, o_lo, o_hi = stats.exact_odds_ratio_ci(s.responders, s.n, ref.responders, ref.n)
    ratio = stats.Contrast(s.arm, ref.arm, "odds_ratio", odds, None, o_lo, o_hi, p,
                           "Exact conditional CI; Fisher's exact test",
                           notes=("Conditional maximum-likelihood estimate of the odds ratio.",))
    return (rd, ratio)


def _strata(trial: S.Trial, frame: pd.DataFrame, covariates: tuple[str, ...], what: str
            ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``frame`` with a ``_stratum`` column from the covariates (declared continuous ones cut at
    their median, as the Subgroups page cuts them), and a note on the cuts."""
    from respine.analyses.subgroups import cut_levels

    if not covariates:
        raise AnalysisError(f"The {what} needs at least one covariate to stratify by: choose, for example, "
                            "country or sex.")
    frame = frame.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
    kinds = {c.column: c for c in trial.design.covariates}
    parts, notes = [], []
    for cov in covariates:
        if cov in kinds and kinds[cov].kind == "continuous":
            parts.append(cut_levels(frame[cov], None, kinds[cov].unit))
            notes.append(f"{kinds[cov].label} is cut at its median to form strata.")
        else:
            parts.append(derive.as_levels(frame[cov]).where(frame[cov].notna(), None))
    table = pd.concat(parts, axis=1)
    stratum = table.astype(str).agg(" / ".join, axis=1).where(table.notna().all(axis=1), None)
    dropped = int(stratum.isna().sum())
    if dropped:
        notes.append(f"{dropped} subjects without a value of {', '.join(covariates)} were left out.")
    return frame.assign(_stratum=stratum.to_numpy()).dropna(subset=["_stratum"]), tuple(notes)


def _van_elteren(trial: S.Trial, values: pd.DataFrame, column: str, covariates: tuple[str, ...],
                 reference: str, arms_order: list[str]) -> tuple[tuple[stats.Contrast, ...], tuple[str, ...]]:
    """Van Elteren's stratified rank test of each treatment arm against the reference: its
    standardised statistic (positive when the arm ranks higher) and two-sided p-value."""
    frame, notes = _strata(trial, values, covariates, "van Elteren test")
    out = []
    for arm in arms_order[:-1]:
        test = stats.van_elteren(frame[column], frame[S.ARM], frame["_stratum"], arm, reference)
        dropped = ((f"{test.dropped} strata without subjects of both arms were left out.",)
                   if test.dropped else ())
        out.append(stats.Contrast(arm, reference, "rank_z", test.z, None, math.nan, math.nan, test.p_value,
                                  f"Van Elteren, {test.strata} strata",
                                  notes=("The estimate is the standardised rank statistic z; the test has "
                                         "no CI.", *dropped)))
    return tuple(out), notes


def _adjusted_binary(
    trial: S.Trial,
    at_visit: pd.DataFrame,
    method: str,
    covariates: tuple[str, ...],
    reference: str,
    arms_order: list[str],
) -> tuple[tuple[stats.Contrast, ...], list[dict[str, object]], tuple[str, ...]]:
    """Stratified (CMH), covariate-adjusted (logistic) or marginal (g-computation) comparisons of a
    binary endpoint; with the CMH, the Breslow-Day homogeneity test of each arm's strata."""
    from respine.stats import stratified

    if not covariates:
        raise AnalysisError(
            f"The {BINARY_METHODS[method]} needs at least one covariate: choose, for example, country or sex."
        )
    if method in GCOMP_VARIANCE:
        from respine.stats.marginal import marginal_risks

        model = _model_frame(trial, at_visit, covariates)
        fit = marginal_risks(model, S.VALUE, S.ARM, reference, covariates, GCOMP_VARIANCE[method],  # type: ignore[arg-type]
                             arm_order=tuple(arms_order))
        return fit.contrasts(), [], ()
    frame = at_visit.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
    if method == "logistic":
        return stratified.logistic_adjusted(
            frame, S.VALUE, S.ARM, reference, covariates, arm_order=tuple(arms_order)
        ), [], ()
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise AnalysisError(f"Covariates {missing} are not subject covariates.")
    frame = frame.assign(_stratum=frame[list(covariates)].astype(str).agg(" / ".join, axis=1))
    out: list[stats.Contrast] = []
    homogeneity: list[dict[str, object]] = []
    notes: list[str] = []
    for arm in arms_order[:-1]:
        pair = frame[frame[S.ARM].isin([arm, reference])]
        out.append(stratified.cmh_risk_difference(pair, S.ARM, S.VALUE, "_stratum", arm, reference))
        counts = _stratum_counts(pair, arm, reference)
        mn = stats.stratified_miettinen_nurminen(*counts)
        out.append(stats.Contrast(arm, reference, "risk_difference", mn.estimate, None, mn.ci_low, mn.ci_high,
                                  mn.p_value, "Stratified Miettinen-Nurminen score (Mantel-Haenszel weights)",
                                  notes=(f"{mn.dropped} strata without subjects of both arms left out.",)
                                  if mn.dropped else ()))
        out.append(stratified.cmh_odds_ratio(pair, S.ARM, S.VALUE, "_stratum", arm, reference))
        both = [i for i, (m, k) in enumerate(zip(counts[1], counts[3], strict=True)) if m and k]
        try:
            x1, n1, x2, n2 = ([c[i] for i in both] for c in counts)
            bd = stats.breslow_day(x1, n1, x2, n2)
        except AnalysisError as exc:  # a stratum with no event or only events: no test, say why
            notes.append(f"No Breslow-Day test for {arm} vs {reference}: {exc}")
            continue
        homogeneity.append({"arm": arm, "reference": reference,
                            "test": "Breslow-Day with Tarone's correction",
                            "statistic": bd.statistic, "df": bd.df, "p_value": bd.p_value,
                            "common_odds_ratio": bd.common_odds_ratio, "strata": len(both)})
    return tuple(out), homogeneity, tuple(notes)


def _stratum_counts(pair: pd.DataFrame, arm: str, reference: str
                    ) -> tuple[list[int], list[int], list[int], list[int]]:
    """Responders and subjects of ``arm`` and of ``reference`` in each stratum."""
    x1, n1, x2, n2 = [], [], [], []
    for _, block in pair.dropna(subset=[S.VALUE]).groupby("_stratum", sort=True):
        a, r = block[block[S.ARM] == arm][S.VALUE], block[block[S.ARM] == reference][S.VALUE]
        x1.append(int((a == 1).sum()))
        n1.append(int(a.size))
        x2.append(int((r == 1).sum()))
        n2.append(int(r.size))
    return x1, n1, x2, n2


def records_phrase(records: RecordCounts | None) -> str:
    """Which records a comparison at a visit read, for its methods sentence: "(complete cases)"
    when every record is observed, else the analysis records with their counts."""
    if records is None or not records.n_derived:
        return "(complete cases)"
    return f"using the analysis records ({records.describe()})"


def mmrm_records_sentence(records: RecordCounts | None) -> str:
    """What the MMRM read, when derived records were set aside ("" when there were none)."""
    if records is None or not records.n_left_out:
        return ""
    return (f" The model uses observed records only ({records.observed} post-baseline records; "
            f"derived records left out: {records.describe_left_out()}), as a likelihood analysis "
            "under missing at random requires.")


def methods_text(result: AnalysisResult, sel: Selection, trial: S.Trial) -> str:
    """One or two sentences stating what was done, ready to paste into a report."""
    pop = trial.design.population(result.population).label
    ref = sel.reference or trial.design.reference_arm
    cases = records_phrase(result.records)
    if result.kind == "binary" and result.method in ("cmh", "logistic", *GCOMP_VARIANCE):
        covs = ", ".join(sel.covariates)
        if result.method == "cmh":
            how = (f"stratified by {covs} with Cochran-Mantel-Haenszel weights (risk difference with Sato's "
                   "variance and with the stratified Miettinen-Nurminen score CI; Mantel-Haenszel odds ratio "
                   "with the Robins-Breslow-Greenland CI; Breslow-Day test of homogeneous odds ratios with "
                   "Tarone's correction)")
        elif result.method == "logistic":
            how = f"by logistic regression adjusted for {covs} (Wald CIs)"
        else:
            variance = ("the robust variance of Ye et al. (2023)" if result.method == "gcomp_ye"
                        else "the delta-method variance of Ge et al. (2011) with the HC0 sandwich")
            how = (f"by g-computation (standardisation) from a logistic working model adjusted for {covs}: "
                   "marginal risks, their difference, ratio and odds ratio (ratios with log-scale Wald CIs), "
                   f"with {variance}, as the FDA's 2023 guidance on covariate adjustment describes")
        return (
            f"{result.endpoint_label} at {result.visit_label} was compared between arms in the {pop} "
            f"population {cases} {how}, with {ref} as reference."
        )
    if result.kind == "binary" and result.method == "exact":
        return (
            f"{result.endpoint_label} at {result.visit_label} was compared between arms in the {pop} "
            f"population {cases}. Rates are shown with Clopper-Pearson exact 95% CIs; the risk difference "
            "with the Miettinen-Nurminen score CI; the odds ratio as the conditional maximum-likelihood "
            f"estimate with its exact conditional CI; the p-value is Fisher's exact test, with {ref} as "
            "reference."
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
            f"{pop} population using subjects with an assessment {cases}.{rule} "
            f"Rates are shown with Wilson 95% CIs; the risk difference with Newcombe's hybrid "
            f"score CI; relative risk and odds ratio with log-scale Wald CIs; the p-value is "
            f"from {result.method_label}, with {ref} as reference."
        )
    what = derive.MEASURES[result.measure].lower()
    if result.method == "mmrm":
        fit = mmrm_fit(trial, sel.with_(reference=ref, measure=result.measure))
        return (fit.methods_text(result.endpoint_label, pop) + mmrm_records_sentence(result.records)
                + f" Contrasts are arm minus {ref} at each visit.")
    if result.method == "van_elteren":
        how = (f"by van Elteren's rank test stratified by {', '.join(sel.covariates)} (Wilcoxon rank sums "
               "within strata weighted by 1 / (n + 1); continuous covariates cut at the median)")
    elif result.method == "mann_whitney":
        how = (
            "by the Mann-Whitney test, with the Hodges-Lehmann estimate of the shift and its CI (Bauer 1972)"
        )
    elif result.method == "ancova":
        no_baseline = result.method_label != CONTINUOUS_METHODS["ancova"]
        covs = ", ".join([*([] if no_baseline else ["baseline value"]), *sel.covariates])
        weighting = (
            "equal weights for the levels of categorical covariates"
            if sel.lsmeans_weights == "equal"
            else "observed-margin weighting"
        )
        model = (f"analysis of covariance with arm and {covs} as terms" if covs
                 else "analysis of variance with arm as the only term")
        if no_baseline:
            model += f" (no baseline term: {result.endpoint_label} has no baseline value)"
        how = f"by {model}; least-squares means use {weighting}"
    elif result.method == "welch":
        how = "by Welch's unequal-variance t-test"
    text = (
        f"The {what} in {result.endpoint_label} at {result.visit_label} was compared between "
        f"arms in the {pop} population {cases} {how}; "
        + (f"z is positive when the arm ranks higher than {ref}." if result.method == "van_elteren"
           else f"differences are arm minus {ref} with 95% CIs.")
    )
    if result.dose_response is not None:
        doses = ", ".join(f"{a} {d:g}" for a, d in result.dose_response.doses.items())
        text += (f" The dose-response p-value tests a non-zero slope of dose ({doses}) as a continuous "
                 "term in place of arm in the same model.")
    return text

