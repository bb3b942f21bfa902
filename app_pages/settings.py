"""Settings: who can open the app, what it shows, how the server is configured, and versions."""

import streamlit as st

from respine import __version__
from respine.present.fmt import md_escape as md
from respine.ui import access, data
from respine.ui.context import page_context

trial = page_context().study  # the study as loaded, whatever arms the view compares

st.title("Settings")

st.subheader("Access")
cfg = access.config()
if cfg.mode == "open":
    st.warning(access.describe(cfg), icon=":material/lock_open:")
else:
    st.success(access.describe(cfg), icon=":material/lock:")

st.dataframe(access.protections(cfg), hide_index=True, width="stretch")

st.subheader("What this session shows")
rules = access.disclosure()
st.markdown(md(rules.describe()))
if cfg.disclosure.aggregate_only:
    st.caption(
        "Set by the deployment ([privacy] in the app's secrets); it cannot be switched off from here."
    )
else:
    st.toggle(
        f"Preview aggregate-only mode (k = {cfg.disclosure.min_cell})",
        value=bool(st.session_state.get(access.PREVIEW)),
        key="w_aggregate_preview",
        on_change=access.toggle_preview,
        help="See the app as collaborators see it when a deployment turns aggregate-only mode on.",
    )

st.subheader("Data")
kind = "synthetic twin" if trial.synthetic else "study data"
st.markdown(f"{md(trial.design.id)} ({kind}), {len(trial.subjects)} subjects. Source: {md(trial.source)}.")
st.caption(
    "Uploads stay in this browser session's memory and are never seen by another session. A "
    "deployment points at the trial's data with data_path in its secrets or RESPINE_DATA."
    + ("" if data.folder_root() is None else " Server folders can be opened from the Load data page.")
)

st.subheader("Server")
st.dataframe(access.server_settings(), hide_index=True, width="stretch")
st.caption(f"respine {__version__}, Streamlit {st.__version__}.")
