"""Missing data: completion by visit and arm, and the patterns of missingness."""

import streamlit as st

from respine import analysis, figures, tables
from respine.ui import cache, render, state

trial = st.session_state["trial"]
design = trial.design
colours = figures.arm_colours(design.arms, design.reference_arm)
view = state.view()

st.title("Missing data")
measured = [e for e in analysis.available_endpoints(trial) if not trial.endpoint(e).is_derived]
endpoint = state.option(
    "missing_endpoint",
    st.selectbox,
    "Endpoint",
    default=(measured)[0],
    choices=measured,
    format_func=lambda e: trial.endpoint(e).label,
)
with render.explained():
    frame = cache.compute(trial.source, "completion", (view.population, endpoint), trial)
    render.figure(
        cache.figure(
            (trial.source, "completion", view.population, endpoint),
            lambda: figures.completion_figure(
                frame, colours, f"{trial.endpoint(endpoint).label}: completion by visit, {view.population}"
            ),
        ),
        "completion",
    )
    render.table(tables.completion_display(frame), f"completion_{endpoint}", "completion")
with render.explained():
    patterns = cache.compute(trial.source, "patterns", (view.population, endpoint), trial)
    st.subheader("Patterns")
    st.caption(
        "X = value present, . = missing, at the visits named in the first column. Monotone "
        "patterns are dropout; intermittent ones are missed visits."
    )
    render.table(patterns, f"missing_patterns_{endpoint}", "patterns")
