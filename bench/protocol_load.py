#!/usr/bin/env python
"""Protocol-level load test: N simulated sessions speak Streamlit's websocket protocol to one server.

    .venv/bin/python bench/protocol_load.py --sessions 5 --duration 30 --out /tmp/smoke.json
    .venv/bin/python bench/protocol_load.py --sessions 50 --duration 180 --interval 3
    .venv/bin/python bench/protocol_load.py --sessions 20 --arrival 1 --duration 20
    .venv/bin/python bench/protocol_load.py --data /tmp/big          # another trial (RESPINE_DATA)
    .venv/bin/python bench/protocol_load.py --url http://127.0.0.1:8501   # a server already running

On a shared machine wrap it in ``flock /tmp/respine-bench.lock ...`` so benchmark runs never overlap.

No browser: every session is an asyncio websocket client (``websockets.asyncio.client``) that sends
the protobuf ``BackMsg`` frames Streamlit's frontend sends and reads the ``ForwardMsg`` frames back,
so hundreds of sessions cost the client a fraction of a core and what is measured is the server.
Unless ``--url`` names a running server, one is started as deployed: ``streamlit run serve.py``
(the hosting guard around ``app.py``) on a free loopback port.

Each session: gets its XSRF cookie (``/_stcore/health``, as the frontend does), opens the websocket
and a deep link (``page_name`` = the page's url path from ``app.py``'s ``st.Page`` declarations,
and a query string such as ``ep=ODI&visit=6``; pages and links rotate over the sessions). Then,
every ``--interval`` seconds (measured from the previous action's send; when a view takes longer,
the next action follows its arrival at once, nothing is queued), it either changes a selectbox of
the last view (another option, chosen at random) or, with probability ``--navigate``, goes to
another page of the navigation, exactly as the frontend does (all drawn widgets' states with every
rerun, the page's script hash after a navigation click, the hashes of the cached large messages).
Every action's time runs from the send to the ``script_finished`` of its run. Errors: an exception
element, the frame's "Something went wrong" (``st.error``), no ``script_finished`` within 30 s,
the connection closed by the server, a failed handshake, a reference to a message the session
never received, and tracebacks or ERROR lines in the server's log (own server only).

Measured: actions and their rate, p50/p95/max time to an updated view, each session's first view
(from the cookie request to the first ``script_finished``), server memory (VmRSS of the server's
process tree, sampled every second: start, peak, per session) and CPU, the 1-minute load average,
and the load generator's own CPU and event-loop lag. Results: ``--out`` (JSON, every action) and
a Markdown summary next to it. Method and how to read it: ``bench/load_test.md``, section
"Protocol-level load".
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import os
import random
import resource
import shlex
import socket
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run as a script: `bench` (and tests.wsclient) importable
    sys.path.insert(0, str(REPO))

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench.common import Server, code_fingerprint, p95, secs, stats_row  # noqa: E402
from bench.common import machine as common_machine  # noqa: E402
from bench.load_test import _proc_tree, sample_server, server_log_errors  # noqa: E402
from tests.wsclient import browser_cookies, drawn_widget_state, rerun_message  # noqa: E402

APP = REPO / "app.py"
SERVE = REPO / "serve.py"
DEFAULT_OUT = BENCH / "protocol_results.json"

MAX_SESSIONS = 500  # hard caps: this is a load generator on a shared machine
MAX_DURATION = 900.0
MAX_ARRIVAL = 600.0
MIN_INTERVAL = 0.2
ACTION_TIMEOUT_S = 30.0  # no script_finished by then: an error
LATE_LIMIT_S = 90.0  # after a timeout, how long a session still waits for that run before giving up
SAMPLE_S = 1.0  # server memory / CPU / load sampling period
LAG_TICK_S = 0.1  # event-loop lag probe period
WRONG = "Something went wrong"
# Query strings of the deep links, rotated over the sessions (5 is coprime with the 16 pages, so
# every page is opened with every link). Values the data lack fall back to defaults with a note.
DEEP_LINKS = ("ep=ODI&visit=6", "ep=VAS&visit=12", "pop=PP&visit=3", "ep=RESP", "")
WIDGET_KINDS = frozenset({"selectbox", "radio", "multiselect", "checkbox", "slider", "number_input",
                          "text_input", "text_area", "button", "download_button", "form_submit_button",
                          "file_uploader", "segmented_control", "button_group", "date_input",
                          "time_input", "color_picker", "chat_input", "data_editor"})
KEEP = frozenset({"selectbox", "radio", "multiselect", "checkbox", "slider", "number_input",
                  "text_input", "text_area", "alert", "exception"})  # kept for cached references
FINISHED_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
FINISHED_WITH_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR


# ---------------------------------------------------------------------------------------------
# The app's pages, the machine, the server process
# ---------------------------------------------------------------------------------------------


def app_pages(app: Path = APP) -> list[str]:
    """The url paths of the ``st.Page`` declarations in ``app.py``, in source order ("" = default)."""
    found = []
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"):
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        default = isinstance(kw.get("default"), ast.Constant) and kw["default"].value is True
        if default:
            path = ""
        elif isinstance(kw.get("url_path"), ast.Constant):
            path = str(kw["url_path"].value)
        elif node.args and isinstance(node.args[0], ast.Constant):
            path = Path(str(node.args[0].value)).stem
        else:
            continue
        found.append((node.lineno, path))
    return [p for _, p in sorted(found)]


def machine() -> dict[str, str]:
    """common.machine() plus the protocol libraries this generator depends on."""
    import google.protobuf
    import websockets

    return {**common_machine(), "websockets": websockets.__version__, "protobuf": google.protobuf.__version__}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:``port`` (or any address), from /proc (same user only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    if not inodes:
        return None
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                target = os.readlink(fd.path)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
    return None


def check_loopback(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not parts.port:
        raise SystemExit(f"--url must be http://<loopback address>:<port>, not {url!r}")
    try:
        addresses = {ai[4][0] for ai in socket.getaddrinfo(host, parts.port)}
    except OSError as exc:
        raise SystemExit(f"--url: cannot resolve {host!r}: {exc}") from exc
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"--url must be a loopback address (127.0.0.1, ::1, localhost), not {host!r}")
    return f"http://{parts.netloc}"


# ---------------------------------------------------------------------------------------------
# One simulated session
# ---------------------------------------------------------------------------------------------


@dataclass
class Widget:
    id: str
    kind: str
    label: str
    options: list[str]
    disabled: bool
    script_hash: str


@dataclass
class RunView:
    """What one script run of a session drew (from its ``new_session`` to its ``script_finished``)."""

    widgets: list[Widget] = field(default_factory=list)
    active: set[str] = field(default_factory=set)  # ids of the widgets drawn
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    alerts: list[str] = field(default_factory=list)  # st.error texts that are content
    elements: int = 0
    refs: int = 0  # elements sent as a reference to a cached message
    status: int = 0


@dataclass
class Run:
    """What every session shares and records."""

    base_url: str
    t0: float  # perf_counter of the run's start (t = 0: the first session starts)
    deadline: float  # perf_counter after which no action starts
    interval: float
    navigate_share: float
    seed: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    firsts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    open_sessions: int = 0
    in_flight: int = 0

    def now(self) -> float:
        return time.perf_counter() - self.t0


def page_label(path: str) -> str:
    return path or "overview"


class Session:
    """One websocket = one Streamlit session, acting like a person at a browser."""

    def __init__(self, run: Run, index: int, start_at: float, path: str, query: str) -> None:
        self.run = run
        self.index = index
        self.start_at = start_at  # seconds after the run's start
        self.rng = random.Random(f"{run.seed}-{index}")
        self.first_path = path
        self.first_query = query
        self.query = query  # the browser's current query string (page_info_changed updates it)
        self.page_hash = ""  # current page's script hash (new_session)
        self.main_hash = ""  # app.py's script hash
        self.pages: dict[str, str] = {}  # url path -> page script hash (navigation)
        self.states: dict[str, WidgetState] = {}  # the frontend's widget manager
        self.widget_script: dict[str, str] = {}  # widget id -> script hash that drew it
        self.widgets: list[Widget] = []  # the widgets of the last finished run
        self.cache: dict[str, list[Any]] = {}  # hash -> [run count when last used, element or None]
        self.run_count = 0
        self.max_age = 2  # global.maxCachedMessageAge, from new_session
        self.view = RunView()
        self.waiter: asyncio.Future[RunView] | None = None
        self.bytes_in = 0
        self.ws: Any = None
        self.closing = False
        self.where = page_label(path)
        self.doing = "open"
        self.t_start = 0.0  # perf_counter: the cookie request (the session's first request)
        self.t_connected = 0.0  # perf_counter: websocket open
        self.chosen: tuple[str, str] | None = None  # (label, option) of the selectbox change sent

    # -- bookkeeping ------------------------------------------------------------------------------

    def error(self, kind: str, message: str, **extra: Any) -> dict[str, Any]:
        rec = {"session": self.index, "page": self.where, "action": self.doing, "kind": kind,
               "message": message.strip()[:1500], "t": round(self.run.now(), 2), **extra}
        self.run.errors.append(rec)
        print(f"  ERROR session {self.index} {self.where} [{self.doing}] {kind}: {rec['message'][:200]}",
              flush=True)
        return rec

    def current_path(self) -> str:
        return next((p for p, h in self.pages.items() if h == self.page_hash), self.where)

    # -- receiving --------------------------------------------------------------------------------

    def element(self, el: Any, script_hash: str) -> None:
        kind = el.WhichOneof("type") or ""
        view = self.view
        view.elements += 1
        if kind == "exception":
            view.errors.append(("exception", f"{el.exception.type}: {el.exception.message}"))
        elif kind == "alert":
            if WRONG in el.alert.body:
                view.errors.append(("something went wrong", el.alert.body))
            elif el.alert.format == el.alert.ERROR:
                view.alerts.append(el.alert.body)
        elif kind in WIDGET_KINDS:
            inner = getattr(el, kind)
            wid = getattr(inner, "id", "")
            if not wid:
                return
            view.active.add(wid)
            self.widget_script[wid] = script_hash
            state = drawn_widget_state(el)
            if state is not None and (getattr(inner, "set_value", False) or wid not in self.states):
                self.states[wid] = state
            options = list(getattr(inner, "options", [])) if kind in ("selectbox", "radio") else []
            view.widgets.append(Widget(wid, kind, getattr(inner, "label", ""), options,
                                       bool(getattr(inner, "disabled", False)), script_hash))

    def finished(self, status: int) -> None:
        """A run ended. Like the frontend: forget the widgets it did not draw, age the cache."""
        view = self.view
        view.status = status
        if status == FINISHED_WITH_COMPILE_ERROR:
            view.errors.append(("exception", "the script did not compile (FINISHED_WITH_COMPILE_ERROR)"))
        self.states = {k: v for k, v in self.states.items() if k in view.active}
        self.widget_script = {k: v for k, v in self.widget_script.items() if k in view.active}
        self.widgets = view.widgets
        self.run_count += 1
        for h in [h for h, entry in self.cache.items() if self.run_count - entry[0] > self.max_age]:
            del self.cache[h]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(view)

    def handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # a script run starts
            ns = msg.new_session
            self.page_hash = ns.page_script_hash
            self.main_hash = ns.main_script_hash or self.main_hash
            if ns.config.max_cached_message_age:
                self.max_age = ns.config.max_cached_message_age
            self.view = RunView()
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            if msg.delta.WhichOneof("type") != "new_element":
                return
            el = msg.delta.new_element
            if msg.metadata.cacheable and msg.hash:  # the frontend keeps it for later references
                keep = None
                if el.WhichOneof("type") in KEEP:
                    keep = type(el)()
                    keep.CopyFrom(el)
                self.cache[msg.hash] = [self.run_count, keep]
            self.element(el, msg.metadata.active_script_hash)
        elif kind == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            self.view.refs += 1
            if entry is None:
                self.view.errors.append(("cache miss", f"reference to a message never received: "
                                                       f"{msg.ref_hash}"))
                return
            entry[0] = self.run_count
            if entry[1] is not None:
                self.element(entry[1], msg.metadata.active_script_hash)
            else:
                self.view.elements += 1
        elif kind == "script_finished":
            if msg.script_finished != FINISHED_EARLY_FOR_RERUN:
                self.finished(msg.script_finished)
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            exc = msg.session_event.script_compilation_exception
            self.view.errors.append(("exception", f"{exc.type}: {exc.message}"))

    async def reader(self) -> None:
        try:
            async for raw in self.ws:
                self.bytes_in += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self.handle(msg)
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                code = getattr(self.ws.close_code, "value", self.ws.close_code)
                self.error("connection closed",
                           f"the server closed the websocket (code {code}, {self.ws.close_reason!r})")
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(ConnectionError("connection closed"))

    # -- sending ----------------------------------------------------------------------------------

    async def action(self, kind: str, detail: str, msg: Any, target: str) -> bool:
        """Send one rerun and wait for its ``script_finished``; record it. False: stop the session.

        A run that takes over 30 s is a timeout error; the session still waits for it (up to 90 s
        more, so it never sends into a run still going) and records its real time, marked."""
        self.doing = f"{kind}: {detail}" if detail else kind
        chosen, self.chosen = self.chosen, None
        self.waiter = asyncio.get_running_loop().create_future()
        before = self.bytes_in
        started = self.run.now()
        timed_out = False
        self.run.in_flight += 1
        t_send = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            try:
                view = await asyncio.wait_for(asyncio.shield(self.waiter), ACTION_TIMEOUT_S)
            except TimeoutError:
                timed_out = True
                late = self.error("timeout", f"no script_finished within {ACTION_TIMEOUT_S:.0f} s")
                try:
                    view = await asyncio.wait_for(self.waiter, LATE_LIMIT_S)
                    late["late_s"] = round(time.perf_counter() - t_send, 2)
                except TimeoutError:
                    self.error("timeout", f"the run has not finished {LATE_LIMIT_S + ACTION_TIMEOUT_S:.0f} s "
                                          "after it was asked for; session ended")
                    return False
        except (ConnectionClosed, ConnectionError):
            return False  # recorded by the reader
        finally:
            self.run.in_flight -= 1
        seconds = time.perf_counter() - t_send
        self.where = page_label(target)
        for err_kind, message in view.errors:
            self.error(err_kind, message)
        for text in view.alerts:
            self.run.alerts.append({"session": self.index, "page": self.where, "message": text[:300]})
        rec = {"session": self.index, "kind": kind, "page": self.where, "detail": detail,
               "t": round(started, 3), "seconds": round(seconds, 4), "timed_out": timed_out,
               "kib": round((self.bytes_in - before) / 1024, 1),
               "elements": view.elements, "refs": view.refs, "ok": not view.errors,
               "query_after": self.query}
        # Checks that the action did what it was meant to (else the run measured something else).
        if self.pages and self.current_path() != target:
            self.error("wrong page", f"asked for {page_label(target)!r}, the server ran "
                                     f"{page_label(self.current_path())!r}")
        if chosen is not None:
            label, value = chosen
            rec["applied"] = any(w.label == label and getattr(self.states.get(w.id), "string_value", None)
                                 == value for w in view.widgets)
        if kind == "open":
            return self._first_view(rec)
        self.run.samples.append(rec)
        return True

    def _first_view(self, rec: dict[str, Any]) -> bool:
        rec["first_view_s"] = round(time.perf_counter() - self.t_start, 4)
        rec["connect_s"] = round(self.t_connected - self.t_start, 4)
        rec["start_s"] = round(self.t_start - self.run.t0, 3)
        rec["query"] = self.first_query
        self.run.firsts.append(rec)
        return True

    def change_widget(self) -> tuple[str, str, Any, str] | None:
        """Another option of one of the last view's selectboxes (the message, not yet sent)."""
        boxes = [w for w in self.widgets if w.kind == "selectbox" and len(w.options) > 1 and not w.disabled]
        if not boxes:
            return None
        box = self.rng.choice(boxes)
        state = self.states.get(box.id)
        current = state.string_value if state is not None else None
        value = self.rng.choice([o for o in box.options if o != current])
        self.states[box.id] = WidgetState(id=box.id, string_value=value)
        self.chosen = (box.label, value)
        msg = rerun_message(self.query, "", self.states.values(), page_script_hash=self.page_hash,
                            cached_message_hashes=self.cache.keys())
        return "widget", f"{box.label} = {value}", msg, self.current_path()

    def navigate(self) -> tuple[str, str, Any, str] | None:
        """A click on another page in the sidebar navigation (the message, not yet sent)."""
        here = self.current_path()
        targets = [p for p in self.pages if p != here]
        if not targets:
            return None
        path = self.rng.choice(targets)
        # The frontend keeps the widgets drawn by app.py itself (the sidebar), drops the page's,
        # and sends no query string (the app writes the view back into the address).
        kept = [s for wid, s in self.states.items() if self.widget_script.get(wid) == self.main_hash]
        msg = rerun_message("", "", kept, page_script_hash=self.pages[path],
                            cached_message_hashes=self.cache.keys())
        return "navigate", page_label(path), msg, path

    async def main(self) -> None:
        run = self.run
        await asyncio.sleep(max(0.0, self.start_at - run.now()))
        self.t_start = time.perf_counter()
        base = run.base_url
        try:
            cookies = await asyncio.to_thread(browser_cookies, base)
            xsrf = cookies.get("_streamlit_xsrf", "")
            headers = {"Origin": base}
            if cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            uri = f"ws://{urlsplit(base).netloc}/_stcore/stream"
            self.ws = await connect(uri, additional_headers=headers,
                                    subprotocols=["streamlit", xsrf or "none"],  # type: ignore[list-item]
                                    open_timeout=ACTION_TIMEOUT_S, max_size=2**26,
                                    ping_interval=None)  # a browser sends no pings; the server does
        except Exception as exc:
            self.error("connection failed", f"{type(exc).__name__}: {exc}")
            return
        self.t_connected = time.perf_counter()
        run.open_sessions += 1
        reading = asyncio.create_task(self.reader())
        try:
            first = rerun_message(self.first_query, self.first_path, ())
            if not await self.action("open", self.first_path, first, self.first_path):
                return
            last_send = self.t_start
            while True:
                last_send = max(last_send + run.interval, time.perf_counter())
                if last_send >= run.deadline:
                    break
                await asyncio.sleep(last_send - time.perf_counter())
                last_send = time.perf_counter()
                step = None
                if self.rng.random() < run.navigate_share:
                    step = self.navigate()
                step = step or self.change_widget() or self.navigate()
                if step is None:
                    self.error("no action", "the view has no selectbox and no other page")
                    return
                if not await self.action(*step):
                    return
        finally:
            self.closing = True
            run.open_sessions -= 1
            with contextlib.suppress(Exception):
                await self.ws.close()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading


# ---------------------------------------------------------------------------------------------
# Driving the sessions, sampling the server
# ---------------------------------------------------------------------------------------------


def runnable_threads(pid: int) -> tuple[int, int]:
    """(threads, threads in state R) of the process ``pid`` and its children: the server's own
    share of the load average (which counts runnable threads of every process)."""
    total = running = 0
    for proc in _proc_tree(pid):
        with contextlib.suppress(OSError):
            for task in os.scandir(f"/proc/{proc}/task"):
                with contextlib.suppress(OSError):
                    state = Path(task.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                    total += 1
                    running += state == "R"
    return total, running


async def sampler(run: Run, pid: int | None, out: list[dict[str, Any]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        s: dict[str, Any] = sample_server(pid) if pid else {"load1": os.getloadavg()[0]}
        if pid:
            s["threads"], s["running"] = runnable_threads(pid)
        s.update(t=round(run.now(), 2), sessions=run.open_sessions, in_flight=run.in_flight)
        out.append(s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SAMPLE_S)


async def lag_probe(stop: asyncio.Event, out: list[float]) -> None:
    """How late the load generator's event loop wakes up (its own timings are that unsure)."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(LAG_TICK_S)
        out.append(max(0.0, time.perf_counter() - t - LAG_TICK_S))


async def warm_up(base_url: str, seed: int) -> Run:
    """One session opens the default page and leaves, untimed: the server has loaded the data and
    imported the app's modules, as a server that has been up for a while has."""
    t = time.perf_counter()
    run = Run(base_url=base_url, t0=t, deadline=t, interval=1.0, navigate_share=0.0, seed=seed)
    await Session(run, -1, 0.0, "", "").main()
    return run


async def drive(base_url: str, pid: int | None, args: argparse.Namespace, res: dict[str, Any]) -> Run:
    pages = app_pages()
    if not args.cold:
        warm = await warm_up(base_url, args.seed)
        res["warm_up"] = {"first_view_s": warm.firsts[0]["first_view_s"] if warm.firsts else None,
                          "errors": warm.errors}
        print(f"warm-up: first view of the default page in "
              f"{res['warm_up']['first_view_s'] or float('nan'):.1f} s", flush=True)
    res["memory_start"] = sample_server(pid) if pid else None
    res["loadavg_start"] = loadavg()
    t0 = time.perf_counter() + 0.2
    run = Run(base_url=base_url, t0=t0, deadline=t0 + args.duration, interval=args.interval,
              navigate_share=args.navigate, seed=args.seed)
    n = args.sessions
    sessions = []
    for i in range(n):
        start = args.arrival * i / (n - 1) if n > 1 else 0.0
        sessions.append(Session(run, i, start, pages[i % len(pages)], DEEP_LINKS[i % len(DEEP_LINKS)]))
    timeline: list[dict[str, Any]] = []
    lags: list[float] = []
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler(run, pid, timeline, stop))
    probing = asyncio.create_task(lag_probe(stop, lags))
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    outcomes = await asyncio.gather(*(s.main() for s in sessions), return_exceptions=True)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    for s, outcome in zip(sessions, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            s.error("session crashed", f"{type(outcome).__name__}: {outcome}")
    res["sessions_end_s"] = run.now()
    res["memory_end"] = sample_server(pid) if pid else None
    await asyncio.sleep(5)  # the server lets go of the closed sessions
    res["memory_after_close"] = sample_server(pid) if pid else None
    stop.set()
    await asyncio.gather(sampling, probing)
    res["timeline"] = timeline
    res["pages"] = pages
    res["client"] = {"cpu_s": (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime),
                     "max_rss_mib": ru1.ru_maxrss / 1024,
                     "loop_lag_p95_s": p95(lags) if lags else 0.0, "loop_lag_max_s": max(lags, default=0.0)}
    return run


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------




def esc(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def build_report(res: dict[str, Any], json_name: str) -> str:
    m = res["machine"]
    samples, firsts, errors, timeline = res["samples"], res["firsts"], res["errors"], res["timeline"]
    n = res["sessions"]
    span = max(res["sessions_end_s"], 1e-9)
    load_during = [s["load1"] for s in timeline] or [0.0]
    lb = res["loadavg_before"]
    running = [s["running"] for s in timeline if "running" in s]
    own = statistics.mean(running) if running else None
    other = statistics.mean(load_during) - (own or 0.0)
    busy = lb[0] > 1.0 or other > 1.0
    lines = [
        "# RESPINE explorer: protocol-level load",
        "",
        f"Run {res['date']} with `{res['command']}`: **{n} simulated sessions** (websocket protocol, "
        f"no browser), arriving within {res['arrival']:g} s, each acting every {res['interval']:g} s "
        f"({100 * res['navigate']:.0f}% navigation, the rest selectbox changes) for {res['duration']:g} s, "
        f"on {res['data_label']}. Server: {res['server_label']}."
        + (f" Warm-up: one untimed session opened the default page first (the server's first run: "
           f"{res['warm_up']['first_view_s']:.1f} s; the data loaded, the app's modules imported)."
           if res.get("warm_up") and res["warm_up"]["first_view_s"] is not None
           else " No warm-up (`--cold`): the first session's first view includes loading the data."),
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; {m['os']}; Python {m['python']}, "
        f"Streamlit {m['streamlit']}, websockets {m['websockets']}, protobuf {m['protobuf']}. "
        f"App code fingerprint (SHA-256 of app.py, app_pages/, respine/): `{res['code_sha']}`"
        + (f" (**changed during the run**: `{res['code_sha_end']}` at the end)"
           if res["code_sha_end"] != res["code_sha"] else "") + ".",
        "",
        f"Load average (/proc/loadavg, 1/5/15 min) before the server started: "
        f"{lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f}; during the run (1 min, sampled every second): "
        f"min {min(load_during):.2f}, mean {statistics.mean(load_during):.2f}, max {max(load_during):.2f}; "
        f"at the end {res['loadavg_end'][0]:.2f}."
        + (f" The server's own runnable threads averaged {own:.2f}, so other work accounts for about "
           f"{max(other, 0.0):.1f} of the mean load." if own is not None else "")
        + (" **Other work ran on the machine** (load average above 1 before the run, or above what "
           "the server's threads explain during it): every time and CPU figure here is an upper "
           "bound; rerun on a quiet machine with the same command." if busy else ""),
        "",
        f"Method: `bench/load_test.md`, section \"Protocol-level load\". Raw data: `{json_name}` "
        "(every action, error and sample).",
        "",
        f"## Errors: {len(errors)}",
        "",
    ]
    if errors:
        kinds = Counter(e["kind"] for e in errors)
        lines += ["| kind | count | first (t, session, page, action: message) |", "|---|---|---|"]
        for kind, count in kinds.most_common():
            e = next(x for x in errors if x["kind"] == kind)
            lines.append(f"| {kind} | {count} | t={e['t']} s, session {e['session']}, {e['page']}, "
                         f"{esc(e['action'])}: {esc(e['message'])[:300]} |")
    else:
        lines.append("None: no exception element, no \"Something went wrong\", no run over "
                     f"{ACTION_TIMEOUT_S:.0f} s, no connection closed or refused, no cache miss"
                     + (", no error in the server log." if res["own_server"] else "."))
    if res["alerts"]:
        counts = Counter((a["page"], a["message"]) for a in res["alerts"])
        lines += ["", "Error messages the app showed as content (st.error other than \"Something went "
                  "wrong\"; not failures, listed to be checked):", ""]
        lines += [f"- {c} x {page}: {esc(msg)[:200]}" for (page, msg), c in counts.most_common(10)]

    acts = [s["seconds"] for s in samples]
    widget = [s["seconds"] for s in samples if s["kind"] == "widget"]
    nav = [s["seconds"] for s in samples if s["kind"] == "navigate"]
    fv = [f["first_view_s"] for f in firsts]
    offered = n / res["interval"]
    due = 0
    for f in firsts:
        k = 1
        while f["start_s"] + k * res["interval"] < res["duration"]:
            due, k = due + 1, k + 1
    t_first = min((f["t"] for f in firsts), default=0.0)
    t_last = max((s["t"] + s["seconds"] for s in samples), default=span)
    window = max(t_last - t_first, 1e-9)
    kib = [s["kib"] for s in samples]
    lines += [
        "",
        "## Actions and time to an updated view",
        "",
        f"{len(samples)} actions after the first views ({len(widget)} selectbox changes, {len(nav)} "
        f"navigations): **{len(samples) / window:.2f} actions/s** over {window:.0f} s (first view sent "
        f"to last action done); offered at most {offered:.2f}/s ({n} sessions / {res['interval']:g} s). "
        f"The cadence (every session every {res['interval']:g} s from its start until "
        f"{res['duration']:g} s) asked for {due} actions: {100 * len(samples) / max(due, 1):.0f}% were done "
        "(below 100%: views took longer than the interval, so sessions acted less often). "
        + (f"Data per action: median {statistics.median(kib):.0f} KiB from the server. " if kib else "")
        + "Time: from sending the rerun to its `script_finished` (the server has sent the whole "
        "updated view; drawing it is the browser's part and not included).",
        "",
        "| actions | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
        stats_row("**all actions** (after the first view)", acts),
        stats_row("selectbox change", widget),
        stats_row("navigation (sidebar link)", nav),
        stats_row("first view (cookie request to first `script_finished`)", fv),
        "",
        f"Included at their real time: {sum(bool(s.get('timed_out')) for s in samples + firsts)} runs "
        f"that took over {ACTION_TIMEOUT_S:.0f} s (each also counted as a timeout error). Selectbox "
        f"changes that came back without the value set: "
        f"{sum(s.get('applied') is False for s in samples)} of {sum('applied' in s for s in samples)}.",
        "",
        "Per page (actions whose view is that page):",
        "",
        "| page | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
    ]
    for page in [page_label(p) for p in res["pages"]]:
        lines.append(stats_row(page, [s["seconds"] for s in samples if s["page"] == page]))
    if samples:
        slow = sorted(samples, key=lambda s: -s["seconds"])[:5]
        lines += ["", "Slowest actions: " + "; ".join(
            f"{s['seconds']:.2f} s session {s['session']} {s['page']} {s['kind']} ({esc(s['detail'])}) "
            f"at t={s['t']:.0f} s" for s in slow) + "."]
    if firsts and (n <= 50 or res["arrival"] <= 5):
        lines += ["", "First view of each session (start: when it began, after the run's start; "
                  "connect: cookie request and websocket handshake; first view: from the cookie "
                  "request to the first `script_finished`):", "",
                  "| session | start | page | query | connect | first view | KiB |",
                  "|---|---|---|---|---|---|---|"]
        for f in sorted(firsts, key=lambda f: f["session"]):
            lines.append(f"| {f['session']} | {f['start_s']:.2f} s | {f['page']} | `{f['query'] or '-'}` | "
                         f"{secs(f['connect_s'])} | {secs(f['first_view_s'])} | {f['kib']:.0f} |")

    lines += ["", "## Server", ""]
    if res["memory_start"]:
        rss = [s["rss_mib"] for s in timeline if "rss_mib" in s] or [0.0]
        start = res["memory_start"]["rss_mib"]
        peak = max([*rss, start, res["memory_end"]["rss_mib"]])
        cpu = res["memory_end"]["cpu_s"] - res["memory_start"]["cpu_s"]
        lines += [
            "Resident memory (VmRSS) of the server's process tree, from /proc every second; CPU time "
            "(user + system) of the same processes.",
            "",
            "| measure | value |",
            "|---|---|",
            *([f"| RSS when healthy (no session yet) | {res['memory_healthy']['rss_mib']:.0f} MiB |"]
              if res.get("memory_healthy") else []),
            f"| RSS at start ({'after the warm-up, ' if res.get('warm_up') else ''}before the "
            f"sessions) | {start:.0f} MiB |",
            f"| RSS peak during the run | {peak:.0f} MiB |",
            f"| RSS at the end (sessions still open) | {res['memory_end']['rss_mib']:.0f} MiB |",
            f"| RSS 5 s after the sessions closed | {res['memory_after_close']['rss_mib']:.0f} MiB |",
            f"| per session, (peak - start) / {n} | {(peak - start) / n:.1f} MiB |",
            f"| CPU time during the sessions | {cpu:.0f} s in {span:.0f} s = {100 * cpu / span:.0f}% of one "
            f"core ({m['cores']} cores) |",
            f"| CPU per action (first views included) | "
            f"{1000 * cpu / max(len(samples) + len(firsts), 1):.0f} ms |",
        ]
    else:
        lines.append("Memory and CPU not measured: the server's process was not found (`--url` without "
                     "`--server-pid`, or a server of another user).")
    c = res["client"]
    lines += [
        "",
        f"Load generator (this script, one process): {c['cpu_s']:.1f} s CPU in {span:.0f} s "
        f"({100 * c['cpu_s'] / span:.0f}% of one core), peak RSS {c['max_rss_mib']:.0f} MiB; event-loop "
        f"lag p95 {1000 * c['loop_lag_p95_s']:.0f} ms, max {1000 * c['loop_lag_max_s']:.0f} ms (its "
        "timings are that much unsure).",
        "",
        "| t (s) | RSS (MiB) | sessions open | runs in flight | load (1 min) |",
        "|---|---|---|---|---|",
    ]
    step = 30 if span > 90 else 5
    seen: set[int] = set()
    for s in timeline:
        k = int(s["t"] // step)
        if k in seen or s["t"] < 0:
            continue
        seen.add(k)
        rss_txt = f"{s['rss_mib']:.0f}" if "rss_mib" in s else "-"
        lines.append(f"| {s['t']:.0f} | {rss_txt} | {s['sessions']} | {s['in_flight']} | {s['load1']:.2f} |")
    if res.get("server_log_after"):
        lines += ["", f"Server log after the sessions ended (not counted): {len(res['server_log_after'])} "
                  "line(s), first: `" + res["server_log_after"][0][:200] + "`"]
    lines.append("")
    return "\n".join(lines)


def dump_json(res: dict[str, Any]) -> str:
    """Indented at the top, one line per record in the long lists (diff-friendly, compact)."""
    parts = []
    for key, value in res.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            body = ",\n".join("  " + json.dumps(v, separators=(",", ":")) for v in value)
            parts.append(f" {json.dumps(key)}: [\n{body}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50, help=f"simulated sessions (default 50, at most "
                        f"{MAX_SESSIONS})")
    parser.add_argument("--duration", type=float, default=180, metavar="S",
                        help=f"no action starts after this, from the first session's start (default 180, "
                        f"at most {MAX_DURATION:g})")
    parser.add_argument("--interval", type=float, default=3, metavar="S",
                        help="each session acts this often (default 3)")
    parser.add_argument("--arrival", type=float, default=10, metavar="S",
                        help="sessions start evenly spread within this window (default 10)")
    parser.add_argument("--navigate", type=float, default=0.25, metavar="P",
                        help="share of actions that go to another page (default 0.25)")
    parser.add_argument("--url", default=None, help="an existing server (loopback only), e.g. "
                        "http://127.0.0.1:8501; default: start `streamlit run serve.py`")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="with --url: the server's process for memory and CPU (default: the "
                        "process listening on the port)")
    parser.add_argument("--data", default=None, metavar="PATH", help="trial folder (RESPINE_DATA) of "
                        "the server started here")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up: the first session is the server's first (loads the data)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sessions' random choices")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="JSON",
                        help="results (the Markdown summary goes next to it, .md)")
    args = parser.parse_args()
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be 1..{MAX_SESSIONS}")
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration must be in (0, {MAX_DURATION:g}]")
    if not MIN_INTERVAL <= args.interval <= MAX_DURATION:
        parser.error(f"--interval must be at least {MIN_INTERVAL:g} s")
    if not 0 <= args.arrival <= min(MAX_ARRIVAL, args.duration):
        parser.error("--arrival must be within 0 and --duration")
    if not 0 <= args.navigate <= 1:
        parser.error("--navigate is a share, 0..1")
    if args.url and args.data:
        parser.error("--data applies to the server this script starts, not to --url")
    out = Path(args.out)
    md_path = out.with_suffix(".md")

    wall0 = time.perf_counter()
    res: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([".venv/bin/python", "bench/protocol_load.py", *sys.argv[1:]]),
        "sessions": args.sessions, "duration": args.duration, "interval": args.interval,
        "arrival": args.arrival, "navigate": args.navigate, "seed": args.seed,
        "machine": machine(), "code_sha": code_fingerprint(), "loadavg_before": loadavg(),
        "settings": {"action_timeout_s": ACTION_TIMEOUT_S, "late_limit_s": LATE_LIMIT_S,
                     "sample_s": SAMPLE_S, "deep_links": DEEP_LINKS},
        "own_server": not args.url,
        "data_label": f"`{args.data}`" if args.data else ("the server's data" if args.url
                                                          else "the shipped data (`data/`)"),
    }
    log = ""
    server = None
    try:
        if args.url:
            base = check_loopback(args.url)
            pid = args.server_pid or listening_pid(urlsplit(base).port or 0)
            res["server_label"] = f"`{base}` (already running" + (f", pid {pid})" if pid else ")")
        else:
            server = Server(SERVE, args.data)
            res["healthy_s"] = server.wait_healthy()
            res["server_cmd"] = shlex.join(server.cmd)
            base, pid = server.url, server.proc.pid
            res["server_label"] = (f"`streamlit run serve.py` started here (healthy in "
                                   f"{res['healthy_s']:.1f} s), one process")
        res["memory_healthy"] = sample_server(pid) if pid else None
        print(f"server {base}; {args.sessions} sessions within {args.arrival:g} s, every "
              f"{args.interval:g} s, for {args.duration:g} s ...", flush=True)
        run = asyncio.run(drive(base, pid, args, res))
        res["loadavg_end"] = loadavg()
        if server is not None:
            res["log_offset_end"] = len(server.log_text())
            server.stop()
            log = server.log_text()
    finally:
        if server is not None:
            server.close()
    if server is not None:
        offset = res["log_offset_end"]
        for line in server_log_errors(log[:offset]):
            run.errors.append({"session": None, "page": "-", "action": "-", "kind": "server log",
                               "message": line, "t": None})
        res["server_log_after"] = server_log_errors(log[offset:])
        res["server_log_tail"] = log[-4000:]
    if res.get("warm_up"):
        for e in res["warm_up"]["errors"]:
            run.errors.append({**e, "action": "warm-up: " + e["action"]})
    res.update(samples=run.samples, firsts=run.firsts, errors=run.errors, alerts=run.alerts,
               code_sha_end=code_fingerprint(), wall_s=time.perf_counter() - wall0)
    try:
        json_name = str(out.resolve().relative_to(REPO))
    except ValueError:
        json_name = str(out)
    report = build_report(res, json_name)
    print()
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_json(res), encoding="utf-8")
    md_path.write_text(report, encoding="utf-8")
    print(f"written: {out}, {md_path}")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
