"""Endpoint explorer: any endpoint over time by arm, and the comparison at a chosen visit."""

import streamlit as st

from respine import derive
from respine.analyses import registry
from respine.model.labels import endpoint_label
from respine.present import figures, fmt, labels, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, colours, k = ctx.trial, ctx.design, ctx.colours, ctx.k

st.title("Endpoint explorer")
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
with c1:
    endpoint = controls.endpoint(ctx, controls.endpoints(ctx))
ep = ctx.endpoint(endpoint)
with c2:
    controls.visit(ctx, endpoint, "Visit for the comparison")
with c3:
    if ep.kind == "continuous":
        controls.measure()
    else:
        st.caption("Binary endpoint: rates of subjects with a positive status.")
with c4:
    method = controls.method(ep.kind)

controls.method_settings(ctx, ep, method)  # LS means weights, MMRM choices, covariates
sel = state.selection(trial)  # fields the method does not use are normalised by the analyses
name = endpoint_label(ep, sel.rule, trial.endpoint)  # a modified responder rule is named as such
with render.explained():
    trend = cache.run(registry.over_time, trial, sel)
    # the axis's unit is the measure's (a percent change is in %, whatever the endpoint's unit)
    y_title = labels.value_title(ep, sel.measure)
    if ep.kind == "continuous":
        fig = cache.figure(
            figures.over_time_figure, trend, colours, f"{name}: mean (95% CI) by arm", y_title, min_cell=k
        )
    else:
        fig = cache.figure(
            figures.over_time_figure, trend, colours, f"{name}: rate (95% CI) by arm", y_title,
            percent=True, min_cell=k,
        )
    render.figure(fig, "trend")
    derived = int(trend["derived"].sum())
    if derived and derived >= k:  # a total under k is not shown in aggregate-only mode
        st.caption(
            f"Means by visit read the analysis records, as the comparison below does: {derived} of "
            "them are derived (ADaM DTYPE, such as LOCF) rather than observed."
        )
    with st.expander("Values by visit"):
        render.table(tables.over_time_table(trend, ep.kind, k), f"{endpoint}_by_visit", "trend")

st.subheader(f"Comparison at {md(design.visit_label(sel.visit))}")
with render.explained():
    result = cache.run(registry.analyze, trial, sel)
    left, right = st.columns([3, 2])
    with left:
        render.table(tables.arm_table(result, k), f"{endpoint}_arms", "arms")
        render.table(tables.contrast_table(result, k), f"{endpoint}_comparison", "contrasts")
        if result.extra.get("homogeneity"):  # CMH: the Breslow-Day test of each comparison
            render.table(tables.homogeneity_table(result, k), f"{endpoint}_homogeneity", "homogeneity")
        direction = labels.result_direction_note(ep, result)  # from the registry; empty if unknown
        if direction:
            st.caption(md(direction))
        controls.direction(ctx, endpoint)  # only where the study file does not declare it
        dose = result.dose_response  # the ANCOVA on 3+ arms with doses adds the dose-response test
        if dose is not None:
            doses = ", ".join(f"{md(a)} {d:g}" for a, d in dose.doses.items())
            st.markdown(
                f"**Dose-response** (linear trend across doses {doses}): slope "
                f"{fmt.est_ci(dose.slope, dose.ci_low, dose.ci_high, 4)} per unit of dose, "
                f"SE {fmt.num(dose.se, 4)}, p = {fmt.p_value(dose.p_value)} ({dose.df:g} df)."
            )
        if result.method == "mmrm":  # type III F tests of the model's terms
            type3 = cache.run(registry.mmrm_type3, trial, sel)
            st.caption("Type III F tests of the model's terms (every factor sum-to-zero coded)")
            render.table(tables.type3_table(type3), f"{endpoint}_type3", "type3")
        render.notes(result.notes)
        render.methods(result.methods_text)
    with right:
        if ep.kind == "continuous" and render.individual("Distribution of values"):
            column = {"aval": "value", "chg": derive.CHG, "pchg": derive.PCHG}[result.measure]
            fig = cache.figure(
                figures.distribution_figure,
                cache.values_at_visit(trial, sel),
                column,
                colours,
                f"{derive.MEASURES[result.measure]} at {result.visit_label}",
                labels.value_title(ep, result.measure, name=True),
            )
            render.figure(fig, "distribution")
        elif ep.kind == "binary":
            render.figure(cache.figure(figures.rate_figure, result, colours, k), "rates")
