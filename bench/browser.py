"""Cold start and click to update: ``streamlit run`` and headless Chromium (Playwright).

Both are measured on this checkout's app.py against bench/floor_app.py, in the same run (see
bench/README.md, "The rows"). The JavaScript below decides when a page is drawn and settled and
when a change started; ``run_browser`` is what bench/run.py calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.common import APP, CHROMIUM, CHROMIUM_ARGS, FLOOR, VIEWPORT, Server
from bench.scenarios import PAGE_CHANGES, POPULATIONS_SHOWN, SOMETHING_WRONG, page_path

BROWSER_TIMEOUT_MS = 180_000
CLICK_TIMEOUT_MS = 60_000

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
