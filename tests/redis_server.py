"""A throwaway Redis server for tests: Debian's redis-server on a free loopback port, no disk."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.browser.conftest import free_port


def redis_binary() -> str:
    path = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if path is None:
        # scripts/setup.sh test installs it; a missing server is a broken set-up, never a skip.
        pytest.fail("redis-server not found: run scripts/setup.sh test (it installs Debian's "
                    "redis-server) or install it.", pytrace=False)
    return path


@contextmanager
def redis_server() -> Iterator[str]:
    """Yields the server's URL (``redis://127.0.0.1:<port>/0``)."""
    port = free_port()
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}", pytrace=False)
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
