"""Who may open the app, and what they may see.

Three modes, chosen by the app's secrets (``.streamlit/secrets.toml`` or the host's secrets box):

* **OIDC login** (an ``[auth]`` section, Streamlit's own): ``st.login`` with the configured
  provider(s) guards every page; ``[access] allowed_emails`` / ``allowed_domains`` narrow who is
  admitted once signed in.
* **Shared password** (``[access] password``, no ``[auth]``): a password form guards every page.
  The password is compared in constant time (``hmac.compare_digest`` on SHA-256 digests), and
  wrong attempts are limited per session and per client address (``max_attempts`` within
  ``lockout_seconds``, then a lockout of ``lockout_seconds``).
* **Open** (neither): a local run; anyone who can reach the server sees everything, and the
  Settings page says so.

The gate runs in ``app.py`` before any data are loaded and before ``st.navigation``: nothing of a
page, no download and no data file is produced for a session that has not passed it.

``[privacy]`` (see :mod:`respine.privacy`) sets aggregate-only mode, on by default when a login
is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import streamlit as st

from respine import privacy
from respine.errors import RespineError
from respine.fmt import md_escape

GRANTED = "_access_granted"
SESSION_KEY = "_access_session"
PREVIEW = "_aggregate_preview"

Mode = Literal["oidc", "password", "open"]


class AccessConfigError(RespineError):
    """The access settings of a deployment are not valid."""


@dataclass(frozen=True)
class AccessConfig:
    mode: Mode
    providers: tuple[str | None, ...] = ()  # None: the provider configured directly in [auth]
    password_digest: bytes | None = field(default=None, repr=False)
    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    max_attempts: int = 5
    lockout_seconds: float = 300.0
    disclosure: privacy.Disclosure = field(default_factory=privacy.Disclosure)

    def admits(self, email: str | None) -> bool:
        """Whether a signed-in account is on the access list (no list: every account)."""
        if not self.allowed_emails and not self.allowed_domains:
            return True
        if not email:
            return False
        email = email.strip().lower()
        return email in self.allowed_emails or email.rsplit("@", 1)[-1] in self.allowed_domains


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def password_matches(given: str, config: AccessConfig) -> bool:
    """Constant-time comparison: both sides are hashed to the same length first."""
    if config.password_digest is None:
        return False
    return hmac.compare_digest(_digest(given), config.password_digest)


ACCESS_KEYS = {"password", "allowed_emails", "allowed_domains", "max_attempts", "lockout_seconds"}


def config_from_secrets(secrets: Mapping[str, object]) -> AccessConfig:
    """The access configuration from the app's secrets (a plain mapping, so it can be tested)."""
    auth = secrets.get("auth")
    access = dict(secrets.get("access") or {})
    unknown = sorted(set(access) - ACCESS_KEYS)
    if unknown:
        raise AccessConfigError(
            f"Unknown setting(s) in [access]: {', '.join(unknown)}. Known: {', '.join(sorted(ACCESS_KEYS))}."
        )
    providers: tuple[str | None, ...] = ()
    if isinstance(auth, Mapping) and auth:
        named = tuple(k for k, v in auth.items() if isinstance(v, Mapping) and "client_id" in v)
        providers = ((None,) if "client_id" in auth else ()) + named
        if not providers:
            raise AccessConfigError(
                "The [auth] section names no identity provider: add client_id, client_secret and "
                "server_metadata_url to [auth] (or to a section such as [auth.microsoft])."
            )
    password = access.get("password")
    if password is not None and (not isinstance(password, str) or len(password) < 8):
        raise AccessConfigError("[access] password must be text of at least 8 characters.")

    def _list(name: str) -> frozenset[str]:
        value = access.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise AccessConfigError(f'[access] {name} must be a list of text, such as ["a@example.org"].')
        return frozenset(v.strip().lower().lstrip("@") for v in value if v.strip())

    def _number(name: str, default: float, low: float, high: float) -> float:
        value = access.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise AccessConfigError(
                f"[access] {name} must be a number from {low:g} to {high:g}, not {value!r}."
            )
        return value

    mode: Mode = "oidc" if providers else ("password" if password else "open")
    disclosure = privacy.disclosure_from_settings(secrets.get("privacy"), login_configured=mode != "open")
    return AccessConfig(
        mode=mode,
        providers=providers,
        password_digest=_digest(password) if password and mode == "password" else None,
        allowed_emails=_list("allowed_emails"),
        allowed_domains=_list("allowed_domains"),
        max_attempts=int(_number("max_attempts", 5, 1, 100)),
        lockout_seconds=float(_number("lockout_seconds", 300, 1, 86_400)),
        disclosure=disclosure,
    )


class AttemptLimiter:
    """Failed password attempts per key (a session, a client address) in a sliding window.

    A key with ``max_failures`` failures within ``window`` seconds is locked until ``window``
    seconds after its last failure. Shared by all sessions of the server process.
    """

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: str, max_failures: int, window: float, now: float | None = None) -> float:
        """Seconds until ``key`` may try again (0: it may try now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(key)
            if not times:
                return 0.0
            while times and now - times[0] > window:
                times.popleft()
            if len(times) < max_failures:
                return 0.0
            return max(0.0, times[-1] + window - now)

    def failure(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._failures.setdefault(key, deque(maxlen=1000)).append(now)

    def failures(self, key: str) -> int:
        with self._lock:
            return len(self._failures.get(key, ()))

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@st.cache_resource(show_spinner=False)
def limiter() -> AttemptLimiter:
    return AttemptLimiter()


def _secrets() -> dict[str, object]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, AttributeError):  # no secrets file: a local run
        return {}
    except Exception as exc:  # a secrets file that is not valid TOML
        raise AccessConfigError(f"The app's secrets could not be read: {exc}") from exc


def config() -> AccessConfig:
    return config_from_secrets(_secrets())


def disclosure() -> privacy.Disclosure:
    """The rules in force for this session: the deployment's, or the reader's own preview."""
    try:
        rules = config().disclosure
    except RespineError:
        return privacy.Disclosure(aggregate_only=True)
    if not rules.aggregate_only and st.session_state.get(PREVIEW):
        return privacy.Disclosure(aggregate_only=True, min_cell=rules.min_cell)
    return rules


def min_cell() -> int:
    """k for the builders of tables and figures: 0 unless aggregate-only mode is on."""
    return disclosure().k


def individual_views() -> bool:
    return not disclosure().aggregate_only


def _client_keys() -> list[str]:
    session = st.session_state.setdefault(SESSION_KEY, uuid.uuid4().hex)
    keys = [f"session:{session}"]
    try:
        address = st.context.ip_address
    except Exception:  # no request context (tests, old Streamlit): the session key still applies
        address = None
    keys.append(f"address:{address or 'local'}")
    return keys


def _limits(cfg: AccessConfig, key: str) -> tuple[int, float]:
    # One address may be a proxy in front of many people: allow it three sessions' worth.
    return (cfg.max_attempts * (3 if key.startswith("address:") else 1), cfg.lockout_seconds)


def check_password(given: str, cfg: AccessConfig, now: float | None = None) -> str | None:
    """Try a password for this session; None if admitted, else the message to show."""
    lim = limiter()
    keys = _client_keys()
    wait = max(lim.locked_for(k, *_limits(cfg, k), now=now) for k in keys)
    if wait > 0:
        return (
            f"Too many wrong passwords. Try again in {max(1, round(wait / 60))} minute(s), or ask the trial "
            "team for the password."
        )
    if password_matches(given, cfg):
        lim.reset(keys[0])
        st.session_state[GRANTED] = True
        return None
    for k in keys:
        lim.failure(k, now=now)
    left = cfg.max_attempts - lim.failures(keys[0])
    if left <= 0:
        return "Wrong password. Too many wrong passwords: this session must wait before trying again."
    return f"Wrong password. {left} attempt(s) left before a pause."


def _password_form(cfg: AccessConfig) -> None:
    st.title("RESPINE results explorer")
    st.markdown("These results are shared with the trial team only. Enter the password you were given.")
    with st.form("access_form", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="access_password")
        submitted = st.form_submit_button("Open the explorer", type="primary")
    if submitted:
        message = check_password(given or "", cfg)
        if message is None:
            st.rerun()
        st.error(message, icon=":material/lock:")


def _login_page(cfg: AccessConfig) -> None:
    st.title("RESPINE results explorer")
    st.markdown("These results are shared with the trial team only. Sign in to continue.")
    for provider in cfg.providers:
        label = "Sign in" if provider is None else f"Sign in with {provider.replace('_', ' ').title()}"
        st.button(
            label,
            on_click=st.login,
            args=(provider,) if provider else (),
            type="primary",
            key=f"login_{provider or 'default'}",
            icon=":material/login:",
        )


def gate() -> AccessConfig:
    """Stop the script run unless this session may see the app; returns the configuration."""
    try:
        cfg = config()
    except RespineError as exc:
        # Fail closed: a deployment whose access settings are broken shows nothing else.
        st.error(
            f"The app's access settings are not valid, so nothing is shown. {exc}", icon=":material/lock:"
        )
        st.stop()
    if cfg.mode == "open":
        return cfg
    if cfg.mode == "oidc":
        if not st.user.is_logged_in:
            _login_page(cfg)
            st.stop()
        email = st.user.get("email")
        if not cfg.admits(email if isinstance(email, str) else None):
            st.error(
                f"The account {md_escape(email or '(no e-mail)')} is not on this trial's access list. "
                "Sign out and sign in with the account the trial team registered, or ask them to add it.",
                icon=":material/block:",
            )
            st.button("Sign out", on_click=st.logout, key="logout_refused")
            st.stop()
        return cfg
    if not st.session_state.get(GRANTED):
        _password_form(cfg)
        st.stop()
    return cfg


def sign_out() -> None:
    st.session_state.pop(GRANTED, None)


def sidebar_account(cfg: AccessConfig) -> None:
    """Who is signed in, and a way out (nothing in an open, local run)."""
    if cfg.mode == "open":
        return
    with st.sidebar:
        if cfg.mode == "oidc":
            name = st.user.get("email") or st.user.get("name") or "signed in"
            st.caption(f"Signed in as {md_escape(str(name))}")
            st.button("Sign out", on_click=st.logout, key="logout", icon=":material/logout:")
        else:
            st.button("Sign out", on_click=sign_out, key="logout", icon=":material/logout:")


SAFE_SERVER_OPTIONS = (
    # option, safe value, why it matters
    ("server.headless", True, "no browser is opened on the server"),
    ("browser.gatherUsageStats", False, "no usage statistics leave the server"),
    ("server.enableXsrfProtection", True, "forms and uploads need this site's XSRF cookie"),
    ("server.enableCORS", True, "other web sites cannot call this server"),
    ("server.enableStaticServing", False, "no folder of the server is published as files"),
    ("client.showErrorDetails", "none", "no traceback reaches a reader's browser"),
    ("client.toolbarMode", "viewer", "readers get no developer menu"),
)


def server_settings() -> list[dict[str, str]]:
    """The server options that matter for a hosted deployment, with their values in force."""
    rows = []
    for option, safe, why in SAFE_SERVER_OPTIONS:
        value = st.get_option(option)
        rows.append(
            {
                "Setting": option,
                "Value": str(value),
                "Safe value": str(safe),
                "Status": "ok" if value == safe else "check",
                "Why": why,
            }
        )
    limit = st.get_option("server.maxUploadSize")
    rows.append(
        {
            "Setting": "server.maxUploadSize",
            "Value": f"{limit} MB",
            "Safe value": "≤ 200 MB",
            "Status": "ok" if limit <= 200 else "check",
            "Why": "one upload cannot exhaust memory",
        }
    )
    return rows


def describe(cfg: AccessConfig) -> str:
    """Markdown sentence on who can open this app."""
    if cfg.mode == "open":
        return (
            "**Open.** No login is configured, so anyone who can reach this address sees everything. "
            "That is right for a local run; before sharing a link, configure a sign-in or a password "
            "(README, section Deployment)."
        )
    if cfg.mode == "password":
        return (
            f"**Shared password.** Every page needs the password; after {cfg.max_attempts} wrong attempts a "
            f"session waits {cfg.lockout_seconds / 60:g} minute(s)."
        )
    names = ", ".join("the configured provider" if p is None else p for p in cfg.providers)
    who = "any account the provider accepts"
    if cfg.allowed_emails or cfg.allowed_domains:
        who = f"{len(cfg.allowed_emails)} listed account(s) and {len(cfg.allowed_domains)} listed domain(s)"
    return f"**Sign-in (OpenID Connect)** with {md_escape(names)}; admitted: {who}."


def toggle_preview() -> None:
    """Kept outside the widget's key, so the preview survives leaving the Settings page."""
    st.session_state[PREVIEW] = bool(st.session_state.get("w_aggregate_preview"))
