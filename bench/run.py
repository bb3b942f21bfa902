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
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/run.py): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import browser, warm
from bench.common import BENCH, REPO, code_fingerprint, machine, make_twin
from bench.report import build_report
from bench.scenarios import PROFILES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--parts", default="warm,cold,click",
                        help="comma-separated parts to run: warm, cold, click (default all)")
    parser.add_argument("--pages", default=None,
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
    if args.warm_worker:  # what run.py started before bench/warm.py existed
        warm.warm_worker(REPO, args.profile, args.data, args.pages.split(",") if args.pages else None,
                         Path(args.out))
        return
    parts = args.parts.split(",")
    all_pages = warm.list_pages(REPO)["pages"]  # the app's registry when it has one, else PAGES
    pages = [p for p in all_pages if args.pages is None or p in args.pages.split(",")]
    unknown = ((set(args.pages.split(",")) - set(all_pages) if args.pages else set())
               or set(parts) - {"warm", "cold", "click"})
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
            res["warm"] = warm.run_warm(prof_name, None, pages)
            print("warm interaction, 10,000-subject twin ...", flush=True)
            res["warm_big"] = warm.run_warm(prof_name, big, pages)
        res["browser"] = browser.run_browser(prof, big, parts, pages)
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
