"""Browser tier: labels from the data that are Markdown, LaTeX, directives, shortcodes or HTML are
shown as the text they are, in Chromium: on every page, in figures and in the HTML report.

The hostile study (tests/test_markup.py) has images that point at a small HTTP server of this
module; it records every request, and must get none. No page may hold an image of it, a link to
the planted address, a typeset formula or a coloured span or icon made from data text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from respine.present.fmt import WORD_JOINER
from tests.browser.conftest import free_port, page_factory, serve_app
from tests.browser.test_browser import CHART, UPDATE_TIMEOUT_MS, wait_idle
from tests.browser.test_browser_flows import go, healthy, open_plain, report_opened_offline
from tests.test_markup import write_hostile_study

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    Page = expect = None

MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
# Every page, by its address and its heading (the overview's heading is the study id's).
PAGES = {
    "/": "RESPINE: study overview",
    "/explorer": "Endpoint explorer",
    "/responders": "Responders",
    "/profile": "Responder profile",
    "/subgroups": "Subgroups",
    "/trajectories": "Over time",
    "/mri": "MRI: disc fluid content",
    "/robustness": "Robustness",
    "/baseline": "Baseline characteristics",
    "/flow": "Participant flow",
    "/safety": "Safety",
    "/missing": "Missing data",
    "/patient": "Patient profile",
    "/listings": "Data listings",
    "/paper": "Reproduce the paper",
    "/data": "Load data",
    "/report": "Report",
    "/settings": "Settings",
}
# A 1x1 transparent PNG: what the recorder answers, so a fetched image would load.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000005000178a7d1fa0000000049454e44ae426082"
)


class Recorder(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that keeps the path of every request it gets."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        self.requests: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.end_headers()
                self.wfile.write(PIXEL)

            do_HEAD = do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hostile_server(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory):
    """The app served on the hostile study (RESPINE_DATA, for this server only): the base URL and
    the hostile labels."""
    folder, labels = write_hostile_study(tmp_path_factory.mktemp("markup") / "study",
                                         recorder.server_address[1])
    logs = tmp_path_factory.mktemp("markup_server")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESPINE_DATA", str(folder))
        with serve_app(logs) as base_url:
            yield base_url, labels


@pytest.fixture
def hostile_page(browser, hostile_server):
    base_url, _ = hostile_server
    with page_factory(browser, base_url) as make:
        yield make()


def literal(text: str) -> str:
    """Text as a reader sees it (word joiners are invisible)."""
    return text.replace(WORD_JOINER, "")


def assert_no_markup_from_data(page: Page, port: int, where: str = MAIN) -> None:
    """No image of the recorder, no planted link, no formula, no coloured span, no icon of data."""
    area = page.locator(where)
    # Markdown that needs a plugin (LaTeX, emoji) shows a skeleton until the plugin has loaded
    expect(area.locator('[data-testid="stSkeleton"]')).to_have_count(0, timeout=UPDATE_TIMEOUT_MS)
    images = area.locator(f'img[src*="127.0.0.1:{port}"], img[src="x"]')
    assert images.count() == 0, (page.url, [i.get_attribute("src") for i in images.all()])
    links = area.locator('a[href*="evil.example"]')
    assert links.count() == 0, (page.url, [a.get_attribute("href") for a in links.all()])
    assert area.locator(".katex").count() == 0, page.url
    assert area.locator('[class*="stMarkdownColored"]').count() == 0, page.url
    assert area.locator('[aria-label="home icon"]').count() == 0, page.url
    markdown = area.locator('[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"]')
    bold = markdown.locator(":is(strong, b)", has_text=re.compile(r"^bold$"))
    assert bold.count() == 0, page.url  # "**bold**" and "<b>bold</b>" of a label made bold
    assert "😄" not in area.first.inner_text(), page.url


@pytest.mark.browser
def test_every_page_shows_data_markup_as_text(hostile_page: Page, hostile_server, recorder: Recorder):
    page = hostile_page
    _, labels = hostile_server
    port = recorder.server_address[1]
    seen = []
    for path, heading in PAGES.items():
        open_plain(page, path, heading)
        if path in ("/", "/explorer", "/subgroups", "/robustness", "/missing"):
            expect(page.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
            wait_idle(page)
        healthy(page)
        assert_no_markup_from_data(page, port)
        seen.append(literal(page.locator(MAIN).inner_text()))
    text = "\n".join(seen)
    for key in ("arm", "reference", "visit", "population", "population_label", "covariate", "title"):
        assert labels[key] in text, (key, labels[key])
    assert recorder.requests == [], recorder.requests


@pytest.mark.browser
def test_figures_show_data_markup_as_text(hostile_page: Page, hostile_server, recorder: Recorder):
    page = hostile_page
    _, labels = hostile_server
    open_plain(page, "/explorer", "Endpoint explorer")
    chart = page.locator(CHART).first
    expect(chart.locator("svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    legend = [literal(t) for t in chart.locator(".legendtext").all_text_contents()]
    assert labels["arm"] in legend and labels["reference"] in legend, legend
    ticks = " ".join(chart.locator(".xtick text").all_text_contents())
    assert labels["visit"] in ticks, ticks
    assert chart.locator("a, image").count() == 0  # plotly drew no link and no image
    go(page, "Subgroups")
    forest = page.locator(CHART).first
    expect(forest.locator("svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    ticks = " ".join(forest.locator(".ytick text").all_text_contents())
    assert labels["level"] in ticks, ticks
    assert recorder.requests == [], recorder.requests


@pytest.mark.browser
def test_html_report_shows_data_markup_as_text(hostile_page: Page, hostile_server, recorder: Recorder,
                                               browser, tmp_path: Path):
    page = hostile_page
    _, labels = hostile_server
    open_plain(page, "/explorer", "Endpoint explorer")
    expect(page.locator(f"{CHART} svg.main-svg").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_role("button", name="Add this view to the report").click()
    expect(page.get_by_text("to the report (1 views)", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    go(page, "Report")
    with report_opened_offline(page, browser, tmp_path) as view:
        fetched: list[str] = []
        view.on("request", lambda r: fetched.append(r.url))
        view.reload()
        expect(view.locator("svg.main-svg").first).to_be_visible(timeout=15_000)
        body = literal(view.locator("body").inner_text())
        assert labels["visit"] in body and labels["population_label"] in body, body[:2000]
        legend = [literal(t) for t in view.locator(".legendtext").all_text_contents()]
        assert labels["arm"] in legend and labels["reference"] in legend, legend
        assert view.locator("img, image, .katex").count() == 0
        assert view.locator('a[href*="evil.example"]').count() == 0
        assert [u for u in fetched if not u.startswith("file:")] == [], fetched
    assert recorder.requests == [], recorder.requests


@pytest.mark.browser
def test_the_sidebar_shows_data_markup_as_text(hostile_page: Page, hostile_server, recorder: Recorder):
    page = hostile_page
    _, labels = hostile_server
    open_plain(page, "/", PAGES["/"])
    # a subgroup filter on the hostile covariate: its slider is labelled with the covariate's label
    page.get_by_role("combobox", name="Subgroup filters", exact=True).click()
    page.get_by_role("option", name=labels["covariate"], exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    assert_no_markup_from_data(page, recorder.server_address[1], SIDEBAR)
    assert recorder.requests == [], recorder.requests
