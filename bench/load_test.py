#!/usr/bin/env python
"""Load test of the RESPINE results explorer: N concurrent browser sessions on one server.

    .venv/bin/python bench/load_test.py                          # 10 sessions for 180 s (~4 min)
    .venv/bin/python bench/load_test.py --sessions 3 --duration 30   # a short trial run
    .venv/bin/python bench/load_test.py --big                    # on a 10,000-subject twin
    .venv/bin/python bench/load_test.py --data path/to/trial     # on another trial folder

On a shared machine wrap it in ``flock /tmp/respine-bench.lock ...`` so benchmark runs never overlap.

One ``streamlit run app.py`` server is started on a free loopback port. One headless Chromium
(``/usr/bin/chromium``, Playwright's async API) holds one browser context per session, so every
session is an independent Streamlit session (its own websocket and session state). Sessions start
0.5 s apart. Until the time is up, each session visits every page of the sidebar navigation (links
discovered from the DOM) in its own shuffled order (seeded per session: runs are reproducible),
and on every page it visits it changes one selectbox (the page's first selectbox or the sidebar
"Population"), again chosen by the session's seeded random generator.

For every action (opening the app, a click on a navigation link, a change of a selectbox) the
time to an updated view is measured in the page: from the ``pointerdown`` of the click (the
navigation start for the opening) to the last DOM change before the page was quiet for 400 ms
with Streamlit idle (script not running, connected, no "Running" status, no stale element), the
server having answered, the page's heading visible and every plotly chart drawn. Errors (which
must be zero; the exit status is 1 otherwise): exceptions shown by the app, "Something went wrong
on this page", uncaught page JavaScript errors, console errors from the app, a connection error,
an action that does not settle within 60 s, and tracebacks or ERROR lines in the server log.
The server's memory (VmRSS of its process tree, from /proc) is sampled every second.

The summary is printed and written to ``bench/load_results.md``, the raw samples to
``bench/load_results.json``. Method and how to read the numbers: ``bench/load_test.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script (python bench/load_test.py): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    APP,
    BENCH,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Server,
    code_fingerprint,
    machine,
    make_twin,
    p95,
    secs,
    stats_row,
)

RESULTS_MD = BENCH / "load_results.md"
RESULTS_JSON = BENCH / "load_results.json"

ACTION_TIMEOUT_MS = 60_000  # an action that has not settled by then is an error
QUIET_MS = 400  # the page must be unchanged (DOM and websocket) this long to count as settled
POLL_MS = 50  # how often the page checks whether it has settled (timestamps are exact)
STAGGER_S = 0.5  # session i starts i * STAGGER_S after the first
SAMPLE_S = 1.0  # memory and load sampling period
NAV = '[data-testid="stSidebarNav"] a'
MAIN_SELECT = '[data-testid="stMain"] [data-testid="stSelectbox"]'
SIDEBAR_SELECT = '[data-testid="stSidebar"] [data-testid="stSelectbox"]'
POPULATION = "Population"

# ---------------------------------------------------------------------------------------------
# In-page instrumentation
# ---------------------------------------------------------------------------------------------

# Installed in every document before Streamlit's own scripts: the time of the last DOM change and
# of the last websocket message, whether the script was seen running since the last arming, and
# the first pointerdown/keydown after arming (the start of a click).
INIT_JS = """(() => {
  const lt = window.__lt = {lastMut: performance.now(), lastMsg: 0, msgs: 0, armMsgs: 0,
                            sawRunning: false, t0: null};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { lt.msgs++; lt.lastMsg = performance.now(); });
    }
  };
  const onMutations = (records) => {
    lt.lastMut = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state'
          && (r.oldValue === 'running' || r.target.getAttribute(r.attributeName) === 'running')) {
        lt.sawRunning = true;
      }
    }
  };
  new MutationObserver(onMutations).observe(document, {subtree: true, childList: true,
    attributes: true, attributeOldValue: true, characterData: true});
  const mark = () => { if (lt.t0 === null) lt.t0 = performance.now(); };
  document.addEventListener('pointerdown', mark, true);
  document.addEventListener('keydown', mark, true);
})();"""

ARM_JS = """() => {
  const lt = window.__lt;
  lt.t0 = null; lt.sawRunning = false; lt.armMsgs = lt.msgs;
}"""

# Resolves when the view is updated and settled (see the module docstring), or with ok=false and
# the unmet conditions after `timeout` ms or as soon as a connection error shows.
SETTLE_JS = """async ([path, quiet, timeout, poll]) => {
  const lt = window.__lt;
  const start = performance.now();
  const conditions = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : null;
    const conn = app ? app.getAttribute('data-test-connection-state') : null;
    if (state === 'running') lt.sawRunning = true;
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    const heading = [...document.querySelectorAll('[data-testid="stMain"] :is(h1, h2, h3)')]
      .some(h => h.offsetParent !== null);
    return {
      answered: lt.sawRunning || lt.msgs > lt.armMsgs,
      notRunning: state === 'notRunning',
      connected: conn === 'CONNECTED',
      noRunningStatus: !(status && /Running/i.test(status.innerText)),
      noStale: !document.querySelector('[data-stale="true"]'),
      loaded: !document.querySelector('[data-testid="stSkeleton"]'),
      chartsDrawn: charts.every(c => c.querySelector('.main-svg')),
      heading: heading,
      onPage: path === null || location.pathname === path,
      charts: charts.length,
    };
  };
  const connectionError = () => [...document.querySelectorAll('[role="dialog"]')]
    .some(d => /Connection error/i.test(d.innerText));
  return await new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      const c = conditions();
      const idle = c.answered && c.notRunning && c.connected && c.noRunningStatus && c.noStale
        && c.loaded && c.chartsDrawn && c.heading && c.onPage;
      if (idle && now - Math.max(lt.lastMut, lt.lastMsg) >= quiet) {
        resolve({ok: true, t0: lt.t0, done: lt.lastMut, charts: c.charts, path: location.pathname,
                 sawRunning: lt.sawRunning});
        return;
      }
      const lost = connectionError();
      if (lost || now - start > timeout) {
        const unmet = Object.keys(c).filter(k => c[k] === false);
        if (idle) unmet.push('quiet');
        resolve({ok: false, t0: lt.t0, connectionError: lost, unmet: unmet,
                 path: location.pathname});
        return;
      }
      setTimeout(check, poll);
    };
    check();
  });
}"""

# What an updated view may show that is an error.
SCAN_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')]
      .map(e => e.innerText.slice(0, 800)),
    wrong: !!main && main.innerText.includes('Something went wrong on this page'),
    alerts: [...document.querySelectorAll('[data-testid="stAlertContentError"]')]
      .map(e => e.innerText.slice(0, 300)),
    connectionError: [...document.querySelectorAll('[role="dialog"]')]
      .some(d => /Connection error/i.test(d.innerText)),
  };
}"""

LINKS_JS = """els => els.map(a => ({href: a.getAttribute('href'), path: a.pathname,
  label: a.innerText.split('\\n').map(s => s.trim()).filter(s => s).pop() || a.pathname}))"""

OPTIONS_JS = """els => els.map(e => ({text: e.innerText.trim(),
  selected: e.getAttribute('aria-selected') === 'true'}))"""

# ---------------------------------------------------------------------------------------------
# Server and /proc
# ---------------------------------------------------------------------------------------------


def _proc_tree(root: int) -> list[int]:
    """``root`` and all its descendants (parent links from /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields_[11]) + int(fields_[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def sample_server(pid: int) -> dict[str, Any]:
    """RSS (MiB) and CPU time (s) of the server's process tree, the load average."""
    tree = _proc_tree(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return {"rss_mib": sum(_rss_kib(p) for p in tree) / 1024, "procs": len(tree),
            "cpu_s": sum(_cpu_ticks(p) for p in tree) / ticks, "load1": os.getloadavg()[0]}


# ---------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything the sessions share and record."""

    base_url: str
    t_start: float  # perf_counter when the first session starts
    deadline: float  # perf_counter after which no new action starts
    seed: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # page name -> link label, in nav order
    active: int = 0

    def now(self) -> float:
        return time.perf_counter() - self.t_start


def _page_name(path: str) -> str:
    return path.strip("/") or "overview"


class Session:
    """One browser context = one Streamlit session, moving through the pages until time is up."""

    def __init__(self, run: Run, index: int, browser: Any) -> None:
        self.run = run
        self.index = index
        self.browser = browser
        self.rng = random.Random(f"{run.seed}-{index}")
        self.origin = urlsplit(run.base_url).netloc
        self.where = "overview"  # page the session is on (for error attribution)
        self.doing = "open"  # action in progress (for error attribution)
        self.ended = False
        self.page: Any = None
        self.context: Any = None

    # -- recording ------------------------------------------------------------------------------

    def error(self, kind: str, message: str) -> None:
        rec = {"session": self.index, "page": self.where, "action": self.doing, "kind": kind,
               "message": message.strip()[:1500], "t": round(self.run.now(), 2)}
        self.run.errors.append(rec)
        print(f"  ERROR session {self.index} {self.where} [{self.doing}] {kind}: "
              f"{rec['message'][:300]}", flush=True)

    def on_console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "") or ""
        host = urlsplit(url).netloc
        if self.ended:
            self.run.ignored.append({"message": msg.text[:300], "url": url,
                                     "reason": "after the session's last action (browser closing)"})
        elif host and host != self.origin:
            self.run.ignored.append({"message": msg.text[:300], "url": url,
                                     "reason": f"resource from {host}, not the app's server "
                                               "(no internet on this machine)"})
        else:
            self.error("console error", f"{msg.text} ({url})" if url else msg.text)

    def on_pageerror(self, exc: Any) -> None:
        if self.ended:
            self.run.ignored.append({"message": str(exc)[:300], "url": "",
                                     "reason": "after the session's last action (browser closing)"})
        else:
            self.error("page JS error", str(exc))

    # -- actions --------------------------------------------------------------------------------

    async def settle(self, path: str | None, from_navigation_start: bool) -> dict[str, Any]:
        res = await asyncio.wait_for(
            self.page.evaluate(SETTLE_JS, [path, QUIET_MS, ACTION_TIMEOUT_MS, POLL_MS]),
            timeout=ACTION_TIMEOUT_MS / 1000 + 30)
        t0 = 0.0 if from_navigation_start else res.get("t0")
        if res["ok"] and t0 is None:
            raise RuntimeError("the click was not registered (no pointerdown)")
        res["seconds"] = (max(res["done"], t0) - t0) / 1000 if res["ok"] else None
        return res

    async def scan(self) -> None:
        found = await self.page.evaluate(SCAN_JS)
        for text in found["exceptions"]:
            self.error("exception shown", text)
        if found["wrong"]:
            self.error("'Something went wrong on this page'",
                       " | ".join(a for a in found["alerts"] if "went wrong" in a) or "shown")
        if found["connectionError"]:
            self.error("connection error", "Streamlit's 'Connection error' dialog is shown")
        for text in found["alerts"]:
            if "went wrong" not in text:
                self.run.alerts.append({"session": self.index, "page": self.where,
                                        "action": self.doing, "message": text})

    async def timed(self, kind: str, detail: str, act: Any, path: str | None,
                    from_navigation_start: bool = False) -> bool:
        """Do one action and record its time to an updated view; False if it failed."""
        self.doing = f"{kind}: {detail}" if detail else kind
        started = self.run.now()
        try:
            await act()
            res = await self.settle(path, from_navigation_start)
        except Exception as exc:  # a failed action is an error; the session goes on (recover)
            self.error("action failed", f"{type(exc).__name__}: {exc}")
            return False
        if not res["ok"]:
            if res.get("connectionError"):
                self.error("connection error", "Streamlit's 'Connection error' dialog is shown")
            else:
                self.error("timeout", f"not settled within {ACTION_TIMEOUT_MS / 1000:.0f} s; unmet: "
                           f"{', '.join(res['unmet']) or '-'}; at {res['path']}")
            return False
        self.where = _page_name(res["path"])
        self.run.samples.append({"session": self.index, "page": self.where, "kind": kind,
                                 "detail": detail, "seconds": round(res["seconds"], 4),
                                 "t": round(started, 2), "charts": res["charts"],
                                 "wall": round(self.run.now() - started, 3),
                                 "saw_running": res["sawRunning"]})
        await self.scan()
        return True

    async def open(self, path: str) -> bool:
        return await self.timed("open", path, lambda: self.page.goto(self.run.base_url + path), path,
                                from_navigation_start=True)

    async def links(self) -> list[dict[str, str]]:
        return await self.page.locator(NAV).evaluate_all(LINKS_JS)

    async def navigate(self, link: dict[str, str]) -> bool:
        async def act() -> None:
            await self.page.evaluate(ARM_JS)
            await self.page.locator(f'{NAV}[href="{link["href"]}"]').click()

        self.where = _page_name(link["path"])
        return await self.timed("navigate", link["label"], act, link["path"])

    async def change_widget(self) -> bool:
        """Pick another option of the page's first selectbox or of the sidebar Population."""
        page = self.page
        main = page.locator(MAIN_SELECT)
        population = page.locator(SIDEBAR_SELECT).filter(
            has=page.get_by_text(POPULATION, exact=True)).first
        candidates = [population]
        if await main.count() and await main.first.get_by_role("combobox").is_enabled():
            candidates.append(main.first)
        box = self.rng.choice(candidates)
        label = (await box.locator('[data-testid="stWidgetLabel"]').inner_text()).strip()
        state: dict[str, str] = {}

        async def act() -> None:
            await box.get_by_role("combobox").click()
            options = page.get_by_role("option")
            await options.first.wait_for(state="visible")
            listed = await options.evaluate_all(OPTIONS_JS)
            others = [i for i, o in enumerate(listed) if not o["selected"]]
            if not others:
                raise RuntimeError(f"selectbox {label!r} offers no other option")
            pick = self.rng.choice(others)
            state["value"] = listed[pick]["text"]
            await page.evaluate(ARM_JS)
            await options.nth(pick).click()

        self.doing = f"widget: {label}"
        ok = await self.timed("widget", label, act, None)
        if ok:
            self.run.samples[-1]["detail"] = f"{label} = {state.get('value', '?')}"
        return ok

    async def recover(self) -> bool:
        """After a failed action: reload the page the session was on (a new Streamlit session)."""
        path = "/" if self.where == "overview" else f"/{self.where}"
        with contextlib.suppress(Exception):
            await self.page.goto("about:blank")
        return await self.open(path)

    async def main(self) -> None:
        await asyncio.sleep(self.index * STAGGER_S)
        self.context = await self.browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        await self.context.add_init_script(INIT_JS)
        self.page = await self.context.new_page()
        self.page.on("console", self.on_console)
        self.page.on("pageerror", self.on_pageerror)
        self.page.on("crash", lambda _p: self.error("page crashed", "the browser tab crashed"))
        self.run.active += 1
        try:
            if not await self.open("/") and not await self.recover():
                return
            rounds = 0
            while time.perf_counter() < self.run.deadline:
                links = await self.links()
                if not links:
                    self.error("no navigation", "no links in the sidebar navigation")
                    return
                for link in links:
                    self.run.pages.setdefault(_page_name(link["path"]), link["label"])
                order = list(links)
                self.rng.shuffle(order)
                if _page_name(order[0]["path"]) == self.where:
                    order.append(order.pop(0))
                for link in order:
                    if time.perf_counter() >= self.run.deadline:
                        break
                    ok = await self.navigate(link)
                    if ok and time.perf_counter() < self.run.deadline:
                        ok = await self.change_widget()
                    if not ok and not await self.recover():
                        self.error("gave up", "the page could not be reloaded; session ended")
                        return
                rounds += 1
            print(f"  session {self.index}: {rounds} rounds, done at {self.run.now():.0f} s", flush=True)
        finally:
            self.ended = True
            self.run.active -= 1


async def sampler(run: Run, pid: int, out: list[dict[str, Any]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        s = sample_server(pid)
        s["t"] = round(run.now(), 2)
        s["sessions"] = run.active
        out.append(s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SAMPLE_S)


async def drive(server: Server, args: argparse.Namespace, res: dict[str, Any]) -> Run:
    from playwright.async_api import async_playwright

    timeline: list[dict[str, Any]] = []
    res["timeline"] = timeline
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            t_start = time.perf_counter()
            run = Run(base_url=server.url, t_start=t_start, deadline=t_start + args.duration,
                      seed=args.seed)
            stop = asyncio.Event()
            sampling = asyncio.create_task(sampler(run, server.proc.pid, timeline, stop))
            sessions = [Session(run, i, browser) for i in range(args.sessions)]
            outcomes = await asyncio.gather(*(s.main() for s in sessions), return_exceptions=True)
            for s, outcome in zip(sessions, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    s.error("session crashed", f"{type(outcome).__name__}: {outcome}")
            res["sessions_end_s"] = run.now()
            res["memory_end"] = sample_server(server.proc.pid)
            res["log_offset_end"] = len(server.log_text())
            for s in sessions:
                if s.context is not None:
                    await s.context.close()
            await asyncio.sleep(5)  # the server notices the closed websockets
            res["memory_after_close"] = sample_server(server.proc.pid)
            stop.set()
            await sampling
        finally:
            await browser.close()
    return run


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------




LOG_ERROR = re.compile(r"Traceback \(most recent call last\)|\bERROR\b|Unexpected error on page")


def server_log_errors(text: str) -> list[str]:
    """Lines of the server log that say something failed, each with the exception's last line."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if LOG_ERROR.search(line):
            tail = ""
            if "Traceback" in line:
                for j in range(i + 1, min(i + 200, len(lines))):
                    if lines[j] and not lines[j].startswith((" ", "\t")):
                        tail = " -> " + lines[j].strip()
                        break
            found.append((line.strip() + tail)[:600])
    return found


def build_report(res: dict[str, Any]) -> str:
    m = res["machine"]
    samples = res["samples"]
    errors = res["errors"]
    timeline = res["timeline"]
    rss = [s["rss_mib"] for s in timeline] or [0.0]
    peak = max([*rss, res["memory_start"]["rss_mib"], res["memory_end"]["rss_mib"]])
    loads = [s["load1"] for s in timeline] or [0.0]
    busy = res["memory_end"]["cpu_s"] - res["memory_start"]["cpu_s"]
    span = max(res["sessions_end_s"], 1e-9)
    lines = [
        "# RESPINE explorer: load test",
        "",
        f"Run {res['date']} with `{res['command']}`: **{res['sessions']} concurrent sessions** for "
        f"{res['duration']:g} s on {res['data_label']} (whole run, server start to report: "
        f"{res['wall_s'] / 60:.1f} min).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; {m['os']}; Python {m['python']}, "
        f"Streamlit {m['streamlit']}, plotly {m['plotly']}, Playwright {m['playwright']}, "
        f"{m['chromium']} (headless, one browser, one context per session). App code fingerprint "
        f"(SHA-256 of app.py, app_pages/, respine/): `{res['code_sha']}`"
        + (f" (**changed during the run**: `{res['code_sha_end']}` at the end)"
           if res["code_sha_end"] != res["code_sha"] else "") + ".",
        "",
        f"Method: `bench/load_test.md`. Raw samples: `bench/load_results.json`. Pages found in the "
        f"navigation: {', '.join(res['pages_found']) or 'none'}.",
        "",
        f"## Errors: {len(errors)}",
        "",
    ]
    if errors:
        lines += ["| t (s) | session | page | action | kind | message |", "|---|---|---|---|---|---|"]
        for e in errors:
            msg = e["message"].replace("\n", " ").replace("|", "\\|")[:400]
            lines.append(f"| {e['t']} | {e['session']} | {e['page']} | {e['action']} | {e['kind']} | "
                         f"{msg} |")
    else:
        lines.append("None: no exception shown, no \"Something went wrong on this page\", no uncaught "
                     "page error, no console error from the app, no connection error, no action over "
                     f"{ACTION_TIMEOUT_MS / 1000:.0f} s, no error in the server log.")
    lines += ["", "Ignored (not the app's errors):", ""]
    if res["ignored"]:
        counts = Counter((i["reason"], i["message"], i["url"]) for i in res["ignored"])
        for (reason, message, url), n in counts.most_common():
            lines.append(f"- {n} x console `{message}`" + (f" ({url})" if url else "") + f": {reason}")
    else:
        lines.append("- nothing")
    if res["alerts"]:
        counts = Counter((a["page"], a["message"]) for a in res["alerts"])
        lines += ["", "Error messages the app showed as part of a page (st.error, not failures; "
                  "listed to be checked):", ""]
        lines += [f"- {n} x {page}: {msg}" for (page, msg), n in counts.most_common()]

    by_kind = {k: [s["seconds"] for s in samples if s["kind"] == k] for k in ("open", "navigate", "widget")}
    lines += [
        "",
        "## Time to an updated view",
        "",
        "From the click (pointerdown; for `open`, the navigation start) to the last change of the page "
        "before it was quiet for 400 ms with Streamlit idle, the page's heading shown and every plotly "
        "chart drawn.",
        "",
        "| actions | n | p50 | p95 | max |",
        "|---|---|---|---|---|",
        stats_row("**all**", [s["seconds"] for s in samples]),
        stats_row("open the app (first view of a session)", by_kind["open"]),
        stats_row("navigate (sidebar link)", by_kind["navigate"]),
        stats_row("widget (selectbox option)", by_kind["widget"]),
        "",
        "Per page (navigation to the page and widget changes on it; `charts` is the number of plotly "
        "charts drawn):",
        "",
        "| page | n (navigate + widget) | p50 | p95 | max | charts |",
        "|---|---|---|---|---|---|",
    ]
    visited = {s["page"] for s in samples}
    for page in [*res["pages_found"], *sorted(visited - set(res["pages_found"]))]:
        xs = [s for s in samples if s["page"] == page and s["kind"] != "open"]
        nav = sum(s["kind"] == "navigate" for s in xs)
        charts = "/".join(str(c) for c in sorted({s["charts"] for s in xs}))
        times = [s["seconds"] for s in xs]
        if not times:
            lines.append(f"| {page} | 0 | | | | |")
            continue
        lines.append(f"| {page} | {len(xs)} ({nav} + {len(xs) - nav}) | {secs(statistics.median(times))} "
                     f"| {secs(p95(times))} | {secs(max(times))} | {charts} |")
    slow = sorted(samples, key=lambda s: -s["seconds"])[:5]
    lines += ["", "Slowest actions: " + "; ".join(
        f"{s['seconds']:.2f} s session {s['session']} {s['page']} {s['kind']} ({s['detail']}) at "
        f"t={s['t']:.0f} s" for s in slow) + "."]
    lines += [
        "",
        "## Server",
        "",
        "Resident memory (VmRSS) of the `streamlit run` process and its children, sampled every second "
        "from /proc.",
        "",
        "| when | RSS |",
        "|---|---|",
        f"| start (healthy, before any session) | {res['memory_start']['rss_mib']:.0f} MiB |",
        f"| peak during the run | {peak:.0f} MiB |",
        f"| end (last action done, sessions still open) | {res['memory_end']['rss_mib']:.0f} MiB |",
        f"| 5 s after the sessions closed | {res['memory_after_close']['rss_mib']:.0f} MiB |",
        "",
        f"Sessions: {res['sessions']} (at most {max((s['sessions'] for s in timeline), default=0)} "
        f"open at once). Server CPU time during the sessions: {busy:.0f} s in {span:.0f} s "
        f"({100 * busy / span:.0f}% of one core, {m['cores']} cores). Load average (1 min): "
        f"{res['loadavg_start'][0]:.2f} at start, peak {max(loads):.2f}, {res['loadavg_end'][0]:.2f} "
        f"at end.",
        "",
        "| t (s) | RSS (MiB) | sessions open | load (1 min) |",
        "|---|---|---|---|",
    ]
    step = 30
    shown = [s for s in timeline if int(s["t"]) % step == 0 and s["t"] - int(s["t"]) < SAMPLE_S]
    seen: set[int] = set()
    for s in shown:
        if int(s["t"]) in seen:
            continue
        seen.add(int(s["t"]))
        lines.append(f"| {int(s['t'])} | {s['rss_mib']:.0f} | {s['sessions']} | {s['load1']:.2f} |")
    if res["server_log_after"]:
        lines += ["", f"Server log after the sessions ended (not counted): {len(res['server_log_after'])} "
                  "line(s), first: `" + res["server_log_after"][0][:200] + "`"]
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions (default 10)")
    parser.add_argument("--duration", type=float, default=180, metavar="SECONDS",
                        help="no new action starts after this (default 180)")
    parser.add_argument("--data", default=None, metavar="DIR", help="trial folder (sets RESPINE_DATA)")
    parser.add_argument("--big", action="store_true",
                        help="generate and use a 10,000-subject twin (respine synth --n-per-arm 5000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sessions' random choices")
    args = parser.parse_args()
    if args.sessions < 1 or args.duration <= 0:
        parser.error("--sessions and --duration must be positive")
    if args.big and args.data:
        parser.error("--big and --data exclude each other")

    wall0 = time.perf_counter()
    res: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([".venv/bin/python", "bench/load_test.py", *sys.argv[1:]]),
        "sessions": args.sessions, "duration": args.duration, "seed": args.seed,
        "machine": machine(), "code_sha": code_fingerprint(),
        "settings": {"action_timeout_ms": ACTION_TIMEOUT_MS, "quiet_ms": QUIET_MS, "poll_ms": POLL_MS,
                     "stagger_s": STAGGER_S, "sample_s": SAMPLE_S, "viewport": VIEWPORT,
                     "chromium_args": CHROMIUM_ARGS},
    }
    with tempfile.TemporaryDirectory(prefix="respine-load-") as tmp:
        data = args.data
        res["data_label"] = f"`{data}`" if data else "the shipped data (`data/`)"
        if args.big:
            data = str(Path(tmp) / "twin10k")
            res["synth_s"] = make_twin(data)
            res["data_label"] = (f"a 10,000-subject synthetic twin (`respine synth --n-per-arm 5000`, "
                                 f"{res['synth_s']:.0f} s to generate)")
        server = Server(APP, data)
        try:
            res["healthy_s"] = server.wait_healthy()
            res["server_cmd"] = shlex.join(server.cmd)
            res["memory_start"] = sample_server(server.proc.pid)
            res["loadavg_start"] = os.getloadavg()
            print(f"server healthy in {res['healthy_s']:.1f} s at {server.url} "
                  f"(RSS {res['memory_start']['rss_mib']:.0f} MiB); {args.sessions} sessions for "
                  f"{args.duration:g} s ...", flush=True)
            run = asyncio.run(drive(server, args, res))
            res["loadavg_end"] = os.getloadavg()
            server.stop()
            log = server.log_text()
        finally:
            server.close()
    offset = res["log_offset_end"]
    for line in server_log_errors(log[:offset]):
        run.errors.append({"session": None, "page": "-", "action": "-", "kind": "server log",
                           "message": line, "t": None})
    res["server_log_after"] = server_log_errors(log[offset:])
    res["server_log_tail"] = log[-4000:]
    res["samples"] = run.samples
    res["errors"] = run.errors
    res["ignored"] = run.ignored
    res["alerts"] = run.alerts
    res["pages_found"] = list(run.pages)
    res["code_sha_end"] = code_fingerprint()
    res["wall_s"] = time.perf_counter() - wall0
    report = build_report(res)
    print()
    print(report)
    RESULTS_MD.write_text(report, encoding="utf-8")
    RESULTS_JSON.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
