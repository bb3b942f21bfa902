"""Time to event of a trial's ADTTE parameters, by arm, in a population after filters.

One call gives what a time-to-event section of a trial report shows: the Kaplan-Meier curve of
each arm with its pointwise CI and numbers at risk, the median with its CI, the log-rank test
(stratified by a covariate when one is chosen) and the Cox hazard ratio of each treatment arm
against the reference. The methods are :mod:`respine.stats.survival`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from respine import derive
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.selection import Filters
from respine.stats import survival as sv


@dataclass(frozen=True)
class TimeToEvent:
    """Time to event of one parameter by arm.

    Attributes
    ----------
    parameter, label, unit : str
        The ADTTE parameter (PARAMCD), its label (PARAM) and the time unit ("" if not given).
    population : str
        The analysis population.
    curves : dict
        Arm -> :class:`~respine.stats.survival.KaplanMeier`, in display order (treatment arms,
        then the reference); arms without a subject in the selection are left out.
    logrank : LogRank
        Unstratified log-rank test over the arms.
    stratified : LogRank or None
        Log-rank test stratified by ``stratify`` (None when no covariate is chosen).
    hazard_ratios : tuple of HazardRatio
        Each treatment arm against the reference (stratified by ``stratify`` when chosen); empty,
        with ``note`` saying why, when the model is not estimable on this selection.
    stratify : str
        The covariate column of the stratified test and model ("" for none).
    note : str
        Why a result is missing ("" when everything was computed).
    """

    parameter: str
    label: str
    unit: str
    population: str
    curves: dict[str, sv.KaplanMeier]
    logrank: sv.LogRank
    stratified: sv.LogRank | None
    hazard_ratios: tuple[sv.HazardRatio, ...]
    reference: str
    stratify: str = ""
    note: str = ""


def parameters(trial: S.Trial) -> dict[str, str]:
    """The trial's time-to-event parameters: PARAMCD -> label, in the data's order."""
    tte = trial.time_to_event
    if tte.empty:
        return {}
    first = tte.drop_duplicates(S.PARAMETER)
    return dict(zip(first[S.PARAMETER].astype(str), first[S.PARAMETER_LABEL].astype(str), strict=True))


def stratification_covariates(trial: S.Trial) -> tuple[S.Covariate, ...]:
    """The declared categorical covariates a log-rank test or Cox model may be stratified by."""
    return tuple(c for c in trial.design.covariates if c.kind == "categorical")


def time_to_event(trial: S.Trial, parameter: str, population: str | None = None, filters: Filters = (),
                  stratify: str = "", confidence: float = 0.95) -> TimeToEvent:
    """Kaplan-Meier curves, medians, log-rank test(s) and Cox hazard ratios of one parameter.

    Parameters
    ----------
    trial : Trial
        A trial with a time-to-event table (ADaM ADTTE).
    parameter : str
        The PARAMCD.
    population : str, optional
        Analysis population (default: the study's).
    filters : tuple of SubgroupFilter
        Subgroup filters on the subject table.
    stratify : str
        A categorical covariate column (see :func:`stratification_covariates`), or "" for none.
    confidence : float
        Level of every interval.

    Raises
    ------
    SelectionError
        When the trial has no such parameter or covariate.
    AnalysisError
        When the selection leaves fewer than two arms with subjects, or no event.

    References
    ----------
    .. [1] Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd ed.
       Wiley, 2002.
    """
    known = parameters(trial)
    if parameter not in known:
        offered = ", ".join(known) or "none (the data have no ADTTE dataset)"
        raise SelectionError(f"Unknown time-to-event parameter '{parameter}'. Choose one of: {offered}.")
    covariates = {c.column: c for c in stratification_covariates(trial)}
    if stratify and stratify not in covariates:
        raise SelectionError(f"'{stratify}' is not a categorical covariate of this study; stratify by one "
                             f"of: {', '.join(covariates) or 'none declared'}.")
    pop = population or trial.design.default_population
    subjects = derive.select_subjects(trial, pop, filters)
    columns = [S.SUBJECT_ID, S.ARM, *([stratify] if stratify else [])]
    tte = trial.time_to_event
    data = tte[tte[S.PARAMETER] == parameter].merge(subjects[columns], on=S.SUBJECT_ID, how="inner")
    if data.empty:
        raise AnalysisError(f"No subject of population {pop} after the filters has a record of {parameter}. "
                            "Choose another population or widen the filters.")
    if stratify and data[stratify].isna().any():
        n = int(data[stratify].isna().sum())
        raise AnalysisError(f"{n} subject(s) have no value of {covariates[stratify].label}, so the "
                            "stratified test cannot place them. Filter them out or choose another covariate.")
    arms = [a for a in derive.arm_order(trial) if (data[S.ARM] == a).any()]
    reference = trial.design.reference_arm
    curves = {a: sv.kaplan_meier(g[S.TIME], g[S.EVENT], confidence)
              for a in arms for g in [data[data[S.ARM] == a]]}
    order = [reference, *[a for a in arms if a != reference]] if reference in arms else arms
    test = sv.logrank(data[S.TIME], data[S.EVENT], data[S.ARM], groups=order)
    strata = data[stratify].astype(str) if stratify else None
    stratified = (sv.logrank(data[S.TIME], data[S.EVENT], data[S.ARM], strata=strata, groups=order)
                  if strata is not None else None)
    note = ""
    hazard_ratios: tuple[sv.HazardRatio, ...] = ()
    if reference not in arms:
        note = f"No subject of the reference arm {reference} in this selection: no hazard ratio."
    else:
        try:
            hazard_ratios = sv.cox_hazard_ratios(data[S.TIME], data[S.EVENT], data[S.ARM], reference,
                                                 strata=strata, groups=order, confidence=confidence)
        except AnalysisError as exc:  # the curves and the test stand; say why the model does not
            note = str(exc)
    unit = next((u for u in data[S.TIME_UNIT].astype(str) if u), "")
    return TimeToEvent(parameter=parameter, label=known[parameter], unit=unit, population=pop,
                       curves=curves, logrank=test, stratified=stratified, hazard_ratios=hazard_ratios,
                       reference=reference, stratify=stratify, note=note)


def summary_frame(result: TimeToEvent) -> pd.DataFrame:
    """One row per arm: subjects, events, median (CI) and the hazard ratio against the reference
    (CI, Wald p); the unrounded numbers a table or an export formats."""
    hr = {h.group: h for h in result.hazard_ratios}
    rows = []
    for arm, km in result.curves.items():
        h = hr.get(arm)
        rows.append({
            "arm": arm, "n": km.n, "events": km.n_events, "median": km.median,
            "median_low": km.median_low, "median_high": km.median_high,
            "hr": h.hazard_ratio if h else float("nan"), "hr_low": h.ci_low if h else float("nan"),
            "hr_high": h.ci_high if h else float("nan"), "p_value": h.p_value if h else float("nan"),
        })
    return pd.DataFrame(rows)
