"""Balance of baseline characteristics between arms: standardised mean differences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def smd_continuous(x: np.ndarray, y: np.ndarray) -> float:
    """SMD of two samples: (mean x - mean y) / sqrt((var x + var y) / 2).

    References
    ----------
    .. [1] Austin PC. Balance diagnostics for comparing the distribution of baseline covariates
       between treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size < 2 or y.size < 2:
        return math.nan
    pooled = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    return float((x.mean() - y.mean()) / pooled) if pooled > 0 else math.nan


def smd_categorical(x: pd.Series, y: pd.Series) -> float:
    """Multi-level SMD: sqrt((p1 - p2)' S^-1 (p1 - p2)) over all levels but the first.

    For two levels it equals |p1 - p2| / sqrt((p1(1 - p1) + p2(1 - p2)) / 2). Always >= 0.

    References
    ----------
    .. [1] Yang D, Dalton JE. A unified approach to measuring the effect size between two groups
       using SAS. SAS Global Forum 2012, paper 335-2012.
    """
    x, y = x.dropna().astype(str), y.dropna().astype(str)
    if x.empty or y.empty:
        return math.nan
    levels = sorted(set(x) | set(y))[1:]
    if not levels:
        return 0.0
    p1 = np.array([(x == lev).mean() for lev in levels])
    p2 = np.array([(y == lev).mean() for lev in levels])

    def cov(p: np.ndarray) -> np.ndarray:
        return np.diag(p) - np.outer(p, p)

    s = (cov(p1) + cov(p2)) / 2
    d = p1 - p2
    if not d.any():
        return 0.0
    return float(math.sqrt(max(d @ np.linalg.pinv(s) @ d, 0.0)))

