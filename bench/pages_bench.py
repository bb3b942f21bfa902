"""Warm interaction on every page, as a ratio to the floor app measured in the same run.

Run: ``.venv/bin/python bench/pages_bench.py [--repeats 12] [--big]``. For each page one widget
is changed back and forth (after warm-up, so every result is cached: the "warm" interaction of
DESIGN.md section 6) and the AppTest rerun is timed; the floor app (bench/floor_app.py) is timed
the same way in the same process. ``--big`` also runs on a 10,000-subject twin. Writes
``bench/pages_results.md``. bench/run.py adds cold start and click-to-update in Chromium.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# page -> (query, widget kind, label, two values to alternate)
CHANGES = {
    "overview": ({}, "selectbox", "Population", ["PP", "MITT"]),
    "explorer": ({}, "selectbox", "Endpoint", ["ODI", "VAS"]),
    "responders": ({}, "slider", "VAS improvement at least (mm)", [30.0, 20.0]),
    "profile": ({}, "radio", "Scale", ["ODI", "VAS"]),
    "subgroups": ({"ep": "RESP"}, "selectbox", "Visit", [6.0, 12.0]),
    "trajectories": ({}, "radio", "Means", ["model", "observed"]),
    "mri": ({}, "radio", "Clinical change", ["ODI", "VAS"]),
    "robustness": ({"ep": "RESP"}, "selectbox", "Visit", [6.0, 12.0]),
    "baseline": ({}, "radio", "Continuous variables as", ["median", "mean"]),
    "flow": ({}, "selectbox", "Follow-up counted by assessments of", ["ODI", "VAS"]),
    "safety": ({}, "toggle", "Serious events only (organ class table)", [True, False]),
    "missing": ({}, "selectbox", "Endpoint", ["ODI", "VAS"]),
    "paper": ({}, "selectbox", "Population", ["PP", "MITT"]),
    "data": ({}, "selectbox", "Population", ["PP", "MITT"]),
    "report": ({}, "selectbox", "Population", ["PP", "MITT"]),
}


def widget(at: AppTest, kind: str, label: str):
    return next(w for w in getattr(at, kind) if w.label == label)


def time_changes(
    script: Path, page: str | None, query: dict, kind: str, label: str, values: list, repeats: int
) -> list[float]:
    at = AppTest.from_file(str(script), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page and page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    for v in values * 2:  # warm-up: every value computed and cached once
        widget(at, kind, label).set_value(v).run()
    times = []
    for i in range(repeats):
        widget(at, kind, label).set_value(values[i % len(values)])
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, round(0.95 * (len(ordered) - 1)))]


def run(label: str, repeats: int) -> list[str]:
    floor_times = time_changes(
        REPO / "bench" / "floor_app.py",
        None,
        {},
        "selectbox",
        AppTest.from_file(str(REPO / "bench" / "floor_app.py")).run().selectbox[0].label,
        AppTest.from_file(str(REPO / "bench" / "floor_app.py")).run().selectbox[0].options[:2],
        repeats * 2,
    )
    floor_med, floor_p95 = summary(floor_times)
    rows = [
        f"| {label} | floor app | selectbox | {floor_med * 1000:.0f} ms | {floor_p95 * 1000:.0f} ms "
        "| 1.0x | |"
    ]
    for page, (query, kind, wlabel, values) in CHANGES.items():
        med, p95 = summary(time_changes(REPO / "app.py", page, query, kind, wlabel, values, repeats))
        ratio = med / floor_med
        verdict = "ok" if ratio <= 5 else "**over**"
        rows.append(
            f"| {label} | {page} | {kind} “{wlabel}” | {med * 1000:.0f} ms | {p95 * 1000:.0f} ms | "
            f"{ratio:.1f}x | {verdict} |"
        )
        print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--big", action="store_true", help="also at 10,000 subjects")
    args = parser.parse_args()
    rows = run("114 subjects", args.repeats)
    if args.big:
        from respine.synth import generate, write_twin

        with tempfile.TemporaryDirectory() as tmp:
            write_twin(generate(5000), tmp)
            os.environ["RESPINE_DATA"] = tmp
            rows += run("10,000 subjects", args.repeats)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    head = [
        "Warm interaction per page (AppTest rerun after a widget change, every value cached), median "
        f"and p95 "
        f"of {args.repeats} reruns, ratio = page median / floor-app median in the same run. Machine: {cpu}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average at the end {load:.1f}.",
        "",
        "| data | page | change | median | p95 | ratio | target ≤ 5x |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    table = "\n".join(head + rows)
    print(table)
    (REPO / "bench" / "pages_results.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
