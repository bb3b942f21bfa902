"""MRI: the structural co-primary endpoint (T2 disc fluid content) and its relation to symptoms."""

import streamlit as st

from respine.analyses import availability
from respine.present import figures, tables
from respine.present.fmt import md_escape as md
from respine.ui import access, cache, render, state

trial = st.session_state["trial"]
design = trial.design
colours = figures.arm_colours(design.arms, design.reference_arm)
k = access.min_cell()  # small-cell threshold of aggregate-only mode (0: show every cell)

st.title("MRI: disc fluid content")
st.markdown(
    "Co-primary structural endpoint: quantitative T2 of the treated disc, baseline to month "
    "12. Higher T2 means more water in the disc."
)
if "MRIT2" not in availability.available_endpoints(trial):
    st.info("The loaded data have no MRIT2 measurements.")
else:
    visits = availability.post_baseline_visits(trial, "MRIT2")
    visit = visits[-1]
    c1, c2 = st.columns(2)
    for col, measure in ((c1, "aval"), (c2, "chg")):
        with col, render.explained():
            sel = state.selection(trial, endpoint="MRIT2", visit=visit, measure=measure, method="welch")
            result = cache.analyze(trial.source, sel, trial)
            values = cache.values_at_visit(trial.source, sel, trial)
            column = "value" if measure == "aval" else "chg"
            if render.individual("Values of each subject"):
                render.figure(
                    cache.figure(
                        (trial.source, f"mri_{measure}", sel, measure),
                        lambda values=values, column=column, result=result, measure=measure: (
                            figures.distribution_figure(
                                values.dropna(subset=[column]),
                                column,
                                colours,
                                f"T2 at {result.visit_label}"
                                if measure == "aval"
                                else f"Change in T2, baseline to {result.visit_label}",
                                "ms",
                            )
                        ),
                    ),
                    f"mri_{measure}",
                )
            render.table(tables.arm_table(result, k), f"mri_{measure}_arms", f"mri_{measure}_arms")
            render.table(
                tables.contrast_table(result, k), f"mri_{measure}_comparison", f"mri_{measure}_contrast"
            )

    st.subheader("Structure and symptoms")
    clinical = state.option(
        "mri_clinical",
        st.radio,
        "Clinical change",
        default=(["VAS", "ODI"])[0],
        choices=["VAS", "ODI"],
        horizontal=True,
        format_func=lambda e: md(trial.endpoint(e).label),  # radio options are Markdown
    )
    with render.explained():
        sel = state.selection(trial, endpoint="MRIT2", visit=visit)
        points, correlations = cache.compute(trial.source, "structure", (sel, clinical), trial)
        ce = trial.endpoint(clinical)
        if render.individual("Scatter plot of subjects"):
            render.figure(
                cache.figure(
                    (trial.source, "mri_scatter", sel, clinical),
                    lambda: figures.scatter_figure(
                        points,
                        "MRIT2",
                        clinical,
                        colours,
                        f"Change in T2 vs change in {ce.label}, {design.visit_label(visit)}",
                        "Change in T2 (ms)",
                        f"Change in {ce.label} ({ce.unit})",
                    ),
                ),
                "mri_scatter",
            )
        render.table(tables.correlation_display(correlations, k), f"mri_vs_{clinical}", "mri_corr")
