"""Statistical methods. Every function returns unrounded numbers; :mod:`respine.fmt` formats.

Each method names its reference; ``tests/test_reference.py`` checks each against an
independent implementation or a published worked example.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from respine.errors import AnalysisError

Z975 = float(special.ndtri(0.975))


@dataclass(frozen=True)
class ContinuousSummary:
    """Descriptive statistics of one arm (or group) for a continuous variable."""

    arm: str
    n: int
    mean: float
    sd: float
    se: float
    ci_low: float
    ci_high: float
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class BinarySummary:
    """Responders, rate and Wilson 95% CI of one arm."""

    arm: str
    n: int
    responders: int
    rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Contrast:
    """One between-arm comparison: estimate, SE (where the method has one), 95% CI, p-value."""

    arm: str
    reference: str
    measure: str
    estimate: float
    se: float | None
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    df: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def _clean(values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def summarise_continuous(values: np.ndarray | pd.Series | list[float], arm: str = "",
                         level: float = 0.95) -> ContinuousSummary:
    """n, mean, SD, SE, t-based CI of the mean, median, quartiles, range (NaNs dropped).

    Quartiles use linear interpolation between order statistics (Hyndman & Fan type 7, the
    default of R's ``quantile`` and of NumPy). With n = 1 the SD and CI are NaN; with n = 0
    every statistic is NaN.

    References
    ----------
    .. [1] Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996;50:361-365.
    """
    x = _clean(values)
    n = int(x.size)
    if n == 0:
        nan = math.nan
        return ContinuousSummary(arm, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    half = float(special.stdtrit(n - 1, 0.5 + level / 2)) * se if n > 1 else math.nan
    q1, med, q3 = (float(v) for v in np.percentile(x, [25, 50, 75]))
    return ContinuousSummary(arm, n, mean, sd, se, mean - half, mean + half, med, q1, q3,
                             float(x.min()), float(x.max()))


def welch_t(x: np.ndarray | pd.Series, y: np.ndarray | pd.Series, arm: str = "x",
            reference: str = "y", level: float = 0.95) -> Contrast:
    """Difference in means (x - y) with Welch's unequal-variance t-test and CI.

    Degrees of freedom by the Welch-Satterthwaite equation.

    References
    ----------
    .. [1] Welch BL. The generalization of "Student's" problem when several different population
       variances are involved. Biometrika 1947;34:28-35.
    """
    a, b = _clean(x), _clean(y)
    if a.size < 2 or b.size < 2:
        raise AnalysisError(f"A t-test needs at least 2 subjects with a value in each arm "
                            f"({arm}: {a.size}, {reference}: {b.size}). Widen the population "
                            "or filters, or choose another visit.")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    diff = float(a.mean() - b.mean())
    if se == 0:
        raise AnalysisError("Every value is identical in both arms, so no t-test can be made.")
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = diff / se
    p = float(2 * special.stdtr(df, -abs(t)))
    half = float(special.stdtrit(df, 0.5 + level / 2)) * se
    return Contrast(arm, reference, "mean_difference", diff, se, diff - half, diff + half, p,
                    "Welch t-test", df=float(df))


@dataclass(frozen=True)
class AncovaResult:
    """ANCOVA fit: least-squares means per arm and contrasts against the reference."""

    lsmeans: tuple[dict[str, float | str], ...]
    contrasts: tuple[Contrast, ...]
    n: int
    df_resid: int
    covariates: tuple[str, ...]


def ancova(frame: pd.DataFrame, response: str, arm: str, reference: str,
           covariates: tuple[str, ...] = (), level: float = 0.95,
           arm_order: tuple[str, ...] = (), weights: str = "observed") -> AncovaResult:
    """Analysis of covariance by ordinary least squares.

    Model: ``response ~ arm + covariates`` (categorical covariates as treatment-coded dummies).
    Contrasts follow ``arm_order`` (the study's arm order), then arm names. ``weights="equal"``
    instead weights every level of a categorical covariate equally (the default of R's emmeans
    and of SAS LSMEANS); numeric covariates stay at their means either way. Contrasts between
    arms do not depend on the weighting in this model (no arm-by-covariate interaction).
    Rows with any missing value in the model are dropped. LS means are predictions for each
    arm at the mean of every other column of the design matrix, so categorical covariates are
    weighted by their observed proportions (the "observed margins" weighting).

    References
    ----------
    .. [1] Searle SR, Speed FM, Milliken GA. Population marginal means in the linear model: an
       alternative to least squares means. Am Stat 1980;34:216-221.
    .. [2] EMA. Guideline on adjustment for baseline covariates in clinical trials.
       EMA/CHMP/295050/2013, 2015.
    """
    cols = [response, arm, *covariates]
    missing_cols = [c for c in cols if c not in frame.columns]
    if missing_cols:
        raise AnalysisError(f"Columns {missing_cols} are not in the data; choose other covariates.")
    d = frame[cols].dropna()
    arms = [a for a in pd.unique(d[arm]) if a != reference]
    if reference not in set(d[arm]) or not arms:
        raise AnalysisError(f"ANCOVA needs subjects in the reference arm '{reference}' and in at "
                            "least one other arm after dropping missing values.")
    rank = {a: i for i, a in enumerate(arm_order)}
    arms = sorted(arms, key=lambda a: (rank.get(a, len(rank)), str(a)))  # study order, then by name
    blocks = [np.ones((len(d), 1))]
    names = ["(Intercept)"]
    equal_weight: dict[int, float] = {}  # design column -> 1/k for equal weighting of k levels
    for a in arms:
        blocks.append((d[arm] == a).to_numpy(float)[:, None])
        names.append(f"arm[{a}]")
    for c in covariates:
        if pd.api.types.is_numeric_dtype(d[c]):
            blocks.append(d[c].to_numpy(float)[:, None])
            names.append(c)
        else:
            levels = sorted(pd.unique(d[c].astype(str)))
            for lev in levels[1:]:
                equal_weight[len(names)] = 1.0 / len(levels)
                blocks.append((d[c].astype(str) == lev).to_numpy(float)[:, None])
                names.append(f"{c}[{lev}]")
    X = np.hstack(blocks)
    y = d[response].to_numpy(float)
    n, p = X.shape
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise AnalysisError("The ANCOVA model cannot be estimated: some covariates are constant or "
                            "duplicate each other in this selection. Remove a covariate or widen "
                            "the selection.")
    if n - p < 1:
        raise AnalysisError(f"Too few subjects ({n}) for {p} model terms; remove covariates.")
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    resid = y - X @ beta
    df = n - p
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * xtx_inv
    tq = float(special.stdtrit(df, 0.5 + level / 2))
    if weights not in ("observed", "equal"):
        raise AnalysisError(f"Unknown LS-means weighting '{weights}'; use observed or equal.")
    xbar = X.mean(axis=0)
    if weights == "equal":
        for col, w in equal_weight.items():
            xbar[col] = w
    lsmeans = []
    for a in [reference, *arms]:
        L = xbar.copy()
        L[1 : 1 + len(arms)] = [1.0 if a == b else 0.0 for b in arms]
        est = float(L @ beta)
        se = float(math.sqrt(L @ cov @ L))
        lsmeans.append({"arm": a, "lsmean": est, "se": se, "ci_low": est - tq * se,
                        "ci_high": est + tq * se})
    contrasts = []
    for i, a in enumerate(arms, start=1):
        est, se = float(beta[i]), float(math.sqrt(cov[i, i]))
        p_val = float(2 * special.stdtr(df, -abs(est / se))) if se > 0 else math.nan
        contrasts.append(Contrast(a, reference, "mean_difference", est, se, est - tq * se,
                                  est + tq * se, p_val, "ANCOVA", df=float(df)))
    return AncovaResult(tuple(lsmeans), tuple(contrasts), n, df, tuple(covariates))


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

    return float(fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])[1])


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
