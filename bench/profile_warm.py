#!/usr/bin/env python
"""Where a warm rerun's time goes, during AppTest reruns of the bench/warm.py scenarios.

    .venv/bin/python bench/profile_warm.py                       # every page, shipped data
    .venv/bin/python bench/profile_warm.py --data /tmp/big       # e.g. a 10,000-subject twin
    .venv/bin/python bench/profile_warm.py --scenario "explorer: Endpoint" --uncached --top 40

Two views per scenario:

* timers (default): chosen functions of the app are wrapped with a wall-clock timer (no
  profiler, so plotly's many small calls are not inflated); prints ms per rerun, inclusive;
* ``--cprofile``: cProfile of the script thread (cProfile only sees the thread it is enabled in,
  so it is switched on inside Streamlit's script runner); breakdown by part, plus ``--top N``.

Parts nest, so they do not add up to 100%.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/profile_warm.py): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (label, file suffix, function name): inclusive time of these functions.
PARTS = [
    ("whole script run", "scriptrunner/script_runner.py", "_run_script"),
    ("the page itself (page.run(); the rest is app.py's frame)", "streamlit/navigation/page.py", "run"),
    ("frame.sidebar (population, filters, counts)", "respine/ui/frame.py", "sidebar"),
    ("state.sync_url (options_for, URL)", "respine/ui/state.py", "sync_url"),
    ("state.options_for (all calls)", "respine/ui/state.py", "options_for"),
    ("analysis.available_endpoints", "respine/analysis.py", "available_endpoints"),
    ("analysis.visits_with_data", "respine/analysis.py", "visits_with_data"),
    ("cached calls (st.cache_data lookups incl. misses)", "caching/cache_utils.py", "__call__"),
    ("  of which cache misses (compute + store)", "caching/cache_utils.py", "_handle_cache_miss"),
    ("analysis.analyze (compute)", "respine/analysis.py", "analyze"),
    ("analysis.over_time (compute)", "respine/analysis.py", "over_time"),
    ("derive.endpoint_data", "respine/derive.py", "endpoint_data"),
    ("figures.* building plotly figures (all)", "respine/figures.py", "*"),
    ("  of which figures._layout (update_layout, template)", "respine/figures.py", "_layout"),
    ("render.figure -> st.plotly_chart (serialise)", "respine/ui/render.py", "figure"),
    ("render.table -> st.dataframe + CSV download", "respine/ui/render.py", "table"),
    ("  of which DataFrame.to_csv", "pandas/core/generic.py", "to_csv"),
    ("tables.* (building tables)", "respine/tables.py", "*"),
]

# (label, object path, attribute): wall time of these, wrapped in place.
TIMED = [
    ("whole script run", "streamlit.runtime.scriptrunner.script_runner:ScriptRunner", "_run_script"),
    ("the page itself (page.run(); the rest is app.py's frame)", "streamlit.navigation.page:StreamlitPage",
     "run"),
    ("frame.sidebar (population, filters, counts)", "respine.ui.frame", "sidebar"),
    ("state.sync_url", "respine.ui.state", "sync_url"),
    ("cache.run (a registered analysis, hit or miss)", "respine.ui.cache", "run"),
    ("cache.values_at_visit (hit or miss)", "respine.ui.cache", "values_at_visit"),
    ("cache.figure (hit, or the figure built on a miss)", "respine.ui.cache", "figure"),
    ("availability.available_endpoints", "respine.analyses.availability", "available_endpoints"),
    ("availability.visits_with_data", "respine.analyses.availability", "visits_with_data"),
    ("figures.over_time_figure", "respine.present.figures", "over_time_figure"),
    ("figures.rate_figure", "respine.present.figures", "rate_figure"),
    ("figures.distribution_figure", "respine.present.figures", "distribution_figure"),
    ("  figures._layout (inside the three above)", "respine.present.figures", "_layout"),
    ("render.figure -> st.plotly_chart", "respine.ui.render", "figure"),
    ("render.table -> st.dataframe + CSV download", "respine.ui.render", "table"),
]


def install_timers(active: list[bool]) -> dict[str, list[float]]:
    """Wrap every TIMED function; while active[0], add its outermost calls' wall time."""
    import importlib
    import threading

    totals: dict[str, list[float]] = {label: [0.0, 0] for label, _, _ in TIMED}
    local = threading.local()
    for label, where, attr in TIMED:
        module_name, _, cls = where.partition(":")
        owner = importlib.import_module(module_name)
        if cls:
            owner = getattr(owner, cls)
        fn = getattr(owner, attr, None)
        if fn is None:  # the app's code has changed: leave this part out
            totals[label] = [float("nan"), 0]
            continue

        def wrapper(*a, _fn=fn, _label=label, **k):
            depth = getattr(local, _label, 0)
            setattr(local, _label, depth + 1)
            t0 = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                setattr(local, _label, depth)
                if depth == 0 and active[0]:  # outermost calls, while timing
                    totals[_label][0] += time.perf_counter() - t0
                    totals[_label][1] += 1

        setattr(owner, attr, wrapper)
    return totals


def breakdown(stats: pstats.Stats, runs: int) -> list[tuple[str, float]]:
    raw = stats.stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    rows = []
    for label, suffix, func in PARTS:
        if func == "*":
            # Top-level entry points of the module only (called from outside it), to avoid counting
            # nested calls twice.
            total = 0.0
            for (file, _line, _name), (_cc, _nc, _tt, ct, callers) in raw.items():
                if file.endswith(suffix) and not any(c[0].endswith(suffix) for c in callers):
                    total += ct
        else:
            total = sum(v[3] for (file, _line, name), v in raw.items()
                        if file.endswith(suffix) and name == func)
        rows.append((label, 1000 * total / runs))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="trial folder (RESPINE_DATA); default: the shipped data/")
    parser.add_argument("--scenario", action="append", help="scenario name as in bench/warm.py (repeatable)")
    parser.add_argument("--uncached", action="store_true",
                        help="clear the app's caches (all but the loaded trial) before each pass")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of timers")
    parser.add_argument("--top", type=int, default=0, help="with --cprofile: top N functions")
    args = parser.parse_args()
    if args.data:
        os.environ["RESPINE_DATA"] = args.data

    from streamlit.runtime.scriptrunner import script_runner

    from bench import warm as bench
    from bench.common import REPO

    app = bench.use_app_dir(REPO)

    profiler = cProfile.Profile()
    active = [False]
    if args.cprofile:
        original = script_runner.ScriptRunner._run_script

        def profiled(self, rerun_data):
            if not active[0]:
                return original(self, rerun_data)
            profiler.enable()
            try:
                return original(self, rerun_data)
            finally:
                profiler.disable()

        script_runner.ScriptRunner._run_script = profiled
        totals = {}
    else:
        totals = install_timers(active)

    first = bench.new_session(app, "overview")
    scenarios = bench.app_scenarios(first.session_state["trial"])
    for name in args.scenario or list(scenarios):
        spec = scenarios[name]
        kind, label, values = spec["kind"], spec["label"], spec["values"]

        def one_pass(clear: bool, timed: bool, spec=spec, kind=kind, label=label,
                     values=values) -> list[float]:
            # A new session per pass (the view at its defaults), as bench/warm.py does.
            if clear:
                bench.clear_caches()
            at = bench.new_session(app, spec["page"], spec.get("query"))
            walls = []
            active[0] = timed
            for value in values[1:]:
                bench.widget(at, kind, label).set_value(value)
                walls.append(bench.timed_run(at, spec["page"]))
            active[0] = False
            return walls

        one_pass(False, False)  # warm-up
        for t in totals.values():
            t[0], t[1] = 0.0, 0
        profiler = cProfile.Profile()
        walls = []
        for _ in range(args.passes):
            walls += one_pass(args.uncached, True)
        runs = len(walls)
        print(f"\n## {name} ({'uncached' if args.uncached else 'cached'}): {runs} reruns, mean "
              f"{1000 * sum(walls) / runs:.0f} ms, median {1000 * sorted(walls)[runs // 2]:.0f} ms "
              "(AppTest .run())")
        if args.cprofile:
            stats = pstats.Stats(profiler)
            print("per rerun under cProfile (inflated by the profiler):")
            for label_, ms in breakdown(stats, runs):
                print(f"  {ms:8.1f} ms  {label_}")
            if args.top:
                stats.sort_stats("cumulative").print_stats(args.top)
        else:
            for label_, _, _ in TIMED:
                print(f"  {1000 * totals[label_][0] / runs:8.1f} ms  {label_}")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
