"""The hosted topology for tests: ``scripts/cluster.sh`` (HAProxy in front of app replicas) started
on free loopback ports, with a secrets file; stopped with everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import free_port, tail

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180.0


@dataclass(frozen=True)
class Cluster:
    url: str
    folder: Path
    replicas: int

    def pid(self, replica: int) -> int:
        return int((self.folder / f"app{replica}.pid").read_text())

    def kill(self, replica: int) -> None:
        """Kill a replica outright (SIGKILL: no clean shutdown, as when a machine dies)."""
        os.kill(self.pid(replica), signal.SIGKILL)


def free_port_block(size: int) -> int:
    """A port p with p .. p+size free (the balancer on p, the replicas above it)."""
    for _ in range(50):
        port = free_port()
        if port + size < 65535 and all(_free(port + k) for k in range(1, size + 1)):
            return port
    raise RuntimeError("no block of free ports found")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def run_cluster(folder: Path, secrets: str, replicas: int = 2) -> Iterator[Cluster]:
    folder.mkdir(parents=True, exist_ok=True)
    secrets_path = folder / "secrets.toml"
    secrets_path.write_text(secrets, encoding="utf-8")
    port = free_port_block(replicas)
    env = {**os.environ, "RESPINE_CLUSTER_DIR": str(folder)}
    out = open(folder / "cluster.out", "wb")  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(
        ["bash", "scripts/cluster.sh", "--replicas", str(replicas), "--port", str(port), "--",
         "--secrets.files", str(secrets_path)],
        cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (folder / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scripts/cluster.sh did not get ready (exit {process.poll()}):\n"
                            f"{tail(folder / 'cluster.out')}", pytrace=False)
            time.sleep(0.25)
        yield Cluster(f"http://127.0.0.1:{port}", folder, replicas)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        out.close()
