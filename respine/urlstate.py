"""The URL codec: the whole view as short query parameters, and back.

:func:`encode` writes only values that differ from the defaults, so links stay short.
:func:`decode` never raises: an unknown or invalid value falls back to its default and adds a
note the app shows, so an absurd link still opens a working view.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from respine.model.selection import SubgroupFilter

MAX_PARAM_LENGTH = 500


@dataclass(frozen=True)
class ViewState:
    """Every choice a person can make, across pages."""

    endpoint: str = "VAS"
    visit: float = 12.0
    population: str = ""
    measure: str = "chg"
    method: str = ""
    filters: tuple[SubgroupFilter, ...] = ()
    vas_pct: float = 20.0
    vas_mm: float = 20.0
    vas_join: str = "AND"
    odi_pct: float = 20.0
    join: str = "OR"
    mcid_vas: float = 15.0
    mcid_odi: float = 10.0
    covariates: tuple[str, ...] = ()
    covariance: str = "us"
    df_method: str = "satterthwaite"
    lsmeans_weights: str = "observed"
    reference: str = ""
    binary_method: str = ""
    # Page options (subgroup variables, scales, toggles, ...) as sorted (name, text) pairs; each page
    # validates its own when it draws them (see respine.ui.state.option).
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Options:
    """What the loaded trial allows; decode checks values against it."""

    endpoints: tuple[str, ...]
    visits: tuple[float, ...]
    populations: tuple[str, ...]
    measures: tuple[str, ...]
    methods: tuple[str, ...]
    filter_columns: tuple[str, ...]
    default: ViewState = field(default_factory=ViewState)
    arms: tuple[str, ...] = ()
    binary_methods: tuple[str, ...] = ()


KEYS = {  # ViewState field -> query parameter
    "endpoint": "ep", "visit": "visit", "population": "pop", "measure": "measure",
    "method": "method", "filters": "filter", "vas_pct": "vas_pct", "vas_mm": "vas_mm",
    "vas_join": "vas_join", "odi_pct": "odi_pct", "join": "join", "mcid_vas": "mcid_vas",
    "mcid_odi": "mcid_odi", "covariates": "cov", "covariance": "covstruct", "df_method": "df",
    "lsmeans_weights": "lsw", "reference": "ref", "binary_method": "bmethod",
}
OPTION_PREFIX = "o_"
OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_OPTIONS = 30
BOUNDS = {"vas_pct": (0, 100), "vas_mm": (0, 100), "odi_pct": (0, 100), "mcid_vas": (0, 100),
          "mcid_odi": (0, 100)}


def _encode_filter(f: SubgroupFilter) -> str:
    if f.values or (f.low is None and f.high is None):  # levels (possibly none chosen)
        return f"{f.column}={'|'.join(f.values)}"
    lo = "" if f.low is None else f"{f.low:g}"
    hi = "" if f.high is None else f"{f.high:g}"
    return f"{f.column}={lo}..{hi}"


def encode(state: ViewState, default: ViewState | None = None) -> dict[str, str | list[str]]:
    """Query parameters for a view; fields equal to the default are left out."""
    default = default or ViewState()
    out: dict[str, str | list[str]] = {}
    for name, text in state.options:
        out[OPTION_PREFIX + name] = text
    for f in fields(ViewState):
        if f.name == "options":
            continue
        value, base = getattr(state, f.name), getattr(default, f.name)
        if value == base:
            continue
        key = KEYS[f.name]
        if f.name == "filters":
            out[key] = [_encode_filter(x) for x in value]
        elif f.name == "covariates":
            out[key] = ",".join(value)
        elif isinstance(value, float):
            out[key] = f"{value:g}"
        else:
            out[key] = str(value)
    return out


def decode(params: Mapping[str, str | list[str]], options: Options) -> tuple[ViewState, list[str]]:
    """A view from query parameters, with a note for every value that was not usable."""
    state = options.default
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
    if page_options:
        state = replace(state, options=tuple(sorted(page_options.items())))

    def first(key: str) -> str | None:
        raw = params.get(key)
        if raw is None:
            return None
        text = raw[0] if isinstance(raw, list | tuple) else raw
        text = str(text)
        if len(text) > MAX_PARAM_LENGTH:
            notes.append(f"Link parameter '{key}' is too long and was ignored.")
            return None
        return text

    def choose(name: str, allowed: tuple[str, ...]) -> None:
        nonlocal state
        text = first(KEYS[name])
        if text is None:
            return
        if text in allowed:
            state = replace(state, **{name: text})
        else:
            notes.append(f"'{text}' is not a valid {name.replace('_', ' ')} here; showing "
                         f"'{getattr(state, name) or 'the default'}' instead.")

    choose("endpoint", options.endpoints)
    choose("population", options.populations)
    choose("measure", options.measures)
    choose("method", options.methods)
    choose("binary_method", options.binary_methods)
    choose("vas_join", ("AND", "OR"))
    choose("covariance", ("us", "cs", "ar1", "toep"))
    choose("df_method", ("satterthwaite", "kenward-roger"))
    choose("lsmeans_weights", ("observed", "equal"))
    choose("reference", options.arms)
    choose("join", ("AND", "OR"))

    text = first(KEYS["visit"])
    if text is not None:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if number in options.visits:
            state = replace(state, visit=number)
        else:
            notes.append(f"Visit '{text}' does not exist in this study; showing the default visit.")

    for name, (lo, hi) in BOUNDS.items():
        text = first(KEYS[name])
        if text is None:
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if lo <= number <= hi:  # NaN fails both comparisons
            state = replace(state, **{name: number})
        else:
            notes.append(f"'{text}' is not a valid {name.replace('_', ' ')} (allowed {lo}-{hi}); "
                         "the default is used.")

    text = first(KEYS["covariates"])
    if text is not None:
        chosen = tuple(c for c in text.split(",") if c)
        bad = [c for c in chosen if c not in options.filter_columns]
        if bad:
            notes.append(f"Covariates {bad} are not declared subject covariates of this study; ignored.")
        state = replace(state, covariates=tuple(c for c in chosen if c in options.filter_columns))

    raw_filters = params.get(KEYS["filters"])
    if raw_filters:
        items = [raw_filters] if isinstance(raw_filters, str) else list(raw_filters)
        parsed = []
        for item in items[:10]:
            try:
                f = SubgroupFilter.parse(str(item)[:MAX_PARAM_LENGTH])
            except ValueError as exc:
                notes.append(f"Filter '{item}' was ignored: {exc}")
                continue
            if f.column not in options.filter_columns:
                notes.append(
                    f"Filter column '{f.column}' is not a declared subject covariate of this study; the "
                    "filter was ignored."
                )
                continue
            parsed.append(f)
        state = replace(state, filters=tuple(parsed))
    return state, notes
