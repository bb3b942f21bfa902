"""Bad and unusual ADaM folders of the corpus (tests/bad_files/60-79, made by build_adam.py):
each gives its expected message from the command line, with an exit code that matches (errors
non-zero; warnings and notes zero), and the same report in the app, where a failed load leaves
the previous data active."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from respine.cli import main
from respine.io import validate_folder
from tests.test_app import assert_healthy

CORPUS = Path(__file__).resolve().parent / "bad_files"
REPO = CORPUS.parent.parent
NUMBERS = range(60, 80)

# case -> (loads, fragment the report must contain, severity of the problem holding it)
EXPECTED = {
    "60_adam_duplicate_adsl_rows": (False, "more than one row for 2 subjects (BAD01-02, BAD01-05)", "error"),
    "61_adam_flags_yes_no": (True, "Populations: ITT, SAF, ALL", "info"),
    "62_adam_flag_values_unknown": (False, "ADSL column ITTFL holds ['?', 'X']", "error"),
    "63_adam_blank_arms": (True, "2 subjects have no arm (TRT01P blank: BAD01-03, BAD01-06)", "warning"),
    "64_adam_screen_failures": (True, "2 screen failures are not analysed", "info"),
    "65_adam_several_records_per_visit": (True, "3 records share their subject, parameter and visit",
                                          "warning"),
    "66_adam_text_in_aval": (True, "'ND' x2, '<0.5' x1 (PARAMCD SCORE)", "warning"),
    "67_adam_avisitn_text": (False, "Column AVISITN holds text ('Week 4') in 2 rows", "error"),
    "68_adam_every_result_text": (False, "no record left by the record rule", "error"),
    "69_adam_unscheduled_records": (True, "2 are unscheduled", "info"),
    "70_adam_study_toml_broken": (False, "Beside the ADaM datasets, it cannot be read", "error"),
    "71_adam_study_toml_unknown_endpoint": (True, "[endpoints.VAS] names no parameter of the data",
                                            "warning"),
    "72_adam_study_toml_bad_kind": (False, "kind must be 'continuous' or 'binary', got 'ordinal'", "error"),
    "73_adam_blank_usubjid": (False, "2 rows with USUBJID blank (rows 8, 9)", "error"),
    "74_adam_no_arm_column": (False, "no TRT01P or ARM column", "error"),
    "75_adam_screen_failures_leave_one_arm": (False, "only one arm (Drug)", "error"),
    "76_adam_bds_without_avisitn": (False, "columns ['AVISITN'] are missing", "error"),
    "77_adam_adsl_only": (False, "No BDS dataset", "error"),
    "78_adam_study_toml_deeply_nested": (False, "Beside the ADaM datasets, it cannot be read", "error"),
    "79_adam_time_points_without_flag": (True, "24 are other time points of their visit", "info"),
}


def test_the_adam_cases_are_all_there():
    cases = sorted(p.name for p in CORPUS.iterdir()
                   if p.is_dir() and p.name[:2].isdigit() and int(p.name[:2]) in NUMBERS)
    assert cases == sorted(EXPECTED) and len(cases) == 20


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_command_line_reports_each_adam_case(case, capsys):
    loads, fragment, severity = EXPECTED[case]
    problems = validate_folder(CORPUS / case)
    assert loads == (not any(p.severity == "error" for p in problems)), [str(p) for p in problems]
    assert any(fragment in p.message and p.severity == severity for p in problems), [str(p) for p in problems]
    code = main(["validate", str(CORPUS / case)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "internal error" not in out.err
    assert (code == 0) == loads
    assert fragment in out.out
    if loads:  # every ADaM load states its record rule, with counts
        assert "Record rule 'analysis'" in out.out and "records kept" in out.out


@pytest.mark.app
def test_every_adam_case_in_the_app_keeps_the_previous_data(monkeypatch):
    """One session opens every case in turn on the Load data page; the report shows the same
    message (and the record rule applied); after a failure the data explored before are active."""
    monkeypatch.setenv("RESPINE_DATA_ROOT", str(CORPUS))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    for case in sorted(EXPECTED):
        loads, fragment, _ = EXPECTED[case]
        before = at.session_state["trial"].source
        at.text_input(key="folder_path").set_value(case).run()
        next(b for b in at.button if b.label == "Open folder").click().run()
        assert_healthy(at, case)
        shown = " ".join(
            [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
            + [" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe]
        )
        assert fragment in shown, (case, shown[:500])
        if not loads:
            assert "still active" in shown and at.session_state["trial"].source == before, case
            continue
        assert "Record rule 'analysis'" in shown, case
        if "Use these data anyway" in [b.label for b in at.button]:
            next(b for b in at.button if b.label == "Use these data anyway").click().run()
        assert at.session_state["trial"].source != before, case
        at.switch_page("app_pages/explorer.py").run()
        assert_healthy(at, f"{case} explorer")
        at.switch_page("app_pages/data.py").run()


@pytest.mark.app
def test_the_record_rule_chosen_on_the_page_is_applied(monkeypatch):
    monkeypatch.setenv("RESPINE_DATA_ROOT", str(CORPUS))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="adam_record_rule").set_value("first_timepoint").run()
    at.text_input(key="folder_path").set_value("79_adam_time_points_without_flag").run()
    next(b for b in at.button if b.label == "Open folder").click().run()
    assert_healthy(at, "record rule")
    shown = " ".join(" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe)
    assert "Record rule 'first_timepoint'" in shown
    m = at.session_state["trial"].measurements
    # the first time point (PRE-DOSE) is AVAL + 1 in the builder: week 4 of subject 1 is 20 - 4 + 0 + 1
    assert m[(m["subject_id"] == "BAD01-01") & (m["visit_month"] == 4.0)]["value"].tolist() == [17.0]
