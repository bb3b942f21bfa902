"""What the benchmark (bench/run.py) and the load test (bench/load_test.py) share.

A ``streamlit run`` server on a free loopback port, the description of the machine, the
fingerprint of the app's code, the 95th percentile, the 10,000-subject twin and the Chromium
settings. Imported as ``bench.common``: ``bench`` is a package, and a script run by its path
(``python bench/run.py``) first puts the repository on ``sys.path`` (``python -m bench.run`` works
too).
"""

from __future__ import annotations

import hashlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = REPO / "app.py"
FLOOR = BENCH / "floor_app.py"

CHROMIUM = os.environ.get("RESPINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 1000}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run SCRIPT --server.headless true`` on a free loopback port.

    In its own process group (stopped with it), the log in a temporary file. ``data`` sets
    RESPINE_DATA (None: the shipped data). The repository's ``.streamlit/config.toml`` applies.
    """

    def __init__(self, script: Path, data: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "RESPINE_DATA"}
        if data:
            env["RESPINE_DATA"] = data
        self.cmd = [sys.executable, "-m", "streamlit", "run", str(script.relative_to(REPO)),
                    "--server.headless", "true", "--server.port", str(self.port),
                    "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                    "--browser.gatherUsageStats", "false"]
        self.log = tempfile.NamedTemporaryFile(prefix="respine-bench-server-", suffix=".log")  # noqa: SIM115
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Seconds from process start until /_stcore/health answers ok (polled every 20 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("streamlit exited: " + self.log_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.read().strip() == b"ok":
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"streamlit did not become healthy within {timeout} s")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def close(self) -> None:
        self.stop()
        self.log.close()


def make_twin(folder: str) -> float:
    """Write the 10,000-subject synthetic twin (``respine synth --n-per-arm 5000``); seconds taken."""
    t0 = time.perf_counter()
    respine = Path(sys.executable).with_name("respine")
    subprocess.run([str(respine), "synth", "--n-per-arm", "5000", "--out", folder], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def machine() -> dict[str, str]:
    info = {"cpu": "unknown", "cores": str(os.cpu_count()), "ram": "unknown"}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import pandas
    import plotly
    import streamlit
    from playwright._repo_version import version as playwright_version

    try:
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        chromium = "unknown"
    info.update(python=platform.python_version(), streamlit=streamlit.__version__,
                plotly=plotly.__version__, pandas=pandas.__version__, playwright=playwright_version,
                chromium=chromium, os=platform.platform())
    return info


def code_fingerprint(root: Path = REPO) -> str:
    """SHA-256 (16 hex digits) over app.py, app_pages/ and respine/ of the checkout ``root``:
    which code was measured."""
    digest = hashlib.sha256()
    files = [root / "app.py", *sorted((root / "app_pages").glob("*.py")),
             *sorted((root / "respine").rglob("*.py"))]
    for f in files:
        digest.update(str(f.relative_to(root)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def p95(xs: list[float]) -> float:
    """95th percentile, linear interpolation between order statistics."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    k = 0.95 * (len(s) - 1)
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def secs(x: float) -> str:
    return f"{x:.2f} s"


def stats_row(name: str, xs: list[float]) -> str:
    """A Markdown row: name, n, median, p95 and max of durations in seconds."""
    if not xs:
        return f"| {name} | 0 | | | |"
    return f"| {name} | {len(xs)} | {secs(statistics.median(xs))} | {secs(p95(xs))} | {secs(max(xs))} |"
