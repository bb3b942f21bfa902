"""Proportions and their comparison: Wilson intervals, Newcombe differences, chi-square and
Fisher tests, and vectorised forms of the Wilson interval and Yates test for imputation grids;
Clopper-Pearson and exact conditional odds-ratio intervals, Miettinen-Nurminen score intervals of a
risk difference (stratified too) and the Breslow-Day test of homogeneous odds ratios.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from respine.errors import AnalysisError
from respine.model.results import BinarySummary, Contrast
from respine.stats.means import _clean


def wilson_ci(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a single proportion (no continuity correction).

    References
    ----------
    .. [1] Wilson EB. Probable inference, the law of succession, and statistical inference.
       J Am Stat Assoc 1927;22:209-212.
    .. [2] Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
       seven methods. Stat Med 1998;17:857-872 (method 3).
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = float(special.ndtri(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 and n events the limits are exactly 0 and 1; pin them against rounding error.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def summarise_binary(values: np.ndarray | pd.Series, arm: str = "",
                     level: float = 0.95) -> BinarySummary:
    """Count of 1s among non-missing 0/1 values, rate, and Wilson CI."""
    x = _clean(values)
    n, r = int(x.size), int((x == 1).sum())
    lo, hi = wilson_ci(r, n, level)
    return BinarySummary(arm, n, r, r / n if n else math.nan, lo, hi)


def newcombe_difference_ci(x1: int, n1: int, x2: int, n2: int,
                           level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (method 10), built from Wilson limits.

    References
    ----------
    .. [1] Newcombe RG. Interval estimation for the difference between independent proportions:
       comparison of eleven methods. Stat Med 1998;17:873-890 (method 10).
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ci(x1, n1, level)
    l2, u2 = wilson_ci(x2, n2, level)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def chi_square_2x2(x1: int, n1: int, x2: int, n2: int, correction: bool = True) -> tuple[float, float]:
    """Pearson chi-square test of a 2x2 table, optionally with Yates' continuity correction.

    Returns ``(statistic, p_value)``. As in R's ``chisq.test``, the correction is never larger
    than the absolute difference it corrects.

    References
    ----------
    .. [1] Yates F. Contingency tables involving small numbers and the chi-square test.
       Suppl J R Stat Soc 1934;1:217-235.
    """
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=float)
    total = table.sum()
    expected = table.sum(1)[:, None] * table.sum(0)[None, :] / total
    if (expected == 0).any():
        return (math.nan, math.nan)
    dev = np.abs(table - expected)
    if correction:
        dev = np.maximum(dev - np.minimum(0.5, dev), 0.0)
    stat = float((dev**2 / expected).sum())
    return stat, float(special.chdtrc(1, stat))


def fisher_exact_2x2(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher's exact test p-value (sum of tables no more probable than observed).

    References
    ----------
    .. [1] Fisher RA. Statistical Methods for Research Workers, 5th ed. Oliver & Boyd, 1934.
    """
    from scipy.stats import fisher_exact  # imported when used: scipy.stats is slow to import

    return float(fisher_exact(np.array([[x1, n1 - x1], [x2, n2 - x2]]))[1])


BINARY_TESTS = {
    "chisq_yates": "Chi-square with Yates' correction",
    "chisq": "Pearson chi-square",
    "fisher": "Fisher's exact test",
}


def compare_binary(x1: int, n1: int, x2: int, n2: int, arm: str, reference: str,
                   test: str = "chisq_yates", level: float = 0.95) -> tuple[Contrast, ...]:
    """Risk difference (Newcombe CI), relative risk and odds ratio (log-scale Wald CIs).

    All three share the p-value of the chosen test of independence, since they test the same
    null hypothesis. Where a cell is zero, 0.5 is added to every cell for the RR and OR
    (Haldane-Anscombe correction) and a note says so.

    References
    ----------
    .. [1] Newcombe RG. Stat Med 1998;17:873-890 (risk difference, method 10).
    .. [2] Katz D, Baptista J, Azen SP, Pike MC. Obtaining confidence intervals for the risk
       ratio in cohort studies. Biometrics 1978;34:469-474.
    .. [3] Woolf B. On estimating the relation between blood group and disease. Ann Hum Genet
       1955;19:251-253.
    """
    if n1 == 0 or n2 == 0:
        raise AnalysisError(f"No subject with a value in arm '{arm if n1 == 0 else reference}'; "
                            "widen the population or filters, or choose another visit.")
    if test not in BINARY_TESTS:
        raise AnalysisError(f"Unknown test '{test}'. Choose one of: {', '.join(BINARY_TESTS)}.")
    if test == "fisher":
        p = fisher_exact_2x2(x1, n1, x2, n2)
    else:
        p = chi_square_2x2(x1, n1, x2, n2, correction=(test == "chisq_yates"))[1]
    name = BINARY_TESTS[test]
    z = float(special.ndtri(0.5 + level / 2))
    p1, p2 = x1 / n1, x2 / n2
    rd_lo, rd_hi = newcombe_difference_ci(x1, n1, x2, n2, level)
    rd = Contrast(arm, reference, "risk_difference", p1 - p2, None, rd_lo, rd_hi, p, name)
    a, b, c, d = float(x1), float(n1 - x1), float(x2), float(n2 - x2)
    notes: tuple[str, ...] = ()
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        notes = ("A cell is zero: 0.5 added to every cell for this estimate.",)
    rr = (a / (a + b)) / (c / (c + d))
    se_lrr = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    odds = (a * d) / (b * c)
    se_lor = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    notes = ("SE is of the log ratio.", *notes)
    rr_c = Contrast(arm, reference, "relative_risk", rr, se_lrr, rr * math.exp(-z * se_lrr),
                    rr * math.exp(z * se_lrr), p, name, notes=notes)
    or_c = Contrast(arm, reference, "odds_ratio", odds, se_lor, odds * math.exp(-z * se_lor),
                    odds * math.exp(z * se_lor), p, name, notes=notes)
    return (rd, rr_c, or_c)


# ====================================================================== tipping point


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(x == 0, 0.0, np.maximum(0.0, centre - half))
    high = np.where(x == n, 1.0, np.minimum(1.0, centre + half))
    return low, high


def _yates_p(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Vectorised :func:`respine.stats.proportions.chi_square_2x2` with Yates' correction (p-values)."""
    obs = np.stack([x1, n1 - x1, x2, n2 - x2]).astype(float)
    total = n1 + n2
    rows = np.stack([n1, n1, n2, n2]).astype(float)
    cols = np.stack([x1 + x2, total - x1 - x2, x1 + x2, total - x1 - x2]).astype(float)
    expected = rows * cols / total
    dev = np.abs(obs - expected)
    dev = np.maximum(dev - np.minimum(0.5, dev), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = (dev**2 / expected).sum(axis=0)
    p = sps.chi2.sf(stat, 1)
    return np.where((expected == 0).any(axis=0), np.nan, p)



# ====================================================================== exact and score intervals


def _check_counts(x: int, n: int, what: str = "") -> None:
    if n <= 0 or x < 0 or x > n or int(x) != x or int(n) != n:
        where = f" of {what}" if what else ""
        raise AnalysisError(f"Counts{where} must be whole numbers with 0 <= events <= subjects and at least "
                            f"one subject (got {x} of {n}).")


def clopper_pearson_ci(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson ("exact") interval of a proportion: the beta quantiles that invert the two
    one-sided binomial tests, each at (1 - level) / 2.

    Returns ``(low, high)``; 0 and 1 at no and all events, as R's ``binom.test`` gives them.

    References
    ----------
    .. [1] Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the
       case of the binomial. Biometrika 1934;26:404-413.
    """
    _check_counts(successes, n)
    alpha = 1 - level
    low = 0.0 if successes == 0 else float(sps.beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes == n else float(sps.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return (low, high)


def _restricted_mle(x1: float, n1: float, x2: float, n2: float, delta: float) -> tuple[float, float]:
    """Maximum-likelihood p1, p2 under p1 - p2 = delta: the one root in range of the likelihood
    equation's cubic, in closed form (Miettinen and Nurminen 1985, appendix; Farrington and
    Manning 1990, eq. 4)."""
    p1, p2 = x1 / n1, x2 / n2
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (3 * a) ** 3 - b * c / (6 * a * a) + d / (2 * a)
    u = math.copysign(math.sqrt(max(b * b / (3 * a) ** 2 - c / (3 * a), 0.0)), v)
    ratio = 0.0 if u == 0 else max(-1.0, min(1.0, v / u**3))  # rounding can leave |v/u^3| just above 1
    w = (math.pi + math.acos(ratio)) / 3
    q1 = min(1.0, max(0.0, 2 * u * math.cos(w) - b / (3 * a)))
    q2 = min(1.0, max(0.0, q1 - delta))
    return q1, q2


def _mn_variance(x1: float, n1: float, x2: float, n2: float, delta: float) -> float:
    """Miettinen-Nurminen variance of p1 - p2 at ``delta``: the restricted-ML binomial variances
    with the factor N / (N - 1) that makes the score test unbiased."""
    q1, q2 = _restricted_mle(x1, n1, x2, n2, delta)
    total = n1 + n2
    return (q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2) * total / (total - 1)


def _score_limits(estimate: float, score: Callable[[float], float], level: float) -> tuple[float, float]:
    """The deltas where the decreasing score ``score(delta)`` is +z and -z (each within [-1, 1])."""
    from scipy.optimize import brentq

    z = float(special.ndtri(0.5 + level / 2))
    edge = 1 - 1e-12  # the variance vanishes at +-1: stay just inside

    def limit(target: float, lo: float, hi: float) -> float:
        def f(d: float) -> float:
            return score(d) - target

        if lo >= hi:
            return lo
        f_lo, f_hi = f(lo), f(hi)
        if f_lo * f_hi > 0:  # no crossing inside: the limit is the boundary itself
            return -1.0 if target > 0 else 1.0
        return float(brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))

    low = -1.0 if estimate <= -edge else limit(z, -edge, estimate)
    high = 1.0 if estimate >= edge else limit(-z, estimate, edge)
    return (low, high)


def _mn_z(x1: float, n1: float, x2: float, n2: float, delta: float) -> float:
    var = _mn_variance(x1, n1, x2, n2, delta)
    diff = x1 / n1 - x2 / n2 - delta
    if var <= 0:
        return math.copysign(math.inf, diff) if diff else 0.0
    return diff / math.sqrt(var)


def miettinen_nurminen_ci(x1: int, n1: int, x2: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Miettinen-Nurminen score interval of the risk difference p1 - p2.

    The deltas whose score statistic (p1 - p2 - delta) / sqrt(V(delta)) is within +-z, V being the
    variance at the restricted maximum-likelihood proportions times N / (N - 1).

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. Stat Med 1985;4:213-226.
    .. [2] Farrington CP, Manning G. Test statistics and sample size formulae for comparative
       binomial trials with null hypothesis of non-zero risk difference or non-unity relative
       risk. Stat Med 1990;9:1447-1454.
    """
    _check_counts(x1, n1, "the first group")
    _check_counts(x2, n2, "the second group")
    return _score_limits(x1 / n1 - x2 / n2, lambda d: _mn_z(x1, n1, x2, n2, d), level)


@dataclass(frozen=True)
class StratifiedRiskDifference:
    """A common risk difference over strata with its stratified Miettinen-Nurminen score CI.

    Attributes
    ----------
    estimate : float
        The weighted mean of the strata's differences (Mantel-Haenszel weights n1 n2 / N).
    ci_low, ci_high : float
        The score interval.
    z, p_value : float
        The score statistic at the null difference (``null``, 0 unless given) and its two-sided
        p-value.
    weights : tuple of float
        The weight of each stratum used, in the given order.
    dropped : int
        Strata left out because one group has no subject there (they carry no comparison).
    """

    estimate: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    weights: tuple[float, ...]
    dropped: int = 0


def stratified_miettinen_nurminen(x1: Sequence[int], n1: Sequence[int], x2: Sequence[int], n2: Sequence[int],
                                  level: float = 0.95, null: float = 0.0) -> StratifiedRiskDifference:
    """Stratified Miettinen-Nurminen interval of a common risk difference p1 - p2.

    With Mantel-Haenszel (CMH-type) weights w_k = n1k n2k / (n1k + n2k), the statistic at delta is
    (sum w_k d_k / sum w_k - delta) / sqrt(sum (w_k / sum w)^2 V_k(delta)), V_k the stratum's
    Miettinen-Nurminen variance at delta; the interval is where it lies within +-z.

    Parameters
    ----------
    x1, n1, x2, n2 : sequence of int
        Events and subjects of the first and second group in each stratum.
    level : float
        Confidence level.
    null : float
        The difference the score test is against (a non-inferiority margin such as -0.1).

    References
    ----------
    .. [1] Miettinen O, Nurminen M. Comparative analysis of two rates. Stat Med 1985;4:213-226
       (section 4, stratified analysis).
    """
    rows = list(zip(x1, n1, x2, n2, strict=True))
    for a, m, c, k in rows:
        _check_counts(a, max(m, 1) if m == 0 else m, "a stratum")
        _check_counts(c, max(k, 1) if k == 0 else k, "a stratum")
    used = [(float(a), float(m), float(c), float(k)) for a, m, c, k in rows if m > 0 and k > 0]
    if not used:
        raise AnalysisError("No stratum has subjects in both groups: there is nothing to compare.")
    w = np.array([m * k / (m + k) for _, m, _, k in used])
    share = w / w.sum()
    diffs = np.array([a / m - c / k for a, m, c, k in used])
    estimate = float(share @ diffs)

    def score(delta: float) -> float:
        var = float(sum(s * s * _mn_variance(*row, delta) for s, row in zip(share, used, strict=True)))
        diff = estimate - delta
        if var <= 0:
            return math.copysign(math.inf, diff) if diff else 0.0
        return diff / math.sqrt(var)

    low, high = _score_limits(estimate, score, level)
    if not -1 < null < 1:
        raise AnalysisError(f"The null difference must lie between -1 and 1 (got {null}).")
    z0 = score(null)
    return StratifiedRiskDifference(estimate, low, high, z0, float(2 * sps.norm.sf(abs(z0))),
                                    tuple(float(v) for v in w), len(rows) - len(used))


def exact_odds_ratio_ci(x1: int, n1: int, x2: int, n2: int,
                        level: float = 0.95) -> tuple[float, float, float]:
    """Conditional maximum-likelihood odds ratio and its exact conditional (Cornfield) interval.

    Conditioning on the table's margins, the first cell follows Fisher's noncentral
    hypergeometric distribution; the limits are the odds ratios at which each one-sided tail
    probability is (1 - level) / 2 (computed by :func:`scipy.stats.contingency.odds_ratio`).
    These are the estimate and interval of R's ``fisher.test``.

    Returns ``(estimate, low, high)``.

    References
    ----------
    .. [1] Cornfield J. A statistical problem arising from retrospective studies. Proc Third
       Berkeley Symp Math Stat Prob 1956;4:135-148.
    .. [2] Agresti A. Categorical Data Analysis, 3rd ed. Wiley, 2013, section 16.6.4.
    """
    from scipy.stats.contingency import odds_ratio

    _check_counts(x1, n1, "the first group")
    _check_counts(x2, n2, "the second group")
    result = odds_ratio(np.array([[x1, n1 - x1], [x2, n2 - x2]]), kind="conditional")
    ci = result.confidence_interval(confidence_level=level)
    return (float(result.statistic), float(ci.low), float(ci.high))


@dataclass(frozen=True)
class Homogeneity:
    """A test that the odds ratios of k strata are equal: chi-square on k - 1 df."""

    statistic: float
    df: int
    p_value: float
    common_odds_ratio: float  # the Mantel-Haenszel estimate the test is centred on
    tarone: bool


def breslow_day(x1: Sequence[int], n1: Sequence[int], x2: Sequence[int], n2: Sequence[int],
                tarone: bool = True) -> Homogeneity:
    """Breslow-Day test of homogeneous odds ratios over strata, with Tarone's correction.

    Each stratum's first cell is compared with the value its margins give under the
    Mantel-Haenszel common odds ratio; Tarone's correction subtracts the term that makes the sum
    chi-square when that estimate is not the conditional MLE. Computed with statsmodels'
    ``StratifiedTable.test_equal_odds``.

    Parameters
    ----------
    x1, n1, x2, n2 : sequence of int
        Events and subjects of the first and second group in each stratum (two or more strata).
    tarone : bool
        Apply Tarone's correction (SAS PROC FREQ and R ``DescTools::BreslowDayTest(correct=TRUE)``).

    References
    ----------
    .. [1] Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. I. IARC, 1980.
    .. [2] Tarone RE. On heterogeneity tests based on efficient scores. Biometrika 1985;72:91-95.
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    rows = list(zip(x1, n1, x2, n2, strict=True))
    if len(rows) < 2:
        raise AnalysisError("A test of homogeneity needs two or more strata.")
    for a, m, c, k in rows:
        _check_counts(a, m, "a stratum")
        _check_counts(c, k, "a stratum")
    tables = [np.array([[a, m - a], [c, k - c]], dtype=float) for a, m, c, k in rows]
    if any(t.sum(axis=0).min() == 0 for t in tables):
        raise AnalysisError("A stratum has events in no subject or in every subject: its odds ratio is "
                            "undefined. Merge it with another stratum.")
    st = StratifiedTable(tables)
    test = st.test_equal_odds(adjust=tarone)
    return Homogeneity(float(test.statistic), len(rows) - 1, float(test.pvalue), float(st.oddsratio_pooled),
                       tarone)
