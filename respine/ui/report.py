"""The report of this session: views added from any page, reviewed, commented and downloaded on
the Report page.

Each item keeps the link of the view it was added under (so its own selection, described from
that link) and the reader's comment. The items' links and comments are written into the app's
address as one ``report`` parameter (:func:`respine.present.report.encode_entries`) whenever the
report changes, so a reload of the tab, or the address sent to a colleague, reopens the report
(:func:`restore`). Tables and figures are not in the address (they are computed from the data):
an item reopened from a link gets them again when its view is opened (:func:`open_item`) and
added again, which updates the item in place and keeps its comment, or all at once: the Report
page's "Rebuild" opens each such view in turn and keeps what it shows (:func:`start_rebuild`,
:func:`rebuild_step`), then comes back.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import streamlit as st

from respine import urlstate
from respine.model import design as S
from respine.model import params
from respine.present import report
from respine.present.labels import synthetic_notice
from respine.ui import pages, render, state

ITEMS = "report_items"
OPEN = "_report_open"  # the page an "Open" button asked for (switched to by the Report page)
REBUILD = "_report_rebuild"  # links still to rebuild, the view and notes to come back to
REBUILDING = "_report_rebuilding"  # the link whose view this run draws for a rebuild
REPORT_PAGE = "app_pages/report.py"
PARAM = report.PARAM
MAX_COMMENT = report.MAX_COMMENT


def items() -> list[report.ReportItem]:
    return st.session_state.setdefault(ITEMS, [])


def _base() -> str:
    """The app's root address (``http://host:8501`` or ``https://host/base``), "" when unknown."""
    try:
        base = (st.context.url or "").split("?")[0].rstrip("/")
    except AttributeError:  # older Streamlit without st.context.url
        base = ""
    for page in pages.PAGES:  # the address may be of any registered page: strip its path
        if page.url_path and base.endswith(page.path):
            base = base[: -len(page.path)]
    return base


def _view_query(trial: S.Trial) -> dict[str, str | list[str]]:
    """The query of the session's view (what the address bar says once the run has written it;
    the view, not a rerun's query string, which can be older: see :func:`state.sync_url`)."""
    return urlstate.encode(state.view(), state.options_for(trial).default)


def current_link(page_path: str, trial: S.Trial) -> str:
    """The address of the current view: the app's URL with this page and the view's parameters."""
    return _base() + _relative(page_path, _view_query(trial))


def _relative(page_path: str, query: Mapping[str, str | list[str]]) -> str:
    text = urlencode(query, doseq=True)
    return f"/{page_path}" + (f"?{text}" if text else "")


def _split(link: str) -> tuple[str, dict[str, list[str]]]:
    """(page URL path, query) of an item's link, absolute or relative."""
    parts = urlsplit(link)
    path = parts.path
    base_path = urlsplit(_base()).path.rstrip("/")
    if base_path and path.startswith(base_path):
        path = path[len(base_path):]
    return path.strip("/"), parse_qs(parts.query, keep_blank_values=True)


def describe_view(trial: S.Trial, query: Mapping[str, str | list[str]]) -> tuple[str, list[str]]:
    """The selection of a view's link in words, and notes about link values this study cannot use.

    The population and the subgroup filters are always named (they decide which subjects are
    counted); every other choice only where it differs from the study's default view."""
    options = state.options_for(trial)
    view, notes = urlstate.decode(query, options)
    default = options.default
    design = trial.design
    parts = [f"Population {view.population or design.default_population}",
             "; ".join(f.describe() for f in view.filters) or "no subgroup filter"]
    for p in params.PARAMS:
        value = getattr(view, p.name)
        if p.name in ("population", "filters") or value == getattr(default, p.name):
            continue
        if p.kind == "visit":
            text = design.visit_label(value)
        elif p.name == "endpoint" and value in options.endpoints:
            text = trial.endpoint(value).label
        elif p.kind == "number":
            text = f"{value:g}"
        elif p.kind == "names":
            text = ", ".join(value) or "none"
        else:
            text = str(value)
        parts.append(f"{p.label}: {text}")
    parts += [f"{name}: {text}" for name, text in view.options]
    return " · ".join(parts), notes


def _sync() -> None:
    """Write the report into the address (with the view), or take it out when it is empty.

    Raises
    ------
    ReportLinkError
        When the report would not fit in an address; the caller undoes its change.
    """
    lst = items()
    extra = dict(st.session_state.get(state.URL_EXTRA, {}))
    if lst:
        entries = [(_relative(*_split(item.link)), item.comment) for item in lst]
        extra[PARAM] = report.encode_entries(entries)
    else:
        extra.pop(PARAM, None)
    st.session_state[state.URL_EXTRA] = extra


def _changed(before: list[report.ReportItem]) -> bool:
    """Put the report in the address after a change; if it no longer fits, undo the change and
    say why. Returns whether the change was kept."""
    try:
        _sync()
    except report.ReportLinkError as exc:
        st.session_state[ITEMS] = before
        st.toast(f"Not changed: {exc}.", icon=":material/error:")
        return False
    return True


def _page_blocks() -> tuple[report.Block, ...]:
    """What the page of this run showed (figures as JSON, as a report keeps them)."""
    return tuple(("figure", b[1].to_json()) if b[0] == "figure" and not isinstance(b[1], str) else b
                 for b in st.session_state.get(render.BLOCKS, []))


def add_current_view(title: str, page_path: str, trial: S.Trial) -> None:
    blocks = _page_blocks()
    if not blocks:
        st.toast("This page has nothing to add yet.")
        return
    link = current_link(page_path, trial)
    before = list(items())
    selection_text, _ = describe_view(trial, _view_query(trial))
    same = next((i for i, item in enumerate(before) if item.link == link), None)
    if same is not None:
        # The same view again (after a reload, its contents are rebuilt so): updated in place,
        # with its comment and its place in the report.
        updated = replace(before[same], blocks=blocks, added=report.stamp(),
                          selection=selection_text)
        st.session_state[ITEMS] = [*before[:same], updated, *before[same + 1:]]
        if _changed(before):
            st.toast(f"Updated view {same + 1} of the report, “{title}”.", icon=":material/sync:")
        return
    st.session_state[ITEMS] = [*before, report.ReportItem(title=title, link=link, blocks=blocks,
                                                          selection=selection_text)]
    if _changed(before):
        st.toast(f"Added “{title}” to the report ({len(items())} views).", icon=":material/playlist_add:")


def move(index: int, step: int) -> None:
    before = list(items())
    lst = list(before)
    j = index + step
    if 0 <= j < len(lst):
        lst[index], lst[j] = lst[j], lst[index]
        st.session_state[ITEMS] = lst
        _changed(before)


def remove(index: int) -> None:
    before = list(items())
    if 0 <= index < len(before):
        st.session_state[ITEMS] = before[:index] + before[index + 1:]
        _changed(before)


def comment_key(item: report.ReportItem) -> str:
    """The comment box's key: by the item's link (unique in a report), so it follows the item
    when items move."""
    return f"report_comment_{zlib.crc32(item.link.encode()):08x}"


def set_comment(link: str, key: str) -> None:
    """The comment box's change callback: the item's comment, in the report and the address."""
    before = list(items())
    text = str(st.session_state.get(key) or "")
    st.session_state[ITEMS] = [replace(item, comment=text) if item.link == link else item for item in before]
    if not _changed(before):  # too long for the address: the box shows the kept comment again
        st.session_state[key] = next((i.comment for i in before if i.link == link), "")


def seed_comment(item: report.ReportItem) -> str:
    """Show the item's comment in its box (drawn next), whatever the box held; returns the key."""
    key = comment_key(item)
    if st.session_state.get(key) != item.comment:
        st.session_state[key] = item.comment
    return key


def restore(trial: S.Trial) -> None:
    """On a session's first run, reopen the report of the address's ``report`` parameter.

    Read strictly: a value that cannot be read (damaged, too long, another version, an item that
    is no view of this app) leaves the report empty with a note saying why, never a traceback."""
    if ITEMS in st.session_state:
        return
    st.session_state[ITEMS] = []
    raw = st.query_params.get_all(PARAM)
    if not raw:
        return
    restored: list[report.ReportItem] = []
    notes: list[str] = []
    try:
        if len(raw) > 1:
            raise report.ReportLinkError("the address has more than one 'report' parameter")
        for link, comment in report.decode_entries(raw[0]):
            path, query = _split(link)
            page = pages.by_url_path(path)
            if page is None or not page.selection:
                raise report.ReportLinkError(
                    f"an item names no page of this app that shows results ('/{path[:40]}')")
            text, item_notes = describe_view(trial, query)
            notes += [f"Report item {len(restored) + 1} ({page.title}): {n}" for n in item_notes]
            restored.append(report.ReportItem(page.title, _base() + link, (), added="", selection=text,
                                              comment=comment))
    except report.ReportLinkError as exc:
        restored, notes = [], [f"The report in this address could not be read: {exc}. The report is empty."]
    st.session_state[ITEMS] = restored
    st.session_state.setdefault(state.URL_NOTES, []).extend(notes)
    try:
        _sync()  # the address keeps the report it was reopened from (or loses one it could not read)
    except report.ReportLinkError:  # cannot happen for what was just read, but never a traceback
        st.session_state[ITEMS] = []
        st.session_state.pop(state.URL_EXTRA, None)


def open_item(trial: S.Trial, index: int) -> None:
    """The "Open" button's callback: the item's view becomes the session's view and the Report page
    switches to its page (a link opened in the tab would start a new session without the report)."""
    lst = items()
    if not 0 <= index < len(lst):
        return
    path, query = _split(lst[index].link)
    page = pages.by_url_path(path)
    if page is None:
        return
    state.open_view(trial, query)
    st.session_state[OPEN] = page.file


def start_rebuild() -> None:
    """The "Rebuild" button's callback: every item without contents is to be opened in turn."""
    pending = tuple(item.link for item in items() if not item.blocks)
    if pending:
        st.session_state[REBUILD] = (pending, state.view(), list(st.session_state.get(state.URL_NOTES, [])))


def rebuild_step(trial: S.Trial, page_url_path: str) -> None:
    """Called by the frame after every page run: during a rebuild, keep what this run showed for
    the item whose view it drew, then open the next item's view, or go back to the Report page
    with the reader's view as it was.

    Every item is visited once, whatever its page showed: a view that shows nothing now (a
    selection aggregate-only mode withholds, data that changed) stays without contents."""
    job = st.session_state.get(REBUILD)
    if job is None:
        return
    pending, home, notes = job
    opened = st.session_state.get(REBUILDING)
    if pending and opened == pending[0] and _split(opened)[0] == page_url_path:
        blocks = _page_blocks()
        if blocks:
            stamp = report.stamp()
            st.session_state[ITEMS] = [replace(item, blocks=blocks, added=stamp) if item.link == opened
                                       else item for item in items()]
        pending = pending[1:]
    target = next((p for p in (pages.by_url_path(_split(link)[0]) for link in pending[:1]) if p), None)
    if pending and target is not None:
        state.open_view(trial, _split(pending[0])[1])
        st.session_state[REBUILD] = (pending, home, notes)
        st.session_state[REBUILDING] = pending[0]
        st.switch_page(target.file)
    st.session_state.pop(REBUILD, None)
    st.session_state.pop(REBUILDING, None)
    state.restore_view(home, notes)
    st.switch_page(REPORT_PAGE)


def pending_page() -> str | None:
    """The page an "Open" button asked for (once), for the Report page to switch to."""
    return st.session_state.pop(OPEN, None)


def describe(trial: S.Trial) -> tuple[str, str, str, bool]:
    """(title, subject, provenance, synthetic) of the report: the study and its data, never a
    selection (each item carries its own)."""
    design = trial.design
    study = design.title or design.id
    return f"{design.id} results report", study, f"{study}, source {trial.source}", trial.synthetic


def html_file(trial: S.Trial) -> Callable[[], bytes]:
    """The HTML report, built only when downloaded. Streamlit calls this outside the script run,
    where session state is not available, so everything it needs is captured now."""
    title, _, provenance, synthetic = describe(trial)
    chosen = list(items())
    notice = synthetic_notice(trial.design)
    return lambda: report.render_html(chosen, title, provenance, synthetic, notice=notice).encode("utf-8")


def docx_file(trial: S.Trial) -> Callable[[], bytes]:
    """The Word report (figures drawn on download, about 0.6 s each), captured like :func:`html_file`."""
    title, subject, provenance, synthetic = describe(trial)
    chosen = list(items())
    notice = synthetic_notice(trial.design)
    return lambda: report.render_docx(chosen, title, provenance, synthetic, subject=subject, notice=notice)
