"""Participant flow (CONSORT diagram) computed from the data."""

import streamlit as st

from respine import derive
from respine.analyses import availability, flow
from respine.present import tables
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]

st.title("Participant flow")
st.markdown(
    "Computed from the loaded data, as CONSORT 2010 item 13 asks: randomised, treated, "
    "followed at each visit, withdrawn with reasons, and analysed in each population."
)
view = state.view()
available = availability.available_endpoints(trial)
continuous = [e for e in available if trial.endpoint(e).kind == "continuous"] or available
endpoint = state.option(
    "flow_endpoint",
    st.selectbox,
    "Follow-up counted by assessments of",
    default=(continuous)[0],
    choices=continuous,
    format_func=lambda e: trial.endpoint(e).label,
)
with render.explained():
    arms = derive.arm_order(trial)
    table = tables.counts_frame_display(
        cache.participant_flow(trial.source, endpoint, trial), [*arms, "Total"], access.min_cell()
    )
    st.graphviz_chart(flow.flow_dot(table, arms), width="stretch")
    render.table(table, "participant_flow", "flow")
