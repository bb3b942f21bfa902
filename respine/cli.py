"""Command line: ``respine analyze | validate | synth`` on the same core as the app.

Errors print one line to stderr and exit non-zero; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypedDict

from respine import __version__, derive
from respine.analyses import compare, repeated, robustness
from respine.analyses.compare import analyze
from respine.analyses.progress import DONE, ProgressCallback, Tracker, within
from respine.analyses.screening import screening_summary
from respine.errors import RespineError, SelectionError
from respine.io import validate_folder
from respine.io.adam import DEFAULT_RECORD_RULE, RECORD_RULES
from respine.model import design as S
from respine.model import matching
from respine.model.labels import endpoint_label, rule_modified
from respine.model.params import PARAMS, Param, ViewState, to_selection, with_values
from respine.model.selection import Selection, SubgroupFilter
from respine.present import labels, tables

EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_INTERNAL = 70  # EX_SOFTWARE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
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


# --- view parameters as command-line options (declared in respine.model.params) ---------------

# Catalogues of allowed values known before a trial is loaded, which argparse then enforces. The
# others (endpoints, populations, arms, methods, covariates) are checked by the core against the
# loaded trial, with a message that lists what the trial offers.
CLI_CHOICES: dict[str, tuple[str, ...]] = {"measures": tuple(sorted(derive.MEASURES))}
# Catalogues the help lists without argparse enforcing them: a method that does not apply to the
# endpoint's kind is refused by the core with a reason ("does not apply to binary endpoints").
CLI_LISTED: dict[str, tuple[str, ...]] = {"methods": tuple(compare.CONTINUOUS_METHODS),
                                          "binary_methods": tuple(compare.BINARY_METHODS)}
ROBUSTNESS_PARAMS = ("endpoint", "visit", "population", "filters", "reference", "arms", "pool")


class _Argument(TypedDict, total=False):
    """The keywords of ``add_argument`` a declaration sets (so mypy checks them against argparse)."""

    help: str | None
    required: bool
    action: str
    default: Any
    metavar: str
    type: Callable[[str], object]
    choices: list[str]


@dataclass(frozen=True)
class _CaseFolder:
    """argparse ``type`` of a flag with fixed choices: the choice spelt as declared, whatever the
    case typed (argparse then checks it against the choices and lists them if it is not one)."""

    allowed: tuple[str, ...]

    def __call__(self, text: str) -> str:
        return matching.fold_case(text, self.allowed)


def _cli_kwargs(p: Param, required: bool, default: object) -> _Argument:
    kwargs: _Argument = {"help": p.help or None}
    if required:
        kwargs["required"] = True
    if p.kind == "filters":
        kwargs.update({"action": "append", "default": [], "metavar": "COL=VALUE"})
        return kwargs
    if p.kind == "number":
        kwargs["type"] = float
    elif p.kind == "choice":
        allowed = p.choices if isinstance(p.choices, tuple) else CLI_CHOICES.get(p.choices or "")
        if allowed is not None:
            kwargs["choices"] = list(allowed)
            kwargs["type"] = _CaseFolder(tuple(allowed))  # --measure CHG, --responder-criteria vas: any case
    if not required:
        # "" means "the study's default" and () "none": no value on the command line either.
        kwargs["default"] = None if default in ("", ()) else default
    return kwargs


def add_view_options(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None, *,
                     required: tuple[str, ...] = (), defaults: dict[str, object] | None = None) -> None:
    """Add the command-line options of declared view parameters to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    names : tuple of str, optional
        The :class:`~respine.model.params.ViewState` fields to offer (default: every parameter
        with a flag).
    required : tuple of str
        Fields whose flag must be given.
    defaults : dict, optional
        Defaults of this command that differ from the view's.
    """
    defaults = defaults or {}
    seen: set[str] = set()
    for p in PARAMS:
        if p.cli is None or p.cli in seen or (names is not None and p.name not in names):
            continue
        seen.add(p.cli)  # a flag shared by two parameters (--method) is added once
        kwargs = _cli_kwargs(p, p.name in required, defaults.get(p.name, p.default))
        listed = [f"{q.endpoints}: {'|'.join(CLI_LISTED[q.choices])}" for q in PARAMS
                  if q.cli == p.cli and isinstance(q.choices, str) and q.choices in CLI_LISTED]
        kwargs["help"] = "; ".join(([p.help] if p.help else []) + listed) or None
        if p.name in defaults:
            kwargs["help"] = f"{p.help} (default {defaults[p.name]})"
        # older spellings (p.aliases) stay accepted; argparse lists them beside the flag
        parser.add_argument(p.cli, *p.aliases, dest=p.dest, **kwargs)


def study_names(trial: S.Trial) -> dict[str, tuple[str, ...]]:
    """The names a flag may take on ``trial``, by the :data:`~respine.model.params.Source` they
    come from: endpoints with data (derived ones too, such as a responder rule), population ids,
    arms and the declared covariates (filters, subgroups, adjustment); and the method catalogues."""
    from respine.analyses import availability

    d = trial.design
    return {"endpoints": tuple(availability.available_endpoints(trial)),
            "populations": tuple(p.id for p in d.populations),
            "arms": tuple(d.arms),
            "filter_columns": derive.covariate_columns(trial),
            "methods": tuple(compare.CONTINUOUS_METHODS),
            "binary_methods": tuple(compare.BINARY_METHODS)}


def population_aliases(design: S.StudyDesign) -> dict[str, str]:
    """Each population's other name: its flag as ADaM writes it (``EFFFL`` for the column
    ``pop_efffl`` the ADaM loader makes of ADSL.EFFFL), or the flag column of the product's
    layout, where it differs from the id."""
    out: dict[str, str] = {}
    ids = {p.id.casefold() for p in design.populations}
    for p in design.populations:
        flag = p.column.removeprefix("pop_").upper()
        if flag.casefold() not in ids:
            out.setdefault(flag, p.id)
    return out


# Catalogues fixed by the product, whose refusal the core words itself (a test that does not
# apply to the endpoint's kind): their case is corrected, nothing is refused here.
_CATALOGUES = ("methods", "binary_methods", "measures")
# Filters and adjustments use declared subject covariates only (a filter on the subject id
# would pick out named patients): the error says so and how to declare one.
COVARIATE_HINT = ("Only declared subject covariates can be used; to add one, declare it in the study "
                  "description ([[covariates]] in study.toml).")
_WHAT = {"endpoints": "endpoint", "populations": "population", "arms": "arm",
         "filter_columns": "covariate column"}


def _name(p: Param, text: str, trial: S.Trial, names: dict[str, tuple[str, ...]]) -> str:
    """One name given to ``p``'s flag, as the study spells it (any case; a population also by its
    flag); an unknown name raises an error that lists the valid ones."""
    source = p.choices if isinstance(p.choices, str) else None
    if source is None or source not in names:
        return text
    if source in _CATALOGUES:
        return matching.fold_case(text, names[source])
    aliases = population_aliases(trial.design) if source == "populations" else None
    what = "reference arm" if p.name == "reference" else _WHAT.get(source, source.rstrip("s"))
    return matching.match_name(text, names[source], what, aliases,
                               COVARIATE_HINT if source == "filter_columns" else "")


def _levels(trial: S.Trial, column: str) -> list[str]:
    """The levels a categorical filter on ``column`` can keep, in natural order."""
    return sorted(set(derive.as_levels(derive.subject_table(trial)[column].dropna())), key=derive.natural_key)


def _filter(text: str, trial: S.Trial, names: dict[str, tuple[str, ...]]) -> SubgroupFilter:
    """``--filter COL=VALUE``: the column and its levels in any case (a level the data do not
    have is kept as typed; :func:`check_filter_levels` refuses it)."""
    f = SubgroupFilter.parse(text)
    column = matching.match_name(f.column, names["filter_columns"], "filter column", hint=COVARIATE_HINT)
    if not f.values:
        return replace(f, column=column)
    levels = _levels(trial, column)
    return replace(f, column=column, values=tuple(matching.fold_case(v, levels) for v in f.values))


def check_filter_levels(trial: S.Trial, filters: tuple[SubgroupFilter, ...]) -> None:
    """Refuse a filter level the data do not have, listing the levels (rather than finding that no
    subject matches)."""
    for f in filters:
        levels = _levels(trial, f.column) if f.values else []
        for v in f.values:
            matching.match_name(v, levels, f"value of {f.column}")


def _from_cli(p: Param, raw: Any, trial: S.Trial) -> object:
    """The view's value of ``p`` from the text (or, for ``--filter``, the list of texts) given.

    Names are matched to the study's whatever their case (:mod:`respine.model.matching`), so an
    ADaM study's ``--population EFFFL``, ``--covariates SITEGR1`` and ``--filter sex=f`` work."""
    names = study_names(trial)
    if p.kind == "visit":
        return derive.resolve_visit(trial, str(raw))
    if p.kind == "names":
        return tuple(dict.fromkeys(_name(p, c.strip(), trial, names)
                                   for c in str(raw).split(p.sep) if c.strip()))
    if p.kind == "filters":
        return tuple(_filter(str(f), trial, names) for f in raw)
    if p.kind == "choice" and isinstance(raw, str):
        return _name(p, raw, trial, names)
    return raw  # argparse gave a number its float type


def view_from_args(args: argparse.Namespace, trial: S.Trial) -> ViewState:
    """The view the command line asks for: each declared parameter from its flag (if the command
    has it and it was given), the view's default otherwise."""
    values: dict[str, object] = {}
    for p in PARAMS:
        raw = getattr(args, p.dest, None) if p.dest else None
        if raw is not None:
            values[p.name] = _from_cli(p, raw, trial)
    return with_values(ViewState(), values)


def selection_from_args(args: argparse.Namespace, trial: S.Trial) -> Selection:
    """The analysis :class:`Selection` of a command line, derived as the app derives it."""
    view = view_from_args(args, trial)
    check_filter_levels(trial, view.filters)
    return to_selection(view, trial.endpoint(view.endpoint).kind)


def arms_view(study: S.Trial, sel: Selection) -> S.Trial:
    """The trial as the selection's arms show it (``--reference``, ``--arms``, ``--pool``), as the
    app reads them (:func:`respine.derive.arms.compared_trial`)."""
    from respine.derive.arms import compared_trial
    from respine.derive.directions import with_directions

    directed = with_directions(study, sel.lower_better, sel.higher_better)
    return compared_trial(directed, sel.reference, sel.arms, sel.pool)


def add_adam_options(parser: argparse.ArgumentParser) -> None:
    """How an ADaM folder is read: the same two options for every command that reads data."""
    parser.add_argument("--record-rule", choices=[r.id for r in RECORD_RULES], default=None,
                        help="ADaM: how one record per subject, parameter and visit is chosen; "
                             + "; ".join(f"{r.id}: {r.label}" for r in RECORD_RULES)
                             + f" (default {DEFAULT_RECORD_RULE})")
    parser.add_argument("--bds", default=None, metavar="NAME[,NAME]",
                        help="ADaM: the BDS datasets to read (e.g. adqsadas,advs); default every BDS "
                             "dataset except laboratory, vital-sign, ECG, exposure, PK and time-to-event "
                             "ones")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--data``, ``--sheet`` and the ADaM reading options (:func:`add_adam_options`)."""
    parser.add_argument("--data", help="trial folder (default: $RESPINE_DATA or the shipped twin)")
    parser.add_argument("--sheet", **SHEET_OPTION)
    add_adam_options(parser)


def _bds(args: argparse.Namespace) -> tuple[str, ...] | None:
    return tuple(n.strip() for n in args.bds.split(",") if n.strip()) if args.bds else None


SHEET_OPTION: _Argument = {
    "default": "", "metavar": "NAME",
    "help": "Excel: the sheet of the mapped workbook to read, in place of mapping.toml's sheet (default: "
            "the mapping's, else the first visible sheet); the command says which sheet it read"}


PROGRESS_OPTION: _Argument = {
    "action": "store_true",
    "help": "show progress on stderr (shown anyway when stderr is a terminal); stdout is unchanged"}
# The share of the robustness command's progress that loading the data takes (measured at 10,000
# subjects: about a fifth of the 14 s).
LOADED = 0.2


def _say(text: str) -> None:
    """One line on stderr; on a terminal it first clears a progress line being rewritten there."""
    print(("\r\033[K" if sys.stderr.isatty() else "") + text, file=sys.stderr)


def _progress(args: argparse.Namespace) -> ProgressCallback | None:
    """A progress line on stderr (``--progress``, or stderr a terminal), never on stdout; on a
    terminal one line rewritten in place, else one line per step."""
    tty = sys.stderr.isatty()
    if not (getattr(args, "progress", False) or tty):
        return None

    def show(fraction: float, step: str) -> None:
        line = f"respine {args.command}: {100 * fraction:3.0f}% {step}"
        sys.stderr.write(("\r\033[K" + line + ("\n" if step == DONE else "")) if tty else line + "\n")
        sys.stderr.flush()

    return show


def _sheet_read(problems: list[Any]) -> None:
    """Say on stderr which sheet of a workbook was read (the load report's note), so that the
    output of ``analyze`` and ``robustness`` stays the result alone."""
    for p in problems:
        if p.severity != "error" and "sheet" in p.message.lower() and " was read" in p.message:
            _say(f"respine: {p.message}")


def _load(args: argparse.Namespace) -> S.Trial:
    """The trial a command reads: ``--data`` (default $RESPINE_DATA or the twin) and ``--sheet``,
    read with ``--record-rule`` and ``--bds`` when it is an ADaM folder (see
    :func:`respine.io.load_trial`); the sheet read from a workbook is named on stderr."""
    from respine.io.product import load_trial_reported

    trial, problems = load_trial_reported(args.data, args.sheet, args.record_rule, _bds(args))
    _sheet_read(problems)
    return trial


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="respine", description="RESPINE results explorer: analyses from the command line.")
    p.add_argument("--version", action="version", version=f"respine {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = sub.add_parser("analyze", help="compare arms for one endpoint at one visit")
    add_data_options(a)
    add_view_options(a, required=("endpoint", "visit"))
    a.add_argument("--format", choices=["json", "text"], default="text")
    a.add_argument("--progress", **PROGRESS_OPTION)

    r = sub.add_parser("robustness", help="missing-data strategies, tipping point, Bayesian reading, "
                       "multiplicity and GEE for one endpoint at one visit")
    add_data_options(r)
    # No --endpoint: the study's primary endpoint (None here; resolved once the data are loaded).
    add_view_options(r, ROBUSTNESS_PARAMS, required=("visit",), defaults={"endpoint": ""})
    r.add_argument("--imputations", type=int, default=50, help="multiple imputations (default 50)")
    r.add_argument("--seed", type=int, default=2024, help="seed of the multiple imputation")
    r.add_argument("--threshold", type=float, default=0.10,
                   help="clinically relevant risk difference for the Bayesian reading (default 0.10)")
    r.add_argument("--screen", default=None, metavar="COV[,COV]|all",
                   help="subgroup screening: every subgroup of one or two of these declared covariates "
                        "('all': every covariate but the site) against a permutation chance band")
    r.add_argument("--covariance-sensitivity", action="store_true",
                   help="continuous endpoints: the MMRM contrast under every covariance structure, one "
                        "matrix and one per arm, model-based and empirical SEs (40 fits: about 1 s at "
                        "114 subjects, 8 s at 10,000)")
    r.add_argument("--permutations", type=int, default=1000,
                   help="re-labellings of the arms for the screening band (default 1000)")
    r.add_argument("--min-subgroup", type=int, default=20,
                   help="smallest subgroup screened, in subjects (default 20; at least 5 per arm)")
    r.add_argument("--reference-based", default="JR", choices=["MAR", "JR", "CR", "CIR", "all"],
                   help="continuous endpoints: reference-based multiple imputation strategy (MAR, JR jump "
                        "to reference, CR copy reference, CIR copy increments in reference, or all; "
                        "default JR)")
    r.add_argument("--ref-method", default="condmean", choices=["condmean", "approxbayes"],
                   help="reference-based MI method: conditional mean with jackknife (default) or "
                        "approximate Bayesian draws pooled with Rubin's rules (uses --imputations, --seed)")
    r.add_argument("--format", choices=["json", "text"], default="text")
    r.add_argument("--progress", **PROGRESS_OPTION)

    rep = sub.add_parser("report", help="write a static report of the primary and secondary endpoints")
    add_data_options(rep)
    rep.add_argument("--out", required=True, help="output file: .html (interactive, offline) or .docx")

    v = sub.add_parser("validate", help="check a trial folder and list every problem")
    v.add_argument("path", help="trial folder")
    v.add_argument("--sheet", **SHEET_OPTION)
    add_adam_options(v)

    s = sub.add_parser("synth", help="write a synthetic twin of RESPINE")
    s.add_argument("--n-per-arm", type=int, default=None,
                   help="subjects per arm (default: the published 58 BM-MSC and 56 sham)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the shipped twin's)")
    s.add_argument("--out", required=True, help="output folder")
    return p


def _analyze(args: argparse.Namespace) -> int:
    tracker = Tracker(("loading the data", "analysing"), _progress(args))
    tracker.start("loading the data")
    study = _load(args)
    sel = selection_from_args(args, study)  # names as the study spells them, arms included
    trial = arms_view(study, sel)
    tracker.start("analysing")
    result = analyze(trial, sel)
    type3 = repeated.mmrm_type3(trial, sel) if result.method == "mmrm" else None
    tracker.finish()
    if args.format == "json":
        out = result.to_dict()
        if type3 is not None:  # the MMRM's type III F test of each term
            out["type3"] = type3.to_dict("records")
        print(json.dumps(_nan_to_none(out), indent=2, default=_json_default))
        return 0
    banner = " [SYNTHETIC DATA]" if result.synthetic else ""
    print(f"{result.endpoint_label}, {result.visit_label}, population {result.population}{banner}")
    print(tables.arm_table(result).to_string(index=False))
    print()
    print(tables.contrast_table(result).to_string(index=False))
    if type3 is not None:
        print()
        print("Type III F tests")
        print(tables.type3_table(type3).to_string(index=False))
    direction = labels.result_direction_note(trial.endpoint(result.endpoint), result)
    if direction:  # which side of the contrast favours the treatment, from the registry
        print(direction)
    for note in result.notes:
        print(f"Note: {note}")
    print()
    print(result.methods_text)
    return 0


def _one_or_per_arm(items: list[Any]) -> object:
    """A robustness entry of one comparison as it is (a study of two arms), else the list of the
    entries, one per treatment arm (each names its arm)."""
    return items[0] if len(items) == 1 else items


def _robustness(args: argparse.Namespace) -> int:
    progress = _progress(args)
    if progress is not None:
        progress(0.0, "loading the data")
    study = _load(args)
    if args.endpoint is None:
        if study.design.primary is None:
            raise SelectionError("Give --endpoint: this study declares no primary analysis whose endpoint "
                                 "robustness would examine by default.")
        args.endpoint = study.design.primary.endpoint
    sel = selection_from_args(args, study)  # names as the study spells them, arms included
    trial = arms_view(study, sel)
    args.endpoint = sel.endpoint  # as the study spells it
    binary = trial.endpoint(sel.endpoint).kind == "binary"
    sel = sel.with_(measure="aval" if binary else "chg")
    # The tipping point and the Bayesian reading show one comparison each: one per treatment arm.
    arms = trial.design.treatment_arms
    report = robustness.robustness_report(trial, sel, args.imputations, args.seed, args.threshold,
                                          progress=within(progress, LOADED, 1.0))
    sens, tipping, mult = report["sensitivity"], report["tipping"], report["multiplicity"]
    ep = trial.endpoint(args.endpoint)
    out: dict[str, object] = {
        "endpoint": args.endpoint, "endpoint_label": endpoint_label(ep, sel.rule, trial.endpoint),
        "rule_modified": rule_modified(ep, sel.rule), "visit": trial.design.visit_label(sel.visit),
        "population": sel.population or trial.design.default_population,
        "sensitivity": sens.drop(columns=["methods_text"]).to_dict("records"),
        "tipping_point": _one_or_per_arm([
            {"arm": a, "reference": trial.design.reference_arm, "summary": summary, "cells": len(grid),
             "conclusion_changes_in": int(grid["changes_conclusion"].sum())}
            for a, (grid, summary) in tipping.items()]),
        "multiplicity_over_visits": mult.to_dict("records"),
        "estimands": robustness.estimand_table(trial, sel).to_dict("records"),
        "data": {"source": trial.source, "synthetic": trial.synthetic},
    }
    if not binary and not ep.is_derived:
        out["reference_based"] = [
            row for a in arms for row in robustness.reference_based(
                trial, sel, args.reference_based, args.ref_method, args.imputations, args.seed, arm=a
            ).to_dict("records")]
    if binary:
        bayes = report["bayes"]
        priors = {a: [{"prior": b.prior, "prior_description": b.prior_description, "mean": b.mean,
                       "ci_low": b.ci_low, "ci_high": b.ci_high, "p_benefit": b.p_positive,
                       "threshold": b.threshold, "p_above_threshold": b.p_threshold} for b in posts]
                  for a, posts in bayes.items()}
        # two arms: the list of priors, as always; more: one entry per arm, its priors inside
        out["bayes"] = (priors[arms[0]] if len(arms) == 1 else
                        [{"arm": a, "reference": trial.design.reference_arm, "priors": p}
                         for a, p in priors.items()])
        out["gee"] = report["gee"].to_dict("records")
    screens = _screening(args, trial, sel)
    if screens:
        out["subgroup_screening"] = _one_or_per_arm([s.to_dict() for s in screens])
    covariances = None
    if args.covariance_sensitivity and not binary:  # the MMRM under every covariance choice
        covariances = repeated.covariance_sensitivity(trial, sel)
        out["mmrm_covariance"] = covariances.to_dict("records")
    if args.format == "json":
        print(json.dumps(_nan_to_none(out), indent=2, default=_json_default))
        return 0
    print(f"Robustness of {out['endpoint_label']}, {out['visit']}"
          + (" [SYNTHETIC DATA]" if trial.synthetic else ""))
    print(tables.sensitivity_display(sens).drop(columns=["Note"]).to_string(index=False))
    for a, (_, summary) in tipping.items():
        which = f" ({a} vs {trial.design.reference_arm})" if len(arms) > 1 else ""
        print(f"\nTipping point{which}: {summary}")
    if binary:
        for a, posts in bayes.items():
            print(f"\nBayesian reading, {a} vs {trial.design.reference_arm}" if len(arms) > 1 else "")
            shown = tables.bayes_display(posts, trial.endpoint(args.endpoint))
            print(shown.drop(columns=["Prior, in words"]).to_string(index=False))
    print()
    print(tables.multiplicity_display(mult).to_string(index=False))
    for screen in screens:
        print(f"\nSubgroup screening, {screen.arm} vs {screen.reference}: {screening_summary(screen)}")
        print(tables.screening_display(screen, top=10).to_string(index=False))
    if covariances is not None:
        print("\nMMRM under each covariance structure")
        print(tables.covariance_sensitivity_display(covariances).to_string(index=False))
    return 0


def _screening(args: argparse.Namespace, trial: S.Trial, sel: Selection) -> list[Any]:
    """``--screen``: the subgroup screening of each treatment arm (empty without the option)."""
    from respine.analyses.screening import subgroup_screening

    if args.screen is None:
        return []
    names = study_names(trial)["filter_columns"]
    given = [c.strip() for c in args.screen.split(",") if c.strip()]
    if given == ["all"]:
        variables: tuple[str, ...] = ()
    else:
        variables = tuple(matching.match_name(c, names, "covariate", hint=COVARIATE_HINT) for c in given)
    return [subgroup_screening(trial, sel, variables, min_size=args.min_subgroup,
                               permutations=args.permutations, arm=a) for a in trial.design.treatment_arms]


def _report(args: argparse.Namespace) -> int:
    from respine.present.report import render_docx, render_html, static_report

    trial = _load(args)
    items = static_report(trial)
    title = f"{trial.design.id} results report"
    provenance = f"{trial.design.title or trial.design.id}, source {trial.source}"
    out = Path(args.out)
    if out.suffix.lower() == ".docx":
        out.write_bytes(render_docx(items, title, provenance, trial.synthetic,
                                    notice=labels.synthetic_notice(trial.design)))
    else:
        out.write_text(render_html(items, title, provenance, trial.synthetic,
                                   notice=labels.synthetic_notice(trial.design)), encoding="utf-8")
    print(f"{out}: {len(items)} sections" + (" (synthetic data)" if trial.synthetic else ""))
    return 0


def _validate(args: argparse.Namespace) -> int:
    problems = validate_folder(args.path, record_rule=args.record_rule, bds=_bds(args), sheet=args.sheet)
    for p in problems:
        print(str(p))
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    notes = sum(p.severity == "info" for p in problems)  # the rules applied (ADaM), with counts
    print(f"{errors} errors, {warnings} warnings{f', {notes} notes' if notes else ''} in {args.path}")
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
        _say(f"respine: {str(exc).splitlines()[0] if args.command != 'analyze' else exc}")
        return EXIT_DATA
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        return 0
    except (OSError, RuntimeError) as exc:
        _say(f"respine: {exc}")
        return EXIT_DATA
    except Exception as exc:  # a bug: one line for the user, not a traceback
        _say(f"respine: internal error ({type(exc).__name__}: {exc}). Please report it with the "
             "command you ran.")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
