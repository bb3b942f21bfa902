"""Rendering helpers: tables with downloads, errors as messages, the synthetic-data banner.

Every table and figure a page shows carries what it shows (:func:`shown_caption`): figures as
their subtitle, in the app and in every image and report made of them; tables in their CSV and
Excel downloads.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from respine import derive
from respine.errors import AnalysisError, RespineError
from respine.model import design as S
from respine.model.selection import Selection
from respine.present import export, figures, fmt, labels, privacy, tables
from respine.present.labels import SYNTHETIC_MARK
from respine.present.labels import synthetic_notice as synthetic_notice_text
from respine.ui import access, cache, context, state


@contextmanager
def explained() -> Iterator[None]:
    """Run a block; a domain error becomes a message in place of the block, never a traceback.
    Messages name arms, visits, files and values from the data, so they are shown as plain text."""
    try:
        yield
    except AnalysisError as exc:
        st.warning(fmt.md_escape(exc), icon=":material/info:")
    except RespineError as exc:
        st.error(fmt.md_escape(exc), icon=":material/error:")


BLOCKS = "_page_blocks"


def start_page() -> None:
    """Called by the frame before a page runs: what the page shows, and the core calls behind it,
    are recorded (for the report and for the code panel)."""
    st.session_state[BLOCKS] = []
    cache.begin_page()


def page_code(trial: S.Trial) -> None:
    """The Python that reproduces everything the page computed, under the page, loading the same
    data the page shows (see :func:`data_origin`)."""
    calls = st.session_state.get(cache.CALLS, [])
    if not calls:
        return
    path, uploaded, mapping = data_origin(trial)
    view = state.view()
    choice = (view.reference or None, tuple(view.arms), tuple(view.pool))
    with st.expander("Python code that reproduces this page"):
        st.code(export.page_code(calls, path, uploaded=uploaded, mapping_toml=mapping, show=True,
                                 arm_choice=choice), language="python")
        if uploaded:
            st.caption(fmt.md_escape(f"Save the uploaded files {', '.join(uploaded)} into a folder and "
                                     "replace PATH by that folder."))


def data_origin(trial: S.Trial) -> tuple[str | None, tuple[str, ...], str]:
    """Where the session's data came from, as the page's code loads them: (folder, uploaded file
    names, mapping.toml text of a mapping chosen on the Data page).

    The sources are those :mod:`respine.ui.data` gives: ``folder: <path under the data root>
    [digest]`` for a folder opened on the Data page, ``upload: <names> [digest]`` for uploaded
    files, and the folder itself for the configured data."""
    from respine.ui import data

    source = trial.source
    if source.startswith("folder: "):
        relative = source.removeprefix("folder: ").rsplit(" [", 1)[0]
        root = data.folder_root()
        return (str(root / relative) if root is not None else relative), (), ""
    if source.startswith("upload"):
        files = st.session_state.get(data.UPLOAD_KEY) or []
        listed = source.removeprefix("upload: ").rsplit(" [", 1)[0]
        names = tuple(sorted(f.name for f in files))
        if not names or not ", ".join(names).startswith(listed):  # the widget holds other files now
            names = tuple(n for n in listed.split(", ") if n)
        used = st.session_state.get("mapping_used")
        mapping = used.to_toml() if used is not None and not any(
            n.lower().startswith("mapping.") for n in names) else ""
        return None, names or ("the uploaded files",), mapping
    return source, (), ""


def _record(block: tuple) -> None:
    st.session_state.setdefault(BLOCKS, []).append(block)


def shown_caption() -> str:
    """What the page's next table or figure shows, in words
    (:func:`respine.present.labels.selection_caption`), from the inputs of the analysis the page
    ran last: its selection, else its population and filters; a page whose analysis reads
    neither (the participant flow, the table of populations) shows every subject of the study.

    Read from the analyses, not from the sidebar, so that a page that does not apply the
    sidebar's filter (the overview's primary analysis) is never captioned with it. Empty before
    any data are loaded."""
    if "trial" not in st.session_state:
        return ""
    study: S.Trial = st.session_state["trial"]
    trial, _ = context.compared(study, state.view())  # the page's trial: the view's arms
    calls = st.session_state.get(cache.CALLS, [])
    source = study.source  # the data; the arms of the view are named from the page's trial
    for _, inputs in reversed(calls):
        args = dict(inputs)
        sel = next((v for v in args.values() if isinstance(v, Selection)), None)
        records = args.get("records") if isinstance(args.get("records"), str) else None
        if sel is not None:
            return labels.selection_caption(trial, sel, records=records, source=source)
        if "population" in args or "filters" in args:
            return labels.selection_caption(trial, population=args.get("population") or None,
                                            filters=tuple(args.get("filters") or ()), source=source)
    return labels.selection_caption(trial, whole_study=True, source=source)


def _shown_measure(trial: S.Trial) -> str:
    """The endpoint and measure, with its unit, of the analysis the page ran last
    (:func:`respine.present.labels.value_title`), "" when that analysis has no selection: a
    table's cells carry no unit, its export says it once."""
    for _, inputs in reversed(st.session_state.get(cache.CALLS, [])):
        sel = next((v for v in dict(inputs).values() if isinstance(v, Selection)), None)
        if sel is None:
            continue
        ep = trial.endpoint(sel.endpoint)
        measure = sel.measure if ep.kind == "continuous" and sel.measure in derive.MEASURES else "aval"
        return labels.value_title(ep, measure, name=True)
    return ""


def _about(name: str, caption: str) -> list[str]:
    trial = st.session_state.get("trial")
    if trial is None:
        return export.about_lines(name, caption)
    design = trial.design
    return export.about_lines(name, caption, study=design.title or design.id, synthetic=design.synthetic,
                              measure=_shown_measure(trial))


#: A table of at most this many rows is the page's content: it is drawn whole, at the height of
#: its rows, never in a scrolling box (a longer one, such as a listing, scrolls in a box of
#: Streamlit's default height, ten rows).
FULL_HEIGHT_ROWS = 100


# The grid sizes a column to its header and cells but leaves out a cell at least twice as long as
# the column's mean ("outliers"), which it then cuts ("Withdrew from the study because of an adverse
# e..."). Such a column is given the width of its longest cell or header: about 6.5 px a character
# of the grid's 14 px font (measured: 6.0 on the safety table's longest category; the estimate errs
# wide), plus the cell's padding, at most the grid's widest column.
CHAR_PX, CELL_PADDING_PX, MAX_COLUMN_PX = 6.5, 8, 1000


def wide_columns(frame: pd.DataFrame) -> dict[str, int]:
    """The width (px) of each text column the grid would cut: one whose longest cell is at least
    twice as long as its cells' mean, in a table of more than five rows (the grid's rule)."""
    out: dict[str, int] = {}
    if len(frame) <= 5:
        return out
    for name in frame.columns:
        if not (frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name])):
            continue
        lengths = frame[name].map(lambda v: len(str(v)))
        longest = int(lengths.max())
        if longest >= 2 * float(lengths.mean()):
            chars = max(longest, len(str(name)))
            out[str(name)] = min(MAX_COLUMN_PX, math.ceil(chars * CHAR_PX + 2 * CELL_PADDING_PX))
    return out


def table(frame: pd.DataFrame, name: str, key: str, caption: str | None = None) -> None:
    """Show a built table and offer it as CSV and Excel (the same table, formulas neutralised),
    each file starting with what the table shows: ``caption``, by default :func:`shown_caption`.

    The cells are shown as a reader reads them (flags as Yes/No, missing values as a dash, by
    :func:`tables.shown`); a table of up to :data:`FULL_HEIGHT_ROWS` rows is drawn at full
    height."""
    frame = tables.shown(frame)
    _record(("table", name, frame))
    st.dataframe(frame, hide_index=True, width="stretch", placeholder=fmt.DASH,
                 height="content" if len(frame) <= FULL_HEIGHT_ROWS else "auto",
                 column_config={c: st.column_config.Column(width=w) for c, w in wide_columns(frame).items()})
    k = access.min_cell()
    if privacy.has_suppressed(frame, k):
        st.caption(privacy.note(k))
    about = _about(name, shown_caption() if caption is None else caption)
    # The buttons sit in a row sized to their labels (it wraps on a narrow page): in fixed
    # columns their labels were cut to "D..." and "E...".
    with st.container(horizontal=True, gap="small"):
        st.download_button("Download CSV", lambda: export.to_csv_bytes(frame, about), file_name=f"{name}.csv",
                           mime="text/csv", key=f"dl_{key}", icon=":material/download:", on_click="ignore")
        st.download_button("Excel", lambda: export.to_excel_bytes(frame, name, about),
                           file_name=f"{name}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key=f"xl_{key}", icon=":material/table:", on_click="ignore")


# Captioned copies of the shared figures of the server's own data (a copy costs about 2 ms; the
# figures are read-only and shared, so their copies can be too). A copy holds its figure, so an
# id is never reused while its entry lives. Figures of uploaded data are not kept here: they stay
# in their session.
_CAPTIONED: OrderedDict[tuple[int, str], tuple[go.Figure, go.Figure]] = OrderedDict()
_CAPTIONED_ENTRIES = 256
_CAPTIONED_LOCK = threading.Lock()


def _captioned(fig: go.Figure, caption: str) -> go.Figure:
    trial = st.session_state.get("trial")
    if trial is None or not cache.is_shared(trial.source):
        return figures.captioned(fig, caption)
    key = (id(fig), caption)
    with _CAPTIONED_LOCK:
        hit = _CAPTIONED.get(key)
        if hit is not None and hit[0] is fig:
            _CAPTIONED.move_to_end(key)
            return hit[1]
    out = figures.captioned(fig, caption)
    with _CAPTIONED_LOCK:
        _CAPTIONED[key] = (fig, out)
        while len(_CAPTIONED) > _CAPTIONED_ENTRIES:
            _CAPTIONED.popitem(last=False)
    return out


def figure(fig: go.Figure, key: str, caption: str | None = None) -> None:
    """Show a figure with what it shows as its subtitle (``caption``, by default
    :func:`shown_caption`), and offer it as PNG and SVG with the subtitle inside the image."""
    fig = _captioned(fig, shown_caption() if caption is None else caption)
    _record(("figure", fig))  # serialised only if the view is added to the report
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})
    if export.image_renderer() is not None:  # images are made on click (about 2 s each)
        with st.container(horizontal=True, gap="small"):  # a row sized to the labels, as for tables
            st.download_button("PNG", lambda: export.figure_image(fig, "png"), file_name=f"{key}.png",
                               mime="image/png", key=f"png_{key}", icon=":material/image:", on_click="ignore")
            st.download_button("SVG", lambda: export.figure_image(fig, "svg"), file_name=f"{key}.svg",
                               mime="image/svg+xml", key=f"svg_{key}", icon=":material/draw:",
                               on_click="ignore")


def individual(what: str) -> bool:
    """Whether a view of individual subjects may be drawn; if not, say what is hidden and why."""
    if access.individual_views():
        return True
    st.info(
        f"{what}: hidden in aggregate-only mode, because it shows individual subjects. The summaries "
        "on this page remain.",
        icon=":material/visibility_off:",
    )
    return False


def methods(text: str) -> None:
    """The methods sentence under an analysis (also recorded for the report, which escapes it
    itself); it names the endpoint, visit, population and arms, so it is shown as plain text."""
    _record(("text", text))
    st.caption(fmt.md_escape(text))


def synthetic_banner(trial: S.Trial) -> None:
    """Warn that the data are synthetic, in the words of the study description: a study that
    cites published results (``short_citation``) is a twin built to reproduce them; one that
    cites none is only called synthetic."""
    if trial.synthetic:
        st.warning(synthetic_notice(trial.design), icon=":material/science:")


def synthetic_notice(design: S.StudyDesign) -> str:
    """The synthetic-data banner's text (Markdown): :func:`respine.present.labels.synthetic_notice`,
    the one text of pages and reports."""
    return f"**{fmt.md_phrase(SYNTHETIC_MARK)}.** {fmt.md_phrase(synthetic_notice_text(design))}"


def notes(messages: list[str] | tuple[str, ...]) -> None:
    for m in messages:
        st.caption(f"Note: {fmt.md_escape(m)}")  # notes name arms and labels from the data
