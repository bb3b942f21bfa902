"""Subgroup screening: every subgroup of one or two covariates, its size against its effect, and the
band of what chance alone gives (the same effect under random re-labelling of the arms)."""

import streamlit as st

from respine.analyses import registry
from respine.analyses.screening import screening_summary, screening_variables
from respine.present import figures, labels, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, k = ctx.trial, ctx.design, ctx.k
ref = ctx.ref

st.title("Subgroup screening")
st.warning(
    "**Exploratory.** Every subgroup one or two covariates define is a point: its size against its "
    "treatment effect. The bands show how far subgroups stray from the overall effect when the arms are "
    "re-labelled at random, so a point outside the shaded band stands out beyond chance, after looking "
    "at all of them.",
    icon=":material/warning:",
)
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    endpoint = controls.endpoint(
        ctx, controls.endpoints(ctx, lambda e: e.kind == "continuous" or e.is_derived)
    )
ep = trial.endpoint(endpoint)
with c2:
    controls.visit(ctx, endpoint)
with c3:
    arm = (
        controls.choice("screen_arm", "Arm compared", list(design.treatment_arms), st.selectbox)
        if len(design.treatment_arms) > 1
        else design.treatment_arms[0]
    )

covariates = {c.column: c for c in design.covariates}
chosen = state.option(
    "screen_vars",
    st.multiselect,
    "Covariates screened",
    default=list(screening_variables(trial)),
    choices=list(covariates),
    format_func=lambda c: covariates[c].label,
)
o1, o2, o3 = st.columns(3)
with o1:
    pairs = state.option("screen_pairs", st.toggle, "Pairs of covariates too", default=True)
with o2:
    # aggregate-only mode: no subgroup arm smaller than the small-cell threshold
    min_size = state.option(
        "screen_min",
        st.number_input,
        "Smallest subgroup (subjects)",
        default=20,
        min_value=max(2, 2 * k),
        max_value=10_000,
        step=5,
    )
with o3:
    permutations = controls.choice("screen_b", "Re-labellings", [1000, 500, 2000], st.selectbox)

sel = state.selection(trial, endpoint=endpoint, measure="chg" if ep.kind == "continuous" else "aval")
with render.explained():
    if not chosen:
        st.info("Choose at least one covariate to screen.", icon=":material/info:")
        st.stop()
    screening = cache.run(
        registry.subgroup_screening,
        trial,
        sel,
        tuple(chosen),
        (),
        bool(pairs),
        int(min_size),
        max(5, k),
        int(permutations),
        2024,
        arm,
    )
    title = (
        f"{labels.endpoint_label(ep, sel.rule, trial.endpoint)} at {design.visit_label(sel.visit)}: "
        f"{arm} vs {ref} in every subgroup"
    )
    render.figure(cache.figure(figures.screening_figure, screening, title, k), "screening")
    st.markdown(md(screening_summary(screening)))
    note = labels.direction_note(ep, arm, ref, screening.measure, sel.measure)
    if note:
        st.caption(md(note))
    render.table(tables.screening_display(screening, k), f"screening_{endpoint}", "screening")
    render.notes(screening.notes)
    st.caption(
        "Subgroups: each level of a covariate and, with pairs, each combination of a level of two "
        "covariates; "
        "continuous covariates cut at the median. Effect: "
        + ("risk difference" if ep.kind == "binary" else "difference in mean change from baseline")
        + f" of {md(arm)} minus {md(ref)}. Chance alone: the arms re-labelled at random "
        f"{int(permutations)} times (seed 2024); the pointwise band holds 95% of subgroups' deviations "
        "from the overall effect, scaled by √(1/m − 1/N) for a subgroup of m of N subjects; the "
        "simultaneous band holds "
        "the largest deviation of all subgroups in 95% of re-labellings (max-T, Westfall and Young 1993), "
        "and its adjusted p is the share of re-labellings with a larger one."
    )
