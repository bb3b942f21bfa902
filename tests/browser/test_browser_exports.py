"""Browser tier: a table downloaded from a page under a subgroup filter says, inside the file, what
it shows: the endpoint and measure with its unit, the filter, the population, the data and (the
shipped twin) the synthetic-data mark; and the chart on the page carries the same selection as its
subtitle."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from tests.browser.test_browser import CHART, UPDATE_TIMEOUT_MS, open_app, wait_idle
from tests.browser.test_browser_flows import healthy

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    Page = expect = None

DOWNLOAD = '[data-testid="stDownloadButton"]'


@pytest.mark.browser
def test_csv_downloaded_under_a_filter_carries_the_selection(page: Page, tmp_path: Path) -> None:
    open_app(page, "/explorer?filter=sex%3DFemale&pop=PP&measure=pchg")
    healthy(page)
    # the chart's subtitle (drawn by plotly as SVG text) names the filter
    expect(page.locator(CHART).first).to_contain_text("sex in {Female}", timeout=UPDATE_TIMEOUT_MS)
    wait_idle(page)  # a click on a button a rerun is replacing starts no download
    # the first visible one: the per-arm table of the comparison (the course's table is folded)
    button = page.locator(f"{DOWNLOAD}:visible").filter(has_text="Download CSV").first
    with page.expect_download(timeout=90_000) as info:
        button.get_by_role("button").click()
    download = info.value
    assert download.failure() is None, download.failure()
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    raw = target.read_bytes()
    text = raw.decode("utf-8-sig")
    head = [line for line in text.splitlines() if line.startswith("#")]
    selection = next((line for line in head if line.startswith("# Selection: ")), "")
    assert "Per protocol population (PP)" in selection and "sex in {Female}" in selection, head
    assert "data: RESPINE" in selection and "Synthetic data" in selection, head
    assert any(line.startswith("# Synthetic data: ") for line in head), head
    # the cells carry no unit: the file says what they measure, in the measure's unit
    assert "# Endpoint: Low back pain VAS, percent change from baseline (%)" in head, head
    table = pd.read_csv(io.BytesIO(raw), comment="#", encoding="utf-8-sig")
    assert "Arm" in table.columns and len(table) == 2, table.head()  # one row per arm
