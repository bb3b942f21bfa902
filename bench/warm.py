#!/usr/bin/env python
"""Warm interaction (AppTest): rerun time after one widget change, cached and uncached (first view).

Runs in a process of its own, which imports the ``respine`` of the app it measures: ``--app-dir``
(default: the checkout this file is in) is put first on ``sys.path`` and made the working
directory, so this bench code can measure another checkout (bench/ab.py measures a base revision
that has no bench/warm.py). The floor (bench/floor_app.py) is always this bench's own.

    .venv/bin/python bench/warm.py --json /tmp/warm.json --pages explorer,flow [--profile quick]
    .venv/bin/python bench/warm.py --list-pages --app-dir /tmp/base   # the app's pages, as JSON
    .venv/bin/python bench/warm.py --serve --app-dir /tmp/base        # commands on stdin (bench/ab.py)

``--json`` writes what bench/run.py puts under ``warm`` in results.json. ``--serve`` answers one
JSON line on stdout for each JSON line read on stdin (see ``serve``): a session started on a
scenario, then one timed rerun per request.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/warm.py): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import FLOOR, REPO, code_fingerprint
from bench.scenarios import CHART_PAGES, PAGE_CHANGES, PAGES, PROFILES, SOMETHING_WRONG, page_of

WARM = Path(__file__).resolve()

# Page -> its script relative to app.py, for AppTest.switch_page: from the app's page registry
# when it names them (app_pages; set by the workers), else app_pages/<page>.py.
PAGE_SCRIPTS: dict[str, str] = {}


def use_app_dir(app_dir: Path) -> Path:
    """Measure the app in ``app_dir``: its ``respine`` first on sys.path, the working directory
    there (its .streamlit/ applies). Call before anything imports respine; returns its app.py."""
    app_dir = app_dir.resolve()
    sys.path.insert(0, str(app_dir))
    os.chdir(app_dir)
    return app_dir / "app.py"


def respine_file() -> str:
    import respine

    return str(Path(respine.__file__).resolve())


# ---------------------------------------------------------------------------------------------
# The app's pages: its registry (respine/ui/pages.py) when it has one, else scenarios.PAGES.
# ---------------------------------------------------------------------------------------------

REGISTRY = "respine.ui.pages"
# Names the registry's collection of pages may have (a sequence, a mapping, or a function
# returning one), and the fields of an entry that may give the page's script or its name.
REGISTRY_COLLECTIONS = ("PAGES", "REGISTRY", "NAVIGATION", "pages", "registry", "all_pages", "navigation")
SCRIPT_FIELDS = ("file", "script", "path", "page", "source", "_page")
NAME_FIELDS = ("key", "slug", "id", "name", "url_path")


def _field(entry: object, name: str) -> object:
    return entry.get(name) if isinstance(entry, Mapping) else getattr(entry, name, None)


def _entries(collection: object) -> Iterable[tuple[object, object]]:
    """(fallback name, entry) of every page; sections (a mapping or sequence of lists) flattened."""
    if isinstance(collection, Mapping):
        for key, value in collection.items():
            if isinstance(value, list | tuple):  # {"Results": [page, ...], ...}
                yield from _entries(value)
            else:
                yield key, value
    else:
        for value in collection:
            if isinstance(value, list | tuple) and not isinstance(value, str):
                yield from _entries(value)
            else:
                yield None, value


def registry_pages(module: object, app_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Pages of a page registry in its order, and page -> script relative to app.py (for the
    entries that name their script).

    A page is named by its entry's key, slug, id, name or url_path (the first that is a single
    word), else by its script's file name (``app_pages/explorer.py`` -> ``explorer``, as
    scenarios.PAGES names them), else by its key in a mapping. An entry may be a string (a name,
    or a script ending in .py), a mapping or an object (such as ``st.Page``)."""
    collection = None
    for attr in REGISTRY_COLLECTIONS:
        collection = getattr(module, attr, None)
        if callable(collection):
            collection = collection()
        if collection is not None and not isinstance(collection, str | bytes):
            break
    else:
        raise RuntimeError(f"{REGISTRY} has none of {', '.join(REGISTRY_COLLECTIONS)}")
    pages, scripts = [], {}
    for fallback, entry in _entries(collection):
        if _field(entry, "shown_for"):
            continue  # a page only studies with particular data offer (time to event): not the twin's
        name = script = None
        if isinstance(entry, str | os.PathLike):
            script, name = (str(entry), None) if str(entry).endswith(".py") else (None, str(entry))
        else:
            name = next((v.strip("/") for f in NAME_FIELDS
                         if isinstance(v := _field(entry, f), str) and v.strip("/")
                         and " " not in v.strip()), None)
            script = next((str(v) for f in SCRIPT_FIELDS
                           if isinstance(v := _field(entry, f), str | os.PathLike)
                           and str(v).endswith(".py")), None)
        if script:
            path = Path(script)
            name = name or path.stem
            scripts[name] = os.path.relpath(path, app_dir) if path.is_absolute() else path.as_posix()
        name = name or (fallback if isinstance(fallback, str) else None)
        if not name:
            raise RuntimeError(f"{REGISTRY}: cannot name the page {entry!r}")
        pages.append(name)
    return pages, scripts


def app_pages(app_dir: Path) -> tuple[list[str], dict[str, str], str]:
    """The measured app's pages, their scripts (registry only) and where the list came from.

    The registry is used when the checkout has it; an error inside it is not hidden."""
    if importlib.util.find_spec(REGISTRY) is None:
        return list(PAGES), {}, "scenarios.PAGES (the app has no respine/ui/pages.py)"
    pages, scripts = registry_pages(importlib.import_module(REGISTRY), app_dir)
    return pages, scripts, REGISTRY


def list_pages(app_dir: Path) -> dict:
    """``warm.py --list-pages`` in a subprocess (it imports that checkout's respine)."""
    proc = subprocess.run([sys.executable, str(WARM), "--list-pages", "--app-dir", str(app_dir)],
                          cwd=app_dir, env=_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"listing the pages of {app_dir} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def _availability():
    """The module of the measured respine with ``visits_with_data`` and ``available_endpoints``:
    ``respine.analysis`` before the package's restructuring, ``respine.analyses.availability``
    after it."""
    for name in ("respine.analysis", "respine.analyses.availability"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        if hasattr(module, "visits_with_data") and hasattr(module, "available_endpoints"):
            return module
    raise RuntimeError("the measured respine has no visits_with_data/available_endpoints")


def app_scenarios(trial) -> dict[str, dict]:
    """Scenario name -> page, widget kind and label, the values to cycle (first = start), query."""
    analysis = _availability()
    visits = [12.0, *(v for v in analysis.visits_with_data(trial, "VAS") if v not in (0.0, 12.0))]
    resp_visits = [12.0, *(v for v in analysis.visits_with_data(trial, "RESP") if v != 12.0)]
    scenarios = {
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
    for page, (query, kind, label, values, _shown) in PAGE_CHANGES.items():
        scenarios[f"{page}: {label}"] = {"page": page, "kind": kind, "label": label,
                                         "values": list(values), "query": query}
    return scenarios


# Scenarios left out at 10,000 subjects (time): the other scenarios of the same pages stay.
SKIP_AT_SCALE = ("explorer: Measure", "explorer: Method", "responders: Visit")


def widget(at, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    if not found:
        raise RuntimeError(f"no {kind} labelled {label!r} on the page")
    return found[0]


def check(at, page: str | None) -> None:
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


def timed_run(at, page: str | None) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    check(at, page)
    return elapsed


def new_session(script: Path, page: str | None, query: dict[str, str] | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=300)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page and page != "overview":
        at.switch_page(PAGE_SCRIPTS.get(page, f"app_pages/{page}.py")).run()
    check(at, page)
    return at


def floor_samples(kind: str, n: int, warmup: int) -> list[float]:
    at = new_session(FLOOR, None)
    if kind == "selectbox":
        label, values = "Series", list(widget(at, "selectbox", "Series").options)
    else:
        label, values = "Shift", [5.0 * i for i in range(21)]
    samples = []
    for i in range(warmup + n):
        widget(at, kind, label).set_value(values[(i + 1) % len(values)])
        elapsed = timed_run(at, None)
        if i >= warmup:
            samples.append(elapsed)
    return samples


def clear_caches() -> None:
    """Forget every cached result of the app except the loaded trial.

    Clears all of st.cache_data, and every st.cache_resource of respine.ui (figures, say) except
    ``shipped_trial``: the state of a server that has loaded its data but served no view yet.
    (Modules in subpackages of respine.ui count too, should it get any.)
    """
    import pkgutil

    import streamlit as st
    from streamlit.runtime.caching.cache_utils import CachedFunc

    st.cache_data.clear()
    import respine.ui

    for info in pkgutil.walk_packages(respine.ui.__path__, "respine.ui."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, CachedFunc) and name != "_shipped_trial":
                obj.clear()


def one_pass(app: Path, spec: dict, clear: bool) -> list[float]:
    """A new session (the view at its defaults, the page drawn once, untimed), then the widget
    changed to each of the other values in turn, each change timed. ``clear``: the app's caches
    are cleared first (clear_caches), so each result is computed for the first time."""
    kind, label, values, page = spec["kind"], spec["label"], spec["values"], spec["page"]
    if clear:
        clear_caches()
    at = new_session(app, page, spec.get("query"))
    samples = []
    for value in values[1:]:
        widget(at, kind, label).set_value(value)
        samples.append(timed_run(at, page))
    return samples


def scenario_samples(app: Path, spec: dict, n_uncached: int, n_cached: int,
                     warmup: int) -> dict[str, list[float]]:
    """Time reruns after changing one widget, in passes over its values (one_pass).

    uncached pass: as on a server that has not seen that view. cached pass: the same changes from
    the same start, every result already in st.cache_data. (A fresh session per pass matters: the
    app changes other parts of the view as a side effect, e.g. an endpoint without the chosen
    visit moves the visit, so one long cycle would not revisit the same selections.) Passes
    alternate so drift in the machine's load hits both alike.
    """
    for _ in range(warmup):  # warm-up: imports, first-run costs, plotly templates
        one_pass(app, spec, False)
    per_pass = len(spec["values"]) - 1
    passes_u = -(-n_uncached // per_pass)
    passes_c = -(-n_cached // per_pass)
    out: dict[str, list] = {"uncached": [], "cached": []}
    for p in range(max(passes_u, passes_c)):
        if p < passes_u:
            out["uncached"] += one_pass(app, spec, True)
        if p < passes_c:
            out["cached"] += one_pass(app, spec, False)
    out["values"] = [str(v) for v in spec["values"][1:]]  # the order of the samples within each pass
    return out


def _set_data(data: str | None) -> None:
    if data:
        os.environ["RESPINE_DATA"] = data
    else:
        os.environ.pop("RESPINE_DATA", None)


def warm_worker(app_dir: Path, profile: str, data: str | None, pages: list[str] | None,
                out_path: Path) -> None:
    """Every scenario of ``pages`` (None: all of the app's), with floor blocks in between; the
    result as JSON (what run.py puts under ``warm``)."""
    _set_data(data)
    app = use_app_dir(app_dir)
    app_page_list, scripts, _source = app_pages(app_dir)
    PAGE_SCRIPTS.update(scripts)
    pages = app_page_list if pages is None else pages
    prof = PROFILES[profile]
    scale = bool(data)
    n_unc = prof["big_uncached"] if scale else prof["uncached"]
    n_cac = prof["big_cached"] if scale else prof["cached"]
    out: dict[str, object] = {"floor": {"selectbox": [], "slider": []}, "app": {}, "errors": [],
                              "loadavg_start": os.getloadavg()}
    t0 = time.perf_counter()
    first = new_session(app, "overview")  # loads the trial (cache_resource) once, untimed
    out["first_session_s"] = time.perf_counter() - t0
    trial = first.session_state["trial"]
    scenarios = app_scenarios(trial)
    names = [s for s in scenarios if page_of(s) in pages and not (scale and s in SKIP_AT_SCALE)]
    # Floor blocks before every scenario and at the end, pooled: drift hits floor and app alike.
    block = max(4, prof["floor"] // (len(names) + 1))

    def floor_block() -> None:
        for kind in ("selectbox", "slider"):
            out["floor"][kind] += floor_samples(kind, block, 2)

    for name in names:
        floor_block()
        spec = scenarios[name]
        try:
            samples = scenario_samples(app, spec, n_unc, n_cac, prof["warmup"])
        except Exception as exc:  # report, do not hide: the row says "error"
            out["errors"].append(f"{name}: {exc}")
            continue
        out["app"][name] = {"kind": spec["kind"], **samples}
        print(f"  warm {'10k' if scale else 'shipped'} {name}: uncached median "
              f"{1000 * statistics.median(samples['uncached']):.0f} ms, cached median "
              f"{1000 * statistics.median(samples['cached']):.0f} ms", file=sys.stderr, flush=True)
    floor_block()
    out["loadavg_end"] = os.getloadavg()
    out_path.write_text(json.dumps(out), encoding="utf-8")


def _env() -> dict[str, str]:
    """The environment of a measuring process: without RESPINE_DATA (``--data`` sets it)."""
    return {k: v for k, v in os.environ.items() if k != "RESPINE_DATA"}


def run_warm(profile: str, data: str | None, pages: list[str], app_dir: Path = REPO) -> dict:
    """The warm measurements of ``pages`` in a new process (``warm.py --json``) on ``app_dir``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    cmd = [sys.executable, str(WARM), "--json", str(out), "--profile", profile,
           "--pages", ",".join(pages), "--app-dir", str(app_dir)]
    if data:
        cmd += ["--data", data]
    proc = subprocess.run(cmd, cwd=app_dir, env=_env(), capture_output=True, text=True)
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
# --serve: one rerun at a time on request, so that bench/ab.py can interleave two checkouts rerun
# by rerun (the machine's state changes within a second on a shared machine).
# ---------------------------------------------------------------------------------------------

# The floor's two changes, as scenarios: floor_samples' widgets and values (the selectbox's
# values are its options, read when a session starts).
FLOOR_SCENARIOS = {
    "floor: selectbox": {"page": None, "kind": "selectbox", "label": "Series", "values": None},
    "floor: slider": {"page": None, "kind": "slider", "label": "Shift",
                      "values": [5.0 * i for i in range(21)]},
}


def serve(app_dir: Path, data: str | None) -> None:
    """Answer JSON commands read from stdin, one JSON line each on stdout:

    * ``{"cmd": "hello"}``: loads the trial (the first session, untimed); the app's pages, its
      ``respine``, code fingerprint and scenarios (names, widgets, values);
    * ``{"cmd": "start", "scenario": NAME, "clear": BOOL}``: a new session at the scenario's page
      (``clear``: clear_caches first, so what follows is uncached); NAME may be a floor scenario;
    * ``{"cmd": "step", "i": I}``: set the widget to value I (modulo the number of values; 0 is
      the start), rerun: ``{"sample": seconds}`` (timed_run: the rerun must draw the page);
    * ``{"cmd": "quit"}``.

    A failure answers ``{"error": ...}`` and the worker stays up. Anything else the app or
    Streamlit prints goes to stderr: the protocol has stdout to itself.
    """
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _set_data(data)
    app = use_app_dir(app_dir)
    scenarios: dict[str, dict] = {}
    current: dict[str, object] = {}

    def hello() -> dict:
        pages, scripts, source = app_pages(app_dir)
        PAGE_SCRIPTS.update(scripts)
        t0 = time.perf_counter()
        first = new_session(app, "overview")  # loads the trial (cache_resource) once, untimed
        scenarios.update(app_scenarios(first.session_state["trial"]))
        return {"pages": pages, "page_source": source, "respine": respine_file(),
                "code_sha": code_fingerprint(app_dir), "first_session_s": time.perf_counter() - t0,
                "python": sys.executable, "pid": os.getpid(),
                "scenarios": {name: {"page": s["page"], "kind": s["kind"], "label": s["label"],
                                     "values": [str(v) for v in s["values"]]}
                              for name, s in scenarios.items()}}

    def start(name: str, clear: bool) -> dict:
        current.clear()
        if name in FLOOR_SCENARIOS:
            spec = dict(FLOOR_SCENARIOS[name])
            at = new_session(FLOOR, None)
            if spec["values"] is None:
                spec["values"] = list(widget(at, spec["kind"], spec["label"]).options)
        else:
            spec = scenarios[name]
            if clear:
                clear_caches()
            at = new_session(app, spec["page"], spec.get("query"))
        current.update(at=at, spec=spec)
        return {"ok": True, "values": len(spec["values"])}

    def step(i: int) -> dict:
        at, spec = current["at"], current["spec"]
        widget(at, spec["kind"], spec["label"]).set_value(spec["values"][i % len(spec["values"])])
        return {"sample": timed_run(at, spec["page"])}

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        cmd = request.get("cmd")
        try:
            if cmd == "hello":
                reply = hello()
            elif cmd == "start":
                reply = start(request["scenario"], bool(request.get("clear")))
            elif cmd == "step":
                reply = step(int(request["i"]))
            elif cmd == "quit":
                proto.write(json.dumps({"ok": True}) + "\n")
                proto.flush()
                return
            else:
                reply = {"error": f"unknown command {cmd!r}"}
        except Exception as exc:  # the caller decides; the worker stays up
            current.clear()
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        proto.write(json.dumps(reply) + "\n")
        proto.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--json", metavar="OUT", help="measure --pages, write the result (JSON) to OUT")
    mode.add_argument("--serve", action="store_true", help="answer commands on stdin (bench/ab.py)")
    mode.add_argument("--list-pages", action="store_true", help="print the app's pages (JSON)")
    parser.add_argument("--app-dir", default=str(REPO), metavar="DIR",
                        help="checkout whose app.py and respine/ are measured (default: this one)")
    parser.add_argument("--pages", default=None, help="comma-separated pages (default: all of the app's)")
    parser.add_argument("--profile", default="full", choices=sorted(PROFILES))
    parser.add_argument("--data", default=None, help="trial folder (RESPINE_DATA); default the shipped data")
    args = parser.parse_args()
    app_dir = Path(args.app_dir).resolve()
    if args.list_pages:
        use_app_dir(app_dir)
        pages, scripts, source = app_pages(app_dir)
        print(json.dumps({"pages": pages, "scripts": scripts, "source": source, "respine": respine_file()}))
    elif args.serve:
        serve(app_dir, args.data)
    else:
        pages = args.pages.split(",") if args.pages else None
        warm_worker(app_dir, args.profile, args.data, pages, Path(args.json))


if __name__ == "__main__":
    main()
