"""The data this browser session explores: the shipped (or configured) data, or its own upload.

A loaded data set lives in this session's state only; another session never sees it. A load
that fails leaves the previous data active. Uploads are parsed from memory (see
:mod:`respine.io.files`) and never stored.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from respine.errors import Problem
from respine.io import default_data_path, load_files
from respine.io.files import DataFile
from respine.io.mapping import ColumnMapping
from respine.model import design as S
from respine.ui import cache, state

LOADED = "loaded_trial"
PENDING = "pending_trial"
REPORT = "load_report"
ROOT_ENV = "RESPINE_DATA_ROOT"


def configured_path() -> Path:
    """``data_path`` from the app's secrets (hosted use), else ``$RESPINE_DATA``, else data/."""
    try:
        secret = st.secrets.get("data_path")
    except (FileNotFoundError, KeyError, AttributeError):  # no secrets file: a local run
        secret = None
    return Path(secret) if secret else default_data_path()


def active_trial() -> S.Trial:
    if LOADED in st.session_state:
        return st.session_state[LOADED]
    return cache.shipped_trial(str(configured_path()))


def _activate(trial: S.Trial) -> None:
    st.session_state[LOADED] = trial
    st.session_state.pop(PENDING, None)
    state.reset_view(trial)


def _report(problems: list[Problem], ok: bool, what: str) -> None:
    st.session_state[REPORT] = {"problems": problems, "ok": ok, "what": what}


def load(available: dict[str, DataFile], what: str, mapping: ColumnMapping | None = None) -> None:
    """Try to load files; on success with warnings, wait for the person's explicit choice."""
    digest = hashlib.sha256()
    for name in sorted(available):
        digest.update(name.encode())
        digest.update(available[name].raw())
    source = f"{what} [{digest.hexdigest()[:12]}]"
    trial, problems = load_files(available, source, mapping=mapping,
                                 record_rule=st.session_state.get(RECORD_RULE_KEY))
    if trial is None:
        _report(problems, False, what)
        return
    if any(p.severity == "warning" for p in problems):
        st.session_state[PENDING] = trial
        _report(problems, True, what)
        return
    _activate(trial)
    _report(problems, True, what)


def load_uploads(uploaded: list, mapping: ColumnMapping | None = None) -> None:
    files = {f.name.lower(): DataFile(f.name, data=f.getvalue()) for f in uploaded}
    names = ", ".join(sorted(f.name for f in uploaded))
    load(files, f"upload: {names[:80]}", mapping)


def folder_root() -> Path | None:
    """Server folder under which data may be opened by path; None = not offered (hosted use)."""
    root = os.environ.get(ROOT_ENV)
    return Path(root).resolve() if root else None


def load_folder(relative: str) -> None:
    root = folder_root()
    if root is None:
        _report([Problem("error", relative, "Opening server folders is switched off.")], False, relative)
        return
    target = (root / relative).resolve()
    if root not in (target, *target.parents):
        _report([Problem("error", relative, f"Only folders inside {root} can be opened.")], False, relative)
        return
    from respine.io.files import folder_files

    try:
        available = folder_files(target)
    except ValueError as exc:
        _report([Problem("error", relative, str(exc))], False, relative)
        return
    load(available, f"folder: {relative}")


def accept_pending() -> None:
    if PENDING in st.session_state:
        _activate(st.session_state[PENDING])


def discard_pending() -> None:
    st.session_state.pop(PENDING, None)
    st.session_state.pop(REPORT, None)


def back_to_default() -> None:
    st.session_state.pop(LOADED, None)
    st.session_state.pop(PENDING, None)
    st.session_state.pop(REPORT, None)
    state.reset_view(cache.shipped_trial(str(configured_path())))


def problems_table(problems: list[Problem]) -> list[dict[str, object]]:
    return [
        {
            "Severity": p.severity,
            "File": p.file,
            "Row": "" if p.row is None else p.row,
            "Column": p.column or "",
            "Problem and how to fix it": p.message,
        }
        for p in problems
    ]


UPLOAD_KEY = "upload_files"
RECORD_RULE_KEY = "adam_record_rule"


def record_rule_options() -> dict[str, str]:
    """The ADaM record rules the Load data page offers: id -> label (declared in respine.io.adam)."""
    from respine.io.adam import RECORD_RULES

    return {r.id: r.label for r in RECORD_RULES}


@st.cache_data(show_spinner=False, max_entries=4)
def _folder_notes(path: str, stamp: tuple[tuple[str, float], ...]) -> list[Problem]:
    """The validation report of a server folder; ``stamp`` (names and modification times of its
    files) makes a changed folder read again."""
    from respine.io import validate_folder

    return validate_folder(path)


def configured_notes() -> list[Problem]:
    """How the configured data (not an upload) were read, for an ADaM folder: its record rule
    and counts per dataset, the subjects not analysed, ... (empty for the product's layout, which
    applies no such rule, or once this session has loaded its own data, whose report is shown)."""
    from respine.io.adam import is_adam_folder

    path = configured_path()
    try:
        if LOADED in st.session_state or not is_adam_folder(path):
            return []
        stamp = tuple(sorted((f.name, f.stat().st_mtime) for f in path.iterdir() if f.is_file()))
    except (OSError, ValueError):  # an unreadable folder: the data failed to load and say so elsewhere
        return []
    return [p for p in _folder_notes(str(path), stamp) if p.severity != "error"]


def report_counts(problems: list[Problem]) -> tuple[int, int, int]:
    """Errors, warnings and notes (the rules applied) of a load report."""
    def count(severity: str) -> int:
        return sum(p.severity == severity for p in problems)

    return count("error"), count("warning"), count("info")
MAPPING_KEY = "mapping_draft"


def uploaded() -> list[UploadedFile]:
    """The files in the Load data page's uploader."""
    return list(st.session_state.get(UPLOAD_KEY) or [])


def on_load_clicked() -> None:
    files = uploaded()
    if not files:
        _report([Problem("error", "(no file)", "Choose one or more files first.")], False, "upload")
        return
    load_uploads(files)


def on_folder_clicked() -> None:
    load_folder(st.session_state.get("folder_path", ""))


SHEET_KEY = "map_sheet"


def _single_table() -> UploadedFile | None:
    """The one uploaded table (an UploadedFile), if exactly one table was uploaded."""
    from respine.io.files import TABLE_SUFFIXES

    files = [f for f in uploaded() if Path(f.name).suffix.lower() in TABLE_SUFFIXES]
    return files[0] if len(files) == 1 else None


def sheet_choices() -> dict[str, str]:
    """The sheets of the one uploaded workbook, name -> how the choice shows it (hidden ones
    named as hidden), when there is a choice to make: several sheets, or a hidden one. Else
    empty (a CSV file, a workbook of one visible sheet, an unreadable workbook)."""
    from respine.errors import DataError
    from respine.io.files import excel_sheets

    f = _single_table()
    if f is None or Path(f.name).suffix.lower() != ".xlsx":
        return {}
    try:
        states = excel_sheets(DataFile(f.name, data=f.getvalue()))
    except DataError:
        return {}
    if len(states) < 2 and all(state == "visible" for state in states.values()):
        return {}
    return {name: name + ("" if state == "visible" else " (hidden)") for name, state in states.items()}


def first_visible(choices: dict[str, str]) -> int:
    """The index of the sheet read when none is chosen: the first visible one."""
    return next((i for i, label in enumerate(choices.values()) if not label.endswith(" (hidden)")), 0)


def mapping_draft(sheet: str = "") -> tuple[str, list[str], ColumnMapping] | None:
    """For a single uploaded table that was not recognised: its name, columns (of ``sheet`` for
    a workbook; by default its first visible sheet) and a guessed mapping."""
    from respine.io.files import read_table

    f = _single_table()
    if f is None:
        return None
    key = (f.name, f.size, sheet)
    cached = st.session_state.get(MAPPING_KEY)
    if cached and cached[0] == key:
        return cached[1]
    from dataclasses import replace

    from respine.errors import DataError
    from respine.io.mapping import guess_mapping

    try:
        frame = read_table(DataFile(f.name, data=f.getvalue()), sheet=sheet)
    except DataError:
        return None
    guess = replace(guess_mapping(frame, f.name), sheet=sheet)
    draft = (f.name, [str(c) for c in frame.columns], guess)
    st.session_state[MAPPING_KEY] = (key, draft)
    return draft


def guess_visit(column: str, columns: list[str]) -> str:
    """The visit a visit column is first shown with (see :func:`respine.io.mapping.guess_visit_label`)."""
    from respine.io.mapping import guess_visit_label

    return guess_visit_label(column, columns)


def on_mapping_clicked(mapping: ColumnMapping) -> None:
    load_uploads(uploaded(), mapping)
    st.session_state["mapping_used"] = mapping
