"""Pooling of multiply imputed estimates by Rubin's rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

from respine.errors import AnalysisError, SelectionError


@dataclass(frozen=True)
class PooledEstimate:
    """Rubin's rules applied to one scalar estimand over ``m`` completed data sets.

    Attributes follow van Buuren (2018), section 2.3: ``estimate`` is Q-bar, ``within`` U-bar,
    ``between`` B, ``total`` T = U-bar + (1 + 1/m) B, ``riv`` the relative increase in variance
    r, ``lambda_`` the proportion of the variance due to the missing data, ``fmi`` the fraction
    of missing information and ``df`` the degrees of freedom of the t reference distribution.
    """

    m: int
    estimate: float
    within: float
    between: float
    total: float
    se: float
    riv: float
    lambda_: float
    fmi: float
    df: float
    df_complete: float
    df_method: str
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float = 0.95

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# ====================================================================== Rubin's rules


def rubin_pool(estimates: Sequence[float] | np.ndarray, variances: Sequence[float] | np.ndarray,
               df_complete: float = math.inf, level: float = 0.95, df_method: str = "barnard_rubin",
               null: float = 0.0) -> PooledEstimate:
    """Pool ``m`` complete-data estimates and their variances with Rubin's rules.

    With estimates Q_l and variances U_l (l = 1..m)::

        Q-bar  = mean(Q_l)                                   Rubin (1987) eq. 3.1.2
        U-bar  = mean(U_l)                                   eq. 3.1.3 (within imputations)
        B      = sum((Q_l - Q-bar)^2) / (m - 1)              eq. 3.1.4 (between imputations)
        T      = U-bar + (1 + 1/m) B                         eq. 3.1.5
        r      = (1 + 1/m) B / U-bar                         eq. 3.1.7
        lambda = (1 + 1/m) B / T
        nu_old = (m - 1) / lambda^2 = (m - 1)(1 + 1/r)^2     eq. 3.1.6 (Rubin's df)
        nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)
        nu     = nu_old nu_obs / (nu_old + nu_obs)           Barnard & Rubin (1999)
        fmi    = (r + 2 / (nu + 3)) / (r + 1)                eq. 3.1.10

    ``(Q-bar - null) / sqrt(T)`` is referred to a t distribution with ``nu`` degrees of freedom
    for the two-sided p-value and the CI. ``df_method="rubin"``, or an infinite complete-data
    df ``nu_com`` (large-sample analyses such as a difference in proportions), uses ``nu_old``.
    When B = 0 (nothing was imputed, or every imputation agrees) ``nu_old`` is infinite and
    ``nu`` is its limit ``nu_obs`` (``nu_com`` (nu_com + 1) / (nu_com + 3); infinite when
    ``nu_com`` is). These are the formulas of ``mice::pool.scalar`` (with the current
    ``barnard.rubin``, which no longer floors lambda at 1e-4) and of ``rbmi::rubin_rules``.

    References
    ----------
    .. [1] Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley, 1987, section 3.1.
    .. [2] Barnard J, Rubin DB. Small-sample degrees of freedom with multiple imputation.
       Biometrika 1999;86:948-955.
    .. [3] van Buuren S. Flexible Imputation of Missing Data, 2nd ed. CRC Press, 2018,
       sections 2.3.2-2.3.6 (https://stefvanbuuren.name/fimd/).
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = int(q.size)
    if m < 2 or u.size != m:
        raise AnalysisError(f"Rubin's rules need at least 2 imputations with one estimate and one "
                            f"variance each (got {q.size} estimates and {u.size} variances). "
                            "Ask for more imputations.")
    if np.isnan(q).any() or np.isnan(u).any() or (u < 0).any():
        raise AnalysisError("An imputed data set gave no estimate or a negative variance, so the "
                            "results cannot be pooled. Check that each arm keeps subjects.")
    if df_method not in ("barnard_rubin", "rubin"):
        raise SelectionError(f"Unknown degrees-of-freedom method '{df_method}'. Choose "
                             "'barnard_rubin' or 'rubin'.")
    qbar = float(q.mean())
    ubar = float(u.mean())
    b = float(q.var(ddof=1))
    t = ubar + (1 + 1 / m) * b
    riv = 0.0 if b == 0 else ((1 + 1 / m) * b / ubar if ubar > 0 else math.inf)
    lam = (1 + 1 / m) * b / t if t > 0 else 0.0
    nu_old = (m - 1) / lam**2 if lam > 0 else math.inf
    if df_method == "rubin" or math.isinf(df_complete):
        df_method = "rubin"
        df = nu_old
    else:
        nu_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = nu_obs if math.isinf(nu_old) else nu_old * nu_obs / (nu_old + nu_obs)
    fmi = (riv + 2 / (df + 3)) / (riv + 1) if not math.isinf(riv) else 1.0
    se = math.sqrt(t)
    if se > 0:
        statistic = (qbar - null) / se
        p = float(2 * sps.t.sf(abs(statistic), df))
        half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    else:
        statistic, p, half = math.nan, math.nan, 0.0
    return PooledEstimate(m, qbar, ubar, b, t, se, riv, lam, fmi, float(df), float(df_complete),
                          df_method, statistic, p, qbar - half, qbar + half, level)

