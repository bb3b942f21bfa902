"""Reproduce the paper: every published figure the study declares beside the same figure from the
loaded data."""

import streamlit as st

from respine.analyses import published, registry
from respine.present import tables
from respine.present.fmt import md_escape as md
from respine.ui import cache, render
from respine.ui.context import page_context

trial = page_context().study  # the published results are about the study's own arms

st.title("Reproduce the paper")
if not published.declares_published(trial.design):
    # Nothing to check: no table, no verdict, no claim the study never made.
    st.info(published.NOTHING_DECLARED, icon=":material/info:")
else:
    st.markdown(
        f"Published figures of {md(trial.design.citation or trial.design.id)} beside the same "
        "figures recomputed from the loaded data, by the documented primary analysis. On the "
        "synthetic twin every row matches by construction; on real data this is the first "
        "check to run."
    )
    with render.explained():
        check = cache.run(registry.paper_check, trial)
        if check.empty:  # declared, but for arms or comparisons these data do not have
            st.warning("The published figures the study declares name arms or comparisons these data "
                       "do not have, so none can be recomputed; compare study.toml with the data.")
            st.stop()
        n_ok = int(check["matches"].sum())
        (st.success if n_ok == len(check) else st.error)(f"{n_ok} of {len(check)} published figures match.")
        render.table(tables.check_display(check), "paper_check", "paper")
