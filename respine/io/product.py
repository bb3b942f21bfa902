"""Reading and writing trials in the product's own layout.

A trial folder holds ``study.toml`` (design), ``subjects.csv``, ``measurements.csv`` and
``adverse_events.csv``; ``data/README.md`` is their dictionary. :func:`validate_folder` lists
every problem at once; :func:`load_trial` refuses to load when any of them is an error.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from respine.errors import DataError, Problem
from respine.io.files import (
    MAX_UPLOAD_BYTES,
    TABLE_SUFFIXES,
    DataFile,
    folder_files,
    read_table,
    text_of,
    unpack_archives,
)
from respine.model import design as S
from respine.model.endpoints import Endpoint, Mcid, Responder

if TYPE_CHECKING:
    from respine.io.mapping import ColumnMapping

STUDY_FILE = "study.toml"
SUBJECTS_FILE = "subjects.csv"
MEASUREMENTS_FILE = "measurements.csv"
AE_FILE = "adverse_events.csv"
DATA_ENV = "RESPINE_DATA"
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def default_data_path() -> Path:
    """The data folder used when none is given: ``$RESPINE_DATA`` or the shipped ``data/``."""
    return Path(os.environ.get(DATA_ENV) or REPO_DATA)


def _read_product_table(
    available: dict[str, DataFile], name: str, problems: list[Problem]
) -> pd.DataFrame | None:
    file = available.get(name)
    if file is None:
        problems.append(
            Problem(
                "error",
                name,
                "File not found. A trial in the product's layout needs "
                "study.toml, subjects.csv, measurements.csv and adverse_events.csv.",
            )
        )
        return None
    notes: list[str] = []
    try:
        frame = read_table(file, notes)
    except DataError as exc:
        problems.append(Problem("error", name, str(exc)))
        return None
    problems.extend(Problem("warning", name, n) for n in notes)
    return frame


def _endpoint_from_toml(endpoint_id: str, d: dict) -> Endpoint:
    """One ``[endpoints.<ID>]`` table: label, unit, kind, lower_is_better (omit when direction
    is not meaningful), range, description and, for a derived endpoint, ``derive`` (a
    ``responder`` rule over two ``components``, or an ``mcid`` with its ``source`` and
    ``threshold`` parameter)."""
    spec = d.get("derive")
    derivation: Responder | Mcid | None = None
    if spec is not None:
        how = spec.get("kind")
        if how == "responder":
            components = tuple(str(c) for c in spec.get("components", ()))
            if len(components) != 2:
                raise ValueError(f"endpoint {endpoint_id}: a responder rule reads two components, "
                                 f"got {list(components)}")
            derivation = Responder(*components)
        elif how == "mcid":
            derivation = Mcid(str(spec["source"]), str(spec["threshold"]))
        else:
            raise ValueError(f"endpoint {endpoint_id}: derive.kind must be 'responder' or 'mcid', "
                             f"got {how!r}")
    lower = d.get("lower_is_better")
    rng = d.get("range")
    kind = str(d.get("kind", "binary" if derivation is not None else "continuous"))
    if kind not in ("continuous", "binary"):
        raise ValueError(f"endpoint {endpoint_id}: kind must be 'continuous' or 'binary', got {kind!r}")
    return Endpoint(
        endpoint_id,
        str(d.get("label", endpoint_id)),
        str(d.get("unit", "")),
        kind,  # type: ignore[arg-type]
        None if lower is None else bool(lower),
        derivation,
        (float(rng[0]), float(rng[1])) if rng else None,
        str(d.get("description", "")),
    )


def endpoint_toml(e: Endpoint) -> str:
    """The ``[endpoints.<ID>]`` table of an endpoint's declaration, as TOML text (the inverse of
    what :func:`load_trial` reads from study.toml)."""
    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string

    lines = [f"[endpoints.{e.id}]", f"label = {text(e.label)}", f"unit = {text(e.unit)}",
             f"kind = {text(e.kind)}"]
    if e.lower_is_better is not None:
        lines.append(f"lower_is_better = {str(e.lower_is_better).lower()}")
    if e.value_range is not None:
        lines.append(f"range = [{e.value_range[0]:g}, {e.value_range[1]:g}]")
    if e.description:
        lines.append(f"description = {text(e.description)}")
    d = e.derivation
    if isinstance(d, Responder):
        lines.append(f'derive = {{ kind = "responder", components = [{text(d.first)}, {text(d.second)}] }}')
    elif isinstance(d, Mcid):
        lines.append(f'derive = {{ kind = "mcid", source = {text(d.source)}, '
                     f'threshold = {text(d.threshold)} }}')
    return "\n".join(lines) + "\n"


def _published_from_toml(doc: dict) -> S.PublishedFacts:
    pub = doc.get("published", {})
    claims = []
    for c in pub.get("no_difference", []):
        comparisons = tuple((str(e["endpoint"]), float(v)) for e in c.get("comparisons", [])
                            for v in e.get("visits", []))
        claims.append(S.NoDifferenceClaim(
            str(c.get("item", "Comparisons differing between arms")), comparisons,
            c.get("population"), float(c.get("alpha", 0.05)),
            str(c.get("continuous_method", "welch")), str(c.get("binary_method", "fisher"))))
    serious = pub.get("serious_related_events")
    return S.PublishedFacts(None if serious is None else int(serious), tuple(claims))


# The keys a study description may have, by table ("endpoints.*": each [endpoints.<ID>] table;
# None: any key, such as [groups] names). An unknown key is reported with the nearest known one,
# since a misspelt key ("refrence") would otherwise be ignored without a word.
STUDY_KEYS: dict[str, frozenset[str] | None] = {
    "": frozenset({"study", "arms", "visits", "endpoints", "populations", "covariates", "primary",
                   "published", "groups", "subgroups", "sections", "generator"}),
    "study": frozenset({"id", "title", "synthetic", "citation", "registration", "description",
                        "short_citation"}),
    "arms": frozenset({"order", "reference"}),
    "visits": frozenset({"number", "label"}),
    "endpoints": frozenset({"ids"}),
    "endpoints.*": frozenset({"label", "unit", "kind", "lower_is_better", "range", "description", "derive"}),
    "populations": frozenset({"id", "label", "column", "description", "default"}),
    "covariates": frozenset({"column", "label", "kind", "unit", "endpoint"}),
    "primary": frozenset({"endpoint", "visit", "population", "method", "missing", "published", "conclusion"}),
    "published": frozenset({"serious_related_events", "no_difference"}),
    "subgroups": frozenset({"default"}),
    "groups": None,
    "sections": None,
    "generator": None,
}
# Keys that must be there, and the type each key must have where a wrong type would be misread
# (``synthetic = "no"`` is a non-empty text, which Python reads as true).
STUDY_REQUIRED = {"visits": ("number", "label"), "populations": ("id", "column"), "covariates": ("column",),
                  "primary": ("endpoint", "visit", "population", "method")}
STUDY_TYPES: dict[tuple[str, str], type | tuple[type, ...]] = {
    ("study", "synthetic"): bool, ("endpoints.*", "lower_is_better"): bool, ("populations", "default"): bool,
    ("visits", "number"): (int, float), ("primary", "visit"): (int, float), ("visits", "label"): str,
    ("arms", "order"): list, ("arms", "reference"): str, ("populations", "id"): str,
    ("populations", "column"): str, ("covariates", "column"): str, ("primary", "endpoint"): str,
    ("primary", "population"): str, ("primary", "method"): str, ("endpoints", "ids"): list,
    ("endpoints.*", "range"): list, ("subgroups", "default"): list, ("endpoints.*", "derive"): dict,
    ("covariates", "kind"): str, ("endpoints.*", "kind"): str,
}
# What a list holds (and, for a range, how many): ``order = [1, 2]`` names no arm.
STUDY_ITEMS: dict[tuple[str, str], tuple[type | tuple[type, ...], int | None]] = {
    ("arms", "order"): (str, None), ("endpoints", "ids"): (str, None), ("subgroups", "default"): (str, None),
    ("endpoints.*", "range"): ((int, float), 2),
}
STUDY_CHOICES = {("covariates", "kind"): ("categorical", "continuous"),
                 ("endpoints.*", "kind"): ("continuous", "binary")}
_TYPE_WORDS = {bool: "true or false (without quotes)", str: "text in quotes", list: "a list [...]",
               dict: "a table { ... }"}


def _check_study_doc(doc: dict, problems: list[Problem]) -> None:
    """Unknown keys (a warning naming the nearest known key), missing required keys and values of
    the wrong type (errors saying what to write) in a parsed study description."""
    f = STUDY_FILE

    def entries(table: str) -> list[tuple[str, dict]]:
        value = doc.get(table)
        if table == "endpoints.*":
            tables = doc.get("endpoints", {}).items()
            return [(f"[endpoints.{k}]", v) for k, v in tables if isinstance(v, dict)]
        if isinstance(value, list):
            return [(f"[[{table}]] entry {i}", v) for i, v in enumerate(value, start=1)
                    if isinstance(v, dict)]
        if isinstance(value, dict):
            return [(f"[{table}]", value)]
        return []

    for key in ("visits", "populations", "covariates"):
        if key in doc and not (isinstance(doc[key], list) and all(isinstance(v, dict) for v in doc[key])):
            problems.append(Problem("error", f, f"'{key}' must be written as [[{key}]] tables, one per "
                                    "entry; compare with data/study.toml."))
    for key in ("study", "arms", "endpoints", "primary", "published", "subgroups", "groups"):
        if key in doc and not isinstance(doc[key], dict):
            problems.append(Problem("error", f, f"'{key}' must be a [{key}] table; compare with "
                                    "data/study.toml."))
    if any(p.severity == "error" for p in problems):
        return
    tables = [("", "the top level", doc), *((t, w, e) for t in STUDY_KEYS if t
                                           for w, e in entries(t))]
    for table, where, entry in tables:
        known = STUDY_KEYS[table]
        if known is None:
            continue
        extra = set(known) | (set(doc.get("endpoints", {})) if table == "endpoints" else set())
        for key in entry:
            if key in extra:
                continue
            near = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" Did you mean '{near[0]}'?" if near else f" Known keys: {', '.join(sorted(known))}."
            problems.append(Problem("warning", f, f"{where}: the key '{key}' is not known and is ignored."
                                    + hint))
        for key in STUDY_REQUIRED.get(table, ()):
            if key not in entry:
                problems.append(Problem("error", f, f"{where} has no '{key}'; every {where.split(' ')[0]} "
                                        f"needs one (compare with data/study.toml)."))
        for (t, key), kind in STUDY_TYPES.items():
            if t != table or key not in entry:
                continue
            value = entry[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
                word = "a number" if int in kinds else _TYPE_WORDS.get(kinds[0], kinds[0].__name__)
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str | int | float) else \
                    type(value).__name__
                fix = (f" Write {key} = {str(value.strip().lower() in ('yes', 'true', 'y', '1')).lower()}."
                       if bool in kinds and isinstance(value, str) else "")
                problems.append(Problem("error", f, f"{where}: {key} must be {word}, not {shown}.{fix}"))
                continue
            if (table, key) in STUDY_ITEMS:
                item, size = STUDY_ITEMS[(table, key)]
                items = item if isinstance(item, tuple) else (item,)
                listed = value if isinstance(value, list) else []
                wrong = [v for v in listed if isinstance(v, bool) or not isinstance(v, items)]
                word = "numbers" if int in items else "texts in quotes"
                if wrong or (size is not None and len(listed) != size):
                    count = f"{size} " if size else ""
                    problems.append(Problem("error", f, f"{where}: {key} must be a list of {count}{word}, "
                                            f"not {json.dumps(value, ensure_ascii=False)}."))
            if (table, key) in STUDY_CHOICES and value not in STUDY_CHOICES[(table, key)]:
                problems.append(Problem("error", f, f"{where}: {key} must be one of "
                                        f"{list(STUDY_CHOICES[(table, key)])}, not {json.dumps(value)}."))
    published = (doc.get("primary") or {}).get("published", {})
    for key, value in (published.items() if isinstance(published, dict) else ()):
        if isinstance(value, bool) or not isinstance(value, int | float):
            shown = json.dumps(value, ensure_ascii=False)
            problems.append(Problem("error", f, f"[primary.published] {key} must be a number (a rate as "
                                    f"0.74, a p-value, a count), not {shown}."))
        elif not (key == "p_value" or key.startswith(("rate ", "randomised "))):
            problems.append(Problem("warning", f, f"[primary.published] {key} is not a figure the paper page "
                                    "checks (p_value, rate <arm>, randomised <arm>); it is ignored."))
    for name, members in (doc.get("groups") or {}).items():
        if not (isinstance(members, list) and all(isinstance(m, str) for m in members)):
            problems.append(Problem("error", f, f"[groups] {name} must be a list of endpoint ids in quotes, "
                                    f"such as {name} = [\"VAS\", \"ODI\"]."))


def _design_from_toml(doc: dict) -> S.StudyDesign:
    study = doc.get("study", {})
    arms = doc.get("arms", {})
    visits = tuple(S.Visit(float(v["number"]), str(v["label"])) for v in doc.get("visits", []))
    pops = tuple(
        S.Population(p["id"], p.get("label", p["id"]), p["column"], p.get("description", ""))
        for p in doc.get("populations", [])
    )
    default_pop = next(
        (p["id"] for p in doc.get("populations", []) if p.get("default")), pops[0].id if pops else ""
    )
    covs = tuple(
        S.Covariate(c["column"], c.get("label", c["column"]), c.get("kind", "categorical"), c.get("unit", ""),
                    str(c.get("endpoint", "")))
        for c in doc.get("covariates", [])
    )
    endpoints = doc.get("endpoints", {})
    declared = {str(k): _endpoint_from_toml(str(k), v) for k, v in endpoints.items() if isinstance(v, dict)}
    prim = doc.get("primary")
    primary = None
    if prim:
        primary = S.PrimaryAnalysis(
            prim["endpoint"],
            float(prim["visit"]),
            prim["population"],
            prim["method"],
            prim.get("missing", "complete_case"),
            {k: float(v) for k, v in prim.get("published", {}).items()},
            str(prim.get("conclusion", "")),
        )
    return S.StudyDesign(
        id=str(study.get("id", "STUDY")),
        title=str(study.get("title", "")),
        arms=tuple(arms.get("order", [])),
        reference_arm=str(arms.get("reference", "")),
        visits=visits,
        endpoints=tuple(endpoints.get("ids", [])),
        populations=pops,
        default_population=default_pop,
        covariates=covs,
        primary=primary,
        synthetic=bool(study.get("synthetic", False)),
        citation=str(study.get("citation", "")),
        registration=str(study.get("registration", "")),
        description=str(study.get("description", "")),
        generator=dict(doc.get("generator", {})),
        endpoint_info=declared,
        groups={str(k): tuple(str(e) for e in v) for k, v in doc.get("groups", {}).items()},
        subgroup_defaults=tuple(str(c) for c in doc.get("subgroups", {}).get("default", [])),
        published=_published_from_toml(doc),
        short_citation=str(study.get("short_citation", "")),
        sections={str(k): {str(a): str(b) for a, b in v.items()} for k, v in doc.get("sections", {}).items()},
    )


def _check_design(design: S.StudyDesign, problems: list[Problem]) -> None:
    f = STUDY_FILE
    if len(design.arms) < 2:
        problems.append(Problem("error", f, "[arms] order must list at least two arms."))
    if design.reference_arm not in design.arms:
        problems.append(
            Problem(
                "error",
                f,
                f"[arms] reference '{design.reference_arm}' is not one of the arms {list(design.arms)}.",
            )
        )
    if not design.visits:
        problems.append(Problem("error", f, "No [[visits]] entries: list each visit's number and label."))
    numbers = [v.number for v in design.visits]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        repeated = ", ".join(f"{n:g} (" + " and ".join(v.label for v in design.visits if v.number == n) + ")"
                             for n in twice)
        problems.append(Problem("error", f, f"[[visits]] declares the visit number(s) {repeated} more than "
                                "once; give each visit its own number."))
    labels_seen = [v.label for v in design.visits]
    same_label = sorted({x for x in labels_seen if labels_seen.count(x) > 1})
    if same_label:
        problems.append(Problem("error", f, f"[[visits]] uses the label(s) {same_label} for more than one "
                                "visit number; give each visit its own label."))
    if design.visits and min(numbers) < 0:
        first = min(design.visits, key=lambda v: v.number)
        problems.append(Problem("warning", f, f"[[visits]] number {first.number:g} ({first.label}) is "
                                "negative. The lowest visit is the baseline every change is computed "
                                f"from, so here that is {first.label}; if baseline is another visit, "
                                "number it 0 and drop the visits before it (or number them from 0)."))
    pop_ids = [p.id for p in design.populations]
    prim = design.primary
    if prim is not None:
        if prim.population not in pop_ids:
            problems.append(Problem("error", f, f"[primary] population '{prim.population}' is not a declared "
                                    f"population; use one of {pop_ids} ([[populations]] id)."))
        if numbers and prim.visit not in numbers:
            problems.append(Problem("error", f, f"[primary] visit {prim.visit:g} is not a declared visit; "
                                    f"use one of {[f'{n:g}' for n in numbers]} ([[visits]] number)."))
    if not design.populations:
        problems.append(
            Problem(
                "error", f, "No [[populations]] entries: list at least one population with its flag column."
            )
        )
    listed = set(design.endpoints)
    for e in design.endpoint_info.values():
        missing = [src for src in e.derived_from if src not in listed]
        if missing:
            problems.append(Problem("error", f, f"[endpoints.{e.id}] is derived from {missing}, which "
                                    "[endpoints] ids does not list."))
    for name, members in design.groups.items():
        unknown = [m for m in members if m not in listed]
        if unknown:
            problems.append(Problem("warning", f, f"[groups] {name} names endpoints {unknown} that "
                                    "[endpoints] ids does not list; they are ignored."))
    covariates = {c.column for c in design.covariates}
    unknown = [c for c in design.subgroup_defaults if c not in covariates]
    if unknown:
        problems.append(Problem("warning", f, f"[subgroups] default names {unknown}, which are not "
                                "declared [[covariates]]; they are ignored."))


FLAG_YES = frozenset({"Y", "YES", "TRUE", "1", "1.0"})
FLAG_NO = frozenset({"N", "NO", "FALSE", "0", "0.0"})


def record_key(measurements: pd.DataFrame) -> list[str]:
    """The columns that identify one record: subject, endpoint, visit and, when the data have
    it, the record type (an observed and a derived record of the same visit are two records)."""
    key = [S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH]
    return [*key, S.RECORD_TYPE] if S.RECORD_TYPE in measurements.columns else key


def _flag_text(column: pd.Series) -> pd.Series:
    return column.map(lambda x: "" if pd.isna(x) else (f"{x:g}" if isinstance(x, float) else str(x)))


def _check_flag(subjects: pd.DataFrame, pop: S.Population, problems: list[Problem]) -> None:
    """A population flag holds Y or N (empty: not in the population)."""
    _check_flag_column(subjects, pop.column, f"Flag column for population '{pop.id}'",
                       "Y (in the population) or N (not in it)", problems)


def _check_flag_column(subjects: pd.DataFrame, column: str, what: str, meaning: str,
                       problems: list[Problem]) -> None:
    """A Y/N column of the subject table. Yes/No, true/false and 1/0 are read as Y/N with a
    warning; anything else is an error naming the values."""
    text = _flag_text(subjects[column]).str.strip().str.upper()
    values = set(text[text.ne("")])
    if values <= {"Y", "N"}:
        return
    other = sorted(values - FLAG_YES - FLAG_NO)
    if other:
        first = subjects.index[text.isin(other)][0]
        problems.append(Problem(
            "error", SUBJECTS_FILE, f"{what} holds {other}; a flag is {meaning}.",
            row=int(first) + 2, column=column))
        return
    written = sorted(set(_flag_text(subjects[column]).str.strip()) - {"Y", "N", ""})
    problems.append(Problem(
        "warning", SUBJECTS_FILE, f"{what} is written {written} rather than "
        "Y/N; it was read as Y/N (Yes, True, 1: Y). Write Y or N to avoid this note.",
        column=column))


def _check_tables(
    design: S.StudyDesign,
    subjects: pd.DataFrame,
    measurements: pd.DataFrame,
    ae: pd.DataFrame | None,
    problems: list[Problem],
) -> None:
    absent = [(SUBJECTS_FILE, c) for c in S.SUBJECT_REQUIRED if c not in subjects.columns]
    absent += [(MEASUREMENTS_FILE, c) for c in S.MEASUREMENT_REQUIRED if c not in measurements.columns]
    for name, col in absent:
        problems.append(Problem("error", name, "Required column is missing.", column=col))
    if absent:  # the checks below read these columns; an error in study.toml does not stop them
        return
    dup = subjects[S.SUBJECT_ID].duplicated(keep="first")
    for i in subjects.index[dup][:20]:
        problems.append(
            Problem(
                "error",
                SUBJECTS_FILE,
                f"Subject '{subjects.at[i, S.SUBJECT_ID]}' appears more than once; keep one row per subject.",
                row=int(i) + 2,
                column=S.SUBJECT_ID,
            )
        )
    if subjects[S.SUBJECT_ID].isna().any():
        problems.append(Problem("error", SUBJECTS_FILE, "Some subject ids are empty.", column=S.SUBJECT_ID))
    arm_text = subjects[S.ARM].astype(str).str.strip()
    blank = subjects[S.ARM].isna() | arm_text.eq("")
    if blank.any():
        problems.append(Problem(
            "error", SUBJECTS_FILE, f"{int(blank.sum())} subjects have no arm (first at this row); give "
            "each subject its arm, or remove subjects who were not randomised.",
            row=int(subjects.index[blank][0]) + 2, column=S.ARM))
    unknown_arms = sorted(set(arm_text[~blank]) - set(design.arms))
    if unknown_arms:
        by_case = {a.casefold(): a for a in design.arms}
        near = [f"'{a}' (declared as '{by_case[a.casefold()]}')" for a in unknown_arms
                if a.casefold() in by_case]
        problems.append(
            Problem(
                "error",
                SUBJECTS_FILE,
                f"Arms {unknown_arms} are not declared in study.toml [arms] order {list(design.arms)}."
                + (f" Arm names must match exactly: {', '.join(near)}." if near else
                   " Declare them there, or correct the arm in subjects.csv."),
                row=int(subjects.index[arm_text.isin(unknown_arms)][0]) + 2,
                column=S.ARM,
            )
        )
    present = set(subjects[S.ARM].dropna().astype(str))
    if len(present) < 2:
        problems.append(
            Problem(
                "error",
                SUBJECTS_FILE,
                "Fewer than two arms have subjects; a comparison needs at least two.",
                column=S.ARM,
            )
        )
    for pop in design.populations:
        if pop.column not in subjects.columns:
            problems.append(
                Problem(
                    "error",
                    SUBJECTS_FILE,
                    f"Flag column for population '{pop.id}' is missing (values Y/N).",
                    column=pop.column,
                )
            )
            continue
        _check_flag(subjects, pop, problems)
    if S.DIED in subjects.columns:
        _check_flag_column(subjects, S.DIED, f"The column '{S.DIED}'",
                           "Y (died during the study) or N (blank: no death recorded)", problems)
    measured = {str(e).lower() for e in measurements[S.ENDPOINT].unique()}
    for cov in design.covariates:
        # a baseline-value covariate is made from its endpoint (see derive.baseline_covariates)
        from_endpoint = cov.endpoint or (cov.column.startswith("baseline_")
                                         and cov.column.removeprefix("baseline_").lower() in measured)
        if cov.column not in subjects.columns and not from_endpoint:
            problems.append(Problem(
                "warning", STUDY_FILE, f"[[covariates]] column '{cov.column}' is not in subjects.csv, so it "
                "is not offered for filters, subgroups or adjustment; add the column or remove the "
                "declaration.", column=cov.column))
    primary = design.primary
    if primary is not None:
        in_data = set(measurements[S.ENDPOINT].astype(str))
        from respine.model.endpoints import endpoint_for

        needs = endpoint_for(primary.endpoint, design.endpoint_info).derived_from or (primary.endpoint,)
        if not set(needs) <= in_data:
            # a warning: the other analyses stand; the primary's pages say it cannot be run
            missing = sorted(set(needs) - in_data)
            source = (f"is derived from {missing}, which have" if missing != [primary.endpoint]
                      else "has")
            declared = "" if primary.endpoint in design.endpoint_info or needs != (primary.endpoint,) else (
                " If it is derived (a responder rule, an MCID), declare it in "
                f"[endpoints.{primary.endpoint}] with its derive = {{...}}.")
            problems.append(Problem(
                "warning", STUDY_FILE, f"[primary] endpoint '{primary.endpoint}' {source} no data in "
                f"measurements.csv (endpoints there: {', '.join(sorted(in_data))}), so the primary analysis "
                f"cannot be run; correct the endpoint id or the data.{declared}", column=S.ENDPOINT))
    orphans = ~measurements[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])
    if orphans.any():
        problems.append(
            Problem(
                "warning",
                MEASUREMENTS_FILE,
                f"{int(orphans.sum())} rows belong to subjects not in subjects.csv; they are ignored.",
                column=S.SUBJECT_ID,
            )
        )
    values = pd.to_numeric(measurements[S.VALUE], errors="coerce")
    bad = values.isna() & measurements[S.VALUE].notna()
    if bad.any():
        first = measurements.index[bad][0]
        texts = ", ".join(repr(t) for t in sorted(set(measurements.loc[bad, S.VALUE].astype(str)))[:5])
        problems.append(
            Problem(
                "error",
                MEASUREMENTS_FILE,
                f"{int(bad.sum())} values are not numbers (first at this row: "
                f"'{measurements.at[first, S.VALUE]}'; texts found: {texts}). "
                "Leave a missing value's cell empty (codes such as ND or n/a are not read as missing).",
                row=int(first) + 2,
                column=S.VALUE,
            )
        )
    given = measurements[S.VISIT_MONTH].notna() & measurements[S.VISIT_MONTH].astype(str).str.strip().ne("")
    text_visits = given & pd.to_numeric(measurements[S.VISIT_MONTH], errors="coerce").isna()
    if text_visits.any():
        first = measurements.index[text_visits][0]
        problems.append(Problem(
            "error", MEASUREMENTS_FILE, f"{int(text_visits.sum())} visit numbers are not numbers (first at "
            f"this row: '{measurements.at[first, S.VISIT_MONTH]}'); visit_month holds the visit's number "
            "as study.toml [[visits]] declares it (0, 1, 3, ...).", row=int(first) + 2,
            column=S.VISIT_MONTH))
    known_visits = {v.number for v in design.visits}
    months = pd.to_numeric(measurements[S.VISIT_MONTH], errors="coerce")
    unknown = ~months.isin(known_visits)
    if unknown.any():
        problems.append(
            Problem(
                "warning",
                MEASUREMENTS_FILE,
                f"{int(unknown.sum())} rows have visit "
                "numbers not listed in study.toml [[visits]]; they are ignored.",
                column=S.VISIT_MONTH,
            )
        )
    key = record_key(measurements)
    same = measurements.duplicated([*key, S.VALUE], keep="first")
    dups = measurements.duplicated(key, keep="first")
    if same.any():
        problems.append(
            Problem(
                "warning",
                MEASUREMENTS_FILE,
                f"{int(same.sum())} duplicate records (same subject, endpoint and visit); the first is kept.",
                row=int(measurements.index[same][0]) + 2,
            )
        )
    differing = dups & ~same
    if differing.any():
        i = measurements.index[differing][0]
        subject, endpoint, visit = (measurements.at[i, c] for c in (S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH))
        problems.append(Problem(
            "error", MEASUREMENTS_FILE,
            f"{int(differing.sum())} records repeat a subject, endpoint and visit with another value (first "
            f"at this row: subject {subject}, {endpoint} at visit {visit}). Keep one record per subject, "
            "endpoint and visit; a derived record (an average, a carried-forward value) needs its own "
            f"{S.RECORD_TYPE} (for example AVERAGE or LOCF), an observed one leaves it empty.",
            row=int(i) + 2))
    from respine.model.endpoints import endpoint_for

    in_data = set(measurements[S.ENDPOINT].astype(str))
    order = [*(e for e in design.endpoints if e in in_data), *sorted(in_data - set(design.endpoints))]
    ranges = ((e.id, e.value_range) for e in (endpoint_for(i, design.endpoint_info) for i in order)
              if e.value_range)
    for ep_id, lo_hi in ranges:
        sel = measurements[S.ENDPOINT] == ep_id
        out = sel & ((values < lo_hi[0]) | (values > lo_hi[1]))
        if out.any():
            problems.append(
                Problem(
                    "warning",
                    MEASUREMENTS_FILE,
                    f"{int(out.sum())} {ep_id} values lie outside {lo_hi[0]:g}-{lo_hi[1]:g}; check units.",
                    row=int(measurements.index[out][0]) + 2,
                    column=S.VALUE,
                )
            )
    if ae is not None:
        _check_adverse_events(ae, subjects, problems)


#: How adverse_events.csv may write a flag: yes, no, or blank for unknown (any case).
AE_FLAG_VALUES = {"Y": "Y", "YES": "Y", "N": "N", "NO": "N"}


def _check_adverse_events(ae: pd.DataFrame, subjects: pd.DataFrame, problems: list[Problem]) -> None:
    """adverse_events.csv: one row per event with subject_id, soc and term; each optional column
    of :data:`respine.model.design.AE_COLUMNS` it has is checked (flags Y/N or blank, grade 1-5,
    onset day a number); a column it lacks is not recorded and its safety rows are not shown."""
    required = [c for c in (S.SUBJECT_ID, S.AE_SOC, S.AE_TERM) if c not in ae.columns]
    if required:
        problems.append(Problem("error", AE_FILE, f"Required columns {required} are missing; every event "
                                "needs subject_id, soc (organ class) and term (preferred term)."))
        return

    def first_row(mask: pd.Series) -> int:
        return int(ae.index[mask.to_numpy()][0]) + 2

    for col in S.AE_FLAGS:
        if col not in ae.columns:
            continue
        text = ae[col].map(lambda v: "" if pd.isna(v) else str(v).strip().upper())
        bad = ~text.isin([*AE_FLAG_VALUES, ""])
        if bad.any():
            values = sorted(set(ae.loc[bad, col].astype(str)))[:5]
            problems.append(Problem("error", AE_FILE, f"{int(bad.sum())} values are neither Y nor N "
                                    f"({values}); write Y or N, or leave blank when not known.",
                                    row=first_row(bad), column=col))
    for col, lo, hi in (("grade", 1, 5), ("onset_day", -math.inf, math.inf)):
        if col not in ae.columns:
            continue
        number = pd.to_numeric(ae[col], errors="coerce")
        bad = (ae[col].notna() & number.isna()) | (number.notna() & ~number.between(lo, hi))
        if bad.any():
            what = "grades 1 to 5" if col == "grade" else "numbers (days)"
            problems.append(Problem("error", AE_FILE, f"{int(bad.sum())} values are not {what} (first: "
                                    f"'{ae.loc[bad, col].iloc[0]}'); correct them or leave them blank.",
                                    row=first_row(bad), column=col))
    if S.AE_EVENT_ID in ae.columns:
        dup = ae[S.AE_EVENT_ID].notna() & ae.duplicated([S.SUBJECT_ID, S.AE_EVENT_ID], keep="first")
        if dup.any():
            problems.append(Problem("error", AE_FILE, f"{int(dup.sum())} rows repeat an event id of the same "
                                    "subject; keep one row per event.", row=first_row(dup),
                                    column=S.AE_EVENT_ID))
    if subjects is not None and S.SUBJECT_ID in subjects.columns:
        unknown = ~ae[S.SUBJECT_ID].astype(str).isin(set(subjects[S.SUBJECT_ID].astype(str)))
        if unknown.any():
            problems.append(Problem("warning", AE_FILE, f"{int(unknown.sum())} events belong to subjects "
                                    "that are not in subjects.csv; they are not counted. Check the ids.",
                                    row=first_row(unknown), column=S.SUBJECT_ID))
    for col in (S.AE_SOC, S.AE_TERM):
        blank = ae[col].isna() | ae[col].astype(str).str.strip().eq("")
        if blank.any():
            problems.append(Problem("warning", AE_FILE, f"{int(blank.sum())} events have no {col}; they are "
                                    "shown as 'Not coded'.", row=first_row(blank), column=col))


def _adverse_event_table(ae: pd.DataFrame) -> pd.DataFrame:
    """adverse_events.csv in the contract's form (checked by :func:`_check_adverse_events`):
    flags as "Y"/"N" (missing when blank), ``event_id`` the file's own or its row number,
    blank organ classes and terms "Not coded", severity capitalised, ``related_product`` from
    ``relation`` (:data:`~respine.model.design.RELATED_VALUES`) when only the categories are
    given; the columns the file lacks stay absent."""
    out = ae.copy().reset_index(drop=True)
    out[S.SUBJECT_ID] = out[S.SUBJECT_ID].astype(str)
    rows = pd.Series([f"row {i + 2}" for i in range(len(out))], index=out.index, dtype=object)
    if S.AE_EVENT_ID in out.columns:
        out[S.AE_EVENT_ID] = out[S.AE_EVENT_ID].map(lambda v: None if pd.isna(v) else str(v)).fillna(rows)
    else:
        out[S.AE_EVENT_ID] = rows
    for col in (S.AE_SOC, S.AE_TERM):
        out[col] = out[col].map(lambda v: "Not coded" if pd.isna(v) or not str(v).strip() else str(v).strip())
    for col in S.AE_FLAGS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: None if pd.isna(v)
                                    else AE_FLAG_VALUES.get(str(v).strip().upper()))
    for col in S.AE_TEXT:
        if col in out.columns:
            out[col] = out[col].map(lambda v: None if pd.isna(v) or not str(v).strip() else str(v).strip())
    if "severity" in out.columns:
        out["severity"] = out["severity"].map(lambda v: v.capitalize() if isinstance(v, str) else None)
    if "relation" in out.columns and "related_product" not in out.columns:
        # the categories say it, by the same rule as ADaM's AEREL
        out["related_product"] = out["relation"].map(
            lambda v: None if pd.isna(v) else ("Y" if str(v).upper() in S.RELATED_VALUES else "N"))
    for col in S.AE_NUMBERS:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    known = [c for c in S.AE_COLUMNS if c in out.columns]
    return out[known + [c for c in out.columns if c not in known]]


def _with_undeclared_endpoints(
    design: S.StudyDesign, measurements: pd.DataFrame, problems: list[Problem]
) -> S.StudyDesign:
    """Entries for endpoints the data have but nobody declared, and a warning naming them.

    An endpoint in measurements.csv that the study description does not declare and that is not
    a known instrument is shown under its id, binary when every value is 0 or 1 (else
    continuous), with no direction of benefit. A listed endpoint with neither data nor a
    declaration (a derived endpoint of an older study file, which named it without its
    derivation) is not offered; the warning says how to declare it.
    """
    from respine.model.endpoints import REGISTRY

    known = set(design.endpoint_info) | set(REGISTRY)
    ids = measurements[S.ENDPOINT].astype(str)
    values = pd.to_numeric(measurements[S.VALUE], errors="coerce")
    in_data = list(dict.fromkeys(ids))
    info = dict(design.endpoint_info)
    undeclared = [e for e in in_data if e not in known]
    for e in undeclared:
        v = values[ids == e].dropna()
        kind = "binary" if len(v) and set(v.unique()) <= {0.0, 1.0} else "continuous"
        info[e] = Endpoint(e, e, "", kind, None,
                           description="Not declared in study.toml; its kind is read from the values.")
    if undeclared:
        problems.append(Problem(
            "warning", STUDY_FILE,
            f"Endpoints {undeclared} are not declared and are not known instruments: they are shown "
            "under their ids, as binary where every value is 0 or 1, with no direction of benefit. "
            "Declare each in an [endpoints.<ID>] table (label, unit, kind, lower_is_better); see "
            "data/README.md."))
    absent = [e for e in design.endpoints if e not in known and e not in in_data]
    if absent:
        problems.append(Problem(
            "warning", STUDY_FILE,
            f"Endpoints {absent} are listed in [endpoints] ids but have neither data nor a "
            "declaration, so they are not offered. A derived endpoint (a responder rule, an MCID) "
            "needs an [endpoints.<ID>] table with its derive = {...}; compare with data/study.toml."))
    if not undeclared:
        return design
    return replace(design, endpoint_info=info)


def validate_folder(path: str | os.PathLike, record_rule: str | None = None,
                    bds: tuple[str, ...] | None = None, sheet: str = "") -> list[Problem]:
    """List every problem of a trial folder (product layout, CDISC ADaM or a mapped table).

    ``record_rule`` and ``bds`` apply to an ADaM folder (see :func:`respine.io.adam.load_adam`);
    its rules applied, with their counts, are listed as "info" problems. ``sheet`` names the
    sheet of a mapped Excel table to read (see :func:`load_files`).
    """
    try:
        available = folder_files(Path(path))
    except DataError as exc:
        return [Problem("error", str(path), str(exc))]
    return load_files(available, str(path), record_rule=record_rule, bds=bds, sheet=sheet)[1]


def load_files(
    available: dict[str, DataFile],
    source: str,
    mapping: ColumnMapping | dict | None = None,
    reference: str | None = None,
    record_rule: str | None = None,
    bds: tuple[str, ...] | None = None,
    sheet: str = "",
) -> tuple[S.Trial | None, list[Problem]]:
    """Recognise the layout of a set of files and load it; never raises for bad input.

    ``sheet`` names the sheet of a mapped Excel table to read, in place of the mapping's own
    (the command line's ``--sheet``); the load report then says which sheet was read.

    Layouts, in this order: the product's own (``study.toml`` with ``subjects.csv``), CDISC
    ADaM (an ``adsl`` dataset, optionally with a ``study.toml`` of endpoint declarations; read
    by ``record_rule`` and ``bds``, see :func:`load_adam_files`), or any table with a column
    mapping (``mapping`` or a ``mapping.toml``/``.json`` among the files; see
    :mod:`respine.io.mapping`). A ZIP archive among the files is read as
    the files it holds, with a warning naming them.

    Returns
    -------
    (trial or None, problems)
        ``None`` when any problem is an error.
    """
    if not available:
        return None, [
            Problem(
                "error",
                "(no file)",
                "No data file was given. Upload study.toml with the "
                "CSV files, ADaM datasets (adsl and others), or a table with a mapping.",
            )
        ]
    total = sum(f.size for f in available.values())
    if total > MAX_UPLOAD_BYTES:
        return None, [
            Problem(
                "error",
                "(all files)",
                f"The files add up to {total / 2**20:.0f} MB, over the "
                f"{MAX_UPLOAD_BYTES / 2**20:.0f} MB limit. Remove datasets the explorer does not "
                "need (laboratory or vital-sign data, for instance).",
            )
        ]
    try:
        available, unpacked = unpack_archives(available, MAX_UPLOAD_BYTES)
    except DataError as exc:
        return None, [Problem("error", next(f.name for f in available.values() if f.suffix == ".zip"),
                              str(exc))]
    notes = [Problem("warning", archive, note) for archive, note in unpacked]
    trial, problems = _load_layout(available, source, mapping, reference, record_rule, bds, sheet)
    return trial, [*notes, *problems]


def _load_layout(
    available: dict[str, DataFile],
    source: str,
    mapping: ColumnMapping | dict | None,
    reference: str | None,
    record_rule: str | None = None,
    bds: tuple[str, ...] | None = None,
    sheet: str = "",
) -> tuple[S.Trial | None, list[Problem]]:
    """Recognise the layout of the (unpacked) files and load it (see :func:`load_files`)."""
    from respine.io import adam
    from respine.io import mapping as mapping_module

    if adam.is_adam(available) and SUBJECTS_FILE not in available:
        return load_adam_files(available, source, reference, record_rule, bds)
    if STUDY_FILE in available:
        return _read_product(available, source)
    doc = mapping
    for name in ("mapping.toml", "mapping.json"):
        if doc is None and name in available:
            try:
                doc = mapping_module.read_mapping(available[name])
            except DataError as exc:
                return None, [Problem("error", name, str(exc))]
    if doc is not None:
        if sheet:  # the sheet asked for replaces the mapping's
            try:
                doc = replace(doc if isinstance(doc, mapping_module.ColumnMapping)
                              else mapping_module.ColumnMapping.from_dict(doc),
                              sheet=sheet)
            except DataError as exc:
                return None, [Problem("error", "mapping", str(exc))]
        return mapping_module.load_mapped(available, doc, source)
    tables = [f.name for f in available.values() if f.suffix in TABLE_SUFFIXES]
    if len(available) == 1 and tables:  # one table alone: its own problems come first
        only = next(iter(available.values()))
        try:
            frame = read_table(only, sheet=sheet)
        except DataError as exc:
            return None, [Problem("error", only.name, str(exc))]
        if frame.empty:
            return None, [Problem("error", only.name, "The table has a header but no rows.")]
    return None, [
        Problem(
            "error",
            ", ".join(tables) or ", ".join(f.name for f in available.values()) or "(files)",
            "The layout was not recognised: there is "
            "no study.toml, no ADaM adsl dataset and no column mapping. Map the columns "
            "(subject, arm, visit, endpoint, value) on the Data page, or add study.toml"
            + (" (for a single table, put it in a folder with a mapping.toml and give the folder)."
               if len(available) == 1 else "."),
        )
    ]


def load_adam_files(available: dict[str, DataFile], source: str, reference: str | None = None,
                    record_rule: str | None = None, bds: tuple[str, ...] | None = None
                    ) -> tuple[S.Trial | None, list[Problem]]:
    """The ADaM branch of :func:`load_files`: the trial and every note of
    :func:`respine.io.adam.read_adam` (the record rule applied and its counts per dataset,
    subjects not analysed, text results, ...), errors first.

    A problem with no error among them is an "info" or a "warning": the study loads.
    """
    from respine.io import adam

    trial, notes = adam.read_adam(available, reference=reference, bds=bds, source=source,
                                  record_rule=record_rule)
    order = {"error": 0, "warning": 1, "info": 2}
    return trial, sorted(notes, key=lambda p: order[p.severity])


def _read_product(available: dict[str, DataFile], source: str) -> tuple[S.Trial | None, list[Problem]]:
    problems: list[Problem] = []
    design = None
    doc: dict | None = None
    try:
        text, _ = text_of(available[STUDY_FILE])
        doc = tomllib.loads(text)
    except DataError as exc:
        problems.append(Problem("error", STUDY_FILE, str(exc)))
    except tomllib.TOMLDecodeError as exc:
        problems.append(
            Problem("error", STUDY_FILE, f"Cannot be read ({exc}); compare it with data/study.toml.")
        )
    except RecursionError:  # [[[[...]]]] thousands deep: the parser gives up
        problems.append(Problem("error", STUDY_FILE, "Cannot be read: it is nested too deeply (lists or "
                                "tables inside one another thousands of levels deep); compare it with "
                                "data/study.toml."))
    if doc is not None and not doc:
        problems.append(Problem("error", STUDY_FILE, "The study description is empty. It declares the arms, "
                                "visits, endpoints and populations; start from a copy of data/study.toml."))
    elif doc is not None:
        _check_study_doc(doc, problems)
        if not any(p.severity == "error" for p in problems):
            try:
                design = _design_from_toml(doc)
                _check_design(design, problems)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                # a shape the checks above do not know (they cover every key the reader uses)
                problems.append(
                    Problem("error", STUDY_FILE, f"Cannot be read ({type(exc).__name__}: {exc}); compare it "
                            "with data/study.toml.")
                )
    subjects = _read_product_table(available, SUBJECTS_FILE, problems)
    measurements = _read_product_table(available, MEASUREMENTS_FILE, problems)
    ae = _read_product_table(available, AE_FILE, problems) if AE_FILE in available else None
    if design is None or subjects is None or measurements is None:
        return None, problems
    _check_tables(design, subjects, measurements, ae, problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    design = _with_undeclared_endpoints(design, measurements, problems)
    return _normalise(design, subjects, measurements, ae, source), problems


def _normalise(
    design: S.StudyDesign,
    subjects: pd.DataFrame,
    measurements: pd.DataFrame,
    ae: pd.DataFrame | None,
    source: str,
) -> S.Trial:
    subjects = subjects.copy()
    subjects[S.SUBJECT_ID] = subjects[S.SUBJECT_ID].astype(str)
    subjects[S.ARM] = subjects[S.ARM].astype(str)
    subjects = subjects.drop_duplicates(S.SUBJECT_ID).reset_index(drop=True)
    for pop in design.populations:  # Yes/No, 1/0 as Y/N (validation warned); empty stays empty
        if pop.column in subjects.columns:
            text = _flag_text(subjects[pop.column]).str.strip().str.upper()
            subjects[pop.column] = text.map(lambda t: "Y" if t in FLAG_YES else "N" if t in FLAG_NO else None)
    if S.DIED in subjects.columns:  # blank: no death recorded, as ADSL's DTHFL
        text = _flag_text(subjects[S.DIED]).str.strip().str.upper()
        subjects[S.DIED] = text.map(lambda t: "Y" if t in FLAG_YES else "N")
    # numpy dtypes in the core: nullable extension arrays are slower and surprise statsmodels.
    for col in subjects.columns:
        if pd.api.types.is_numeric_dtype(subjects[col]):
            subjects[col] = subjects[col].astype(float)
        else:
            subjects[col] = subjects[col].astype(object).where(subjects[col].notna(), None)
    m = measurements.copy()
    m[S.SUBJECT_ID] = m[S.SUBJECT_ID].astype(str)
    m[S.ENDPOINT] = m[S.ENDPOINT].astype(str)
    m[S.VISIT_MONTH] = pd.to_numeric(m[S.VISIT_MONTH], errors="coerce").astype(float)
    m[S.VALUE] = pd.to_numeric(m[S.VALUE], errors="coerce").astype(float)
    if S.RECORD_TYPE in m.columns:
        m[S.RECORD_TYPE] = m[S.RECORD_TYPE].fillna("").astype(str).str.strip().str.upper()
    else:
        m[S.RECORD_TYPE] = S.OBSERVED
    known = {v.number for v in design.visits}
    m = m[m[S.VISIT_MONTH].isin(known) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    m = m.drop_duplicates(record_key(m)).reset_index(drop=True)  # identical repeats (a warning said so)
    m[S.VISIT] = m[S.VISIT_MONTH].map(design.visit_label)
    events = S.no_adverse_events() if ae is None else _adverse_event_table(ae)
    return S.Trial(design=design, subjects=subjects, measurements=m, adverse_events=events, source=source,
                   adverse_events_recorded=ae is not None)


def load_trial(path: str | os.PathLike | None = None, sheet: str = "", record_rule: str | None = None,
               bds: tuple[str, ...] | None = None) -> S.Trial:
    """Load a trial folder: the product's layout, a CDISC ADaM study, or a mapped table.

    Parameters
    ----------
    path : path-like, optional
        Folder with study.toml and the CSV files, a CDISC ADaM folder (ADSL, BDS datasets,
        ADAE; see :mod:`respine.io.adam`), or a table with ``mapping.toml``; default
        :func:`default_data_path`.
    sheet : str
        The sheet of a mapped Excel table to read, in place of the mapping's (see
        :func:`load_files`).
    record_rule, bds : optional
        For an ADaM folder: how one record per subject, parameter and visit is chosen, and the
        BDS datasets to read (see :func:`respine.io.adam.load_adam`); ignored otherwise.

    Raises
    ------
    DataError
        When validation finds errors; the message lists each one.
    """
    return load_trial_reported(path, sheet, record_rule, bds)[0]


def load_trial_reported(path: str | os.PathLike | None = None, sheet: str = "",
                        record_rule: str | None = None,
                        bds: tuple[str, ...] | None = None) -> tuple[S.Trial, list[Problem]]:
    """:func:`load_trial`, with the load report's warnings and notes (which sheet of a workbook
    was read, the rules an ADaM reading applied, ...).

    Raises
    ------
    DataError
        As :func:`load_trial`.
    """
    folder = Path(path) if path is not None else default_data_path()
    trial, problems = load_files(folder_files(folder), str(folder), sheet=sheet, record_rule=record_rule,
                                 bds=bds)
    if trial is None:
        errors = [str(p) for p in problems if p.severity == "error"]
        raise DataError(f"The data in {folder} cannot be loaded:\n" + "\n".join(errors))
    return trial, problems

