"""Robustness of a result: missing data, tipping point, Bayesian reading, multiplicity, GEE."""

import streamlit as st

from respine.analyses import availability, registry
from respine.analyses.progress import Tracker
from respine.model.labels import endpoint_label
from respine.present import figures, labels, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, k = ctx.trial, ctx.design, ctx.k
ref = ctx.ref

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
        for e in trial.design.group("efficacy")
        if e in availability.available_endpoints(trial)
    ]
    endpoints = endpoints or availability.available_endpoints(trial)
    endpoint = controls.endpoint(ctx, endpoints)
ep = trial.endpoint(endpoint)
with c2:
    controls.visit(ctx, endpoint, post_baseline=True)
binary = ep.kind == "binary"
sel = state.selection(
    trial,
    endpoint=endpoint,
    method="chisq_yates" if binary else "welch",
    covariates=(),
    measure="aval" if binary else "chg",
)
visit = design.visit_label(sel.visit)
label = endpoint_label(ep, sel.rule, trial.endpoint)  # names a modified responder rule as such
# The tables cover every treatment arm; a figure of one comparison (the missing-data estimates,
# the tipping point, the posterior) shows the arm chosen here (a study of two arms has one).
several = len(design.treatment_arms) > 1
if several:
    treat = controls.choice("compare", f"Figures compare with {ref}", list(design.treatment_arms),
                            widget=st.selectbox)
else:
    treat = design.treatment_arms[0]
chosen = {"arm": treat} if several else {}  # the analyses' default: the only treatment arm
#: Above this many subjects the reference-based imputation starts with approximate Bayesian draws.
JACKKNIFE_SUBJECTS = 2000
# A first view at 10,000 subjects computes for seconds: a bar names the step under way.
bar = st.progress(0.0)
steps = ["missing data", *(["reference-based imputation"] if not binary and not ep.is_derived else []),
         "tipping point", *(["Bayesian reading"] if binary else []), "multiplicity",
         *(["GEE"] if binary else []), "estimands"]
tracker = Tracker(steps, lambda done, step: bar.progress(done, text=f"Computing: {step}"))
tracker.start("missing data")

st.subheader("Missing data")
with render.explained():
    sens = cache.run(registry.sensitivity, trial, sel)
    measure = "risk_difference" if binary else "mean_difference"
    render.figure(
        cache.figure(figures.estimates_figure, sens[sens["arm"] == treat] if several else sens, measure,
                     f"{label} at {visit}: {treat} vs {ref}",
                     endpoint=ep, arm=treat, reference=ref, endpoint_measure=sel.measure),
        "sens_fig",
    )
    render.table(tables.sensitivity_display(sens, k), f"sensitivity_{endpoint}", "sensitivity")
    # the multiple imputation (of the arm the figure compares); the others are named above
    render.methods((sens[sens["arm"] == treat] if several else sens)["methods_text"].iloc[-1])

if not binary and not ep.is_derived:
    st.subheader("Reference-based multiple imputation")
    left_col, right_col = st.columns(2)
    with left_col:
        strategy = controls.choice("refbased", "Assumption after discontinuation",
                                   {"JR": "Jump to reference", "CR": "Copy reference",
                                    "CIR": "Copy increments in reference", "MAR": "Missing at random",
                                    "all": "All four"}, widget=st.selectbox)
    # The jackknife refits the imputation model once per subject: deterministic and exact to rbmi,
    # but about 14 s at 10,000 subjects; there the approximate Bayesian draws (1 s) come first.
    methods = {"condmean": "Conditional mean, jackknife SE",
               "approxbayes": "Approximate Bayesian, Rubin's rules"}
    if len(trial.subjects) > JACKKNIFE_SUBJECTS:
        methods = {"approxbayes": methods["approxbayes"], "condmean": methods["condmean"]}
    with right_col:
        ref_method = controls.choice("refmethod", "Imputation method", methods, widget=st.selectbox)
    tracker.start("reference-based imputation")
    with render.explained():
        refb = cache.run(registry.reference_based, trial, sel, strategy=strategy, method=ref_method,
                         **chosen)
        render.table(tables.reference_based_display(refb, k), f"reference_based_{endpoint}", "refbased")
        render.methods(refb["methods_text"].iloc[0])

tracker.start("tipping point")
st.subheader("Tipping point")
with render.explained():
    grid, summary = cache.run(registry.tipping, trial, sel, **chosen)
    if binary:
        fig = cache.figure(
            figures.tipping_figure,
            grid,
            treat,
            ref,
            "p-value for every outcome of the missing subjects (✱ = conclusion changes)",
        )
    else:
        fig = cache.figure(
            figures.delta_figure,
            grid,
            "Missing values of the treatment arm shifted by delta",
            f"delta ({ep.unit or 'units'})",
            endpoint=ep, arm=treat, reference=ref, endpoint_measure=sel.measure,
        )
    render.figure(fig, "tipping")
    st.markdown((f"{md(treat)} vs {md(ref)}: " if several else "") + f"**{md(summary)}**")

if binary:
    tracker.start("Bayesian reading")
    st.subheader("Bayesian reading")
    word = labels.benefit_word(ep)  # "benefit" for responders; never for an unknown direction
    relevant = state.option(
        "bayes_threshold",
        st.slider,
        f"Clinically relevant {word} (percentage points)",
        default=10,
        min_value=1,
        max_value=30,
    )
    with render.explained():
        posts = cache.run(registry.bayes, trial, sel, threshold=relevant / 100, **chosen)
        render.figure(
            cache.figure(
                figures.posterior_figure,
                posts,
                relevant / 100,
                f"Posterior of the difference in responders, {visit}"
                + (f": {treat} vs {ref}" if several else ""),
                endpoint=ep, arm=treat, reference=ref,
            ),
            "posterior",
        )
        render.table(tables.bayes_display(posts, ep), "bayesian_reading", "bayes")
        render.methods(
            "Each arm's responder rate has a Beta prior, updated by the observed counts; the density "
            "of the difference is computed by numerical convolution (Spiegelhalter, Abrams and "
            f"Myles 2004). Sceptical: no difference expected, large {word} unlikely; neutral: "
            f"uniform priors; enthusiastic: centred on a 15-point {word}."
        )

tracker.start("multiplicity")
st.subheader("Multiplicity")
families = {"visits": f"{md(label)} at every visit", "endpoints": f"every endpoint at {md(visit)}"}
family = controls.choice("mult_family", "Family of tests", families)  # labels escaped above
with render.explained():
    over = registry.multiplicity if family == "visits" else registry.multiplicity_endpoints
    mult = cache.run(over, trial, sel)
    render.table(
        tables.multiplicity_display(mult, "Visit" if family == "visits" else "Endpoint", k),
        f"multiplicity_{family}",
        "multiplicity",
    )
    render.methods(
        "Adjusted within the family shown: Holm and Hochberg control the family-wise error rate, "
        "Benjamini-Hochberg the false discovery rate. Subgroup interaction tests are adjusted on "
        "the Subgroups page."
        + (" Each treatment arm's comparisons with the reference are one family." if several else "")
    )

if binary:
    tracker.start("GEE")
    st.subheader("All visits in one model: GEE")
    corr = controls.choice("gee_corr", "Working correlation", ["exchangeable", "unstructured"])
    with render.explained():
        gee = cache.run(registry.gee, trial, sel, correlation=corr)
        render.table(tables.gee_display(gee, k), f"gee_{endpoint}", "gee")
        render.methods(
            f"Logistic generalised estimating equations over all post-baseline visits with arm × "
            f"visit terms, {corr} working correlation and robust (sandwich) standard errors."
        )

tracker.start("estimands")
st.subheader("Estimands")
with render.explained():
    render.table(tables.estimand_display(cache.run(registry.estimands, trial, sel)),
                 f"estimands_{endpoint}", "estimands")
tracker.finish()
bar.empty()
