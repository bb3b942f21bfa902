"""Over time: observed or model-based means, individual trajectories and a waterfall plot."""

import streamlit as st

from respine import derive
from respine.analyses import availability, registry
from respine.present import figures, labels, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, colours, k = ctx.trial, ctx.design, ctx.colours, ctx.k

st.title("Over time")
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    endpoint = controls.endpoint(ctx, controls.endpoints(ctx, lambda e: e.kind == "continuous"))
with c2:
    controls.measure()
with c3:
    mode = controls.choice(
        "traj_mode",
        "Means",
        {"observed": "observed", "model": "ANCOVA per visit", "mmrm": "MMRM (all visits)"},
    )
ep = trial.endpoint(endpoint)
sel = state.selection(trial, endpoint=endpoint)
label = labels.value_title(ep, sel.measure)  # the measure's unit (a change of ODI is in points)
with render.explained():
    if mode == "model":
        trend = cache.run(registry.over_time_adjusted, trial, sel)
        title = f"{ep.label}: LS mean (95% CI), ANCOVA on baseline at each visit"
        if not availability.has_baseline(trial, endpoint):  # CIBIC+ and the like: no baseline term
            title = f"{ep.label}: LS mean (95% CI), ANCOVA at each visit (no baseline)"
    elif mode == "mmrm":
        trend = cache.run(registry.over_time_mmrm, trial, sel)
        title = f"{ep.label}: LS mean (95% CI), MMRM ({sel.covariance}, {sel.df_method} df)"
        if derive.has_derived_records(trial, endpoint):
            used = cache.run(registry.mmrm_records, trial, sel)
            if used.n_left_out >= k:  # a count under k is not shown in aggregate-only mode
                st.caption(f"The MMRM reads observed records only: derived records left out: "
                           f"{md(used.describe_left_out())}.")
    else:
        # Observed means read observed records only: a derived record (LOCF) is not an observation.
        trend = cache.run(registry.over_time, trial, sel, records="observed")
        title = f"{ep.label}: mean (95% CI) by arm"
        if derive.has_derived_records(trial, endpoint):
            title += ", observed records only"
    render.figure(
        cache.figure(figures.over_time_figure, trend, colours, title, label, min_cell=k), "traj_means"
    )
    with st.expander("Values by visit"):
        render.table(
            tables.over_time_table(trend, "continuous", k), f"{endpoint}_{mode}_by_visit", "traj_tab"
        )

if render.individual("Individual trajectories"):
    with render.explained():
        lines, total = cache.run(registry.trajectories, trial, sel)
        shown = lines["subject_id"].nunique()
        render.figure(
            cache.figure(figures.spaghetti_figure, lines, colours, f"{ep.label}: each subject", label),
            "spaghetti",
        )
        if shown < total:
            st.caption(f"{shown} of {total} subjects drawn at random (at most 300 per arm).")

st.subheader("Waterfall")
if render.individual("Waterfall (one bar per subject)"):
    controls.visit(ctx, endpoint, "Visit for the waterfall", post_baseline=True)
    sel = state.selection(trial, endpoint=endpoint)
    with render.explained():
        bars = cache.run(registry.waterfall, trial, sel)
        render.figure(
            cache.figure(
                figures.waterfall_figure,
                bars,
                colours,
                f"{ep.label}: percent change from baseline at {design.visit_label(sel.visit)}",
            ),
            "waterfall",
        )
        better = labels.improvement_side(ep, "pchg")  # empty where the scale's direction is unknown
        st.caption(f"One bar per subject; improvement is {better} for this scale." if better
                   else "One bar per subject.")
