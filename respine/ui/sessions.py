"""Which server sessions have passed the access gate, and from which browser.

A Streamlit session is addressed by its id; a websocket client that presents the id of an existing
session (the reconnect path of Streamlit's protocol) is attached to it. So "this session passed the
password" is not enough to admit a client: the client must also be the browser that passed it.

The browser is recognised by its XSRF cookie, a random per-browser token that the server sets with
the app's page and that the browser sends with every request and with the websocket handshake
(``server.enableXsrfProtection``, on in ``.streamlit/config.toml``). A client that knows a session
id but not that cookie is refused by the hosting guard (:mod:`respine.ui.guard`) before it is
attached, and the access gate re-checks the browser on every script run.

The registry is process-global: it is read by the guard (outside any script run) and written by
the gate (inside one). It is plain module state, not a Streamlit cache, so no client message can
clear it.
"""

from __future__ import annotations

import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

XSRF_COOKIE = "_streamlit_xsrf"
MAX_SESSIONS = 10_000


def browser_fingerprint(cookies: Mapping[str, str] | None) -> str | None:
    """A digest of the browser's XSRF token (None when the client sent no XSRF cookie).

    The cookie has the form ``2|mask|masked_token|timestamp``; the server may re-mask it on a later
    page load, so the unmasked token is what identifies the browser.
    """
    raw = (cookies or {}).get(XSRF_COOKIE)
    if not raw:
        return None
    token = raw.encode("latin-1", "replace")
    parts = raw.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
            token = bytes(m ^ mask[i % len(mask)] for i, m in enumerate(masked)) if mask else masked
        except (binascii.Error, ValueError):
            pass
    return hashlib.sha256(token).hexdigest()


@dataclass(frozen=True)
class Grant:
    fingerprint: str | None
    granted_at: float


class Grants:
    """Thread-safe map of session id to the browser that passed the gate in it."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._grants: OrderedDict[str, Grant] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def grant(self, session_id: str, fingerprint: str | None) -> None:
        with self._lock:
            self._grants[session_id] = Grant(fingerprint, time.time())
            self._grants.move_to_end(session_id)
            while len(self._grants) > self._limit:  # the oldest grants go first
                self._grants.popitem(last=False)

    def revoke(self, session_id: str) -> None:
        with self._lock:
            self._grants.pop(session_id, None)

    def get(self, session_id: str | None) -> Grant | None:
        if not session_id:
            return None
        with self._lock:
            return self._grants.get(session_id)

    def is_granted(self, session_id: str | None) -> bool:
        return self.get(session_id) is not None

    def may_attach(self, session_id: str, fingerprint: str | None) -> bool:
        """Whether a client with ``fingerprint`` may take over ``session_id``: always for a session
        that has not passed the gate (it holds nothing), else only from the same browser."""
        grant = self.get(session_id)
        return grant is None or (grant.fingerprint is not None and grant.fingerprint == fingerprint)

    def clear(self) -> None:
        with self._lock:
            self._grants.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._grants)


GRANTS = Grants()
