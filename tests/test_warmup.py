"""The warm-up at server start (:mod:`respine.ui.warmup`), on a real server (``streamlit run
serve.py``): every page's default view is computed before any reader comes, into the very cache
entries a reader's first view then uses, and the warm-up's own runs admit nobody.

Loopback only, one server a test, bounded in time.
"""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path

import pytest

from respine.io import load_trial
from respine.ui import warmup
from respine.ui.pages import PAGES
from tests.browser.conftest import serve_app
from tests.wsclient import StreamlitClient, browser_cookies

pytestmark = [pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
FINISHED = re.compile(r"Warm-up finished in [0-9.]+ s: (.*)")
DATA_CACHE = re.compile(r'^cache_memory_bytes\{cache_type="st_cache_data",cache="([^"]+)"\} (\d+)', re.M)


def warmup_report(logs: Path, timeout: float = 200) -> dict[str, str]:
    """The per-page outcome the server logged when its warm-up finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
        found = FINISHED.search(text)
        if found:
            outcome = r"/(\S*) ((?:ok|error|stopped|skipped|not offered)[^,]*(?:, \d+ elements)?)"
            return dict(re.findall(outcome, found.group(1)))
        time.sleep(0.25)
    pytest.fail("the server never logged the end of its warm-up:\n" + text[-3000:], pytrace=False)


def data_caches(url: str) -> dict[str, int]:
    """Bytes held by each st.cache_data cache (Streamlit's metrics endpoint)."""
    with urllib.request.urlopen(url + "/_stcore/metrics", timeout=30) as answer:
        return {name: int(size) for name, size in DATA_CACHE.findall(answer.read().decode())}


def shown_pages() -> list[str]:
    trial = load_trial(REPO / "data")
    return [p.url_path for p in PAGES if p.shown(trial)]


def test_every_default_view_is_cached_before_the_first_reader_with_the_readers_keys(tmp_path):
    """Before any session: the log lists every page of the twin's navigation as warmed ("ok", and
    drawn: more than the frame's few elements), the caches hold results. Then a reader opens
    every page's default view: no cache grows by a byte, so each result the reader needed was
    the one the warm-up computed (the same key)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs) as url:
        report = warmup_report(logs)
        for path in shown_pages():
            assert report.get(path, "").startswith("ok"), (path, report)
            elements = int(report[path].rsplit(", ", 1)[1].split()[0])
            assert elements > 6, (path, report[path])  # the page ran: the frame alone draws 5 or 6
        assert report["survival"] == "not offered for these data"  # the twin has no time to event
        before = data_caches(url)
        assert before.get("respine.ui.cache.run.sensitivity", 0) > 0, before  # robustness, warmed
        assert len([name for name in before if ".run." in name]) >= 20, before
        cookies = browser_cookies(url)
        for path in shown_pages():
            with StreamlitClient(url, cookies, page=path) as client:
                run = client.rerun()
                assert run.finished and "Something went wrong" not in run.texts(), (path, run.texts())
        after = data_caches(url)
        grown = {k: (before.get(k), v) for k, v in after.items() if v != before.get(k)}
        assert not grown, f"a reader's default view computed what the warm-up had not: {grown}"


def test_a_password_deployment_is_warmed_and_its_gate_stays_shut(tmp_path):
    """With a password configured the warm-up still computes every page (its runs pass the gate
    by their own session id), and a client that has not given the password sees the password form
    and none of the warmed views."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[access]\npassword = "{PASSWORD}"\n', encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs, "--secrets.files", str(secrets)) as url:
        report = warmup_report(logs)
        assert all(report.get(p, "").startswith("ok") for p in shown_pages()), report
        for page in ("", "robustness", "listings"):
            with StreamlitClient(url, browser_cookies(url), page=page) as client:
                run = client.rerun()
                assert run.finished and "Password" in [e.label for e in run.elements], run.texts()
                assert "Robustness" not in run.texts() and "Tipping point" not in run.texts()


def test_the_warmup_is_bounded_and_can_be_turned_off(monkeypatch):
    """RESPINE_WARMUP_SECONDS sets the limit (0: off); a value that is not a number keeps the
    default, with a log line rather than an error. Without a running server (a script, AppTest)
    nothing starts."""
    monkeypatch.setenv("RESPINE_WARMUP_SECONDS", "0")
    assert warmup.budget() == 0 and warmup.start(REPO / "app.py") is False
    monkeypatch.setenv("RESPINE_WARMUP_SECONDS", "soon")
    assert warmup.budget() == warmup.BUDGET_SECONDS
    monkeypatch.setenv("RESPINE_WARMUP_SECONDS", "-5")
    assert warmup.budget() == 0
    monkeypatch.setenv("RESPINE_WARMUP_SECONDS", "30")
    assert warmup.budget() == 30
    assert warmup.start(REPO / "app.py") is False  # no Streamlit server in this process
    assert not warmup.is_warmup_run()


def test_a_short_limit_stops_the_warmup_and_says_so(tmp_path, monkeypatch):
    """A limit too short for every page: the pages left are skipped, the server log says so, and
    readers are served as usual."""
    monkeypatch.setenv("RESPINE_WARMUP_SECONDS", "0.5")
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs) as url:
        report = warmup_report(logs)
        assert any(v.startswith(("skipped", "stopped")) for v in report.values()), report
        with StreamlitClient(url, browser_cookies(url), page="robustness") as client:
            run = client.rerun()
            assert run.finished and "Tipping point" in run.texts(), run.texts()


@pytest.mark.app
def test_a_session_on_its_own_data_is_told_what_a_reload_brings_back():
    """Data a session loaded live in its server process only: the sidebar says, before any
    connection is lost, that a reload restores the view from the link but the data must be
    loaded again. The server's own data get no such note."""
    from dataclasses import replace

    from streamlit.testing.v1 import AppTest

    from respine.ui import data, frame

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not [c for c in at.sidebar.caption if c.value == frame.LOADED_DATA_NOTE]
    uploaded = replace(load_trial(REPO / "data"), source="upload: subjects.csv [0123456789ab]")
    at.session_state[data.LOADED] = uploaded
    for page in ("app_pages/explorer.py", "app_pages/settings.py"):
        at.switch_page(page).run()
        assert not at.exception
        notes = [c.value for c in at.sidebar.caption if c.value == frame.LOADED_DATA_NOTE]
        assert len(notes) == 1, [c.value for c in at.sidebar.caption]
    assert "reload the page" in frame.LOADED_DATA_NOTE and "loaded again" in frame.LOADED_DATA_NOTE
