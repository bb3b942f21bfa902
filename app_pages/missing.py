"""Missing data: completion by visit and arm, and the patterns of missingness."""

import streamlit as st

from respine.analyses import availability
from respine.present import figures, tables
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
colours = figures.arm_colours(design.arms, design.reference_arm)
view = state.view()
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Missing data")
measured = [e for e in availability.available_endpoints(trial) if not trial.endpoint(e).is_derived]
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
    patterns = cache.compute(trial.source, "patterns", (view.population, endpoint), trial)
    # The two tables are suppressed together: the patterns add up to the completion counts.
    completion_table, patterns_table = tables.missing_display(frame, patterns, [*design.arms, "Total"], k)
    render.figure(
        cache.figure(
            (trial.source, "completion", view.population, endpoint),
            lambda: figures.completion_figure(
                frame,
                colours,
                f"{trial.endpoint(endpoint).label}: completion by visit, {view.population}",
                min_cell=k,
                hidden=tables.count_hidden(completion_table, "With a value"),
            ),
        ),
        "completion",
    )
    render.table(completion_table, f"completion_{endpoint}", "completion")
    st.subheader("Patterns")
    st.caption(
        "X = value present, . = missing, at the visits named in the first column. Monotone "
        "patterns are dropout; intermittent ones are missed visits."
    )
    render.table(patterns_table, f"missing_patterns_{endpoint}", "patterns")
