"""Report: review, comment, reorder and download the views added from other pages."""

import streamlit as st

from respine.present.fmt import md_escape as md
from respine.ui import report
from respine.ui.context import page_context

trial = page_context().trial
opened = report.pending_page()
if opened is not None:  # an item's "Open" button: its view is the session's now
    st.switch_page(opened)

st.title("Report")
items = report.items()
if not items:
    st.info(
        "No view yet. On any page, press **Add this view to the report** in the sidebar; the view "
        "is kept with its selection, tables, figures, methods text and link, and you can comment on "
        "it here. The report is kept in this page's address: a reload, or the address sent to a "
        "colleague, reopens it.",
        icon=":material/playlist_add:",
    )
else:
    st.markdown(
        f"{len(items)} view(s), each under the selection it was added with. The HTML report is one "
        "file that opens offline, with interactive figures; the Word document holds the tables, "
        "texts and figures. The report is kept in this page's address: bookmark it, or send it, to "
        "reopen the report later."
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
    missing = sum(not item.blocks for item in items)
    if missing:
        st.button(
            f"Rebuild the tables and figures of {missing} view(s)",
            on_click=report.start_rebuild,
            icon=":material/autorenew:",
            help="Opens each view reopened from the address in turn, keeps what it shows, and comes back.",
            key="report_rebuild",
        )
    for i, item in enumerate(items):
        with st.container(border=True):
            left, right = st.columns([5, 2])
            kinds = [b[0] for b in item.blocks]
            left.markdown(f"**{i + 1}. {md(item.title)}**")
            left.markdown(f"Selection: {md(item.selection)}")
            if item.blocks:
                left.caption(
                    f"{kinds.count('table')} table(s), {kinds.count('figure')} figure(s) · added {item.added}"
                )
            else:
                left.caption(
                    "Reopened from the address: its tables and figures are not in this session. Press "
                    "**Rebuild** above, or **Open** and then **Add this view to the report**, to include "
                    "them again (its comment stays)."
                )
            left.code(item.link, language=None)
            left.text_area(
                "Comment",
                key=report.seed_comment(item),
                max_chars=report.MAX_COMMENT,
                placeholder="What this view shows, for the report's readers",
                on_change=report.set_comment,
                args=(item.link, report.comment_key(item)),
            )
            b1, b2 = right.columns(2)
            b1.button(
                "Up",
                key=f"up_{i}",
                on_click=report.move,
                args=(i, -1),
                disabled=i == 0,
                icon=":material/arrow_upward:",
                width="stretch",
            )
            b2.button(
                "Down",
                key=f"down_{i}",
                on_click=report.move,
                args=(i, 1),
                disabled=i == len(items) - 1,
                icon=":material/arrow_downward:",
                width="stretch",
            )
            b3, b4 = right.columns(2)
            b3.button(
                "Open",
                key=f"open_{i}",
                on_click=report.open_item,
                args=(trial, i),
                icon=":material/open_in_new:",
                help="Show this view (its page and selection) in the app; the report stays.",
                width="stretch",
            )
            b4.button("Remove", key=f"rm_{i}", on_click=report.remove, args=(i,), icon=":material/delete:",
                      width="stretch")
