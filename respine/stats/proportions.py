"""Proportions and their comparison: Wilson intervals, Newcombe differences, chi-square and
Fisher tests, and vectorised forms of the Wilson interval and Yates test for imputation grids.
"""

from __future__ import annotations

import math

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

