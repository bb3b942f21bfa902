"""Time to event: Kaplan-Meier curves, medians, log-rank tests and Cox hazard ratios (ADaM ADTTE)."""

import streamlit as st

from respine.analyses import registry
from respine.analyses import survival as tte
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, controls, render
from respine.ui.context import page_context

ctx = page_context()
trial, view, colours, k = ctx.trial, ctx.view, ctx.colours, ctx.k

st.title("Time to event")
parameters = tte.parameters(trial)
if not parameters:  # the navigation shows this page only for a study with time-to-event data
    st.info("The loaded data have no time-to-event dataset (ADaM ADTTE).")
else:
    st.markdown(
        f"Kaplan-Meier estimates by arm in population **{md(view.population)}**, with pointwise CIs on "
        "the log(-log) scale, medians with Brookmeyer-Crowley CIs, the log-rank test and Cox hazard "
        "ratios (Efron ties, Wald CI and p) of each arm against the reference."
    )
    c1, c2 = st.columns(2)
    with c1:
        # selectbox options are plain text (not Markdown): the data's labels are shown as they are
        parameter = controls.choice("tte_parameter", "Event", parameters, st.selectbox)
    with c2:
        covariates = {c.column: c.label for c in tte.stratification_covariates(trial)}
        stratify = controls.choice("tte_strata", "Stratify the test and the model by",
                                   {"": "No stratification", **covariates},
                                   st.selectbox)
    with render.explained():
        result = cache.run(registry.time_to_event, trial, parameter, view.population, view.filters, stratify)
        unit = f" ({result.unit})" if result.unit else ""
        render.figure(
            cache.figure(figures.km_figure, result, colours, f"{result.label}, by arm", f"Time{unit}", k),
            "tte_km",
        )
        st.subheader("Subjects at risk")
        render.table(tables.at_risk_display(result, tables.risk_times(result), k), f"tte_{parameter}_at_risk",
                     "tte_at_risk")
        st.subheader("Medians and hazard ratios")
        render.table(tables.time_to_event_display(result, k), f"tte_{parameter}_summary", "tte_summary")
        if result.note:
            st.info(md(result.note), icon=":material/info:")
        render.table(tables.logrank_display(result, covariates.get(stratify, "")), f"tte_{parameter}_logrank",
                     "tte_logrank")
        strata_text = f", stratified by {covariates[stratify]}" if stratify else ""
        render.methods(
            f"{result.label}: Kaplan-Meier estimate per arm in population {result.population}; pointwise "
            f"95% CI by Greenwood's variance on the log(-log) scale; median CI by Brookmeyer and Crowley; "
            f"log-rank test over the arms{strata_text}; Cox proportional hazards model{strata_text} "
            f"with Efron's method for ties, hazard ratio of each arm against {result.reference} with a "
            "Wald 95% CI and p. Computed with lifelines."
        )
