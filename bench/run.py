#!/usr/bin/env python
"""Performance benchmark of the RESPINE results explorer, as ratios against a floor app.

    .venv/bin/python bench/run.py            # full run (about 25 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # fewer repetitions (about 12 minutes)
    .venv/bin/python bench/run.py --parts warm --pages explorer,flow   # a part, some pages

Every number is divided by the same measurement of ``bench/floor_app.py`` (a bare Streamlit page
with one plotly figure, one 20-row table and a selectbox and a slider) taken in the same run, so
the ratios say what the app adds on top of Streamlit, plotly and the browser. Measured on every
page of the app's navigation, at 114 subjects (the shipped data) and at 10,000 (a synthetic twin):

* warm interaction (AppTest): rerun time after one widget change, median and p95, with the
  changed value seen before (``cached``) and never seen in this process (``uncached``);
* cold start (``streamlit run`` + headless Chromium): process start to the page drawn;
* click to update (Chromium): widget change to the updated, settled page.

The Markdown tables are printed and written to ``bench/results.md``; raw samples go to
``bench/results.json``. See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import (
    APP,
    BENCH,
    CHROMIUM,
    CHROMIUM_ARGS,
    FLOOR,
    REPO,
    VIEWPORT,
    Server,
    code_fingerprint,
    machine,
    make_twin,
    p95,
)

from respine.analyses import availability

WARM_TARGET = 5.0
COLD_TARGET = 1.5

BROWSER_TIMEOUT_MS = 180_000
CLICK_TIMEOUT_MS = 60_000

# Repetitions. "uncached"/"cached"/"floor" are numbers of timed reruns per scenario; "cold" the
# cold starts per page; "click" the timed clicks per page (cached values; see click_plan).
PROFILES = {
    "full": {"warmup": 1, "uncached": 12, "cached": 20, "floor": 40, "cold": 4, "click": 4,
             "big_uncached": 5, "big_cached": 10, "big_cold": 3, "big_click": 3},
    "quick": {"warmup": 1, "uncached": 4, "cached": 6, "floor": 16, "cold": 2, "click": 2,
              "big_uncached": 2, "big_cached": 4, "big_cold": 2, "big_click": 2},
}
DATA_LABELS = {"shipped": "shipped (114)", "big": "twin 10,000"}

# Every page of app.py's navigation, in its order; the URL path of each.
PAGES = ("overview", "explorer", "responders", "profile", "subgroups", "trajectories", "mri",
         "robustness", "baseline", "flow", "safety", "missing", "paper", "data", "report", "settings")
# Pages that draw at least one plotly chart at their defaults (AppTest checks it).
CHART_PAGES = frozenset({"overview", "explorer", "responders", "profile", "subgroups", "trajectories",
                         "mri", "robustness", "missing"})


def page_path(page: str) -> str:
    return "/" if page in ("overview", "floor") else f"/{page}"


POPULATIONS_SHOWN = ("MITT: Modified intention to treat", "PP: Per protocol")
# The change timed on each page other than the three foundation pages (which have the detailed
# scenarios below): page -> (query, widget kind, label, two values for AppTest (the first is the
# page's default), the same two as shown in the browser; None for a toggle).
PAGE_CHANGES: dict[str, tuple[dict[str, str], str, str, tuple, tuple | None]] = {
    "profile": ({}, "radio", "Scale", ("VAS", "ODI"), ("Low back pain VAS", "Oswestry Disability Index")),
    "subgroups": ({"ep": "RESP"}, "selectbox", "Visit", (12.0, 6.0), ("Month 12", "Month 6")),
    "trajectories": ({}, "radio", "Means", ("observed", "model"), ("observed", "ANCOVA per visit")),
    "mri": ({}, "radio", "Clinical change", ("VAS", "ODI"),
            ("Low back pain VAS", "Oswestry Disability Index")),
    "robustness": ({"ep": "RESP"}, "selectbox", "Visit", (12.0, 6.0), ("Month 12", "Month 6")),
    "baseline": ({}, "radio", "Continuous variables as", ("mean", "median"), ("mean (SD)", "median (IQR)")),
    "flow": ({}, "selectbox", "Follow-up counted by assessments of", ("VAS", "ODI"),
             ("Low back pain VAS", "Oswestry Disability Index")),
    "safety": ({}, "toggle", "Serious events only (organ class table)", (False, True), None),
    "missing": ({}, "selectbox", "Endpoint", ("VAS", "ODI"),
                ("Low back pain VAS", "Oswestry Disability Index")),
    "paper": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "data": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "report": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "settings": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
}


def floor_kind(kind: str) -> str:
    """The floor's widget a change is compared with: its slider for a slider, else its selectbox.

    A radio option or a toggle is one pointer action on the new choice, as picking a selectbox
    option is; the timing starts at that action in both."""
    return "slider" if kind == "slider" else "selectbox"


def _page_of(name: str) -> str:
    return name.split(":")[0]


# ---------------------------------------------------------------------------------------------
# Warm interaction (AppTest), run in a subprocess per data set: ``run.py --warm-worker``.
# ---------------------------------------------------------------------------------------------


def _app_scenarios(trial) -> dict[str, dict]:
    """Scenario name -> page, widget kind and label, the values to cycle (first = start), query."""
    pass

    visits = [12.0, *(v for v in availability.visits_with_data(trial, "VAS") if v not in (0.0, 12.0))]
    resp_visits = [12.0, *(v for v in availability.visits_with_data(trial, "RESP") if v != 12.0)]
    scenarios = {
        "overview: Population (sidebar)": {
            "page": "overview", "kind": "selectbox", "label": "Population",
            "values": [p.id for p in trial.design.populations]},
        "explorer: Endpoint": {
            "page": "explorer", "kind": "selectbox", "label": "Endpoint",
            "values": availability.available_endpoints(trial)},
        "explorer: Visit": {
            "page": "explorer", "kind": "selectbox", "label": "Visit for the comparison",
            "values": visits},
        "explorer: Measure": {
            "page": "explorer", "kind": "selectbox", "label": "Measure",
            "values": ["chg", "pchg", "aval"]},
        "explorer: Method": {
            "page": "explorer", "kind": "selectbox", "label": "Method",
            "values": ["welch", "ancova"]},
        "responders: VAS mm slider": {
            "page": "responders", "kind": "slider", "label": "VAS improvement at least (mm)",
            "values": [20.0 + 5.0 * i for i in range(9)]},
        "responders: Visit": {
            "page": "responders", "kind": "selectbox", "label": "Visit", "values": resp_visits},
    }
    for page, (query, kind, label, values, _shown) in PAGE_CHANGES.items():
        scenarios[f"{page}: {label}"] = {"page": page, "kind": kind, "label": label,
                                         "values": list(values), "query": query}
    return scenarios


# Scenarios left out at 10,000 subjects (time): the other scenarios of the same pages stay.
SKIP_AT_SCALE = ("explorer: Measure", "explorer: Method", "responders: Visit")


def _widget(at, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    if not found:
        raise RuntimeError(f"no {kind} labelled {label!r} on the page")
    return found[0]


SOMETHING_WRONG = "Something went wrong on this page"


def _check(at, page: str | None) -> None:
    """A timed rerun only counts if it drew the page: no exception, not the app's "Something went
    wrong" message, its title, and a chart on a page that has one (page None: the floor, which has
    one). Other st.error messages are content (the Reproduce page says so when the twin's figures
    do not match the paper's)."""
    if at.exception:
        raise RuntimeError("exception in the app: " + "; ".join(str(e.value)[:300] for e in at.exception))
    wrong = [str(e.value)[:300] for e in at.error if SOMETHING_WRONG in str(e.value)]
    if wrong:
        raise RuntimeError("the page failed: " + "; ".join(wrong))
    if not at.title:
        raise RuntimeError("the page drew no title")
    if (page is None or page in CHART_PAGES) and not at.get("plotly_chart"):
        raise RuntimeError("the page drew no plotly chart")


def _timed_run(at, page: str | None) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    _check(at, page)
    return elapsed


def _new_session(script: Path, page: str | None, query: dict[str, str] | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=300)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page and page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    _check(at, page)
    return at


def _floor_samples(kind: str, n: int, warmup: int) -> list[float]:
    at = _new_session(FLOOR, None)
    if kind == "selectbox":
        label, values = "Series", list(_widget(at, "selectbox", "Series").options)
    else:
        label, values = "Shift", [5.0 * i for i in range(21)]
    samples = []
    for i in range(warmup + n):
        _widget(at, kind, label).set_value(values[(i + 1) % len(values)])
        elapsed = _timed_run(at, None)
        if i >= warmup:
            samples.append(elapsed)
    return samples


def clear_caches() -> None:
    """Forget every cached result of the app except the loaded trial.

    Clears all of st.cache_data, and every st.cache_resource of respine.ui (figures, say) except
    ``shipped_trial``: the state of a server that has loaded its data but served no view yet.
    """
    import importlib
    import pkgutil

    import streamlit as st
    from streamlit.runtime.caching.cache_utils import CachedFunc

    st.cache_data.clear()
    import respine.ui

    for info in pkgutil.iter_modules(respine.ui.__path__):
        module = importlib.import_module(f"respine.ui.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CachedFunc) and name != "_shipped_trial":
                obj.clear()


def _scenario_samples(spec: dict, n_uncached: int, n_cached: int, warmup: int) -> dict[str, list[float]]:
    """Time reruns after changing one widget, in passes over its values.

    Every pass is a new session (the view at its defaults, the page drawn once, untimed), then
    the widget is changed to each of the other values in turn, each change timed.
    uncached pass: the app's caches are cleared first (clear_caches: all but the loaded trial),
    so each result is computed for the first time, as on a server that has not seen that view.
    cached pass: the same changes from the same start, every result already in st.cache_data.
    (A fresh session per pass matters: the app changes other parts of the view as a side effect,
    e.g. an endpoint without the chosen visit moves the visit, so one long cycle would not revisit
    the same selections.) Passes alternate so drift in the machine's load hits both alike.
    """
    kind, label, values, page = spec["kind"], spec["label"], spec["values"], spec["page"]

    def one_pass(clear: bool) -> list[float]:
        if clear:
            clear_caches()
        at = _new_session(APP, page, spec.get("query"))
        samples = []
        for value in values[1:]:
            _widget(at, kind, label).set_value(value)
            samples.append(_timed_run(at, page))
        return samples

    for _ in range(warmup):  # warm-up: imports, first-run costs, plotly templates
        one_pass(False)
    per_pass = len(values) - 1
    passes_u = -(-n_uncached // per_pass)
    passes_c = -(-n_cached // per_pass)
    out: dict[str, list] = {"uncached": [], "cached": []}
    for p in range(max(passes_u, passes_c)):
        if p < passes_u:
            out["uncached"] += one_pass(True)
        if p < passes_c:
            out["cached"] += one_pass(False)
    out["values"] = [str(v) for v in values[1:]]  # the order of the samples within each pass
    return out


def warm_worker(args: argparse.Namespace) -> None:
    if args.data:
        os.environ["RESPINE_DATA"] = args.data
    sys.path.insert(0, str(REPO))
    prof = PROFILES[args.profile]
    scale = bool(args.data)
    n_unc = prof["big_uncached"] if scale else prof["uncached"]
    n_cac = prof["big_cached"] if scale else prof["cached"]
    out: dict[str, object] = {"floor": {"selectbox": [], "slider": []}, "app": {}, "errors": [],
                              "loadavg_start": os.getloadavg()}
    t0 = time.perf_counter()
    first = _new_session(APP, "overview")  # loads the trial (cache_resource) once, untimed
    out["first_session_s"] = time.perf_counter() - t0
    trial = first.session_state["trial"]
    scenarios = _app_scenarios(trial)
    pages = args.pages.split(",")
    names = [s for s in scenarios if _page_of(s) in pages and not (scale and s in SKIP_AT_SCALE)]
    # Floor blocks before every scenario and at the end, pooled: drift hits floor and app alike.
    block = max(4, prof["floor"] // (len(names) + 1))

    def floor_block() -> None:
        for kind in ("selectbox", "slider"):
            out["floor"][kind] += _floor_samples(kind, block, 2)

    for name in names:
        floor_block()
        spec = scenarios[name]
        try:
            samples = _scenario_samples(spec, n_unc, n_cac, prof["warmup"])
        except Exception as exc:  # report, do not hide: the row says "error"
            out["errors"].append(f"{name}: {exc}")
            continue
        out["app"][name] = {"kind": spec["kind"], **samples}
        print(f"  warm {'10k' if scale else 'shipped'} {name}: uncached median "
              f"{1000 * statistics.median(samples['uncached']):.0f} ms, cached median "
              f"{1000 * statistics.median(samples['cached']):.0f} ms", file=sys.stderr, flush=True)
    floor_block()
    out["loadavg_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(out), encoding="utf-8")


def run_warm(profile: str, data: str | None, pages: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--warm-worker", "--profile", profile,
           "--out", str(out), "--pages", ",".join(pages)]
    if data:
        cmd += ["--data", data]
    env = {k: v for k, v in os.environ.items() if k != "RESPINE_DATA"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith("  warm "):
            print(line, flush=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        raise RuntimeError(f"warm worker failed ({proc.returncode}):\n{tail}")
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return result


# ---------------------------------------------------------------------------------------------
# Browser: cold start and click to update (streamlit run + headless Chromium via Playwright).
# ---------------------------------------------------------------------------------------------

# The page is drawn: Streamlit idle (script not running, connected, no element stale from the
# previous run), the page's title (h1) shown, and every plotly chart, table (st.dataframe) and
# graphviz drawing that is shown (not in a closed expander) drawn: charts and drawings have
# their SVG, tables their canvas. A page without any of these (Report, Load data) is drawn when
# Streamlit is idle with its title shown.
READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  if (!app || !main || app.getAttribute('data-test-script-state') !== 'notRunning'
      || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
      || document.querySelector('[data-stale="true"]')) return false;
  const shown = (sel) => [...main.querySelectorAll(sel)]
    .filter(e => e.getClientRects().length && !e.closest('details:not([open])'));
  if (!shown('h1').length) return false;
  return shown('[data-testid="stPlotlyChart"]').every(c => c.querySelector('.main-svg'))
    && shown('[data-testid="stDataFrame"]').every(t => t.querySelector('canvas'))
    && shown('[data-testid="stGraphVizChart"]').every(g => g.querySelector('svg'));
}"""

# The page's visible output: every plotly chart's traces, title and drawn SVG nodes, every table's
# cells, graphviz drawings, and the text of markdown, captions, alerts, headings and metrics.
# Widgets are left out: their own value changes at once, before the rerun.
FINGERPRINT_JS = """() => {
  const parts = [];
  document.querySelectorAll('.js-plotly-plot').forEach(gd => {
    (gd.data || []).forEach(t => {
      let y = '';
      try { y = JSON.stringify(t.y); } catch (e) {}
      parts.push(String(t.name) + ':' + (y.length > 20000 ? y.length : y));
    });
    const title = gd.querySelector('.gtitle');
    parts.push(title ? title.textContent : '');
    parts.push(gd.querySelectorAll('path, text').length);
  });
  document.querySelectorAll('[data-testid="stDataFrame"] td').forEach(td => parts.push(td.textContent));
  const outputs = '[data-testid="stMarkdown"], [data-testid="stCaptionContainer"], '
    + '[data-testid="stAlertContainer"], [data-testid="stHeading"], [data-testid="stMetric"], '
    + '[data-testid="stGraphVizChart"]';
  document.querySelectorAll(outputs).forEach(m => parts.push(m.textContent));
  return parts.join('\\u241E');
}"""

# Resolves when the page is drawn (READY_JS), shows something other than `before` (null: anything,
# for a page being opened), and nothing (output, stale marks, drawn state) has changed for QUIET
# ms; returns the page-clock time of the last change, i.e. when the page reached its final state.
QUIET_MS = 400
DONE_JS = """async ([before, quiet, timeout]) => {
  const fp = FINGERPRINT;
  const ready = READY;
  const t0 = performance.now();
  let last = null, lastChange = t0;
  return await new Promise((resolve, reject) => {
    const tick = () => {
      const now = performance.now();
      const current = fp();
      const drawn = ready();
      const stale = document.querySelectorAll('[data-stale="true"]').length;
      const state = drawn + '|' + stale + '|' + current;
      if (state !== last) { last = state; lastChange = now; }
      if (drawn && (before === null || current !== before) && now - lastChange >= quiet) {
        resolve(lastChange); return;
      }
      if (now - t0 > timeout) {
        reject(new Error('not drawn and settled within ' + timeout + ' ms')); return;
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
}""".replace("FINGERPRINT", FINGERPRINT_JS).replace("READY", READY_JS)

# The change starts at the first pointerdown or keydown after arming (page clock).
ARM_JS = """() => {
  window.__t0 = null;
  if (!window.__armed) {
    const mark = () => { if (window.__t0 === null) window.__t0 = performance.now(); };
    document.addEventListener('pointerdown', mark, true);
    document.addEventListener('keydown', mark, true);
    window.__armed = true;
  }
}"""

# An exception shown, or the app's own message for one ("Something went wrong on this page").
FAILED_JS = """() => {
  const e = [...document.querySelectorAll('[data-testid="stException"], '
    + '[data-testid="stMain"] [data-testid="stAlertContentError"]')]
    .find(e => e.dataset.testid === 'stException' || e.innerText.includes('SOMETHING_WRONG'));
  return e ? e.innerText.slice(0, 500) : null;
}""".replace("SOMETHING_WRONG", SOMETHING_WRONG)


def _settle(page, before: str | None, timeout_ms: int) -> float:
    """Page-clock ms at which the page reached its final, drawn state (DONE_JS); an error shown
    by the page (an exception, st.error in the page) fails the measurement."""
    done = page.evaluate(DONE_JS, [before, QUIET_MS, timeout_ms])
    failed = page.evaluate(FAILED_JS)
    if failed:
        raise RuntimeError(f"the page shows an error: {failed}")
    return done


def _perf_offset(page) -> float:
    """time.perf_counter() at the page clock's zero (round trip halved: about a millisecond)."""
    t0 = time.perf_counter()
    now_ms = page.evaluate("performance.now()")
    return (t0 + time.perf_counter()) / 2 - now_ms / 1000


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=BROWSER_TIMEOUT_MS)
    _settle(page, None, BROWSER_TIMEOUT_MS)


def cold_start(browser, script: Path, path: str, data: str | None) -> dict[str, float]:
    """Process start -> the page drawn and settled (DONE_JS), in a fresh browser context."""
    server = Server(script, data)
    try:
        healthy = server.wait_healthy()
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(server.url + path, wait_until="domcontentloaded", timeout=BROWSER_TIMEOUT_MS)
            done_ms = _settle(page, None, BROWSER_TIMEOUT_MS)
            drawn = _perf_offset(page) + done_ms / 1000 - server.started
            return {"total": drawn, "healthy": healthy}
        finally:
            context.close()
    finally:
        server.close()


def cold_plan(pages: list[str], reps: int) -> list[str]:
    """The order of the cold starts: each repetition goes through the pages (rotated by four from
    one repetition to the next) with a floor start before every fourth page."""
    order = []
    for rep in range(reps):
        k = (4 * rep) % len(pages)
        for i, page in enumerate(pages[k:] + pages[:k]):
            if i % 4 == 0:
                order.append("floor")
            order.append(page)
    return order


def run_cold(browser, pages: list[str], reps: int, data: str | None, errors: list[str]) -> dict:
    tag = " 10k" if data else ""
    samples: dict[str, list[dict]] = {name: [] for name in ["floor", *pages]}
    for i, name in enumerate(cold_plan(pages, reps)):
        script, path = (FLOOR, "/") if name == "floor" else (APP, page_path(name))
        try:
            r = cold_start(browser, script, path, data)
        except Exception as exc:  # a row says "error"; the run goes on
            errors.append(f"cold start{tag} {name}: {str(exc)[:300]}")
            print(f"  cold{tag} {name}: ERROR {exc}", flush=True)
            continue
        samples[name].append(r)
        print(f"  cold{tag} [{i + 1}] {name}: {r['total']:.2f} s (server healthy at {r['healthy']:.2f} s)",
              flush=True)
    return samples


# Click-to-update actions: each takes the page, arms the start mark (ARM_JS) and does the change.
Action = Callable[[object], None]


def _click_select(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    listbox_option = page.get_by_role("option", name=option, exact=True)
    listbox_option.wait_for(state="visible")
    page.evaluate(ARM_JS)
    listbox_option.click()


def _press_slider(page, label: str, key: str) -> None:
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider")
    thumb.focus()
    page.evaluate(ARM_JS)
    page.keyboard.press(key)


def _click_radio(page, label: str, option: str) -> None:
    group = page.get_by_role("radiogroup", name=label, exact=True)
    page.evaluate(ARM_JS)
    group.locator("label").filter(has_text=option).click()


def _click_toggle(page, label: str) -> None:
    box = page.locator('[data-testid="stCheckbox"]').filter(has_text=label)
    page.evaluate(ARM_JS)
    box.get_by_text(label, exact=True).click()


def select(label: str, options: list[str]) -> list[Action]:
    return [lambda p, o=o: _click_select(p, label, o) for o in options]


def slider(label: str, key: str, count: int) -> list[Action]:
    return [lambda p: _press_slider(p, label, key)] * count


def _choose(kind: str, label: str, options: list[str]) -> list[Action]:
    if kind == "radio":
        return [lambda p, o=o: _click_radio(p, label, o) for o in options]
    if kind == "toggle":
        return [lambda p: _click_toggle(p, label)] * len(options)
    return select(label, options)


def _timed_change(page, act: Action) -> float:
    before = page.evaluate(FINGERPRINT_JS)
    act(page)
    done = _settle(page, before, CLICK_TIMEOUT_MS)
    start = page.evaluate("window.__t0")
    if start is None:
        raise RuntimeError("the change was not registered (no pointerdown/keydown)")
    return (done - start) / 1000.0


FLOOR_SERIES = ["Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa", "Lambda"]
# Endpoints with a month-12 visit only: one without it (the antibodies) moves the view's visit,
# and the later changes would not be the same selections as the first ones.
EXPLORER_ENDPOINTS = ["Oswestry Disability Index", "SF-36 physical component summary",
                      "Responder (primary rule)", "MRI T2 disc fluid content", "MCID achieved, VAS",
                      "SF-36 mental component summary", "MCID achieved, ODI"]


def click_plan(n: int) -> dict[str, tuple[str, str, list[Action], list[Action]]]:
    """Scenario name -> (page or "floor", URL path, uncached changes, cached changes).

    uncached: values the server has not computed yet; cached: going back to values seen before.
    On the pages with a two-valued change, the first change to the second value is the only
    uncached one (n = 1) and the cached ones alternate between the two values.
    """
    # The floor computes nothing, so it has no cache: both halves are the same thing.
    plan = {
        "floor: selectbox": ("floor", "/", select("Series", FLOOR_SERIES[:n]),
                             select("Series", [("Alpha", "Beta")[i % 2] for i in range(n)])),
        "floor: slider (keyboard)": ("floor", "/", slider("Shift", "ArrowRight", n),
                                     slider("Shift", "ArrowLeft", n)),
        "overview: Population (sidebar)": (
            "overview", "/", select("Population", ["PP: Per protocol", "SAFETY: Safety",
                                                   "RANDOMISED: All randomised"]),
            select("Population", [POPULATIONS_SHOWN[i % 2] for i in range(n)])),
        "explorer: Endpoint": (
            "explorer", "/explorer", select("Endpoint", EXPLORER_ENDPOINTS[:min(n, len(EXPLORER_ENDPOINTS))]),
            select("Endpoint", [("Low back pain VAS", EXPLORER_ENDPOINTS[0])[i % 2] for i in range(n)])),
        # ArrowRight from the primary 20 mm: 25, 30, ... never seen; ArrowLeft back: seen.
        "responders: VAS mm slider (keyboard)": (
            "responders", "/responders", slider("VAS improvement at least (mm)", "ArrowRight", n),
            slider("VAS improvement at least (mm)", "ArrowLeft", n)),
    }
    for page, (query, kind, label, _values, shown) in PAGE_CHANGES.items():
        first, second = shown or ("off", "on")
        path = page_path(page) + "".join(f"?{k}={v}" for k, v in query.items())
        plan[f"{page}: {label}"] = (page, path, _choose(kind, label, [second]),
                                    _choose(kind, label, [(first, second)[i % 2] for i in range(n)]))
    return plan


def run_click(browser, pages: list[str], n: int, data: str | None, errors: list[str]) -> dict:
    """Click to update on every page (one scenario each; three on the foundation pages' own
    widgets), with the floor's two scenarios before every fourth page and at the end."""
    tag = " 10k" if data else ""
    plan = click_plan(n)
    results: dict[str, dict[str, list[float]]] = {}
    servers = {"floor": Server(FLOOR, data), "app": Server(APP, data)}

    def run(name: str) -> None:
        where, path, uncached, cached = plan[name]
        server = servers["floor" if where == "floor" else "app"]
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(CLICK_TIMEOUT_MS)
        try:
            page = context.new_page()
            _open(page, server.url + path)
            samples = [_timed_change(page, act) for act in [*uncached, *cached]]
        except Exception as exc:  # a row says "error"; the other scenarios still run
            errors.append(f"click to update{tag} {name}: {str(exc)[:300]}")
            print(f"  click{tag} {name}: ERROR {exc}", flush=True)
            return
        finally:
            context.close()
        rec = results.setdefault(name, {"uncached": [], "cached": []})
        rec["uncached"] += samples[:len(uncached)]
        rec["cached"] += samples[len(uncached):]
        print(f"  click{tag} {name}: " + ", ".join(f"{1000 * s:.0f}" for s in samples) + " ms", flush=True)

    names = [name for name, (where, *_rest) in plan.items() if where in pages]
    try:
        for s in servers.values():
            s.wait_healthy()
        # Warm both servers (the app loads the trial, every page's default view) before timing.
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        for name in names:
            _open(page, servers["app"].url + plan[name][1])
        _open(page, servers["floor"].url + "/")
        context.close()
        for i, name in enumerate(names):
            if i % 4 == 0:
                run("floor: selectbox")
                run("floor: slider (keyboard)")
            run(name)
        run("floor: selectbox")
        run("floor: slider (keyboard)")
    finally:
        for s in servers.values():
            s.close()
    return results


def run_browser(prof: dict, big: str, parts: list[str], pages: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict[str, object] = {"errors": []}
    errors: list[str] = out["errors"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            if "cold" in parts:
                # One untimed start of each script: the OS file cache then holds the libraries.
                for script in (FLOOR, APP):
                    try:
                        cold_start(browser, script, "/", None)
                    except Exception as exc:
                        print(f"  cold warm-up {script.name}: ERROR {exc}", flush=True)
                print("cold start, shipped data ...", flush=True)
                out["cold"] = run_cold(browser, pages, prof["cold"], None, errors)
                print("cold start, 10,000-subject twin ...", flush=True)
                out["cold_big"] = run_cold(browser, pages, prof["big_cold"], big, errors)
            if "click" in parts:
                print("click to update, shipped data ...", flush=True)
                out["click"] = run_click(browser, pages, prof["click"], None, errors)
                print("click to update, 10,000-subject twin ...", flush=True)
                out["click_big"] = run_click(browser, pages, prof["big_click"], big, errors)
        finally:
            browser.close()
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def ms(x: float) -> str:
    return f"{1000 * x:.0f} ms"


def verdict(ratio: float, target: float) -> str:
    return "ok" if ratio <= target else "**over**"


def load_note(res: dict, m: dict) -> str:
    worst = max(res["loadavg_start"][0], res["loadavg_end"][0])
    if worst > 0.5 * int(m["cores"]):
        return (": **other processes were using the CPU during this run; absolute times are "
                "inflated and noisy, ratios less so (floor and app are interleaved)**")
    return ""


# Columns of the per-page summary: (key, heading, target).
MEASURES = (
    ("warm cached median", "warm median", WARM_TARGET),
    ("warm cached p95", "warm p95", WARM_TARGET),
    ("warm uncached median", "uncached median", WARM_TARGET),
    ("warm uncached p95", "uncached p95", WARM_TARGET),
    ("cold", "cold start", COLD_TARGET),
    ("click cached", "click to update", None),
    ("click uncached", "click, new value", None),
)


class Report:
    """The detailed table (every row measured) and, per data set and page, the worst ratio of
    each measure (``worst``), for the per-page summary."""

    def __init__(self) -> None:
        self.lines = ["| measurement | data | page: change | cache | n | median | p95 | floor median "
                      "| ratio (median) | ratio (p95) | target |",
                      "|---|---|---|---|---|---|---|---|---|---|---|"]
        self.worst: dict[tuple[str, str], dict[str, tuple[float, str]]] = {}

    def note(self, data_label: str, page: str, measure: str, ratio: float, row: str) -> None:
        cell = self.worst.setdefault((data_label, page), {})
        if measure not in cell or ratio > cell[measure][0]:
            cell[measure] = (ratio, row)

    def row(self, what: str, data_label: str, name: str, cache: str, xs: list[float],
            floor: list[float] | None, target: str, fmt: Callable[[float], str] = ms) -> tuple[float, float]:
        """One line of the detailed table; returns the ratios (median, p95) to the floor."""
        if not xs or not floor:
            self.lines.append(f"| {what} | {data_label} | {name} | {cache} | {len(xs)} | error | | | | | |")
            return float("nan"), float("nan")
        r_med, r_p95 = median(xs) / median(floor), p95(xs) / p95(floor)
        self.lines.append(f"| {what} | {data_label} | {name} | {cache} | {len(xs)} | {fmt(median(xs))} | "
                          f"{fmt(p95(xs))} | {fmt(median(floor))} | {r_med:.1f}x | {r_p95:.1f}x | {target} |")
        return r_med, r_p95

    def warm(self, warm: dict, data_label: str) -> None:
        floor = warm["floor"]
        for kind in ("selectbox", "slider"):
            self.row("warm (AppTest)", data_label, f"floor: {kind}", "none", floor[kind], floor[kind], "")
        for name, rec in warm["app"].items():
            for cache in ("uncached", "cached"):
                r_med, r_p95 = self.row("warm (AppTest)", data_label, name, cache, rec[cache],
                                        floor[floor_kind(rec["kind"])], f"≤ {WARM_TARGET:g}x")
                self.note(data_label, _page_of(name), f"warm {cache} median", r_med, name)
                self.note(data_label, _page_of(name), f"warm {cache} p95", r_p95, name)
        for err in warm["errors"]:
            self.lines.append(f"| warm (AppTest) | {data_label} | {err} | | | error | | | | | |")

    def cold(self, cold: dict, data_label: str) -> None:
        def secs(x: float) -> str:
            return f"{x:.2f} s"

        floor = [r["total"] for r in cold.get("floor", [])]
        for name, runs in cold.items():
            xs = [r["total"] for r in runs]
            r_med, _ = self.row("cold start (Chromium)", data_label, f"{name}: `{page_path(name)}`", "none",
                                xs, floor, "" if name == "floor" else f"≤ {COLD_TARGET:g}x", secs)
            if name != "floor" and xs:
                self.note(data_label, name, "cold", r_med, f"`{page_path(name)}`")
        health = {name: median([r["healthy"] for r in runs]) for name, runs in cold.items() if runs}
        self.lines.append(f"| (server healthy) | {data_label} | `/_stcore/health` answers ok, median | | | "
                          + ", ".join(f"{k} {v:.2f} s" for k, v in health.items()) + " | | | | | |")

    def click(self, click: dict, data_label: str) -> None:
        floor = {}
        for kind, key in (("selectbox", "floor: selectbox"), ("slider", "floor: slider (keyboard)")):
            if key in click:
                floor[kind] = click[key]["uncached"] + click[key]["cached"]
                self.row("click to update (Chromium)", data_label, key, "none", floor[kind], floor[kind], "")
        for name, rec in click.items():
            if name.startswith("floor"):
                continue
            kind = "slider" if "slider" in name else "selectbox"
            for cache in ("uncached", "cached"):
                r_med, _ = self.row("click to update (Chromium)", data_label, name, cache, rec[cache],
                                    floor.get(kind), "none set")
                self.note(data_label, _page_of(name), f"click {cache}", r_med, name)

    def per_page(self, data_label: str, pages: list[str]) -> list[str]:
        """One row a page: the worst ratio of each measure; over-target ratios in bold."""
        lines = ["| page | " + " | ".join(h for _, h, _ in MEASURES) + " | verdict |",
                 "|---|" + "---:|" * len(MEASURES) + "---|"]
        for page in pages:
            cell = self.worst.get((data_label, page), {})
            values, missed = [], []
            for key, heading, target in MEASURES:
                if key not in cell or cell[key][0] != cell[key][0]:  # missing or NaN
                    values.append("–")
                    continue
                ratio = cell[key][0]
                over = target is not None and ratio > target
                values.append(f"**{ratio:.1f}x**" if over else f"{ratio:.1f}x")
                if over:
                    missed.append(heading)
            result = ("not measured (errors below)" if not cell else "ok" if not missed
                      else "over: " + ", ".join(missed))
            lines.append(f"| {page} | " + " | ".join(values) + f" | {result} |")
        return lines

    def worst_of(self, data_label: str, measure: str) -> tuple[float, str, str] | None:
        found = [(cell[measure][0], page, cell[measure][1]) for (d, page), cell in self.worst.items()
                 if d == data_label and measure in cell and cell[measure][0] == cell[measure][0]]
        return max(found) if found else None


def build_report(res: dict, elapsed: float) -> str:
    m = res["machine"]
    prof = PROFILES[res["profile"]]
    pages = res["pages"]
    lines = [
        "# RESPINE explorer: performance benchmark",
        "",
        f"Run {res['date']} with `{res['command']}` ({elapsed / 60:.1f} min). Machine: {m['cpu']}, "
        f"{m['cores']} cores, {m['ram']} RAM; {m['os']}; Python {m['python']}, Streamlit "
        f"{m['streamlit']}, plotly {m['plotly']}, pandas {m['pandas']}; {m['chromium']} (headless).",
        "",
        f"Load average (1 min) at start {res['loadavg_start'][0]:.2f}, at end {res['loadavg_end'][0]:.2f}"
        f" on {m['cores']} cores{load_note(res, m)}. App code fingerprint (SHA-256 of app.py, "
        f"app_pages/, respine/): `{res['code_sha']}`.",
        "",
        "Ratios are the app's median (p95) divided by the floor app's median (p95) for the same kind of "
        "change, measured in the same run (bench/README.md). Targets: warm ≤ "
        f"{WARM_TARGET:g}x, cold ≤ {COLD_TARGET:g}x. Repetitions ({res['profile']} profile): warm "
        f"{prof['cached']} cached and {prof['uncached']} uncached reruns a scenario at 114 subjects, "
        f"{prof['big_cached']} and {prof['big_uncached']} at 10,000; cold {prof['cold']} starts a page at "
        f"114, {prof['big_cold']} at 10,000; click {prof['click']} cached changes a page at 114, "
        f"{prof['big_click']} at 10,000.",
        "",
    ]
    rep = Report()
    for key in ("shipped", "big"):
        label = DATA_LABELS[key]
        suffix = "" if key == "shipped" else "_big"
        if f"warm{suffix}" in res:
            rep.warm(res[f"warm{suffix}"], label)
        if f"cold{suffix}" in res["browser"]:
            rep.cold(res["browser"][f"cold{suffix}"], label)
        if f"click{suffix}" in res["browser"]:
            rep.click(res["browser"][f"click{suffix}"], label)
    for key in ("shipped", "big"):
        label = DATA_LABELS[key]
        lines += [f"## Per page, {label}", "",
                  "The worst ratio of each measure over the page's scenarios (rows below); over target in "
                  "bold. Click to update has no target.", ""]
        lines += rep.per_page(label, pages)
        lines.append("")
        worst = [f"{h} {w[0]:.1f}x ({w[2] if w[2].startswith(w[1]) else f'{w[1]}: {w[2]}'})"
                 for key_, h, _ in MEASURES
                 if (w := rep.worst_of(label, key_))]
        lines += ["Worst: " + "; ".join(worst) + ".", ""]
    lines += ["## Every row", "", *rep.lines]
    errors = [*res.get("warm", {}).get("errors", []), *res.get("warm_big", {}).get("errors", []),
              *res["browser"].get("errors", [])]
    if errors:
        lines += ["", "Errors during the run (those rows are missing or marked error):", ""]
        lines += [f"- {e}" for e in errors]
    if res.get("code_sha_end") and res["code_sha_end"] != res["code_sha"]:
        lines += ["", f"**The app's code changed during the run** (fingerprint at the end "
                  f"`{res['code_sha_end']}`): rows measured before and after the change are mixed."]
    lines += ["", f"The 10,000-subject twin: `respine synth --n-per-arm 5000` "
              f"(generated in {res['synth_s']:.1f} s). Raw samples: `bench/results.json`.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--parts", default="warm,cold,click",
                        help="comma-separated parts to run: warm, cold, click (default all)")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help="comma-separated pages (default: every page of the navigation)")
    parser.add_argument("--results", default=str(BENCH), metavar="DIR",
                        help="where results.md and results.json go (default bench/)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for the 1-minute load average to fall below 1")
    parser.add_argument("--warm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_worker:
        warm_worker(args)
        return
    parts = args.parts.split(",")
    pages = [p for p in PAGES if p in args.pages.split(",")]
    unknown = set(args.pages.split(",")) - set(PAGES) or set(parts) - {"warm", "cold", "click"}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")

    deadline = time.monotonic() + args.wait_quiet
    while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
        print(f"waiting for a quiet machine (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
        time.sleep(15)
    prof_name = "quick" if args.quick else "full"
    prof = PROFILES[prof_name]
    started = time.perf_counter()
    res: dict[str, object] = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                              "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
                              "machine": machine(), "profile": prof_name, "pages": pages,
                              "loadavg_start": os.getloadavg(), "code_sha": code_fingerprint()}
    with tempfile.TemporaryDirectory(prefix="respine-bench-") as tmp:
        big = str(Path(tmp) / "twin10k")
        res["synth_s"] = make_twin(big)
        if "warm" in parts:
            print("warm interaction, shipped data ...", flush=True)
            res["warm"] = run_warm(prof_name, None, pages)
            print("warm interaction, 10,000-subject twin ...", flush=True)
            res["warm_big"] = run_warm(prof_name, big, pages)
        res["browser"] = run_browser(prof, big, parts, pages)
    res["loadavg_end"] = os.getloadavg()
    res["code_sha_end"] = code_fingerprint()
    elapsed = time.perf_counter() - started
    report = build_report(res, elapsed)
    print()
    print(report)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(report, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
