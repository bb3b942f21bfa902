"""The view in session state, bound to widgets and mirrored in the URL.

``st.session_state["view"]`` holds one :class:`~respine.urlstate.ViewState`. Widgets use keys
``w_<field>``; a widget's key is seeded from the view when missing (Streamlit drops the state of
widgets a page does not draw, so each page re-seeds from the view and pages stay in step).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from respine import analysis, derive, urlstate
from respine import schema as S
from respine.fmt import md_escape
from respine.rules import ResponderRule

VIEW = "view"
URL_NOTES = "url_notes"


def options_for(trial: S.Trial) -> urlstate.Options:
    d = trial.design
    endpoints = tuple(analysis.available_endpoints(trial))
    default = urlstate.ViewState(
        endpoint="VAS" if "VAS" in endpoints else endpoints[0],
        visit=d.primary.visit if d.primary else d.visits[-1].number,
        population=d.default_population,
    )
    return urlstate.Options(
        endpoints=endpoints,
        visits=tuple(v.number for v in d.visits),
        populations=tuple(p.id for p in d.populations),
        measures=tuple(derive.MEASURES),
        methods=tuple(analysis.CONTINUOUS_METHODS),
        binary_methods=tuple(analysis.BINARY_METHODS),
        filter_columns=derive.covariate_columns(trial),
        default=default,
        arms=d.arms,
    )


def init_view(trial: S.Trial) -> None:
    """On a session's first run, build the view from the URL (with notes for bad values)."""
    if VIEW in st.session_state:
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    state, notes = urlstate.decode(params, options_for(trial))
    st.session_state[VIEW] = state
    st.session_state[URL_NOTES] = notes


def reset_view(trial: S.Trial) -> None:
    """A new data set: start from its defaults and forget widget values of the old one."""
    st.session_state[VIEW] = options_for(trial).default
    st.session_state[URL_NOTES] = []
    for key in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[key]


def view() -> urlstate.ViewState:
    return st.session_state[VIEW]


def update(**changes: Any) -> None:
    st.session_state[VIEW] = replace(view(), **changes)


def sync_url(trial: S.Trial) -> None:
    """Write the current view into the address bar, so the URL always reopens this view."""
    wanted = urlstate.encode(view(), options_for(trial).default)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)


EFFECTIVE = "_effective_view"


def begin_run() -> None:
    """Called by the frame at the start of every run: forget last run's page-effective values."""
    st.session_state[EFFECTIVE] = {}


def bound(
    field: str, widget: Callable[..., Any], label: str, options: Sequence[Any] | None = None, **kwargs: Any
) -> Any:
    """Draw ``widget`` bound to the view's ``field``; return its value.

    The view is the reader's intent and the single source of truth: the widget's key is set from
    the view before the widget is drawn, and a change callback copies the widget's value back.
    With ``options``, a view value that this page does not offer (say, a visit the endpoint lacks)
    is shown as the first option with a note, without being written back: the choice made on
    another page, or in a link, survives a visit here. :func:`selection` uses the value shown.
    """
    key = f"w_{field}"
    current = getattr(view(), field)
    if options is not None:
        options = list(options)
        # Streamlit gives a widget whose options change a new identity and resets it to its
        # first option, ignoring the value under its key; one key per options set avoids that.
        key = f"{key}_{zlib.crc32(repr(options).encode()):08x}"
        if current not in options:
            if current not in ("", None):
                shown = kwargs.get("format_func", str)
                st.caption(
                    f"{md_escape(label)}: {md_escape(shown(current))} is not available here; "
                    f"showing {md_escape(shown(options[0]))}."
                )
            current = options[0]
        kwargs["options"] = options
    if st.session_state.get(key, _MISSING) != current:
        st.session_state[key] = current
    value = widget(label, key=key, on_change=_copy_to_view, args=(field, key), **kwargs)
    st.session_state.setdefault(EFFECTIVE, {})[field] = value
    return value


_MISSING = object()


def bound_multi(field: str, label: str, options: Sequence[str], **kwargs: Any) -> tuple[str, ...]:
    """A multiselect bound to a tuple field of the view (values not among the options are dropped)."""
    key = f"w_{field}_{zlib.crc32(repr(list(options)).encode()):08x}"
    current = [v for v in getattr(view(), field) if v in options]
    if st.session_state.get(key, _MISSING) != current:
        st.session_state[key] = current
    st.multiselect(label, list(options), key=key, on_change=_copy_tuple_to_view, args=(field, key), **kwargs)
    return tuple(current)


def _copy_tuple_to_view(field: str, key: str) -> None:
    update(**{field: tuple(st.session_state[key])})


def _copy_to_view(field: str, key: str) -> None:
    update(**{field: st.session_state[key]})


def _option_text(name: str) -> str | None:
    return dict(view().options).get(name)


def _set_option(name: str, text: str | None) -> None:
    opts = dict(view().options)
    if text is None:
        opts.pop(name, None)
    else:
        opts[name] = text
    update(options=tuple(sorted(opts.items())))


def option(name: str, widget: Callable[..., Any], label: str, default: Any,
           choices: Sequence[Any] | None = None, **kwargs: Any) -> Any:
    """A page option kept in the view (so in the link as ``o_<name>``) and validated here.

    Values are stored as text: choices by their position-independent ``str``, multiselects as
    ``a|b``, toggles as ``1``/``0``. A link value the page cannot use falls back to ``default``
    with a note; the default itself is left out of the link.
    """
    key = f"w_opt_{name}"
    multi = widget is st.multiselect
    text = _option_text(name)
    value = default
    if text is not None:
        try:
            if multi:
                parts = [p for p in text.split("|") if p]
                value = [c for c in (choices or []) if str(c) in parts]
                if len(value) != len(parts):
                    raise ValueError
            elif choices is not None:
                value = next(c for c in choices if str(c) == text)
            elif isinstance(default, bool):
                value = text == "1"
            elif isinstance(default, int | float):
                value = type(default)(float(text))
                lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
                if (lo is not None and value < lo) or (hi is not None and value > hi):
                    raise ValueError
            else:
                value = text[:200]
        except (StopIteration, ValueError):
            st.caption(f"{md_escape(label)}: the link's value is not available here; showing the default.")
            value = default
    if choices is not None:
        kwargs["options"] = list(choices)
    if st.session_state.get(key, _MISSING) != value:
        st.session_state[key] = value
    out = widget(label, key=key, on_change=_copy_option, args=(name, key, default, multi), **kwargs)
    return out


def _copy_option(name: str, key: str, default: Any, multi: bool) -> None:
    value = st.session_state[key]
    if value == default:
        _set_option(name, None)
    elif multi:
        _set_option(name, "|".join(str(v) for v in value))
    elif isinstance(value, bool):
        _set_option(name, "1" if value else "0")
    else:
        _set_option(name, f"{value:g}" if isinstance(value, float) else str(value))


def selection(trial: S.Trial, **overrides: Any) -> analysis.Selection:
    """The analysis :class:`~respine.analysis.Selection` the current view asks for, with the values
    the page actually shows (see :func:`bound`) and any explicit ``overrides``."""
    v = replace(
        view(), **{k: val for k, val in st.session_state.get(EFFECTIVE, {}).items() if k in _VIEW_FIELDS}
    )
    endpoint = overrides.get("endpoint", v.endpoint)
    binary = trial.endpoint(endpoint).kind == "binary"
    method = (v.binary_method if binary else v.method) or None
    sel = analysis.Selection(
        endpoint=v.endpoint,
        visit=v.visit,
        population=v.population or None,
        measure=v.measure,
        method=method,
        filters=v.filters,
        rule=ResponderRule(v.vas_pct, v.vas_mm, v.vas_join, v.odi_pct, 0.0, v.join),
        mcid_vas=v.mcid_vas,
        mcid_odi=v.mcid_odi,
        covariates=v.covariates,
        covariance=v.covariance,
        df_method=v.df_method,
        lsmeans_weights=v.lsmeans_weights,
        reference=v.reference or None,
    )
    return sel.with_(**overrides) if overrides else sel


_VIEW_FIELDS = {f.name for f in fields(urlstate.ViewState)}
