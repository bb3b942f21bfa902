#!/usr/bin/env python
"""Performance benchmark of the RESPINE results explorer, as ratios against a floor app.

    .venv/bin/python bench/run.py            # full run (under ~10 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # fewer repetitions (~4 minutes)

Every number is divided by the same measurement of ``bench/floor_app.py`` (a bare Streamlit page
with one plotly figure, one 20-row table and a selectbox and a slider) taken in the same run, so
the ratios say what the app adds on top of Streamlit, plotly and the browser. Measured:

* warm interaction (AppTest): rerun time after one widget change, per page and widget, with the
  changed value seen before (``cached``) and never seen in this process (``uncached``);
* cold start (``streamlit run`` + headless Chromium): process start to the first plotly chart;
* click to update (Chromium): widget change to the updated chart and tables;
* scale: warm interaction and cold start again on a 10,000-subject synthetic twin.

The Markdown table is printed and written to ``bench/results.md``; raw samples go to
``bench/results.json``. See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FLOOR = BENCH / "floor_app.py"
APP = REPO / "app.py"

WARM_TARGET = 5.0
COLD_TARGET = 1.5

CHROMIUM = os.environ.get("RESPINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 1000}
CHART_SVG = '[data-testid="stPlotlyChart"] .main-svg'
BROWSER_TIMEOUT_MS = 180_000
CLICK_TIMEOUT_MS = 60_000

# Repetitions. "uncached"/"cached"/"floor" are numbers of timed reruns per scenario; "cold" the
# cold starts per target; "click" the timed clicks per scenario and cache state.
PROFILES = {
    "full": {"warmup": 1, "uncached": 16, "cached": 24, "floor": 40, "cold": 5, "click": 6,
             "big_uncached": 6, "big_cached": 12, "big_cold": 3},
    "quick": {"warmup": 1, "uncached": 6, "cached": 8, "floor": 16, "cold": 3, "click": 3,
              "big_uncached": 3, "big_cached": 5, "big_cold": 3},
}

# ---------------------------------------------------------------------------------------------
# Warm interaction (AppTest), run in a subprocess per data set: ``run.py --warm-worker``.
# ---------------------------------------------------------------------------------------------

PAGE_FILES = {"overview": "app_pages/overview.py", "explorer": "app_pages/explorer.py",
              "responders": "app_pages/responders.py"}


def _app_scenarios(trial) -> dict[str, dict]:
    """Scenario name -> page, widget kind and label, and the values to cycle (first = start)."""
    from respine import analysis

    visits = [12.0, *(v for v in analysis.visits_with_data(trial, "VAS") if v not in (0.0, 12.0))]
    resp_visits = [12.0, *(v for v in analysis.visits_with_data(trial, "RESP") if v != 12.0)]
    return {
        "overview: Population (sidebar)": {
            "page": "overview", "kind": "selectbox", "label": "Population",
            "values": [p.id for p in trial.design.populations]},
        "explorer: Endpoint": {
            "page": "explorer", "kind": "selectbox", "label": "Endpoint",
            "values": analysis.available_endpoints(trial)},
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


SCALE_SCENARIOS = ("overview: Population (sidebar)", "explorer: Endpoint", "explorer: Visit",
                   "responders: VAS mm slider")


def _widget(at, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    if not found:
        raise RuntimeError(f"no {kind} labelled {label!r} on the page")
    return found[0]


def _check(at) -> None:
    """A timed rerun only counts if it drew the page: no exception, no error, a chart."""
    if at.exception:
        raise RuntimeError("exception in the app: " + "; ".join(str(e.value)[:300] for e in at.exception))
    if at.error:
        raise RuntimeError("the page shows an error: " + "; ".join(str(e.value)[:300] for e in at.error))
    if not at.get("plotly_chart"):
        raise RuntimeError("the page drew no plotly chart")


def _timed_run(at) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    _check(at)
    return elapsed


def _new_session(script: Path, page: str | None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=300).run()
    if page and page != "overview":
        at.switch_page(PAGE_FILES[page]).run()
    _check(at)
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
        elapsed = _timed_run(at)
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
            if isinstance(obj, CachedFunc) and name != "shipped_trial":
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
    kind, label, values = spec["kind"], spec["label"], spec["values"]

    def one_pass(clear: bool) -> list[float]:
        if clear:
            clear_caches()
        at = _new_session(APP, spec["page"])
        samples = []
        for value in values[1:]:
            _widget(at, kind, label).set_value(value)
            samples.append(_timed_run(at))
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
    names = [s for s in scenarios if not scale or s in SCALE_SCENARIOS]
    # Floor blocks before every scenario and at the end, pooled: drift hits floor and app alike.
    block = max(6, prof["floor"] // (len(names) + 1))

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


def run_warm(profile: str, data: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--warm-worker", "--profile", profile,
           "--out", str(out)]
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run SCRIPT --server.headless true`` in its own process group."""

    def __init__(self, script: Path, data: str | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "RESPINE_DATA"}
        if data:
            env["RESPINE_DATA"] = data
        cmd = [sys.executable, "-m", "streamlit", "run", str(script.relative_to(REPO)),
               "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Seconds from process start until /_stcore/health answers ok (polled every 20 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("streamlit exited: " + self.log.read().decode(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.read().strip() == b"ok":
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"streamlit did not become healthy within {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.log.close()


# The page's visible output: every plotly chart's traces, title and drawn SVG nodes, every table's
# cells, and the text of markdown, captions, alerts, headings and metrics. Widgets are left out:
# their own value changes at once, before the rerun.
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
    + '[data-testid="stAlertContainer"], [data-testid="stHeading"], [data-testid="stMetric"]';
  document.querySelectorAll(outputs).forEach(m => parts.push(m.textContent));
  return parts.join('\\u241E');
}"""

# Resolves when the page shows something other than before the change, no element is stale
# (Streamlit marks the previous run's elements stale until the new run re-sends them), every chart
# is drawn, and nothing (output or stale marks) has changed for QUIET ms; returns the page-clock
# time of the last change, i.e. when the page reached its final state.
QUIET_MS = 400
DONE_JS = """async ([before, quiet, timeout]) => {
  const fp = FINGERPRINT;
  const t0 = performance.now();
  let last = null, lastChange = t0;
  return await new Promise((resolve, reject) => {
    const tick = () => {
      const now = performance.now();
      const current = fp();
      const stale = document.querySelectorAll('[data-stale="true"]').length;
      const state = stale + '|' + current;  // an element leaving the stale state is a change too
      if (state !== last) { last = state; lastChange = now; }
      const ready = current !== before && stale === 0
        && document.querySelectorAll('CHART_SVG').length >= window.__charts;
      if (ready && now - lastChange >= quiet) { resolve(lastChange); return; }
      if (now - t0 > timeout) { reject(new Error('no update within ' + timeout + ' ms')); return; }
      requestAnimationFrame(tick);
    };
    tick();
  });
}""".replace("FINGERPRINT", FINGERPRINT_JS).replace("CHART_SVG", CHART_SVG)

# The change starts at the first pointerdown or keydown after arming (page clock).
ARM_JS = """() => {
  window.__t0 = null;
  if (!window.__armed) {
    const mark = () => { if (window.__t0 === null) window.__t0 = performance.now(); };
    document.addEventListener('pointerdown', mark, true);
    document.addEventListener('keydown', mark, true);
    window.__armed = true;
  }
  window.__charts = document.querySelectorAll('CHART_SVG').length;
}""".replace("CHART_SVG", CHART_SVG)


def _wait_idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')",
                           timeout=BROWSER_TIMEOUT_MS)
    page.wait_for_timeout(300)  # let trailing renders settle before the next change


def _open(page, url: str) -> None:
    page.goto(url)
    _wait_chart(page, BROWSER_TIMEOUT_MS)
    _wait_idle(page)


FAILED_JS = """() => {
  const e = document.querySelector('[data-testid="stException"], '
    + '[data-testid="stMain"] [data-testid="stAlertContentError"]');
  return e ? e.innerText.slice(0, 500) : null;
}"""


def _wait_chart(page, timeout_ms: int) -> None:
    """Wait for a drawn plotly chart; fail at once if the page shows an exception or an error."""
    page.wait_for_function(f"() => !!document.querySelector('{CHART_SVG}') || !!({FAILED_JS})()",
                           timeout=timeout_ms, polling=50)
    failed = page.evaluate(FAILED_JS)
    if failed:
        raise RuntimeError(f"the page shows an error instead of a chart: {failed}")
    page.wait_for_selector(CHART_SVG, state="visible", timeout=timeout_ms)


def cold_start(browser, script: Path, path: str, data: str | None) -> dict[str, float]:
    """Process start -> first plotly chart visible in a fresh browser context."""
    server = Server(script, data)
    try:
        healthy = server.wait_healthy()
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(server.url + path)
            _wait_chart(page, BROWSER_TIMEOUT_MS)
            first_chart = time.perf_counter() - server.started
            return {"total": first_chart, "healthy": healthy}
        finally:
            context.close()
    finally:
        server.stop()


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


def _timed_change(page, act) -> float:
    before = page.evaluate(FINGERPRINT_JS)
    act()
    done = page.evaluate(DONE_JS, [before, QUIET_MS, CLICK_TIMEOUT_MS])
    start = page.evaluate("window.__t0")
    if start is None:
        raise RuntimeError("the change was not registered (no pointerdown/keydown)")
    _wait_idle(page)
    return (done - start) / 1000.0


def click_scenarios(browser, data: str | None, n: int,
                    errors: list[str]) -> dict[str, dict[str, list[float]]]:
    """Click-to-update scenarios: changes to values never seen by the server (uncached), then
    changes back to values seen before (cached)."""
    results: dict[str, dict[str, list[float]]] = {}
    servers = {script: Server(script, data) for script in (FLOOR, APP)}

    def run(script: Path, path: str, name: str, uncached: list, cached: list) -> None:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(60_000)
        try:
            page = context.new_page()
            _open(page, servers[script].url + path)
            samples = [_timed_change(page, lambda m=m: m(page)) for m in [*uncached, *cached]]
        except Exception as exc:  # a row says "error"; the other scenarios still run
            errors.append(f"click to update {name}: {str(exc)[:300]}")
            print(f"  click {name}: ERROR {exc}", flush=True)
            return
        finally:
            context.close()
        results[name] = {"uncached": samples[:len(uncached)], "cached": samples[len(uncached):]}
        print(f"  click {name}: " + ", ".join(f"{1000 * s:.0f}" for s in samples) + " ms", flush=True)

    def select(label: str, options: list[str]) -> list:
        return [lambda p, o=o: _click_select(p, label, o) for o in options]

    def slider(label: str, key: str, count: int) -> list:
        return [lambda p: _press_slider(p, label, key)] * count

    try:
        for s in servers.values():
            s.wait_healthy()
        # Warm both servers (the app loads the trial) before any timing.
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        for path in ("/", "/explorer", "/responders"):
            _open(page, servers[APP].url + path)
        _open(page, servers[FLOOR].url + "/")
        context.close()

        # The floor computes nothing, so it has no cache: both halves are the same thing.
        series = ["Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa", "Lambda"]
        run(FLOOR, "/", "floor: selectbox", select("Series", series[:n]),
            select("Series", [("Alpha", "Beta")[i % 2] for i in range(n)]))
        run(FLOOR, "/", "floor: slider (keyboard)", slider("Shift", "ArrowRight", n),
            slider("Shift", "ArrowLeft", n))
        # Endpoints with a month-12 visit only: one without it (the antibodies) moves the view's
        # visit, and the later changes would not be the same selections as the first ones.
        endpoints = ["Oswestry Disability Index", "SF-36 physical component summary",
                     "Responder (primary rule)", "MRI T2 disc fluid content", "MCID achieved, VAS",
                     "SF-36 mental component summary", "MCID achieved, ODI"]
        firsts = endpoints[:min(n, len(endpoints))]
        again = [("Low back pain VAS", firsts[0])[i % 2] for i in range(n)]
        run(APP, "/explorer", "explorer: Endpoint", select("Endpoint", firsts), select("Endpoint", again))
        # ArrowRight from the primary 20 mm: 25, 30, ... never seen; ArrowLeft back: seen.
        run(APP, "/responders", "responders: VAS mm slider (keyboard)",
            slider("VAS improvement at least (mm)", "ArrowRight", n),
            slider("VAS improvement at least (mm)", "ArrowLeft", n))
        pops = ["PP: Per protocol", "SAFETY: Safety", "RANDOMISED: All randomised"]
        back = ["MITT: Modified intention to treat", "PP: Per protocol"]
        run(APP, "/", "overview: Population (sidebar)", select("Population", pops),
            select("Population", [back[i % 2] for i in range(n)]))
    finally:
        for s in servers.values():
            s.stop()
    return results


def run_browser(prof: dict, big: str, quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict[str, object] = {"cold": {}, "click": {}, "cold_big": {}, "errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            targets = [("floor", FLOOR, "/"), ("overview", APP, "/"), ("explorer", APP, "/explorer"),
                       ("responders", APP, "/responders")]
            # One untimed start of each script: the OS file cache then holds the libraries.
            for script in (FLOOR, APP):
                try:
                    cold_start(browser, script, "/", None)
                except Exception as exc:
                    print(f"  cold warm-up {script.name}: ERROR {exc}", flush=True)
            for data, key, reps in ((None, "cold", prof["cold"]), (big, "cold_big", prof["big_cold"])):
                chosen = targets if not (quick and data) else targets[:2]
                samples: dict[str, list[dict]] = {name: [] for name, _, _ in chosen}
                for rep in range(reps):  # interleaved, so drift hits floor and app alike
                    for name, script, path in chosen:
                        try:
                            r = cold_start(browser, script, path, data)
                        except Exception as exc:  # a row says "error"; the run goes on
                            out["errors"].append(f"cold start{' 10k' if data else ''} {name}: {exc}")
                            print(f"  cold {name}: ERROR {exc}", flush=True)
                            continue
                        samples[name].append(r)
                        print(f"  cold{' 10k' if data else ''} {name} #{rep + 1}: {r['total']:.2f} s "
                              f"(server healthy at {r['healthy']:.2f} s)", flush=True)
                out[key] = samples
            try:
                out["click"] = click_scenarios(browser, None, prof["click"], out["errors"])
            except Exception as exc:
                out["errors"].append(f"click to update: {exc}")
        finally:
            browser.close()
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import pandas
    import plotly
    import streamlit

    try:
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        chromium = "unknown"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
            "python": platform.python_version(), "streamlit": streamlit.__version__,
            "plotly": plotly.__version__, "pandas": pandas.__version__, "chromium": chromium,
            "os": platform.platform()}


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    """95th percentile, linear interpolation between order statistics."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    k = 0.95 * (len(s) - 1)
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


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


def code_fingerprint() -> str:
    import hashlib

    digest = hashlib.sha256()
    files = [APP, *sorted((REPO / "app_pages").glob("*.py")), *sorted((REPO / "respine").rglob("*.py"))]
    for f in files:
        digest.update(str(f.relative_to(REPO)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def build_report(res: dict, prof_name: str, elapsed: float) -> str:
    m = res["machine"]
    lines = [
        "# RESPINE explorer: performance benchmark",
        "",
        f"Run {res['date']} with `bench/run.py{' --quick' if prof_name == 'quick' else ''}` "
        f"({elapsed / 60:.1f} min). Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; "
        f"{m['os']}; Python {m['python']}, Streamlit {m['streamlit']}, plotly {m['plotly']}, "
        f"pandas {m['pandas']}; {m['chromium']} (headless).",
        "",
        f"Load average (1 min) at start {res['loadavg_start'][0]:.2f}, at end {res['loadavg_end'][0]:.2f}"
        f" on {m['cores']} cores{load_note(res, m)}. App code fingerprint (SHA-256 of app.py, "
        f"app_pages/, respine/): `{res['code_sha']}`.",
        "",
        "Ratios are the app's median divided by the floor app's median for the same kind of change, "
        f"measured in the same run (bench/README.md). Targets: warm ≤ {WARM_TARGET:g}x, "
        f"cold ≤ {COLD_TARGET:g}x.",
        "",
        "| measurement | data | page: change | cache | n | median | p95 | floor median | ratio | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary: list[tuple[str, str, str, str, str, float]] = []

    def warm_rows(warm: dict, data_label: str) -> None:
        floor = {k: median(v) for k, v in warm["floor"].items()}
        for kind in ("selectbox", "slider"):
            xs = warm["floor"][kind]
            lines.append(f"| warm (AppTest) | {data_label} | floor: {kind} | none | {len(xs)} | "
                         f"{ms(median(xs))} | {ms(p95(xs))} | {ms(floor[kind])} | 1.0x | |")
        for name, rec in warm["app"].items():
            for cache in ("uncached", "cached"):
                xs = rec[cache]
                ratio = median(xs) / floor[rec["kind"]]
                summary.append((data_label, name.split(":")[0], "warm", cache, name, ratio))
                lines.append(f"| warm (AppTest) | {data_label} | {name} | {cache} | {len(xs)} | "
                             f"{ms(median(xs))} | {ms(p95(xs))} | {ms(floor[rec['kind']])} | "
                             f"{ratio:.1f}x | {verdict(ratio, WARM_TARGET)} |")
        for err in warm["errors"]:
            lines.append(f"| warm (AppTest) | {data_label} | {err} | | | error | | | | |")

    def cold_rows(cold: dict, data_label: str) -> None:
        if not cold.get("floor"):
            lines.append(f"| cold start (Chromium) | {data_label} | floor | | | error | | | | |")
            return
        floor = median([r["total"] for r in cold["floor"]])
        for name, runs in cold.items():
            page = "floor" if name == "floor" else name
            url = "/" if page in ("floor", "overview") else f"/{page}"
            if not runs:
                lines.append(f"| cold start (Chromium) | {data_label} | {page}: `{url}` | | 0 | error "
                             "| | | | |")
                continue
            xs = [r["total"] for r in runs]
            ratio = median(xs) / floor
            if name != "floor":
                summary.append((data_label, name, "cold", "none", f"`{url}`", ratio))
            lines.append(f"| cold start (Chromium) | {data_label} | {page}: `{url}` "
                         f"| none | {len(xs)} | {median(xs):.2f} s | {p95(xs):.2f} s | {floor:.2f} s | "
                         f"{ratio:.1f}x | {'' if name == 'floor' else verdict(ratio, COLD_TARGET)} |")
        health = {name: median([r["healthy"] for r in runs]) for name, runs in cold.items() if runs}
        lines.append(f"| (server healthy) | {data_label} | `/_stcore/health` answers ok | | | "
                     + ", ".join(f"{k} {v:.2f} s" for k, v in health.items()) + " | | | | |")

    def click_rows(click: dict) -> None:
        floor = {}
        for kind, key in (("selectbox", "floor: selectbox"), ("slider", "floor: slider (keyboard)")):
            if key in click:
                floor[kind] = median(click[key]["uncached"] + click[key]["cached"])
        for name, rec in click.items():
            kind = "slider" if "slider" in name else "selectbox"
            if name.startswith("floor"):
                xs = rec["uncached"] + rec["cached"]
                lines.append(f"| click to update (Chromium) | shipped (114) | {name} | none | {len(xs)} | "
                             f"{ms(median(xs))} | {ms(p95(xs))} | {ms(floor[kind])} | 1.0x | |")
                continue
            for cache in ("uncached", "cached"):
                xs = rec[cache]
                if kind not in floor:
                    lines.append(f"| click to update (Chromium) | shipped (114) | {name} | {cache} | "
                                 f"{len(xs)} | {ms(median(xs))} | {ms(p95(xs))} | error | | |")
                    continue
                ratio = median(xs) / floor[kind]
                summary.append(("shipped (114)", name.split(":")[0], "click", cache, name, ratio))
                lines.append(f"| click to update (Chromium) | shipped (114) | {name} | {cache} | {len(xs)} | "
                             f"{ms(median(xs))} | {ms(p95(xs))} | {ms(floor[kind])} | {ratio:.1f}x | "
                             "none set |")

    warm_rows(res["warm"], "shipped (114)")
    cold_rows(res["browser"]["cold"], "shipped (114)")
    click_rows(res["browser"]["click"])
    warm_rows(res["warm_big"], "twin 10,000")
    cold_rows(res["browser"]["cold_big"], "twin 10,000")

    lines += ["", "Per page: the worst ratio of each kind against its target.", "",
              "| data | page | measurement | cache | worst (row) | ratio | target | verdict |",
              "|---|---|---|---|---|---|---|---|"]
    order = {"overview": 0, "explorer": 1, "responders": 2}
    groups: dict[tuple[str, str, str, str], tuple[str, float]] = {}
    for data_label, page, what, cache, row, ratio in summary:
        key = (data_label, page, what, cache)
        if key not in groups or ratio > groups[key][1]:
            groups[key] = (row, ratio)
    for (data_label, page, what, cache), (row, ratio) in sorted(
            groups.items(), key=lambda kv: (kv[0][0] != "shipped (114)", order.get(kv[0][1], 9),
                                            ("warm", "cold", "click").index(kv[0][2]), kv[0][3])):
        target = {"warm": f"≤ {WARM_TARGET:g}x", "cold": f"≤ {COLD_TARGET:g}x", "click": "none set"}[what]
        result = "" if what == "click" else verdict(ratio, WARM_TARGET if what == "warm" else COLD_TARGET)
        lines.append(f"| {data_label} | {page} | {what} | {cache} | {row} | {ratio:.1f}x | {target} "
                     f"| {result} |")
    errors = [*res["warm"]["errors"], *res["warm_big"]["errors"], *res["browser"].get("errors", [])]
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

    deadline = time.monotonic() + args.wait_quiet
    while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
        print(f"waiting for a quiet machine (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
        time.sleep(15)
    prof_name = "quick" if args.quick else "full"
    prof = PROFILES[prof_name]
    started = time.perf_counter()
    res: dict[str, object] = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                              "machine": machine(), "profile": prof_name,
                              "loadavg_start": os.getloadavg(), "code_sha": code_fingerprint()}
    with tempfile.TemporaryDirectory(prefix="respine-bench-") as tmp:
        big = str(Path(tmp) / "twin10k")
        t0 = time.perf_counter()
        respine = Path(sys.executable).with_name("respine")
        subprocess.run([str(respine), "synth", "--n-per-arm", "5000", "--out", big], check=True,
                       cwd=REPO, stdout=subprocess.DEVNULL)
        res["synth_s"] = time.perf_counter() - t0
        print("warm interaction, shipped data ...", flush=True)
        res["warm"] = run_warm(prof_name, None)
        print("warm interaction, 10,000-subject twin ...", flush=True)
        res["warm_big"] = run_warm(prof_name, big)
        print("browser: cold start and click to update ...", flush=True)
        res["browser"] = run_browser(prof, big, args.quick)
    res["loadavg_end"] = os.getloadavg()
    res["code_sha_end"] = code_fingerprint()
    elapsed = time.perf_counter() - started
    report = build_report(res, prof_name, elapsed)
    print()
    print(report)
    (BENCH / "results.md").write_text(report, encoding="utf-8")
    (BENCH / "results.json").write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
