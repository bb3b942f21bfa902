"""Baseline characteristics by arm and overall, with standardised mean differences."""

import streamlit as st

from respine.analyses import registry
from respine.present import tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render
from respine.ui.context import page_context

ctx = page_context()
trial, design, view, k = ctx.trial, ctx.design, ctx.view, ctx.k
groups = ctx.arms

st.title("Baseline characteristics")
st.markdown(
    f"Population **{md(view.population)}**"
    + (f", filtered ({len(view.filters)} filter(s))" if view.filters else "")
    + ". Balance is shown as "
    "the standardised mean difference (SMD), not p-values: in a randomised trial any "
    "baseline difference is due to chance (CONSORT 2010, item 15). |SMD| > 0.1 is often "
    "read as a notable imbalance."
)
summary = controls.choice(
    "baseline_summary", "Continuous variables as", {"mean": "mean (SD)", "median": "median (IQR)"}
)
with render.explained():
    frame = cache.run(registry.baseline_table, trial, view.population, view.filters)
    for note in cache.run(registry.baseline_notes, trial, view.population, view.filters):
        st.warning(md(note), icon=":material/info:")
    render.table(
        tables.baseline_display(frame, groups, summary, k), "baseline_characteristics", "baseline"
    )
    arms = design.treatment_arms
    st.caption(
        (f"SMD: {md(arms[0])} vs {md(design.reference_arm)}" if len(arms) == 1
         else f"SMD: each treatment arm vs {md(design.reference_arm)}, one column per arm")
        + "; for categorical variables the multi-level SMD of Yang and Dalton (2012), shown on the "
        "first level."
    )
