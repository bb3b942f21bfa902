"""The view in session state, bound to widgets and mirrored in the URL.

``st.session_state["view"]`` holds one :class:`~respine.model.params.ViewState`, the single source
of truth of what the reader chose (one field per declared view parameter, see
:mod:`respine.model.params`; the analysis selection is derived from it by :func:`selection`).
It is written in exactly two ways, never both in one run:

- on a session's first run, from the URL (:func:`init_view`); the URL is never read again;
- afterwards, only by widget change callbacks, which Streamlit runs before the script body.

Widgets use keys ``w_<field>`` and are seeded from the view before they are drawn, in every run
(:func:`seed`): Streamlit drops the state of widgets a run does not draw, or that the browser did
not report on a page switch, and a re-seeded widget shows the view again, never a default.
The URL is written from the view (:func:`sync_url`), early in every run and at its end.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from respine import derive, urlstate
from respine.analyses import availability, compare
from respine.derive.arms import shown_choice
from respine.model import design as S
from respine.model import params
from respine.model.selection import Selection
from respine.present import report
from respine.present.fmt import md_escape

VIEW = "view"
URL_NOTES = "url_notes"
URL_EXTRA = "_url_extra"  # query parameters that are not the view's (the report), written with it


def default_endpoint(trial: S.Trial, endpoints: tuple[str, ...]) -> str:
    """The endpoint a link without one opens: the first measured endpoint of the study's declared
    efficacy group that has data (a scale, not a rule derived from it), else its first endpoint
    with data."""
    for endpoint in trial.design.group("efficacy"):
        if endpoint in endpoints and not trial.endpoint(endpoint).is_derived:
            return endpoint
    return endpoints[0]


def options_for(trial: S.Trial) -> params.Options:
    """The values of every :data:`~respine.model.params.Source` for ``trial``, and its default view."""
    d = trial.design
    endpoints = tuple(availability.available_endpoints(trial))
    default = params.ViewState(
        endpoint=default_endpoint(trial, endpoints),
        visit=d.primary.visit if d.primary else d.visits[-1].number,
        population=d.default_population,
    )
    return params.Options(
        endpoints=endpoints,
        visits=tuple(v.number for v in d.visits),
        populations=tuple(p.id for p in d.populations),
        measures=tuple(derive.MEASURES),
        methods=tuple(compare.CONTINUOUS_METHODS),
        binary_methods=tuple(compare.BINARY_METHODS),
        filter_columns=derive.covariate_columns(trial),
        default=default,
        arms=d.arms,
    )


def choices(field: str, trial: S.Trial | None = None) -> tuple[Any, ...]:
    """The values the view parameter ``field`` may take: its declared fixed list, or those its
    declared source has for ``trial`` (needed then), e.g. ``state.bound("covariance", st.radio,
    options=state.choices("covariance"))``."""
    p = params.BY_NAME[field]
    if isinstance(p.choices, tuple):
        return p.choices
    if trial is None:
        raise ValueError(f"The choices of '{field}' come from the study ({p.choices}); pass the trial.")
    return p.allowed(options_for(trial)) or ()


def init_view(trial: S.Trial) -> None:
    """On a session's first run, build the view from the URL (with notes for bad values).

    Only then: a rerun's query string is whatever the browser's address bar said when the
    reader clicked, which can be older than the view (see :func:`sync_url`), so after the first
    run the URL is written from the view and never read back."""
    if VIEW in st.session_state:
        return
    # The report parameter is not the view's: respine.ui.report.restore reads it.
    query = {k: st.query_params.get_all(k) for k in st.query_params if k != report.PARAM}
    state, notes = urlstate.decode(query, options_for(trial))
    st.session_state[VIEW] = state
    st.session_state[URL_NOTES] = notes


def open_view(trial: S.Trial, query: dict[str, list[str]]) -> None:
    """Make the view of a link (a report item's) the session's view, from a widget callback; the
    link's unusable values are noted as a first run's are, and widgets show the new view."""
    state, notes = urlstate.decode(query, options_for(trial))
    st.session_state[VIEW] = state
    st.session_state[URL_NOTES] = notes
    for key in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[key]


def restore_view(saved: params.ViewState, notes: list[str]) -> None:
    """Put back a view saved before :func:`open_view` (and its notes); widgets show it again."""
    st.session_state[VIEW] = saved
    st.session_state[URL_NOTES] = notes
    for key in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[key]


def reset_view(trial: S.Trial) -> None:
    """A new data set: start from its defaults and forget widget values of the old one."""
    st.session_state[VIEW] = options_for(trial).default
    st.session_state[URL_NOTES] = []
    for key in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[key]


def view() -> params.ViewState:
    return st.session_state[VIEW]


def update(**changes: Any) -> None:
    """Change the view (from a widget callback). A callback of a session that has no view yet
    changes nothing: the URL seeds a new session's view, and only the URL."""
    if VIEW in st.session_state:
        st.session_state[VIEW] = replace(view(), **changes)


def reset(*fields: str) -> None:
    """Set view parameters back to their declared defaults (from a button's callback), e.g.
    ``state.reset(*params.filling("rule"))``, and forget their widgets' values."""
    update(**{name: params.BY_NAME[name].default for name in fields})
    for key in [k for k in st.session_state if any(str(k) == f"w_{n}" or str(k).startswith(f"w_{n}_")
                                                   for n in fields)]:
        del st.session_state[key]


PAGE = "_run_page"
PAGE_CHANGED = "_run_page_changed"


def seed(key: str, value: Any) -> None:
    """Show ``value`` (the view's) in the widget under ``key``, which is about to be drawn.

    Set when the widget holds another value, and in a run on another page than the session's
    previous run, even when the server's state of the widget already holds the value. That is
    for page switches that overtake each other (Load data, then Population while the Load data
    run starts): the browser drops a page's widget states when a run for another page starts;
    the next run, back on the first page, gets those widgets' values from the rerun message
    (sent before the drop), so Streamlit sees no change to send; the browser then draws the
    widgets at their defaults and reports the defaults with the next click, and their change
    callbacks wrote sliders at 0 and the first visit into the view (seen once with 8 sessions;
    the path follows Streamlit's ``SessionState.register_widget``, which sends a value to the
    browser only when it was set in this run, and the frontend's ``handleNewSession``).
    """
    if st.session_state.get(PAGE_CHANGED, True) or st.session_state.get(key, _MISSING) != value:
        st.session_state[key] = value


URL_SENT = "_url_sent"


def sync_url(trial: S.Trial) -> None:
    """Write the current view into the address bar, so the URL always reopens this view (with
    the query parameters that are not the view's, :data:`URL_EXTRA`: the report).

    Written in every run, whatever the rerun's query string says. That query string is not a
    reliable picture of the address bar (found with 3 to 8 concurrent sessions, whose runs are
    slow enough for clicks to overtake them; tests/browser/test_browser_concurrency.py):

    - it is what the browser had when the reader clicked: a change made while the previous run
      was still going (Population PP, then straight back to MITT) carries the query string from
      before that run's own URL update arrived, so "the URL already says so" was wrong, nothing
      was written, and the late update left ``pop=PP`` in a URL whose view was MITT;
    - on a page switch Streamlit's frontend sends an empty query string and, when the new page's
      navigation message arrives, pushes ``/<page>`` with no query at all; when the clicks
      overtook each other (Report, then Safety while Report's run started) the rerun carried the
      old query, nothing was written, and the address bar kept ``/safety`` without the filter.

    A reload, a shared link, or a reconnect that gets a new session (the server restarted, or
    the browser was away longer than ``server.disconnectedSessionTTL``) then rebuilt the view
    from that URL: the sidebar was back to "111 of 111". So the frame calls this at the start of
    the sidebar, right after the navigation message (after a page switch the address bar lacks
    the query until then; it used to lack it until the end of the run, or until the next run if
    this one was interrupted), and ``app.py`` at the end of the run; the second call sends again
    only if the view changed in between. Sending an unchanged query costs one small message:
    the frontend pushes a history entry only for a query that differs from the address bar's.
    """
    wanted = {**urlstate.encode(view(), options_for(trial).default), **st.session_state.get(URL_EXTRA, {})}
    if st.session_state.get(URL_SENT) == wanted:
        return
    st.query_params.from_dict(wanted)
    st.session_state[URL_SENT] = wanted


EFFECTIVE = "_effective_view"


def begin_run() -> None:
    """Called by the frame at the start of every run: forget last run's page-effective values
    and that its URL was sent (each run sends the URL again, see :func:`sync_url`), and note
    whether the run is on another page than the previous one."""
    st.session_state[EFFECTIVE] = {}
    st.session_state.pop(URL_SENT, None)
    # The page this run was asked for (st.navigation has not run yet): a run on another page
    # than the previous one, even one that was interrupted, seeds every widget (see seed).
    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx is not None else None
    st.session_state[PAGE_CHANGED] = page is None or st.session_state.get(PAGE) != page
    st.session_state[PAGE] = page


def bound(
    field: str, widget: Callable[..., Any], label: str | None = None, options: Sequence[Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Draw ``widget`` bound to the view's ``field``; return its value.

    ``label`` defaults to the parameter's declared label (:mod:`respine.model.params`).

    The view is the reader's intent and the single source of truth: the widget's key is set from
    the view before the widget is drawn, and a change callback copies the widget's value back.
    With ``options``, a view value that this page does not offer (say, a visit the endpoint lacks)
    is shown as the first option with a note, without being written back: the choice made on
    another page, or in a link, survives a visit here. :func:`selection` uses the value shown.
    """
    key = f"w_{field}"
    current = getattr(view(), field)
    if label is None:
        label = params.BY_NAME[field].label
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
    seed(key, current)
    value = widget(label, key=key, on_change=_copy_to_view, args=(field, key, current), **kwargs)
    st.session_state.setdefault(EFFECTIVE, {})[field] = value
    return value


_MISSING = object()


def bound_multi(field: str, label: str | None, options: Sequence[str], **kwargs: Any) -> tuple[str, ...]:
    """A multiselect bound to a tuple field of the view (values not among the options are dropped);
    ``label`` None is the parameter's declared label."""
    key = f"w_{field}_{zlib.crc32(repr(list(options)).encode()):08x}"
    if label is None:
        label = params.BY_NAME[field].label
    current = [v for v in getattr(view(), field) if v in options]
    seed(key, current)
    st.multiselect(label, list(options), key=key, on_change=_copy_tuple_to_view, args=(field, key), **kwargs)
    return tuple(current)


def _copy_tuple_to_view(field: str, key: str) -> None:
    update(**{field: tuple(st.session_state[key])})


def _copy_to_view(field: str, key: str, shown: Any = _MISSING) -> None:
    value = st.session_state[key]
    if value == shown and getattr(view(), field) in ("", None):
        # The value the page showed for an unset field (its first option): not a choice. Under load
        # Streamlit can fire a change callback for a widget it re-registers with that value, which
        # wrote e.g. method=welch into the view and the link (seen in the concurrency test).
        return
    update(**{field: value})


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
    seed(key, value)
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


def selection(trial: S.Trial, **overrides: Any) -> Selection:
    """The analysis :class:`~respine.model.selection.Selection` the current view asks for, with the values
    the page actually shows (see :func:`bound`) and any explicit ``overrides``.

    Built from the declarations (:func:`respine.model.params.to_selection`), for the kind of the
    endpoint the analysis is about (an override's, else the view's): it picks the continuous or
    the binary method."""
    shown = {k: val for k, val in st.session_state.get(EFFECTIVE, {}).items() if k in params.BY_NAME}
    v = params.with_values(view(), shown)
    endpoint = overrides.get("endpoint", v.endpoint)
    # The arms are those the page's trial shows: a choice the study could not make fell back
    # (respine.ui.context.compared), and the selection names what is analysed.
    arms, pool = shown_choice(trial)
    v = params.with_values(v, {"arms": arms, "pool": pool})
    sel = params.to_selection(v, trial.endpoint(endpoint).kind)
    return sel.with_(**overrides) if overrides else sel
