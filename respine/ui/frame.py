"""The frame around every page: data status, population and subgroup filters, URL notes.

These controls live in ``app.py``'s sidebar, so they survive page switches.
"""

from __future__ import annotations

import streamlit as st

from respine import derive, fmt, privacy
from respine import schema as S
from respine.errors import RespineError
from respine.ui import access, cache, state

MAX_FILTERS = 6


def _covariates(trial: S.Trial) -> dict[str, S.Covariate]:
    table = derive.subject_table(trial)
    return {c.column: c for c in trial.design.covariates if c.column in table.columns}


def sidebar(trial: S.Trial) -> None:
    design = trial.design
    with st.sidebar:
        st.markdown(
            f"**{fmt.md_escape(design.id)}** · {'synthetic twin' if trial.synthetic else 'study data'}"
        )
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
            state.bound(
                "reference",
                st.selectbox,
                "Reference arm",
                options=list(design.arms),
                help="Every other arm is compared with this one.",
            )
        _filters(trial)
        _counts(trial)
        for note in st.session_state.get(state.URL_NOTES, []):
            st.warning(fmt.md_escape(note), icon=":material/link_off:")


def _filters(trial: S.Trial) -> None:
    """Any combination of subject covariates; levels are OR-ed, covariates AND-ed."""
    covariates = _covariates(trial)
    cov_labels = {c: cov.label for c, cov in covariates.items()}
    view = state.view()
    current = {f.column: f for f in view.filters if f.column in cov_labels}
    if "w_filter_columns" not in st.session_state:
        st.session_state["w_filter_columns"] = list(current)
    columns = st.multiselect(
        "Subgroup filters",
        list(cov_labels),
        key="w_filter_columns",
        format_func=lambda c: cov_labels[c],
        max_selections=MAX_FILTERS,
        help="Restrict every page to subjects with these characteristics.",
    )
    filters = []
    for col in columns:
        key = f"w_filter_{col}"
        existing = current.get(col)
        if covariates[col].kind == "continuous":
            lo, hi = cache.covariate_range(trial.source, col, trial)
            if key not in st.session_state:
                # a link's range is clamped to the data's, so the slider can always show it
                want_lo = existing.low if existing and existing.low is not None else lo
                want_hi = existing.high if existing and existing.high is not None else hi
                clamped = (min(max(want_lo, lo), hi), max(min(want_hi, hi), lo))
                if existing and clamped != (want_lo, want_hi):
                    _note(f"{cov_labels[col]}: the link's range was limited to the data ({lo:g} to {hi:g}).")
                st.session_state[key] = (min(clamped), max(clamped))
            low, high = st.slider(cov_labels[col], min_value=lo, max_value=hi, key=key)
            filters.append(derive.SubgroupFilter(col, (), float(low), float(high)))
        else:
            levels = cache.covariate_levels(trial.source, col, trial)
            if key not in st.session_state:
                # A filter from the view (a link) keeps its levels, even none; a new one starts full.
                chosen = [v for v in existing.values if v in levels] if existing else list(levels)
                unknown = [v for v in existing.values if v not in levels] if existing else []
                if unknown:
                    fallback = "" if chosen else " The filter was ignored."
                    _note(
                        f"{cov_labels[col]}: {', '.join(unknown)} is not a value in the data; values are "
                        f"{', '.join(levels)}.{fallback}"
                    )
                    chosen = chosen or list(levels)
                st.session_state[key] = chosen
            values = st.multiselect(cov_labels[col], list(levels), key=key)
            filters.append(derive.SubgroupFilter(col, tuple(values)))
    combined = tuple(filters)
    if combined != view.filters:
        state.update(filters=combined)


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
        st.error(str(exc))
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
