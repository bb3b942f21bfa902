"""Reports: assembled from views, self-contained, escaped; the app's add/reorder/remove flow."""

from __future__ import annotations

import base64
import html
import io
import json
import random
import re
import zlib

import pandas as pd
import plotly.graph_objects as go
import pytest

from respine.present import report as core
from respine.present.fmt import md_escape
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


# --- the report in the address: the codec ------------------------------------------------------



def test_entries_round_trip_the_address_with_any_comment():
    entries = [("/explorer?ep=ODI&filter=sex%3DFemale", f"Größer {EVIL}\nline 2 & more"), ("/safety", "")]
    text = core.encode_entries(entries)
    assert text.startswith("r1.") and re.fullmatch(r"r1\.[A-Za-z0-9_-]+", text)  # safe in a query
    assert core.decode_entries(text) == entries
    assert core.decode_entries(core.encode_entries([])) == []


def _packed(payload: bytes) -> str:
    return "r1." + base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode().rstrip("=")


@pytest.mark.parametrize(("value", "says"), [
    ("x" * (core.MAX_PARAM + 1), "longer than 8000 characters"),
    ("r2.abc", "not a report of this version"),
    ("abc", "not a report of this version"),
    ("r1.ab<c", "characters a report never has"),
    ("r1.abcd", "damaged"),
    (_packed(b"{}"), "not a list of views"),
    (_packed(b'[["/explorer"]]'), "not a list of views"),
    (_packed(b'[["/explorer", 3]]'), "both text"),
    (_packed(b'[["https://evil.example/x", ""]]'), "not an address of this app"),
    (_packed(b'[["//evil.example/x", ""]]'), "not an address of this app"),
    (_packed(b'[["/x?a#frag", ""]]'), "not an address of this app"),
    (_packed(json.dumps([["/x", "c" * (core.MAX_COMMENT + 1)]]).encode()), "longer than 2000"),
    (_packed(json.dumps([["/x", ""]] * (core.MAX_ITEMS + 1)).encode()), "at most 40"),
    (_packed(b"[" + b" " * 1_000_000 + b"]"), "incomplete or too large"),  # a compression bomb
    (_packed(b"[1,")[:-3], "incomplete or too large"),  # cut short
])
def test_a_bad_report_parameter_is_refused_with_a_reason(value, says):
    with pytest.raises(core.ReportLinkError, match=re.escape(says)):
        core.decode_entries(value)


def test_a_report_that_would_not_fit_an_address_is_refused():
    rng = random.Random(1)
    noise = [base64.b64encode(rng.randbytes(1400)).decode() for _ in range(6)]  # 1868 random characters
    assert len(core.encode_entries([("/explorer", n) for n in noise[:2]])) < core.MAX_PARAM
    with pytest.raises(core.ReportLinkError, match="no longer fits in the page's address"):
        core.encode_entries([(f"/explorer?n={i}", n) for i, n in enumerate(noise)])
    with pytest.raises(core.ReportLinkError, match="not an address of this app"):
        core.encode_entries([("javascript:alert(1)", "")])


# --- each item under its own selection, in both formats ----------------------------------------


def own_items() -> list[ReportItem]:
    fig = go.Figure(go.Bar(x=["BM-MSC", "Sham"], y=[1, 2]))
    table = pd.DataFrame({"Arm": ["BM-MSC", "Sham"], "n": [20, 19]})
    return [
        ReportItem("Endpoint explorer", "http://host/explorer?filter=sex%3DFemale",
                   (("figure", fig.to_json()), ("table", "t", table)),
                   selection="Population MITT · sex in {Female}", comment=f"Women only {EVIL}"),
        ReportItem("Safety", "http://host/safety?filter=sex%3DMale", (("figure", fig.to_json()),),
                   selection="Population MITT · sex in {Male}", comment="Men\nsecond line"),
        ReportItem("Subgroups", "http://host/subgroups", (), added="",
                   selection="Population PP · no subgroup filter"),
    ]


def test_html_writes_each_item_under_its_own_selection_with_its_comment():
    page = render_html(own_items(), "Report", "RESPINE, source data/", synthetic=True)
    first, second, third = (page.index(f"<h2>{i}. ") for i in (1, 2, 3))
    assert first < page.index("sex in {Female}") < second < page.index("sex in {Male}") < third
    assert "Women only &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page and EVIL not in page
    assert page.index("Men\nsecond line") > second  # line breaks kept (white-space: pre-wrap)
    assert page.count(core.NOT_REBUILT) == 1 and page.index(core.NOT_REBUILT) > third


def test_word_has_the_figures_the_selections_comments_and_its_own_properties():
    import datetime as dt

    from docx import Document

    from respine.present import export

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    doc = Document(io.BytesIO(render_docx(own_items(), "RESPINE results report", "RESPINE, source data/",
                                          synthetic=True, subject="RESPINE trial")))
    texts = [p.text for p in doc.paragraphs]
    wanted = ("Selection: Population MITT · sex in {Female}", f"Comment: Women only {EVIL}",
              "Selection: Population MITT · sex in {Male}", "Comment: Men\nsecond line")
    order = [texts.index(t) for t in wanted]
    assert order == sorted(order)
    assert core.NOT_REBUILT in texts
    props = doc.core_properties
    assert (props.title, props.subject) == ("RESPINE results report", "RESPINE trial")
    assert props.author == props.last_modified_by == core.AUTHOR  # not python-docx's defaults
    assert props.comments == "Data: RESPINE, source data/." and "synthetic data" in props.keywords
    assert before <= props.created <= dt.datetime.now(dt.UTC) and props.modified == props.created
    if export.image_renderer() is None:  # said so, and the tables are there
        assert any(t.startswith("The figures are not included: no Chromium") for t in texts)
        assert len(doc.tables) == 1
    else:
        shapes = doc.inline_shapes
        assert len(shapes) == 2  # both figures, as pictures in the text
        assert all(abs(s.width.inches - 6.3) < 0.01 for s in shapes)
        blob = doc.part.related_parts[shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        assert blob.startswith(b"\x89PNG")


# --- in the app: own selections and comments survive a reload ----------------------------------


def _add(at, page: str) -> None:
    at.switch_page(page).run()
    next(b for b in at.sidebar.button if b.label == "Add this view to the report").click().run()


def _report_items(at) -> list[tuple[str, str]]:
    """(title, selection) of every item the Report page shows."""
    shown = [m.value for m in at.markdown]
    titles = [v for v in shown if re.match(r"\*\*\d+\. ", v)]
    selections = [v for v in shown if v.startswith("Selection: ")]
    return list(zip(titles, selections, strict=True))


@pytest.mark.app
def test_two_views_under_their_own_filters_and_comments_survive_a_reload():
    from tests.test_app import assert_healthy, new_app

    at = new_app(filter="sex=Female").run()
    _add(at, "app_pages/explorer.py")
    at.sidebar.multiselect(key="w_filter_sex").set_value(["Male"]).run()
    _add(at, "app_pages/safety.py")
    at.switch_page("app_pages/report.py").run()
    assert_healthy(at)
    assert [s for _, s in _report_items(at)] == ["Selection: Population MITT · sex in \\{Female\\}",
                                                  "Selection: Population MITT · sex in \\{Male\\}"]
    boxes = [t for t in at.text_area if t.label == "Comment"]
    boxes[0].input(f"Women: {EVIL}").run()
    [t for t in at.text_area if t.label == "Comment"][1].input("Men: fewer events").run()
    assert "report" in at.query_params  # the address holds the report from now on

    again = new_app(**at.query_params).run()  # a reload: a new session from the address alone
    again.switch_page("app_pages/report.py").run()
    assert_healthy(again)
    assert _report_items(again) == [
        ("**1. Endpoint explorer**", "Selection: Population MITT · sex in \\{Female\\}"),
        ("**2. Safety**", "Selection: Population MITT · sex in \\{Male\\}")]
    comments = [t.value for t in again.text_area if t.label == "Comment"]
    assert comments == [f"Women: {EVIL}", "Men: fewer events"]
    # The sidebar shows the current view (the safety page's, men), not the items' own
    assert again.sidebar.multiselect(key="w_filter_sex").value == ["Male"]

    # Open the first item: its view (women) on its page; adding it again rebuilds it, comment kept
    next(b for b in again.button if b.key == "open_0").click().run()
    assert_healthy(again)
    assert again.sidebar.multiselect(key="w_filter_sex").value == ["Female"]
    assert any(t.value == "Endpoint explorer" for t in again.title)
    next(b for b in again.sidebar.button if b.label == "Add this view to the report").click().run()
    again.switch_page("app_pages/report.py").run()
    assert len(_report_items(again)) == 2
    assert next(t.value for t in again.text_area if t.label == "Comment") == f"Women: {EVIL}"
    captions = [c.value for c in again.caption]
    assert sum("Reopened from the address" in c for c in captions) == 1  # only the second now
    assert any(re.match(r"\d+ table\(s\), \d+ figure\(s\) · added ", c) for c in captions)


@pytest.mark.app
@pytest.mark.parametrize("value", ["r1.garbage!", "r9.abc", _packed(b'[["/nowhere", ""]]'),
                                   _packed(b'[["https://evil.example", ""]]')])
def test_a_report_address_that_cannot_be_read_says_so_and_opens_empty(value):
    from tests.test_app import assert_healthy, new_app

    at = new_app(report=value).run()
    at.switch_page("app_pages/report.py").run()
    assert_healthy(at)
    assert any("The report in this address could not be read" in w.value for w in at.sidebar.warning)
    assert any("No view yet" in i.value for i in at.info)
    assert "report" not in at.query_params  # the address no longer carries what could not be read


def _tables(items_: list[ReportItem]) -> list[list[pd.DataFrame]]:
    return [[b[2] for b in item.blocks if b[0] == "table"] for item in items_]


@pytest.mark.app
def test_rebuild_brings_back_the_same_tables_and_figures_after_a_reload():
    from tests.test_app import assert_healthy, new_app

    at = new_app(filter="sex=Female", ep="ODI").run()
    _add(at, "app_pages/explorer.py")
    at.sidebar.multiselect(key="w_filter_sex").set_value(["Male"]).run()
    _add(at, "app_pages/baseline.py")
    at.switch_page("app_pages/report.py").run()
    next(t for t in at.text_area if t.label == "Comment").input("kept").run()
    before = list(at.session_state["report_items"])
    assert all(item.blocks for item in before)

    again = new_app(**at.query_params).run()
    again.switch_page("app_pages/report.py").run()
    assert all(not item.blocks for item in again.session_state["report_items"])
    assert "Reopened from the address" in " ".join(c.value for c in again.caption)
    next(b for b in again.button if b.key == "report_rebuild").click().run()
    assert_healthy(again)
    assert any(t.value == "Report" for t in again.title)  # back on the Report page
    after = list(again.session_state["report_items"])
    assert [i.link for i in after] == [i.link for i in before] and after[0].comment == "kept"
    assert [[b[0] for b in i.blocks] for i in after] == [[b[0] for b in i.blocks] for i in before]
    for old, new in zip(_tables(before), _tables(after), strict=True):  # the same numbers
        assert len(old) == len(new) > 0 and all(a.equals(b) for a, b in zip(old, new, strict=True))
    # the reader's own view (men, ODI, as the address said) is back, and so is the sidebar
    assert again.sidebar.multiselect(key="w_filter_sex").value == ["Male"]
    assert again.query_params.get("ep") == "ODI" and "report" in again.query_params
    assert not any(b.key == "report_rebuild" for b in again.button)


@pytest.mark.security
def test_a_crafted_report_address_shows_its_texts_as_text():
    """Comments and link values are the address's, so anybody's: never markup on the page, in the
    HTML report or in a link of another site."""
    from urllib.parse import quote

    from tests.test_app import assert_healthy, new_app

    markdown = "[click](https://evil.example) **bold** :red[x] $x$"
    link = "/explorer?filter=" + quote(f"sex={markdown}|{EVIL}")
    value = core.encode_entries([(link, f"{EVIL} {markdown}")])
    at = new_app(report=value).run()
    at.switch_page("app_pages/report.py").run()
    assert_healthy(at)
    (selection,) = [m.value for m in at.markdown if m.value.startswith("Selection: ")]
    assert selection == "Selection: " + md_escape(f"Population MITT · sex in {{{markdown}, {EVIL}}}")
    assert [t.value for t in at.text_area if t.label == "Comment"] == [f"{EVIL} {markdown}"]  # as typed
    page = render_html(list(at.session_state["report_items"]), "R", "p", synthetic=False)
    assert EVIL not in page and html.escape(f"{EVIL} {markdown}") in page
    body = page.split("</head>", 1)[1]  # (plotly.js, in the head, has links of its own)
    assert [h[:10] for h in re.findall(r"href='([^']*)'", body)] == ["/explorer?"]


def test_a_report_says_of_synthetic_data_what_the_study_says():
    """The twin cites the paper it reproduces; a synthetic study that cites none is only called
    synthetic, in the HTML, the Word file and on the pages alike (one text)."""
    from dataclasses import replace

    from docx import Document

    from respine.io import load_trial
    from respine.present.labels import synthetic_notice
    from respine.ui.render import synthetic_notice as banner
    from tests.conftest import REPO

    twin = load_trial(REPO / "data").design
    plain = replace(twin, short_citation="")
    assert "built to reproduce the published results" in synthetic_notice(twin)
    for design in (twin, plain):
        notice = synthetic_notice(design)
        page = render_html(items(), "Report", "p", synthetic=True, notice=notice)
        doc = Document(io.BytesIO(render_docx(items(), "Report", "p", synthetic=True, notice=notice,
                                              images=False)))
        text = " ".join(p.text for p in doc.paragraphs)
        assert html.escape(notice, quote=False) in page and notice in text
        assert ("built to reproduce" in page) == bool(design.short_citation) == ("built to reproduce" in text)
        assert banner(design).replace("\\", "").endswith(notice)
