"""Reports: assembled from views, self-contained, escaped; the app's add/reorder/remove flow."""

from __future__ import annotations

import io
import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from respine.present.report import ReportItem, render_docx, render_html
from tests.test_app import open_page

EVIL = "<script>alert('x')</script>"


def items() -> list[ReportItem]:
    fig = go.Figure(go.Bar(x=[EVIL, "Sham"], y=[1, 2]))
    table = pd.DataFrame({"Arm": [EVIL, "Sham"], "n": [50, 49]})
    return [
        ReportItem(
            "First view", "http://host/explorer?ep=VAS", (("table", "t1", table), ("text", "Methods."))
        ),
        ReportItem(f"Second {EVIL}", "", (("figure", fig.to_json()),)),
    ]


def test_html_is_self_contained_and_escaped():
    page = render_html(items(), "Report", "data/ (synthetic twin)", synthetic=True)
    assert page.startswith("<!DOCTYPE html>") and "Synthetic data." in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)  # nothing fetched: opens offline
    assert EVIL not in page  # every label escaped, in text, tables and figure data
    assert "&lt;script&gt;" in page and "Plotly.newPlot('fig1'" in page
    assert page.index("<h2>1. First view") < page.index("<h2>2. Second")


def test_docx_holds_tables_and_texts():
    from docx import Document

    doc = Document(io.BytesIO(render_docx(items(), "Report", "data/", synthetic=False)))
    texts = [p.text for p in doc.paragraphs]
    assert "Methods." in texts and not any("Synthetic" in t for t in texts)
    assert doc.tables[0].rows[1].cells[0].text == EVIL  # Word shows text as text
    assert doc.tables[0].rows[2].cells[1].text == "49"


@pytest.mark.app
def test_add_reorder_remove_in_the_app():
    at = open_page("app_pages/explorer.py")
    add = next(b for b in at.sidebar.button if b.label == "Add this view to the report")
    add.click().run()
    at.switch_page("app_pages/safety.py").run()
    next(b for b in at.sidebar.button if b.label == "Add this view to the report").click().run()
    at.switch_page("app_pages/report.py").run()
    titles = [m.value for m in at.markdown if m.value.startswith("**")][:2]
    assert titles == ["**1. Endpoint explorer**", "**2. Safety**"]
    next(b for b in at.button if b.key == "up_1").click().run()
    titles = [m.value for m in at.markdown if m.value.startswith("**")][:2]
    assert titles == ["**1. Safety**", "**2. Endpoint explorer**"]
    next(b for b in at.button if b.key == "rm_0").click().run()
    assert [m.value for m in at.markdown if m.value.startswith("**1.")] == ["**1. Endpoint explorer**"]
    assert not at.exception
