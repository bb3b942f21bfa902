"""Browser tier: the real app in headless Chromium.

Every page renders, the overview shows the primary result, links round-trip through the URL,
an absurd link degrades to a warning, downloads are CSV, and widgets update what is shown.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from respine.ui import pages

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    Locator = Page = expect = None

RENDER_TIMEOUT_MS = 60_000  # the first run of a session on a cold 2-core machine
AFTER_FAILURE_TIMEOUT_MS = 15_000  # once a page failed to draw, later ones fail fast
_render_failures: list[str] = []
# How long a rerun may take: generous, because it only costs time when a test fails, and the
# browser tier runs on 2 cores beside the app server, Chromium and (in a full run) the suite.
UPDATE_TIMEOUT_MS = 45_000

EXCEPTION = '[data-testid="stException"]'
ALERT = '[data-testid="stAlert"]'
CHART = '[data-testid="stPlotlyChart"]'
DATAFRAME = '[data-testid="stMain"] [data-testid="stDataFrame"]'

# The pages this tier opens (their addresses come from the page registry), with the heading each
# draws; a page renamed or dropped from the registry fails here, not silently.
HEADINGS = {"": "RESPINE: study overview", "explorer": "Endpoint explorer", "responders": "Responders"}
PAGES = {p.path: HEADINGS[p.url_path] for p in pages.PAGES if p.url_path in HEADINGS}
assert len(PAGES) == len(HEADINGS), f"not registered: {set(HEADINGS) - {p.url_path for p in pages.PAGES}}"


def open_app(page: Page, path: str) -> Page:
    """Open a path of the app and wait until its run has drawn the page and a chart."""
    page.goto(path)
    # A chart is drawn once plotly has put its SVG in the chart's frame; an exception ends the wait.
    drawn = page.locator(f"{CHART} svg.main-svg").first
    timeout = AFTER_FAILURE_TIMEOUT_MS if _render_failures else RENDER_TIMEOUT_MS
    try:
        expect(drawn.or_(page.locator(EXCEPTION).first)).to_be_visible(timeout=timeout)
    except AssertionError:
        _render_failures.append(path)
        alerts = " | ".join(page.locator(ALERT).all_inner_texts()) or "none"
        pytest.fail(f"{page.url}: no chart drawn within {timeout / 1000:.0f} s; "
                    f"alerts shown: {alerts}", pytrace=False)
    assert_no_exception(page)
    expect(drawn).to_be_visible()
    wait_idle(page)
    return page


def wait_idle(page: Page) -> None:
    """Wait until Streamlit is not running the script (no status widget, no stale elements).

    Idle must hold at two looks 300 ms apart: the status widget appears only some time after a
    rerun starts, so one look right after a click can see the quiet moment before the run.
    """
    status = page.locator('[data-testid="stStatusWidget"]')
    stale = page.locator('[data-stale="true"]')
    deadline = time.monotonic() + UPDATE_TIMEOUT_MS / 1000
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            pytest.fail(f"{page.url}: the app did not stay idle within {UPDATE_TIMEOUT_MS / 1000:.0f} s",
                        pytrace=False)
        remaining_ms = max(1_000.0, (deadline - time.monotonic()) * 1000)
        expect(status).to_have_count(0, timeout=remaining_ms)
        expect(stale).to_have_count(0, timeout=remaining_ms)
        quiet += 1
        if quiet < 2:
            page.wait_for_timeout(300)
            quiet = quiet if status.count() == 0 and stale.count() == 0 else 0


def assert_no_exception(page: Page) -> None:
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        texts = "\n---\n".join(t[:2000] for t in exceptions.all_inner_texts())
        pytest.fail(f"Uncaught exception shown on {page.url}:\n{texts}", pytrace=False)


def combobox(page: Page, label: str) -> Locator:
    return page.get_by_role("combobox", name=label, exact=True)


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``, as a person would."""
    combobox(page, label).click()
    page.get_by_role("option", name=option, exact=True).click()


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def table_text(table: Locator) -> str:
    """The text of a dataframe's cells (st.dataframe draws on a canvas; its cells are in a grid)."""
    return " | ".join(table.locator("td").all_inner_texts())


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders(page: Page, path: str) -> None:
    open_app(page, path)
    expect(page.get_by_role("heading", name=PAGES[path], exact=True)).to_be_visible()
    banner = page.locator(ALERT).filter(has_text="Synthetic data.")
    expect(banner).to_have_count(1)
    expect(banner).to_be_visible()
    assert page.locator(CHART).count() >= 1
    assert_no_exception(page)


@pytest.mark.browser
def test_overview_shows_the_primary_result(page: Page) -> None:
    open_app(page, "/")
    expected = {"BM-MSC responders": "74%", "Sham responders": "69%", "p-value": "0.77"}
    for label, value in expected.items():
        metric = page.locator('[data-testid="stMetric"]').filter(
            has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
        expect(metric).to_have_count(1)
        expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(value)
    assert_no_exception(page)


@pytest.mark.browser
def test_link_round_trip(new_page) -> None:
    page = open_app(new_page(), "/explorer?ep=ODI&visit=6")
    expect(combobox(page, "Endpoint")).to_have_value("Oswestry Disability Index")
    expect(combobox(page, "Visit for the comparison")).to_have_value("Month 6")

    choose(page, "Endpoint", "SF-36 physical component summary")
    expect(page).to_have_url(re.compile(r"[?&]ep=SF36PCS(&|$)"), timeout=UPDATE_TIMEOUT_MS)
    expect(combobox(page, "Endpoint")).to_have_value("SF-36 physical component summary")
    wait_idle(page)
    assert_no_exception(page)
    link = page.url
    assert query(link).get("visit") == ["6"], f"the visit was lost from the link: {link}"

    # The link alone (a new context shares no session, cookies or storage) reopens the view.
    other = open_app(new_page(), link)
    expect(combobox(other, "Endpoint")).to_have_value("SF-36 physical component summary")
    expect(combobox(other, "Visit for the comparison")).to_have_value("Month 6")
    assert query(other.url).get("ep") == ["SF36PCS"]
    assert_no_exception(other)


@pytest.mark.browser
def test_absurd_link_shows_a_warning_not_an_exception(page: Page) -> None:
    open_app(page, "/explorer?ep=NOPE&visit=999&pop=%3Cscript%3E")
    notes = page.locator(f'[data-testid="stSidebar"] {ALERT}')
    expect(notes.filter(has_text="'NOPE' is not a valid endpoint")).to_be_visible()
    expect(notes.filter(has_text="Visit '999' does not exist")).to_be_visible()
    # The bad value is shown as text, not run as markup.
    expect(notes.filter(has_text="'<script>' is not a valid population")).to_be_visible()
    expect(page.locator('[data-testid="stSidebar"] script')).to_have_count(0)
    # The view fell back to the defaults and still works.
    expect(combobox(page, "Endpoint")).to_have_value("Low back pain VAS")
    expect(combobox(page, "Visit for the comparison")).to_have_value("Month 12")
    assert_no_exception(page)
    assert "ep" not in query(page.url) and "pop" not in query(page.url), page.url


@pytest.mark.browser
def test_download_csv(page: Page) -> None:
    open_app(page, "/")
    # The first table of the overview and its own download button, drawn just below it.
    table = page.locator(DATAFRAME).first
    expect(table.locator("th").first).to_be_attached()
    columns = [c.strip() for c in table.locator("th").all_inner_texts()]
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download CSV").first
    with page.expect_download(timeout=UPDATE_TIMEOUT_MS) as info:
        button.get_by_role("button").click()
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    raw = Path(download.path()).read_bytes()
    text = raw.decode("utf-8-sig")  # a byte-order mark (for Excel) is allowed
    assert "<html" not in text.lower() and "\x00" not in text, text[:200]
    # the file starts with what the table shows, as comment lines (respine.present.export)
    assert text.startswith("# populations\n") and "# Selection: " in text, text[:300]
    rows = list(csv.reader(line for line in io.StringIO(text) if not line.startswith("#")))
    assert len(rows) >= 2, f"expected a header row and data rows, got {text!r}"
    header = rows[0]
    assert len(header) >= 2 and all(h.strip() for h in header), f"not a CSV header row: {header!r}"
    assert header == columns, f"the CSV header {header} is not the table's columns {columns}"
    assert all(len(row) == len(header) for row in rows[1:]), text


@pytest.mark.browser
def test_slider_updates_the_responder_table(page: Page) -> None:
    open_app(page, "/responders")
    table = page.locator(DATAFRAME).first
    # The grid draws on a canvas; its cells stay in the DOM for accessibility, not visible.
    expect(table.locator("td").first).to_be_attached()
    before = table_text(table)
    assert "/" in before, f"expected responder counts like 37/50 in the table: {before!r}"

    slider = page.locator('[data-testid="stSlider"]').filter(has_text="VAS improvement at least (mm)")
    thumb = slider.get_by_role("slider")
    start = float(thumb.input_value())
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(thumb).to_have_value(f"{start + 20:g}")
    expect(page).to_have_url(re.compile(rf"[?&]vas_mm={start + 20:g}(&|$)"), timeout=UPDATE_TIMEOUT_MS)

    deadline = time.monotonic() + UPDATE_TIMEOUT_MS / 1000
    after = table_text(table)
    while after == before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        after = table_text(table)
    assert after != before, f"the responder table did not change after moving the slider: {after!r}"
    wait_idle(page)
    assert_no_exception(page)
    assert table_text(table) != before, "the responder table went back to the old values"
