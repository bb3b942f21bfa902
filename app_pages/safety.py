"""Safety: adverse-event overview, events by organ class and term, and immune response."""

import streamlit as st

from respine.analyses import registry, safety
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.present.fmt import md_phrase
from respine.ui import cache, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, view, k = ctx.trial, ctx.view, ctx.k
# Every arm is a column; each treatment arm is compared with the reference the sidebar chose.
arms, reference = safety.arms_and_reference(
    trial, view.reference if view.reference in trial.design.arms else None
)

st.title("Safety")
if not safety.has_data(trial):
    st.info(
        "No adverse-event data: this study has no adverse-event table (ADAE, or "
        "adverse_events.csv), so nothing can be said about adverse events."
    )
    st.stop()
st.markdown(
    f"Subjects with at least one event, in population **{md(view.population)}** (choose the "
    "safety population in the sidebar for the treated subjects), and the number of events in "
    f"brackets. Each arm is compared with **{md(reference)}**: risk differences use Newcombe's "
    "CI; p-values are from Fisher's exact test and are descriptive."
)
records_serious = "serious" in trial.adverse_events.columns
serious_only = records_serious and state.option(
    "safety_serious", st.toggle, "Serious events only (organ class table)", default=False
)
with render.explained():
    overview = cache.run(registry.ae_overview, trial, view.population, view.filters, reference)
    by_term = cache.run(registry.ae_by_term, trial, view.population, view.filters, serious_only, reference)
    empty = [a for a in arms if not overview.empty and int(overview[f"{a}|n"].iloc[0]) == 0]
    if empty:
        st.warning(f"No subject of arm {', '.join(md(a) for a in empty)} is in this selection; it cannot "
                   "be compared. Widen the population or the filters.")
    st.subheader("Overview")
    render.table(
        tables.ae_overview_display(overview, arms, min_cell=k),
        "ae_overview",
        "ae_overview",
    )
    st.caption("  \n".join(md_phrase(note) for note in safety.ae_notes(trial)))
    st.subheader("By system organ class and preferred term")
    if by_term.empty:
        st.info("No adverse event in this selection.")
    else:
        render.table(tables.ae_term_display(by_term, arms, min_cell=k), "ae_by_term", "ae_by_term")
        fig = cache.figure(figures.ae_dot_figure, by_term, arms, ctx.colours,
                           "Most frequent preferred terms: subjects (%) and risk difference", min_cell=k)
        render.figure(fig, "ae_dot")
    # Shown only for a study that declares its antibody endpoints (study.toml [groups]).
    if trial.design.group("immune_response"):
        immune = cache.run(registry.immune_response, trial, view.population, view.filters)
        section = trial.design.sections.get("immune_response", {})
        st.subheader(md_phrase(section.get("title", "Immune response")))
        if immune.empty:
            st.info("The data have no antibody measurements.")
        else:
            render.table(
                tables.counts_display(immune, arms, "label", "Antibody, visit", with_rd=False, min_cell=k),
                "immune_response",
                "immune",
            )
            note = f"{md_phrase(section['note'])} " if section.get("note") else ""
            st.caption(f"{note}'New' counts subjects negative at baseline and positive later.")
