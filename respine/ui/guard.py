"""The hosting guard: an ASGI middleware in front of Streamlit's own routes (see ``serve.py``).

The access gate in ``app.py`` decides what a *script run* shows. Some of Streamlit's protocol is
served without a script run, and is guarded here, before Streamlit sees it:

* **Websocket messages** (``BackMsg``). Before a session has passed the gate, only the messages a
  sign-in form needs are delivered (``rerun_script``, ``app_heartbeat``, ``stop_script``); a
  ``clear_cache`` (which empties every cache of every user, and the sender's own session state),
  ``file_urls_request`` (upload slots), ``load_git_info``, ``set_run_on_save`` and backend
  operations are dropped. After the gate, a hosted deployment still drops the developer messages
  (``clear_cache``, ``set_run_on_save``, ``load_git_info``, skills installation).
* **Session take-over.** A websocket handshake may name an existing session id to reconnect to;
  for a session that passed the gate, only the browser that passed it (same XSRF cookie, see
  :mod:`respine.ui.sessions`) may do so; anyone else gets a new, signed-out session.
* **Uploads** (``/_stcore/upload_file/<session>/...``) are refused for a session that has not
  passed the gate.
* **Metrics** (``/_stcore/metrics``: cache names and sizes) are not served by a hosted deployment.
* **Client address** for the password attempt limits: the address of the TCP peer, or, behind
  ``[access] trusted_proxies`` = N proxies, the N-th address from the right of
  ``X-Forwarded-For`` (the one the outermost trusted proxy saw). With N = 0, requests that carry
  ``X-Forwarded-For`` all share one limit, whatever address they claim. The result is passed to
  the script in the header ``X-Respine-Client``, replacing any such header the client sent.

Outside all of it, :class:`FailClosed` answers every request with an error page (and the health
check with 503, so a load balancer takes the replica out of service) while a secrets file exists
but cannot be used: empty, unreadable, not UTF-8 or not valid TOML. Streamlit would otherwise
treat a TOML error as "no secrets" (an open app) or fail on every request with a traceback in the
log only.

A deployment is *hosted* when a login or password is configured, or when its access settings
cannot be read (fail closed). An open local run passes everything through.

The guard must be installed for a hosted deployment: ``app.py`` shows nothing when a login is
configured and the app was started without it (``streamlit run app.py`` instead of
``streamlit run serve.py``).
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from respine.ui.sessions import GRANTS, browser_fingerprint

LOG = logging.getLogger("respine.guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT_HEADER = b"x-respine-client"
FORWARDED_SHARED = "forwarded"  # the one limit shared by unverifiable forwarded addresses

SIGN_IN_MESSAGES = frozenset({"rerun_script", "app_heartbeat", "stop_script"})
DEVELOPER_MESSAGES = frozenset({
    "clear_cache", "set_run_on_save", "load_git_info", "debug_disconnect_websocket", "debug_shutdown_runtime"
})
DEVELOPER_OPERATIONS = frozenset({"install_skills", "dismiss_skills_nudge"})

_installed = False


def installed() -> bool:
    """Whether this server process runs behind the guard (it was built by ``serve.py``)."""
    return _installed


@dataclass(frozen=True)
class Policy:
    hosted: bool
    trusted_proxies: int = 0


POLICY_TTL = 1.0  # seconds; a page load makes dozens of requests, the secrets are read once
_policy_cache: tuple[float, Policy] | None = None


def read_policy() -> Policy:
    """The policy from the app's secrets; unreadable or invalid settings count as hosted."""
    from respine.ui import access  # access imports streamlit's secrets; the guard is built first

    try:
        cfg = access.config()
    except Exception:  # any settings problem fails closed; the gate explains it on the page
        return Policy(hosted=True)
    return Policy(hosted=cfg.mode != "open", trusted_proxies=cfg.trusted_proxies)


def current_policy() -> Policy:
    global _policy_cache
    now = time.monotonic()
    if _policy_cache is None or now - _policy_cache[0] > POLICY_TTL:
        _policy_cache = (now, read_policy())
    return _policy_cache[1]


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]


def client_address(scope: Scope, trusted_proxies: int) -> str:
    """The address the password limits count for this request (see the module docstring)."""
    peer = scope.get("client")
    peer_host = str(peer[0]) if peer else "unknown"
    forwarded = [
        part.strip() for value in _header_values(scope, b"x-forwarded-for") for part in value.split(",")
    ]
    forwarded = [f for f in forwarded if f]
    if trusted_proxies <= 0:
        # Nobody is trusted to say who the client is: a claimed address cannot buy fresh attempts.
        return FORWARDED_SHARED if forwarded else peer_host
    if len(forwarded) >= trusted_proxies:
        return forwarded[-trusted_proxies]
    return peer_host  # fewer hops than proxies: the request did not come through them all


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in _header_values(scope, b"cookie"):
        for part in value.split(";"):
            name, sep, val = part.strip().partition("=")
            if sep:
                out[name] = val
    return out


def _base_path(path: str) -> str:
    """The Streamlit route of a path, whatever the server.baseUrlPath prefix."""
    marker = path.find("/_stcore/")
    return path[marker:] if marker >= 0 else path


def _with_client_header(scope: Scope, address: str) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != CLIENT_HEADER]
    headers.append((CLIENT_HEADER, address.encode("latin-1", "replace")))
    return {**scope, "headers": headers}


def _strip_session_id(scope: Scope) -> Scope:
    """The handshake without its reconnect session id (the third subprotocol entry)."""
    headers = []
    for k, v in scope.get("headers", []):
        if k.lower() == b"sec-websocket-protocol":
            entries = [e.strip() for e in v.decode("latin-1").split(",")]
            v = ", ".join(entries[:2]).encode("latin-1")
        headers.append((k, v))
    subprotocols = list(scope.get("subprotocols", []))[:2]
    return {**scope, "headers": headers, "subprotocols": subprotocols}


def _existing_session_id(scope: Scope) -> str | None:
    for value in _header_values(scope, b"sec-websocket-protocol"):
        entries = [e.strip() for e in value.split(",")]
        if len(entries) >= 3 and entries[2]:
            return entries[2]
    return None


def message_allowed(kind: str | None, operation: str | None, granted: bool, hosted: bool) -> bool:
    """Whether a websocket message of ``kind`` (a BackMsg field) may reach Streamlit."""
    if not hosted:
        return True
    if not granted:
        return kind in SIGN_IN_MESSAGES
    if kind in DEVELOPER_MESSAGES:
        return False
    return not (kind == "backend_operation_request" and operation in DEVELOPER_OPERATIONS)


def _backmsg_kind(data: bytes) -> tuple[str | None, str | None]:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except Exception:  # not a BackMsg: Streamlit closes the connection itself
        return None, None
    kind = msg.WhichOneof("type")
    if kind != "backend_operation_request":
        return kind, None
    return kind, msg.backend_operation_request.WhichOneof("payload")


def _session_id_of(data: bytes) -> str | None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(data)
    except Exception:
        return None
    if msg.WhichOneof("type") == "new_session":
        return msg.new_session.initialize.session_id or None
    return None


async def _refuse_http(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class HostingGuard:
    """ASGI middleware; ``serve.py`` passes it to ``st.App(..., middleware=[...])``."""

    def __init__(self, app: ASGIApp, policy: Callable[[], Policy] = current_policy) -> None:
        global _installed
        self.app = app
        self.policy = policy
        _installed = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        policy = self.policy()
        scope = _with_client_header(scope, client_address(scope, policy.trusted_proxies))
        route = _base_path(str(scope.get("path", "")))
        if scope["type"] == "http":
            await self._http(scope, receive, send, route, policy)
        elif route.startswith("/_stcore/stream"):
            await self._websocket(scope, receive, send, policy)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, route: str, policy: Policy) -> None:
        if policy.hosted and route.startswith("/_stcore/metrics"):
            await _refuse_http(send, 404, "Not found.")
            return
        if policy.hosted and route.startswith("/_stcore/upload_file/"):
            parts = route.split("/")
            session_id = parts[3] if len(parts) > 3 else ""
            if not GRANTS.is_granted(session_id):
                LOG.warning("Refused an upload for a session that has not signed in")
                await _refuse_http(send, 403, "Sign in first.")
                return
        await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, policy: Policy) -> None:
        fingerprint = browser_fingerprint(_cookies(scope))
        existing = _existing_session_id(scope)
        if policy.hosted and existing and not GRANTS.may_attach(existing, fingerprint):
            LOG.warning("Refused to attach a client from another browser to a signed-in session")
            scope = _strip_session_id(scope)
        session: dict[str, Any] = {"id": None, "looked": 0}

        async def guarded_send(message: Message) -> None:
            # The session id is in the first message of every script run (new_session); a few
            # looks suffice, so large later messages (figures) are never parsed here.
            if session["id"] is None and session["looked"] < 8 and message.get("type") == "websocket.send":
                data = message.get("bytes")
                if data:
                    session["looked"] += 1
                    session["id"] = _session_id_of(data)
            await send(message)

        async def guarded_receive() -> Message:
            while True:
                message = await receive()
                data = message.get("bytes") if message.get("type") == "websocket.receive" else None
                if not data or not policy.hosted:
                    return message
                kind, operation = _backmsg_kind(data)
                if kind is None or message_allowed(kind, operation, GRANTS.is_granted(session["id"]), True):
                    return message
                LOG.warning("Dropped a '%s' message from session %s", kind, session["id"] or "(new)")

        await self.app(scope, guarded_receive, guarded_send)


_secrets_cache: tuple[float, str | None] | None = None


def secrets_problem() -> str | None:
    """Why the secrets files cannot be used, or None (read at most once a second)."""
    global _secrets_cache
    now = time.monotonic()
    if _secrets_cache is None or now - _secrets_cache[0] > POLICY_TTL:
        from respine.ui import access

        try:
            access.check_secrets_files(access.secrets_files())
            problem = None
        except Exception as exc:  # AccessConfigError with the file and the reason
            problem = str(exc)
        _secrets_cache = (now, problem)
    return _secrets_cache[1]


ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>RESPINE results explorer: not available</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 4em auto; line-height: 1.5">
<h1>The explorer is not available</h1>
<p>The app's access settings are not valid, so nothing is shown.</p>
<p><code>{problem}</code></p>
<p>Whoever runs this deployment: fix the secrets file, and the explorer comes back by itself.</p>
</body></html>
"""


class FailClosed:
    """The outermost ASGI wrapper of ``serve.py``: an error page instead of the app while the
    secrets cannot be used (see the module docstring)."""

    def __init__(self, app: ASGIApp, problem: Callable[[], str | None] = secrets_problem) -> None:
        self.app = app
        self.problem = problem

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = self.problem() if scope.get("type") in ("http", "websocket") else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        LOG.error("Refusing requests: %s", problem)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = ERROR_PAGE.format(problem=html.escape(problem)).encode()
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})
