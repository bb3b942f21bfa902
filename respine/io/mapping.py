"""Non-standard tables: a column mapping turns any long or wide table into a trial.

A mapping says which column is the subject id, the arm, and either the visit with the endpoint
and value columns (long format), the visit with a list of endpoint columns (wide by endpoint), or
the columns that each hold one visit of an endpoint (wide by visit: one row per subject, such as
``pid, group, pain_base, pain_m3, pain_m12``), named one by one with their visits or by a pattern
such as ``pain_m{month}``; a table wide by visit is reshaped to the long format, with a note
saying how many rows were made. It is saved as a small ``mapping.toml`` beside the table, so the
command line and a hosted deployment read it and nobody maps twice::

    [mapping]
    table = "trial.csv"
    sheet = ""                  # Excel: the sheet to read (default: the first visible one)
    subject = "patient"
    arm = "group"
    visit = "visit"             # labels; numbers in them ("Week 4") give the order
    visit_number = ""           # optional numeric column for the order
    endpoint = "param"          # long format ...
    value = "result"
    endpoints = []              # ... or wide by endpoint: one column per endpoint
    visit_columns = []          # ... or wide by visit (no visit column): the columns of each visit
    visit_values = []           #     and their visits, in the same order ("Baseline", "Month 3")
    visit_pattern = ""          #     or a pattern: "pain_m{month}", "{endpoint}_w{week}", "pain_{visit}"
    endpoint_name = ""          #     the endpoint they measure (default: the columns' common prefix)
    populations = ["itt"]       # Y/N flag columns
    covariates = ["sex", "age"]
    reference = "Placebo"
    study = "My study"
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import pandas as pd

from respine.errors import DataError
from respine.io.files import TABLE_SUFFIXES, DataFile, excel_sheets_text, read_table, text_of
from respine.model import design as S

ROLES = ("subject", "arm", "visit", "visit_number", "endpoint", "value")
GUESSES = {
    "subject": ("usubjid", "subject_id", "subject", "subjid", "patient", "patient_id", "id", "pid"),
    "arm": ("arm", "trt01p", "trtp", "treatment", "group", "trt", "randomisation", "randomization"),
    "visit": ("avisit", "visit", "visit_label", "timepoint", "time", "week", "month"),
    "visit_number": ("avisitn", "visitnum", "visit_number", "visit_month", "week_number"),
    "endpoint": ("paramcd", "endpoint", "parameter", "param", "test", "measure"),
    "value": ("aval", "value", "result", "score", "response"),
}
REFERENCE_NAME = re.compile(r"placebo|sham|vehicle|control", re.IGNORECASE)
MAX_REPORTED = 20


@dataclass(frozen=True)
class ColumnMapping:
    """Which column plays which role. Empty strings mean "not used".

    A table wide by visit (:attr:`wide_by_visit`) names its visit columns in ``visit_columns``
    with their visits in ``visit_values`` (labels; a number in a label gives the visit's order,
    "Baseline" is 0), or by ``visit_pattern``, a column name with one visit placeholder:
    ``{month}``, ``{week}`` or ``{day}`` (a number; the visit is labelled "Month 3", and 0
    "Baseline") or ``{visit}`` (the text as written), and optionally ``{endpoint}`` (the endpoint
    id). Columns named both ways take their visit from ``visit_values``.
    """

    table: str = ""
    sheet: str = ""
    subject: str = ""
    arm: str = ""
    visit: str = ""
    visit_number: str = ""
    endpoint: str = ""
    value: str = ""
    endpoints: tuple[str, ...] = ()
    visit_columns: tuple[str, ...] = ()
    visit_values: tuple[str, ...] = ()
    visit_pattern: str = ""
    endpoint_name: str = ""
    populations: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    reference: str = ""
    study: str = "Study"
    notes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_dict(cls, doc: dict) -> ColumnMapping:
        body = doc.get("mapping", doc) if isinstance(doc, dict) else doc
        if not isinstance(body, dict):
            raise DataError("The mapping must be a table of keys ([mapping] with table = \"...\", "
                            f"subject = \"...\", ...), not {type(body).__name__}.")
        known = {f.name: f for f in fields(cls) if f.name != "notes"}
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise DataError(f"Mapping keys {unknown} are not known; use {sorted(known)}.")
        values: dict[str, object] = {}
        for key, value in body.items():
            if isinstance(known[key].default, tuple):  # a list of column names
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise DataError(f"Mapping key '{key}' must be a list of column names in quotes, "
                                    f"such as {key} = [\"a\", \"b\"]; got {value!r}.")
                values[key] = tuple(value)
            elif not isinstance(value, str):
                raise DataError(f"Mapping key '{key}' must be text in quotes (a file or column name), "
                                f"such as {key} = \"name\"; got {value!r}.")
            else:
                values[key] = value
        return cls(**values)

    @property
    def wide_by_visit(self) -> bool:
        """Whether the table holds one column per visit (one row per subject)."""
        return bool(self.visit_columns or self.visit_pattern)

    def to_toml(self) -> str:
        lines = ["# Column mapping for the RESPINE results explorer (respine.io.mapping).", "[mapping]"]
        for key, value in asdict(self).items():
            if key == "notes":
                continue
            if isinstance(value, tuple | list):
                lines.append(f"{key} = {json.dumps(list(value))}")
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        return "\n".join(lines) + "\n"


def read_mapping(file: DataFile) -> ColumnMapping:
    """Read ``mapping.toml`` or ``mapping.json``."""
    text, _ = text_of(file)
    try:
        doc = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(
            f"{file.name} cannot be read ({exc}); compare it with the example in respine/io/mapping.py."
        ) from exc
    except RecursionError as exc:  # [[[[...]]]] thousands deep: the parser gives up
        raise DataError(f"{file.name} is nested too deeply to be read (lists or tables inside one "
                        "another thousands of levels deep); a mapping is one flat [mapping] table.") from exc
    return ColumnMapping.from_dict(doc)


def guess_mapping(frame: pd.DataFrame, table: str) -> ColumnMapping:
    """A first mapping from column names, for the person to check and correct."""
    lower = {str(c).lower(): str(c) for c in frame.columns}
    chosen: dict[str, str] = {}
    for role, names in GUESSES.items():
        for name in names:
            if name in lower and lower[name] not in chosen.values():
                chosen[role] = lower[name]
                break
    flags = tuple(
        c
        for c in map(str, frame.columns)
        if c.lower().endswith(("fl", "_flag", "flag"))
        and set(frame[c].dropna().astype(str).str.upper()) <= {"Y", "N", "1", "0", "YES", "NO"}
    )
    reference = ""
    if "arm" in chosen:
        arms = [str(a) for a in pd.unique(frame[chosen["arm"]].dropna())]
        reference = next((a for a in arms if REFERENCE_NAME.search(a)), "")
    return ColumnMapping(table=table, populations=flags, reference=reference, **chosen)


def _visit_numbers(labels: pd.Series) -> dict[str, float]:
    """Order visits by the number in their label ("Week 4" -> 4; "Baseline"/"Screening" -> 0),
    else by first appearance."""
    out: dict[str, float] = {}
    for i, label in enumerate(pd.unique(labels.dropna().astype(str))):
        m = re.search(r"-?\d+(\.\d+)?", label)
        if m:
            out[label] = float(m.group())
        elif re.search(r"baseline|screen|day 0|pre", label, re.IGNORECASE):
            out[label] = 0.0
        else:
            out[label] = 1000.0 + i
    return out


# Reshaped columns (names no table is expected to use).
WIDE_VISIT, WIDE_ENDPOINT, WIDE_VALUE = "__visit__", "__endpoint__", "__value__"
# Pattern placeholders: a visit number in a unit (its label), or the visit or endpoint as written.
VISIT_UNITS = {"month": "Month", "week": "Week", "day": "Day"}
_PLACEHOLDER = re.compile(r"\{(month|week|day|visit|endpoint)\}")


def _pattern_regex(pattern: str) -> tuple[re.Pattern[str], str]:
    """The regular expression of a column pattern and its visit placeholder.

    Raises
    ------
    DataError
        When the pattern has no visit placeholder, more than one, or an unknown one.
    """
    found = _PLACEHOLDER.findall(pattern)
    visits = [f for f in found if f != "endpoint"]
    named = set(re.findall(r"\{([^{}]*)\}", pattern))
    unknown = sorted(named - {"month", "week", "day", "visit", "endpoint"})
    if unknown or len(visits) != 1 or found.count("endpoint") > 1:
        raise DataError(
            f"The visit column pattern '{pattern}' needs exactly one visit placeholder, {{month}}, "
            "{week}, {day} or {visit}, and may name the endpoint once with {endpoint}"
            + (f"; {{{unknown[0]}}} is not one of them" if unknown else "")
            + ". For example pain_m{month} reads pain_m3 as the pain score at Month 3.")
    parts, last = [], 0
    for m in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[last:m.start()]))
        name = m.group(1)
        parts.append(r"(?P<n>\d+(?:\.\d+)?)" if name in VISIT_UNITS else f"(?P<{name}>.+?)")
        last = m.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("".join(parts), re.IGNORECASE), visits[0]


def _common_name(columns: list[str]) -> str:
    """The endpoint id columns share: their common prefix without trailing separators."""
    # the common prefix of the names, letter by letter (pain_base, pain_m3 -> "pain_"); one column
    # alone: its name without the visit part at its end (pain_m3 -> "pain")
    if len(columns) > 1:
        prefix = os.path.commonprefix(columns)  # noqa: RUF071  (characters, not path parts, are meant)
    else:
        prefix = re.sub(r"(?:m|mo|month|w|wk|week|d|day|v|visit)?[ _-]?\d+(?:\.\d+)?$", "", columns[0],
                        flags=re.IGNORECASE)
    return re.sub(r"[^0-9A-Za-z]+$", "", prefix)


def visit_columns(columns: list[str], mapping: ColumnMapping) -> list[tuple[str, str, str]]:
    """The visit columns of a table wide by visit: (column, endpoint id, visit label) each, in
    the table's column order.

    Raises
    ------
    DataError
        For a named column the table lacks, a pattern that matches no column, visits that do not
        pair with the columns, an endpoint that cannot be named, or two columns of one endpoint
        and visit.
    """
    given = dict(zip(mapping.visit_columns, mapping.visit_values, strict=False))
    if len(mapping.visit_columns) != len(mapping.visit_values):
        raise DataError(
            f"{len(mapping.visit_columns)} visit columns and {len(mapping.visit_values)} visits are named; "
            "give each visit column its visit, in the same order (visit_values = [\"Baseline\", "
            "\"Month 3\", ...]).")
    missing = [c for c in mapping.visit_columns if c not in columns]
    if missing:
        raise DataError(f"Visit columns {missing} are not in the table (its columns: {', '.join(columns)}).")
    blank = [c for c, v in given.items() if not v.strip()]
    if blank:
        raise DataError(f"Visit column '{blank[0]}' has no visit; give it one, such as \"Baseline\" or "
                        "\"Month 3\".")
    found: dict[str, tuple[str | None, str]] = {c: (None, v.strip()) for c, v in given.items()}
    if mapping.visit_pattern:
        regex, unit = _pattern_regex(mapping.visit_pattern)
        matched = 0
        for c in columns:
            m = regex.fullmatch(c)
            if m is None:
                continue
            matched += 1
            if c in found:
                continue  # named one by one: that visit wins
            if unit in VISIT_UNITS:
                number = float(m.group("n"))
                label = "Baseline" if number == 0 else f"{VISIT_UNITS[unit]} {number:g}"
            else:
                label = m.group("visit")
            found[c] = (m.groupdict().get("endpoint"), label)
        if not matched:
            raise DataError(f"No column matches the visit column pattern '{mapping.visit_pattern}' (the "
                            f"table's columns: {', '.join(columns)}).")
    # A column named one by one beside a pattern that names endpoints (vas_base beside
    # {endpoint}_m{month}) belongs to the endpoint its name starts with (the longest such name).
    patterned = sorted({e for e, _ in found.values() if e is not None}, key=len, reverse=True)
    for c, (e, v) in list(found.items()):
        if e is None and not mapping.endpoint_name.strip():
            starts = [p for p in patterned if c.casefold().startswith(p.casefold())]
            if starts:
                found[c] = (starts[0], v)
    unnamed = [c for c, (e, _) in found.items() if e is None]
    name = mapping.endpoint_name.strip() or (_common_name(unnamed) if unnamed else "")
    if unnamed and not name:
        raise DataError(f"The visit columns {unnamed} share no name to call their endpoint; name the "
                        "endpoint (endpoint_name = \"...\").")
    out = [(c, found[c][0] or name, found[c][1]) for c in columns if c in found]
    seen: dict[tuple[str, str], str] = {}
    for c, e, v in out:
        if (e, v) in seen:
            raise DataError(f"Columns '{seen[(e, v)]}' and '{c}' both hold {e} at {v}; give each visit "
                            "one column.")
        seen[(e, v)] = c
    return out


# What a visit column's name may add to the shared name: a baseline word, or a unit and a number.
_VISIT_WORDS = ((r"(?:baseline|base|bl|screening|day ?0)", None), (r"(?:m|mo|month)[ _-]?", "Month"),
                (r"(?:w|wk|week)[ _-]?", "Week"), (r"(?:d|day)[ _-]?", "Day"),
                (r"(?:v|visit)[ _-]?", "Visit"))


def guess_visit_label(column: str, columns: list[str]) -> str:
    """A first visit label for one of a table's visit columns, from what its name adds to the
    names the columns share (pain_base -> "Baseline", pain_m3 -> "Month 3", pain_w12 -> "Week 12"),
    for the person to check; the rest of the name as it is when no unit is recognised."""
    shared = _common_name(columns) if columns else ""
    rest = column[len(shared):] if shared and column.startswith(shared) else column
    rest = re.sub(r"^[^0-9A-Za-z]+", "", rest)
    # what the name adds to the shared name, else its last part (vas_base beside odi_base: "base")
    for part in (rest, re.split(r"[ _.-]", column)[-1]):
        for words, unit in _VISIT_WORDS:
            if unit is None and re.fullmatch(words, part, re.IGNORECASE):
                return "Baseline"
            m = re.fullmatch(words + r"(\d+(?:\.\d+)?)", part, re.IGNORECASE) if unit else None
            if m:
                number = float(m.group(1))
                return "Baseline" if number == 0 else f"{unit} {number:g}"
    return rest or column


def reshape_by_visit(frame: pd.DataFrame, mapping: ColumnMapping) -> tuple[pd.DataFrame, str]:
    """A table wide by visit as a long table (one row per subject and visit column) and a note
    saying so; the columns :data:`WIDE_ENDPOINT`, :data:`WIDE_VISIT` and :data:`WIDE_VALUE` hold
    the endpoint, the visit label and the value, every other column is kept, and each row keeps
    the index of the row it came from (so a problem names the table's own row).

    Raises
    ------
    DataError
        See :func:`visit_columns`.
    """
    cols = visit_columns([str(c) for c in frame.columns], mapping)
    parts = []
    keep = [c for c in frame.columns if c not in {c for c, _, _ in cols}]
    for column, endpoint, visit in cols:
        part = frame[keep].copy()
        part[WIDE_ENDPOINT], part[WIDE_VISIT], part[WIDE_VALUE] = endpoint, visit, frame[column]
        parts.append(part)
    long = pd.concat(parts).sort_index(kind="stable")
    endpoints = sorted({e for _, e, _ in cols})
    labels = pd.Series(list(dict.fromkeys(v for _, _, v in cols)))
    order = _visit_numbers(labels)
    visits = sorted(labels, key=lambda v: order[v])
    shown = ", ".join(f"{c} = {e} at {v}" for c, e, v in cols[:12]) + (", ..." if len(cols) > 12 else "")
    empty = int(long[WIDE_VALUE].isna().sum())
    note = (f"The table is wide by visit: its {len(frame)} rows (one per subject) were reshaped to "
            f"{len(long)} rows of the long format, one per subject and visit column"
            + (f" ({empty} of them empty, so not analysed)" if empty else "")
            + f"; {len(cols)} visit columns: {shown}; endpoint{'s' if len(endpoints) > 1 else ''} "
            f"{', '.join(endpoints)}; visits {', '.join(visits)}.")
    return long, note


def load_mapped(
    available: dict[str, DataFile], mapping: ColumnMapping | dict, source: str
) -> tuple[S.Trial | None, list]:
    """Build a trial from one table and a mapping; every problem is listed, none raised."""
    from respine.errors import Problem

    if isinstance(mapping, dict):
        try:
            mapping = ColumnMapping.from_dict(mapping)
        except DataError as exc:
            return None, [Problem("error", "mapping", str(exc))]
    tables = [f for f in available.values() if f.suffix in TABLE_SUFFIXES]
    file = (
        available.get(mapping.table.lower()) if mapping.table else (tables[0] if len(tables) == 1 else None)
    )
    if file is None:
        return None, [
            Problem(
                "error",
                mapping.table or "mapping",
                "The mapping does not name a table that "
                f"was given; tables: {', '.join(f.name for f in tables) or 'none'}.",
            )
        ]
    notes: list[str] = []
    try:
        frame = read_table(file, notes, sheet=mapping.sheet)
    except DataError as exc:
        return None, [Problem("error", file.name, str(exc))]
    problems: list = [Problem("warning", file.name, n) for n in notes]
    name = file.name
    if frame.empty:
        return None, [*problems, Problem("error", name, "The table has a header but no rows.")]
    if file.suffix == ".xlsx" and mapping.sheet:  # the sheet chosen: the report says which was read
        problems.append(Problem("info", name, f"Sheet '{mapping.sheet}' of {name} was read "
                                f"({excel_sheets_text(file)})."))
    frame.columns = [str(c) for c in frame.columns]
    by_visit = mapping.wide_by_visit
    if by_visit:
        roles = ("visit", "visit_number", "endpoint", "value")
        taken = [f"{role} ('{getattr(mapping, role)}')" for role in roles if getattr(mapping, role)]
        taken += ["endpoint columns"] if mapping.endpoints else []
        if taken:
            return None, [*problems, Problem(
                "error", name, f"The table is mapped as wide by visit (visit columns), and also maps "
                f"{', '.join(taken)}; a table wide by visit takes its visits, endpoints and values from "
                "the visit columns: leave those roles empty.")]
        try:
            frame, note = reshape_by_visit(frame, mapping)
        except DataError as exc:
            return None, [*problems, Problem("error", name, str(exc))]
        problems.append(Problem("info", name, note))
        mapping = replace(mapping, visit=WIDE_VISIT, endpoint=WIDE_ENDPOINT, value=WIDE_VALUE)
    columns = set(map(str, frame.columns))
    for role in ("subject", "arm", "visit"):
        col = getattr(mapping, role)
        if not col:
            problems.append(Problem("error", name, f"No column is mapped to the {role}; choose one."))
        elif col not in columns:
            problems.append(
                Problem(
                    "error", name, f"Column '{col}' (mapped to the {role}) is not in the table.", column=col
                )
            )
    wide = bool(mapping.endpoints)
    if not wide:
        for role in ("endpoint", "value"):
            col = getattr(mapping, role)
            if not col:
                problems.append(
                    Problem(
                        "error",
                        name,
                        f"No column is mapped to the {role}; map one, or list "
                        "endpoint columns for a wide table.",
                    )
                )
            elif col not in columns:
                problems.append(
                    Problem(
                        "error",
                        name,
                        f"Column '{col}' (mapped to the {role}) is not in the table.",
                        column=col,
                    )
                )
    for col in (
        *mapping.endpoints,
        *mapping.populations,
        *mapping.covariates,
        *([mapping.visit_number] if mapping.visit_number else []),
    ):
        if col not in columns:
            problems.append(
                Problem(
                    "error", name, f"Column '{col}' named in the mapping is not in the table.", column=col
                )
            )
    if any(p.severity == "error" for p in problems):
        return None, problems

    data = frame.copy()
    data[mapping.subject] = data[mapping.subject].astype(object)
    blank_id = data[mapping.subject].isna() | data[mapping.subject].astype(str).str.strip().eq("")
    if blank_id.any():
        problems.append(
            Problem(
                "warning",
                name,
                f"{int(blank_id.sum())} rows have no subject id and are ignored.",
                row=int(data.index[blank_id][0]) + 2,
                column=mapping.subject,
            )
        )
        data = data[~blank_id]
    data[mapping.subject] = data[mapping.subject].astype(str).str.strip()
    arm_per_subject = data.groupby(mapping.subject)[mapping.arm].nunique(dropna=True)
    conflicting = arm_per_subject[arm_per_subject > 1]
    if not conflicting.empty:
        problems.append(
            Problem(
                "error",
                name,
                f"{len(conflicting)} subjects have more than one arm (e.g. "
                f"{conflicting.index[0]}); each subject must have one arm.",
                column=mapping.arm,
            )
        )
    no_arm = data[mapping.arm].isna() | data[mapping.arm].astype(str).str.strip().eq("")
    if no_arm.any():
        armless = sorted(set(data.loc[no_arm, mapping.subject]) - set(data.loc[~no_arm, mapping.subject]))
        if armless:
            problems.append(Problem(
                "warning", name, f"{len(armless)} subjects have no arm in any row (e.g. {armless[0]}) and "
                "are left out of every analysis; give each subject its arm, or remove subjects who were not "
                "randomised.", row=int(data.index[no_arm][0]) + 2, column=mapping.arm))
        data.loc[no_arm, mapping.arm] = None
    arms = [str(a) for a in pd.unique(data[mapping.arm].dropna())]
    if len(arms) < 2:
        problems.append(
            Problem(
                "error",
                name,
                f"Only {len(arms)} arm ({', '.join(arms) or 'none'}) in column "
                f"'{mapping.arm}'; a comparison needs two or more.",
                column=mapping.arm,
            )
        )
    if mapping.reference and mapping.reference not in arms:
        problems.append(
            Problem(
                "error",
                name,
                f"Reference arm '{mapping.reference}' is not in column "
                f"'{mapping.arm}' (arms: {', '.join(arms)})."
                + "".join(f" Arm names must match exactly: did you mean '{a}'?" for a in arms
                          if a.casefold() == mapping.reference.casefold()),
                column=mapping.arm,
            )
        )
    if any(p.severity == "error" for p in problems):
        return None, problems

    if wide:
        long = data.melt(
            id_vars=[c for c in data.columns if c not in mapping.endpoints],
            value_vars=list(mapping.endpoints),
            var_name="__endpoint",
            value_name="__value",
        )
        ep_col, value_col = "__endpoint", "__value"
    else:
        long, ep_col, value_col = data, mapping.endpoint, mapping.value
    values = pd.to_numeric(long[value_col], errors="coerce")
    text = values.isna() & long[value_col].notna() & long[value_col].astype(str).str.strip().ne("")
    if text.any():
        first = int(long.index[text][0]) + 2 if not wide else None
        problems.append(
            Problem(
                "warning",
                name,
                f"{int(text.sum())} values are not numbers (e.g. "
                f"'{long.loc[text, value_col].iloc[0]}') and are ignored.",
                row=first,
                column=value_col if not (wide or by_visit) else None,
            )
        )
    if mapping.visit_number:
        numbers = pd.to_numeric(long[mapping.visit_number], errors="coerce")
        given = long[mapping.visit_number].notna() & long[mapping.visit_number].astype(str).str.strip().ne("")
        text_number = given & numbers.isna()
        if text_number.any():
            first = long.index[text_number][0]
            shown = str(long.at[first, mapping.visit_number])
            return None, [*problems, Problem(
                "error", name, f"{int(text_number.sum())} visit numbers are not numbers (e.g. "
                f"'{shown}'); the visit number column gives each visit's "
                "order as a number (0, 4, 12). Fix the cells, or map no visit number and let the "
                "labels give the order.", row=None if wide else int(first) + 2, column=mapping.visit_number)]
        per_label = pd.DataFrame({"label": long[mapping.visit].astype(str), "n": numbers}).dropna()
        clash = per_label.groupby("label")["n"].nunique()
        if (clash > 1).any():
            label = clash.index[clash > 1][0]
            numbers_of_label = per_label.loc[per_label["label"] == label, "n"].unique()
            found = ", ".join(f"{v:g}" for v in sorted(numbers_of_label))
            return None, [*problems, Problem(
                "error", name, f"Visit '{label}' has several visit numbers ({found}); give each visit "
                "label one number.", column=mapping.visit_number)]
        order = dict(zip(per_label["label"], per_label["n"], strict=True))
    else:
        order = _visit_numbers(long[mapping.visit])
    no_visit = long[mapping.visit].isna() | long[mapping.visit].astype(str).str.strip().eq("")
    if no_visit.any():
        problems.append(Problem(
            "warning", name, f"{int(no_visit.sum())} rows have no visit and are ignored; give each row its "
            "visit.", row=None if wide else int(long.index[no_visit][0]) + 2, column=mapping.visit))
    labels = long[mapping.visit].astype(str).where(~no_visit, None)
    m = pd.DataFrame(
        {
            S.SUBJECT_ID: long[mapping.subject].to_numpy(),
            S.ENDPOINT: long[ep_col].astype(str).to_numpy(),
            S.VISIT: labels.to_numpy(),
            S.VISIT_MONTH: labels.map(order).astype(float).to_numpy(),
            S.VALUE: values.to_numpy(),
        }
    )
    m = m[m[S.VALUE].notna() & m[S.VISIT_MONTH].notna()]
    dups = m.duplicated([S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH])
    if dups.any():
        problems.append(
            Problem(
                "warning",
                name,
                f"{int(dups.sum())} duplicate records (same subject, endpoint "
                "and visit); the first of each is kept.",
            )
        )
        m = m[~dups]
    if m.empty:
        return None, [*problems, Problem("error", name, "No numeric value is left to analyse.")]

    for col in (*mapping.populations, *mapping.covariates):
        # a subject-level column read from a long table: every row of a subject should agree
        varying = data.groupby(mapping.subject)[col].nunique(dropna=True)
        varying = varying[varying > 1]
        if not varying.empty:
            example = varying.index[0]
            seen = ", ".join(map(str, pd.unique(data.loc[data[mapping.subject] == example, col].dropna())))
            problems.append(Problem(
                "warning", name, f"{len(varying)} subjects have more than one value of '{col}' across "
                f"their rows (e.g. {example}: {seen}); the value on each subject's first row is used. "
                "Make the column constant per subject if it describes the subject.", column=col))
    firsts = data.drop_duplicates(mapping.subject).set_index(mapping.subject)
    subjects = pd.DataFrame({S.SUBJECT_ID: firsts.index.astype(str), S.ARM: firsts[mapping.arm].astype(str)})
    subjects = subjects[firsts[mapping.arm].notna().to_numpy()].reset_index(drop=True)
    pops = []
    for col in mapping.populations:
        written = set(firsts[col].dropna().astype(str).str.strip().str.upper()) - {""}
        other = sorted(written - {"Y", "N", "1", "0", "1.0", "0.0", "YES", "NO", "TRUE", "FALSE"})
        if other:
            return None, [*problems, Problem(
                "error", name, f"Population flag column '{col}' holds {other}; a flag is Y (in the "
                "population) or N (Yes/No, 1/0 and true/false are read as such).", column=col)]
        key = f"pop_{re.sub(r'[^a-z0-9]+', '_', col.lower())}"
        flag = firsts[col].astype(str).str.upper().isin(["Y", "1", "1.0", "YES", "TRUE"])
        subjects[key] = np.where(flag.reindex(subjects[S.SUBJECT_ID]).to_numpy(), "Y", "N")
        pops.append(S.Population(col.upper(), col, key, f"{col} = Y"))
    subjects["pop_all"] = "Y"
    pops.append(S.Population("ALL", "All subjects", "pop_all", "Every subject in the table"))
    covs = []
    for col in mapping.covariates:
        subjects[col] = firsts[col].reindex(subjects[S.SUBJECT_ID]).to_numpy()
        numeric = pd.api.types.is_numeric_dtype(firsts[col]) and firsts[col].nunique() > 8
        covs.append(S.Covariate(col, col, "continuous" if numeric else "categorical"))
    visits = m.drop_duplicates(S.VISIT_MONTH).sort_values(S.VISIT_MONTH)
    arm_order = sorted(arms, key=lambda a: (not REFERENCE_NAME.search(a), a))[::-1]
    reference = mapping.reference or next((a for a in arms if REFERENCE_NAME.search(a)), arm_order[-1])
    arm_order = [*(a for a in arm_order if a != reference), reference]
    design = S.StudyDesign(
        id=mapping.study or "Study",
        title=mapping.study or "Study",
        arms=tuple(arm_order),
        reference_arm=reference,
        visits=tuple(
            S.Visit(float(n), str(lab)) for n, lab in zip(visits[S.VISIT_MONTH], visits[S.VISIT], strict=True)
        ),
        endpoints=tuple(sorted(m[S.ENDPOINT].unique())),
        populations=tuple(pops),
        default_population=pops[0].id,
        covariates=tuple(covs),
        primary=None,
        synthetic=False,
        description=f"{len(subjects)} subjects from {name}, mapped by column.",
    )
    trial = S.Trial(
        design=design,
        subjects=subjects,
        measurements=m.reset_index(drop=True),
        adverse_events=S.no_adverse_events(),
        source=source,
        adverse_events_recorded=False,  # a mapped measurement table has no adverse-event data
    )
    return trial, problems

