"""Mixed model for repeated measures (MMRM) fitted by restricted maximum likelihood.

The model is the one most trials pre-specify for a continuous endpoint measured at several
post-baseline visits::

    response ~ arm * visit + baseline * visit + covariates,   visit as a factor,

with the visits of one subject correlated through a within-subject covariance matrix
(unstructured, compound symmetry, AR(1) or Toeplitz) and subjects independent. Subjects with
missing visits contribute the visits they have (missing at random). Results are unrounded;
:mod:`respine.present.fmt` formats.

Implementation notes
--------------------
* Subjects are grouped by their *pattern* of observed visits. Per pattern the sums of
  ``X_i[a]' X_i[b]``, ``X_i[a]' e_i[b]`` and ``e_i[a] e_i[b]`` over its subjects (e = OLS
  residuals, so the fit only estimates a correction to the OLS coefficients) are formed once,
  so every later evaluation of the REML log-likelihood, its gradient and Hessian costs the same
  for 100 or 100,000 subjects (one small inverse of Sigma per pattern).
* The REML log-likelihood is maximised by a trust-region Newton method (``scipy.optimize``,
  ``trust-exact``) with the analytic gradient and observed Hessian, in a parametrisation that
  keeps Sigma positive definite: log-Cholesky (unstructured), log-variance and a bounded
  correlation (compound symmetry, AR(1)), log-variance and partial autocorrelations (Toeplitz).
* Inference uses the covariance parameters of SAS PROC MIXED (the entries of Sigma for UN; the
  subject covariance and residual variance for CS; variance and rho for AR(1); the lag
  covariances for TOEP). The Satterthwaite degrees of freedom do not depend on that choice; the
  Kenward-Roger adjusted covariance does (only for AR(1), the one non-linear structure).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import optimize
from scipy import stats as sps

from respine.errors import AnalysisError

COVARIANCES = {
    "us": "unstructured",
    "cs": "compound symmetry",
    "ar1": "first-order autoregressive (AR(1))",
    "toep": "Toeplitz",
    "csh": "heterogeneous compound symmetry",
    "toeph": "heterogeneous Toeplitz",
    "ar1h": "heterogeneous AR(1)",
    "ad": "ante-dependence",
    "adh": "heterogeneous ante-dependence",
    "sp_exp": "spatial exponential (in visit time)",
}
DF_METHODS = {
    "satterthwaite": "Satterthwaite",
    "kenward-roger": "Kenward-Roger",
    "kenward-roger-linear": "Kenward-Roger (linear)",
    "residual": "residual",
}
#: Covariance of the fixed effects: model-based (the inverse information, or Kenward-Roger's
#: adjustment of it) or empirical (sandwich): CR0, CR2 (bias-reduced) or CR3 (jackknife).
VCOVS = {
    "model": "model-based",
    "empirical": "empirical (sandwich, CR0)",
    "empirical-bias-reduced": "empirical bias-reduced (sandwich, CR2)",
    "empirical-jackknife": "empirical jackknife (sandwich, CR3)",
}
#: The structures parametrised as R package mmrm parametrises them (its covariance vignette):
#: log standard deviations and correlations mapped from the real line. They are fitted and
#: reported in those parameters, so a Kenward-Roger adjustment matches mmrm's.
_MMRM_PARAMETRISED = ("csh", "toeph", "ar1h", "ad", "adh", "sp_exp")
_LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class MmrmResult:
    """MMRM fit: LS means per arm and visit, contrasts against the reference arm, fit details.

    ``lsmeans`` has one row per arm and visit (columns arm, visit, estimate, se, df, ci_low,
    ci_high, n, where n is the number of subjects with a value at that visit); ``contrasts``
    one row per non-reference arm and visit (arm minus reference). ``covariance_matrix`` is the
    estimated within-subject covariance over ``visits`` (in that order). ``reml_loglik`` is the
    full REML log-likelihood (with the -(N - p)/2 log(2 pi) constant, as SAS and R report it)
    and ``aic`` = -2 ``reml_loglik`` + 2 x (number of covariance parameters). ``converged`` is
    True for every returned fit: a fit that does not converge raises
    :class:`~respine.errors.AnalysisError` instead. ``notes`` say which rows, visits and
    subjects were left out. ``covariance_parameters`` are (name, value) pairs named as SAS
    PROC MIXED names them (us, cs, ar1, toep) or in R mmrm's parameters (the other structures;
    log standard deviations and transformed correlations). With a covariance ``group``,
    ``covariance_matrix`` is the first group's and ``group_covariances`` holds (level, matrix)
    for each. ``vcov`` says whether standard errors are model-based or empirical (sandwich);
    ``type3`` has one type III F test per model term (term, num_df, denom_df, f_stat, p_value).
    """

    lsmeans: pd.DataFrame
    contrasts: pd.DataFrame
    covariance: str
    df_method: str
    n_subjects: int
    n_observations: int
    reml_loglik: float
    aic: float
    converged: bool
    covariance_matrix: np.ndarray
    visits: tuple[float, ...]
    covariates: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    baseline: str | None = None
    level: float = 0.95
    n_iterations: int = 0
    covariance_parameters: tuple[tuple[str, float], ...] = ()
    vcov: str = "model"
    group: str | None = None
    type3: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["term", "num_df", "denom_df", "f_stat", "p_value"]))
    group_covariances: tuple[tuple[str, np.ndarray], ...] = ()

    def methods_text(self, endpoint_label: str, population_label: str) -> str:
        """One or two sentences for a statistical methods section."""
        terms = ["treatment arm", "visit", "the arm-by-visit interaction"]
        if self.baseline is not None:
            terms += ["the baseline value", "the baseline-by-visit interaction"]
        terms += list(self.covariates)
        listed = ", ".join(terms[:-1]) + " and " + terms[-1]
        df_text = {
            "satterthwaite": "Satterthwaite's approximation",
            "kenward-roger": "the Kenward-Roger method (which also adjusts the standard errors)",
            "kenward-roger-linear": "the Kenward-Roger method without its second-derivative term "
                                    "(which also adjusts the standard errors)",
            "residual": "the residual degrees of freedom",
        }[self.df_method]
        if self.vcov != "model" and self.df_method == "satterthwaite":
            df_text = "the Bell-McCaffrey approximation"
        cov_name = COVARIANCES[self.covariance]
        per_group = f", one for each {self.group}," if self.group is not None else ""
        se_text = ("" if self.vcov == "model" else
                   f" Standard errors are {VCOVS[self.vcov]}, robust to a misspecified covariance.")
        return (f"{endpoint_label} in the {population_label} population was analysed with a mixed "
                f"model for repeated measures (MMRM) with {listed} as fixed effects and "
                f"{_article(cov_name)} {cov_name} within-subject covariance matrix{per_group} "
                "estimated by restricted maximum likelihood "
                f"(REML), using all available visits of {self.n_subjects} subjects. Degrees of "
                f"freedom were obtained by {df_text}; least-squares means are averaged over the "
                f"covariates at their observed means.{se_text}")


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


# ============================================================================ covariance structures


def _sym_basis(T: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Lower-triangle positions (row-wise) and the matrices dSigma/dsigma_ab of the entries."""
    pos = [(i, j) for i in range(T) for j in range(i + 1)]
    basis = np.zeros((len(pos), T, T))
    for k, (i, j) in enumerate(pos):
        basis[k, i, j] = basis[k, j, i] = 1.0
    return pos, basis


def _levinson(pacf: np.ndarray) -> np.ndarray:
    """Autocorrelations r_1..r_K from partial autocorrelations (Durbin-Levinson recursion)."""
    K = pacf.size
    r = np.zeros(K)
    phi = np.zeros(0)
    for k in range(K):
        pk = pacf[k]
        if k == 0:
            r[0] = pk
        else:
            r[k] = phi @ r[k - 1 :: -1][:k] + pk * (1.0 - phi @ r[:k])
        phi = np.concatenate([phi - pk * phi[::-1], [pk]])
    return r


def _durbin(r: np.ndarray) -> np.ndarray:
    """Partial autocorrelations from autocorrelations r_1..r_K (inverse of :func:`_levinson`)."""
    K = r.size
    pacf = np.zeros(K)
    phi = np.zeros(0)
    for k in range(K):
        if k == 0:
            pk = r[0]
        else:
            denom = 1.0 - phi @ r[:k]
            pk = (r[k] - phi @ r[k - 1 :: -1][:k]) / denom if denom > 0 else np.nan
        pacf[k] = pk
        if not np.isfinite(pk) or abs(pk) >= 1:
            return np.full(K, np.nan)
        phi = np.concatenate([phi - pk * phi[::-1], [pk]])
    return pacf


class _Structure:
    """A covariance structure in two parametrisations.

    ``phi`` (unconstrained, for the optimiser): ``opt_derivs(phi)`` returns Sigma, dSigma/dphi
    (q, T, T) and d2Sigma/dphi2 (q, q, T, T). ``theta`` (as SAS reports them, for inference):
    ``rep_derivs(theta)`` returns the same with d2Sigma None when Sigma is linear in theta.
    """

    def __init__(self, kind: str, T: int):
        self.kind, self.T = kind, T
        if kind == "us":
            self.pos, self.basis = _sym_basis(T)
            self.q = len(self.pos)
            self.names = [f"UN({i + 1},{j + 1})" for i, j in self.pos]
        elif kind == "cs":
            self.q = 2 if T > 1 else 1
            self.names = ["CS (subject covariance)", "Residual variance"] if T > 1 else ["Variance"]
        elif kind == "ar1":
            self.q = 2 if T > 1 else 1
            self.names = ["Variance", "AR(1) rho"] if T > 1 else ["Variance"]
        else:
            self.q = T
            self.names = [f"TOEP({k + 1})" for k in range(T)]
        lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        self.lag = lag
        self.cs_lo = -1.0 / (T - 1) if T > 1 else 0.0

    # ----------------------------------------------------------------- optimiser parametrisation
    def start(self, S: np.ndarray) -> np.ndarray:
        T = self.T
        v = float(np.mean(np.diag(S)))
        if self.kind == "us":
            L = np.linalg.cholesky(S)
            return np.array([math.log(L[i, i]) if i == j else L[i, j] for i, j in self.pos])
        if T == 1:
            return np.array([math.log(v)])
        corr = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        if self.kind == "cs":
            rho = float(np.mean(corr[np.tril_indices(T, -1)]))
            s = (rho - self.cs_lo) / (1 - self.cs_lo)
            s = min(max(s, 0.02), 0.98)
            return np.array([math.log(v), math.log(s / (1 - s))])
        if self.kind == "ar1":
            rho = float(np.mean(np.diag(corr, 1)))
            return np.array([math.log(v), math.atanh(min(max(rho, -0.9), 0.9))])
        r = np.array([np.mean(np.diag(corr, k)) for k in range(1, T)])
        for shrink in (1.0, 0.9, 0.75, 0.5, 0.25, 0.0):
            pacf = _durbin(shrink * r)
            if np.all(np.isfinite(pacf)) and np.all(np.abs(pacf) < 0.95):
                break
        return np.concatenate([[math.log(v)], np.arctanh(pacf)])

    def _toep_sigma(self, phi: np.ndarray) -> np.ndarray:
        r = np.concatenate([[1.0], _levinson(np.tanh(phi[1:]))])
        return math.exp(phi[0]) * r[self.lag]

    def opt_derivs(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        T, q = self.T, self.q
        if self.kind == "us":
            L = np.zeros((T, T))
            dL = np.zeros((q, T, T))
            d2L_diag = np.zeros((q, T, T))
            for k, (i, j) in enumerate(self.pos):
                if i == j:
                    L[i, i] = math.exp(phi[k])
                    dL[k, i, i] = L[i, i]
                    d2L_diag[k, i, i] = L[i, i]
                else:
                    L[i, j] = phi[k]
                    dL[k, i, j] = 1.0
            S = L @ L.T
            dLLt = dL @ L.T
            dS = dLLt + dLLt.transpose(0, 2, 1)
            outer = np.einsum("kac,lbc->klab", dL, dL)
            d2S = outer + outer.transpose(1, 0, 2, 3)
            extra = d2L_diag @ L.T
            idx = np.arange(q)
            d2S[idx, idx] += extra + extra.transpose(0, 2, 1)
            return S, dS, d2S
        if self.kind in ("cs", "ar1"):
            v = math.exp(phi[0])
            if T == 1:
                S = np.array([[v]])
                return S, S[None], S[None, None]
            off = (self.lag > 0).astype(float)
            if self.kind == "cs":
                s = 1.0 / (1.0 + math.exp(-phi[1]))
                rho = self.cs_lo + (1 - self.cs_lo) * s
                d1 = (1 - self.cs_lo) * s * (1 - s)
                d2 = d1 * (1 - 2 * s)
                R = np.eye(T) + rho * off
                dR, d2R = d1 * off, d2 * off
            else:
                rho = math.tanh(phi[1])
                R, Rr, Rrr = _ar1(rho, self.lag)
                dz = 1 - rho * rho
                dR = Rr * dz
                d2R = Rrr * dz * dz + Rr * (-2 * rho * dz)
            S = v * R
            dS = np.stack([S, v * dR])
            d2S = np.stack([np.stack([S, v * dR]), np.stack([v * dR, v * d2R])])
            return S, dS, d2S
        # Toeplitz: Sigma(phi) is cheap, so its derivatives are taken by central differences
        # (they only steer the optimiser; inference uses the exact linear lag parametrisation).
        S = self._toep_sigma(phi)
        h1, h2 = 1e-6, 1e-4
        dS = np.zeros((q, T, T))
        d2S = np.zeros((q, q, T, T))
        eye = np.eye(q)
        for k in range(q):
            dS[k] = (self._toep_sigma(phi + h1 * eye[k]) - self._toep_sigma(phi - h1 * eye[k])) / (2 * h1)
            for m in range(k, q):
                a, b = h2 * eye[k], h2 * eye[m]
                val = (self._toep_sigma(phi + a + b) - self._toep_sigma(phi + a - b)
                       - self._toep_sigma(phi - a + b) + self._toep_sigma(phi - a - b)) / (4 * h2 * h2)
                d2S[k, m] = d2S[m, k] = val
        return S, dS, d2S

    # ---------------------------------------------------------------- reporting parametrisation
    def to_rep(self, S: np.ndarray) -> np.ndarray:
        T = self.T
        if self.kind == "us":
            return np.array([S[i, j] for i, j in self.pos])
        if T == 1:
            return np.array([S[0, 0]])
        if self.kind == "cs":
            return np.array([S[1, 0], S[0, 0] - S[1, 0]])
        if self.kind == "ar1":
            return np.array([S[0, 0], S[1, 0] / S[0, 0]])
        return np.array(S[0])  # a copy of the first row

    def rep_derivs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        T = self.T
        if self.kind == "us":
            return np.einsum("k,kab->ab", theta, self.basis), self.basis, None
        if T == 1:
            return np.array([[theta[0]]]), np.ones((1, 1, 1)), None
        if self.kind == "cs":
            J, eye = np.ones((T, T)), np.eye(T)
            return theta[0] * J + theta[1] * eye, np.stack([J, eye]), None
        if self.kind == "ar1":
            v, rho = theta
            R, Rr, Rrr = _ar1(rho, self.lag)
            dS = np.stack([R, v * Rr])
            d2S = np.stack([np.stack([np.zeros((T, T)), Rr]), np.stack([Rr, v * Rrr])])
            return v * R, dS, d2S
        dS = np.stack([(self.lag == k).astype(float) for k in range(T)])
        return np.einsum("k,kab->ab", theta, dS), dS, None


def _ar1(rho: float, lag: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rho^lag and its first and second derivatives in rho (0^0 = 1)."""
    lagf = lag.astype(float)
    R = np.where(lag == 0, 1.0, rho ** np.maximum(lagf, 1))
    Rr = np.where(lag >= 1, lagf * rho ** np.maximum(lagf - 1, 0), 0.0)
    Rrr = np.where(lag >= 2, lagf * (lagf - 1) * rho ** np.maximum(lagf - 2, 0), 0.0)
    return R, Rr, Rrr


def _to_cor(t: Any) -> Any:
    """mmrm's map from the real line to (-1, 1): t / sqrt(1 + t^2) (works on complex input)."""
    return t / np.sqrt(1.0 + t * t)


def _from_cor(r: np.ndarray) -> np.ndarray:
    return np.asarray(r / np.sqrt(1.0 - r * r), dtype=float)


def _logit(x: float) -> float:
    return math.log(x / (1.0 - x))


class _MmrmStructure:
    """A covariance structure in R package mmrm's own parameters ``theta`` (its covariance vignette).

    * ``csh``, ``toeph``, ``ar1h``, ``adh``: Sigma = D R D with D = diag(exp(theta_1..T)) and the
      correlation parameters mapped by t / sqrt(1 + t^2) (``csh``: by the inverse logit onto
      (-1/(T-1), 1));
    * ``ad``: exp(2 theta_1) R, with R_ij (i > j) the product of the lag-one correlations between
      visits j and i;
    * ``sp_exp``: exp(theta_1) rho^d_ij with rho = inverse logit(theta_2) and d_ij the distance of
      the visit times (note: exp(theta_1) is the variance there, as in mmrm).

    The same parameters serve the optimiser and inference (``opt_derivs`` and ``rep_derivs`` are
    one function). Sigma(theta) is written once, for real or complex theta; its derivatives are
    taken by complex-step differentiation (first derivatives exact to rounding; second
    derivatives a complex step over a central difference, accurate to about 1e-10 relative),
    which keeps each structure one short formula rather than a page of hand-derived
    derivatives.
    """

    _H = 1e-30  # the complex step: no subtraction, so it can be tiny
    _D = 1e-5  # the real step of the mixed second difference (truncation ~ _D^2)

    def __init__(self, kind: str, times: np.ndarray):
        T = times.size
        self.kind, self.T = kind, T
        self.lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        self.dist = np.abs(np.subtract.outer(times, times)).astype(float)
        hetero = kind in ("csh", "toeph", "ar1h", "adh")
        n_sd = T if hetero else 1
        n_cor = {"csh": 1, "toeph": T - 1, "ar1h": 1, "ad": T - 1, "adh": T - 1, "sp_exp": 1}[kind]
        if T == 1:
            n_cor = 0
        self.q = n_sd + n_cor
        if kind == "sp_exp":
            self.names = ["log variance", "logit rho"][: self.q]
        else:
            sd_names = ([f"log SD (visit {i + 1})" for i in range(T)] if hetero else ["log SD"])
            cor = {"csh": ["rho (logit scale)"], "ar1h": ["rho (t/sqrt(1+t^2) scale)"],
                   "toeph": [f"rho lag {k} (t/sqrt(1+t^2) scale)" for k in range(1, T)],
                   "ad": [f"rho {k},{k + 1} (t/sqrt(1+t^2) scale)" for k in range(1, T)],
                   "adh": [f"rho {k},{k + 1} (t/sqrt(1+t^2) scale)" for k in range(1, T)]}
            self.names = sd_names + cor.get(kind, [])[:n_cor]
        self.cs_lo = -1.0 / (T - 1) if T > 1 else 0.0

    def sigma(self, th: np.ndarray) -> np.ndarray:
        T, kind = self.T, self.kind
        if kind == "sp_exp":
            if T == 1:
                one: np.ndarray = np.exp(th[:1])[None, :] * np.ones((1, 1))
                return one
            log_rho = -np.log1p(np.exp(-th[1]))  # log of the inverse logit
            sp: np.ndarray = np.exp(th[0]) * np.exp(self.dist * log_rho)
            return sp
        hetero = kind in ("csh", "toeph", "ar1h", "adh")
        n_sd = T if hetero else 1
        sd = np.exp(th[:n_sd]) * np.ones(T)
        c = th[n_sd:]
        R = np.eye(T, dtype=th.dtype)
        if T > 1:
            if kind == "csh":
                rho = (1 - self.cs_lo) / (1 + np.exp(-c[0])) + self.cs_lo
                R = R + rho * (self.lag > 0)
            elif kind == "ar1h":
                rho = _to_cor(c[0])
                R = np.where(self.lag == 0, 1.0, rho ** np.maximum(self.lag, 1))
            elif kind == "toeph":
                r = np.concatenate([np.ones(1, dtype=th.dtype), _to_cor(c)])
                R = r[self.lag]
            else:  # ad, adh: correlation of visits j < i is the product of rho_j .. rho_(i-1)
                rho = _to_cor(c)
                R = np.ones((T, T), dtype=th.dtype)
                for i in range(T):
                    for j in range(i):
                        R[i, j] = R[j, i] = np.prod(rho[j:i])
        out: np.ndarray = sd[:, None] * R * sd[None, :]
        return out

    def derivs(self, th: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q, T = self.q, self.T
        th = np.asarray(th, dtype=float)
        S = self.sigma(th.astype(complex)).real
        dS = np.zeros((q, T, T))
        d2S = np.zeros((q, q, T, T))
        eye = np.eye(q)
        for k in range(q):
            zk = th + 1j * self._H * eye[k]
            dS[k] = self.sigma(zk).imag / self._H
            for m in range(k, q):
                step = self._D * max(1.0, abs(th[m]))
                val = (self.sigma(zk + step * eye[m]).imag
                       - self.sigma(zk - step * eye[m]).imag) / (2 * self._H * step)
                d2S[k, m] = d2S[m, k] = val
        return S, dS, (d2S + d2S.transpose(0, 1, 3, 2)) / 2

    # the _Structure interface: one parametrisation for both uses
    def opt_derivs(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.derivs(phi)

    def rep_derivs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        return self.derivs(theta)

    def to_rep(self, S: np.ndarray) -> np.ndarray:
        """The parameters of a covariance matrix of this structure (exact for such a matrix)."""
        T, kind = self.T, self.kind
        sd = np.sqrt(np.diag(S))
        R = S / np.outer(sd, sd)
        if kind == "sp_exp":
            if T == 1:
                return np.array([math.log(S[0, 0])])
            rho = float(R[1, 0] ** (1.0 / self.dist[1, 0]))
            return np.array([math.log(S[0, 0]), _logit(rho)])
        hetero = kind in ("csh", "toeph", "ar1h", "adh")
        head = np.log(sd) if hetero else np.array([math.log(sd[0])])
        if T == 1:
            return head
        if kind == "csh":
            s = (R[1, 0] - self.cs_lo) / (1 - self.cs_lo)
            return np.concatenate([head, [_logit(s)]])
        if kind == "ar1h":
            return np.concatenate([head, _from_cor(np.array([R[1, 0]]))])
        if kind == "toeph":
            return np.concatenate([head, _from_cor(R[1:, 0])])
        return np.concatenate([head, _from_cor(np.array([R[k + 1, k] for k in range(T - 1)]))])

    def start(self, S: np.ndarray) -> np.ndarray:
        """Parameters of a matrix of this structure near ``S`` (positive definite)."""
        T, kind = self.T, self.kind
        sd = np.sqrt(np.diag(S))
        if kind in ("ad", "sp_exp"):
            sd = np.full(T, math.sqrt(float(np.mean(np.diag(S)))))
        if T == 1:
            return self.to_rep(np.diag(sd * sd))
        corr = S / np.outer(np.sqrt(np.diag(S)), np.sqrt(np.diag(S)))
        lag1 = np.clip(np.diag(corr, 1), -0.9, 0.9)
        if kind == "csh":
            R = np.full((T, T), min(max(float(np.mean(corr[np.tril_indices(T, -1)])), 0.02), 0.9))
        elif kind == "ar1h":
            R = float(np.mean(lag1)) ** self.lag.astype(float)
        elif kind == "sp_exp":
            d = self.dist
            with np.errstate(divide="ignore", invalid="ignore"):
                per_unit = np.clip(corr, 0.05, 0.95) ** (1.0 / np.where(d > 0, d, 1.0))
            rho = float(np.mean(per_unit[np.tril_indices(T, -1)]))
            R = rho ** d
        elif kind == "toeph":
            r = np.array([np.mean(np.diag(corr, k)) for k in range(1, T)])
            for shrink in (1.0, 0.9, 0.75, 0.5, 0.25, 0.0):
                R = np.concatenate([[1.0], shrink * np.clip(r, -0.9, 0.9)])[self.lag]
                if np.linalg.eigvalsh(R).min() > 1e-3:
                    break
        else:  # ad, adh
            R = np.ones((T, T))
            for i in range(T):
                for j in range(i):
                    R[i, j] = R[j, i] = float(np.prod(lag1[j:i]))
        np.fill_diagonal(R, 1.0)
        return self.to_rep(np.outer(sd, sd) * R)


# ======================================================================================== core


@dataclass
class _Pattern:
    idx: np.ndarray  # visit indices observed (sorted)
    n: int  # subjects with this pattern
    XX: np.ndarray  # (m, m, p, p): sum_i X_i[a]' X_i[b]
    Xe: np.ndarray  # (m, m, p): sum_i X_i[a]' e_i[b]
    ee: np.ndarray  # (m, m): sum_i e_i[a] e_i[b]
    g: int = 0  # covariance group (0 without groups)
    Xs: np.ndarray | None = None  # (n, m, p): the subjects' rows (empirical covariance only)
    es: np.ndarray | None = None  # (n, m): their OLS residuals


class _Singular(Exception):
    pass


def _evaluate(pats: list[_Pattern], S: np.ndarray, N: int, p: int, dS: np.ndarray | None = None,
              d2S: np.ndarray | None = None, hessian: bool = False, kr: bool = False) -> dict[str, Any]:
    """REML log-likelihood at Sigma = S and, on request, its derivatives and KR pieces.

    ``S`` is (T, T), or (G, T, T) with one Sigma per covariance group (pattern ``g``).
    Derivatives are with respect to the parameters whose dSigma (q, T, T), or (G, q, T, T) per
    group, and d2Sigma (q, q, T, T) or (G, q, q, T, T) (None when zero) are given; with groups
    the parameters are group 0's q, then group 1's, ... Notation: W = Sigma_P^-1 for pattern P,
    Phi = (X'V^-1X)^-1, r = residuals, u = V^-1 r, M_j = X'V^-1 V_j V^-1 X.
    """
    if S.ndim == 2:
        S = S[None]
        dS = None if dS is None else dS[None]
        d2S = None if d2S is None else d2S[None]
    XtWX = np.zeros((p, p))
    XtWe = np.zeros(p)
    eWe = 0.0
    logdet = 0.0
    Ws = []
    for pat in pats:
        Sp = S[pat.g][np.ix_(pat.idx, pat.idx)]
        try:
            c = sla.cho_factor(Sp, lower=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise _Singular from exc
        W = sla.cho_solve(c, np.eye(pat.idx.size))
        W = (W + W.T) / 2
        Ws.append(W)
        logdet += pat.n * 2.0 * float(np.sum(np.log(np.diag(c[0]))))
        XtWX += np.tensordot(W, pat.XX, axes=([0, 1], [0, 1]))
        XtWe += np.tensordot(W, pat.Xe, axes=([0, 1], [0, 1]))
        eWe += float(np.sum(W * pat.ee))
    try:
        cx = sla.cho_factor(XtWX, lower=True)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise _Singular from exc
    Phi = sla.cho_solve(cx, np.eye(p))
    Phi = (Phi + Phi.T) / 2
    beta = Phi @ XtWe
    rVr = eWe - float(beta @ XtWe)
    logdet_x = 2.0 * float(np.sum(np.log(np.diag(cx[0]))))
    ll = -0.5 * ((N - p) * _LOG2PI + logdet + logdet_x + rVr)
    out: dict[str, Any] = {"loglik": ll, "beta": beta, "Phi": Phi, "XtWX": XtWX, "W": Ws}
    if dS is None:
        return out
    n_groups, qg, T = dS.shape[0], dS.shape[1], S.shape[1]
    q = n_groups * qg
    G = np.zeros((n_groups, T, T))
    need_more = hessian or kr
    if need_more:
        M = np.zeros((q, p, p))
        h = np.zeros((q, p))
        Ta = np.zeros((q, q))
        Tb = np.zeros((q, q))
        Tu = np.zeros((q, q))
        trPV2 = np.zeros((q, q))
        uV2u = np.zeros((q, q))
        Q = np.zeros((q, q, p, p)) if kr else None
        Rk = np.zeros((q, q, p, p)) if (kr and d2S is not None) else None
    for pat, W in zip(pats, Ws, strict=True):
        ix = np.ix_(pat.idx, pat.idx)
        t = pat.Xe @ beta  # t[a, b] = sum_i (X_i[a] beta) e_i[b]
        R = pat.ee - t - t.T + np.einsum("abpq,p,q->ab", pat.XX, beta, beta)
        K = np.tensordot(pat.XX, Phi, axes=([2, 3], [0, 1]))
        WKW = W @ K @ W
        U = W @ R @ W
        G[pat.g][ix] += 0.5 * (-pat.n * W + WKW + U)
        if not need_more:
            continue
        sl = slice(pat.g * qg, (pat.g + 1) * qg)  # the parameters of this pattern's group
        dSp = dS[pat.g][:, pat.idx][:, :, pat.idx]
        A = W @ dSp  # A_j = W dS_j
        B = A @ W  # B_j = W dS_j W
        Xr = pat.Xe - pat.XX @ beta  # Xr[a, b] = sum_i X_i[a]' r_i[b]
        M[sl] += np.tensordot(B, pat.XX, axes=([1, 2], [0, 1]))
        h[sl] += np.tensordot(B, Xr, axes=([1, 2], [0, 1]))
        Ta[sl, sl] += pat.n * np.einsum("jab,kba->jk", A, A)
        Tb[sl, sl] += np.einsum("jab,kba->jk", A, A @ (W @ K))
        Tu[sl, sl] += np.einsum("jab,kba->jk", dSp, A @ U)
        if d2S is not None:
            d2Sp = d2S[pat.g][:, :, pat.idx][:, :, :, pat.idx]
            trPV2[sl, sl] += (pat.n * np.einsum("ab,jkba->jk", W, d2Sp)
                              - np.einsum("jkab,ba->jk", d2Sp, WKW))
            uV2u[sl, sl] += np.einsum("jkab,ba->jk", d2Sp, U)
        if Q is not None:
            AB = np.einsum("jab,kbc->jkac", A, B)  # W dS_j W dS_k W
            Q[sl, sl] += np.tensordot(AB, pat.XX, axes=([2, 3], [0, 1]))
            if Rk is not None:
                WdW = W @ d2Sp @ W
                Rk[sl, sl] += np.tensordot(WdW, pat.XX, axes=([2, 3], [0, 1]))
    out["grad"] = np.einsum("gab,gjab->gj", G, dS).reshape(q)
    if need_more:
        N_ = M @ Phi
        tMPMP = np.einsum("jab,kba->jk", N_, N_)
        H = 0.5 * (Ta - 2 * Tb + tMPMP) - 0.5 * trPV2 - (Tu - h @ Phi @ h.T) + 0.5 * uV2u
        out["hess"] = (H + H.T) / 2
        out["M"] = M
        if kr:
            out["Q"] = Q
            out["R"] = Rk
    return out


# ================================================================================== data prep


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


@dataclass
class _Prepared:
    d: pd.DataFrame  # analysed rows, sorted by subject and visit
    arms: list[str]  # reference first
    visits: np.ndarray
    notes: list[str]


def _prepare(data: pd.DataFrame, *, response: str, subject: str, arm: str, visit: str,
             baseline: str | None, covariates: tuple[str, ...], reference: str,
             arm_order: tuple[str, ...], extra: tuple[str, ...] = ()) -> _Prepared:
    """Checks, drops (with notes) and arm / visit levels; raises AnalysisError on bad input."""
    base_cols = [baseline] if baseline is not None else []
    needed = list(dict.fromkeys([subject, arm, visit, response, *base_cols, *covariates, *extra]))
    missing_cols = [c for c in needed if c not in data.columns]
    if missing_cols:
        raise AnalysisError(f"Columns {missing_cols} are not in the data; choose other covariates "
                            "or check the endpoint.")
    for c in (arm, visit, subject, *base_cols):
        if c in covariates:
            raise AnalysisError(f"'{c}' is already in the model; remove it from the covariates.")
    d = data[needed].copy()
    if not pd.api.types.is_numeric_dtype(d[visit]):
        raise AnalysisError(f"The visit column '{visit}' must hold visit numbers (e.g. months); "
                            "choose the numeric visit column.")
    notes: list[str] = []
    d = d[d[subject].notna() & d[arm].notna() & d[visit].notna()]
    n_subjects_in = int(d[subject].nunique())
    bad = d[[response, *base_cols, *covariates]].isna().any(axis=1)
    if bad.any():
        notes.append(_count(int(bad.sum()), "row", "rows") + " with a missing response, baseline or "
                     "covariate value were left out.")
        d = d[~bad]
    if baseline is not None:
        for v in sorted(d[visit].unique()):
            if (d.loc[d[visit] == v, response] == 0).all():
                notes.append(f"Visit {v:g} was left out: every {response} there is 0 (it is the "
                             "baseline visit).")
                d = d[d[visit] != v]
    n_left = n_subjects_in - int(d[subject].nunique())
    if n_left:
        notes.append(_count(n_left, "subject", "subjects") + " had no post-baseline value to "
                     "analyse and were left out.")
    if d.empty:
        raise AnalysisError("No observation is left to analyse after dropping missing values; "
                            "widen the population or filters, or choose another endpoint.")
    if d.duplicated([subject, visit]).any():
        dup = d[d.duplicated([subject, visit], keep=False)].iloc[0]
        raise AnalysisError(f"Subject {dup[subject]} has more than one value at visit {dup[visit]:g}; "
                            "each subject may have one value per visit.")
    arms_per_subject = d.groupby(subject)[arm].nunique()
    if (arms_per_subject > 1).any():
        raise AnalysisError(f"Subject {arms_per_subject[arms_per_subject > 1].index[0]} is in more "
                            "than one arm; each subject must belong to one arm.")
    d[arm] = d[arm].astype(str)
    present = list(pd.unique(d[arm]))
    if reference not in present:
        raise AnalysisError(f"The reference arm '{reference}' has no subject with a value to "
                            f"analyse (arms present: {', '.join(present)}). Choose another "
                            "reference arm or widen the selection.")
    rank = {a: i for i, a in enumerate(arm_order)}
    others = sorted((a for a in present if a != reference), key=lambda a: (rank.get(a, len(rank)), a))
    if not others:
        raise AnalysisError("An MMRM comparison needs subjects in at least two arms; widen the "
                            "population or filters.")
    visits = np.array(sorted(float(v) for v in d[visit].unique()))
    counts = d.groupby([arm, visit])[subject].nunique()
    for a in [reference, *others]:
        for v in visits:
            if counts.get((a, v), 0) == 0:
                raise AnalysisError(f"No subject in arm '{a}' has a value at visit {v:g}, so that "
                                    "arm cannot be compared there. Leave that visit out of the "
                                    "analysis or widen the population or filters.")
    for c in covariates:
        if d[c].nunique() < 2:
            raise AnalysisError(f"Covariate '{c}' takes a single value in this selection, so its "
                                "effect cannot be estimated. Remove it from the covariates.")
    d = d.sort_values([subject, visit]).reset_index(drop=True)
    return _Prepared(d, [reference, *others], visits, notes)


def _design_matrix(d: pd.DataFrame, *, arm: str, visit: str, baseline: str | None,
                   covariates: tuple[str, ...], arms: list[str], visits: np.ndarray) -> np.ndarray:
    """Cell means (arm x visit), centred baseline x visit, centred covariates.

    Every column after the cells is centred at its mean over the analysed observations, so the
    LS mean of an arm at a visit (observed-margins weighting) is its cell coefficient, and a
    contrast is a difference of two. Centring is a shear of X, so the fit and the REML
    likelihood are those of the usual treatment-coded model.
    """
    N, T = len(d), visits.size
    vidx = np.searchsorted(visits, d[visit].to_numpy(float))
    aidx = pd.Categorical(d[arm], categories=arms).codes.astype(np.int64)
    cell = np.zeros((N, len(arms) * T))
    cell[np.arange(N), aidx * T + vidx] = 1.0
    blocks = [cell]
    if baseline is not None:
        b = d[baseline].to_numpy(float)
        bv = np.zeros((N, T))
        bv[np.arange(N), vidx] = b - b.mean()
        blocks.append(bv)
    for c in covariates:
        if pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c]):
            cols = [d[c].to_numpy(float)]
        else:  # treatment-coded dummies, first level (sorted) as reference
            lev = d[c].astype(str)
            cols = [(lev == name).to_numpy(float) for name in sorted(pd.unique(lev))[1:]]
        blocks += [(x - x.mean())[:, None] for x in cols]
    return np.hstack(blocks)


def _patterns(X: np.ndarray, e: np.ndarray, subj_codes: np.ndarray, vidx: np.ndarray,
              groups: np.ndarray | None = None, keep_rows: bool = False) -> list[_Pattern]:
    """Group subjects by their covariance group and set of observed visits; per group, the sums
    used by the fit (and, with ``keep_rows``, the subjects' rows, for the empirical covariance)."""
    N, p = X.shape
    mask = np.zeros(int(subj_codes.max()) + 1, dtype=np.int64)
    np.bitwise_or.at(mask, subj_codes, np.left_shift(np.int64(1), vidx.astype(np.int64)))
    row_mask = mask[subj_codes]
    gcode = np.zeros(N, dtype=np.int64) if groups is None else groups.astype(np.int64)
    key = row_mask * (int(gcode.max()) + 1) + gcode
    order = np.lexsort((vidx, subj_codes, key))
    starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    pats = []
    for s0, s1 in zip(starts, np.r_[starts[1:], N], strict=True):
        rows = order[s0:s1]
        m = bin(int(row_mask[rows[0]])).count("1")
        idx = vidx[rows[:m]]
        n_p = rows.size // m
        Xp = X[rows].reshape(n_p, m * p)
        Ep = e[rows].reshape(n_p, m)
        XX = (Xp.T @ Xp).reshape(m, p, m, p).transpose(0, 2, 1, 3)
        Xe = (Xp.T @ Ep).reshape(m, p, m).transpose(0, 2, 1)
        pats.append(_Pattern(idx, n_p, np.ascontiguousarray(XX), np.ascontiguousarray(Xe), Ep.T @ Ep,
                             g=int(gcode[rows[0]]), Xs=Xp.reshape(n_p, m, p) if keep_rows else None,
                             es=Ep if keep_rows else None))
    return pats


def _start_covariance(pats: list[_Pattern], T: int, N: int, p: int) -> np.ndarray:
    """Pairwise-available covariance of the OLS residuals, made positive definite."""
    S0 = np.zeros((T, T))
    npair = np.zeros((T, T))
    for pat in pats:
        S0[np.ix_(pat.idx, pat.idx)] += pat.ee
        npair[np.ix_(pat.idx, pat.idx)] += pat.n
    S0 = np.where(npair > 0, S0 / np.maximum(npair, 1), 0.0) * N / max(N - p, 1)
    if np.any(np.diag(S0) <= 0):
        raise AnalysisError("The response does not vary at some visit after adjusting for the model "
                            "terms, so no covariance can be estimated. Check the endpoint and "
                            "visits.")
    evals, evecs = np.linalg.eigh(S0)
    start: np.ndarray = (evecs * np.maximum(evals, 1e-3 * float(np.mean(np.diag(S0))))) @ evecs.T
    return start


class _Grouped:
    """One covariance structure per group (mmrm's ``us(AVISIT | ARMCD / USUBJID)``): the
    parameters are group 0's, then group 1's, ...; Sigma and its derivatives are stacked by
    group ((G, T, T), (G, q, T, T), (G, q, q, T, T)). Without groups G = 1."""

    def __init__(self, kind: str, times: np.ndarray, labels: tuple[str, ...], group_name: str = "group"):
        T = times.size
        self.kind, self.T, self.labels, self.group_name = kind, T, labels, group_name
        self.parts: list[_Structure | _MmrmStructure] = [
            _MmrmStructure(kind, times) if kind in _MMRM_PARAMETRISED else _Structure(kind, T)
            for _ in labels]
        self.qg = self.parts[0].q
        self.q = self.qg * len(labels)
        one = self.parts[0].names
        self.names = (list(one) if len(labels) == 1
                      else [f"{n} [{g}]" for g in labels for n in one])

    def _split(self, v: np.ndarray) -> list[np.ndarray]:
        return [v[k * self.qg:(k + 1) * self.qg] for k in range(len(self.labels))]

    def start(self, S: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([st.start(Sg) for st, Sg in zip(self.parts, S, strict=True)])

    def opt_derivs(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out = [st.opt_derivs(v) for st, v in zip(self.parts, self._split(phi), strict=True)]
        return (np.stack([o[0] for o in out]), np.stack([o[1] for o in out]),
                np.stack([o[2] for o in out]))

    def to_rep(self, S: np.ndarray) -> np.ndarray:
        return np.concatenate([st.to_rep(Sg) for st, Sg in zip(self.parts, S, strict=True)])

    def rep_derivs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        out = [st.rep_derivs(v) for st, v in zip(self.parts, self._split(theta), strict=True)]
        d2 = None if out[0][2] is None else np.stack([o[2] for o in out])  # type: ignore[misc]
        return np.stack([o[0] for o in out]), np.stack([o[1] for o in out]), d2


def _maximise_reml(pats: list[_Pattern], struct: _Grouped, N: int, p: int,
                   max_iter: int) -> tuple[np.ndarray, int]:
    """Trust-region Newton on -REML / N in the structure's unconstrained parameters."""
    name = COVARIANCES[struct.kind]
    by_arm = f" (one per {struct.group_name})" if len(struct.labels) > 1 else ""
    cache: dict[str, Any] = {}

    def parts(phi: np.ndarray) -> dict[str, Any] | None:
        key = phi.tobytes()
        if cache.get("key") != key:
            try:
                S, dS, d2S = struct.opt_derivs(phi)
                res: dict[str, Any] | None = _evaluate(pats, S, N, p, dS, d2S, hessian=True)
            except (_Singular, FloatingPointError, OverflowError, ValueError):
                res = None
            if res is not None and not all(np.all(np.isfinite(res[k])) for k in ("grad", "hess")):
                res = None
            cache.update(key=key, res=res)
        cached: dict[str, Any] | None = cache["res"]
        return cached

    def fun(phi: np.ndarray) -> float:
        r = parts(phi)
        return np.inf if r is None or not np.isfinite(r["loglik"]) else -r["loglik"] / N

    def jac(phi: np.ndarray) -> np.ndarray:
        r = parts(phi)
        return np.zeros_like(phi) if r is None else -r["grad"] / N

    def hess(phi: np.ndarray) -> np.ndarray:
        r = parts(phi)
        return np.eye(phi.size) if r is None else -r["hess"] / N

    starts = []
    for g in range(len(struct.labels)):
        mine = [pt for pt in pats if pt.g == g]
        n_g = sum(pt.n * pt.idx.size for pt in mine)
        starts.append(_start_covariance(mine, struct.T, n_g, min(p, max(n_g - 1, 0))))
    with np.errstate(all="ignore"):
        phi0 = struct.start(starts)
    if not np.all(np.isfinite(phi0)) or parts(phi0) is None:
        raise AnalysisError("The MMRM cannot be started from these data (the design or the initial "
                            f"{name} covariance{by_arm} is singular). Try a simpler covariance "
                            "structure such as compound symmetry.")
    singular = (f"The {name} covariance matrix{by_arm} cannot be estimated from these data: the fit "
                "drives it towards a singular matrix (too few subjects with values at several visits "
                "for this many covariance parameters). Use a simpler covariance structure (compound "
                "symmetry or AR(1)) or widen the selection.")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            opt = optimize.minimize(fun, phi0, jac=jac, hess=hess, method="trust-exact",
                                    options={"maxiter": int(max_iter), "gtol": 1e-9})
        except (ValueError, np.linalg.LinAlgError) as exc:
            # the trust-region step overflowed: the likelihood runs off to a boundary of the
            # parameter space (a variance to zero or a correlation to +-1)
            raise AnalysisError(singular) from exc
    phi = opt.x
    # trust-exact may stop on "failure to predict improvement" at a point that is already
    # optimal to rounding; accept it when the gradient is negligible.
    if parts(phi) is not None and (bool(opt.success) or float(np.max(np.abs(jac(phi)))) < 1e-6):
        return phi, int(opt.get("nit", 0))
    with np.errstate(all="ignore"):
        S_end = struct.opt_derivs(phi)[0]
    ev_end = np.linalg.eigvalsh(S_end) if np.all(np.isfinite(S_end)) else np.array([0.0, 1.0])
    if ev_end.min() <= 1e-8 * ev_end.max():
        raise AnalysisError(singular)
    raise AnalysisError(f"The MMRM with {_article(name)} {name} covariance{by_arm} did not converge "
                        f"within {max_iter} iteration{'s' if max_iter != 1 else ''}. Try a simpler "
                        "covariance structure (compound symmetry or AR(1)), fewer covariates, or "
                        "fewer visits.")


def _kenward_roger_covariance(ev: dict[str, Any], W: np.ndarray, linear: bool = False) -> np.ndarray:
    """Phi_A = Phi + 2 Phi {sum_jk W_jk (Q_jk - P_j Phi P_k - R_jk / 4)} Phi (KR 1997, eq. 6).

    ``linear`` leaves out the second-derivative term R (mmrm's ``"Kenward-Roger-Linear"``); the
    rest of the adjustment does not depend on the parametrisation of Sigma."""
    Phi, P = ev["Phi"], -ev["M"]
    WP = np.tensordot(W, P, axes=([1], [0]))  # sum_k W_jk P_k
    inner = np.tensordot(W, ev["Q"], axes=([0, 1], [0, 1])) - np.einsum("jap,jpb->ab", P @ Phi, WP)
    if ev["R"] is not None and not linear:
        inner -= 0.25 * np.tensordot(W, ev["R"], axes=([0, 1], [0, 1]))
    Phi_A = Phi + 2 * Phi @ inner @ Phi
    symmetric: np.ndarray = (Phi_A + Phi_A.T) / 2
    return symmetric


class _Empirical:
    """The empirical (sandwich) covariance of the fixed effects and its degrees of freedom.

    Per subject i with whitened design A_i = L_i' X_i (L_i L_i' = Sigma_i^-1) and residuals r_i:
    z_i = A_i' a_i L_i' r_i, cov = Phi (sum z_i z_i') Phi, where a_i is I (CR0),
    (I - H_ii)^-1/2 (CR2, bias-reduced) or (I - H_ii)^-1 (CR3, jackknife) with
    H_ii = A_i Phi A_i', as R package mmrm computes them (``src/empirical.cpp``).

    The degrees of freedom of a contrast c are Bell and McCaffrey's tr(G)^2 / tr(G^2) with
    G = U'U, U's columns (I - H)_{., i} a_i A_i Phi c (mmrm's ``h_df_1d_sat_empirical``). mmrm
    forms the (observations x observations) matrix I - H; here G is reduced to per-subject sums,
    using that I - H is a symmetric idempotent matrix: G_ij = delta_ij |v_i|^2 - w_i' Phi w_j with
    v_i = a_i A_i Phi c and w_i = A_i' v_i, so the cost grows linearly with the subjects.
    """

    def __init__(self, pats: list[_Pattern], Ws: list[np.ndarray], beta_corr: np.ndarray,
                 Phi: np.ndarray, kind: str):
        p = Phi.shape[0]
        meat = np.zeros((p, p))
        self.A: list[np.ndarray] = []
        self.a: list[np.ndarray | None] = []
        for pat, W in zip(pats, Ws, strict=True):
            assert pat.Xs is not None and pat.es is not None
            L = np.linalg.cholesky(W)
            A = np.einsum("ba,nbp->nap", L, pat.Xs)  # L' X_i
            r = pat.es - pat.Xs @ beta_corr
            wr = r @ L  # (L' r_i)' per subject
            if kind == "empirical":
                a = None
                z = np.einsum("nap,na->np", A, wr)
            else:
                m = pat.idx.size
                H = np.einsum("nap,pq,nbq->nab", A, Phi, A)
                lam, vec = np.linalg.eigh(np.eye(m) - H)
                if kind == "empirical-jackknife":
                    f = 1.0 / lam
                else:  # the pseudo-inverse square root, with mmrm's (Eigen's) tolerance
                    tol = np.finfo(float).eps * m * np.abs(lam).max(axis=1, keepdims=True)
                    f = np.where(lam > tol, 1.0 / np.sqrt(np.where(lam > tol, lam, 1.0)), 0.0)
                a = np.einsum("nak,nk,nbk->nab", vec, f, vec)
                z = np.einsum("nap,nab,nb->np", A, a, wr)
            meat += z.T @ z
            self.A.append(A)
            self.a.append(a)
        self.Phi = Phi
        cov = Phi @ meat @ Phi
        self.cov: np.ndarray = (cov + cov.T) / 2

    def df(self, C: np.ndarray) -> np.ndarray:
        """Degrees of freedom of each row of the contrast matrix C (k, p)."""
        PhiC = self.Phi @ C.T  # (p, k)
        k = C.shape[0]
        tr_d = np.zeros(k)
        tr_wpw = np.zeros(k)
        sum_v4 = np.zeros(k)
        cross = np.zeros(k)
        Sw = np.zeros((k, PhiC.shape[0], PhiC.shape[0]))
        for A, a in zip(self.A, self.a, strict=True):
            v = A @ PhiC  # (n, m, k)
            if a is not None:
                v = a @ v
            w = np.einsum("nap,nak->nkp", A, v)  # A_i' v_i
            vv = np.einsum("nak,nak->nk", v, v)
            wpw = np.einsum("nkp,pq,nkq->nk", w, self.Phi, w)
            tr_d += vv.sum(axis=0)
            tr_wpw += wpw.sum(axis=0)
            sum_v4 += (vv * vv).sum(axis=0)
            cross += (vv * wpw).sum(axis=0)
            Sw += np.einsum("nkp,nkq->kpq", w, w)
        PS = self.Phi[None] @ Sw
        frob = np.einsum("kab,kba->k", PS, PS)
        trace = tr_d - tr_wpw
        sq = sum_v4 - 2 * cross + frob
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = np.where(sq > 0, trace**2 / sq, np.inf)
        return out


def _sum_coded(d: pd.DataFrame, *, arm: str, visit: str, baseline: str | None,
               covariates: tuple[str, ...], arms: list[str], visits: np.ndarray,
               ) -> tuple[np.ndarray, list[tuple[str, slice]]]:
    """The model's design matrix as R builds it with sum-to-zero contrasts for every factor
    (``contr.sum``), numeric terms uncentred, and the columns of each term.

    Type III hypotheses are "this term's coefficients are zero" in this coding (mmrm's
    ``h_type3_contrasts``), mapped to the fitted coding by least squares.
    """
    N = len(d)

    def contr_sum(codes: np.ndarray, k: int) -> np.ndarray:
        out = np.zeros((N, k - 1))
        for j in range(k - 1):
            out[:, j] = (codes == j).astype(float) - (codes == k - 1).astype(float)
        return out

    A = contr_sum(pd.Categorical(d[arm], categories=arms).codes, len(arms))
    V = contr_sum(np.searchsorted(visits, d[visit].to_numpy(float)), visits.size)
    blocks: list[tuple[str, np.ndarray]] = [("(Intercept)", np.ones((N, 1))), (arm, A), (visit, V)]
    if baseline is not None:
        blocks.append((baseline, d[baseline].to_numpy(float)[:, None]))
    for c in covariates:
        if pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c]):
            blocks.append((c, d[c].to_numpy(float)[:, None]))
        else:
            lev = d[c].astype(str)
            names = sorted(pd.unique(lev))
            blocks.append((c, contr_sum(pd.Categorical(lev, categories=names).codes, len(names))))
    blocks.append((f"{arm}:{visit}", np.einsum("na,nv->nav", A, V).reshape(N, -1)))
    if baseline is not None:
        blocks.append((f"{visit}:{baseline}", V * d[baseline].to_numpy(float)[:, None]))
    cols, at = [], 0
    for name, block in blocks:
        cols.append((name, slice(at, at + block.shape[1])))
        at += block.shape[1]
    return np.hstack([b for _, b in blocks]), cols


def _kr_df(L: np.ndarray, Phi: np.ndarray, W: np.ndarray, M: np.ndarray) -> tuple[float, float]:
    """Kenward-Roger denominator df m and F scale lambda of the hypothesis L beta = 0
    (KR 1997, section 4; mmrm's ``h_kr_df``). P_j = -M_j; its sign cancels."""
    nl = L.shape[0]
    Theta = L.T @ np.linalg.solve(L @ Phi @ L.T, L)
    TPPP = np.einsum("ab,jbc,cd->jad", Theta @ Phi, M, Phi)  # Theta Phi P_j Phi
    tr = np.einsum("jaa->j", TPPP)
    a1 = float(tr @ W @ tr)
    a2 = float(np.einsum("jk,jab,kba->", W, TPPP, TPPP))
    b = (a1 + 6 * a2) / (2 * nl)
    e_star = 1 / (1 - a2 / nl)
    g = ((nl + 1) * a1 - (nl + 4) * a2) / ((nl + 2) * a2)
    denom = 3 * nl + 2 - 2 * g
    c1, c2, c3 = g / denom, (nl - g) / denom, (nl + 2 - g) / denom
    v_star = 2 / nl * (1 + c1 * b) / (1 - c2 * b) ** 2 / (1 - c3 * b)
    rho = v_star / (2 * e_star**2)
    m = 4 + (nl + 2) / (nl * rho - 1)
    return m, m / (e_star * (m - 2))


def _md_denom_df(dfs: np.ndarray) -> float:
    """One denominator df from the t-statistics' df of an F test (mmrm's ``h_md_denom_df``)."""
    if dfs.size == 1:
        return float(dfs[0])
    if np.all(np.abs(np.diff(dfs)) < math.sqrt(np.finfo(float).eps)):
        return float(np.mean(dfs))
    if np.any(dfs <= 2):
        return 2.0
    e = float(np.sum(dfs / (dfs - 2)))
    return 2 * e / (e - dfs.size)


def fit_mmrm(data: pd.DataFrame, *, response: str = "chg", subject: str = "subject_id",
             arm: str = "arm", visit: str = "visit_month", baseline: str | None = "base",
             covariates: tuple[str, ...] = (), reference: str, covariance: str = "us",
             df_method: str = "satterthwaite", level: float = 0.95, max_iter: int = 200,
             arm_order: tuple[str, ...] = (), group: str | None = None,
             vcov: str = "model") -> MmrmResult:
    """Fit an MMRM by REML and return LS means and contrasts against ``reference`` per visit.

    Model: ``response ~ arm * visit + baseline * visit + covariates`` with visit as a factor,
    categorical covariates (text columns) as treatment-coded dummies and numeric covariates as
    linear terms. Within-subject covariance over the visits: ``"us"`` (unstructured,
    log-Cholesky parametrised), ``"cs"`` (compound symmetry), ``"ar1"`` (first-order
    autoregressive on the visit order), ``"toep"`` (Toeplitz), their heterogeneous forms
    ``"csh"``, ``"ar1h"``, ``"toeph"`` (a variance per visit), ``"ad"`` / ``"adh"``
    (first-order ante-dependence, homogeneous or heterogeneous) or ``"sp_exp"`` (spatial
    exponential, rho^|t_i - t_j| in the visit *times* ``visit``, e.g. months, so unequally spaced
    visits are correlated by their distance). ``group`` (a subject-level column, typically the
    arm) fits a separate covariance matrix of that structure for each of its levels. Rows with
    a missing response, baseline or covariate are dropped; a visit at which every response is
    exactly 0 (the baseline visit of a change from baseline) is dropped; each drop is noted.
    Subjects with missing visits contribute the visits they have (missing at random).

    LS means are the model's predictions for each arm and visit with every covariate (and the
    baseline) at its mean over the analysed observations, so categorical covariates are weighted
    by their observed proportions ("observed margins"). Contrasts are each non-reference arm
    minus the reference at each visit, with two-sided t-tests. Degrees of freedom:
    ``"satterthwaite"`` (Satterthwaite's approximation with the inverse observed REML
    information of the covariance parameters), ``"kenward-roger"`` (Kenward-Roger 1997 bias-
    adjusted covariance of the fixed effects, and the Kenward-Roger degrees of freedom, which for
    a single contrast equal Satterthwaite's computed from the unadjusted covariance),
    ``"kenward-roger-linear"`` (the same adjustment without its second-derivative term, R mmrm's
    ``"Kenward-Roger-Linear"``) or ``"residual"`` (N - rank(X)). The Kenward-Roger adjustment
    depends on how Sigma is parametrised: us, cs, toep use SAS's linear parameters (so both
    variants agree), ar1 SAS's (variance, rho), the other structures R mmrm's.

    ``vcov`` is the covariance of the fixed effects: ``"model"`` (model-based) or the empirical
    (sandwich) estimators ``"empirical"`` (CR0), ``"empirical-bias-reduced"`` (CR2, Bell and
    McCaffrey) or ``"empirical-jackknife"`` (CR3), as R mmrm's ``vcov`` of the same names; with
    them the degrees of freedom are Bell and McCaffrey's (``df_method="satterthwaite"``) or
    residual.

    ``type3`` of the result holds a type III F test of each model term (mmrm's
    ``Anova(fit, type = "III")``): the hypothesis that the term's coefficients are zero when
    every factor is sum-to-zero coded, with the chosen degrees of freedom (Satterthwaite's for
    F tests per the eigenvectors of the contrast's covariance; Kenward-Roger's scaled F).

    Raises :class:`~respine.errors.AnalysisError` when an arm has no value at a visit, the
    design is singular, the covariance parameters cannot be estimated, or the optimiser does not
    converge within ``max_iter`` iterations (the message names the structure).

    References
    ----------
    .. [1] Mallinckrodt CH, Lane PW, Schnell D, Peng Y, Mancuso JP. Recommendations for the
       primary analysis of continuous endpoints in longitudinal clinical trials. Drug Inf J
       2008;42:303-319.
    .. [2] Harville DA. Maximum likelihood approaches to variance component estimation and to
       related problems. J Am Stat Assoc 1977;72:320-338 (REML likelihood and its derivatives).
    .. [3] Satterthwaite FE. An approximate distribution of estimates of variance components.
       Biometrics Bull 1946;2:110-114; Giesbrecht FG, Burns JC. Two-stage analysis based on a
       mixed model. Biometrics 1985;41:477-486.
    .. [4] Kenward MG, Roger JH. Small sample inference for fixed effects from restricted
       maximum likelihood. Biometrics 1997;53:983-997.
    .. [5] Pinheiro JC, Bates DM. Unconstrained parametrizations for variance-covariance
       matrices. Stat Comput 1996;6:289-296 (log-Cholesky).
    .. [6] Searle SR, Speed FM, Milliken GA. Population marginal means in the linear model: an
       alternative to least squares means. Am Stat 1980;34:216-221.
    .. [7] Sabanés Bové D, Dedic J, Kelkhoff D, et al. mmrm: mixed models for repeated
       measures. R package version 0.3.18, https://openpharma.github.io/mmrm/ (covariance
       structures and their parameters; empirical covariance; type III tests).
    .. [8] Liang KY, Zeger SL. Longitudinal data analysis using generalized linear models.
       Biometrika 1986;73:13-22 (CR0); Bell RM, McCaffrey DF. Bias reduction in standard errors
       for linear regression with multi-stage samples. Surv Methodol 2002;28:169-181 (CR2,
       CR3 and the degrees of freedom); Pustejovsky JE, Tipton E. Small-sample methods for
       cluster-robust variance estimation and hypothesis testing in fixed effects models. J Bus
       Econ Stat 2018;36:672-683.
    .. [9] Núñez-Antón V, Zimmerman DL. Modeling nonstationary longitudinal data. Biometrics
       2000;56:699-705 (ante-dependence); Wolfinger RD. Covariance structure selection in
       general mixed models. Commun Stat Simul Comput 1993;22:1079-1106.
    """
    if covariance not in COVARIANCES:
        raise AnalysisError(f"Unknown covariance structure '{covariance}'. Choose one of: "
                            + ", ".join(f"{k} ({v})" for k, v in COVARIANCES.items()) + ".")
    if df_method not in DF_METHODS:
        raise AnalysisError(f"Unknown degrees-of-freedom method '{df_method}'. Choose one of: "
                            + ", ".join(DF_METHODS) + ".")
    if vcov not in VCOVS:
        raise AnalysisError(f"Unknown covariance of the fixed effects '{vcov}'. Choose one of: "
                            + ", ".join(VCOVS) + ".")
    if vcov != "model" and df_method.startswith("kenward-roger"):
        raise AnalysisError("Kenward-Roger degrees of freedom adjust the model-based standard "
                            "errors; with empirical (sandwich) standard errors choose Satterthwaite "
                            "(Bell-McCaffrey) or residual degrees of freedom.")
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1 (got {level}); "
                            "use 0.95 for 95% intervals.")
    covariates = tuple(covariates)
    reference = str(reference)
    if group is not None and group not in data.columns:
        raise AnalysisError(f"The covariance group column '{group}' is not in the data; choose the "
                            "arm or another subject-level column.")
    prep = _prepare(data, response=response, subject=subject, arm=arm, visit=visit,
                    baseline=baseline, covariates=covariates, reference=reference,
                    arm_order=tuple(arm_order), extra=(group,) if group is not None else ())
    d, arms, visits, notes = prep.d, prep.arms, prep.visits, prep.notes
    T = visits.size
    if covariance == "sp_exp" and T > 1 and np.min(np.diff(visits)) <= 0:
        raise AnalysisError("The spatial exponential covariance needs distinct visit times.")
    if group is not None:
        if (d.groupby(subject)[group].nunique() > 1).any():
            raise AnalysisError(f"The covariance group '{group}' changes within a subject; it must "
                                "be a subject-level column such as the arm.")
        glabels = (arms if group == arm
                   else sorted(pd.unique(d[group].astype(str))))
        gcodes = pd.Categorical(d[group].astype(str), categories=glabels).codes
        if len(glabels) < 2:
            group = None  # one level: one covariance matrix, the ordinary model
            notes.append("The covariance group has a single level in this selection; one "
                         "covariance matrix was fitted.")
    if group is None:
        glabels, gcodes = ["all"], np.zeros(len(d), dtype=np.int64)
    X = _design_matrix(d, arm=arm, visit=visit, baseline=baseline, covariates=covariates, arms=arms,
                       visits=visits)
    N, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise AnalysisError("The MMRM cannot be estimated: some covariates are constant within a "
                            "visit or duplicate each other (or the baseline) in this selection. "
                            "Remove a covariate or widen the selection.")
    if N - p < 1:
        raise AnalysisError(f"Too few observations ({N}) for {p} model terms; remove covariates or "
                            "widen the selection.")
    y = d[response].to_numpy(float)
    beta0, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta0  # the fit works on OLS residuals: beta = beta0 + GLS coefficients of e
    subj_codes, subj_uniques = pd.factorize(d[subject])
    pats = _patterns(X, e, subj_codes, np.searchsorted(visits, d[visit].to_numpy(float)),
                     groups=np.asarray(gcodes), keep_rows=vcov != "model")
    for g, label in enumerate(glabels):
        if group is not None and sum(pt.n for pt in pats if pt.g == g) < 2:
            raise AnalysisError(f"The covariance group '{label}' has fewer than 2 subjects, so its "
                                "own covariance matrix cannot be estimated; fit one covariance "
                                "matrix for all subjects.")

    # The optimiser sees the residuals divided by their RMS, so its tolerances do not depend on
    # the unit of measurement; inference below uses the data as they are.
    scale = float(np.sqrt(np.mean(e * e)))
    if not scale > 0:
        raise AnalysisError("The model fits every value exactly (no residual variation), so no "
                            "covariance can be estimated. Check the response and the covariates.")
    struct = _Grouped(covariance, visits, tuple(glabels), group_name=group or "group")
    phi, n_iter = _maximise_reml([_Pattern(pt.idx, pt.n, pt.XX, pt.Xe / scale, pt.ee / scale**2, pt.g)
                                  for pt in pats], struct, N, p, max_iter)

    # ---------------------------------------------------------------- inference
    theta = struct.to_rep(struct.opt_derivs(phi)[0] * scale**2)
    S_hat, dS_rep, d2S_rep = struct.rep_derivs(theta)
    want_kr = df_method.startswith("kenward-roger")
    ev = _evaluate(pats, S_hat, N, p, dS_rep, d2S_rep, hessian=True, kr=want_kr)
    Phi, M = ev["Phi"], ev["M"]
    beta = beta0 + ev["beta"]
    info = -ev["hess"]
    dinfo = np.diag(info)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr_info = info / np.sqrt(np.outer(dinfo, dinfo))  # scale-free (parameters differ in units)
    if (not np.all(np.isfinite(info)) or np.any(dinfo <= 0) or not np.all(np.isfinite(corr_info))
            or np.linalg.eigvalsh(corr_info).min() <= 1e-10):
        raise AnalysisError(f"The {COVARIANCES[covariance]} covariance parameters cannot all be "
                            "estimated from these data (the REML information matrix is singular, "
                            "e.g. two visits never observed in the same subject). Try a simpler "
                            "covariance structure such as compound symmetry or AR(1).")
    W = np.linalg.inv(info)  # asymptotic covariance of the covariance parameters
    W = (W + W.T) / 2
    emp = _Empirical(pats, ev["W"], ev["beta"], Phi, vcov) if vcov != "model" else None
    if emp is not None:
        Phi_use = emp.cov
    elif want_kr:
        Phi_use = _kenward_roger_covariance(ev, W, linear=df_method == "kenward-roger-linear")
    else:
        Phi_use = Phi

    def one_d_df(L: np.ndarray) -> np.ndarray:
        if df_method == "residual":
            return np.full(L.shape[0], float(N - p))
        if emp is not None:
            return emp.df(L)
        # Satterthwaite; for one contrast also Kenward-Roger's m (with the unadjusted Phi)
        var0 = np.einsum("kp,pq,kq->k", L, Phi, L)
        LP = L @ Phi
        g = np.einsum("kp,jpq,kq->kj", LP, M, LP)  # d(L Phi L')/d theta_j = L Phi M_j Phi L'
        denom = np.einsum("kj,jl,kl->k", g, W, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = np.where(denom > 0, 2 * var0**2 / denom, np.inf)
        return out

    def infer(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        est = L @ beta
        se = np.sqrt(np.maximum(np.einsum("kp,pq,kq->k", L, Phi_use, L), 0.0))
        df = one_d_df(L)
        half = sps.t.ppf(0.5 + level / 2, df) * se
        return est, se, df, est - half, est + half

    def f_test(L: np.ndarray) -> tuple[int, float, float, float]:
        """mmrm's ``df_md``: numerator df, denominator df, F and p of L beta = 0."""
        if want_kr:
            m, lam = _kr_df(L, Phi, W, M)
            b = L @ beta
            chisq = float(b @ np.linalg.solve(L @ Phi_use @ L.T, b))
            nl = L.shape[0]
            f = lam / nl * chisq
            return nl, m, f, float(sps.f.sf(f, nl, m))
        if df_method == "residual":
            b = L @ beta
            nl = L.shape[0]
            f = float(b @ np.linalg.solve(L @ Phi_use @ L.T, b)) / nl
            return nl, float(N - p), f, float(sps.f.sf(f, nl, N - p))
        # Satterthwaite: one t-test per eigenvector of the contrast's covariance
        evals, evecs = np.linalg.eigh(L @ Phi_use @ L.T)
        evals, evecs = evals[::-1], evecs[:, ::-1]
        rank = int(np.sum(evals > max(math.sqrt(np.finfo(float).eps) * evals[0], 0)))
        Lr = evecs[:, :rank].T @ L
        if rank == 1:
            t = float(Lr[0] @ beta) / math.sqrt(float(Lr[0] @ Phi_use @ Lr[0]))
            df1 = float(one_d_df(Lr)[0])
            return 1, df1, t * t, float(sps.f.sf(t * t, 1, df1))
        t2 = (Lr @ beta) ** 2 / evals[:rank]
        f = float(np.sum(t2) / rank)
        if emp is not None:
            dfs = emp.df(Lr)
        else:
            LP = Lr @ Phi
            g = np.einsum("kp,jpq,kq->kj", LP, M, LP)
            dfs = 2 * evals[:rank] ** 2 / np.einsum("kj,jl,kl->k", g, W, g)
        den = _md_denom_df(dfs)
        return rank, den, f, float(sps.f.sf(f, rank, den))

    reference, others = arms[0], arms[1:]
    col = {(a, v): i * T + j for i, a in enumerate(arms) for j, v in enumerate(visits)}
    keys = [(a, v) for a in [*others, reference] for v in visits]
    L = np.zeros((len(keys), p))
    for k, key in enumerate(keys):
        L[k, col[key]] = 1.0
    est, se, df, lo, hi = infer(L)
    n_cell = d.groupby([arm, visit])[subject].nunique()
    lsmeans = pd.DataFrame({
        "arm": [k[0] for k in keys], "visit": [k[1] for k in keys], "estimate": est, "se": se,
        "df": df, "ci_low": lo, "ci_high": hi, "n": [int(n_cell.get(k, 0)) for k in keys]})
    ckeys = [(a, v) for a in others for v in visits]
    L = np.zeros((len(ckeys), p))
    for k, (a, v) in enumerate(ckeys):
        L[k, col[(a, v)]], L[k, col[(reference, v)]] = 1.0, -1.0
    est, se, df, lo, hi = infer(L)
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = 2 * sps.t.sf(np.abs(est / se), df)
    contrasts = pd.DataFrame({
        "arm": [k[0] for k in ckeys], "reference": reference, "visit": [k[1] for k in ckeys],
        "estimate": est, "se": se, "df": df, "ci_low": lo, "ci_high": hi, "p_value": pval})
    if df_method != "residual" and not np.all(np.isfinite(contrasts["df"])):
        notes.append("Some degrees of freedom could not be approximated and are infinite "
                     "(normal-based intervals).")

    # Type III F tests: each term's sum-coded coefficients, in the fitted coding.
    Xn, term_cols = _sum_coded(d, arm=arm, visit=visit, baseline=baseline, covariates=covariates,
                               arms=arms, visits=visits)
    to_sum = np.linalg.solve(Xn.T @ Xn, Xn.T @ X)  # beta_sum = to_sum @ beta (same column space)
    rows = []
    for term, cols in term_cols:
        if term == "(Intercept)":
            continue
        Lt = to_sum[cols]
        Lt = np.where(np.abs(Lt) < math.sqrt(np.finfo(float).eps), 0.0, Lt)
        if Lt.shape[0] == 0 or not np.any(Lt):
            continue  # a term without columns (the visit of a one-visit model)
        num, den, fstat, pv = f_test(Lt)
        rows.append({"term": term, "num_df": num, "denom_df": den, "f_stat": fstat, "p_value": pv})
    type3 = pd.DataFrame(rows, columns=["term", "num_df", "denom_df", "f_stat", "p_value"])

    ll = float(ev["loglik"])
    S_main = S_hat[0]
    return MmrmResult(
        lsmeans=lsmeans, contrasts=contrasts, covariance=covariance, df_method=df_method,
        n_subjects=len(subj_uniques), n_observations=int(N), reml_loglik=ll,
        aic=-2 * ll + 2 * struct.q, converged=True, covariance_matrix=S_main.copy(),
        visits=tuple(float(v) for v in visits), covariates=covariates, notes=tuple(notes),
        baseline=baseline, level=level, n_iterations=n_iter,
        covariance_parameters=tuple(zip(struct.names, (float(t) for t in theta), strict=True)),
        vcov=vcov, group=group, type3=type3,
        group_covariances=tuple((str(lab), S_hat[g].copy()) for g, lab in enumerate(glabels))
        if group is not None else ())
