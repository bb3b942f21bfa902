"""Rank-based comparison of two arms: Wilcoxon-Mann-Whitney test and Hodges-Lehmann shift, and
van Elteren's stratified rank test.

Follows R's ``wilcox.test(x, y, conf.int = TRUE)`` (two-sided): an exact test and exact CI when
both samples have fewer than 50 values and there are no ties; otherwise the normal approximation
with tie and continuity corrections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from respine.errors import AnalysisError
from respine.model.results import Contrast

EXACT_LIMIT = 50  # R: exact when both samples have fewer than 50 values (and no ties)
_EPS10 = 10 * np.finfo(float).eps


@lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving each value u = 0..m*n of the Mann-Whitney U statistic.

    The generating function is the Gaussian binomial coefficient
    ``prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)``; exact integer arithmetic.
    """
    coef = [1]
    for i in range(1, m + 1):
        shift = n + i
        grown = coef + [0] * shift
        for t in range(len(grown) - 1, shift - 1, -1):  # multiply by (1 - q^(n+i))
            grown[t] -= grown[t - shift]
        for t in range(i, len(grown)):  # divide by (1 - q^i)
            grown[t] += grown[t - i]
        coef = grown[: len(coef) + n]
    return tuple(coef)


def _pwilcox(q: int, m: int, n: int) -> float:
    """P(U <= q) under the null hypothesis (R's ``pwilcox``)."""
    counts = _wilcox_counts(m, n)
    if q < 0:
        return 0.0
    return sum(counts[: q + 1]) / math.comb(m + n, m)


def _qwilcox(p: float, m: int, n: int) -> int:
    """Smallest q with P(U <= q) >= p, for p <= 0.5 (R's ``qwilcox``, same rounding guard)."""
    counts = _wilcox_counts(m, n)
    total = math.comb(m + n, m)
    target = p - _EPS10
    cum = 0
    for q, c in enumerate(counts):
        cum += c
        if cum / total >= target:
            return q
    return m * n


def _clean(values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    finite: np.ndarray = x[np.isfinite(x)]
    return finite


def _normal_parts(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """U of x (mid-ranks) minus its null mean, and the tie-corrected null SD."""
    nx, ny = x.size, y.size
    r = sps.rankdata(np.concatenate([x, y]))
    dz = float(r[:nx].sum()) - nx * (nx + 1) / 2 - nx * ny / 2
    _, ties = np.unique(r, return_counts=True)
    N = nx + ny
    sigma2 = (nx * ny / 12) * ((N + 1) - float(np.sum(ties**3 - ties)) / (N * (N - 1)))
    return dz, math.sqrt(max(sigma2, 0.0))


def _normal_ci_limit(x: np.ndarray, y: np.ndarray, diffs: np.ndarray, zq: float, correct: bool) -> float:
    """Root in d of the corrected standardised statistic of (x - d, y) minus zq (R's ``wdiff``).

    The statistic is a step function of d that jumps only at pairwise differences, so its root is
    the pairwise difference at which the sign changes; it is found exactly by bisection over the
    sorted distinct differences and the midpoints between them (R's ``uniroot`` approximates the
    same point to 1e-4).
    """
    grid_pts = np.unique(diffs)

    def f(d: float) -> float:
        dz, sigma = _normal_parts(x - d, y)
        corr = 0.5 * np.sign(dz) if correct else 0.0
        return (dz - corr) / sigma - zq

    def at(g: int) -> float:  # even g: a difference; odd g: midpoint between two differences
        j = g // 2
        return float(grid_pts[j]) if g % 2 == 0 else float((grid_pts[j] + grid_pts[j + 1]) / 2)

    last = 2 * (grid_pts.size - 1)
    if f(at(0)) <= 0:
        return at(0)
    if f(at(last)) >= 0:
        return at(last)
    lo, hi = 0, last  # f(lo) > 0 >= f(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if f(at(mid)) > 0:
            lo = mid
        else:
            hi = mid
    return at(hi) if hi % 2 == 0 else at(lo)


def mann_whitney_hodges_lehmann(x: np.ndarray | pd.Series | list[float],
                                y: np.ndarray | pd.Series | list[float], arm: str = "x",
                                reference: str = "y", level: float = 0.95,
                                exact: bool | None = None, correct: bool = True) -> Contrast:
    """Wilcoxon-Mann-Whitney test with the Hodges-Lehmann shift (x - y) and its CI.

    Test statistic: W = U of ``x`` = (sum of the ranks of x in the pooled sample) - nx(nx+1)/2,
    the number of pairs with x_i > y_j plus half the ties (R reports it as ``W``).

    * Exact (default when both samples have fewer than 50 values and no value is tied): the
      two-sided p-value is twice the smaller tail of the permutation distribution of U, and the
      CI is Bauer's (1972): the k-th smallest and k-th largest of the nx*ny pairwise differences,
      k = qwilcox(alpha/2) (at least 1).
    * Otherwise: normal approximation with the tie-corrected variance and a continuity
      correction of 0.5 (``correct``); the CI inverts that same statistic in the shift d, as R does.

    The estimate is the Hodges-Lehmann shift: the median of all pairwise differences x_i - y_j
    (this is R's estimate in the exact case; in the normal-approximation case R instead reports
    the zero of the continuity-corrected statistic, which can differ slightly). No SE is given.
    NaNs are dropped.

    Parameters
    ----------
    x, y : array-like
        Values of the compared arm and of the reference arm.
    arm, reference : str
        Labels for the Contrast.
    level : float
        Confidence level.
    exact : bool or None
        None chooses as R does; True is ignored (with a note) when there are ties.
    correct : bool
        Continuity correction of the normal approximation.

    References
    ----------
    .. [1] Mann HB, Whitney DR. On a test of whether one of two random variables is
       stochastically larger than the other. Ann Math Stat 1947;18:50-60.
    .. [2] Hodges JL, Lehmann EL. Estimates of location based on rank tests. Ann Math Stat
       1963;34:598-611.
    .. [3] Bauer DF. Constructing confidence sets using rank statistics. J Am Stat Assoc
       1972;67:687-690.
    .. [4] Hollander M, Wolfe DA. Nonparametric Statistical Methods. Wiley 1973, pp. 68-75, 78-82.
    .. [5] R Core Team. ``?wilcox.test`` (package stats).
    """
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1 (got {level}); use for "
                            "example 0.95 for a 95% interval.")
    a, b = _clean(x), _clean(y)
    if a.size == 0 or b.size == 0:
        raise AnalysisError(f"A Mann-Whitney comparison needs at least one value in each arm "
                            f"({arm}: {a.size}, {reference}: {b.size}). Widen the population or "
                            "filters, or choose another visit.")
    nx, ny = a.size, b.size
    pooled = np.concatenate([a, b])
    if np.all(pooled == pooled[0]):
        raise AnalysisError("Every value is identical in both arms, so no rank test or shift "
                            "can be computed.")
    ranks = sps.rankdata(pooled)
    w = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    ties = np.unique(pooled).size < pooled.size
    notes: list[str] = []
    use_exact = (nx < EXACT_LIMIT and ny < EXACT_LIMIT) if exact is None else bool(exact)
    if use_exact and ties:
        use_exact = False
        if exact:
            notes.append("Tied values: the exact test cannot be used; normal approximation instead.")
    diffs = np.sort(np.subtract.outer(a, b).ravel())
    estimate = float(np.median(diffs))
    alpha = 1 - level
    if use_exact:
        wi = round(w)
        p_one = 1.0 - _pwilcox(wi - 1, nx, ny) if w > nx * ny / 2 else _pwilcox(wi, nx, ny)
        p = min(1.0, 2 * p_one)
        qu = max(_qwilcox(alpha / 2, nx, ny), 1)
        ql = nx * ny - qu
        lo, hi = float(diffs[qu - 1]), float(diffs[ql])
        achieved = 2 * _pwilcox(qu - 1, nx, ny)
        if achieved - alpha > alpha / 2:
            notes.append(f"With these sample sizes the requested {100 * level:g}% level cannot be "
                         f"reached; the interval's exact confidence level is {100 * (1 - achieved):.1f}%.")
        test = "Wilcoxon-Mann-Whitney (exact)"
    else:
        dz, sigma = _normal_parts(a, b)
        corr = 0.5 * np.sign(dz) if correct else 0.0
        zstat = (dz - corr) / sigma
        p = float(min(1.0, 2 * min(sps.norm.cdf(zstat), sps.norm.sf(zstat))))
        zq = float(sps.norm.ppf(1 - alpha / 2))
        lo = _normal_ci_limit(a, b, diffs, zq, correct)
        hi = _normal_ci_limit(a, b, diffs, -zq, correct)
        test = ("Wilcoxon-Mann-Whitney (normal approximation"
                + (", continuity-corrected)" if correct else ")"))
        if ties:
            notes.append("Tied values: variance corrected for ties.")
    notes = [f"W (Mann-Whitney U of {arm}) = {w:g}; n = {nx} vs {ny}.",
             "Estimate: Hodges-Lehmann shift (median of all pairwise differences).", *notes]
    return Contrast(str(arm), str(reference), "location_shift", estimate, None, lo, hi, p, test,
                    notes=tuple(notes))



@dataclass(frozen=True)
class VanElteren:
    """Van Elteren's stratified rank test of two groups.

    Attributes
    ----------
    z : float
        The standardised statistic; positive when the first group ranks higher.
    p_value : float
        Two-sided, from the normal distribution.
    statistic : float
        The weighted rank sum, sum over strata of W_k / (N_k + 1).
    strata : int
        Strata that entered (those with subjects of both groups).
    dropped : int
        Strata left out because only one group has values there (they carry no comparison).
    """

    z: float
    p_value: float
    statistic: float
    strata: int
    dropped: int = 0

    @property
    def chi_square(self) -> float:
        """z squared: the Cochran-Mantel-Haenszel row-mean-score statistic with modified ridit
        scores (SAS PROC FREQ ``cmh2 scores=modridit``), on 1 df."""
        return self.z * self.z


def van_elteren(values: npt.ArrayLike, groups: npt.ArrayLike, strata: npt.ArrayLike, first: str,
                second: str) -> VanElteren:
    """Van Elteren's test: Wilcoxon rank sums within strata, each weighted by 1 / (N_k + 1).

    Within stratum k, W_k is the sum of the mid-ranks of ``first``'s values among the N_k values
    of both groups; T = sum W_k / (N_k + 1) has null mean sum m_k / 2 and variance
    sum [m_k n_k (N_k + 1) / 12 - m_k n_k sum(t^3 - t) / (12 N_k (N_k - 1))] / (N_k + 1)^2 (the
    permutation variance with ties); z = (T - E) / SD. The weights make each stratum count in
    proportion to its size, which is locally most powerful for a common shift.

    Parameters
    ----------
    values : array_like of float
        The continuous (or ordinal) response; missing values are left out.
    groups : array_like of str
        Each value's group; values of other groups are left out.
    strata : array_like
        Each value's stratum.
    first, second : str
        The two groups compared (``first`` minus ``second`` in the sign of z).

    References
    ----------
    .. [1] van Elteren PH. On the combination of independent two-sample tests of Wilcoxon.
       Bull Int Stat Inst 1960;37:351-361.
    .. [2] Lehmann EL. Nonparametrics: Statistical Methods Based on Ranks. Holden-Day, 1975,
       pp. 132-141.
    """
    y = np.asarray(values, dtype=float)
    g = np.asarray(groups).astype(str)
    s = pd.Series(np.asarray(strata, dtype=object))
    if not (len(y) == len(g) == len(s)):
        raise AnalysisError("Values, groups and strata must be three lists of the same length.")
    keep = np.isfinite(y) & np.isin(g, [first, second]) & s.notna().to_numpy()
    if not keep.any():
        raise AnalysisError(f"No value of group '{first}' or '{second}' with a stratum in this selection.")
    frame = pd.DataFrame({"y": y[keep], "first": g[keep] == first, "s": s[keep].to_numpy()})
    total = mean = var = 0.0
    used = dropped = 0
    for _, block in frame.groupby("s", sort=False):
        m = int(block["first"].sum())
        n = len(block) - m
        if m == 0 or n == 0:
            dropped += 1
            continue
        big_n = m + n
        ranks = sps.rankdata(block["y"].to_numpy())
        _, ties = np.unique(ranks, return_counts=True)
        w_k = float(ranks[block["first"].to_numpy()].sum())
        var_k = m * n * (big_n + 1) / 12 - m * n * float(np.sum(ties**3 - ties)) / (12 * big_n * (big_n - 1))
        total += w_k / (big_n + 1)
        mean += m / 2
        var += var_k / (big_n + 1) ** 2
        used += 1
    if used == 0:
        raise AnalysisError(f"No stratum has values of both '{first}' and '{second}': there is nothing "
                            "to compare. Choose fewer or broader strata.")
    if var <= 0:
        raise AnalysisError("Every value is tied within its stratum: the rank test has no variance.")
    z = (total - mean) / math.sqrt(var)
    return VanElteren(float(z), float(2 * sps.norm.sf(abs(z))), float(total), used, dropped)
