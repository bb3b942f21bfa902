"""Browser tier fixtures: the real app served by ``streamlit run`` and a headless Chromium.

Tier policy: without Chromium (or the Playwright package) the tier FAILS when the ``CI``
environment variable is set, so CI never silently skips it; outside CI it is skipped with the
reason. A Streamlit server that does not come up is always a failure, with its stderr tail.

Chromium is Debian's (``/usr/bin/chromium``), not Playwright's bundled build; set
``RESPINE_CHROMIUM`` to use another binary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 60.0
VIEWPORT = {"width": 1400, "height": 1000}
ACTION_TIMEOUT_MS = 30_000


def in_ci() -> bool:
    """True when the ``CI`` variable is set (to anything but an explicit false)."""
    value = os.environ.get("CI")
    return value is not None and value.strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Fail under CI, skip otherwise: the browser tier must never be skipped silently in CI."""
    if in_ci():
        pytest.fail(f"Browser tier cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tier skipped (set CI to make this a failure): {reason}")


def find_chromium() -> str | None:
    """The Chromium binary: ``RESPINE_CHROMIUM`` if set, else Debian's, else one on PATH."""
    override = os.environ.get("RESPINE_CHROMIUM")
    if override:
        path = Path(override)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output captured)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def health_ok(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.read().decode("utf-8", "replace").strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def answers(base_url: str) -> bool:
    """The server answers HTTP at all (any status)."""
    try:
        urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return True


def stop(process: subprocess.Popen) -> None:
    """Stop the server's process group (it was started in a new session), then reap it."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        where = os.environ.get("RESPINE_CHROMIUM") or DEFAULT_CHROMIUM
        unavailable(f"Chromium not found at {where!r} (install Debian's chromium, or set "
                    "RESPINE_CHROMIUM to a Chromium binary).")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"the playwright package is not installed ({exc}).")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                                  args=CHROMIUM_ARGS)
        except Exception as exc:
            # Chromium is there but does not start: a broken environment, never a skip.
            pytest.fail(f"Chromium at {chromium_path!r} did not start: {exc}", pytrace=False)
        yield chromium
        chromium.close()


@contextmanager
def serve_app(logs: Path, *extra: str, script: str = "serve.py", healthy: bool = True) -> Iterator[str]:
    """Serve the app as deployed (``streamlit run serve.py``: app.py behind the hosting guard) on a
    free local port (plus ``extra`` options, such as ``--secrets.files``); yields the base URL, no
    trailing slash. Server logs go to ``logs``. With ``healthy=False`` any HTTP answer of the health
    check will do (a server that refuses to serve its app on purpose)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Serve one snapshot of the code: no reloads if files change while the tier runs.
        "--server.fileWatcherType", "none",
        *extra,
    ]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not (health_ok(base_url) if healthy else answers(base_url)):
            if process.poll() is not None:
                pytest.fail(f"The Streamlit server exited with code {process.returncode} before "
                            f"answering {base_url}/_stcore/health.\n--- stderr tail ---\n"
                            f"{tail(err_path)}\n--- stdout tail ---\n{tail(out_path)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"The Streamlit server did not answer {base_url}/_stcore/health with "
                            f"'ok' within {SERVER_START_TIMEOUT:.0f} s.\n--- stderr tail ---\n"
                            f"{tail(err_path)}\n--- stdout tail ---\n{tail(out_path)}", pytrace=False)
            time.sleep(0.25)
        yield base_url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the shipped data, open (no secrets)."""
    with serve_app(tmp_path_factory.mktemp("streamlit")) as base_url:
        yield base_url


@contextmanager
def page_factory(browser, base_url: str) -> Iterator:
    """A factory of pages on ``base_url``, each in its own browser context (a fresh Streamlit
    session); the contexts close on exit."""
    contexts = []

    def make():
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, base_url=base_url)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def new_page(browser, app_url: str):
    """Pages on the open server of the shipped data."""
    with page_factory(browser, app_url) as make:
        yield make


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context."""
    return new_page()
