"""Statistical methods. Every function returns unrounded numbers; :mod:`respine.present.fmt` formats.

Each method names its reference; ``tests/test_reference.py`` checks each against an
independent implementation or a published worked example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from respine.errors import AnalysisError
from respine.model.results import ContinuousSummary, Contrast, DoseResponse

Z975 = float(special.ndtri(0.975))


def _clean(values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    present: np.ndarray = x[~np.isnan(x)]
    return present


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


def complete_rows(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.Series:
    """True for the rows of ``frame`` with a value in every column a linear model reads (the rows
    :func:`ancova` and :func:`dose_trend` fit)."""
    return frame[list(columns)].notna().all(axis=1)


def _model_rows(frame: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    """The complete rows of a model's columns, or an error naming the column that empties them."""
    missing_cols = [c for c in columns if c not in frame.columns]
    if missing_cols:
        raise AnalysisError(f"Columns {missing_cols} are not in the data; choose other covariates.")
    empty = [c for c in columns if len(frame) and frame[c].isna().all()]
    if empty:
        raise AnalysisError(f"The {what} cannot be fitted: {', '.join(empty)} has no value for any "
                            "subject in this selection. Remove that term (a covariate, or the "
                            "baseline of an endpoint measured only after baseline).")
    return frame[columns].dropna()


def _covariate_columns(
    d: pd.DataFrame, covariates: tuple[str, ...]
) -> tuple[list[np.ndarray], list[str], dict[str, int]]:
    """Design columns of the covariates: a numeric one as itself, a categorical one as
    treatment-coded dummies of its sorted levels. Returns the blocks, their names, and for each
    dummy column's name the number of levels of its covariate."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    levels_of: dict[str, int] = {}
    for c in covariates:
        if pd.api.types.is_numeric_dtype(d[c]):
            blocks.append(d[c].to_numpy(float)[:, None])
            names.append(c)
        else:
            levels = sorted(pd.unique(d[c].astype(str)))
            for lev in levels[1:]:
                blocks.append((d[c].astype(str) == lev).to_numpy(float)[:, None])
                names.append(f"{c}[{lev}]")
                levels_of[names[-1]] = len(levels)
    return blocks, names, levels_of


def _ols(X: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-squares coefficients, their covariance matrix and the residual df."""
    n, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise AnalysisError(f"The {what} model cannot be estimated: some covariates are constant or "
                            "duplicate each other in this selection. Remove a covariate or widen "
                            "the selection.")
    if n - p < 1:
        raise AnalysisError(f"Too few subjects ({n}) for {p} model terms; remove covariates.")
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    resid = y - X @ beta
    df = n - p
    sigma2 = float(resid @ resid) / df
    return beta, sigma2 * xtx_inv, df


def dose_trend(frame: pd.DataFrame, response: str, dose: str, covariates: tuple[str, ...] = (),
               level: float = 0.95) -> DoseResponse:
    """Linear trend across doses: the slope of ``dose`` as a continuous term of an ANCOVA.

    Model: ``response ~ dose + covariates`` by ordinary least squares (categorical covariates as
    treatment-coded dummies, as in :func:`ancova`). The p-value is the t-test of the slope, the
    same as the F-test of dropping the dose term (R: ``drop1(lm(CHG ~ TRTPN + SITEGR1 + BASE),
    test = "F")``, the CDISC pilot's dose-response test of Table 14-3.01). Rows with a missing
    value in the model are dropped.

    References
    ----------
    .. [1] Ruberg SJ. Dose response studies. I. Some design considerations. J Biopharm Stat
       1995;5:1-14 (the linear contrast in dose as a test of a dose-response trend).
    .. [2] CDISC SDS/ADaM Pilot Project, statistical analysis plan of study CDISCPILOT01: "test
       for a non-zero coefficient for treatment (dose) as a continuous variable".
    """
    cols = [response, dose, *covariates]
    d = _model_rows(frame, cols, "dose-response ANCOVA")
    doses = pd.to_numeric(d[dose], errors="coerce")
    if doses.nunique() < 3:
        raise AnalysisError("A dose-response trend needs subjects at three or more doses; this "
                            f"selection has {doses.nunique()}.")
    cov_blocks, _, _ = _covariate_columns(d, covariates)
    X = np.hstack([np.ones((len(d), 1)), doses.to_numpy(float)[:, None], *cov_blocks])
    beta, cov, df = _ols(X, d[response].to_numpy(float), "dose-response ANCOVA")
    est, se = float(beta[1]), float(math.sqrt(cov[1, 1]))
    tq = float(special.stdtrit(df, 0.5 + level / 2))
    p_val = float(2 * special.stdtr(df, -abs(est / se))) if se > 0 else math.nan
    return DoseResponse(est, se, est - tq * se, est + tq * se, p_val, float(df), len(d), {},
                        tuple(covariates))


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
    d = _model_rows(frame, cols, "ANCOVA")
    arms = [a for a in pd.unique(d[arm]) if a != reference]
    if reference not in set(d[arm]) or not arms:
        have = ", ".join(f"{a}: {n}" for a, n in d[arm].value_counts().items()) or "none"
        raise AnalysisError(f"ANCOVA needs subjects with complete values in the reference arm "
                            f"'{reference}' and in at least one other arm (subjects per arm: {have}).")
    rank = {a: i for i, a in enumerate(arm_order)}
    arms = sorted(arms, key=lambda a: (rank.get(a, len(rank)), str(a)))  # study order, then by name
    blocks = [np.ones((len(d), 1))]
    names = ["(Intercept)"]
    for a in arms:
        blocks.append((d[arm] == a).to_numpy(float)[:, None])
        names.append(f"arm[{a}]")
    cov_blocks, cov_names, levels_of = _covariate_columns(d, covariates)
    equal_weight: dict[int, float] = {}  # design column -> 1/k for equal weighting of k levels
    for j, name in enumerate(cov_names):
        if name in levels_of:
            equal_weight[len(names) + j] = 1.0 / levels_of[name]
    blocks += cov_blocks
    names += cov_names
    X = np.hstack(blocks)
    y = d[response].to_numpy(float)
    n = X.shape[0]
    beta, cov, df = _ols(X, y, "ANCOVA")
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

