"""Subgroups: forest plot of the treatment effect by covariate level, with interaction tests."""

import streamlit as st

from respine.analyses import registry
from respine.analyses.subgroups import parse_cutpoints
from respine.errors import SelectionError
from respine.present import figures, labels, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, k = ctx.trial, ctx.design, ctx.k
ref = ctx.ref
# Every treatment arm is compared with the reference; with several, the words name "each arm".
treat = design.treatment_arms[0] if len(design.treatment_arms) == 1 else "the treatment arm"
compared = design.treatment_arms[0] if len(design.treatment_arms) == 1 else "each arm"

st.title("Subgroups")
st.warning(
    "**Exploratory.** With many subgroups some apparent differences arise by chance. Judge "
    "each covariate by its interaction p-value, not by the p-values within levels "
    "(Wang et al., N Engl J Med 2007;357:2189-94).",
    icon=":material/warning:",
)
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    endpoints = controls.endpoints(ctx, lambda e: e.kind == "continuous" or e.is_derived)
    endpoint = controls.endpoint(ctx, endpoints)
ep = trial.endpoint(endpoint)
with c2:
    controls.visit(ctx, endpoint)
with c3:
    if ep.kind == "binary":
        measure = controls.choice(
            "subgroup_measure",
            "Effect measure",
            {"risk_difference": "Risk difference", "odds_ratio": "Odds ratio"},
        )
    else:
        measure = "risk_difference"
        st.caption(
            "Effect: difference in mean change from baseline (Welch 95% CI); interaction by "
            "F-test of a linear model."
        )

covariates = {c.column: c for c in design.covariates if c.column != "site"}
default = [c for c in design.subgroup_defaults if c in covariates]
chosen = state.option(
    "subgroup_vars",
    st.multiselect,
    "Subgroup variables",
    default=list(default),
    choices=list(covariates),
    format_func=lambda c: covariates[c].label,
)
cutpoints = []
continuous = [c for c in chosen if covariates[c].kind == "continuous"]
if continuous:
    st.caption("Continuous covariates are cut at the median unless you give cut-points.")
    for col, box in zip(continuous, st.columns(len(continuous)), strict=True):
        with box:
            text = state.option(
                f"cut_{col}",
                st.text_input,
                f"{md(covariates[col].label)} cut-points",  # widget labels are Markdown
                default="",
                placeholder="median",
            )
        if text.strip():
            try:
                cutpoints.append((col, parse_cutpoints(text)))
            except SelectionError as exc:
                box.warning(f"{md(exc)} Using the median.")

sel = state.selection(trial, endpoint=endpoint, measure="chg" if ep.kind == "continuous" else "aval")
with render.explained():
    frame = cache.run(registry.subgroup_analysis, trial, sel, tuple(chosen), tuple(cutpoints), measure)
    title = (f"{labels.endpoint_label(ep, sel.rule, trial.endpoint)} at {design.visit_label(sel.visit)}: "
             f"{compared} vs {ref} by subgroup")
    render.figure(cache.figure(figures.forest_figure, frame, treat, ref, title, k, endpoint=ep,
                               measure=sel.measure), "forest")
    note = labels.direction_note(ep, treat, ref, measure if ep.kind == "binary" else "mean_difference",
                                 sel.measure)
    if note:  # which side favours the treatment, from the endpoint's direction of benefit
        st.caption(md(note))
    render.table(tables.subgroup_display(frame, k), f"subgroups_{endpoint}", "subgroups")
    st.caption(
        "Interaction p (right of the plot, beside each covariate, and in the table): likelihood-ratio "
        "test of arm × subgroup in a logistic model (binary endpoints) or F-test in a linear model "
        "(continuous), one per covariate"
        + (" and treatment arm; each arm is compared with the reference on the subjects of those two "
           "arms alone, and Holm's adjustment is over the covariates of each comparison."
           if len(design.treatment_arms) > 1 else ".")
    )
