"""The report of this session: views added from any page, reviewed and downloaded on the Report page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from respine.model import design as S
from respine.present import report
from respine.ui import pages, render, state

ITEMS = "report_items"


def items() -> list[report.ReportItem]:
    return st.session_state.setdefault(ITEMS, [])


def current_link(page_path: str) -> str:
    """The address of the current view: the app's URL with this page and the view's parameters."""
    from urllib.parse import urlencode

    base = ""
    try:
        base = (st.context.url or "").split("?")[0].rstrip("/")
    except AttributeError:  # older Streamlit without st.context.url
        base = ""
    for page in pages.PAGES:  # the address may be of any registered page: strip its path
        if page.url_path and base.endswith(page.path):
            base = base[: -len(page.path)]
    query = urlencode({k: st.query_params.get_all(k) for k in st.query_params}, doseq=True)
    path = f"{base}/{page_path}".rstrip("/")
    return f"{path}?{query}" if query else path


def add_current_view(title: str, page_path: str) -> None:
    blocks = tuple(("figure", b[1].to_json()) if b[0] == "figure" and not isinstance(b[1], str) else b
                   for b in st.session_state.get(render.BLOCKS, []))
    if not blocks:
        st.toast("This page has nothing to add yet.")
        return
    items().append(report.ReportItem(title=title, link=current_link(page_path), blocks=blocks))
    st.toast(f"Added “{title}” to the report ({len(items())} views).", icon=":material/playlist_add:")


def move(index: int, step: int) -> None:
    lst = items()
    j = index + step
    if 0 <= j < len(lst):
        lst[index], lst[j] = lst[j], lst[index]


def remove(index: int) -> None:
    lst = items()
    if 0 <= index < len(lst):
        lst.pop(index)


def describe(trial: S.Trial) -> tuple[str, str, bool]:
    """(title, provenance, synthetic) for the report header."""
    view = state.view()
    filters = "; ".join(f.describe() for f in view.filters) or "no filter"
    provenance = f"{trial.design.title or trial.design.id}, source {trial.source}, population " \
                 f"{view.population}, {filters}"
    return f"{trial.design.id} results report", provenance, trial.synthetic


def html_file(trial: S.Trial) -> Callable[[], bytes]:
    """The HTML report, built only when downloaded. Streamlit calls this outside the script run,
    where session state is not available, so everything it needs is captured now."""
    title, provenance, synthetic = describe(trial)
    chosen = list(items())
    return lambda: report.render_html(chosen, title, provenance, synthetic).encode("utf-8")


def docx_file(trial: S.Trial) -> Callable[[], bytes]:
    title, provenance, synthetic = describe(trial)
    chosen = list(items())
    return lambda: report.render_docx(chosen, title, provenance, synthetic)
