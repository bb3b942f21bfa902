"""Responder profile: cumulative distribution of improvement and the threshold sweep."""

import streamlit as st

from respine import ResponderRule
from respine.analyses import individual, registry
from respine.model.labels import measure_unit
from respine.present import figures, labels, tables
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, colours, view, k = ctx.trial, ctx.design, ctx.colours, ctx.view, ctx.k
# The threshold sweep contrasts two arms: the view's first treatment arm and its reference (the
# sidebar's arms shown choose which one with three arms or more).
treat, ref = ctx.design.treatment_arms[0], ctx.ref
# The study's declared symptom scales; a study that declares none profiles each continuous scale.
SCALES = controls.endpoints(ctx, lambda e: e.id in design.group("symptoms")) or controls.endpoints(
    ctx, lambda e: e.kind == "continuous" and not e.is_derived)

st.title("Responder profile")
if not SCALES:
    st.info("This study has no continuous endpoint with data, so there is no improvement to profile.")
    st.stop()
st.markdown(
    "How many subjects improve by at least each amount, by arm, so any responder "
    "threshold can be read off; and how the difference between arms changes with the "
    "threshold (FDA guidance on patient-reported outcomes, 2009)."
)
c1, c2, c3 = st.columns(3)
with c1:
    endpoint = controls.endpoint_option(ctx, "profile_endpoint", SCALES, "Scale", st.radio)
with c2:
    relative = (
        controls.choice(
            "profile_scale",
            "Improvement as",
            {"absolute": "points (mm / %)", "relative": "% of baseline"},
        )
        == "relative"
    )
with c3:
    controls.visit(ctx, endpoint, post_baseline=True)

ep = trial.endpoint(endpoint)
unit = measure_unit(ep, "pchg" if relative else "improvement")  # a change of ODI is in points
sel = state.selection(trial, endpoint=endpoint)
lines = individual.threshold_lines(  # which thresholds a scale carries comes from the study's derivations
    trial, endpoint, relative, ResponderRule(view.vas_pct, view.vas_mm, "AND", view.odi_pct),
    {"mcid_vas": view.mcid_vas, "mcid_odi": view.mcid_odi},
)
with render.explained():
    cdf = cache.run(registry.cumulative, trial, sel, endpoint, relative)
    if render.individual("Cumulative distribution (one step per subject)"):
        render.figure(
            cache.figure(
                figures.cumulative_figure,
                cdf,
                colours,
                f"{ep.label}: improvement at {design.visit_label(sel.visit)}",
                labels.with_unit("Improvement", unit),
                lines,
            ),
            "cdf",
        )
    thresholds = individual.sweep_thresholds(cdf, relative)
    sweep = cache.run(registry.sweep, trial, sel, endpoint, thresholds, relative)
    render.figure(
        cache.figure(
            figures.sweep_figure,
            sweep,
            treat,
            ref,
            "Difference in responders across thresholds",
            labels.with_unit("Responder threshold: improvement at least", unit),
            min_cell=k,
        ),
        "sweep",
    )
    with st.expander("Rates by threshold"):
        render.table(
            tables.sweep_display(sweep, treat, ref, unit, k), f"threshold_sweep_{endpoint}", "sweep"
        )
    which = "primary" if sel.rule.is_primary else "modified"  # a changed rule is never called primary
    st.caption(f"Thresholds drawn from the Responders page: the {which} rule's VAS criteria and the MCIDs.")
