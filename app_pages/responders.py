"""Responders: the primary responder rule with adjustable thresholds, and MCID achievement."""

import streamlit as st

from respine.analyses import compare, registry
from respine.model import params, rules
from respine.model.labels import describe_rule
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, colours, k = ctx.trial, ctx.colours, ctx.k


def reset_rule() -> None:
    # the view fields that fill the rule, back to their declared defaults, widgets forgotten
    state.reset(*params.filling("rule"))


st.title("Responders")
# The study's responder and MCID endpoints are those its description declares with a derivation.
RESPONDER = next(iter(trial.derived_endpoints("responder")), None)
if RESPONDER is None:
    st.info("The study description declares no responder endpoint (a derived endpoint with a "
            "responder rule), so there is no responder analysis to show.", icon=":material/info:")
    st.stop()
st.markdown(
    "Primary rule (Pers et al. 2024): VAS improvement of at least 20% **and** at least "
    "20 mm, **or** ODI improvement of at least 20%, from baseline. Change the thresholds "
    "to see how sensitive the result is to the definition."
)
# The rule's two criteria read the endpoints the study's responder declaration names.
first, second = map(md, trial.endpoint(RESPONDER).derivation.sources)
CRITERIA_TEXT = {"OR": f"the {first} or the {second} criterion", "AND": "both criteria",
                 "VAS": f"the {first} criterion alone", "ODI": f"the {second} criterion alone"}
alone = state.view().join  # a criterion left out of the rule: its thresholds are shown, unused
unused = {"disabled": True, "help": "Not used: the rule counts the other criterion alone."}
vas_kw, odi_kw = (unused if alone == "ODI" else {}), (unused if alone == "VAS" else {})

rule_col, vas_col, odi_col = st.columns([2, 3, 3])
with vas_col:
    state.bound(
        "vas_pct",
        st.slider,
        "VAS improvement at least (%)",
        min_value=0.0,
        max_value=100.0,
        step=5.0,
        format="%.0f",
        **vas_kw,
    )
    state.bound(
        "vas_mm",
        st.slider,
        "VAS improvement at least (mm)",
        min_value=0.0,
        max_value=100.0,
        step=5.0,
        format="%.0f",
        **vas_kw,
    )
    state.bound(
        "vas_join", st.radio, "Combine the two VAS criteria with", options=["AND", "OR"], horizontal=True,
        **vas_kw,
    )
with odi_col:
    state.bound(
        "odi_pct",
        st.slider,
        "ODI improvement at least (%)",
        min_value=0.0,
        max_value=100.0,
        step=5.0,
        format="%.0f",
        **odi_kw,
    )
    state.bound("join", st.radio, options=list(rules.CRITERIA), format_func=CRITERIA_TEXT.__getitem__)
with rule_col:
    controls.visit(ctx, RESPONDER)
    method = controls.method("binary", "Test", compare.BINARY_METHODS)
    st.button("Reset to the primary rule", on_click=reset_rule, icon=":material/restart_alt:")
controls.method_settings(ctx, trial.endpoint(RESPONDER), method)  # strata or covariates where used

sel = state.selection(trial, endpoint=RESPONDER, measure="aval")
words = describe_rule(trial.endpoint(RESPONDER), sel.rule, trial.endpoint)  # the declared components
if sel.rule.is_primary:
    st.caption(f"Rule: {words} (the primary definition).")
else:
    st.info(
        f"Rule: {words}. This differs from the primary definition; results are exploratory.",
        icon=":material/tune:",
    )

with render.explained():
    result = cache.run(registry.analyze, trial, sel)
    chart_col, table_col = st.columns([2, 3])
    with chart_col:
        render.figure(cache.figure(figures.rate_figure, result, colours, k), "responder_rates")
    with table_col:
        render.table(tables.arm_table(result, k), "responders_arms", "resp_arms")
        render.table(tables.contrast_table(result, k), "responders_comparison", "resp_contrasts")
        if result.extra.get("homogeneity"):  # stratified: are the strata's odds ratios alike?
            render.table(tables.homogeneity_table(result, k), "responders_homogeneity", "resp_homogeneity")
        render.notes(result.notes)
        render.methods(result.methods_text)

if method != "exact":  # the small-sample view of the same comparison, beside the chosen test
    with render.explained():
        exact = cache.run(registry.analyze, trial, sel.with_(method="exact"))
        st.markdown("**Exact and score intervals**")
        left, right = st.columns([2, 3])
        with left:
            render.table(tables.arm_table(exact, k), "responders_arms_exact", "resp_arms_exact")
        with right:
            render.table(tables.contrast_table(exact, k), "responders_comparison_exact",
                         "resp_contrasts_exact")
        render.methods(exact.methods_text)

with render.explained():
    trend = cache.run(registry.over_time, trial, sel)
    render.figure(
        cache.figure(
            figures.over_time_figure,
            trend,
            colours,
            "Responders by visit (95% CI)",
            "Responders (%)",
            percent=True,
            min_cell=k,
        ),
        "responder_trend",
    )

st.subheader("Minimal clinically important difference")
st.caption("Defaults: 15 mm for VAS and 10 points for ODI (Ostelo et al., Spine 2008;33:90-94).")
m1, m2 = st.columns(2)
with m1:
    state.bound("mcid_vas", st.number_input, "VAS MCID (mm)", min_value=0.0, max_value=100.0, step=1.0)
with m2:
    state.bound("mcid_odi", st.number_input, "ODI MCID (points)", min_value=0.0, max_value=100.0, step=1.0)
mcid_endpoints = trial.derived_endpoints("mcid")
for endpoint, col in zip(mcid_endpoints, st.columns(max(len(mcid_endpoints), 1)), strict=False):
    with col, render.explained():
        mcid = cache.run(registry.analyze, trial, state.selection(trial, endpoint=endpoint, measure="aval"))
        st.markdown(f"**{md(mcid.endpoint_label)}, {md(mcid.visit_label)}**")
        render.table(tables.arm_table(mcid, k), endpoint.lower(), f"{endpoint}_arms")
        render.table(tables.contrast_table(mcid, k).iloc[:1], f"{endpoint.lower()}_rd", f"{endpoint}_rd")
