"""Safety: adverse-event overview, events by organ class and term, and immune response."""

import streamlit as st

from respine.analyses import registry
from respine.present import tables
from respine.present.fmt import md_escape as md
from respine.present.fmt import md_phrase
from respine.ui import cache, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, arms, view, k = ctx.trial, ctx.arms, ctx.view, ctx.k

st.title("Safety")
st.markdown(
    f"Subjects with at least one event, in population **{md(view.population)}** (choose "
    "SAFETY in the sidebar for the treated population). Risk differences use Newcombe's "
    "CI; p-values are from Fisher's exact test and are descriptive."
)
serious_only = state.option(
    "safety_serious", st.toggle, "Serious events only (organ class table)", default=False
)
with render.explained():
    overview = cache.run(registry.ae_overview, trial, view.population, view.filters)
    by_term = cache.run(registry.ae_by_term, trial, view.population, view.filters, serious_only)
    immune = cache.run(registry.immune_response, trial, view.population, view.filters)
    st.subheader("Overview")
    render.table(
        tables.counts_display(overview, arms, "category", "Category", min_cell=k),
        "ae_overview",
        "ae_overview",
    )
    st.subheader("By system organ class and preferred term")
    if by_term.empty:
        st.info("No adverse event in this selection.")
    else:
        render.table(
            tables.counts_display(by_term, arms, "label", "Organ class / term", min_cell=k),
            "ae_by_term",
            "ae_by_term",
        )
    # Shown only for a study that declares its antibody endpoints (study.toml [groups]).
    section = trial.design.sections.get("immune_response", {})
    if trial.design.group("immune_response"):
        st.subheader(md_phrase(section.get("title", "Immune response")))
    if trial.design.group("immune_response") and immune.empty:
        st.info("The data have no antibody measurements.")
    elif trial.design.group("immune_response"):
        render.table(
            tables.counts_display(immune, arms, "label", "Antibody, visit", with_rd=False, min_cell=k),
            "immune_response",
            "immune",
        )
        note = f"{md_phrase(section['note'])} " if section.get("note") else ""
        st.caption(f"{note}'New' counts subjects negative at baseline and positive later.")
