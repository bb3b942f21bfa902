"""scripts/start.sh listens on this machine only unless the caller asks for another address."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
START = REPO / "scripts" / "start.sh"


def planned(*args: str, **env: str) -> list[str]:
    """The command start.sh would run (its dry run installs and starts nothing)."""
    environ = {k: v for k, v in os.environ.items() if k != "STREAMLIT_SERVER_ADDRESS"}
    done = subprocess.run(["bash", str(START), *args], capture_output=True, text=True, timeout=30,
                          env={**environ, "RESPINE_START_DRY_RUN": "1", **env})
    assert done.returncode == 0, done.stderr
    return shlex.split(done.stdout)


def address_of(command: list[str]) -> list[str]:
    return [a for i, a in enumerate(command) if a.startswith("--server.address")
            or (i and command[i - 1] == "--server.address")]


def test_start_defaults_to_localhost():
    command = planned()
    assert command[-4:] == ["run", "serve.py", "--server.address", "127.0.0.1"]
    assert address_of(command) == ["--server.address", "127.0.0.1"]


@pytest.mark.parametrize("given", [["--server.address", "0.0.0.0"], ["--server.address=0.0.0.0"]])
def test_the_callers_address_wins_in_either_spelling(given):
    command = planned("--server.port", "8600", *given)
    assert address_of(command) == given
    assert command[-len(given) - 2:] == ["--server.port", "8600", *given]  # passed on in order


def test_streamlits_environment_variable_also_wins():
    assert address_of(planned(STREAMLIT_SERVER_ADDRESS="0.0.0.0")) == []


def test_readme_says_local_by_default_and_how_to_open_it_to_the_network():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/start.sh   # install what the app needs, then open http://localhost:8501" in readme
    assert "bash scripts/start.sh --server.address 0.0.0.0" in readme


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> set[str]:
    """Local addresses of the listening TCP sockets on ``port`` (from /proc, IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            host, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                found.add(host)
    return found


@pytest.mark.app  # it starts the app's server
def test_the_started_server_listens_on_the_loopback_interface_only():
    port = _free_port()
    command = planned("--server.port", str(port))
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        # 0100007F is 127.0.0.1 as /proc writes it; every interface would be 00000000 (or :: in tcp6)
        assert _listening(port) == {"0100007F"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
