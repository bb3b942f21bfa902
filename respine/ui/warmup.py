"""Warm the caches at server start: every page's default view is computed once, in the background.

A reader who opens a page nobody has opened since the server started would otherwise wait for
its analyses and figures to be computed (the *first view* of ``bench/README.md``: up to 36x the
floor at 114 subjects). The server itself runs the app once per page, as a fresh session opening
that page's address with no query string would, so the default views are in the caches before
the first reader asks for them.

How, and why so:

* The runs are the app's own (``app.py``, its frame, then the page), through Streamlit's
  :class:`ScriptRunner`, so they fill exactly the caches and keys a reader's run uses; no list of
  "what a page computes" is declared a second time here.
* In a thread of their own, started by the server's lifespan (``serve.py``) or, for a bare
  ``streamlit run app.py``, by the first run of the app. Before each page the warm-up waits while
  any reader's script is running, so a reader never queues behind a page nobody asked for
  (Python runs one thread at a time on the analyses).
* Bounded: at most :data:`BUDGET_SECONDS` (``RESPINE_WARMUP_SECONDS``; 0 turns the warm-up off),
  after which the page being warmed is stopped and the rest skipped.
* The server's own data only: a run opens the data a new session gets (the shipped twin or the
  configured ``data_path``). Uploads belong to their session and are never warmed.
* Not a reader: the runs have a session id no client holds (a random one, never registered with
  the runtime, so no websocket can attach to it), their output is discarded, and the access gate
  (:func:`respine.ui.access.gate`) lets exactly this id through, so a deployment with a password
  or sign-in is warmed too without admitting anyone.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streamlit.logger import get_logger

if TYPE_CHECKING:
    from streamlit.runtime import Runtime

# Streamlit's logger setup (its format and its logger.level, "info" by default), so the operator
# sees in the server's output what the warm-up did.
LOG = get_logger("respine.warmup")

#: Longest the warm-up may take in all, seconds (``RESPINE_WARMUP_SECONDS`` overrides; 0 = off).
BUDGET_SECONDS = 120.0
#: How long the warm-up waits for readers' runs to finish before warming the next page anyway.
YIELD_SECONDS = 10.0

_SESSION_ID = f"respine-warmup-{uuid.uuid4().hex}"
_LOCK = threading.Lock()
_STARTED = False


@dataclass
class Status:
    """What the warm-up did (also written to the server log)."""

    pages: dict[str, str] = field(default_factory=dict)  # url path -> "ok 0.41 s" / "error" / ...
    seconds: float = 0.0
    finished: bool = False
    stopped_by_budget: bool = False


STATUS = Status()


def budget() -> float:
    """The warm-up's time limit in seconds (0: off), from ``RESPINE_WARMUP_SECONDS``."""
    raw = os.environ.get("RESPINE_WARMUP_SECONDS", "").strip()
    if not raw:
        return BUDGET_SECONDS
    try:
        value = float(raw)
    except ValueError:
        LOG.warning("RESPINE_WARMUP_SECONDS=%r is not a number of seconds; using %s", raw, BUDGET_SECONDS)
        return BUDGET_SECONDS
    return max(0.0, value)


def is_warmup_run() -> bool:
    """Whether the running script is one of the warm-up's own runs (no reader's)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx is not None and ctx.session_id == _SESSION_ID


def _live_runtime() -> Runtime | None:
    """The server's Streamlit runtime, or None (a bare script, or AppTest's stand-in)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    return runtime if type(runtime) is Runtime else None


def start(app_path: str | Path) -> bool:
    """Start the warm-up of ``app_path`` in a background thread, once per process.

    Returns whether this call started it (False: already started, turned off, or no server)."""
    global _STARTED
    seconds = budget()
    with _LOCK:
        if _STARTED or seconds <= 0 or _live_runtime() is None:
            return False
        _STARTED = True
    thread = threading.Thread(target=_warm_all, args=(Path(app_path).resolve(), seconds),
                              name="respine-warmup", daemon=True)
    thread.start()
    LOG.info("Warm-up started: every page's default view, at most %.0f s", seconds)
    return True


def _readers_running(runtime: Runtime) -> bool:
    """Whether a reader's script is running now (Streamlit's session states; private API, so any
    change of it means "no" rather than a failed warm-up)."""
    try:
        from streamlit.runtime.app_session import AppSessionState

        return any(info.session._state == AppSessionState.APP_IS_RUNNING
                   for info in runtime._session_mgr.list_active_sessions())
    except Exception:
        return False


def _warm_all(app_path: Path, seconds: float) -> None:
    from respine.ui.pages import PAGES

    start_time = time.monotonic()
    deadline = start_time + seconds
    runtime = _live_runtime()
    try:
        for page in PAGES:
            if time.monotonic() >= deadline:
                STATUS.stopped_by_budget = True
                STATUS.pages[page.url_path] = "skipped (time limit)"
                continue
            waited = time.monotonic()
            while (runtime is not None and _readers_running(runtime)
                   and time.monotonic() - waited < YIELD_SECONDS):
                time.sleep(0.05)
            STATUS.pages[page.url_path] = _warm_page(app_path, page.url_path, deadline)
            if STATUS.pages[page.url_path].startswith("stopped"):
                STATUS.stopped_by_budget = True
    except Exception:  # the warm-up only saves time: never take the server down with it
        LOG.exception("The warm-up stopped")
    finally:
        STATUS.seconds = time.monotonic() - start_time
        STATUS.finished = True
        LOG.info("Warm-up finished in %.1f s: %s", STATUS.seconds,
                 ", ".join(f"/{path} {state}" for path, state in STATUS.pages.items()))


def _warm_page(app_path: Path, url_path: str, deadline: float) -> str:
    """Run the app once as a new session opening ``/url_path``; the outcome, as text."""
    from streamlit.runtime.fragment import MemoryFragmentStorage
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import RerunData, ScriptRunner, ScriptRunnerEvent
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.runtime.state import SessionState

    outcome: list[str] = []
    elements = [0]
    problems: list[str] = []
    missing: list[str] = []
    done = threading.Event()

    def on_event(sender: object, event: ScriptRunnerEvent, **kwargs: object) -> None:
        if event == ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS:
            outcome.append("ok")
        elif event == ScriptRunnerEvent.SCRIPT_STOPPED_WITH_COMPILE_ERROR:
            outcome.append("error")
        elif event == ScriptRunnerEvent.SHUTDOWN:
            done.set()
        elif event == ScriptRunnerEvent.ENQUEUE_FORWARD_MSG:
            msg = kwargs["forward_msg"]
            if msg.HasField("page_not_found"):  # type: ignore[attr-defined]
                missing.append(url_path)  # not in this study's navigation (no data for it)
            elif msg.HasField("delta") and msg.delta.HasField("new_element"):  # type: ignore[attr-defined]
                element = msg.delta.new_element  # type: ignore[attr-defined]
                elements[0] += 1
                if element.HasField("exception"):
                    problems.append(element.exception.message)
                elif element.HasField("alert") and element.alert.format == 1:  # st.error
                    problems.append(element.alert.body)

    loop = asyncio.new_event_loop()
    scripts = ScriptCache()  # the pages' compiled code (a PagesManager without one runs nothing)
    began = time.monotonic()
    runner = ScriptRunner(
        session_id=_SESSION_ID,
        main_script_path=str(app_path),
        session_state=SessionState(),
        uploaded_file_mgr=MemoryUploadedFileManager("/respine-warmup/upload"),
        script_cache=scripts,
        initial_rerun_data=RerunData(),
        user_info={},
        fragment_storage=MemoryFragmentStorage(),
        pages_manager=PagesManager(str(app_path), script_cache=scripts),
        event_loop=loop,
    )
    # Only the run's end is listened to: the messages a browser would be sent are dropped.
    runner.on_event.connect(on_event, weak=False)
    try:
        runner.request_rerun(RerunData(query_string="", page_name=url_path))
        runner.start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            runner.request_stop()
            done.wait(10)
            return "stopped (time limit)"
    finally:
        _forget_media()
        if runner._script_thread is not None:
            runner._script_thread.join(10)
        if not loop.is_closed():
            loop.close()
    took = time.monotonic() - began
    if problems:
        LOG.warning("Warm-up of /%s: %s", url_path, " | ".join(problems))
    if missing:
        return "not offered for these data"
    state = outcome[-1] if outcome else "stopped"
    return f"{'error' if problems else state} {took:.2f} s, {elements[0]} elements"


def _forget_media() -> None:
    """Drop the files (downloads, images) the run registered: no browser will fetch them."""
    runtime = _live_runtime()
    if runtime is None:
        return
    try:
        runtime.media_file_mgr.clear_session_refs(_SESSION_ID)
        runtime.media_file_mgr.remove_orphaned_files()
    except Exception:
        LOG.debug("could not clear the warm-up's media files", exc_info=True)
