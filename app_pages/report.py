"""Report: review, reorder and download the views added from other pages."""

import streamlit as st

from respine.present.fmt import md_escape as md
from respine.ui import report
from respine.ui.context import page_context

trial = page_context().trial

st.title("Report")
items = report.items()
if not items:
    st.info(
        "No view yet. On any page, press **Add this view to the report** in the sidebar; the view "
        "is kept with its tables, figures, methods text and link.",
        icon=":material/playlist_add:",
    )
else:
    st.markdown(
        f"{len(items)} view(s). The HTML report is one file that opens offline, with interactive "
        "figures; the Word document holds the tables and texts."
    )
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button(
        "Download HTML report",
        report.html_file(trial),
        file_name="report.html",
        mime="text/html",
        type="primary",
        icon=":material/download:",
        on_click="ignore",
        key="dl_report_html",
    )
    c2.download_button(
        "Download Word",
        report.docx_file(trial),
        file_name="report.docx",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        icon=":material/description:",
        on_click="ignore",
        key="dl_report_docx",
    )
    for i, item in enumerate(items):
        with st.container(border=True):
            left, right = st.columns([5, 2])
            kinds = [b[0] for b in item.blocks]
            left.markdown(f"**{i + 1}. {md(item.title)}**")
            left.caption(
                f"{kinds.count('table')} table(s), {kinds.count('figure')} figure(s) · added {item.added}"
            )
            left.code(item.link, language=None)
            b1, b2, b3 = right.columns(3)
            b1.button(
                "Up",
                key=f"up_{i}",
                on_click=report.move,
                args=(i, -1),
                disabled=i == 0,
                icon=":material/arrow_upward:",
            )
            b2.button(
                "Down",
                key=f"down_{i}",
                on_click=report.move,
                args=(i, 1),
                disabled=i == len(items) - 1,
                icon=":material/arrow_downward:",
            )
            b3.button("Remove", key=f"rm_{i}", on_click=report.remove, args=(i,), icon=":material/delete:")
