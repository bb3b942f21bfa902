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
}
DF_METHODS = {
    "satterthwaite": "Satterthwaite",
    "kenward-roger": "Kenward-Roger",
    "residual": "residual",
}
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
    PROC MIXED names them.
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
            "residual": "the residual degrees of freedom",
        }[self.df_method]
        return (f"{endpoint_label} in the {population_label} population was analysed with a mixed "
                f"model for repeated measures (MMRM) with {listed} as fixed effects and "
                f"{_article(COVARIANCES[self.covariance])} {COVARIANCES[self.covariance]} "
                "within-subject covariance matrix, estimated by restricted maximum likelihood "
                f"(REML), using all available visits of {self.n_subjects} subjects. Degrees of "
                f"freedom were obtained by {df_text}; least-squares means are averaged over the "
                "covariates at their observed means.")


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


# ======================================================================================== core


@dataclass
class _Pattern:
    idx: np.ndarray  # visit indices observed (sorted)
    n: int  # subjects with this pattern
    XX: np.ndarray  # (m, m, p, p): sum_i X_i[a]' X_i[b]
    Xe: np.ndarray  # (m, m, p): sum_i X_i[a]' e_i[b]
    ee: np.ndarray  # (m, m): sum_i e_i[a] e_i[b]


class _Singular(Exception):
    pass


def _evaluate(pats: list[_Pattern], S: np.ndarray, N: int, p: int, dS: np.ndarray | None = None,
              d2S: np.ndarray | None = None, hessian: bool = False, kr: bool = False) -> dict[str, Any]:
    """REML log-likelihood at Sigma = S and, on request, its derivatives and KR pieces.

    Derivatives are with respect to the parameters whose dSigma (q, T, T) and d2Sigma
    (q, q, T, T; None when zero) are given. Notation: W = Sigma_P^-1 for pattern P,
    Phi = (X'V^-1X)^-1, r = residuals, u = V^-1 r, M_j = X'V^-1 V_j V^-1 X.
    """
    XtWX = np.zeros((p, p))
    XtWe = np.zeros(p)
    eWe = 0.0
    logdet = 0.0
    Ws = []
    for pat in pats:
        Sp = S[np.ix_(pat.idx, pat.idx)]
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
    out: dict[str, Any] = {"loglik": ll, "beta": beta, "Phi": Phi, "XtWX": XtWX}
    if dS is None:
        return out
    T = S.shape[0]
    q = dS.shape[0]
    G = np.zeros((T, T))
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
        G[ix] += 0.5 * (-pat.n * W + WKW + U)
        if not need_more:
            continue
        dSp = dS[:, pat.idx][:, :, pat.idx]
        A = W @ dSp  # A_j = W dS_j
        B = A @ W  # B_j = W dS_j W
        Xr = pat.Xe - pat.XX @ beta  # Xr[a, b] = sum_i X_i[a]' r_i[b]
        M += np.tensordot(B, pat.XX, axes=([1, 2], [0, 1]))
        h += np.tensordot(B, Xr, axes=([1, 2], [0, 1]))
        Ta += pat.n * np.einsum("jab,kba->jk", A, A)
        Tb += np.einsum("jab,kba->jk", A, A @ (W @ K))
        Tu += np.einsum("jab,kba->jk", dSp, A @ U)
        if d2S is not None:
            d2Sp = d2S[:, :, pat.idx][:, :, :, pat.idx]
            trPV2 += pat.n * np.einsum("ab,jkba->jk", W, d2Sp) - np.einsum("jkab,ba->jk", d2Sp, WKW)
            uV2u += np.einsum("jkab,ba->jk", d2Sp, U)
        if kr:
            AB = np.einsum("jab,kbc->jkac", A, B)  # W dS_j W dS_k W
            Q += np.tensordot(AB, pat.XX, axes=([2, 3], [0, 1]))
            if Rk is not None:
                WdW = W @ d2Sp @ W
                Rk += np.tensordot(WdW, pat.XX, axes=([2, 3], [0, 1]))
    out["grad"] = np.einsum("ab,jab->j", G, dS)
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
             arm_order: tuple[str, ...]) -> _Prepared:
    """Checks, drops (with notes) and arm / visit levels; raises AnalysisError on bad input."""
    base_cols = [baseline] if baseline is not None else []
    needed = list(dict.fromkeys([subject, arm, visit, response, *base_cols, *covariates]))
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


def _patterns(X: np.ndarray, e: np.ndarray, subj_codes: np.ndarray, vidx: np.ndarray) -> list[_Pattern]:
    """Group subjects by their set of observed visits; per group, the sums used by the fit."""
    N, p = X.shape
    mask = np.zeros(int(subj_codes.max()) + 1, dtype=np.int64)
    np.bitwise_or.at(mask, subj_codes, np.left_shift(np.int64(1), vidx.astype(np.int64)))
    row_mask = mask[subj_codes]
    order = np.lexsort((vidx, subj_codes, row_mask))
    starts = np.flatnonzero(np.r_[True, row_mask[order][1:] != row_mask[order][:-1]])
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
        pats.append(_Pattern(idx, n_p, np.ascontiguousarray(XX), np.ascontiguousarray(Xe), Ep.T @ Ep))
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


def _maximise_reml(pats: list[_Pattern], struct: _Structure, N: int, p: int,
                   max_iter: int) -> tuple[np.ndarray, int]:
    """Trust-region Newton on -REML / N in the structure's unconstrained parameters."""
    name = COVARIANCES[struct.kind]
    cache: dict[str, Any] = {}

    def parts(phi: np.ndarray) -> dict[str, Any] | None:
        key = phi.tobytes()
        if cache.get("key") != key:
            S, dS, d2S = struct.opt_derivs(phi)
            try:
                res: dict[str, Any] | None = _evaluate(pats, S, N, p, dS, d2S, hessian=True)
            except _Singular:
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

    phi0 = struct.start(_start_covariance(pats, struct.T, N, p))
    if parts(phi0) is None:
        raise AnalysisError("The MMRM cannot be started from these data (the design or the initial "
                            f"{name} covariance is singular). Try a simpler covariance structure "
                            "such as compound symmetry.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = optimize.minimize(fun, phi0, jac=jac, hess=hess, method="trust-exact",
                                options={"maxiter": int(max_iter), "gtol": 1e-9})
    phi = opt.x
    # trust-exact may stop on "failure to predict improvement" at a point that is already
    # optimal to rounding; accept it when the gradient is negligible.
    if parts(phi) is not None and (bool(opt.success) or float(np.max(np.abs(jac(phi)))) < 1e-6):
        return phi, int(opt.get("nit", 0))
    S_end = struct.opt_derivs(phi)[0]
    ev_end = np.linalg.eigvalsh(S_end) if np.all(np.isfinite(S_end)) else np.array([0.0, 1.0])
    if ev_end.min() <= 1e-8 * ev_end.max():
        raise AnalysisError(f"The {name} covariance matrix cannot be estimated from these data: the "
                            "fit drives it towards a singular matrix (too few subjects with values "
                            "at several visits for this many covariance parameters). Use a simpler "
                            "covariance structure (compound symmetry or AR(1)) or widen the "
                            "selection.")
    raise AnalysisError(f"The MMRM with {_article(name)} {name} covariance did not converge within "
                        f"{max_iter} iteration{'s' if max_iter != 1 else ''}. Try a simpler "
                        "covariance structure (compound symmetry or AR(1)), fewer covariates, or "
                        "fewer visits.")


def _kenward_roger_covariance(ev: dict[str, Any], W: np.ndarray) -> np.ndarray:
    """Phi_A = Phi + 2 Phi {sum_jk W_jk (Q_jk - P_j Phi P_k - R_jk / 4)} Phi (KR 1997, eq. 6)."""
    Phi, P = ev["Phi"], -ev["M"]
    WP = np.tensordot(W, P, axes=([1], [0]))  # sum_k W_jk P_k
    inner = np.tensordot(W, ev["Q"], axes=([0, 1], [0, 1])) - np.einsum("jap,jpb->ab", P @ Phi, WP)
    if ev["R"] is not None:
        inner -= 0.25 * np.tensordot(W, ev["R"], axes=([0, 1], [0, 1]))
    Phi_A = Phi + 2 * Phi @ inner @ Phi
    symmetric: np.ndarray = (Phi_A + Phi_A.T) / 2
    return symmetric


def fit_mmrm(data: pd.DataFrame, *, response: str = "chg", subject: str = "subject_id",
             arm: str = "arm", visit: str = "visit_month", baseline: str | None = "base",
             covariates: tuple[str, ...] = (), reference: str, covariance: str = "us",
             df_method: str = "satterthwaite", level: float = 0.95, max_iter: int = 200,
             arm_order: tuple[str, ...] = ()) -> MmrmResult:
    """Fit an MMRM by REML and return LS means and contrasts against ``reference`` per visit.

    Model: ``response ~ arm * visit + baseline * visit + covariates`` with visit as a factor,
    categorical covariates (text columns) as treatment-coded dummies and numeric covariates as
    linear terms. Within-subject covariance over the visits: ``"us"`` (unstructured,
    log-Cholesky parametrised), ``"cs"`` (compound symmetry), ``"ar1"`` (first-order
    autoregressive on the visit order) or ``"toep"`` (Toeplitz). Rows with a missing response,
    baseline or covariate are dropped; a visit at which every response is exactly 0 (the
    baseline visit of a change from baseline) is dropped; each drop is noted. Subjects with
    missing visits contribute the visits they have (missing at random).

    LS means are the model's predictions for each arm and visit with every covariate (and the
    baseline) at its mean over the analysed observations, so categorical covariates are weighted
    by their observed proportions ("observed margins"). Contrasts are each non-reference arm
    minus the reference at each visit, with two-sided t-tests. Degrees of freedom:
    ``"satterthwaite"`` (Satterthwaite's approximation with the inverse observed REML
    information of the covariance parameters), ``"kenward-roger"`` (Kenward-Roger 1997 bias-
    adjusted covariance of the fixed effects, and the Kenward-Roger degrees of freedom, which for
    a single contrast equal Satterthwaite's computed from the unadjusted covariance) or
    ``"residual"`` (N - rank(X)).

    Raises :class:`~respine.errors.AnalysisError` when an arm has no value at a visit, the
    design is singular, the covariance parameters cannot be estimated, or the optimiser does not
    converge within ``max_iter`` iterations.

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
    """
    if covariance not in COVARIANCES:
        raise AnalysisError(f"Unknown covariance structure '{covariance}'. Choose one of: "
                            + ", ".join(f"{k} ({v})" for k, v in COVARIANCES.items()) + ".")
    if df_method not in DF_METHODS:
        raise AnalysisError(f"Unknown degrees-of-freedom method '{df_method}'. Choose one of: "
                            + ", ".join(DF_METHODS) + ".")
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1 (got {level}); "
                            "use 0.95 for 95% intervals.")
    covariates = tuple(covariates)
    reference = str(reference)
    prep = _prepare(data, response=response, subject=subject, arm=arm, visit=visit,
                    baseline=baseline, covariates=covariates, reference=reference,
                    arm_order=tuple(arm_order))
    d, arms, visits, notes = prep.d, prep.arms, prep.visits, prep.notes
    T = visits.size
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
    pats = _patterns(X, e, subj_codes, np.searchsorted(visits, d[visit].to_numpy(float)))

    # The optimiser sees the residuals divided by their RMS, so its tolerances do not depend on
    # the unit of measurement; inference below uses the data as they are.
    scale = float(np.sqrt(np.mean(e * e)))
    if not scale > 0:
        raise AnalysisError("The model fits every value exactly (no residual variation), so no "
                            "covariance can be estimated. Check the response and the covariates.")
    struct = _Structure(covariance, T)
    phi, n_iter = _maximise_reml([_Pattern(pt.idx, pt.n, pt.XX, pt.Xe / scale, pt.ee / scale**2)
                                  for pt in pats], struct, N, p, max_iter)

    # ---------------------------------------------------------------- inference
    theta = struct.to_rep(struct.opt_derivs(phi)[0] * scale**2)
    S_hat, dS_rep, d2S_rep = struct.rep_derivs(theta)
    want_kr = df_method == "kenward-roger"
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
    Phi_use = _kenward_roger_covariance(ev, W) if want_kr else Phi

    def infer(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        est = L @ beta
        var0 = np.einsum("kp,pq,kq->k", L, Phi, L)
        se = np.sqrt(np.maximum(np.einsum("kp,pq,kq->k", L, Phi_use, L), 0.0))
        if df_method == "residual":
            df = np.full(L.shape[0], float(N - p))
        else:  # Satterthwaite; for one contrast also Kenward-Roger's m (with the unadjusted Phi)
            LP = L @ Phi
            g = np.einsum("kp,jpq,kq->kj", LP, M, LP)  # d(L Phi L')/d theta_j = L Phi M_j Phi L'
            denom = np.einsum("kj,jl,kl->k", g, W, g)
            with np.errstate(divide="ignore", invalid="ignore"):
                df = np.where(denom > 0, 2 * var0**2 / denom, np.inf)
        half = sps.t.ppf(0.5 + level / 2, df) * se
        return est, se, df, est - half, est + half

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
    ll = float(ev["loglik"])
    return MmrmResult(
        lsmeans=lsmeans, contrasts=contrasts, covariance=covariance, df_method=df_method,
        n_subjects=len(subj_uniques), n_observations=int(N), reml_loglik=ll,
        aic=-2 * ll + 2 * struct.q, converged=True, covariance_matrix=S_hat.copy(),
        visits=tuple(float(v) for v in visits), covariates=covariates, notes=tuple(notes),
        baseline=baseline, level=level, n_iterations=n_iter,
        covariance_parameters=tuple(zip(struct.names, (float(t) for t in theta), strict=True)))

