"""The password limiter that every replica shares: ``[access] limiter_url`` (Redis).

The shared store must count exactly as the in-process limiter does (same sliding window, same
lock-out), must be shared by separate processes, and must fail closed: when the store cannot be
reached no password is checked, right or wrong. A real ``redis-server`` on loopback is used.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from respine.ui import access
from tests.browser.conftest import free_port
from tests.redis_server import redis_server

pytestmark = pytest.mark.security

# (seconds since the first attempt, "fail" or "check") steps, and the lock-outs they must give.
SEQUENCES = [
    [(0, "fail"), (1, "fail"), (2, "check"), (3, "fail"), (4, "check"), (65, "check"), (200, "check")],
    [(0, "fail"), (10, "fail"), (59, "fail"), (61, "check"), (70, "fail"), (75, "check"), (140, "check")],
]


@pytest.fixture(scope="module")
def store():
    with redis_server() as url:
        yield url


def replay(limiter, key: str, steps, start: float) -> list[float]:
    out = []
    for at, what in steps:
        if what == "fail":
            limiter.failure(key, now=start + at, window=60)
        else:
            out.append(round(limiter.locked_for(key, 3, 60, now=start + at), 6))
    return out


@pytest.mark.parametrize("steps", SEQUENCES)
def test_the_shared_store_counts_like_process_memory(store, steps):
    shared = access.RedisAttemptLimiter(store)
    key = f"test:{id(steps)}"
    shared.reset(key)
    start = 1_900_000_000.0
    assert replay(shared, key, steps, start) == replay(access.AttemptLimiter(), key, steps, start)


def test_two_processes_count_together(store):
    """What one server process records, another sees: the point of a shared store."""
    key = "test:two-processes"
    access.RedisAttemptLimiter(store).reset(key)
    code = ("import sys; from respine.ui.access import RedisAttemptLimiter as R; "
            "[R(sys.argv[1]).failure('test:two-processes', window=300) for _ in range(4)]")
    subprocess.run([sys.executable, "-c", code, store], check=True, timeout=60)
    here = access.RedisAttemptLimiter(store)
    assert here.failures(key) == 4
    assert here.locked_for(key, 4, 300) > 290
    assert here.locked_for(key, 5, 300) == 0


def test_an_unreachable_store_refuses_every_password(monkeypatch):
    """Fail closed: with the store down, even the right password is not accepted, and the reader is
    told why; nothing is counted in process memory instead."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    cfg = access.config_from_secrets({"access": {"password": "correct horse battery",
                                                 "limiter_url": dead}})
    monkeypatch.setattr(access, "_client_keys", lambda: ["session:x", "address:127.0.0.1"])
    granted = []
    monkeypatch.setattr(access, "_grant", lambda: granted.append(True))
    access.reset_limiter()
    for given in ("wrong password", "correct horse battery"):
        message = access.check_password(given, cfg)
        assert message is not None and "Sign-in is paused" in message
    assert granted == [] and access.limiter().failures("session:x") == 0


def test_with_the_store_a_right_password_still_admits(store, monkeypatch):
    cfg = access.config_from_secrets({"access": {"password": "correct horse battery",
                                                 "limiter_url": store}})
    monkeypatch.setattr(access, "_client_keys", lambda: ["session:y", "address:10.1.1.1"])
    granted = []
    monkeypatch.setattr(access, "_grant", lambda: granted.append(True))
    shared = access.limiter(cfg)
    for key in ("session:y", "address:10.1.1.1"):
        shared.reset(key)
    assert "Wrong password. 4 attempt(s) left" in access.check_password("nope nope", cfg)
    assert shared.failures("address:10.1.1.1") == 1
    assert access.check_password("correct horse battery", cfg) is None and granted == [True]


@pytest.mark.parametrize("value", ["http://127.0.0.1:6379", "127.0.0.1:6379", 6379, ["redis://x"]])
def test_a_limiter_url_that_is_not_a_redis_url_is_refused(value):
    with pytest.raises(access.AccessConfigError, match="limiter_url must be a Redis URL"):
        access.config_from_secrets({"access": {"password": "correct horse battery", "limiter_url": value}})


def test_the_store_password_never_shows_in_a_message():
    assert access.redacted_url("redis://user:s3cret@db.example:6380/1") == "redis://user:***@db.example:6380/1"
    assert "s3cret" not in access.redacted_url("rediss://:s3cret@db.example/0")
