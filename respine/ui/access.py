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

``[privacy]`` (see :mod:`respine.present.privacy`) sets aggregate-only mode, on by default when a login
is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import tomllib
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from respine.errors import RespineError
from respine.present import privacy
from respine.present.fmt import md_escape, setting
from respine.ui import guard, sessions, warmup

LOG = logging.getLogger("respine.access")

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
    trusted_proxies: int = 0
    # A shared store (Redis URL) for the password limiter, so replicas count together; "" = memory.
    limiter_url: str = ""
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


ACCESS_KEYS = {
    "password", "allowed_emails", "allowed_domains", "max_attempts", "lockout_seconds", "trusted_proxies",
    "limiter_url",
}


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

    def _whole(name: str, default: int, low: int, high: int) -> int:
        value = access.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise AccessConfigError(
                f"[access] {name} must be a whole number from {low} to {high}, not {value!r}."
            )
        return value

    limiter_url = access.get("limiter_url", "")
    if not isinstance(limiter_url, str) or (limiter_url and urlsplit(limiter_url).scheme not in
                                            ("redis", "rediss", "unix")):
        raise AccessConfigError(
            '[access] limiter_url must be a Redis URL such as "redis://127.0.0.1:6379/0" '
            f"(redis://, rediss:// or unix://), not {limiter_url!r}."
        )
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
        trusted_proxies=_whole("trusted_proxies", 0, 0, 10),
        limiter_url=limiter_url,
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

    def failure(self, key: str, now: float | None = None, window: float = 86_400) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._failures.setdefault(key, deque(maxlen=1000)).append(now)

    def failures(self, key: str) -> int:
        with self._lock:
            return len(self._failures.get(key, ()))

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LimiterUnavailable(AccessConfigError):
    """The shared attempt store cannot be reached: sign-in is refused until it can (fail closed)."""


class RedisAttemptLimiter:
    """The same sliding window as :class:`AttemptLimiter`, kept in Redis so that every replica
    behind a load balancer counts the same failures (one sorted set of failure times per key,
    expiring with the window). Times are wall-clock seconds: replicas on other machines share them.

    A store that cannot be reached raises :class:`LimiterUnavailable`; the sign-in form then
    refuses every password, right or wrong, rather than letting guesses through uncounted.
    """

    PREFIX = "respine:attempts:"

    def __init__(self, url: str) -> None:
        import redis  # only deployments that configure a shared store need the client

        self.url = url
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def _call(self, work: Callable[[Any], Any]) -> Any:
        try:
            return work(self._redis)
        except self._errors as exc:
            raise LimiterUnavailable(
                f"The shared sign-in store at {redacted_url(self.url)} cannot be reached "
                f"({type(exc).__name__}); sign-in is paused until it answers. Check [access] "
                "limiter_url and the Redis server."
            ) from exc

    def locked_for(self, key: str, max_failures: int, window: float, now: float | None = None) -> float:
        now = time.time() if now is None else now
        name = self.PREFIX + key

        def work(r: Any) -> list[Any]:
            pipe = r.pipeline()
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zcard(name)
            pipe.zrange(name, -1, -1, withscores=True)
            return pipe.execute()

        _, count, last = self._call(work)
        if count < max_failures or not last:
            return 0.0
        return max(0.0, float(last[0][1]) + window - now)

    def failure(self, key: str, now: float | None = None, window: float = 86_400) -> None:
        now = time.time() if now is None else now
        name = self.PREFIX + key

        def work(r: Any) -> None:
            pipe = r.pipeline()
            pipe.zadd(name, {f"{now!r}:{uuid.uuid4().hex[:8]}": now})
            pipe.zremrangebyrank(name, 0, -1001)  # at most the last 1000, as in process memory
            pipe.expire(name, max(1, int(window) + 1))
            pipe.execute()

        self._call(work)

    def failures(self, key: str) -> int:
        return int(self._call(lambda r: r.zcard(self.PREFIX + key)))

    def reset(self, key: str) -> None:
        self._call(lambda r: r.delete(self.PREFIX + key))


def redacted_url(url: str) -> str:
    """A store URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# Plain module state shared by every session of the process, not a Streamlit cache: a client's
# ``clear_cache`` message empties every cache, and with it would go every failed attempt.
_LIMITER = AttemptLimiter()
_SHARED: dict[str, RedisAttemptLimiter] = {}


def limiter(cfg: AccessConfig | None = None) -> AttemptLimiter | RedisAttemptLimiter:
    """The attempt limiter: the shared store of ``[access] limiter_url`` when one is configured,
    else this process's memory (enough for one server; replicas need the shared one)."""
    if cfg is not None and cfg.limiter_url:
        shared = _SHARED.get(cfg.limiter_url)
        if shared is None:
            shared = _SHARED[cfg.limiter_url] = RedisAttemptLimiter(cfg.limiter_url)
        return shared
    return _LIMITER


def reset_limiter() -> None:
    """Forget every failed attempt kept in process memory (tests, and an operator's restart)."""
    global _LIMITER
    _LIMITER = AttemptLimiter()


def secrets_files() -> list[Path]:
    """The secrets files Streamlit reads (``secrets.files``; the user's and the app's by default)."""
    try:
        paths = st.get_option("secrets.files")
    except Exception:  # an old Streamlit without the option: its two standard places
        paths = [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]
    return [Path(p).expanduser() for p in paths]


def check_secrets_files(paths: list[Path]) -> None:
    """Raise :class:`AccessConfigError` for a secrets file that exists but cannot be used.

    A file that exists is a deployment's intent: if it is empty, unreadable or not valid TOML the
    app must not fall back to "no secrets, open local run" (Streamlit reports a parse error as
    ``FileNotFoundError``, the same as no file at all).
    """
    for path in paths:
        if not path.exists():
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise AccessConfigError(
                f"The secrets file {path} exists but cannot be read ({reason}). Make it readable by the "
                "user running the app, or remove it for an open local run."
            ) from exc
        if not text.strip():
            raise AccessConfigError(
                f"The secrets file {path} is empty. Add the [access] or [auth] settings (see "
                ".streamlit/secrets.example.toml), or remove the file for an open local run."
            )
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AccessConfigError(
                f"The secrets file {path} is not valid TOML ({exc}). Fix it (an unclosed quote is the "
                "usual cause), then reload."
            ) from exc


def _secrets() -> dict[str, object]:
    check_secrets_files(secrets_files())
    try:
        return st.secrets.to_dict()
    except (KeyError, AttributeError):
        return {}
    except FileNotFoundError:
        # Streamlit's "no secrets" error, which it also raises for a file it could not parse: the
        # files were checked above, so this is a run without any secrets file.
        if any(p.exists() for p in secrets_files()):
            raise AccessConfigError("The app's secrets could not be read; check the secrets file.") from None
        return {}
    except Exception as exc:
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


def session_id() -> str:
    """The server's id of this session (not kept in session state, which a client can clear)."""
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.session_id:
        return str(ctx.session_id)
    return st.session_state.setdefault(SESSION_KEY, uuid.uuid4().hex)


def _headers() -> Mapping[str, str]:
    try:
        return st.context.headers
    except Exception:  # no request context (AppTest)
        return {}


def real_connection() -> bool:
    """Whether this run serves a browser over a websocket (not AppTest or a bare script run)."""
    return bool(_headers())


def client_address() -> str:
    """The address that the per-address attempt limit counts: the hosting guard's verdict (see
    :func:`respine.ui.guard.client_address`); without the guard, Streamlit's own reading."""
    if guard.installed():
        return _headers().get(guard.CLIENT_HEADER.decode()) or "unknown"
    try:
        return st.context.ip_address or "local"
    except Exception:
        return "local"


def _client_keys() -> list[str]:
    return [f"session:{session_id()}", f"address:{client_address()}"]


def _fingerprint() -> str | None:
    try:
        cookies = st.context.cookies
    except Exception:
        cookies = {}
    return sessions.browser_fingerprint(cookies)


def _grant() -> None:
    st.session_state[GRANTED] = True
    sessions.GRANTS.grant(session_id(), _fingerprint())


def _revoke() -> None:
    st.session_state.pop(GRANTED, None)
    sessions.GRANTS.revoke(session_id())


def is_granted() -> bool:
    """Passed the password in this session, from this browser (see :mod:`respine.ui.sessions`)."""
    if not st.session_state.get(GRANTED):
        return False
    grant = sessions.GRANTS.get(session_id())
    return grant is not None and grant.fingerprint == _fingerprint()


def _limits(cfg: AccessConfig, key: str) -> tuple[int, float]:
    # One address may be a proxy in front of many people: allow it three sessions' worth.
    return (cfg.max_attempts * (3 if key.startswith("address:") else 1), cfg.lockout_seconds)


def check_password(given: str, cfg: AccessConfig, now: float | None = None) -> str | None:
    """Try a password for this session; None if admitted, else the message to show."""
    lim = limiter(cfg)
    keys = _client_keys()
    try:
        wait = max(lim.locked_for(k, *_limits(cfg, k), now=now) for k in keys)
    except LimiterUnavailable as exc:
        LOG.error("%s", exc)
        return ("Sign-in is paused: the server cannot reach the store that counts wrong passwords. "
                "Try again in a minute; if it lasts, tell the trial team.")
    if wait > 0:
        return (
            f"Too many wrong passwords. Try again in {max(1, round(wait / 60))} minute(s), or ask the trial "
            "team for the password."
        )
    try:
        if password_matches(given, cfg):
            lim.reset(keys[0])
            _grant()
            return None
        for k in keys:
            lim.failure(k, now=now, window=cfg.lockout_seconds)
        left = cfg.max_attempts - lim.failures(keys[0])
    except LimiterUnavailable as exc:
        LOG.error("%s", exc)
        return ("Sign-in is paused: the server cannot reach the store that counts wrong passwords. "
                "Try again in a minute; if it lasts, tell the trial team.")
    if left <= 0:
        return "Wrong password. Too many wrong passwords: this session must wait before trying again."
    return f"Wrong password. {left} attempt(s) left before a pause."


def _password_form(cfg: AccessConfig, taken_over: bool = False) -> None:
    st.title("RESPINE results explorer")
    st.markdown("These results are shared with the trial team only. Enter the password you were given.")
    if taken_over:
        st.warning(
            "This session was signed in from another browser, so it was signed out here. Enter the "
            "password to continue.",
            icon=":material/lock:",
        )
    with st.form("access_form", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="access_password")
        submitted = st.form_submit_button("Open the explorer", type="primary")
    # A sign-in lasts as long as the browser's session on one server: a reload, or a server that
    # restarted or was replaced behind a load balancer, asks again. Say so, and that nothing is lost.
    st.caption("Signed in a moment ago? A reload or a server restart asks for the password again; "
               "the link keeps your view (an uploaded file has to be uploaded again).")
    if submitted:
        message = check_password(given or "", cfg)
        if message is None:
            st.rerun()
        st.error(message, icon=":material/lock:")


def _login_page(cfg: AccessConfig) -> None:
    st.title("RESPINE results explorer")
    st.markdown("These results are shared with the trial team only. Sign in to continue.")
    for provider in cfg.providers:
        name = md_escape(provider.replace("_", " ").title()) if provider else ""
        label = f"Sign in with {name}" if provider else "Sign in"
        st.button(
            label,
            on_click=st.login,
            args=(provider,) if provider else (),
            type="primary",
            key=f"login_{provider or 'default'}",
            icon=":material/login:",
        )


GUARD_MISSING = (
    "This deployment needs a login, but the app was started without its hosting guard, which "
    "keeps signed-out clients from clearing caches, uploading files, reading server metrics or "
    "taking over a signed-in session. Start it with `streamlit run serve.py` (scripts/start.sh and "
    "the Dockerfile do), not `streamlit run app.py`."
)
REQUESTED_PAGE = "_requested_page"


def _remember_requested_page() -> None:
    """The page a deep link asked for, so the reader lands there after signing in (the sign-in
    runs happen before ``st.navigation``, which would otherwise open the default page)."""
    if REQUESTED_PAGE in st.session_state:
        return
    try:
        path = urlsplit(st.context.url or "").path
    except Exception:
        path = ""
    st.session_state[REQUESTED_PAGE] = path.rstrip("/").rsplit("/", 1)[-1]


def requested_page() -> str | None:
    """The deep-linked page of a reader who has just signed in (once), else None."""
    return st.session_state.pop(REQUESTED_PAGE, None) or None


def gate() -> AccessConfig:
    """Stop the script run unless this session may see the app; returns the configuration."""
    try:
        cfg = config()
    except RespineError as exc:
        # Fail closed: a deployment whose access settings are broken shows nothing else.
        st.error(
            f"The app's access settings are not valid, so nothing is shown. {md_escape(str(exc))}",
            icon=":material/lock:",
        )
        st.stop()
    if cfg.mode == "open" or warmup.is_warmup_run():
        # the server's own warm-up run (no client can hold its session id; see respine.ui.warmup)
        return cfg
    if real_connection() and not guard.installed():
        st.error(GUARD_MISSING, icon=":material/lock:")
        st.stop()
    if cfg.mode == "oidc":
        if not st.user.is_logged_in:
            _revoke()
            _remember_requested_page()
            _login_page(cfg)
            st.stop()
        email = st.user.get("email")
        if not cfg.admits(email if isinstance(email, str) else None):
            _revoke()
            st.error(
                f"The account {md_escape(email or '(no e-mail)')} is not on this trial's access list. "
                "Sign out and sign in with the account the trial team registered, or ask them to add it.",
                icon=":material/block:",
            )
            st.button("Sign out", on_click=st.logout, key="logout_refused")
            st.stop()
        if not is_granted():
            _grant()  # the identity provider's signed cookie came with this connection
        return cfg
    taken_over = bool(st.session_state.get(GRANTED)) and not is_granted()
    if taken_over:
        # The session passed the password in one browser and is now driven by another client.
        _revoke()
    if not is_granted():
        _remember_requested_page()
        _password_form(cfg, taken_over)
        st.stop()
    return cfg


def sign_out() -> None:
    _revoke()


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
                "Value": setting(value),
                "Safe value": setting(safe),
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


def protections(cfg: AccessConfig) -> list[dict[str, str]]:
    """What protects a hosted deployment, as rows for the Settings page: each says whether it is
    in force for this server and this session."""
    hosted = cfg.mode != "open"
    forwarded = bool(_headers().get("X-Forwarded-For") or _headers().get("x-forwarded-for"))
    proxies = (
        f"{cfg.trusted_proxies} trusted proxy hop(s): the address the outermost one saw counts"
        if cfg.trusted_proxies else
        "no proxy trusted: the peer's address counts; requests that claim an address share one limit"
    )
    rows = [
        ("Hosting guard (serve.py)", "running" if guard.installed() else "not running",
         "ok" if guard.installed() or not hosted else "check",
         "drops signed-out clients' cache, upload and developer messages; hides /_stcore/metrics"),
        ("Session bound to its browser", "yes" if _fingerprint() else "no XSRF cookie",
         "ok" if _fingerprint() or not real_connection() else "check",
         "a client that knows a signed-in session's id cannot take it over"),
        ("Client address for attempt limits", proxies,
         "check" if hosted and forwarded and not cfg.trusted_proxies else "ok",
         "set [access] trusted_proxies to the number of proxies in front of the app"),
        ("Where wrong passwords are counted",
         f"shared store {redacted_url(cfg.limiter_url)}" if cfg.limiter_url else "this server's memory",
         "ok" if cfg.limiter_url or not (cfg.mode == "password" and forwarded) else "check",
         "behind a load balancer with several replicas, set [access] limiter_url so they count together"),
    ]
    return [{"Protection": a, "State": b, "Status": c, "Why": d} for a, b, c, d in rows]


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
