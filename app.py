"""RESPINE results explorer: the frame (data, global controls, navigation) around the pages."""

from __future__ import annotations

import logging

import streamlit as st

from respine.errors import RespineError
from respine.present.fmt import md_escape
from respine.ui import access, data, frame, render, report, state

LOG = logging.getLogger("respine.app")
# Pages that show no results of the selected subjects (so no small-selection check applies).
UNFILTERED_PAGES = ("data", "report", "settings")

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
state.begin_run()
st.session_state["trial"] = trial

pages = {
    "Results": [
        st.Page("app_pages/overview.py", title="Study overview", icon=":material/home:", default=True),
        st.Page(
            "app_pages/explorer.py",
            title="Endpoint explorer",
            icon=":material/show_chart:",
            url_path="explorer",
        ),
        st.Page(
            "app_pages/responders.py", title="Responders", icon=":material/task_alt:", url_path="responders"
        ),
        st.Page(
            "app_pages/profile.py",
            title="Responder profile",
            icon=":material/stacked_line_chart:",
            url_path="profile",
        ),
        st.Page(
            "app_pages/subgroups.py", title="Subgroups", icon=":material/account_tree:", url_path="subgroups"
        ),
        st.Page(
            "app_pages/trajectories.py",
            title="Over time",
            icon=":material/timeline:",
            url_path="trajectories",
        ),
        st.Page("app_pages/mri.py", title="MRI", icon=":material/radiology:", url_path="mri"),
        st.Page(
            "app_pages/robustness.py", title="Robustness", icon=":material/verified:", url_path="robustness"
        ),
    ],
    "Trial": [
        st.Page(
            "app_pages/baseline.py", title="Baseline", icon=":material/table_chart:", url_path="baseline"
        ),
        st.Page("app_pages/flow.py", title="Participant flow", icon=":material/device_hub:", url_path="flow"),
        st.Page(
            "app_pages/safety.py", title="Safety", icon=":material/health_and_safety:", url_path="safety"
        ),
        st.Page("app_pages/missing.py", title="Missing data", icon=":material/grid_off:", url_path="missing"),
        st.Page(
            "app_pages/paper.py", title="Reproduce the paper", icon=":material/fact_check:", url_path="paper"
        ),
    ],
    "Data and report": [
        st.Page("app_pages/data.py", title="Load data", icon=":material/upload_file:", url_path="data"),
        st.Page("app_pages/report.py", title="Report", icon=":material/summarize:", url_path="report"),
        st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"),
    ],
}
page = st.navigation(pages, expanded=True)
deep_link = access.requested_page()  # a link opened before signing in lands on its page now
if deep_link and deep_link != page.url_path:
    target = next((p for group in pages.values() for p in group if p.url_path == deep_link), None)
    if target is not None:
        st.switch_page(target)
access.sidebar_account(access_config)
frame.sidebar(trial)
render.synthetic_banner(trial)
render.start_page()
try:
    if page.url_path in UNFILTERED_PAGES or frame.disclosure_allows(trial):
        page.run()
        render.page_code(trial)
except Exception:  # a bug must not show a traceback: say so plainly, log the details for us
    LOG.exception("Unexpected error on page %s", page.title)
    st.error(
        "Something went wrong on this page. Your data and choices are kept; try another setting or "
        "page. The details were written to the server log; please report them.",
        icon=":material/bug_report:",
    )
state.sync_url(trial)
if page.url_path not in UNFILTERED_PAGES:
    st.sidebar.button(
        "Add this view to the report",
        on_click=report.add_current_view,
        args=(page.title, page.url_path),
        icon=":material/playlist_add:",
        key="add_to_report",
    )
# Streamlit leaves the last run's module (this namespace) in sys.modules["__main__"] until the next
# run of any session: drop the reference, so an uploaded trial leaves memory with its session.
del trial
