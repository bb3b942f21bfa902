"""Over time: observed or model-based means, individual trajectories and a waterfall plot."""

import streamlit as st

from respine import derive
from respine.analyses import availability
from respine.present import figures, tables
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
colours = figures.arm_colours(design.arms, design.reference_arm)
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Over time")
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    continuous = [
        e for e in availability.available_endpoints(trial) if trial.endpoint(e).kind == "continuous"
    ]
    endpoint = state.bound(
        "endpoint",
        st.selectbox,
        "Endpoint",
        options=continuous,
        format_func=lambda e: trial.endpoint(e).label,
    )
with c2:
    state.bound(
        "measure", st.selectbox, "Measure", options=list(derive.MEASURES), format_func=derive.MEASURES.get
    )
with c3:
    mode = state.option(
        "traj_mode",
        st.radio,
        "Means",
        default=(["observed", "model", "mmrm"])[0],
        choices=["observed", "model", "mmrm"],
        horizontal=True,
        format_func={"observed": "observed", "model": "ANCOVA per visit", "mmrm": "MMRM (all visits)"}.get,
    )
ep = trial.endpoint(endpoint)
sel = state.selection(trial, endpoint=endpoint)
label = derive.MEASURES[sel.measure] + (
    " (%)" if sel.measure == "pchg" else (f" ({ep.unit})" if ep.unit else "")
)
with render.explained():
    if mode == "model":
        trend = cache.compute(trial.source, "over_time_adjusted", (sel,), trial)
        title = f"{ep.label}: LS mean (95% CI), ANCOVA on baseline at each visit"
    elif mode == "mmrm":
        trend = cache.compute(trial.source, "over_time_mmrm", (sel,), trial)
        title = f"{ep.label}: LS mean (95% CI), MMRM ({sel.covariance}, {sel.df_method} df)"
    else:
        trend = cache.over_time(trial.source, sel, trial)
        title = f"{ep.label}: mean (95% CI) by arm"
    render.figure(
        cache.figure(
            (trial.source, "traj_means", sel, mode, title, label),
            lambda: figures.over_time_figure(trend, colours, title, label, min_cell=k),
        ),
        "traj_means",
    )
    with st.expander("Values by visit"):
        render.table(
            tables.over_time_table(trend, "continuous", k), f"{endpoint}_{mode}_by_visit", "traj_tab"
        )

if render.individual("Individual trajectories"):
    with render.explained():
        lines, total = cache.compute(trial.source, "trajectories", (sel,), trial)
        shown = lines["subject_id"].nunique()
        render.figure(
            cache.figure(
                (trial.source, "spaghetti", sel, label),
                lambda: figures.spaghetti_figure(lines, colours, f"{ep.label}: each subject", label),
            ),
            "spaghetti",
        )
        if shown < total:
            st.caption(f"{shown} of {total} subjects drawn at random (at most 300 per arm).")

st.subheader("Waterfall")
if render.individual("Waterfall (one bar per subject)"):
    visits = availability.post_baseline_visits(trial, endpoint)
    state.bound(
        "visit", st.selectbox, "Visit for the waterfall", options=visits, format_func=design.visit_label
    )
    sel = state.selection(trial, endpoint=endpoint)
    with render.explained():
        bars = cache.compute(trial.source, "waterfall", (sel,), trial)
        render.figure(
            cache.figure(
                (trial.source, "waterfall", sel),
                lambda: figures.waterfall_figure(
                    bars,
                    colours,
                    f"{ep.label}: percent change from baseline at {design.visit_label(sel.visit)}",
                ),
            ),
            "waterfall",
        )
        better = "below zero" if ep.lower_is_better else "above zero"
        st.caption(f"One bar per subject; improvement is {better} for this scale.")
