"""Baseline characteristics by arm and overall, with standardised mean differences."""

import streamlit as st

from respine import derive
from respine.present import tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
view = state.view()
groups = derive.arm_order(trial)
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Baseline characteristics")
st.markdown(
    f"Population **{md(view.population)}**"
    + (f", filtered ({len(view.filters)} filter(s))" if view.filters else "")
    + ". Balance is shown as "
    "the standardised mean difference (SMD), not p-values: in a randomised trial any "
    "baseline difference is due to chance (CONSORT 2010, item 15). |SMD| > 0.1 is often "
    "read as a notable imbalance."
)
summary = state.option(
    "baseline_summary",
    st.radio,
    "Continuous variables as",
    default=(["mean", "median"])[0],
    choices=["mean", "median"],
    horizontal=True,
    format_func={"mean": "mean (SD)", "median": "median (IQR)"}.get,
)
with render.explained():
    frame, notes = cache.baseline_table(trial.source, view.population, view.filters, trial)
    for note in notes:
        st.warning(md(note), icon=":material/info:")
    render.table(
        tables.baseline_display(frame, groups, summary, k), "baseline_characteristics", "baseline"
    )
    st.caption(
        f"SMD: {md(groups[0])} vs {md(design.reference_arm)}; for categorical variables the "
        "multi-level SMD of Yang and Dalton (2012), shown on the first level."
    )
