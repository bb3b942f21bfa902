"""Browser tier: a report lasts. Two views added under their own filters, with comments, survive a
reload of the tab (the report is in the address), and both downloads write each view under its
own selection with its comment; the Word file has the figures and its own document properties,
and again after "Rebuild" has opened each view of the reopened report."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.browser.test_browser import UPDATE_TIMEOUT_MS, open_app, wait_idle
from tests.browser.test_browser_flows import go, healthy

try:
    from playwright.sync_api import Page, expect
except ImportError:
    Page = expect = None

SIDEBAR = '[data-testid="stSidebar"]'
MULTISELECT = '[data-testid="stMultiSelect"]'
LABEL = '[data-testid="stWidgetLabel"]'
CHIPS = ".react-aria-ComboBox"
WOMEN = "Women only: <b>not bold</b> & fine"
MEN = "Men: the safety table\nsecond line"
FEMALE_SELECTION = "Selection: Population MITT · sex in {Female}"
MALE_SELECTION = "Selection: Population MITT · sex in {Male}"


def add_view(page: Page, views: int) -> None:
    page.get_by_role("button", name="Add this view to the report").click()
    expect(page.get_by_text(f"to the report ({views} views)", exact=False)).to_be_visible(
        timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)


def switch_sex_to_male(page: Page) -> None:
    """In the sidebar's Sex filter: choose Male, then remove Female, as a person would."""
    sidebar = page.locator(SIDEBAR)
    widget = sidebar.locator(MULTISELECT).filter(has=page.locator(LABEL, has_text=re.compile("^Sex$")))
    widget.get_by_role("combobox").click()
    page.get_by_role("option", name="Male", exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    widget.locator(f'{CHIPS} button[aria-label="Remove Female"]').click()
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"filter=sex%3DMale(&|$)"), timeout=UPDATE_TIMEOUT_MS)


def comment(page: Page, index: int, text: str) -> None:
    box = page.get_by_label("Comment").nth(index)
    box.fill(text)
    box.press("Control+Enter")  # Streamlit's text area sends its value on Ctrl+Enter (or on blur)
    wait_idle(page)


def download(page: Page, button: str, target: Path) -> Path:
    wait_idle(page)  # a click on a button a rerun is replacing starts no download
    with page.expect_download(timeout=90_000) as info:
        page.get_by_role("button", name=button).click()
    info.value.save_as(target)
    return target


@pytest.mark.browser
def test_a_report_keeps_each_views_selection_and_comment_across_a_reload(page: Page, tmp_path: Path) -> None:
    from docx import Document

    open_app(page, "/explorer?filter=sex%3DFemale")
    add_view(page, 1)
    switch_sex_to_male(page)
    go(page, "Safety")
    add_view(page, 2)
    go(page, "Report")
    expect(page.get_by_text(FEMALE_SELECTION, exact=True)).to_be_visible()
    expect(page.get_by_text(MALE_SELECTION, exact=True)).to_be_visible()
    comment(page, 0, WOMEN)
    comment(page, 1, MEN)
    expect(page).to_have_url(re.compile(r"[?&]report=r1\."), timeout=UPDATE_TIMEOUT_MS)
    healthy(page)

    # The Word file while the views' contents are in the session: figures and properties
    doc = Document(io.BytesIO(download(page, "Download Word", tmp_path / "report.docx").read_bytes()))
    texts = [p.text for p in doc.paragraphs]
    assert texts.index(FEMALE_SELECTION) < texts.index(f"Comment: {WOMEN}") < texts.index(MALE_SELECTION) \
        < texts.index(f"Comment: {MEN}")
    assert len(doc.inline_shapes) >= 1  # the explorer's figures, as pictures
    props = doc.core_properties
    assert props.title == "RESPINE results report" and props.author == "RESPINE results explorer"
    assert props.subject and props.subject != props.title and props.created.year >= 2025

    # A reload is a new session: the address alone brings the report back
    page.reload()
    expect(page.get_by_role("heading", name="Report", exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    healthy(page)
    expect(page.get_by_text("2 view(s), each under the selection", exact=False)).to_be_visible()
    expect(page.get_by_text(FEMALE_SELECTION, exact=True)).to_be_visible()
    expect(page.get_by_text(MALE_SELECTION, exact=True)).to_be_visible()
    boxes = page.get_by_label("Comment")
    expect(boxes.nth(0)).to_have_value(WOMEN)
    expect(boxes.nth(1)).to_have_value(MEN)

    html = download(page, "Download HTML report", tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.index("sex in {Female}") < html.index("Women only: &lt;b&gt;not bold&lt;/b&gt; &amp; fine") \
        < html.index("sex in {Male}") < html.index("Men: the safety table\nsecond line")
    assert "<b>not bold</b>" not in html

    # Rebuild: each view is opened in turn and the tables and figures are back in the Word file
    page.get_by_role("button", name=re.compile(r"^Rebuild the tables and figures of 2 view")).click()
    expect(page.get_by_role("button", name=re.compile("^Rebuild the tables"))).to_have_count(
        0, timeout=60_000)
    expect(page.get_by_role("heading", name="Report", exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    healthy(page)
    expect(page.get_by_text("Reopened from the address", exact=False)).to_have_count(0)
    expect(boxes.nth(0)).to_have_value(WOMEN)
    rebuilt = Document(io.BytesIO(download(page, "Download Word", tmp_path / "again.docx").read_bytes()))
    assert len(rebuilt.inline_shapes) == len(doc.inline_shapes)
    assert [len(t.rows) for t in rebuilt.tables] == [len(t.rows) for t in doc.tables]
    assert "filter=sex%3DMale" in page.url  # the reader's own view is back (the last one, men)
