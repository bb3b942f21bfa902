"""Cached wrappers around the core. Arguments are hashable; the trial itself is keyed by source.

The shipped (or configured) trial is one shared, read-only object (``cache_resource``); its
analyses are cached per (trial source, selection) with ``cache_data``, so a warm interaction
recomputes nothing it has seen before in any session.

A trial a reader uploaded is theirs alone: its results are cached in that session's state (see
:func:`_cached`), never in the process-wide caches, so they are freed with the session and no
other session can reach them, even by guessing the source.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from respine import derive
from respine.analyses import compare, individual, missing, published, robustness, subgroups, trend
from respine.io import load_trial
from respine.model import design as S
from respine.model import results, selection
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


@_cached(max_entries=512)
def _analyze_cached(source: str, sel: selection.Selection, _trial: S.Trial) -> results.AnalysisResult:
    return compare.analyze(_trial, sel)


@_cached(max_entries=512)
def _over_time_cached(source: str, sel: selection.Selection, _trial: S.Trial) -> pd.DataFrame:
    return trend.over_time(_trial, sel)


def values_at_visit(source: str, sel: selection.Selection, _trial: S.Trial) -> pd.DataFrame:
    return _values_at_visit(
        source, sel.normalised(_trial.endpoint(sel.endpoint).kind).with_(method=None, covariates=()), _trial
    )


@_cached(max_entries=256)
def _values_at_visit(source: str, sel: selection.Selection, _trial: S.Trial) -> pd.DataFrame:
    data = derive.endpoint_data(
        _trial, sel.endpoint, sel.population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi
    )
    return data[data[S.VISIT_MONTH] == sel.visit].reset_index(drop=True)


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


@_cached(max_entries=16)
def _primary_check_cached(source: str, _trial: S.Trial) -> pd.DataFrame:
    return published.primary_check(_trial)


@_cached(max_entries=16)
def _population_counts_cached(source: str, _trial: S.Trial) -> pd.DataFrame:
    return published.population_counts(_trial)


@_cached(max_entries=64)
def covariate_levels(source: str, column: str, _trial: S.Trial) -> tuple[str, ...]:
    """Sorted levels of a categorical covariate (numbers in numeric order)."""
    col = derive.subject_table(_trial)[column].dropna()
    return tuple(sorted(derive.as_levels(col).unique(), key=derive.natural_key))


@_cached(max_entries=64)
def covariate_range(source: str, column: str, _trial: S.Trial) -> tuple[float, float]:
    col = pd.to_numeric(derive.subject_table(_trial)[column], errors="coerce")
    return (float(col.min()), float(col.max()))



@_cached(max_entries=64)
def _baseline_table_cached(
    source: str, population: str, filters: Filters, _trial: S.Trial
) -> tuple[pd.DataFrame, list[str]]:
    """(table, notes)."""
    from respine.analyses.baseline import baseline_notes
    from respine.analyses.baseline import baseline_table as build

    return build(_trial, population, filters), baseline_notes(_trial, population, filters)


@_cached(max_entries=16)
def _participant_flow_cached(source: str, endpoint: str, _trial: S.Trial) -> pd.DataFrame:
    from respine.analyses.flow import participant_flow as build

    return build(_trial, endpoint)


@_cached(max_entries=64)
def _safety_tables_cached(
    source: str, population: str, filters: Filters, serious_only: bool, _trial: S.Trial
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(overview, by organ class and term, immune response)."""
    from respine.analyses import safety

    return (
        safety.ae_overview(_trial, population, filters),
        safety.ae_by_term(_trial, population, filters, serious_only),
        safety.immune_response(_trial, population, filters),
    )


def _registry() -> dict:
    pass
    pass

    return {
        "subgroups": subgroups.subgroup_analysis,
        "cumulative": individual.cumulative_distribution,
        "sweep": individual.threshold_sweep,
        "trajectories": individual.trajectories,
        "waterfall": individual.waterfall,
        "structure": individual.structure_vs_symptoms,
        "completion": missing.completion,
        "patterns": missing.missing_patterns,
        "paper": published.paper_check,
        "over_time_adjusted": trend.over_time_adjusted,
        "sensitivity": robustness.sensitivity,
        "tipping": robustness.tipping,
        "bayes": robustness.bayes_reading,
        "multiplicity": robustness.multiplicity_over_visits,
        "gee": robustness.gee_over_visits,
        "over_time_mmrm": trend.over_time_mmrm,
        "multiplicity_endpoints": robustness.multiplicity_over_endpoints,
    }


@_cached(max_entries=512)
def _compute_cached(source: str, name: str, args: tuple, _trial: S.Trial) -> object:
    """Cached call of a named core view function with hashable arguments: ``fn(trial, *args)``."""
    return _registry()[name](_trial, *args)


# Public wrappers: each records the core call it stands for, so the page can show the Python
# code that reproduces it (the cached bodies do not run on a cache hit, so recording is here).
CALLS = "_page_calls"
REGISTRY_PATHS = {
    "subgroups": "respine.analyses.subgroups.subgroup_analysis",
    "cumulative": "respine.analyses.individual.cumulative_distribution",
    "sweep": "respine.analyses.individual.threshold_sweep",
    "trajectories": "respine.analyses.individual.trajectories",
    "waterfall": "respine.analyses.individual.waterfall",
    "structure": "respine.analyses.individual.structure_vs_symptoms",
    "completion": "respine.analyses.missing.completion",
    "patterns": "respine.analyses.missing.missing_patterns",
    "paper": "respine.analyses.published.paper_check",
    "over_time_adjusted": "respine.analyses.trend.over_time_adjusted",
    "sensitivity": "respine.analyses.robustness.sensitivity",
    "tipping": "respine.analyses.robustness.tipping",
    "bayes": "respine.analyses.robustness.bayes_reading",
    "multiplicity": "respine.analyses.robustness.multiplicity_over_visits",
    "gee": "respine.analyses.robustness.gee_over_visits",
    "over_time_mmrm": "respine.analyses.trend.over_time_mmrm",
    "multiplicity_endpoints": "respine.analyses.robustness.multiplicity_over_endpoints",
}


def _record(function: str, args: tuple) -> None:
    calls = st.session_state.setdefault(CALLS, [])
    if (function, args) not in calls:
        calls.append((function, args))


def analyze(source: str, sel: selection.Selection, _trial: S.Trial) -> results.AnalysisResult:
    sel = sel.normalised(_trial.endpoint(sel.endpoint).kind)
    _record("respine.analyses.compare.analyze", (sel,))
    return _analyze_cached(source, sel, _trial)


def over_time(source: str, sel: selection.Selection, _trial: S.Trial) -> pd.DataFrame:
    sel = sel.for_trend(_trial.endpoint(sel.endpoint).kind)
    _record("respine.analyses.trend.over_time", (sel,))
    return _over_time_cached(source, sel, _trial)


def primary_check(source: str, _trial: S.Trial) -> pd.DataFrame:
    _record("respine.analyses.published.primary_check", ())
    return _primary_check_cached(source, _trial)


def population_counts(source: str, _trial: S.Trial) -> pd.DataFrame:
    _record("respine.analyses.published.population_counts", ())
    return _population_counts_cached(source, _trial)


def baseline_table(
    source: str, population: str, filters: Filters, _trial: S.Trial
) -> tuple[pd.DataFrame, list[str]]:
    _record("respine.analyses.baseline.baseline_table", (population, filters))
    return _baseline_table_cached(source, population, filters, _trial)


def participant_flow(source: str, endpoint: str, _trial: S.Trial) -> pd.DataFrame:
    _record("respine.analyses.flow.participant_flow", (endpoint,))
    return _participant_flow_cached(source, endpoint, _trial)


def compute(source: str, name: str, args: tuple, _trial: S.Trial) -> object:
    """Cached call of a named core view function with hashable arguments: ``fn(trial, *args)``."""
    _record(REGISTRY_PATHS[name], args)
    return _compute_cached(source, name, args, _trial)


def safety_tables(
    source: str, population: str, filters: Filters, serious_only: bool, _trial: S.Trial
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(overview, by organ class and term, immune response)."""
    _record("respine.analyses.safety.ae_overview", (population, filters))
    _record("respine.analyses.safety.ae_by_term", (population, filters, serious_only))
    _record("respine.analyses.safety.immune_response", (population, filters))
    return _safety_tables_cached(source, population, filters, serious_only, _trial)


@st.cache_resource(show_spinner=False, max_entries=256)
def _figure_cached(key: tuple, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def _figure_of(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    # key[0] is the source by convention of the pages; a figure of uploaded data stays in the session
    if key and isinstance(key[0], str) and is_shared(key[0]):
        return _figure_cached(key, build)
    return _session_memo("figure", lambda *_: build(), (key, None), copy_result=False)


def figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """A figure built once per ``key`` (everything it depends on: source, selection, titles) and
    shared read-only across reruns and sessions; building a figure is most of a rerun's cost.

    The session's small-cell threshold is part of the key, so a figure suppressed for an
    aggregate-only session is never shown to a full-detail one, nor the reverse."""
    return _figure_of((*key, ("min_cell", access.min_cell())), build)
