"""Endpoint explorer: any endpoint over time by arm, and the comparison at a chosen visit."""

import streamlit as st

from respine import derive
from respine.analyses import availability, compare, repeated
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
colours = figures.arm_colours(design.arms, design.reference_arm)
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Endpoint explorer")
endpoints = availability.available_endpoints(trial)
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
with c1:
    endpoint = state.bound(
        "endpoint", st.selectbox, "Endpoint", options=endpoints, format_func=lambda e: trial.endpoint(e).label
    )
ep = trial.endpoint(endpoint)
with c2:
    visits = availability.visits_with_data(trial, endpoint)
    state.bound(
        "visit", st.selectbox, "Visit for the comparison", options=visits, format_func=design.visit_label
    )
with c3:
    if ep.kind == "continuous":
        state.bound(
            "measure", st.selectbox, "Measure", options=list(derive.MEASURES), format_func=derive.MEASURES.get
        )
    else:
        st.caption("Binary endpoint: rates of subjects with a positive status.")
with c4:
    methods = compare.methods_for(ep.kind)
    method = state.bound(
        "binary_method" if ep.kind == "binary" else "method",
        st.selectbox,
        "Method",
        options=list(methods),
        format_func=methods.get,
    )

ADJUSTED = {"ancova", "cmh", "logistic", "mmrm"}
if method == "ancova":
    state.bound(
        "lsmeans_weights",
        st.radio,
        "LS means weighting",
        options=["observed", "equal"],
        horizontal=True,
        help="Observed proportions of covariate levels, or equal weights per level.",
    )
if method == "mmrm":
    m1, m2 = st.columns(2)
    with m1:
        state.bound(
            "covariance",
            st.selectbox,
            "Within-subject covariance",
            options=list(repeated.COVARIANCES),
            format_func=repeated.COVARIANCES.get,
        )
    with m2:
        state.bound(
            "df_method",
            st.selectbox,
            "Degrees of freedom",
            options=list(repeated.DF_METHODS),
            format_func=repeated.DF_METHODS.get,
        )
if method in ADJUSTED:
    covariates = {c.column: c.label for c in design.covariates}
    state.bound_multi(
        "covariates",
        "Adjust for (covariates; CMH: strata)",
        list(covariates),
        format_func=lambda c: covariates.get(c, c),
    )
sel = state.selection(trial)
if sel.method not in ADJUSTED:
    sel = sel.with_(covariates=())
unit = f" ({ep.unit})" if ep.unit else ""
with render.explained():
    trend = cache.over_time(trial.source, sel, trial)
    if ep.kind == "continuous":
        y_title = f"{derive.MEASURES[sel.measure]}{'' if sel.measure == 'pchg' else unit}"
        if sel.measure == "pchg":
            y_title += " (%)"
        fig = cache.figure(
            (
                trial.source,
                "trend",
                sel.for_trend(ep.kind),
                y_title,
            ),
            lambda: figures.over_time_figure(
                trend, colours, f"{ep.label}: mean (95% CI) by arm", y_title, min_cell=k
            ),
        )
    else:
        fig = cache.figure(
            (trial.source, "trend", sel.for_trend(ep.kind)),
            lambda: figures.over_time_figure(
                trend, colours, f"{ep.label}: rate (95% CI) by arm", "Subjects", percent=True, min_cell=k
            ),
        )
    render.figure(fig, "trend")
    with st.expander("Values by visit"):
        render.table(tables.over_time_table(trend, ep.kind, k), f"{endpoint}_by_visit", "trend")

st.subheader(f"Comparison at {md(design.visit_label(sel.visit))}")
with render.explained():
    result = cache.analyze(trial.source, sel, trial)
    left, right = st.columns([3, 2])
    with left:
        render.table(tables.arm_table(result, k), f"{endpoint}_arms", "arms")
        render.table(tables.contrast_table(result, k), f"{endpoint}_comparison", "contrasts")
        render.notes(result.notes)
        render.methods(result.methods_text)
    with right:
        if ep.kind == "continuous" and render.individual("Distribution of values"):
            column = {"aval": "value", "chg": derive.CHG, "pchg": derive.PCHG}[result.measure]
            values = cache.values_at_visit(trial.source, sel, trial)
            fig = cache.figure(
                (trial.source, "distribution", sel),
                lambda: figures.distribution_figure(
                    values.dropna(subset=[column]),
                    column,
                    colours,
                    f"{derive.MEASURES[result.measure]} at {result.visit_label}",
                    ep.label + unit,
                ),
            )
            render.figure(fig, "distribution")
        elif ep.kind == "binary":
            fig = cache.figure((trial.source, "rates", sel), lambda: figures.rate_figure(result, colours, k))
            render.figure(fig, "rates")
