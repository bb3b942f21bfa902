"""Time the statistical analyses at the published size (114 subjects) and at 10,000 subjects.

Run: ``.venv/bin/python bench/stats_bench.py [--repeats 3]``. Prints a Markdown table (median
seconds of ``--repeats`` cold calls: caches cleared before each) and writes it to
``bench/stats_results.md``. These are the costs of a first (uncached) view; the app caches every
result, so a repeated view costs only the rerun (see bench/run.py for warm-interaction ratios).
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from respine.analyses import repeated, robustness, subgroups  # noqa: E402
from respine.analyses.compare import analyze  # noqa: E402
from respine.io import load_trial, validate_folder  # noqa: E402
from respine.model.selection import Selection  # noqa: E402
from respine.synth import generate, write_twin  # noqa: E402

CASES: list[tuple[str, Callable]] = [
    ("load and validate", None),  # filled per trial below
    ("primary analysis (chi-square, Wilson, Newcombe)", lambda t: analyze(t, Selection("RESP", 12.0))),
    (
        "ANCOVA, VAS month 12 (+country)",
        lambda t: analyze(t, Selection("VAS", 12.0, method="ancova", covariates=("country",))),
    ),
    ("MMRM unstructured, Satterthwaite", lambda t: analyze(t, Selection("VAS", 12.0, method="mmrm"))),
    (
        "MMRM Toeplitz, Kenward-Roger",
        lambda t: analyze(
            t, Selection("VAS", 12.0, method="mmrm", covariance="toep", df_method="kenward-roger")
        ),
    ),
    *(
        (
            f"MMRM {label}, Satterthwaite, + type III",
            lambda t, cov=cov: repeated.mmrm_type3(t, Selection("VAS", 12.0, method="mmrm", covariance=cov)),
        )
        for cov, label in (
            ("csh", "heterogeneous CS"), ("toeph", "heterogeneous Toeplitz"), ("ar1h", "heterogeneous AR(1)"),
            ("ad", "ante-dependence"), ("adh", "heterogeneous ante-dependence"),
            ("sp_exp", "spatial exponential (months)"),
        )
    ),
    (
        "MMRM heterogeneous AR(1), Kenward-Roger, + type III",
        lambda t: repeated.mmrm_type3(
            t, Selection("VAS", 12.0, method="mmrm", covariance="ar1h", df_method="kenward-roger")
        ),
    ),
    (
        "MMRM unstructured per arm, Satterthwaite, + type III",
        lambda t: repeated.mmrm_type3(t, Selection("VAS", 12.0, method="mmrm", covariance_by="arm")),
    ),
    *(
        (
            f"MMRM unstructured, {label} SE, + type III",
            lambda t, v=v: repeated.mmrm_type3(t, Selection("VAS", 12.0, method="mmrm", vcov=v)),
        )
        for v, label in (
            ("empirical", "empirical (CR0)"), ("empirical-bias-reduced", "empirical (CR2)"),
            ("empirical-jackknife", "empirical (CR3)"),
        )
    ),
    (
        "MMRM under every covariance choice (40 fits, robustness)",
        lambda t: repeated.covariance_sensitivity(t, Selection("VAS", 12.0, method="mmrm")),
    ),
    ("Mann-Whitney / Hodges-Lehmann", lambda t: analyze(t, Selection("ODI", 12.0, method="mann_whitney"))),
    (
        "CMH stratified by country",
        lambda t: analyze(t, Selection("RESP", 12.0, method="cmh", covariates=("country",))),
    ),
    (
        "logistic adjusted (country, sex, age)",
        lambda t: analyze(
            t, Selection("RESP", 12.0, method="logistic", covariates=("country", "sex", "age"))
        ),
    ),
    ("GEE responders, all visits", lambda t: robustness.gee_over_visits(t, Selection("RESP"))),
    ("missing-data strategies (MI x50)", lambda t: robustness.sensitivity(t, Selection("RESP", 12.0))),
    ("tipping point (binary grid)", lambda t: robustness.tipping(t, Selection("RESP", 12.0))),
    (
        "reference-based MI, jump to reference (conditional mean, jackknife)",
        lambda t: robustness.reference_based(t, Selection("VAS", 12.0), strategy="JR"),
    ),
    (
        "reference-based MI, all four strategies (conditional mean, jackknife)",
        lambda t: robustness.reference_based(t, Selection("VAS", 12.0), strategy="all"),
    ),
    (
        "reference-based MI, jump to reference (approximate Bayesian, 20 draws)",
        lambda t: robustness.reference_based(t, Selection("VAS", 12.0), strategy="JR", method="approxbayes"),
    ),
    (
        "delta tipping point, jump to reference (21 deltas, jackknife)",
        lambda t: robustness.reference_based(
            t, Selection("VAS", 12.0), strategy="JR", deltas=tuple(float(d) for d in range(-20, 22, 2))
        ),
    ),
    ("estimand table", lambda t: robustness.estimand_table(t, Selection("VAS", 12.0))),
    ("Bayesian reading (3 priors)", lambda t: robustness.bayes_reading(t, Selection("RESP", 12.0))),
    ("multiplicity over visits", lambda t: robustness.multiplicity_over_visits(t, Selection("RESP"))),
    (
        "subgroups (6 covariates, logistic interactions)",
        lambda t: subgroups.subgroup_analysis(
            t, Selection("RESP", 12.0), ("sex", "age", "smoking", "country", "modic", "baseline_vas")
        ),
    ),
    (
        "exact: Clopper-Pearson, Miettinen-Nurminen, exact odds ratio",
        lambda t: analyze(t, Selection("RESP", 12.0, method="exact")),
    ),
    (
        "g-computation, Ye variance (country, sex, age)",
        lambda t: analyze(
            t, Selection("RESP", 12.0, method="gcomp_ye", covariates=("country", "sex", "age"))
        ),
    ),
    (
        "g-computation, Ge variance (country, sex, age)",
        lambda t: analyze(
            t, Selection("RESP", 12.0, method="gcomp_ge", covariates=("country", "sex", "age"))
        ),
    ),
    (
        "van Elteren stratified by country",
        lambda t: analyze(t, Selection("VAS", 12.0, method="van_elteren", covariates=("country",))),
    ),
    (
        "subgroup screening (11 covariates and pairs, 1000 re-labellings)",
        lambda t: __import__("respine.analyses.screening").analyses.screening.subgroup_screening(
            t, Selection("RESP", 12.0, measure="aval")
        ),
    ),
]


def timed(fn: Callable, repeats: int) -> float:
    """Median seconds of ``fn()``; ``fn`` is given a fresh copy of the trial each time, so every
    per-trial memo (:mod:`respine.memo`, keyed by the trial object) starts cold."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="time only the analyses whose name contains one of "
                        "these comma-separated texts (prints the rows; stats_results.md stays as it is)")
    args = parser.parse_args()
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    cases = [(n, f) for n, f in CASES if any(w in n.lower() for w in wanted)] if wanted else CASES
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        write_twin(generate(5000), big)
        folders = {"114 subjects": REPO / "data", "10,000 subjects": big}
        results: dict[str, dict[str, float]] = {}
        for size, folder in folders.items():
            trial = load_trial(folder)
            results[size] = {}
            for name, fn in cases:
                call = (
                    (lambda f=folder: (validate_folder(f), load_trial(f)))
                    if fn is None
                    else (lambda fn=fn, trial=trial: fn(copy.copy(trial)))
                )
                results[size][name] = timed(call, args.repeats)
                print(f"{size:>16} | {name:<50} | {results[size][name]:.3f} s", file=sys.stderr)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        f"Machine: {cpu}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}; "
        f"median of {args.repeats} cold runs (caches cleared), seconds.",
        "",
        "| analysis | 114 subjects | 10,000 subjects |",
        "|---|---:|---:|",
    ]
    for name, _ in cases:
        lines.append(
            f"| {name} | {results['114 subjects'][name]:.3f} | {results['10,000 subjects'][name]:.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.only:
        return
    (REPO / "bench" / "stats_results.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
