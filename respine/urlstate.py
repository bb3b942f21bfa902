"""The URL codec: the whole view as short query parameters, and back.

Derived from the declarations of :mod:`respine.model.params`: every declared parameter is one
query key, written and read by the codec of its kind. :func:`encode` writes only values that
differ from the defaults, so links stay short. :func:`decode` never raises: an unknown or
invalid value falls back to its default and adds a note the app shows, so an absurd link still
opens a working view. Page options travel as ``o_<name>`` keys that each page validates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from respine.model.params import PARAMS, Options, Param, ViewState, with_values
from respine.model.selection import SubgroupFilter

__all__ = ["BOUNDS", "KEYS", "MAX_PARAM_LENGTH", "OPTION_PREFIX", "Options", "ViewState", "decode", "encode"]

MAX_PARAM_LENGTH = 500
MAX_FILTERS = 10
KEYS = {p.name: p.url for p in PARAMS}  # ViewState field -> query parameter
BOUNDS = {p.name: p.bounds for p in PARAMS if p.bounds is not None}
OPTION_PREFIX = "o_"
OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_OPTIONS = 30

Query = Mapping[str, str | list[str]]


def _encode_filter(f: SubgroupFilter) -> str:
    if f.values or (f.low is None and f.high is None):  # levels (possibly none chosen)
        return f"{f.column}={'|'.join(f.values)}"
    lo = "" if f.low is None else f"{f.low:g}"
    hi = "" if f.high is None else f"{f.high:g}"
    return f"{f.column}={lo}..{hi}"


_ENCODE: dict[str, Callable[[Param, Any], str | list[str]]] = {
    "choice": lambda p, v: str(v),
    "number": lambda p, v: f"{v:g}",
    "visit": lambda p, v: f"{v:g}",
    "names": lambda p, v: p.sep.join(v),
    "filters": lambda p, v: [_encode_filter(x) for x in v],
}


def encode(state: ViewState, default: ViewState | None = None) -> dict[str, str | list[str]]:
    """Query parameters for a view; fields equal to the default are left out."""
    default = default or ViewState()
    out: dict[str, str | list[str]] = {}
    for name, text in state.options:
        out[OPTION_PREFIX + name] = text
    for p in PARAMS:
        value = getattr(state, p.name)
        if value != getattr(default, p.name):
            out[p.url] = _ENCODE[p.kind](p, value)
    return out


class _NotUsable(Exception):
    """A link value that cannot be used; the message is the note shown."""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _choice(p: Param, text: str, options: Options) -> Any:
    allowed = p.allowed(options) or ()
    if text not in allowed:
        raise _NotUsable(f"'{text}' is not a valid {p.name.replace('_', ' ')} here; showing "
                         f"'{getattr(options.default, p.name) or 'the default'}' instead.")
    return text


def _visit(p: Param, text: str, options: Options) -> float:
    number = _number(text)
    if number not in (p.allowed(options) or ()):  # NaN is in no list
        raise _NotUsable(f"{p.label} '{text}' does not exist in this study; showing the default "
                         f"{p.label.lower()}.")
    return number


def _bounded(p: Param, text: str, options: Options) -> float:
    lo, hi = p.bounds or (-math.inf, math.inf)
    number = _number(text)
    if not lo <= number <= hi:  # NaN fails both comparisons
        raise _NotUsable(f"'{text}' is not a valid {p.name.replace('_', ' ')} (allowed {lo:g}-{hi:g}); "
                         "the default is used.")
    return number


_DECODE_ONE: dict[str, Callable[[Param, str, Options], Any]] = {
    "choice": _choice, "visit": _visit, "number": _bounded,
}


def decode(params: Query, options: Options) -> tuple[ViewState, list[str]]:
    """A view from query parameters, with a note for every value that was not usable."""
    notes: list[str] = []
    known = set(KEYS.values())
    page_options: dict[str, str] = {}
    for key in params:
        if key.startswith(OPTION_PREFIX) and OPTION_NAME.match(key[len(OPTION_PREFIX):]):
            if len(page_options) >= MAX_OPTIONS:
                notes.append(f"Link parameter '{key}' was ignored: too many page options.")
                continue
            raw = params[key]
            text = str(raw[0] if isinstance(raw, list | tuple) else raw)
            if len(text) > MAX_PARAM_LENGTH:
                notes.append(f"Link parameter '{key}' is too long and was ignored.")
                continue
            page_options[key[len(OPTION_PREFIX):]] = text
        elif key not in known:
            notes.append(f"Link parameter '{key[:40]}' is not known and was ignored.")

    values: dict[str, Any] = {}
    if page_options:
        values["options"] = tuple(sorted(page_options.items()))
    for p in PARAMS:  # declaration order: the order of the notes
        given = params.get(p.url)
        if given is None:
            continue
        if p.kind == "filters":
            if given:
                values[p.name] = _filters(p, given, options, notes)
            continue
        text = str(given[0] if isinstance(given, list | tuple) else given)
        if len(text) > MAX_PARAM_LENGTH:
            notes.append(f"Link parameter '{p.url}' is too long and was ignored.")
        elif p.kind == "names":
            values[p.name] = _names(p, text, options, notes)
        else:
            try:
                values[p.name] = _DECODE_ONE[p.kind](p, text, options)
            except _NotUsable as exc:
                notes.append(str(exc))
    return with_values(options.default, values), notes


# What the names of a source are, for the note on a name a link gives that the study lacks.
_NAMES_OF = {"filter_columns": "declared subject covariates", "arms": "arms"}


def _names(p: Param, text: str, options: Options, notes: list[str]) -> tuple[str, ...]:
    """The usable names of a list joined by the parameter's separator (the others are dropped
    with one note)."""
    allowed = p.allowed(options) or ()
    chosen = tuple(dict.fromkeys(c.strip() for c in text.split(p.sep) if c.strip()))
    bad = [c for c in chosen if c not in allowed]
    if bad:
        what = _NAMES_OF.get(str(p.choices), str(p.choices))
        known = f" (these are: {', '.join(map(str, allowed))})" if p.choices == "arms" else ""
        notes.append(f"{p.label} {bad} are not {what} of this study{known}; ignored.")
    return tuple(c for c in chosen if c in allowed)


def _filters(p: Param, raw: str | list[str], options: Options,
             notes: list[str]) -> tuple[SubgroupFilter, ...]:
    """The usable filters among the link's first :data:`MAX_FILTERS` (the others with a note each)."""
    allowed = p.allowed(options) or ()
    items = [raw] if isinstance(raw, str) else list(raw)
    parsed = []
    for item in items[:MAX_FILTERS]:
        try:
            f = SubgroupFilter.parse(str(item)[:MAX_PARAM_LENGTH])
        except ValueError as exc:
            notes.append(f"Filter '{item}' was ignored: {exc}")
            continue
        if f.column not in allowed:
            notes.append(
                f"Filter column '{f.column}' is not a declared subject covariate of this study; the "
                "filter was ignored."
            )
            continue
        parsed.append(f)
    return tuple(parsed)


KINDS_READ = frozenset({*_DECODE_ONE, "names", "filters"})
"""Kinds :func:`decode` reads (a test checks every declared kind is among them and :data:`_ENCODE`)."""
