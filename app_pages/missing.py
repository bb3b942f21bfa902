"""Missing data: completion by visit and arm, and the patterns of missingness."""

import streamlit as st

from respine.analyses import registry
from respine.present import figures, tables
from respine.ui import cache, controls, render
from respine.ui.context import page_context

ctx = page_context()
trial, design, colours, view, k = ctx.trial, ctx.design, ctx.colours, ctx.view, ctx.k

st.title("Missing data")
measured = controls.endpoints(ctx, lambda e: not e.is_derived)
endpoint = controls.endpoint_option(ctx, "missing_endpoint", measured)
with render.explained():
    frame = cache.run(registry.completion, trial, view.population, endpoint)
    patterns = cache.run(registry.missing_patterns, trial, view.population, endpoint)
    # The two tables are suppressed together: the patterns add up to the completion counts.
    completion_table, patterns_table = tables.missing_display(frame, patterns, [*design.arms, "Total"], k)
    render.figure(
        cache.figure(
            figures.completion_figure,
            frame,
            colours,
            f"{trial.endpoint(endpoint).label}: completion by visit, {view.population}",
            min_cell=k,
            hidden=tables.count_hidden(completion_table, "With a value"),
        ),
        "completion",
    )
    render.table(completion_table, f"completion_{endpoint}", "completion")
    derived = int(frame["derived"].sum()) if "derived" in frame else 0
    if derived and derived >= k:  # a total under k is not shown in aggregate-only mode
        st.caption(
            f"Observed records only: {derived} derived records (ADaM DTYPE, such as LOCF) fill in "
            "missing visits and count as missing here. The comparison at a visit reads them as "
            "the study's analysis records; the MMRM and multiple imputation do not."
        )
    st.subheader("Patterns")
    st.caption(
        "X = observed value, . = missing (a derived record such as LOCF counts as missing), at "
        "the visits named in the first column. Monotone patterns are dropout; intermittent ones "
        "are missed visits."
    )
    render.table(patterns_table, f"missing_patterns_{endpoint}", "patterns")
