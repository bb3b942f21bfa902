"""Participant flow (CONSORT diagram) computed from the data."""

import streamlit as st

from respine.analyses import flow, registry
from respine.present import tables
from respine.ui import cache, controls, render
from respine.ui.context import page_context

ctx = page_context()
trial = ctx.trial

st.title("Participant flow")
st.markdown(
    "Computed from the loaded data, as CONSORT 2010 item 13 asks: randomised, treated, "
    "followed at each visit, withdrawn with reasons, and analysed in each population."
)
continuous = controls.endpoints(ctx, lambda e: e.kind == "continuous") or controls.endpoints(ctx)
endpoint = controls.endpoint_option(ctx, "flow_endpoint", continuous, "Follow-up counted by assessments of")
with render.explained():
    arms = ctx.arms
    table = tables.counts_frame_display(
        cache.run(registry.participant_flow, trial, endpoint), [*arms, "Total"], ctx.k
    )
    st.graphviz_chart(flow.flow_dot(table, arms), width="stretch")
    render.table(table, "participant_flow", "flow")
