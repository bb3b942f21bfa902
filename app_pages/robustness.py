"""Robustness of a result: missing data, tipping point, Bayesian reading, multiplicity, GEE."""

import streamlit as st

from respine.analyses import availability
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
treat, ref = design.treatment_arms[0], design.reference_arm
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("Robustness")
st.markdown(
    "Would the conclusion change under other reasonable analyses? Missing data handled "
    "five ways, how far the missing outcomes would have to shift, a Bayesian reading, "
    "adjustment for looking at several visits, and a repeated-measures model."
)
c1, c2 = st.columns([3, 2])
with c1:
    endpoints = [
        e
        for e in ("RESP", "VAS", "ODI", "SF36PCS", "SF36MCS")
        if e in availability.available_endpoints(trial)
    ]
    endpoints = endpoints or availability.available_endpoints(trial)
    endpoint = state.bound(
        "endpoint", st.selectbox, "Endpoint", options=endpoints, format_func=lambda e: trial.endpoint(e).label
    )
ep = trial.endpoint(endpoint)
with c2:
    state.bound(
        "visit",
        st.selectbox,
        "Visit",
        options=availability.post_baseline_visits(trial, endpoint),
        format_func=design.visit_label,
    )
binary = ep.kind == "binary"
sel = state.selection(
    trial,
    endpoint=endpoint,
    method="chisq_yates" if binary else "welch",
    covariates=(),
    measure="aval" if binary else "chg",
)
visit = design.visit_label(sel.visit)

st.subheader("Missing data")
with render.explained():
    sens = cache.compute(trial.source, "sensitivity", (sel, 50, 2024), trial)
    measure = "risk_difference" if binary else "mean_difference"
    render.figure(
        cache.figure(
            (trial.source, "sens_fig", sel),
            lambda: figures.estimates_figure(sens, measure, f"{ep.label} at {visit}: {treat} vs {ref}"),
        ),
        "sens_fig",
    )
    render.table(tables.sensitivity_display(sens, k), f"sensitivity_{endpoint}", "sensitivity")
    render.methods(sens["methods_text"].iloc[-1])  # the multiple imputation; the others are named above

st.subheader("Tipping point")
with render.explained():
    grid, summary = cache.compute(trial.source, "tipping", (sel, 50, 2024), trial)
    if binary:
        render.figure(
            cache.figure(
                (trial.source, "tipping", sel, binary),
                lambda: figures.tipping_figure(
                    grid,
                    treat,
                    ref,
                    "p-value for every outcome of the missing subjects (✱ = conclusion changes)",
                ),
            ),
            "tipping",
        )
    else:
        render.figure(
            cache.figure(
                (trial.source, "tipping", sel, binary),
                lambda: figures.delta_figure(
                    grid,
                    "Missing values of the treatment arm shifted by delta",
                    f"delta ({ep.unit or 'units'})",
                ),
            ),
            "tipping",
        )
    st.markdown(f"**{md(summary)}**")

if binary:
    st.subheader("Bayesian reading")
    relevant = state.option(
        "bayes_threshold",
        st.slider,
        "Clinically relevant benefit (percentage points)",
        default=10,
        min_value=1,
        max_value=30,
    )
    with render.explained():
        posts = cache.compute(trial.source, "bayes", (sel, relevant / 100), trial)
        render.figure(
            cache.figure(
                (trial.source, "posterior", sel, relevant),
                lambda: figures.posterior_figure(
                    posts, relevant / 100, f"Posterior of the difference in responders, {visit}"
                ),
            ),
            "posterior",
        )
        render.table(tables.bayes_display(posts), "bayesian_reading", "bayes")
        render.methods(
            "Each arm's responder rate has a Beta prior, updated by the observed counts; the density "
            "of the difference is computed by numerical convolution (Spiegelhalter, Abrams and "
            "Myles 2004). Sceptical: no difference expected, large benefit unlikely; neutral: "
            "uniform priors; enthusiastic: centred on a 15-point benefit."
        )

st.subheader("Multiplicity")
families = {"visits": f"{md(ep.label)} at every visit", "endpoints": f"every endpoint at {md(visit)}"}
family = state.option(
    "mult_family",
    st.radio,
    "Family of tests",
    default=(["visits", "endpoints"])[0],
    choices=["visits", "endpoints"],
    horizontal=True,
    format_func=families.get,  # radio options are Markdown: the labels are escaped
)
with render.explained():
    mult = cache.compute(
        trial.source, "multiplicity" if family == "visits" else "multiplicity_endpoints", (sel,), trial
    )
    render.table(
        tables.multiplicity_display(mult, "Visit" if family == "visits" else "Endpoint", k),
        f"multiplicity_{family}",
        "multiplicity",
    )
    render.methods(
        "Adjusted within the family shown: Holm and Hochberg control the family-wise error rate, "
        "Benjamini-Hochberg the false discovery rate. Subgroup interaction tests are adjusted on "
        "the Subgroups page."
    )

if binary:
    st.subheader("All visits in one model: GEE")
    corr = state.option(
        "gee_corr",
        st.radio,
        "Working correlation",
        default=(["exchangeable", "unstructured"])[0],
        choices=["exchangeable", "unstructured"],
        horizontal=True,
    )
    with render.explained():
        gee = cache.compute(trial.source, "gee", (sel, corr), trial)
        render.table(tables.gee_display(gee, k), f"gee_{endpoint}", "gee")
        render.methods(
            f"Logistic generalised estimating equations over all post-baseline visits with arm × "
            f"visit terms, {corr} working correlation and robust (sandwich) standard errors."
        )
