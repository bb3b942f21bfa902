"""Browser tier, through the balancer: a reader in Chromium signs in on the hosted topology
(``scripts/cluster.sh``: HAProxy in front of two replicas), changes the population, reloads, and
keeps the view; when the replica that holds the reader dies, a reload lands on the other one and
opens the same view from the link after the password."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import page_factory
from tests.browser.test_browser import UPDATE_TIMEOUT_MS, choose, combobox, query, wait_idle
from tests.browser.test_browser_hosting import password_form
from tests.cluster import Cluster, run_cluster

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

PASSWORD = "correct horse battery"
SECRETS = f'[access]\npassword = "{PASSWORD}"\ntrusted_proxies = 1\n'
RENDER_MS = 90_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    with run_cluster(tmp_path_factory.mktemp("browser-cluster"), SECRETS) as running:
        yield running


def sign_in(page: Page) -> None:
    expect(password_form(page)).to_be_visible(timeout=RENDER_MS)
    password_form(page).fill(PASSWORD)
    page.get_by_role("button", name="Open the explorer").click()
    expect(combobox(page, "Endpoint")).to_be_visible(timeout=RENDER_MS)
    wait_idle(page)


def replica(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "RESPINE_REPLICA")


def view(page: Page) -> tuple[str, str, str]:
    """What says which view is shown: the population, the endpoint, the sidebar's subject count."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    count = sidebar.get_by_text(re.compile(r"of \d+ subjects in")).inner_text()
    return (combobox(page, "Population").input_value(), combobox(page, "Endpoint").input_value(), count)


def test_sign_in_change_the_view_reload_and_survive_a_dead_replica(browser, cluster) -> None:
    with page_factory(browser, cluster.url) as new_page:
        page = new_page()
        page.goto("/explorer?ep=ODI")
        sign_in(page)
        choose(page, "Population", "PP: Per protocol")
        expect(page.locator('[data-testid="stSidebar"]').get_by_text(
            re.compile(r"of \d+ subjects in PP"))).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
        wait_idle(page)
        assert query(page.url).get("pop") == ["PP"], page.url
        before, held_by = view(page), replica(page)

        # A reload is a new session on the same replica (affinity): password again, same view.
        page.reload()
        sign_in(page)
        assert view(page) == before and replica(page) == held_by

        # The replica dies: the reader's next reload lands on the other one, with the same view.
        cluster.kill(1 if held_by == "app1" else 2)
        page.reload()
        sign_in(page)
        assert view(page) == before
        assert replica(page) != held_by
        assert query(page.url).get("pop") == ["PP"] and query(page.url).get("ep") == ["ODI"], page.url
