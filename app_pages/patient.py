"""Patient profile: one subject's characteristics, every measurement over time by endpoint, and
every adverse event on a timeline."""

import streamlit as st

from respine.analyses import registry
from respine.analyses.listings import ENDPOINT_ID, ENDPOINT_LABEL
from respine.present import patient
from respine.present.fmt import md_escape as md
from respine.ui import cache, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, view = ctx.trial, ctx.view

st.title("Patient profile")
st.markdown(
    f"Everything recorded about one subject of population **{md(view.population)}** (with the "
    "sidebar's filters): characteristics, every measurement by visit and every adverse event. "
    "Open markers are derived records (LOCF and the like), not measurements."
)
with render.explained():
    subjects = cache.run(registry.subject_listing, trial, view.population, view.filters)
    arms = dict(zip(subjects["subject_id"], subjects["arm"], strict=True))
    ids = list(arms)
    subject = state.option("patient", st.selectbox, "Subject", default=ids[0], choices=ids,
                           format_func=lambda s: f"{s} ({arms[s]})")
    profile = cache.run(registry.patient_profile, trial, subject)
    st.caption(f"{len(ids)} subject(s) to choose from. Arm **{md(profile.arm)}** · "
               f"{len(profile.measurements)} measurement record(s) · {len(profile.adverse_events)} "
               "adverse event(s).")
    m = profile.measurements
    labels = dict(zip(m[ENDPOINT_ID], m[ENDPOINT_LABEL], strict=False))
    measured = list(dict.fromkeys(m[ENDPOINT_ID]))
    chosen = state.option("patient_endpoints", st.multiselect, "Endpoints", default=measured[:6],
                          choices=measured, format_func=lambda e: labels.get(e, e))
    colour = ctx.colours.get(profile.arm, "#0072B2")
    left, right = st.columns([1, 2])
    with left:
        st.subheader("Characteristics")
        render.table(profile.characteristics, "patient_characteristics", "patient_characteristics")
    with right:
        st.subheader("Measurements over time")
        if not chosen:
            st.info("Choose one or more endpoints.")
        else:
            fig = cache.figure(patient.measurements_figure, m, tuple(chosen), colour,
                               f"Subject {subject} ({profile.arm}): measurements by visit")
            render.figure(fig, "patient_measurements")
    st.subheader("Adverse events")
    if profile.adverse_events.empty:
        st.info("No adverse event recorded for this subject.")
    else:
        fig = cache.figure(patient.adverse_event_figure, profile.adverse_events,
                           f"Subject {subject} ({profile.arm}): adverse events by onset day")
        render.figure(fig, "patient_events")
        render.table(profile.adverse_events, "patient_adverse_events", "patient_events")
    st.subheader("Measurement records")
    render.table(m[m[ENDPOINT_ID].isin(chosen)] if chosen else m, "patient_measurements",
                 "patient_records")
