"""Cached wrappers around the core, derived from the analysis registry.

A page asks for a registered analysis (:mod:`respine.analyses.registry`) and gets its result,
typed as the analysis declares: ``cache.run(registry.sensitivity, trial, sel)`` returns a
DataFrame. A figure of results is ``cache.figure(figures.estimates_figure, sens, measure, title)``:
its key is derived from the inputs of the analyses that produced the results it draws (their
normalised Selection and options), the factory's name and its other arguments. No page builds
a cache key.

The shipped (or configured) trial is one shared, read-only object (``cache_resource``); its
analyses are cached per (trial source, inputs) with ``cache_data``, so a warm interaction
recomputes nothing it has seen before in any session.

A trial a reader uploaded is theirs alone: its results are cached in that session's state (see
:func:`_cached`), never in the process-wide caches, so they are freed with the session and no
other session can reach them, even by guessing the source.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from respine import derive
from respine.analyses import registry
from respine.io import load_trial
from respine.model import design as S
from respine.model import selection
from respine.model.selection import Filters
from respine.ui import access

T = TypeVar("T")


# Sources of the trials the server itself loaded (shipped or configured data): only their results
# go to the process-wide caches.
_SHARED_SOURCES: set[str] = set()
SESSION_CACHE = "_session_cache"
SESSION_CACHE_ENTRIES = 512


@st.cache_resource(show_spinner="Loading trial data…")
def _shipped_trial(path: str) -> S.Trial:
    return load_trial(path)


def shipped_trial(path: str) -> S.Trial:
    trial = _shipped_trial(path)
    _SHARED_SOURCES.add(trial.source)
    return trial


def is_shared(source: str) -> bool:
    """Whether results of this source may be cached for every session (the server's own data)."""
    return source in _SHARED_SOURCES


def _session_store() -> OrderedDict:
    return st.session_state.setdefault(SESSION_CACHE, OrderedDict())


def _session_memo(name: str, fn: Callable[..., Any], args: tuple, copy_result: bool) -> Any:
    """``fn(*args)`` cached in this session's state (least recently used out first); the last
    argument, the trial, is keyed by the source (the first argument)."""
    store = _session_store()
    key = (name, args[:-1])
    if key in store:
        store.move_to_end(key)
        value = store[key]
    else:
        value = fn(*args)
        store[key] = value
        while len(store) > SESSION_CACHE_ENTRIES:
            store.popitem(last=False)
    return copy.deepcopy(value) if copy_result else value


def _cached(max_entries: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``st.cache_data`` for the server's own data, a session-scoped cache for uploaded data.

    The decorated function takes the trial's source first and the trial (``_trial``) last."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        shared = st.cache_data(show_spinner=False, max_entries=max_entries)(fn)

        @functools.wraps(fn)
        def call(*args: Any) -> T:
            if is_shared(args[0]):
                return shared(*args)
            # deep copies, as cache_data returns: a caller may change what it gets
            return _session_memo(fn.__qualname__, fn, args, copy_result=True)

        call.clear = shared.clear  # type: ignore[attr-defined]
        return call

    return decorate


@_cached(max_entries=64)
def subject_counts(
    source: str, population: str, filters: Filters, _trial: S.Trial
) -> tuple[int, int, int]:
    """(subjects after filters, subjects in population, randomised)."""
    kept, in_pop, subjects = _selected_subjects(_trial, population, filters)
    return len(kept), len(in_pop), len(subjects)


def _selected_subjects(
    trial: S.Trial, population: str, filters: Filters
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(subjects after population and filters, subjects in population, all randomised)."""
    in_pop = derive.population_subjects(trial, population)
    return derive.filter_subjects(trial, population, filters), in_pop, derive.subject_table(trial)


@_cached(max_entries=64)
def arm_counts(source: str, population: str, filters: Filters, _trial: S.Trial) -> dict[str, int]:
    """Subjects per arm after the population and filters (every arm, zero included)."""
    kept = _selected_subjects(_trial, population, filters)[0]
    counts = kept[S.ARM].astype(str).value_counts()
    return {arm: int(counts.get(arm, 0)) for arm in _trial.design.arms}


@_cached(max_entries=64)
def covariate_levels(source: str, column: str, _trial: S.Trial) -> tuple[str, ...]:
    """Sorted levels of a categorical covariate (numbers in numeric order)."""
    col = derive.subject_table(_trial)[column].dropna()
    return tuple(sorted(derive.as_levels(col).unique(), key=derive.natural_key))


@_cached(max_entries=64)
def covariate_range(source: str, column: str, _trial: S.Trial) -> tuple[float, float]:
    col = pd.to_numeric(derive.subject_table(_trial)[column], errors="coerce")
    return (float(col.min()), float(col.max()))


# ------------------------------------------------------------------ registered analyses


def _cached_analysis(analysis: registry.Analysis[T]) -> Callable[..., T]:
    """One cache per registered analysis, sized by its ``keep`` hint."""

    def compute(source: str, key: str, _inputs: registry.Inputs, _trial: S.Trial) -> T:
        # keyed by the text of the inputs: hashing a string is far cheaper for Streamlit than
        # hashing a Selection field by field, and the text is exact (see _freeze)
        return analysis.run(_trial, _inputs)

    # Streamlit keys a function's cache by its qualified name and source: one name per analysis
    # gives each its own cache (and its own size) although they share this code.
    compute.__qualname__ = f"run.{analysis.name}"
    return _cached(max_entries=analysis.keep)(compute)


_RUNNERS: dict[str, Callable[..., Any]] = {}


def _runner(analysis: registry.Analysis[T]) -> Callable[..., T]:
    runner = _RUNNERS.get(analysis.name)
    if runner is None:
        runner = _RUNNERS[analysis.name] = _cached_analysis(analysis)
    return runner


# What a page computed, in order, so it can show the Python code that reproduces it (recorded
# here, not in the cached bodies, which do not run on a cache hit); and the results handed out
# in this page run, by object id, with the inputs that made them (for figure keys).
CALLS = "_page_calls"
ISSUED = "_page_results"


def begin_page() -> None:
    """Called by the frame before a page runs: forget the last page's calls and results."""
    st.session_state[CALLS] = []
    st.session_state[ISSUED] = {}


def _issue(value: Any, key: str) -> None:
    issued = st.session_state.setdefault(ISSUED, {})
    issued[id(value)] = (key, value)  # the value is held, so its id is not reused in this run
    if isinstance(value, tuple):  # a page unpacks (grid, summary): each part keeps its origin
        for i, part in enumerate(value):
            if not isinstance(part, str | int | float):  # interned scalars have shared ids
                issued[id(part)] = (f"{key}[{i}]", part)


def run(analysis: registry.Analysis[T], trial: S.Trial, *args: Any, **options: Any) -> T:
    """The result of a registered analysis on ``trial``, cached; typed by the analysis.

    Parameters
    ----------
    analysis : Analysis
        An entry of :mod:`respine.analyses.registry`.
    trial : Trial
        The page's trial (its source keys the cache; uploaded data stay in the session).
    *args, **options
        As for the analysis' function after the trial; options not given take their defaults.

    Returns
    -------
    The analysis' result (a copy: a caller may change it).
    """
    inputs = analysis.inputs(trial, *args, **options)
    calls = st.session_state.setdefault(CALLS, [])
    call = (analysis.fn, inputs)
    if call not in calls:
        calls.append(call)
    key = repr(_freeze(inputs, {}))
    value = _runner(analysis)(trial.source, key, inputs, trial)
    _issue(value, f"{trial.source!r} {analysis.name} {key}")
    return value


def values_at_visit(trial: S.Trial, sel: selection.Selection) -> pd.DataFrame:
    """Each subject's values at the selection's visit, for the rows with a value of its measure
    (what a distribution plot draws). A helper of the UI, not shown in the page's code."""
    sel = sel.normalised(trial.endpoint(sel.endpoint)).with_(method=None, covariates=())
    value = _values_at_visit(trial.source, sel, trial)
    _issue(value, f"{trial.source!r} values_at_visit {_freeze(sel, {})!r}")
    return value


@_cached(max_entries=256)
def _values_at_visit(source: str, sel: selection.Selection, _trial: S.Trial) -> pd.DataFrame:
    data = derive.endpoint_data(
        _trial, sel.endpoint, sel.population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi
    )
    data = data[data[S.VISIT_MONTH] == sel.visit]
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    return data.dropna(subset=[column]).reset_index(drop=True)


# ------------------------------------------------------------------ figures


def _freeze(value: Any, issued: dict[int, tuple[str, Any]]) -> Any:
    """A stand-in for an argument made of plain values only (str, numbers, None, tuples), whose
    ``repr`` is an exact key: equal texts mean equal arguments. A result this page run got from
    :func:`run` stands for the inputs that made it; a dataclass for its type and every field;
    other data by their content."""
    hit = issued.get(id(value))
    if hit is not None and hit[1] is value:
        return ("result", hit[0])
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(_freeze(v, issued) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((_freeze(k, issued), _freeze(v, issued)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__,
                tuple((f.name, _freeze(getattr(value, f.name), issued)) for f in dataclasses.fields(value)))
    if isinstance(value, pd.DataFrame | pd.Series):
        # data a page derived itself (rare): keyed by content, so a stale figure is impossible
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        return ("frame", tuple(map(str, frame.columns)), frame.shape,
                int(pd.util.hash_pandas_object(frame, index=True).sum()))
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, hashlib.blake2b(value.tobytes()).hexdigest())
    raise TypeError(
        f"cache.figure cannot key an argument of type {type(value).__name__}: pass a result of "
        "cache.run, plain values, or build the value inside the figure factory"
    )


@st.cache_resource(show_spinner=False, max_entries=256)
def _figure_cached(key: str, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def figure(factory: Callable[..., go.Figure], /, *args: Any, **kwargs: Any) -> go.Figure:
    """``factory(*args, **kwargs)``, built once per key and shared read-only across reruns and
    sessions (building a figure is most of a rerun's cost).

    The key is derived, never written by a page: the factory's dotted name; each result argument
    as the source, analysis and normalised inputs that produced it; every other argument by
    value; and the session's small-cell threshold, so a figure suppressed for an aggregate-only
    session is never shown to a full-detail one, nor the reverse. Figures of uploaded data stay in
    the session that uploaded them.
    """
    issued = st.session_state.get(ISSUED, {})
    trial = st.session_state.get("trial")
    source = getattr(trial, "source", "")
    key = repr((
        source,
        f"{factory.__module__}.{factory.__qualname__}",
        _freeze(args, issued),
        _freeze(kwargs, issued),
        ("min_cell", access.min_cell()),
    ))

    def build() -> go.Figure:
        return factory(*args, **kwargs)

    if is_shared(source):
        return _figure_cached(key, build)
    return _session_memo("figure", lambda *_: build(), (key, None), copy_result=False)
