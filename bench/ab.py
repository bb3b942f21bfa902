#!/usr/bin/env python
"""Before/after in the same run: warm interaction and first view of a base revision and a head.

    flock /tmp/respine-bench.lock .venv/bin/python bench/ab.py --base 1e743a1 --head . \\
        --pages overview,explorer,responders,robustness --rounds 4 --out bench/ab_results.md

``--base`` is a git revision, checked out in a temporary ``git worktree`` (removed at the end);
``--head`` a directory (default: this checkout, uncommitted changes included) or a revision (a
second worktree). Each side is measured by a process of its own that imports that side's
``respine``: ``bench/warm.py --serve --app-dir <checkout>``, this bench's code on the checkout's
app, so the base needs no bench/warm.py. Both processes are started anew every round. Within a
round every widget change is made on both sides, one rerun right after the other (base, head,
head, base, ...): each change gives a pair of reruns a fraction of a second apart, so whatever
the machine does meanwhile hits both alike. Measured, for every scenario of the pages
(bench/README.md, "Scenarios"): the rerun after a widget change, ``cached`` (warm interaction)
and ``uncached`` (first view: the app's caches cleared first), and the floor app's reruns in
both processes (the same code on both sides: what a difference looks like when there is none).

Per scenario: median and p95 of each side, head/base (the median over the pairs of head / base)
with a 95% interval from a bootstrap (rounds resampled, then the pairs within each round), and
a verdict: "slower" when the whole interval is above 1 and head/base at least 1 + tolerance.
The Markdown goes to ``--out``, the raw pairs next to it (``.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/ab.py): make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import BENCH, REPO, code_fingerprint, machine, p95
from bench.scenarios import page_of
from bench.warm import WARM, list_pages

REPLY_TIMEOUT_S = 900  # one pass or the first session; a worker silent for longer is stuck
FLOOR_BLOCK = 4  # floor pairs of each kind before every scenario and at the end
CACHES = ("cached", "uncached")
FLOOR_NAMES = ("floor: selectbox", "floor: slider")  # warm.FLOOR_SCENARIOS


# ---------------------------------------------------------------------------------------------
# The two checkouts
# ---------------------------------------------------------------------------------------------


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class Checkout:
    """A side of the comparison: a directory with app.py and respine/, and what it is."""

    def __init__(self, label: str, spec: str, tmp: Path) -> None:
        self.label, self.spec, self.worktree = label, spec, None
        if Path(spec).is_dir():
            self.path = Path(spec).resolve()
            try:
                sha = git("rev-parse", "HEAD", cwd=self.path)
                dirty = git("status", "--porcelain", "--", "app.py", "app_pages", "respine", cwd=self.path)
                self.rev = sha[:12] + (" + uncommitted changes" if dirty else "")
            except subprocess.CalledProcessError:
                self.rev = "not a git checkout"
        else:
            try:
                sha = git("rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
            except subprocess.CalledProcessError:
                raise SystemExit(f"{label}: {spec!r} is neither a directory nor a git revision") from None
            self.path = (tmp / label).resolve()
            git("worktree", "add", "--detach", str(self.path), sha)
            self.worktree = self.path
            self.rev = sha[:12]
        if not (self.path / "app.py").is_file():
            raise SystemExit(f"{label}: {self.path} has no app.py")
        self.code_sha = code_fingerprint(self.path)

    def remove(self) -> None:
        if self.worktree is None:
            return
        try:
            git("worktree", "remove", "--force", str(self.worktree))
        except subprocess.CalledProcessError:
            shutil.rmtree(self.worktree, ignore_errors=True)
            git("worktree", "prune")
        self.worktree = None


# ---------------------------------------------------------------------------------------------
# A measuring process (bench/warm.py --serve) on one checkout
# ---------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, side: Checkout, data: str | None) -> None:
        self.side = side
        env = {k: v for k, v in os.environ.items() if k != "RESPINE_DATA"}
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # write nothing into the checkouts measured
        cmd = [sys.executable, str(WARM), "--serve", "--app-dir", str(side.path)]
        if data:
            cmd += ["--data", data]
        self.log = tempfile.NamedTemporaryFile(prefix=f"respine-ab-{side.label}-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=side.path, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            tail = Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-3000:]
            self.close()
            raise RuntimeError(f"{self.side.label} worker gave no answer to {request}:\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


# ---------------------------------------------------------------------------------------------
# Measuring: rounds of interleaved reruns
# ---------------------------------------------------------------------------------------------


class Round:
    """One round: a new measuring process per side (started one after the other), then slots.

    A slot is a scenario and cache on both sides: a new session on each side (uncached: its
    caches cleared first), then the same widget changes, one rerun at a time, base and head in
    turn (the side that goes first alternates from one rerun to the next, and from one slot of
    a kind to the next). Each change gives a pair (base, head) of reruns a fraction of a second
    apart: the machine's state, which on a shared machine changes within a second, is shared."""

    def __init__(self, r: int, sides: list[Checkout], res: dict, data: str | None) -> None:
        self.r, self.res = r, res
        self.first = list(sides) if r % 2 == 0 else list(sides[::-1])  # who starts alternates
        self.turns: dict[str, int] = {}
        self.workers: dict[str, Worker] = {}
        for side in self.first:  # one after the other: a start is CPU-heavy
            self.workers[side.label] = worker = Worker(side, data)
            hello = worker.ask(cmd="hello")
            if "error" in hello:
                raise RuntimeError(f"{side.label}: {hello['error']}")
            if not Path(hello["respine"]).is_relative_to(side.path):
                raise RuntimeError(f"{side.label} imported {hello['respine']}, not its own respine")
            res["workers"][side.label].append({k: v for k, v in hello.items() if k != "scenarios"})

    def order(self, what: str) -> list[Checkout]:
        """base, head, head, base, ...: the first side alternates from one turn of ``what`` to the next."""
        self.turns[what] = self.turns.get(what, 0) + 1
        return self.first if self.turns[what] % 2 else self.first[::-1]

    def ask(self, side: Checkout, what: str, **request) -> dict | None:
        reply = self.workers[side.label].ask(**request)
        if "error" in reply:
            self.res["errors"].append(f"round {self.r + 1} {side.label} {what}: {reply['error']}")
            return None
        return reply

    def slot(self, name: str, cache: str, steps: list[int], untimed: int = 0) -> None:
        """The changes ``steps`` (value indices) of scenario ``name`` on both sides, interleaved;
        the first ``untimed`` are not recorded (all of them: a warm-up)."""
        for side in self.order(cache):
            if not self.ask(side, f"{name} {cache} start", cmd="start", scenario=name,
                            clear=cache == "uncached"):
                return  # that slot is lost on both sides: pairs only
        for k, i in enumerate(steps):
            pair = {}
            for side in self.order("rerun"):
                reply = self.ask(side, f"{name} {cache} change {i}", cmd="step", i=i)
                if reply is None:
                    return
                pair[side.label] = reply["sample"]
            if k >= untimed:
                self.res["pairs"][name][cache][self.r].append([pair["base"], pair["head"]])

    def floor_block(self) -> None:
        for name in FLOOR_NAMES:  # two untimed changes first, as floor_samples does
            self.slot(name, "floor", list(range(1, 3 + FLOOR_BLOCK)), untimed=2)

    def scenario(self, name: str, values: int, passes: int) -> None:
        changes = list(range(1, values))
        self.slot(name, "cached", changes, untimed=len(changes))  # warm-up: first-run costs, values cached
        for _ in range(passes):
            for cache in CACHES:
                self.slot(name, cache, changes)

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()


def measure(sides: list[Checkout], names: list[str], values: dict[str, int], args) -> dict:
    """``args.rounds`` rounds; pairs[scenario][cache][round] = [[base s, head s], ...]."""
    rounds = args.rounds
    res: dict = {
        "pairs": {**{n: {c: [[] for _ in range(rounds)] for c in CACHES} for n in names},
                  **{n: {"floor": [[] for _ in range(rounds)]} for n in FLOOR_NAMES}},
        "errors": [], "workers": {s.label: [] for s in sides}, "round_s": []}
    for r in range(rounds):
        t_round = time.perf_counter()
        rnd = Round(r, sides, res, args.data)
        try:
            for name in names:
                rnd.floor_block()
                rnd.scenario(name, values[name], max(1, math.ceil(args.reruns / (values[name] - 1))))
            rnd.floor_block()
        finally:
            rnd.close()
        res["round_s"].append(time.perf_counter() - t_round)
        print(f"round {r + 1}/{rounds}: {res['round_s'][-1]:.0f} s ({rnd.first[0].label} first)", flush=True)
    return res


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def paired_ratio(rounds: list[list[list[float]]], n_boot: int, seed: int) -> tuple[float, float, float]:
    """head/base: the median over pairs of head/base, and its 95% bootstrap interval.

    Two levels, as the pairs were taken: rounds (each with its own processes) drawn with
    replacement, then the pairs within each drawn round."""
    import numpy as np

    logs = [np.log(np.asarray([h for _, h in r]) / np.asarray([b for b, _ in r])) for r in rounds if r]
    if not logs:
        return float("nan"), float("nan"), float("nan")
    point = float(np.exp(np.median(np.concatenate(logs))))
    rng = np.random.default_rng(seed)
    boot = np.empty(n_boot)
    for k in range(n_boot):
        pick = rng.integers(0, len(logs), len(logs))
        boot[k] = np.median(np.concatenate([rng.choice(logs[i], len(logs[i])) for i in pick]))
    lo, hi = np.exp(np.percentile(boot, [2.5, 97.5]))
    return point, float(lo), float(hi)


def judge(ratio: float, lo: float, hi: float, tolerance: float) -> str:
    if lo != lo:  # NaN: nothing measured
        return "not measured"
    if lo > 1:
        return "**slower**" if ratio >= 1 + tolerance else f"slower by < {tolerance:.0%} (small but real)"
    if hi < 1:
        return "faster"
    if hi <= 1 + tolerance:
        return "no difference"
    return f"no difference detected (could hide up to +{hi - 1:.0%})"


def summarise(pairs: list[list[list[float]]], args, seed: int) -> dict:
    flat = [p for r in pairs for p in r]
    row: dict = {"n": len(flat)}
    if not flat:
        nan = float("nan")
        row.update(base_median=nan, base_p95=nan, head_median=nan, head_p95=nan, ratio=nan, lo=nan,
                   hi=nan, ratio_p95=nan)
    else:
        base, head = [b for b, _ in flat], [h for _, h in flat]
        ratio, lo, hi = paired_ratio(pairs, args.bootstrap, seed)
        row.update(base_median=statistics.median(base), base_p95=p95(base),
                   head_median=statistics.median(head), head_p95=p95(head),
                   ratio=ratio, lo=lo, hi=hi, ratio_p95=p95(head) / p95(base))
    row["verdict"] = judge(row["ratio"], row["lo"], row["hi"], args.tolerance)
    return row


def analyse(res: dict, names: list[str], args) -> tuple[list[dict], list[dict]]:
    rows = [{"scenario": name, "page": page_of(name), "cache": cache,
             **summarise(res["pairs"][name][cache], args, args.seed + 10 * i + j)}
            for i, name in enumerate(names) for j, cache in enumerate(CACHES)]
    floor_rows = [{"kind": name.split(": ")[1],
                   **summarise(res["pairs"][name]["floor"], args, args.seed + 1000 + k)}
                  for k, name in enumerate(FLOOR_NAMES)]
    return rows, floor_rows


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def ms(x: float) -> str:
    return f"{1000 * x:.0f} ms" if x == x else "–"


def interval(row: dict) -> str:
    if row["ratio"] != row["ratio"]:
        return "–"
    return f"{row['ratio']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"


# Worst first: the order in which a page's rows are summarised.
VERDICT_ORDER = ("**slower**", "slower by", "no difference detected", "not measured", "no difference",
                 "faster")


def rank(verdict: str) -> int:
    return next(i for i, v in enumerate(VERDICT_ORDER) if verdict.startswith(v))


def build_report(res: dict, rows: list[dict], floor_rows: list[dict], args, elapsed: float) -> str:
    m, base, head = res["machine"], res["base"], res["head"]
    tol = f"{args.tolerance:.0%}"
    noise = [(r["hi"] - r["lo"]) / 2 for r in rows if r["lo"] == r["lo"]]
    lines = [
        "# RESPINE explorer: before/after in the same run",
        "",
        f"Run {res['date']} with `{res['command']}` ({elapsed / 60:.1f} min; rounds "
        + ", ".join(f"{s:.0f}" for s in res["round_s"]) + " s). "
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, Streamlit {m['streamlit']}, "
        f"plotly {m['plotly']}, pandas {m['pandas']}. Load average (1 min) at start "
        f"{res['loadavg_start'][0]:.2f}, at end {res['loadavg_end'][0]:.2f}.",
        "",
        f"- **base**: `{base['spec']}` = {base['rev']} (code fingerprint `{base['code_sha']}`)",
        f"- **head**: `{head['spec']}` = {head['rev']} (code fingerprint `{head['code_sha']}`)"
        + (" — **the same code as base**" if base["code_sha"] == head["code_sha"] else ""),
        f"- pages: {', '.join(res['pages'])} (list from {res['page_source']}); data: "
        f"{res['data'] or 'the shipped data (114)'}",
        "",
        f"{args.rounds} rounds, each with one new measuring process per side (bench/warm.py --serve, "
        "importing that side's respine); within a round every widget change is made on both sides, "
        "one rerun after the other (base, head, head, base, ...), which gives pairs. At least "
        f"{args.reruns} pairs a round, scenario and cache (a pass over all of the widget's values at "
        "least). head/base is the median over the pairs of head / base, with a 95% bootstrap "
        f"interval (rounds, then pairs, resampled; {args.bootstrap} times). Verdict: **slower** when "
        f"the whole interval is above 1 and head/base ≥ 1 + {tol}; *no difference* when the interval "
        f"lies below 1 + {tol} and includes 1.",
        "",
        "## Per page",
        "",
        "| page | cache | worst head/base [95% interval] | scenario | verdict |",
        "|---|---|---|---|---|",
    ]
    for page in res["pages"]:
        for cache in CACHES:
            mine = [r for r in rows if r["page"] == page and r["cache"] == cache]
            if mine:
                worst = min(mine, key=lambda r: (rank(r["verdict"]), -r["ratio"] if r["n"] else 0))
                lines.append(f"| {page} | {cache} | {interval(worst)} | {worst['scenario']} | "
                             f"{worst['verdict']} |")
    slower = [f"{r['scenario']} ({r['cache']})" for r in rows if r["verdict"] == "**slower**"]
    if slower:
        lines += ["", "**Head is slower than base** on: " + "; ".join(slower) + "."]
    else:
        lines += ["", f"Head is not slower than base by more than noise and {tol} on any scenario measured."]
    if noise:
        lines += ["", f"Noise: the 95% intervals of head/base have a half-width of "
                  f"{100 * statistics.median(noise):.1f}% (median over the rows; largest "
                  f"{100 * max(noise):.1f}%)."]
    lines += [
        "",
        "## Floor (bench/floor_app.py), measured in both processes",
        "",
        "The same code on both sides: head/base is what the comparison shows when nothing changed.",
        "",
        "| floor | pairs | base median | base p95 | head median | head p95 | head/base [95% interval] "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in floor_rows:
        lines.append(f"| {f['kind']} | {f['n']} | {ms(f['base_median'])} | {ms(f['base_p95'])} | "
                     f"{ms(f['head_median'])} | {ms(f['head_p95'])} | {interval(f)} | {f['verdict']} |")
    floor_med = {(f["kind"], side): f[f"{side}_median"] for f in floor_rows for side in ("base", "head")}
    lines += [
        "",
        "## Every scenario",
        "",
        "x floor: the side's median divided by its floor median (selectbox; slider for a slider), as in "
        "bench/results.md.",
        "",
        "| page: change | cache | pairs | base median | base p95 | head median | head p95 | "
        "head/base [95% interval] | head/base p95 | x floor base → head | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        kind = "slider" if res["kinds"][r["scenario"]] == "slider" else "selectbox"
        xf = "" if r["ratio"] != r["ratio"] else (
            f"{r['base_median'] / floor_med[kind, 'base']:.1f}x → "
            f"{r['head_median'] / floor_med[kind, 'head']:.1f}x")
        lines.append(f"| {r['scenario']} | {r['cache']} | {r['n']} | {ms(r['base_median'])} | "
                     f"{ms(r['base_p95'])} | {ms(r['head_median'])} | {ms(r['head_p95'])} | "
                     f"{interval(r)} | {r['ratio_p95']:.3f} | {xf} | {r['verdict']} |")
    if res["warnings"] or res["errors"]:
        lines += ["", "Warnings and errors (a failed change loses the rest of its slot on both sides):", ""]
        lines += [f"- {e}" for e in [*res["warnings"], *res["errors"]]]
    lines += ["", f"Raw pairs: `{Path(args.out).with_suffix('.json').name}`.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision measured as the base")
    parser.add_argument("--head", default=str(REPO),
                        help="directory (default: this checkout, as it is) or git revision measured as head")
    parser.add_argument("--pages", default=None,
                        help="comma-separated pages (default: every page that both sides have)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, each with new processes (default 6)")
    parser.add_argument("--reruns", type=int, default=8,
                        help="at least this many pairs of reruns a round, scenario and cache (default 8)")
    parser.add_argument("--data", default=None, help="trial folder (RESPINE_DATA); default the shipped data")
    parser.add_argument("--out", default=str(BENCH / "ab_results.md"),
                        help="Markdown report (the raw pairs go next to it, .json)")
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="a slowdown smaller than this is not called slower (default 0.05)")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for the 1-minute load average to fall below 1")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds: at least 2 (the first side alternates from round to round)")

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="respine-ab-"))
    sides: list[Checkout] = []
    try:
        sides.append(Checkout("base", args.base, tmp))
        sides.append(Checkout("head", args.head, tmp))
        listed = {s.label: list_pages(s.path) for s in sides}
        both = [p for p in listed["head"]["pages"] if p in listed["base"]["pages"]]
        pages = both if args.pages is None else args.pages.split(",")
        missing = {f"{p} ({s})" for p in pages for s in ("base", "head") if p not in listed[s]["pages"]}
        if missing:
            parser.error("pages not in the app: " + ", ".join(sorted(missing)))
        for s in sides:
            print(f"{s.label}: {s.spec} = {s.rev} at {s.path}; pages from {listed[s.label]['source']}",
                  flush=True)

        # The scenarios: from one start of each side (the values come from each side's respine).
        probes = {}
        for s in sides:
            w = Worker(s, args.data)
            try:
                probes[s.label] = w.ask(cmd="hello")
            finally:
                w.close()
            if "error" in probes[s.label]:
                raise SystemExit(f"{s.label}: {probes[s.label]['error']}")
        warnings = []
        names = [n for n in probes["head"]["scenarios"] if page_of(n) in pages]
        for n in names:
            if probes["head"]["scenarios"][n] != probes["base"]["scenarios"].get(n):
                warnings.append(f"scenario {n!r} differs between base and head (values or widget): "
                                "the two sides do not make the same changes")
        values = {n: len(probes["head"]["scenarios"][n]["values"]) for n in names}
        for n in [n for n in names if values[n] < 2]:  # nothing to change (a data set without visits?)
            warnings.append(f"scenario {n!r} has fewer than two values: not measured")
            names.remove(n)

        deadline = time.monotonic() + args.wait_quiet
        while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
            print(f"waiting for a quiet machine (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
            time.sleep(15)
        res: dict = {"date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                     "command": " ".join([".venv/bin/python", "bench/ab.py", *sys.argv[1:]]),
                     "machine": machine(), "loadavg_start": os.getloadavg(), "pages": pages,
                     "page_source": ", ".join(sorted({listed[s.label]["source"] for s in sides})),
                     "data": args.data, "warnings": warnings,
                     "kinds": {n: probes["head"]["scenarios"][n]["kind"] for n in names}}
        for s in sides:
            res[s.label] = {"spec": s.spec, "rev": s.rev, "code_sha": s.code_sha, "path": str(s.path)}
        res.update(measure(sides, names, values, args))
        res["loadavg_end"] = os.getloadavg()
        for s in sides:
            if code_fingerprint(s.path) != s.code_sha:
                res["warnings"].append(f"the code of {s.label} changed during the run")
    finally:
        for s in sides:
            s.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started
    rows, floor_rows = analyse(res, names, args)
    res["rows"], res["floor_rows"], res["elapsed_s"] = rows, floor_rows, elapsed
    report = build_report(res, rows, floor_rows, args, elapsed)
    print()
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
