"""Bad input, the whole corpus (tests/bad_files/, made by build.py): each case gives its expected
message from the command line and in the app, and a failed load leaves the previous data active.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from respine.cli import main
from respine.io import validate_folder
from tests.test_app import assert_healthy

CORPUS = Path(__file__).resolve().parent / "bad_files"
REPO = CORPUS.parent.parent

# case -> (loads, fragment the report must contain; "" where a clean load is the expectation)
EXPECTED = {
    "01_semicolon_delimiter": (True, ""),
    "02_latin1_encoding": (True, "not UTF-8; it was read as cp1252"),
    "03_utf8_bom": (True, ""),
    "04_empty_measurements": (False, "measurements.csv is empty"),
    "05_header_only_subjects": (False, "Fewer than two arms"),
    "06_missing_arm_column": (False, "Required column is missing"),
    "07_duplicated_columns": (False, "duplicated column names ['sex']"),
    "08_text_in_value": (False, "values are not numbers"),
    "09_impossible_vas": (True, "VAS values lie outside 0-100"),
    "10_duplicate_subjects": (False, "appears more than once"),
    "11_one_arm": (False, "Fewer than two arms"),
    "12_unknown_visits": (True, "visit numbers not listed"),
    "13_duplicate_records": (True, "4 duplicate records"),
    "14_study_toml_broken": (False, "study.toml: Cannot be read"),
    "15_study_one_arm": (False, "at least two arms"),
    "16_unknown_arm": (False, "are not declared in study.toml"),
    "17_missing_subjects_file": (False, "subjects.csv: File not found"),
    "18_orphan_measurements": (True, "3 rows belong to subjects not in subjects.csv"),
    "19_mixed_date_formats": (True, ""),
    "20_formula_and_html_injection": (True, ""),
    "21_corrupt_xlsx": (False, "cannot be read as an Excel workbook"),
    "22_corrupt_xpt": (False, "cannot be read as a SAS transport file"),
    "23_no_mapping": (False, "layout was not recognised"),
    "24_mapping_unknown_key": (False, "Mapping keys ['colour'] are not known"),
    "25_mapping_missing_column": (False, "Column 'score' (mapped to the value) is not in the table"),
    "26_arm_conflict": (False, "more than one arm"),
    "27_header_only_table": (False, "header but no rows"),
    "28_adam_one_arm": (False, "only one arm"),
    "29_adam_no_usubjid": (False, "no USUBJID"),
    "30_adam_bds_without_aval": (False, "No BDS dataset"),
    "31_reference_not_in_data": (False, "Reference arm 'Sham' is not in column"),
    "32_binary_garbage_csv": (False, "does not look like a text table"),
}


def test_corpus_is_complete():
    cases = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("__"))
    from tests.test_bad_adam_files import EXPECTED as ADAM  # cases 60-79, checked there

    assert cases == sorted([*EXPECTED, *ADAM]) and len(cases) >= 25


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_command_line_reports_each_case(case, capsys):
    loads, fragment = EXPECTED[case]
    problems = validate_folder(CORPUS / case)
    assert loads == (not any(p.severity == "error" for p in problems)), [str(p) for p in problems]
    code = main(["validate", str(CORPUS / case)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert (code == 0) == loads
    assert fragment in out.out


@pytest.mark.app
def test_every_case_in_the_app_keeps_the_previous_data(monkeypatch):
    """One session loads every case in turn through the Data page; after each failure the data
    explored before are still active and every page still works."""
    monkeypatch.setenv("RESPINE_DATA_ROOT", str(CORPUS))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    for case in sorted(EXPECTED):
        loads, fragment = EXPECTED[case]
        before = at.session_state["trial"].source
        at.text_input(key="folder_path").set_value(case).run()
        next(b for b in at.button if b.label == "Open folder").click().run()
        assert_healthy(at, case)
        shown = " ".join(
            [e.value for e in at.error]
            + [w.value for w in at.warning]
            + [s.value for s in at.success]
            + [" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe]
        )
        # the app shows file and message in separate cells: drop a CLI-style "file: " prefix
        message = (
            fragment.split(": ", 1)[-1] if fragment.startswith(("study.toml", "subjects.csv")) else fragment
        )
        assert message in shown, (case, shown[:500])
        if not loads:
            assert "still active" in shown and at.session_state["trial"].source == before, case
        elif "Use these data anyway" in [b.label for b in at.button]:
            next(b for b in at.button if b.label == "Use these data anyway").click().run()
        if loads:
            assert at.session_state["trial"].source != before or "01" in case, case
        at.switch_page("app_pages/explorer.py").run()
        assert_healthy(at, f"{case} explorer")
        at.switch_page("app_pages/data.py").run()


def test_a_huge_upload_is_refused_with_the_limit_named(monkeypatch):
    """The size limit (200 MB, also Streamlit's server.maxUploadSize) is checked before parsing;
    here the limit is lowered so the test stays small."""
    from respine.io import product as rio
    from respine.io.files import DataFile

    monkeypatch.setattr(rio, "MAX_UPLOAD_BYTES", 1024)
    files = {"trial.csv": DataFile("trial.csv", data=b"patient,group\n" + b"P1,A\n" * 1000)}
    trial, problems = rio.load_files(files, "upload")
    assert trial is None and "over the 0 MB limit" in problems[0].message
    assert "Remove datasets" in problems[0].message
