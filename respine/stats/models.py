"""Treatment-by-subgroup interaction tests (linear and logistic models)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps


def _design(arm: np.ndarray, level: np.ndarray, levels: list[str], interaction: bool) -> np.ndarray:
    cols = [np.ones(arm.size), arm]
    dummies = [(level == lev).astype(float) for lev in levels[1:]]
    cols += dummies
    if interaction:
        cols += [arm * d for d in dummies]
    return np.column_stack(cols)


def _known_levels(
    y: np.ndarray, arm: np.ndarray, level: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Subjects whose subgroup level is known, and the sorted levels.

    A missing level (NaN, None, empty text) is not a subgroup: those subjects leave the test, as
    they leave the forest plot, instead of making the levels unsortable."""
    known = ~pd.isna(level) & (pd.Series(level).astype(str).str.strip() != "").to_numpy()
    y, arm, level = y[known], arm[known], level[known].astype(str)
    return y, arm, level, sorted(set(level))


def interaction_f_test(y: np.ndarray, arm: np.ndarray, level: np.ndarray) -> float:
    """p-value of the arm-by-subgroup interaction in a linear model (F-test of nested OLS fits).

    References
    ----------
    .. [1] Draper NR, Smith H. Applied Regression Analysis, 3rd ed. Wiley 1998, ch. 6 (extra sum
       of squares principle).
    """
    y, arm, level, levels = _known_levels(y, arm, level)
    if len(levels) < 2:
        return math.nan
    full, reduced = (_design(arm, level, levels, True), _design(arm, level, levels, False))

    def rss(X: np.ndarray) -> tuple[float, int]:
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        r = y - X @ beta
        return float(r @ r), int(np.linalg.matrix_rank(X))

    rss_f, rank_f = rss(full)
    rss_r, rank_r = rss(reduced)
    df_num, df_den = rank_f - rank_r, y.size - rank_f
    if df_num < 1 or df_den < 1 or rss_f <= 0:
        return math.nan
    f = ((rss_r - rss_f) / df_num) / (rss_f / df_den)
    return float(sps.f.sf(f, df_num, df_den))


def interaction_lr_test(y: np.ndarray, arm: np.ndarray, level: np.ndarray) -> float:
    """p-value of the arm-by-subgroup interaction in a logistic model (likelihood-ratio test).

    Returns NaN when a model cannot be fitted (for example, complete separation).

    References
    ----------
    .. [1] Agresti A. Categorical Data Analysis, 3rd ed. Wiley 2013, section 5.2 (likelihood-ratio
       tests for nested logistic models).
    """
    import statsmodels.api as sm  # imported here: heavy, and only this analysis needs it

    y, arm, level, levels = _known_levels(y, arm, level)
    if len(levels) < 2:
        return math.nan
    lls, ranks = [], []
    for interaction in (True, False):
        X = _design(arm, level, levels, interaction)
        # Separation drives coefficients to infinity: statsmodels then warns of overflow; the
        # likelihood is still valid, and a non-finite one gives NaN below.
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
                llf = float(fit.llf)
        except (ValueError, np.linalg.LinAlgError):
            return math.nan
        if not np.isfinite(llf):
            return math.nan
        lls.append(llf)
        ranks.append(np.linalg.matrix_rank(X))
    df = ranks[0] - ranks[1]
    if df < 1:
        return math.nan
    return float(sps.chi2.sf(max(2 * (lls[0] - lls[1]), 0.0), df))

