"""The report of bench/run.py: the per-page summaries and every row, as Markdown (results.md).

``build_report`` takes what run.py collected (the dictionary also written to results.json).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.common import p95
from bench.scenarios import COLD_TARGET, DATA_LABELS, PROFILES, WARM_TARGET, floor_kind, page_of, page_path


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
                self.note(data_label, page_of(name), f"warm {cache} median", r_med, name)
                self.note(data_label, page_of(name), f"warm {cache} p95", r_p95, name)
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
                self.note(data_label, page_of(name), f"click {cache}", r_med, name)

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
