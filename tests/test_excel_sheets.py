"""A workbook with several sheets, or a hidden one: the sheet is chosen (the Load data page, the
command line's --sheet, mapping.toml), never read silently, and the report names the sheet read,
hidden sheets as hidden. The workbooks are built here with openpyxl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respine.cli import main
from respine.io.files import DataFile, excel_sheets, read_table
from respine.io.mapping import ColumnMapping
from respine.io.product import load_files

openpyxl = pytest.importorskip("openpyxl")

HEADER = ["patient", "group", "visit", "param", "result"]


def _rows(scale: float) -> list[list[object]]:
    rows = []
    for i, arm in enumerate(["Drug", "Drug", "Drug", "Placebo", "Placebo", "Placebo"]):
        rows.append([f"P{i}", arm, "Baseline", "score", 50.0 + i])
        rows.append([f"P{i}", arm, "Week 4", "score", (40.0 + 3 * i) * scale])
    return rows


def _workbook(path: Path) -> Path:
    """A stale, hidden first sheet ('Old', with a comment column), the data ('Data'), and notes."""
    book = openpyxl.Workbook()
    old = book.active
    old.title = "Old"
    old.append([*HEADER, "comment"])
    for row in _rows(2.0):
        old.append([*row, "superseded"])
    old.sheet_state = "hidden"
    data = book.create_sheet("Data")
    data.append(HEADER)
    for row in _rows(1.0):
        data.append(row)
    book.create_sheet("Summary").append(["note"])
    book.save(path)
    return path


MAPPING = ColumnMapping(table="trial.xlsx", subject="patient", arm="group", visit="visit", endpoint="param",
                        value="result", reference="Placebo")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _workbook(tmp_path / "trial.xlsx")
    (tmp_path / "mapping.toml").write_text(MAPPING.to_toml(), encoding="utf-8")
    return tmp_path


def test_the_sheets_and_their_states_are_read(folder):
    file = DataFile("trial.xlsx", path=folder / "trial.xlsx")
    assert excel_sheets(file) == {"Old": "hidden", "Data": "visible", "Summary": "visible"}
    notes: list[str] = []
    frame = read_table(file, notes)  # no sheet named: the first visible one, with a note
    assert list(frame.columns) == HEADER
    assert notes == ["trial.xlsx has 3 sheets ('Old' (hidden), 'Data', 'Summary'); sheet 'Data' was "
                     "read. To read another, name it in mapping.toml as sheet = \"...\" (or choose it "
                     "on the Load data page, or give --sheet on the command line)."]


def test_a_chosen_sheet_is_read_and_named_even_a_hidden_one(folder):
    available = {"trial.xlsx": DataFile("trial.xlsx", path=folder / "trial.xlsx")}
    for sheet, week4 in (("Data", 40.0), ("Old", 80.0)):
        chosen = ColumnMapping(**{**MAPPING.__dict__, "sheet": sheet})
        trial, problems = load_files(available, "t", mapping=chosen)
        assert trial is not None
        assert [(p.severity, p.message) for p in problems] == [
            ("info", f"Sheet '{sheet}' of trial.xlsx was read (3 sheets: 'Old' (hidden), 'Data', "
                     "'Summary').")]
        m = trial.measurements
        assert m.loc[(m["subject_id"] == "P0") & (m["visit_month"] == 4.0), "value"].item() == week4


def test_validate_and_analyze_take_sheet_and_say_which_was_read(folder, capsys):
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "sheet 'Data' was read" in out and "'Old' (hidden)" in out and "0 errors, 1 warnings" in out
    assert main(["validate", str(folder), "--sheet", "Old"]) == 0
    out = capsys.readouterr().out
    assert "Sheet 'Old' of trial.xlsx was read" in out and "0 errors, 0 warnings, 1 notes" in out

    args = ["analyze", "--data", str(folder), "--endpoint", "score", "--visit", "Week 4", "--format", "json"]
    assert main([*args, "--sheet", "Old"]) == 0
    captured = capsys.readouterr()
    old = json.loads(captured.out)  # stdout is the result alone; the sheet is named on stderr
    assert captured.err == ("respine: Sheet 'Old' of trial.xlsx was read (3 sheets: 'Old' (hidden), 'Data', "
                            "'Summary').\n")
    assert main(args) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "sheet 'Data' was read" in captured.err
    assert old["arms"] != data["arms"]

    assert main([*args, "--sheet", "Results"]) == 3
    err = capsys.readouterr().err
    assert "has no sheet 'Results' (sheets: 'Old' (hidden), 'Data', 'Summary')" in err
    assert "Traceback" not in err


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data, self.size = name, data, len(data)

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.app
def test_the_load_data_page_offers_the_sheet_and_the_report_names_it(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from respine.ui import data
    from tests.conftest import REPO
    from tests.test_app import assert_healthy, widget

    book = _workbook(tmp_path / "trial.xlsx").read_bytes()
    monkeypatch.setattr(data, "uploaded", lambda: [_Upload("trial.xlsx", book)])
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()
    widget(at.button, "Load these files").click().run()
    sheet = widget(at.selectbox, "Sheet to read")
    assert sheet.value == "Data" and list(sheet.options) == ["Old (hidden)", "Data", "Summary"]
    assert any(s.value == "Map the columns of trial\\.xlsx, sheet Data" for s in at.subheader)
    assert "comment" not in widget(at.multiselect, "Subject covariates").options
    sheet.set_value("Old").run()
    assert "comment" in widget(at.multiselect, "Subject covariates").options  # the hidden sheet's columns
    widget(at.text_input, "Reference arm (exact value)").set_value("Placebo").run()
    widget(at.button, "Load with this mapping").click().run()
    assert_healthy(at, "data")
    assert any(s.value.startswith("Loaded upload\\: trial\\.xlsx") for s in at.success)
    shown = " ".join(" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe)
    assert "Sheet 'Old' of trial.xlsx was read (3 sheets: 'Old' (hidden), 'Data', 'Summary')." in shown
    m = at.session_state[data.LOADED].measurements
    assert m.loc[(m["subject_id"] == "P0") & (m["visit_month"] == 4.0), "value"].item() == 80.0


@pytest.mark.app
def test_a_workbook_of_one_sheet_offers_no_choice(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from respine.ui import data
    from tests.conftest import REPO
    from tests.test_app import assert_healthy, widget

    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for row in _rows(1.0):
        book.active.append(row)
    book.save(tmp_path / "one.xlsx")
    monkeypatch.setattr(data, "uploaded", lambda: [_Upload("one.xlsx", (tmp_path / "one.xlsx").read_bytes())])
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()
    widget(at.button, "Load these files").click().run()
    assert_healthy(at, "data")
    assert not [s for s in at.selectbox if s.label == "Sheet to read"]
    assert any(s.value == "Map the columns of one\\.xlsx" for s in at.subheader)
