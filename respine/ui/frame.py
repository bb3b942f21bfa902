"""The frame around every page: data status, population and subgroup filters, URL notes.

These controls live in ``app.py``'s sidebar, so they survive page switches.
"""

from __future__ import annotations

import streamlit as st

from respine import derive
from respine.errors import RespineError
from respine.model import design as S
from respine.model.selection import SubgroupFilter
from respine.present import fmt, privacy
from respine.ui import access, cache, controls, state

MAX_FILTERS = 6


def _covariates(trial: S.Trial) -> dict[str, S.Covariate]:
    table = derive.subject_table(trial)
    return {c.column: c for c in trial.design.covariates if c.column in table.columns}


#: Shown under the study's name while a session explores data it loaded itself (an upload, or a
#: server folder opened on the Load data page), which live in that session's server process only.
LOADED_DATA_NOTE = (
    ":material/info: Data loaded in this session live on this server only. If the connection is "
    "lost, reload the page: the link restores your page and choices, but the data have to be "
    "loaded again (Load data)."
)


def sidebar(trial: S.Trial) -> None:
    design = trial.design
    # The navigation message of this run has just left for the browser; after a page switch it
    # leaves the address bar without a query string, so write the view back at once, not only
    # when (and if) the run gets to its end (see state.sync_url).
    state.sync_url(trial)
    with st.sidebar:
        st.markdown(
            f"**{fmt.md_escape(design.id)}** · {'synthetic twin' if trial.synthetic else 'study data'}"
        )
        if not cache.is_shared(trial.source):
            # Said before it happens: when the server goes away, Streamlit's own "connection"
            # notice is all a reader sees, and it cannot say what a reload brings back.
            st.caption(LOADED_DATA_NOTE)
        pops = [p.id for p in design.populations]
        labels = {p.id: f"{p.id}: {p.label}" for p in design.populations}
        state.bound(
            "population",
            st.selectbox,
            "Population",
            options=pops,
            format_func=lambda p: labels.get(p, p),
            help="Analysis population; definitions on the overview page.",
        )
        if len(design.arms) > 2:
            # the study's reference first: a view that names none shows (and analyses) it
            state.bound(
                "reference",
                st.selectbox,
                "Reference arm",
                options=[design.reference_arm, *design.treatment_arms],
                help="Every other arm is compared with this one.",
            )
            controls.arms(trial)
        _filters(trial)
        _counts(trial)
        for note in st.session_state.get(state.URL_NOTES, []):
            st.warning(fmt.md_escape(note), icon=":material/link_off:")


def _filters(trial: S.Trial) -> None:
    """Any combination of subject covariates; levels are OR-ed, covariates AND-ed.

    The view's filters are the truth: the widgets are seeded from them in every run and only
    their change callbacks write them. (They used to be read back from whatever the widgets held
    in every run, which made Streamlit's widget state, not the view, the source of the filters;
    a widget whose state Streamlit drops, on a page switch for every widget the browser did not
    report, is now simply seeded from the view again.)
    """
    covariates = _covariates(trial)
    cov_labels = {c: cov.label for c, cov in covariates.items()}
    filters = _drawable_filters(trial, covariates)
    state.seed("w_filter_columns", [f.column for f in filters])
    st.multiselect(
        "Subgroup filters",
        list(cov_labels),
        key="w_filter_columns",
        format_func=lambda c: cov_labels[c],  # options of a multiselect are plain text
        max_selections=MAX_FILTERS,
        help="Restrict every page to subjects with these characteristics.",
        on_change=_columns_changed,
        args=(trial,),
    )
    for f in filters:
        key = f"w_filter_{f.column}"
        if covariates[f.column].kind == "continuous":
            lo, hi = cache.covariate_range(trial.source, f.column, trial)
            state.seed(key, (f.low, f.high))
            st.slider(
                fmt.md_escape(cov_labels[f.column]), min_value=lo, max_value=hi, key=key,
                on_change=_range_changed, args=(f.column, key),
            )
        else:
            levels = cache.covariate_levels(trial.source, f.column, trial)
            state.seed(key, list(f.values))
            st.multiselect(
                fmt.md_escape(cov_labels[f.column]), list(levels), key=key, on_change=_levels_changed,
                args=(f.column, key),
            )


def _drawable_filters(
    trial: S.Trial, covariates: dict[str, S.Covariate]
) -> tuple[SubgroupFilter, ...]:
    """The view's filters as the widgets can show them: a link's levels that are not in the data
    are dropped (all levels if none is left) and its ranges clamped to the data's, with a note.

    Only a view built from a link can need this (the widgets offer nothing else), so this writes
    the view in a session's first run (or after new data), never in a run with a callback."""
    cov_labels = {c: cov.label for c, cov in covariates.items()}
    view = state.view()
    current = {f.column: f for f in view.filters if f.column in covariates}
    if len(current) > MAX_FILTERS:
        _note(f"The link has {len(current)} subgroup filters; the first {MAX_FILTERS} are used.")
    out = []
    for col, existing in list(current.items())[:MAX_FILTERS]:
        if covariates[col].kind == "continuous":
            lo, hi = cache.covariate_range(trial.source, col, trial)
            want_lo = existing.low if existing.low is not None else lo
            want_hi = existing.high if existing.high is not None else hi
            clamped = (min(max(want_lo, lo), hi), max(min(want_hi, hi), lo))
            if clamped != (want_lo, want_hi):
                _note(f"{cov_labels[col]}: the link's range was limited to the data ({lo:g} to {hi:g}).")
            out.append(SubgroupFilter(col, (), float(min(clamped)), float(max(clamped))))
        else:
            levels = cache.covariate_levels(trial.source, col, trial)
            # A filter from a link keeps its levels, even none; one added in the sidebar starts full.
            chosen = [v for v in existing.values if v in levels]
            unknown = [v for v in existing.values if v not in levels]
            if unknown:
                fallback = "" if chosen else " The filter was ignored."
                _note(
                    f"{cov_labels[col]}: {', '.join(unknown)} is not a value in the data; values are "
                    f"{', '.join(levels)}.{fallback}"
                )
                chosen = chosen or list(levels)
            out.append(SubgroupFilter(col, tuple(chosen)))
    drawable = tuple(out)
    if drawable != view.filters:
        state.update(filters=drawable)
    return drawable


# Change callbacks: Streamlit runs them before the script body, so the run that follows a change
# draws every widget, the counts and the URL from a view that already has it.


def _columns_changed(trial: S.Trial) -> None:
    """Covariates added (all levels, the whole range) or removed in "Subgroup filters"."""
    kept = {f.column: f for f in state.view().filters}
    covariates = _covariates(trial)
    filters = []
    for col in st.session_state.get("w_filter_columns") or []:
        if col in kept:
            filters.append(kept[col])
        elif col in covariates and covariates[col].kind == "continuous":
            lo, hi = cache.covariate_range(trial.source, col, trial)
            filters.append(SubgroupFilter(col, (), float(lo), float(hi)))
        elif col in covariates:
            levels = cache.covariate_levels(trial.source, col, trial)
            filters.append(SubgroupFilter(col, tuple(levels)))
    state.update(filters=tuple(filters))


def _levels_changed(column: str, key: str) -> None:
    _replace_filter(SubgroupFilter(column, tuple(st.session_state.get(key) or ())))


def _range_changed(column: str, key: str) -> None:
    low, high = st.session_state[key]
    _replace_filter(SubgroupFilter(column, (), float(low), float(high)))


def _replace_filter(new: SubgroupFilter) -> None:
    """The filter on ``new.column`` becomes ``new`` (none if the column was removed meanwhile)."""
    state.update(filters=tuple(new if f.column == new.column else f for f in state.view().filters))


def _note(text: str) -> None:
    """A note about the link, kept with the link's other notes (shown until the data change)."""
    notes = st.session_state.setdefault(state.URL_NOTES, [])
    if text not in notes:
        notes.append(text)


def _counts(trial: S.Trial) -> None:
    view = state.view()
    try:
        kept, in_pop, randomised = cache.subject_counts(trial.source, view.population, view.filters, trial)
    except RespineError as exc:
        st.error(fmt.md_escape(str(exc)))
        return
    k = access.min_cell()
    if k > 0 and kept > 0 and _withheld(trial, k):
        # The count of a selection whose results are withheld would give away what they hide
        # (the sidebar said "3 of 111 subjects" for a selection it did not show).
        st.warning(
            f"Selection withheld: it leaves fewer than {k} subjects in an arm (aggregate-only mode), so "
            "neither its results nor its size are shown.",
            icon=":material/visibility_off:",
        )
        return
    population = fmt.md_escape(view.population)
    shown_pop = privacy.count_cell(in_pop, k)
    text = f"**{kept}** of {shown_pop} subjects in {population}; {randomised} randomised."
    if kept == 0:
        st.error(text + " No subject matches the filters: widen or remove one.")
    elif view.filters:
        st.info(text, icon=":material/filter_alt:")
    else:
        st.caption(text)


def _withheld(trial: S.Trial, k: int) -> bool:
    view = state.view()
    try:
        counts = cache.arm_counts(trial.source, view.population, view.filters, trial)
    except RespineError:
        return False
    return bool(privacy.small_arms(counts, k))


def disclosure_allows(trial: S.Trial) -> bool:
    """In aggregate-only mode, a selection with an arm of fewer than k subjects shows no results."""
    k = access.min_cell()
    if k <= 0:
        return True
    view = state.view()
    try:
        counts = cache.arm_counts(trial.source, view.population, view.filters, trial)
    except RespineError:
        return True  # the page itself explains a selection that cannot be made
    small = privacy.small_arms(counts, k)
    if not small:
        return True
    st.warning(
        f"Aggregate-only mode: the selection leaves fewer than {k} subjects in "
        f"{fmt.md_escape(', '.join(small))}, so its results are not shown. Widen or remove a subgroup "
        "filter, or choose another population.",
        icon=":material/visibility_off:",
    )
    return False
