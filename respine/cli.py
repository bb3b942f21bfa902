"""Command line: ``respine analyze | validate | synth`` on the same core as the app.

Errors print one line to stderr and exit non-zero; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from respine import derive
from respine.analyses import robustness
from respine.analyses.compare import analyze
from respine.errors import RespineError
from respine.io import load_trial, validate_folder
from respine.model.rules import ResponderRule
from respine.model.selection import Selection, SubgroupFilter
from respine.present import tables

EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"respine: {message} (see 'respine {self.prog.split()[-1]} --help')\n")


def _json_default(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"Cannot serialise {type(value).__name__}")


def _nan_to_none(obj: object) -> object:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="respine", description="RESPINE results explorer: analyses from the command line.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = sub.add_parser("analyze", help="compare arms for one endpoint at one visit")
    a.add_argument("--endpoint", required=True, help="endpoint id, e.g. RESP, VAS, ODI")
    a.add_argument("--visit", required=True, help='visit label ("Month 12") or number (12)')
    a.add_argument("--data", help="trial folder (default: $RESPINE_DATA or the shipped twin)")
    a.add_argument("--method", help="continuous: welch|ancova|mmrm|mann_whitney; "
                   "binary: chisq_yates|chisq|fisher|cmh|logistic")
    a.add_argument("--covariance", default="us", choices=["us", "cs", "ar1", "toep"],
                   help="MMRM within-subject covariance (default unstructured)")
    a.add_argument("--df", default="satterthwaite", choices=["satterthwaite", "kenward-roger"],
                   help="MMRM degrees of freedom")
    a.add_argument("--lsmeans-weights", default="observed", choices=["observed", "equal"],
                   help="ANCOVA LS means: observed proportions or equal weights of covariate levels")
    a.add_argument("--measure", choices=sorted(derive.MEASURES), default="chg",
                   help="continuous endpoints: chg (default), pchg or aval")
    a.add_argument("--population", help="population id, e.g. MITT, PP, SAFETY, RANDOMISED")
    a.add_argument("--covariates", default="", help="extra ANCOVA covariates, comma-separated")
    a.add_argument("--reference", help="reference arm (default: the study's)")
    a.add_argument("--filter", action="append", default=[], metavar="COL=VALUE",
                   help="subgroup filter: COL=A, COL=A|B or COL=LOW..HIGH (repeatable)")
    a.add_argument("--vas-pct", type=float, default=20.0, help="responder: VAS relative threshold (%%)")
    a.add_argument("--vas-mm", type=float, default=20.0, help="responder: VAS absolute threshold (mm)")
    a.add_argument("--vas-join", choices=["AND", "OR"], default="AND")
    a.add_argument("--odi-pct", type=float, default=20.0, help="responder: ODI relative threshold (%%)")
    a.add_argument("--join", choices=["AND", "OR"], default="OR", help="responder: VAS vs ODI join")
    a.add_argument("--mcid-vas", type=float, default=15.0, help="MCID for VAS (mm)")
    a.add_argument("--mcid-odi", type=float, default=10.0, help="MCID for ODI (points)")
    a.add_argument("--format", choices=["json", "text"], default="text")

    r = sub.add_parser("robustness", help="missing-data strategies, tipping point, Bayesian reading, "
                       "multiplicity and GEE for one endpoint at one visit")
    r.add_argument("--endpoint", default="RESP", help="endpoint id (default RESP)")
    r.add_argument("--visit", required=True, help='visit label ("Month 12") or number (12)')
    r.add_argument("--data", help="trial folder (default: $RESPINE_DATA or the shipped twin)")
    r.add_argument("--population", help="population id")
    r.add_argument("--filter", action="append", default=[], metavar="COL=VALUE")
    r.add_argument("--imputations", type=int, default=50, help="multiple imputations (default 50)")
    r.add_argument("--seed", type=int, default=2024, help="seed of the multiple imputation")
    r.add_argument("--threshold", type=float, default=0.10,
                   help="clinically relevant risk difference for the Bayesian reading (default 0.10)")
    r.add_argument("--format", choices=["json", "text"], default="text")

    rep = sub.add_parser("report", help="write a static report of the primary and secondary endpoints")
    rep.add_argument("--data", help="trial folder (default: $RESPINE_DATA or the shipped twin)")
    rep.add_argument("--out", required=True, help="output file: .html (interactive, offline) or .docx")

    v = sub.add_parser("validate", help="check a trial folder and list every problem")
    v.add_argument("path", help="trial folder")

    s = sub.add_parser("synth", help="write a synthetic twin of RESPINE")
    s.add_argument("--n-per-arm", type=int, default=None,
                   help="subjects per arm (default: the published 58 BM-MSC and 56 sham)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the shipped twin's)")
    s.add_argument("--out", required=True, help="output folder")
    return p


def _analyze(args: argparse.Namespace) -> int:
    trial = load_trial(args.data)
    visit = derive.resolve_visit(trial, args.visit)
    sel = Selection(
        endpoint=args.endpoint, visit=visit, population=args.population, measure=args.measure,
        method=args.method,
        filters=tuple(SubgroupFilter.parse(f) for f in args.filter),
        rule=ResponderRule(args.vas_pct, args.vas_mm, args.vas_join, args.odi_pct, 0.0, args.join),
        mcid_vas=args.mcid_vas, mcid_odi=args.mcid_odi,
        covariates=tuple(c.strip() for c in args.covariates.split(",") if c.strip()),
        reference=args.reference, covariance=args.covariance, df_method=args.df,
        lsmeans_weights=args.lsmeans_weights)
    result = analyze(trial, sel)
    if args.format == "json":
        print(json.dumps(_nan_to_none(result.to_dict()), indent=2, default=_json_default))
        return 0
    banner = " [SYNTHETIC DATA]" if result.synthetic else ""
    print(f"{result.endpoint_label}, {result.visit_label}, population {result.population}{banner}")
    print(tables.arm_table(result).to_string(index=False))
    print()
    print(tables.contrast_table(result).to_string(index=False))
    for note in result.notes:
        print(f"Note: {note}")
    print()
    print(result.methods_text)
    return 0


def _robustness(args: argparse.Namespace) -> int:
    pass

    trial = load_trial(args.data)
    binary = trial.endpoint(args.endpoint).kind == "binary"
    sel = Selection(endpoint=args.endpoint, visit=derive.resolve_visit(trial, args.visit),
                    population=args.population, measure="aval" if binary else "chg",
                    filters=tuple(SubgroupFilter.parse(f) for f in args.filter))
    sens = robustness.sensitivity(trial, sel, args.imputations, args.seed)
    grid, summary = robustness.tipping(trial, sel, args.imputations, args.seed)
    mult = robustness.multiplicity_over_visits(trial, sel)
    out: dict[str, object] = {
        "endpoint": args.endpoint, "visit": trial.design.visit_label(sel.visit),
        "population": sel.population or trial.design.default_population,
        "sensitivity": sens.drop(columns=["methods_text"]).to_dict("records"),
        "tipping_point": {"summary": summary, "cells": len(grid),
                          "conclusion_changes_in": int(grid["changes_conclusion"].sum())},
        "multiplicity_over_visits": mult.to_dict("records"),
        "data": {"source": trial.source, "synthetic": trial.synthetic},
    }
    if binary:
        out["bayes"] = [{"prior": b.prior, "prior_description": b.prior_description, "mean": b.mean,
                         "ci_low": b.ci_low, "ci_high": b.ci_high, "p_benefit": b.p_positive,
                         "threshold": b.threshold, "p_above_threshold": b.p_threshold}
                        for b in robustness.bayes_reading(trial, sel, args.threshold)]
        out["gee"] = robustness.gee_over_visits(trial, sel).to_dict("records")
    if args.format == "json":
        print(json.dumps(_nan_to_none(out), indent=2, default=_json_default))
        return 0
    print(f"Robustness of {trial.endpoint(args.endpoint).label}, {out['visit']}"
          + (" [SYNTHETIC DATA]" if trial.synthetic else ""))
    print(tables.sensitivity_display(sens).drop(columns=["Note"]).to_string(index=False))
    print(f"\nTipping point: {summary}")
    if binary:
        print()
        bayes = tables.bayes_display(robustness.bayes_reading(trial, sel, args.threshold))
        print(bayes.drop(columns=["Prior, in words"]).to_string(index=False))
    print()
    print(tables.multiplicity_display(mult).to_string(index=False))
    return 0


def _report(args: argparse.Namespace) -> int:
    from respine.present.report import render_docx, render_html, static_report

    trial = load_trial(args.data)
    items = static_report(trial)
    title = f"{trial.design.id} results report"
    provenance = f"{trial.design.title or trial.design.id}, source {trial.source}"
    out = Path(args.out)
    if out.suffix.lower() == ".docx":
        out.write_bytes(render_docx(items, title, provenance, trial.synthetic))
    else:
        out.write_text(render_html(items, title, provenance, trial.synthetic), encoding="utf-8")
    print(f"{out}: {len(items)} sections" + (" (synthetic data)" if trial.synthetic else ""))
    return 0


def _validate(args: argparse.Namespace) -> int:
    problems = validate_folder(args.path)
    for p in problems:
        print(str(p))
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"{errors} errors, {warnings} warnings in {args.path}")
    return EXIT_DATA if errors else 0


def _synth(args: argparse.Namespace) -> int:
    from respine.synth import DEFAULT_SEED, generate, write_twin

    twin = generate(args.n_per_arm, DEFAULT_SEED if args.seed is None else args.seed)
    for path in write_twin(twin, Path(args.out)):
        print(path)
    sizes = ", ".join(f"{a} {n}" for a, n in twin.n_per_arm.items())
    print(f"Synthetic twin written: {sizes}; seed {twin.seed}, attempt {twin.attempt}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"analyze": _analyze, "robustness": _robustness, "report": _report, "validate": _validate,
                    "synth": _synth}
        return commands[args.command](args)
    except RespineError as exc:
        print(f"respine: {str(exc).splitlines()[0] if args.command != 'analyze' else exc}",
              file=sys.stderr)
        return EXIT_DATA
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        return 0
    except (OSError, RuntimeError) as exc:
        print(f"respine: {exc}", file=sys.stderr)
        return EXIT_DATA
    except Exception as exc:  # a bug: one line for the user, not a traceback
        print(f"respine: internal error ({type(exc).__name__}: {exc}). Please report it with the "
              "command you ran.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
