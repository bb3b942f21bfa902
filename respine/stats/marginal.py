"""Covariate-adjusted marginal effects of a binary endpoint by g-computation (standardisation).

A logistic working model ``logit P(y = 1) = arm + covariates`` is fitted; every subject's response
is predicted as if assigned to each arm in turn, and the averages of those predictions are the
marginal (population-average) risks of the arms. Contrasts of the risks (difference, ratio, odds
ratio) are the covariate-adjusted treatment effects the FDA's 2023 guidance on covariate adjustment
describes; their variances come from either

* **Ge et al. (2011)**: the delta method on the model's coefficient covariance (the sandwich
  ``HC0`` or the model-based inverse information), which treats the covariates as fixed (a
  conditional average treatment effect in the sample), or
* **Ye et al. (2023)**: a robust variance of the unconditional (population) effect that stays
  valid when the working model is wrong, optionally reduced for stratified (permuted-block)
  randomisation (Ye, Shao, Yi and Zhao 2023, eq. 18).

These are the methods of the R package beeca (``get_marginal_effect``) and, for Ye's variance, of
RobinCar; :mod:`tests.test_marginal` compares with beeca to 1e-6.

References
----------
.. [1] U.S. Food and Drug Administration. Adjusting for Covariates in Randomized Clinical Trials
   for Drugs and Biological Products. Guidance for Industry, May 2023.
.. [2] Ge M, Durham LK, Meyer RD, Xie W, Thomas N. Covariate-adjusted difference in proportions
   from clinical trials using logistic regression and weighted risk differences. Drug Inf J
   2011;45:481-493.
.. [3] Ye T, Bannick M, Yi Y, Shao J. Robust variance estimation for covariate-adjusted
   unconditional treatment effect in randomized clinical trials with binary outcomes. Stat Theory
   Relat Fields 2023;7:159-163.
.. [4] Ye T, Shao J, Yi Y, Zhao Q. Toward better practice of covariate adjustment in analyzing
   randomized clinical trials. J Am Stat Assoc 2023;118:2370-2382.
.. [5] Magirr D, Wang C, Przybylski A, Baillie M. Estimating the variance of covariate-adjusted
   estimators of average treatment effects in clinical trials with binary endpoints. Pharm Stat
   2025 (beeca's paper; osf.io/9mp58).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from respine.errors import AnalysisError
from respine.model.results import Contrast
from respine.stats.stratified import (
    _as_binary,
    _constant_groups,
    _covariate_blocks,
    _full_rank_or_raise,
    _order_arms,
    _select,
    _separated,
    _z,
)

VarianceMethod = Literal["Ye", "Ge"]
GeType = Literal["HC0", "model-based"]
#: The variance methods by name, with the words a methods sentence uses.
VARIANCE_METHODS: dict[str, str] = {
    "Ye": "Ye et al. (2023) robust variance of the unconditional effect",
    "Ge": "Ge et al. (2011) delta-method variance",
}
#: The contrasts of two marginal risks, as Contrast measures.
MEASURES = ("risk_difference", "relative_risk", "odds_ratio")


@dataclass(frozen=True)
class MarginalRisks:
    """Marginal risks of every arm by g-computation, and their covariance.

    Attributes
    ----------
    arms : tuple of str
        The arms, the reference last.
    reference : str
        The reference arm.
    risks : ndarray
        The average over all subjects of each arm's predicted risk, in ``arms`` order.
    varcov : ndarray
        The covariance matrix of ``risks`` (Ge's or Ye's).
    n : int
        Subjects in the model.
    method, ge_type : str
        The variance method ("Ye", "Ge") and, for Ge's, the coefficient covariance ("HC0",
        "model-based").
    strata : tuple of str
        Ye's stratified-randomisation adjustment's variables (empty: none).
    covariates : tuple of str
        The working model's covariates.
    notes : tuple of str
        What was left out and how the model was built.
    """

    arms: tuple[str, ...]
    reference: str
    risks: np.ndarray
    varcov: np.ndarray
    n: int
    method: str
    ge_type: str
    strata: tuple[str, ...]
    covariates: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def risk(self, arm: str) -> tuple[float, float]:
        """The marginal risk of ``arm`` and its standard error."""
        i = self._index(arm)
        return float(self.risks[i]), float(math.sqrt(max(self.varcov[i, i], 0.0)))

    def _index(self, arm: str) -> int:
        if arm not in self.arms:
            raise AnalysisError(f"Arm '{arm}' is not in the model; arms: {', '.join(self.arms)}.")
        return self.arms.index(arm)

    @property
    def test(self) -> str:
        """The method's name in a results table."""
        what = (
            f"Ge, {self.ge_type}"
            if self.method == "Ge"
            else "Ye" + (f", stratified by {', '.join(self.strata)}" if self.strata else "")
        )
        return f"G-computation ({what})"

    def contrast(self, arm: str, measure: str, level: float = 0.95) -> Contrast:
        """``arm`` against the reference: risk difference, relative risk or odds ratio.

        The SE is the delta method's on the difference, or on the log ratio for the two ratios
        (whose CIs and Wald p-values are computed on the log scale, so they stay positive).
        """
        z = _z(level)
        i, j = self._index(arm), self._index(self.reference)
        p1, p0 = float(self.risks[i]), float(self.risks[j])
        if measure == "risk_difference":
            est, grad = p1 - p0, (1.0, -1.0)
        elif measure == "relative_risk":
            est, grad = p1 / p0, (1 / p1, -1 / p0)  # of log(p1 / p0)
        elif measure == "odds_ratio":
            est, grad = (p1 / (1 - p1)) / (p0 / (1 - p0)), (1 / (p1 * (1 - p1)), -1 / (p0 * (1 - p0)))
        else:
            raise AnalysisError(f"Unknown measure '{measure}'. Choose one of: {', '.join(MEASURES)}.")
        g = np.zeros(len(self.arms))
        g[i], g[j] = grad
        se = float(math.sqrt(max(float(g @ self.varcov @ g), 0.0)))
        notes = (*self.notes, f"{self.n} subjects in the model.")
        if measure == "risk_difference":
            lo, hi, stat = est - z * se, est + z * se, est / se if se > 0 else math.nan
        else:
            log = math.log(est)
            lo, hi, stat = math.exp(log - z * se), math.exp(log + z * se), log / se if se > 0 else math.nan
            notes = ("SE is of the log ratio.", *notes)
        p = float(2 * sps.norm.sf(abs(stat))) if math.isfinite(stat) else math.nan
        return Contrast(arm, self.reference, measure, est, se, lo, hi, p, self.test, notes=notes)

    def contrasts(self, level: float = 0.95) -> tuple[Contrast, ...]:
        """Every treatment arm against the reference, each in :data:`MEASURES` order."""
        return tuple(self.contrast(a, m, level) for a in self.arms[:-1] for m in MEASURES)


def marginal_risks(
    frame: pd.DataFrame,
    response_col: str,
    arm_col: str,
    reference: str,
    covariates: Sequence[str] = (),
    method: VarianceMethod = "Ye",
    ge_type: GeType = "HC0",
    strata: Sequence[str] = (),
    arm_order: Sequence[str] = (),
) -> MarginalRisks:
    """Marginal risks of each arm by g-computation from a logistic working model.

    Model: ``logit P(response = 1) = arm + covariates`` (statsmodels GLM, binomial, logit), with
    categorical covariates as treatment-coded dummies and numeric ones as they are; rows with a
    missing value are left out. Each subject's risk is predicted under each arm; the marginal
    risk of an arm is the mean of its predictions over every subject in the model.

    Variance of the risks:

    * ``method="Ge"``: ``D V D'``, D the Jacobian of the mean predictions with respect to the
      coefficients (row j: mean of p_ij (1 - p_ij) x_ij with every subject set to arm j) and V the
      coefficients' covariance, the sandwich HC0 ``(X'WX)^-1 X' diag(r^2) X (X'WX)^-1`` or the
      model-based ``(X'WX)^-1`` (``ge_type``).
    * ``method="Ye"``: per arm j, ``[var(y_j - p_j(j)) / pi_j + 2 cov(y_j, p_j(j)) - var(p_j)] / n``
      on the diagonal and ``[cov(y_i, p_j(i)) + cov(y_j, p_i(j)) - cov(p_i, p_j)] / n`` off it
      (p_j(i): predictions under arm j of the subjects of arm i; sample (co)variances with n - 1),
      as RobinCar and beeca compute it; with ``strata``, minus the stratified-randomisation term
      ``sum_z (n_z / n) R_z (diag(pi) - pi pi') R_z / n``, R_z the diagonal of the arms' mean
      residuals in stratum z divided by pi_j (permuted blocks within strata).

    Parameters
    ----------
    frame : DataFrame
        One row per subject.
    response_col, arm_col : str
        The 0/1 response and the arm.
    reference : str
        The reference arm.
    covariates : sequence of str
        The working model's covariates (may be empty: then the risks are the observed rates).
    method : {"Ye", "Ge"}
        The variance (see above). Ye's targets the population effect and is robust to a wrong
        working model; Ge's treats the covariates as fixed.
    ge_type : {"HC0", "model-based"}
        The coefficient covariance of Ge's variance.
    strata : sequence of str
        Ye's method only: the variables randomisation was stratified by (each must be a
        covariate of the model).
    arm_order : sequence of str
        The order of the treatment arms in the result.

    Returns
    -------
    MarginalRisks

    Raises
    ------
    AnalysisError
        A response that is not 0/1 or does not vary, too few subjects, a rank-deficient model,
        separation, strata that are not covariates, a fit that does not converge.

    References
    ----------
    .. [1] FDA. Adjusting for Covariates in Randomized Clinical Trials for Drugs and Biological
       Products. Guidance for Industry, 2023.
    .. [2] Ge M, Durham LK, Meyer RD, Xie W, Thomas N. Drug Inf J 2011;45:481-493.
    .. [3] Ye T, Bannick M, Yi Y, Shao J. Stat Theory Relat Fields 2023;7:159-163.
    .. [4] Ye T, Shao J, Yi Y, Zhao Q. J Am Stat Assoc 2023;118:2370-2382 (eq. 18).
    .. [5] Zeileis A. Object-oriented computation of sandwich estimators. J Stat Softw
       2006;16(9) (HC0).
    """
    covariates, strata = tuple(covariates), tuple(strata)
    if method not in VARIANCE_METHODS:
        raise AnalysisError(
            f"Unknown variance method '{method}'. Choose one of: {', '.join(VARIANCE_METHODS)}."
        )
    if ge_type not in ("HC0", "model-based"):
        raise AnalysisError(f"Unknown coefficient covariance '{ge_type}'. Choose HC0 or model-based.")
    if arm_col in covariates or response_col in covariates:
        raise AnalysisError(
            "The arm and the response cannot also be covariates; remove them from the covariate list."
        )
    if strata and method != "Ye":
        raise AnalysisError(
            "Strata adjust Ye's variance only; Ge's variance takes none. Drop the strata "
            "or choose Ye's method."
        )
    outside = [s for s in strata if s not in covariates]
    if outside:
        raise AnalysisError(
            f"Stratification variables {', '.join(outside)} must also be covariates of the "
            "working model (as randomisation strata are adjusted for)."
        )
    all_arms = [str(a) for a in pd.unique(frame[arm_col].dropna())] if arm_col in frame else []
    d, notes = _select(frame, [response_col, arm_col, *covariates], arm_col, all_arms or [str(reference)])
    y = _as_binary(d[response_col], response_col)
    arm = d[arm_col].to_numpy(str)
    treated = _order_arms(list(pd.unique(arm)), str(reference), arm_order)
    if str(reference) not in set(arm) or not treated:
        raise AnalysisError(
            f"G-computation needs subjects in the reference arm '{reference}' and in at "
            "least one other arm after dropping missing values."
        )
    if y.min() == y.max():
        state = "responder" if y[0] == 1 else "non-responder"
        raise AnalysisError(
            f"Every subject is a {state}, so no treatment effect can be estimated. Choose "
            "another visit, endpoint or responder rule."
        )
    arms = (*treated, str(reference))
    cov_blocks, cov_names, cov_notes = _covariate_blocks(d, covariates)
    Z = np.column_stack(cov_blocks) if cov_blocks else np.empty((len(d), 0))

    def design(assigned: np.ndarray) -> np.ndarray:
        dummies = [(assigned == a).astype(float) for a in treated]
        return np.column_stack([np.ones(len(d)), *dummies, Z])

    X = design(arm)
    names = ["(Intercept)", *(f"{arm_col}[{a}]" for a in treated), *cov_names]
    _full_rank_or_raise(X, names, "logistic working model")
    if _separated(X, y):
        groups = _constant_groups(d, y, [arm_col, *covariates])
        where = f" Groups where the response does not vary: {'; '.join(groups)}." if groups else ""
        raise AnalysisError(
            "The logistic working model cannot be estimated: the arm and covariates predict "
            f"the response perfectly in this selection (separation).{where} Remove or merge "
            "covariate levels, or widen the selection."
        )
    beta, xtwx_inv = _fit_logistic(X, y)
    n = len(y)
    # Predictions of every subject under every arm (columns in ``arms`` order).
    designs = [design(np.full(n, a)) for a in arms]
    preds = np.column_stack([_expit(Xa @ beta) for Xa in designs])
    risks = preds.mean(axis=0)
    if method == "Ge":
        if ge_type == "model-based":
            V = xtwx_inv
        else:
            resid = y - _expit(X @ beta)
            meat = (X * (resid**2)[:, None]).T @ X
            V = xtwx_inv @ meat @ xtwx_inv
        D = np.vstack([(p * (1 - p)) @ Xa / n for p, Xa in zip(preds.T, designs, strict=True)])
        varcov = D @ V @ D.T
    else:
        varcov = _ye_varcov(y, arm, arms, preds) / n
        if strata:
            varcov = varcov - _ye_strata_term(d, list(strata), y - _expit(X @ beta), arm, arms) / n
    strata_note = (
        (f"Variance adjusted for randomisation stratified by {', '.join(strata)}.",) if strata else ()
    )
    label = (
        ", ".join(covariates) if covariates else "nothing (no covariates: the risks are the observed rates)"
    )
    return MarginalRisks(
        arms,
        str(reference),
        risks,
        (varcov + varcov.T) / 2,
        n,
        method,
        ge_type if method == "Ge" else "",
        strata,
        covariates,
        (*notes, *cov_notes, f"Working model adjusted for: {label}.", *strata_note),
    )


def _expit(eta: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-eta)))


def _fit_logistic(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The logistic MLE by statsmodels GLM, and (X'WX)^-1 at it (the model-based covariance)."""
    import statsmodels.api as sm  # imported here: heavy, and only the model fits need it

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(maxiter=100, tol=1e-12)
    beta = np.asarray(fit.params, dtype=float)
    if not fit.converged or not np.isfinite(beta).all():
        detail = "; ".join(sorted({str(w.message) for w in caught}))[:200]
        raise AnalysisError(
            "The logistic working model did not converge"
            + (f" ({detail})" if detail else "")
            + ". Remove covariates or widen the selection."
        )
    mu = _expit(X @ beta)
    xtwx = (X * (mu * (1 - mu))[:, None]).T @ X
    return beta, np.linalg.inv(xtwx)


def _ye_varcov(y: np.ndarray, arm: np.ndarray, arms: Sequence[str], preds: np.ndarray) -> np.ndarray:
    """n times Ye's covariance of the marginal risks (RobinCar's variance decomposition)."""
    k = len(arms)
    pi = np.array([np.mean(arm == a) for a in arms])
    out = np.empty((k, k))

    def cov(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.cov(a, b, ddof=1)[0, 1])

    for i, a in enumerate(arms):
        on = arm == a
        yi, pii = y[on], preds[on, i]
        c = cov(yi, pii)
        var_obs_pred = float(np.var(yi, ddof=1)) - 2 * c + float(np.var(preds[:, i], ddof=1))
        out[i, i] = var_obs_pred / pi[i] + 2 * c - float(np.var(preds[:, i], ddof=1))
        for j, b in enumerate(arms):
            if j != i:
                on_j = arm == b
                out[i, j] = (
                    cov(yi, preds[on, j]) + cov(y[on_j], preds[on_j, i]) - cov(preds[:, i], preds[:, j])
                )
    return out


def _ye_strata_term(
    d: pd.DataFrame, strata: list[str], resid: np.ndarray, arm: np.ndarray, arms: Sequence[str]
) -> np.ndarray:
    """n times the reduction of Ye's covariance under permuted-block stratified randomisation."""
    pi = np.array([np.mean(arm == a) for a in arms])
    omega = np.diag(pi) - np.outer(pi, pi)
    stratum = d[strata].astype(str).agg("-".join, axis=1).to_numpy()
    total = np.zeros((len(arms), len(arms)))
    for z in np.unique(stratum):
        in_z = stratum == z
        # An arm absent from a stratum contributes nothing there (beeca's mean() would be NaN).
        rb = np.array(
            [
                resid[in_z & (arm == a)].mean() / p if (in_z & (arm == a)).any() else 0.0
                for a, p in zip(arms, pi, strict=True)
            ]
        )
        total += np.outer(rb, rb) * omega * in_z.mean()
    return total
