"""Bad input, the whole corpus (tests/bad_files/, made by build.py): each case gives its expected
message from the command line and in the app, and a failed load leaves the previous data active.
"""

from __future__ import annotations

import re
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
    # validation that misses nothing: product layout, files, mappings
    "33_mapped_subject_varies": (True, "1 subjects have more than one value of 'sex' across their rows "
                                       "(e.g. P1: F, M); the value on each subject's first row is used"),
    "34_conflicting_records": (False, "2 records repeat a subject, endpoint and visit with another value "
                                      "(first at this row: subject RSP-DE-01-00004, VAS at visit 0)"),
    "35_value_nd": (False, "values are not numbers (first at this row: 'ND'"),
    "36_synthetic_no": (False, 'synthetic must be true or false (without quotes), not "no". Write '
                               "synthetic = false."),
    "37_lower_is_better_text": (False, '[endpoints.MRIT2]: lower_is_better must be true or false '
                                       '(without quotes), not "no"'),
    "38_primary_endpoint_unknown": (True, "[primary] endpoint 'RSEP' has no data in measurements.csv"),
    "39_covariate_column_missing": (True, "[[covariates]] column 'weight' is not in subjects.csv"),
    "40_unknown_population": (False, "[primary] population 'ITT' is not a declared population; use one "
                                     "of ['ITT2', 'MITT', 'PP', 'SAFETY', 'RANDOMISED']"),
    "41_subgroup_default_unknown": (True, "[subgroups] default names ['weight'], which are not declared"),
    "42_blank_arms": (False, "2 subjects have no arm (first at this row)"),
    "43_flags_yes_no": (True, "Flag column for population 'MITT' is written ['Yes'] rather than Y/N; it was "
                              "read as Y/N"),
    "44_utf16_subjects": (True, "subjects.csv is UTF-16 text; it was read as such"),
    "45_zip_archive": (True, "respine_trial.zip was unpacked and read: respine_trial/study.toml, "
                             "respine_trial/subjects.csv"),
    "46_xlsx_hidden_first_sheet": (True, "trial.xlsx has 2 sheets ('Notes' (hidden), 'Data'); sheet 'Data' "
                                         "was read"),
    "47_xlsx_second_sheet": (True, "trial.xlsx has 2 sheets ('Data', 'Summary'); sheet 'Data' was read. To "
                                   'read another, name it in mapping.toml as sheet = "..."'),
    "48_mapping_sheet_unknown": (False, "trial.xlsx has no sheet 'Results' (sheets: 'Data', 'Summary')"),
    "49_visit_number_text": (False, "1 visit numbers are not numbers (e.g. 'four')"),
    "50_mapping_table_number": (False, "Mapping key 'table' must be text in quotes"),
    "51_nested_study_toml": (False, "Cannot be read: it is nested too deeply"),
    "52_nested_mapping_json": (False, "mapping.json is nested too deeply to be read"),
    "53_single_empty_file": (False, "trial.csv is empty"),
    "54_empty_study_toml": (False, "The study description is empty"),
    "55_study_key_typo": (True, "[study]: the key 'synthetc' is not known and is ignored. Did you mean "
                                "'synthetic'?"),
    "56_visit_declared_twice": (False, "declares the visit number(s) 12 (Month 12 (repeat) and Month 12) "
                                       "more than once"),
    "57_negative_visit": (True, "[[visits]] number -1 (Screening) is negative"),
    "58_bom_semicolon_crlf": (True, ""),
    "59_nul_byte": (False, "measurements.csv holds a NUL byte (an invisible control character) on line 538"),
    "80_death_flag_not_a_flag": (False, "The column 'died' holds ['UNKNOWN']; a flag is Y (died during the "
                                        "study) or N (blank: no death recorded)"),
}
# more that a case's report must say
ALSO = {"40_unknown_population": "ERROR: subjects.csv, column 'pop_itt': Flag column for population 'ITT2' "
                                 "is missing (values Y/N).",
        "42_blank_arms": "ERROR: subjects.csv, row 5, column 'arm': 2 subjects have no arm"}
# a case given as one file rather than its folder (``respine validate trial.csv``)
TARGET = {"53_single_empty_file": "53_single_empty_file/trial.csv"}
# cases whose report must hold no warning either: they load as cleanly as the twin
CLEAN = ("19_mixed_date_formats", "20_formula_and_html_injection", "58_bom_semicolon_crlf")


def test_corpus_is_complete():
    cases = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("__"))
    from tests.test_bad_adam_files import EXPECTED as ADAM  # cases 60-79, checked there

    assert cases == sorted([*EXPECTED, *ADAM]) and len(EXPECTED) >= 59


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_command_line_reports_each_case(case, capsys):
    loads, fragment = EXPECTED[case]
    target = CORPUS / TARGET.get(case, case)
    problems = validate_folder(target)
    assert loads == (not any(p.severity == "error" for p in problems)), [str(p) for p in problems]
    code = main(["validate", str(target)])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "internal error" not in out.err
    assert code == (0 if loads else 3)
    assert fragment in out.out and ALSO.get(case, "") in out.out
    errors = sum(p.severity == "error" for p in problems)
    notes = sum(p.severity == "info" for p in problems)  # the rules an ADaM reading applied
    warnings = len(problems) - errors - notes
    assert out.out.rstrip().endswith(f"{errors} errors, {warnings} warnings"
                                     f"{f', {notes} notes' if notes else ''} in {target}")
    for p in problems:  # every problem is listed, with the file it is in
        assert str(p) in out.out and p.file
    if case in CLEAN:
        assert problems == []


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
        at.text_input(key="folder_path").set_value(TARGET.get(case, case)).run()
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
            fragment.split(": ", 1)[-1] if re.match(r"(study\.toml|subjects\.csv): ", fragment) else fragment
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
