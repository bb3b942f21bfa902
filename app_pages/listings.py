"""Data listings: the subjects, measurements and adverse events of the selection, searchable,
with CSV and Excel downloads."""

import streamlit as st

from respine.analyses import listings, registry
from respine.present.fmt import md_escape as md
from respine.ui import cache, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, view = ctx.trial, ctx.view

st.title("Data listings")
st.markdown(
    f"The records of population **{md(view.population)}** with the sidebar's filters, as loaded. "
    "Search keeps the rows that contain every word you type, in any column (case does not matter)."
)


def search_box(name: str, what: str) -> str:
    return str(state.option(f"search_{name}", st.text_input, f"Search {what}", default="",
                            placeholder="e.g. a subject id, a term, a visit"))


subjects_tab, measurements_tab, events_tab = st.tabs(["Subjects", "Measurements", "Adverse events"])
with subjects_tab, render.explained():
    text = search_box("subjects", "subjects")
    frame = cache.run(registry.subject_listing, trial, view.population, view.filters, search=text)
    st.caption(f"{len(frame)} subject(s)" + (f" matching “{md(text)}”" if text else ""))
    render.table(frame, "subjects", "listing_subjects")
with measurements_tab, render.explained():
    endpoints = list(listings.measured_endpoints(trial))
    endpoint = state.option("listing_endpoint", st.selectbox, "Endpoint", default="",
                            choices=["", *endpoints],
                            format_func=lambda e: "Every endpoint" if e == "" else ctx.label(e))
    text = search_box("measurements", "measurements")
    frame = cache.run(registry.measurement_listing, trial, view.population, view.filters,
                      endpoint or None, search=text)
    st.caption(f"{len(frame)} record(s)" + (f" matching “{md(text)}”" if text else ""))
    render.table(frame, "measurements", "listing_measurements")
with events_tab, render.explained():
    text = search_box("events", "adverse events")
    frame = cache.run(registry.adverse_event_listing, trial, view.population, view.filters, search=text)
    st.caption(f"{len(frame)} event(s)" + (f" matching “{md(text)}”" if text else ""))
    if frame.empty and not text:
        st.info("No adverse event recorded for the subjects of this selection.")
    else:
        render.table(frame, "adverse_events", "listing_events")
