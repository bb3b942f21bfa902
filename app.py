"""RESPINE results explorer: the frame (data, global controls, navigation) around the pages."""

from __future__ import annotations

import logging

import streamlit as st

from respine.errors import RespineError
from respine.present.fmt import md_escape
from respine.ui import access, data, frame, pages, render, report, state, warmup

LOG = logging.getLogger("respine.app")

st.set_page_config(page_title="RESPINE results explorer", page_icon=":material/monitoring:", layout="wide")
# Before anything else: a hosted app shows nothing (no page, data or download) until the login or
# password is passed. A local run without secrets is open (the Settings page says so).
access_config = access.gate()

try:
    trial = data.active_trial()
except RespineError as exc:
    st.error(
        f"The configured trial data could not be loaded. {md_escape(str(exc))} Fix the data, or set "
        "RESPINE_DATA to another folder."
    )
    st.stop()

state.init_view(trial)
report.restore(trial)  # a report in the address (a reload, a shared link) is reopened, once
state.begin_run()
st.session_state["trial"] = trial

# The navigation is built from the one page registry (respine/ui/pages.py). In aggregate-only mode
# the pages of individual subjects are left out of it; their address then says why (below).
individual_views = access.individual_views()
navigation = {
    section: [
        st.Page(p.file, title=p.title, icon=p.icon, default=True)
        if p.default
        else st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path,
                     visibility="visible" if pages.listed(p, individual_views) else "hidden")
        for p in group
    ]
    for section, group in pages.sections(trial).items()
}
page = st.navigation(navigation, expanded=True)
deep_link = access.requested_page()  # a link opened before signing in lands on its page now
if deep_link and deep_link != page.url_path:
    target = next((p for group in navigation.values() for p in group if p.url_path == deep_link), None)
    if target is not None:
        st.switch_page(target)
access.sidebar_account(access_config)
frame.sidebar(trial)
render.synthetic_banner(trial)
render.start_page()
# Pages that show no results of the selected subjects have no small-selection check.
spec = pages.by_url_path(page.url_path)
shows_selection = spec is None or spec.selection
try:
    if spec is not None and spec.individual and not individual_views:
        st.title(spec.title)
        st.info(
            f"{spec.title}: not available in aggregate-only mode, because it shows individual subjects. "
            "The other pages show the same data as summaries.",
            icon=":material/visibility_off:",
        )
    elif not shows_selection or frame.disclosure_allows(trial):
        page.run()
        render.page_code(trial)
except Exception:  # a bug must not show a traceback: say so plainly, log the details for us
    LOG.exception("Unexpected error on page %s", page.title)
    st.error(
        "Something went wrong on this page. Your data and choices are kept; try another setting or "
        "page. The details were written to the server log; please report them.",
        icon=":material/bug_report:",
    )
report.rebuild_step(trial, page.url_path)  # a report being rebuilt opens its next view, if any
state.sync_url(trial)
if shows_selection:
    st.sidebar.button(
        "Add this view to the report",
        on_click=report.add_current_view,
        args=(page.title, page.url_path, trial),
        icon=":material/playlist_add:",
        key="add_to_report",
    )
# Streamlit leaves the last run's module (this namespace) in sys.modules["__main__"] until the next
# run of any session: drop the reference, so an uploaded trial leaves memory with its session.
del trial
# A bare `streamlit run app.py` has no server lifespan (serve.py starts the warm-up there): start it
# after the first run instead (once a process; nothing under AppTest or without a server).
warmup.start(__file__)
