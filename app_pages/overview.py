"""Study overview: design, populations, and the primary result beside the published one.

The page describes the study as designed: its populations count every subject, and its primary
result is the documented primary analysis on that analysis' own population, so that it can be
set beside the published figures. The sidebar's subgroup filter and population are therefore not
applied here (applied, they would make the published-vs-recomputed check compare different
subjects); when they are set, the page says so, and every other page applies them.
"""

import streamlit as st

from respine.analyses import published, registry
from respine.model.labels import filters_phrase
from respine.present import figures, labels, tables
from respine.present.fmt import md_escape as md
from respine.present.fmt import md_phrase
from respine.ui import cache, render
from respine.ui.context import page_context

ctx = page_context()
trial, design, k = ctx.trial, ctx.design, ctx.k

st.title(f"{md(design.id)}: study overview")
st.markdown(md(design.description))
st.caption(md(f"{design.citation} · {design.registration}"))

unapplied = []  # what the sidebar sets that this page does not apply
if ctx.view.filters:
    unapplied.append(f"the subgroup filter ({filters_phrase(ctx.view.filters)})")
primary_population = design.primary.population if design.primary else design.default_population
if ctx.view.population and ctx.view.population != primary_population:
    unapplied.append(f"the population {ctx.view.population}")
if unapplied:
    st.info(
        md(f"Not applied on this page: {' and '.join(unapplied)} chosen in the sidebar. The overview "
           "describes the study as designed: its populations count every subject, and the primary "
           f"result is the documented primary analysis of the {primary_population} population, set "
           "beside the published figures. Every other page applies the sidebar's choices."),
        icon=":material/filter_alt_off:",
    )

arms_col, visits_col = st.columns(2)
with arms_col:
    st.subheader("Populations")
    render.table(
        tables.counts_frame_display(cache.run(registry.population_counts, trial), [*design.arms, "Total"], k),
        "populations",
        "populations",
    )
with visits_col:
    st.subheader("Schedule")
    st.markdown("Visits: " + md(", ".join(v.label for v in design.visits)))
    st.markdown(f"Arms: {md(', '.join(design.arms))} (reference: **{md(design.reference_arm)}**)")

st.subheader("Primary result")
if design.primary is None:
    st.info(
        "The study description names no primary analysis, so there is no published result to show "
        "here. Explore the endpoints on the other pages.",
        icon=":material/info:",
    )
else:
    with render.explained():
        sel = published.primary_selection(trial)
        result = cache.run(registry.analyze, trial, sel)
        st.markdown(
            f"**{md(result.endpoint_label)} at {md(result.visit_label)}**, {md(result.population)} "
            f"population, complete cases. {md_phrase(published.conclusion(trial, result))}"
        )
        metrics = tables.primary_metrics(result, k)
        for col, (label, value, help_text) in zip(st.columns(len(metrics)), metrics, strict=True):
            col.metric(md(label), value, help=md(help_text))
        chart_col, table_col = st.columns([2, 3])
        with chart_col:
            render.figure(cache.figure(figures.rate_figure, result, ctx.colours, k), "primary_rates")
        with table_col:
            st.markdown("**Published vs recomputed from the loaded data**")
            # the published values are about the study's own arms, whatever arms the view compares
            render.table(cache.run(registry.primary_check, ctx.study), "primary_check", "primary_check",
                         caption=labels.selection_caption(ctx.study, sel))
            render.table(tables.contrast_table(result, k), "primary_contrasts", "primary_contrasts")
            render.methods(result.methods_text)
