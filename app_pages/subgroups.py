"""Subgroups: forest plot of the treatment effect by covariate level, with interaction tests."""

import streamlit as st

from respine.analyses import availability
from respine.analyses.subgroups import parse_cutpoints
from respine.errors import SelectionError
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
treat, ref = design.treatment_arms[0], design.reference_arm
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Subgroups")
st.warning(
    "**Exploratory.** With many subgroups some apparent differences arise by chance. Judge "
    "each covariate by its interaction p-value, not by the p-values within levels "
    "(Wang et al., N Engl J Med 2007;357:2189-94).",
    icon=":material/warning:",
)
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    endpoints = [
        e
        for e in availability.available_endpoints(trial)
        if trial.endpoint(e).kind == "continuous" or trial.endpoint(e).is_derived
    ]
    endpoint = state.bound(
        "endpoint", st.selectbox, "Endpoint", options=endpoints, format_func=lambda e: trial.endpoint(e).label
    )
ep = trial.endpoint(endpoint)
with c2:
    state.bound(
        "visit",
        st.selectbox,
        "Visit",
        options=availability.visits_with_data(trial, endpoint),
        format_func=design.visit_label,
    )
with c3:
    if ep.kind == "binary":
        measure = state.option(
            "subgroup_measure",
            st.radio,
            "Effect measure",
            default=(["risk_difference", "odds_ratio"])[0],
            choices=["risk_difference", "odds_ratio"],
            horizontal=True,
            format_func={"risk_difference": "Risk difference", "odds_ratio": "Odds ratio"}.get,
        )
    else:
        measure = "risk_difference"
        st.caption(
            "Effect: difference in mean change from baseline (Welch 95% CI); interaction by "
            "F-test of a linear model."
        )

covariates = {c.column: c for c in design.covariates if c.column != "site"}
default = [c for c in ("sex", "age", "smoking", "country", "modic", "baseline_vas") if c in covariates]
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
    frame = cache.compute(trial.source, "subgroups", (sel, tuple(chosen), tuple(cutpoints), measure), trial)
    title = f"{ep.label} at {design.visit_label(sel.visit)}: {treat} vs {ref} by subgroup"
    render.figure(
        cache.figure(
            (trial.source, "forest", sel, tuple(chosen), tuple(cutpoints), measure),
            lambda: figures.forest_figure(frame, treat, ref, title, k),
        ),
        "forest",
    )
    render.table(tables.subgroup_display(frame, k), f"subgroups_{endpoint}", "subgroups")
    st.caption(
        "Interaction p: likelihood-ratio test of arm × subgroup in a logistic model (binary "
        "endpoints) or F-test in a linear model (continuous), one per covariate."
    )
