"""Security tier: the hosted app attacked over its own protocol, as a client that is not a browser.

Each test starts the app as deployed (``streamlit run serve.py``, the hosting guard in front of
app.py) with a password configured, on a free port of 127.0.0.1, and talks to it with
:class:`tests.wsclient.StreamlitClient`: raw protobuf ``BackMsg`` frames over the websocket, forged
headers, a stolen session id, direct HTTP requests. Traffic is loopback only and bounded.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.browser.conftest import serve_app
from tests.wsclient import StreamlitClient, browser_cookies

pytestmark = [pytest.mark.security, pytest.mark.timeout(240)]

PASSWORD = "correct horse battery"
EVERY_OTHER_KIND = [
    "clear_cache", "set_run_on_save", "load_git_info", "file_urls_request",
    "backend_operation_request:deferred_file", "backend_operation_request:dataframe_chunk",
    "backend_operation_request:install_skills", "backend_operation_request:dismiss_skills_nudge",
    "debug_disconnect_websocket", "debug_shutdown_runtime",
]
# What the server answers to those kinds when it handles them: none may appear.
ANSWERS = {"file_urls_response", "git_info_changed", "session_status_changed", "backend_operation_response"}


@contextmanager
def hosted(tmp_path: Path, secrets: str, script: str | None = None) -> Iterator[str]:
    path = tmp_path / "secrets.toml"
    path.write_text(secrets, encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs, "--secrets.files", str(path), **({"script": script} if script else {})) as url:
        yield url


def password_secrets(trusted_proxies: int = 0) -> str:
    return (f'[access]\npassword = "{PASSWORD}"\nmax_attempts = 5\nlockout_seconds = 300\n'
            f"trusted_proxies = {trusted_proxies}\n")


def alerts(result) -> list[str]:
    return [e.text for e in result.elements if e.kind == "alert"]


def signed_in(result) -> bool:
    """The explorer itself is on the page (the sidebar's data line and a navigation exist)."""
    text = result.texts()
    return "Password" not in [e.label for e in result.elements] and "RESPINE" in text and "subjects" in text


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with hosted(tmp_path_factory.mktemp("hosted"), password_secrets(0)) as url:
        yield url


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> Iterator[str]:
    """Behind one trusted proxy: the rightmost X-Forwarded-For address is the client's."""
    with hosted(tmp_path_factory.mktemp("proxied"), password_secrets(1)) as url:
        yield url


def test_clear_cache_does_not_reset_the_lockout_and_no_other_message_gets_through(server):
    """The lockout lived in a Streamlit cache that any client could empty with ``clear_cache``
    (200 guesses in 43 s, none refused). Now: 4 guesses, clear_cache, every other BackMsg kind,
    and the fifth guess locks the session; the right password is refused while locked."""
    with StreamlitClient(server) as c:
        c.rerun()
        for i in range(4):
            assert "attempt(s) left" in alerts(c.submit_password(f"guess-{i}"))[0]
            c.send_kind("clear_cache")
        c.others_within(1.0)  # drain what follows the last run
        for kind in EVERY_OTHER_KIND[:-2]:  # the debug kinds would close the socket in dev mode
            c.send_kind(kind)
        assert not ANSWERS & set(c.others_within(2.0))
        assert "Too many wrong passwords" in alerts(c.submit_password("guess-4"))[0]
        locked = c.submit_password(PASSWORD)
        assert "Too many wrong passwords" in alerts(locked)[0] and not signed_in(locked)
    with StreamlitClient(server) as fresh:  # a new session from the same address still has tries
        fresh.rerun()
        assert "attempt(s) left" in alerts(fresh.submit_password("other-guess"))[0]


def test_every_backmsg_kind_before_login_is_dropped(server):
    with StreamlitClient(server) as c:
        first = c.rerun()
        assert "Password" in [e.label for e in first.elements]
        c.others_within(1.0)
        for kind in EVERY_OTHER_KIND:
            c.send_kind(kind)
        assert not ANSWERS & set(c.others_within(2.0))
        again = c.rerun()  # the session is alive and still signed out
        assert again.finished and "Password" in [e.label for e in again.elements]
    urllib.request.urlopen(server + "/_stcore/health", timeout=5).read()  # the server still runs


def test_spoofed_forwarded_addresses_share_one_limit(server):
    """With no trusted proxy, every request that claims an address shares one limit (15 = three
    sessions' worth), so inventing addresses buys no fresh tries."""
    failures = 0
    for n in range(4):
        with StreamlitClient(server, headers={"X-Forwarded-For": f"203.0.113.{n + 1}"}) as c:
            c.rerun()
            for _ in range(4 if n < 3 else 3):
                c.submit_password(f"spoof-{failures}")
                failures += 1
    assert failures == 15
    with StreamlitClient(server, headers={"X-Forwarded-For": "198.51.100.77"}) as c:
        c.rerun()
        assert "Too many wrong passwords" in alerts(c.submit_password("one more"))[0]


def test_uploads_and_metrics_are_refused_before_login(server):
    with StreamlitClient(server) as c:
        c.rerun()
        c.others_within(1.0)
        c.send_kind("file_urls_request")
        assert "file_urls_response" not in c.others_within(2.0)
        request = urllib.request.Request(
            f"{server}/_stcore/upload_file/{c.session_id}/attack", data=b"x" * 1024, method="PUT")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as hidden:
        urllib.request.urlopen(server + "/_stcore/metrics", timeout=5)
    assert hidden.value.code == 404


def test_forwarded_address_behind_a_trusted_proxy_is_the_rightmost(proxied):
    """Behind one proxy, the address the proxy appended counts; what the client wrote before it
    does not: two different spoofed prefixes share the real address's limit."""
    for n in range(3):
        with StreamlitClient(proxied, headers={"X-Forwarded-For": f"10.9.9.{n}, 192.0.2.10"}) as c:
            c.rerun()
            for i in range(5):
                c.submit_password(f"p{n}-{i}")
    with StreamlitClient(proxied, headers={"X-Forwarded-For": "10.9.9.99, 192.0.2.10"}) as c:
        c.rerun()
        assert "Too many wrong passwords" in alerts(c.submit_password("again"))[0]
    with StreamlitClient(proxied, headers={"X-Forwarded-For": "192.0.2.11"}) as c:
        c.rerun()
        assert "attempt(s) left" in alerts(c.submit_password("someone else"))[0]


def test_a_stolen_session_id_does_not_open_a_signed_in_session(proxied):
    """Streamlit attaches a client that names an existing session id to that session; a signed-in
    session must stay with the browser that signed in."""
    victim_cookies = browser_cookies(proxied)
    headers = {"X-Forwarded-For": "192.0.2.50"}
    victim = StreamlitClient(proxied, cookies=victim_cookies, headers=headers)
    victim.rerun()
    assert signed_in(victim.submit_password(PASSWORD))
    stolen = victim.session_id
    assert stolen

    for cookies in (None, browser_cookies(proxied)):  # no cookie; another browser's cookie
        with StreamlitClient(proxied, cookies=cookies, session_id=stolen, headers=headers) as attacker:
            run = attacker.rerun()
            assert not signed_in(run), run.texts()[:300]
            assert "Password" in [e.label for e in run.elements]
            assert attacker.session_id != stolen

    # the victim's own session is intact, and survives its own developer-menu message
    victim.send_kind("clear_cache")
    assert signed_in(victim.rerun())
    victim.close()
    # the same browser reconnecting (a network blip) gets its session back
    with StreamlitClient(proxied, cookies=victim_cookies, session_id=stolen, headers=headers) as back:
        assert signed_in(back.rerun())
        assert back.session_id == stolen


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("malformed", lambda p: p.write_text(f'[access]\npassword = "{PASSWORD}\n', encoding="utf-8")),
        ("empty", lambda p: p.write_text("", encoding="utf-8")),
        ("not UTF-8", lambda p: p.write_bytes(b'[access]\npassword = "\xff\xfe not utf-8"\n')),
        ("a folder", lambda p: p.mkdir()),
    ],
)
def test_a_secrets_file_that_cannot_be_used_shows_an_error_and_nothing_else(tmp_path, name, write):
    """A typo in the secrets opened the app with full detail (Streamlit reports a TOML error as
    'no secrets file'; a file it cannot decode fails every request). Any secrets file that exists
    but cannot be used fails closed: every path answers 503 with the reason, the websocket is
    refused, and the health check fails so a load balancer stops sending readers."""
    path = tmp_path / "secrets.toml"
    write(path)
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs, "--secrets.files", str(path), healthy=False) as url:
        for route in ("/", "/explorer?ep=VAS", "/_stcore/health", "/_stcore/host-config", "/app/static/x"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + route, timeout=10)
            assert refused.value.code == 503, (name, route)
            body = refused.value.read().decode()
            assert "access settings are not valid" in body and str(path) in body, (name, route)
            assert "<script" not in body and "BM-MSC" not in body
        # the handshake is refused or the socket closed at once (an open socket would time out)
        with pytest.raises((ConnectionClosed, InvalidHandshake)), StreamlitClient(url) as c:
            c.ws.recv(timeout=10)
        # the reason is in the server's log for the operator
        assert "Refusing requests" in (logs / "stderr.log").read_text() + (logs / "stdout.log").read_text()


def test_check_secrets_files_names_the_file_and_the_reason(tmp_path):
    """The same check inside app.py (AppTest and ``streamlit run app.py`` have no outer wrapper)."""
    from respine.ui import access

    good, bad, empty = tmp_path / "good.toml", tmp_path / "bad.toml", tmp_path / "empty.toml"
    good.write_text('[access]\npassword = "long enough"\n')
    bad.write_text('[access]\npassword = "unclosed\n')
    empty.write_text("  \n")
    access.check_secrets_files([good, tmp_path / "missing.toml"])
    for path, reason in ((bad, "not valid TOML"), (empty, "is empty"), (tmp_path, "cannot be read")):
        with pytest.raises(access.AccessConfigError, match=reason) as err:
            access.check_secrets_files([good, path])
        assert str(path) in str(err.value)


def test_a_login_without_the_hosting_guard_shows_nothing(tmp_path):
    """``streamlit run app.py`` lacks the guard; with a password configured it refuses to serve."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(password_secrets(), encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    with serve_app(logs, "--secrets.files", str(secrets), script="app.py") as url, StreamlitClient(url) as c:
        run = c.rerun()
        assert [e.kind for e in run.elements] == ["alert"]
        assert "hosting guard" in run.texts()
