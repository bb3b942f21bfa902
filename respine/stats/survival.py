"""Time to event: Kaplan-Meier curves, medians, log-rank tests and Cox hazard ratios.

Arrays in, results out. The estimates come from :mod:`lifelines` (Kaplan-Meier, the log-rank test
of k groups, the Cox model); the stratified log-rank test, which lifelines does not offer, sums the
per-stratum observed-minus-expected vectors and their hypergeometric covariances (the Mantel
statistic) as R's ``survdiff(... + strata(s))`` does. lifelines is imported when a result is
asked for, so importing the package stays as quick as it was.

Conventions, chosen to match what a trial report shows and what R's ``survival`` computes:

* pointwise confidence intervals of the survival curve on the log(-log) scale with Greenwood's
  variance (lifelines' "exponential" interval; R ``survfit(..., conf.type = "log-log")``, SAS
  PROC LIFETEST's default), so they stay inside [0, 1];
* the median and its CI as the first time the curve (or its lower and upper CI limits) is at or
  below 0.5 (Brookmeyer and Crowley); NaN when not reached;
* ties in the Cox model by Efron's method (R ``coxph``'s default), Wald CIs and p-values.

References
----------
.. [1] Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
   1958;53:457-81.
.. [2] Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd ed. Wiley,
   2002 (log(-log) interval, section 1.4; stratified log-rank, section 7.2).
.. [3] Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
   1982;38:29-41.
.. [4] Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
.. [5] Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc
   1977;72:557-65.
.. [6] Davidson-Pilon C. lifelines: survival analysis in Python. J Open Source Softw 2019;4:1317.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from respine.errors import AnalysisError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier curve with its pointwise CI, and the median.

    Attributes
    ----------
    time : ndarray
        0, then every distinct time (event or censoring), increasing.
    survival, ci_low, ci_high : ndarray
        The estimate and its pointwise CI just after each time (a right-continuous step).
    at_risk, events, censored : ndarray
        Subjects at risk just before each time, events and censorings at it.
    median, median_low, median_high : float
        The median time and its CI; NaN when the curve (or the limit) does not reach 0.5.
    """

    time: FloatArray
    survival: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    at_risk: npt.NDArray[np.int64]
    events: npt.NDArray[np.int64]
    censored: npt.NDArray[np.int64]
    median: float
    median_low: float
    median_high: float
    confidence: float = 0.95

    @property
    def n(self) -> int:
        return int(self.at_risk[0])

    @property
    def n_events(self) -> int:
        return int(self.events.sum())

    def survival_at(self, t: float) -> float:
        """The estimate at time ``t`` (the step's value; NaN past the last time)."""
        if t > self.time[-1]:
            return math.nan
        return float(self.survival[np.searchsorted(self.time, t, side="right") - 1])

    def number_at_risk(self, times: Sequence[float]) -> npt.NDArray[np.int64]:
        """Subjects still at risk at each of ``times`` (time >= t), as a risk table prints them."""
        # at_risk[i] counts subjects with time >= time[i]; past a time nobody has, the next one's count.
        idx = np.searchsorted(self.time, np.asarray(times, dtype=float), side="left")
        padded = np.append(self.at_risk, 0)
        return padded[np.minimum(idx, len(self.at_risk))].astype(np.int64)


@dataclass(frozen=True)
class LogRank:
    """A log-rank test of equal hazards over k groups (stratified when ``strata`` is named).

    ``observed`` and ``expected`` are events per group (summed over strata), as R ``survdiff``
    prints them.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple[str, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    stratified: bool = False


@dataclass(frozen=True)
class HazardRatio:
    """The Cox model's hazard ratio of one group against the reference, with Wald CI and p."""

    group: str
    reference: str
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    log_hr: float
    se: float
    confidence: float = 0.95


@contextmanager
def _library() -> Iterator[None]:
    """Around lifelines' calls: pandas' notices that lifelines 0.30 uses arguments pandas 4 will
    remove (``frame.sum(0)``) say nothing about the result, and would fill a server's log on every
    rerun; every other warning passes."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"lifelines(\.|$)")
        yield


def _arrays(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event)
    if t.shape != e.shape or t.ndim != 1:
        raise AnalysisError("Times and event indicators must be two lists of the same length.")
    if t.size == 0:
        raise AnalysisError("No subject has a time to event in this selection.")
    if np.isnan(t).any() or (t < 0).any():
        raise AnalysisError("Times to event must be zero or more, with none missing.")
    if not np.isin(e, (0, 1)).all():
        raise AnalysisError("Event indicators must be 1 (event) or 0 (censored).")
    return t, e.astype(np.int64)


def kaplan_meier(time: npt.ArrayLike, event: npt.ArrayLike, confidence: float = 0.95) -> KaplanMeier:
    """The Kaplan-Meier estimate of one group, with a log(-log) pointwise CI and the median.

    Parameters
    ----------
    time : array_like
        Time from the origin to the event or censoring, zero or more.
    event : array_like
        1 for an event, 0 for a censored time.
    confidence : float
        Level of the intervals.

    Returns
    -------
    KaplanMeier

    References
    ----------
    .. [1] Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-81.
    .. [2] Brookmeyer R, Crowley J. Biometrics 1982;38:29-41.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t, e = _arrays(time, event)
    with _library():
        kmf = KaplanMeierFitter(alpha=1 - confidence).fit(t, event_observed=e)
        table = kmf.event_table  # index: 0 and each distinct time; at_risk counts time >= index
        ci = kmf.confidence_interval_survival_function_
        median_ci = median_survival_times(ci).to_numpy().ravel()

    def finite(v: float) -> float:
        return float(v) if np.isfinite(v) else math.nan

    return KaplanMeier(
        time=table.index.to_numpy(dtype=float),
        survival=kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
        # lifelines leaves the limits at time 0 (no variance yet) as 1, as R does.
        ci_low=ci.iloc[:, 0].to_numpy(dtype=float),
        ci_high=ci.iloc[:, 1].to_numpy(dtype=float),
        at_risk=table["at_risk"].to_numpy(dtype=np.int64),
        events=table["observed"].to_numpy(dtype=np.int64),
        censored=table["censored"].to_numpy(dtype=np.int64),
        median=finite(kmf.median_survival_time_),
        median_low=finite(median_ci[0]),
        median_high=finite(median_ci[1]),
        confidence=confidence,
    )


def _observed_expected(
    t: FloatArray, e: npt.NDArray[np.int64], g: npt.NDArray[np.int64], k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed and expected events per group and the covariance of O - E (one stratum)."""
    times = np.unique(t[e == 1])
    observed = np.zeros(k)
    expected = np.zeros(k)
    cov = np.zeros((k, k))
    for s in times:
        risk = t >= s
        n_j = np.bincount(g[risk], minlength=k).astype(float)
        d_j = np.bincount(g[(t == s) & (e == 1)], minlength=k).astype(float)
        n, d = n_j.sum(), d_j.sum()
        observed += d_j
        expected += d * n_j / n
        if n > 1:
            # The hypergeometric covariance of the events at this time.
            p = n_j / n
            cov += d * (n - d) / (n - 1) * (np.diag(p) - np.outer(p, p))
    return observed, expected, cov


def logrank(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: Sequence[str] | npt.ArrayLike,
    strata: Sequence[object] | npt.ArrayLike | None = None,
    groups: Sequence[str] | None = None,
) -> LogRank:
    """The log-rank test that k groups have equal hazards, stratified if ``strata`` is given.

    Parameters
    ----------
    time, event : array_like
        As for :func:`kaplan_meier`.
    group : array_like of str
        Each subject's group (arm).
    strata : array_like, optional
        Each subject's stratum: the test sums observed-minus-expected events and their covariances
        over strata (hazards may differ between strata).
    groups : sequence of str, optional
        The groups compared, in the order of the result (default: every group, sorted); subjects
        of other groups are left out.

    Returns
    -------
    LogRank
        Chi-square statistic on k - 1 degrees of freedom, its p-value, observed and expected events.

    References
    ----------
    .. [1] Mantel N. Evaluation of survival data and two new rank order statistics arising in its
       consideration. Cancer Chemother Rep 1966;50:163-70.
    .. [2] Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd ed.
       Wiley, 2002, section 7.2.
    """
    from lifelines.statistics import multivariate_logrank_test

    t, e = _arrays(time, event)
    labels = np.asarray(group).astype(str)
    levels = tuple(groups) if groups is not None else tuple(sorted(set(labels)))
    if len(labels) != len(t):
        raise AnalysisError("Each subject needs a group (arm).")
    present = [str(lv) for lv in levels if (labels == lv).any()]
    if len(present) < 2:
        raise AnalysisError("A log-rank test needs subjects in two or more arms; this selection has "
                            f"{len(present)}.")
    if e.sum() == 0:
        raise AnalysisError("No event in this selection: the log-rank test has nothing to compare.")
    code = np.array([present.index(lv) if lv in present else -1 for lv in labels])
    keep = code >= 0
    t, e, code = t[keep], e[keep], code[keep]
    k = len(present)
    if strata is None:
        layers = [np.ones(len(t), dtype=bool)]
    else:
        s = pd.Series(np.asarray(strata, dtype=object)[keep])
        if s.isna().any():
            raise AnalysisError("Some subjects have no value of the stratification variable; filter them "
                                "out or choose another variable.")
        layers = [(s == v).to_numpy() for v in pd.unique(s)]
    observed, expected, cov = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for m in layers:
        o, x, v = _observed_expected(t[m], e[m], code[m], k)
        observed, expected, cov = observed + o, expected + x, cov + v
    diff = (observed - expected)[:-1]
    statistic = float(diff @ np.linalg.pinv(cov[:-1, :-1]) @ diff)
    if strata is None:
        # The library's test; the sums above give the same statistic (tests/test_survival.py checks).
        with _library():
            statistic = float(multivariate_logrank_test(t, code, e).test_statistic)
    return LogRank(
        statistic=statistic,
        df=k - 1,
        p_value=float(sps.chi2.sf(statistic, k - 1)),
        groups=tuple(present),
        observed=tuple(float(v) for v in observed),
        expected=tuple(float(v) for v in expected),
        stratified=strata is not None,
    )


def cox_hazard_ratios(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: Sequence[str] | npt.ArrayLike,
    reference: str,
    strata: Sequence[object] | npt.ArrayLike | None = None,
    groups: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> tuple[HazardRatio, ...]:
    """Hazard ratios of each group against the reference from one Cox model (Efron ties).

    Parameters
    ----------
    time, event, group : array_like
        As for :func:`logrank`.
    reference : str
        The reference group (each other group's hazard ratio is against it).
    strata : array_like, optional
        A stratification variable: a baseline hazard of its own per stratum.
    groups : sequence of str, optional
        The groups in the model, in the order of the result (default: every group, sorted);
        subjects of other groups are left out, and the reference has no ratio of its own.
    confidence : float
        Level of the Wald intervals.

    Returns
    -------
    tuple of HazardRatio
        One per non-reference group with subjects.

    References
    ----------
    .. [1] Cox DR. J R Stat Soc B 1972;34:187-220.
    .. [2] Efron B. J Am Stat Assoc 1977;72:557-65.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    t, e = _arrays(time, event)
    labels = np.asarray(group).astype(str)
    if reference not in set(labels):
        raise AnalysisError(f"No subject of the reference arm '{reference}' in this selection.")
    others = [str(g) for g in (groups or sorted(set(labels))) if g != reference and (labels == g).any()]
    if not others:
        raise AnalysisError("A hazard ratio needs subjects in an arm other than the reference.")
    keep = np.isin(labels, [reference, *others])
    frame = pd.DataFrame({"time": t[keep], "event": e[keep]})
    for i, g in enumerate(others):
        frame[f"x{i}"] = (labels[keep] == g).astype(float)
    in_reference = frame[[f"x{i}" for i in range(len(others))]].sum(axis=1) == 0
    for i, g in enumerate(others):
        if frame.loc[frame[f"x{i}"] == 1, "event"].sum() == 0 or frame.loc[in_reference, "event"].sum() == 0:
            raise AnalysisError(f"Arm '{g}' or the reference '{reference}' has no event in this selection: "
                                "the hazard ratio is not estimable. Widen the selection.")
    strata_cols: list[str] | None = None
    if strata is not None:
        s = pd.Series(np.asarray(strata, dtype=object)[keep])
        if s.isna().any():
            raise AnalysisError("Some subjects have no value of the stratification variable; filter them "
                                "out or choose another variable.")
        frame["stratum"] = s.astype(str).to_numpy()
        strata_cols = ["stratum"]
    fitter = CoxPHFitter(alpha=1 - confidence)
    try:
        with _library():
            warnings.simplefilter("error", ConvergenceWarning)
            fitter.fit(frame, duration_col="time", event_col="event", strata=strata_cols)
    except (ConvergenceError, ConvergenceWarning) as exc:
        raise AnalysisError(f"The Cox model did not converge on this selection ({exc}). Widen the selection "
                            "or drop the stratification.") from None
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    out = []
    for i, g in enumerate(others):
        b = float(fitter.params_[f"x{i}"])
        se = float(fitter.standard_errors_[f"x{i}"])
        out.append(HazardRatio(
            group=g, reference=reference, hazard_ratio=math.exp(b), ci_low=math.exp(b - z * se),
            ci_high=math.exp(b + z * se), p_value=float(2 * sps.norm.sf(abs(b / se))), log_hr=b, se=se,
            confidence=confidence,
        ))
    return tuple(out)
