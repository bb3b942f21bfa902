"""MRI: the structural co-primary endpoint (T2 disc fluid content) and its relation to symptoms."""

import streamlit as st

from respine.analyses import availability, registry
from respine.model.labels import measure_unit
from respine.present import figures, labels, tables
from respine.ui import cache, controls, render, state
from respine.ui.context import page_context

ctx = page_context()
trial, design, colours, k = ctx.trial, ctx.design, ctx.colours, ctx.k

st.title("MRI: disc fluid content")
st.markdown(
    "Co-primary structural endpoint: quantitative T2 of the treated disc, baseline to month "
    "12. Higher T2 means more water in the disc."
)
STRUCTURAL = next(iter(design.group("structural")), None)  # declared in the study description
if STRUCTURAL is None or STRUCTURAL not in availability.available_endpoints(trial):
    st.info("The loaded data have no structural (imaging) measurements declared by the study.")
else:
    visits = availability.post_baseline_visits(trial, STRUCTURAL)
    visit = visits[-1]
    c1, c2 = st.columns(2)
    for col, measure in ((c1, "aval"), (c2, "chg")):
        with col, render.explained():
            sel = state.selection(trial, endpoint=STRUCTURAL, visit=visit, measure=measure, method="welch")
            result = cache.run(registry.analyze, trial, sel)
            if render.individual("Values of each subject"):
                render.figure(
                    cache.figure(
                        figures.distribution_figure,
                        cache.values_at_visit(trial, sel),
                        "value" if measure == "aval" else "chg",
                        colours,
                        f"T2 at {result.visit_label}"
                        if measure == "aval"
                        else f"Change in T2, baseline to {result.visit_label}",
                        labels.value_title(trial.endpoint(STRUCTURAL), measure),  # the measure's unit
                    ),
                    f"mri_{measure}",
                )
            render.table(tables.arm_table(result, k), f"mri_{measure}_arms", f"mri_{measure}_arms")
            render.table(
                tables.contrast_table(result, k), f"mri_{measure}_comparison", f"mri_{measure}_contrast"
            )

    st.subheader("Structure and symptoms")
    symptoms = list(design.group("symptoms"))
    clinical = controls.endpoint_option(ctx, "mri_clinical", symptoms, "Clinical change", st.radio)
    with render.explained():
        sel = state.selection(trial, endpoint=STRUCTURAL, visit=visit)
        points, correlations = cache.run(registry.structure, trial, sel, clinical)
        ce = trial.endpoint(clinical)
        if render.individual("Scatter plot of subjects"):
            render.figure(
                cache.figure(
                    figures.scatter_figure,
                    points,
                    STRUCTURAL,
                    clinical,
                    colours,
                    f"Change in T2 vs change in {ce.label}, {design.visit_label(visit)}",
                    labels.with_unit("Change in T2", measure_unit(trial.endpoint(STRUCTURAL), "chg")),
                    labels.with_unit(f"Change in {ce.label}", measure_unit(ce, "chg")),
                ),
                "mri_scatter",
            )
        render.table(tables.correlation_display(correlations, k), f"mri_vs_{clinical}", "mri_corr")
