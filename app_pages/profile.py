"""Responder profile: cumulative distribution of improvement and the threshold sweep."""

import streamlit as st

from respine.analyses import availability, individual
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
treat, ref = design.treatment_arms[0], design.reference_arm
colours = figures.arm_colours(design.arms, design.reference_arm)
view = state.view()
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)
SCALES = [e for e in ("VAS", "ODI") if e in availability.available_endpoints(trial)]

st.title("Responder profile")
st.markdown(
    "How many subjects improve by at least each amount, by arm, so any responder "
    "threshold can be read off; and how the difference between arms changes with the "
    "threshold (FDA guidance on patient-reported outcomes, 2009)."
)
c1, c2, c3 = st.columns(3)
with c1:
    endpoint = state.option(
        "profile_endpoint",
        st.radio,
        "Scale",
        default=SCALES[0],
        choices=SCALES,
        horizontal=True,
        format_func=lambda e: md(trial.endpoint(e).label),  # radio options are Markdown
    )
with c2:
    relative = (
        state.option(
            "profile_scale",
            st.radio,
            "Improvement as",
            default=(["absolute", "relative"])[0],
            choices=["absolute", "relative"],
            horizontal=True,
            format_func={"absolute": "points (mm / %)", "relative": "% of baseline"}.get,
        )
        == "relative"
    )
with c3:
    visits = availability.post_baseline_visits(trial, endpoint)
    state.bound("visit", st.selectbox, "Visit", options=visits, format_func=design.visit_label)

ep = trial.endpoint(endpoint)
unit = "%" if relative else ep.unit
sel = state.selection(trial, endpoint=endpoint)
if relative:
    lines = {"responder": view.vas_pct if endpoint == "VAS" else view.odi_pct}
else:
    lines = (
        {"responder": view.vas_mm, "MCID": view.mcid_vas} if endpoint == "VAS" else {"MCID": view.mcid_odi}
    )
with render.explained():
    cdf = cache.compute(trial.source, "cumulative", (sel, endpoint, relative), trial)
    if render.individual("Cumulative distribution (one step per subject)"):
        render.figure(
            cache.figure(
                (trial.source, "cdf", sel, endpoint, relative, tuple(lines.items())),
                lambda: figures.cumulative_figure(
                    cdf,
                    colours,
                    f"{ep.label}: improvement at {design.visit_label(sel.visit)}",
                    f"Improvement ({unit})",
                    lines,
                ),
            ),
            "cdf",
        )
    thresholds = individual.sweep_thresholds(cdf, relative)
    sweep = cache.compute(trial.source, "sweep", (sel, endpoint, thresholds, relative), trial)
    render.figure(
        cache.figure(
            (trial.source, "sweep", sel, endpoint, relative),
            lambda: figures.sweep_figure(
                sweep,
                treat,
                ref,
                "Difference in responders across thresholds",
                f"Responder threshold: improvement at least ({unit})",
                min_cell=k,
            ),
        ),
        "sweep",
    )
    with st.expander("Rates by threshold"):
        render.table(
            tables.sweep_display(sweep, treat, ref, unit, k), f"threshold_sweep_{endpoint}", "sweep"
        )
    st.caption("Thresholds drawn from the Responders page: the primary rule's VAS criteria and the MCIDs.")
