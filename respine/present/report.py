"""Reports: views collected from the app, written as one self-contained HTML file (interactive
figures that work offline: plotly.js is embedded) and as a Word document of the tables, texts and
figures (PNG, rendered by kaleido in Chromium).

Every item keeps the selection it was added under, its link and the reader's comment, so each is
shown under its own selection, never under the one in force when the report is downloaded. What
is needed to rebuild the report (each item's link and comment) travels in the app's address as one
``report`` parameter (:func:`encode_entries`, :func:`decode_entries`), so it survives a reload and
can be reopened from a link.

Every text is escaped: labels and values from a loaded data set, and the reader's comments, can
never become markup.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import io
import json
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from respine.analyses import availability, compare, trend
from respine.errors import RespineError
from respine.model import selection
from respine.model.labels import endpoint_label
from respine.present.labels import SYNTHETIC_MARK

if TYPE_CHECKING:
    from respine.model.design import Trial

Block = tuple  # ("text", str) | ("table", name, DataFrame) | ("figure", plotly JSON str)

AUTHOR = "RESPINE results explorer"
"""Author and last editor written into the Word document's properties."""


def stamp() -> str:
    """Now, as a report item's time of adding (local time, minutes)."""
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ReportItem:
    """One view of the app as it was shown.

    Attributes
    ----------
    title : str
        The page's name.
    link : str
        The view's address (its page and every choice of the view); empty for a section of the
        command line's report.
    blocks : tuple
        Its tables, figures and texts; empty for an item restored from a link whose contents
        were not rebuilt in this session.
    added : str
        When it was added (local time, minutes).
    selection : str
        The selection it was added under, in words (population, filters, endpoint, ...).
    comment : str
        The reader's comment (untrusted text, escaped wherever it is written).
    """

    title: str
    link: str
    blocks: tuple[Block, ...]
    added: str = field(default_factory=stamp)
    selection: str = ""
    comment: str = ""


class ReportLinkError(RespineError):
    """A ``report`` parameter that cannot be read, or a report too large for an address."""


# --- the report in an address ----------------------------------------------------------------------
#
# "r1." + base64url (no padding) of zlib-compressed JSON [[link, comment], ...]. The version prefix
# lets a later format be told apart; every bound below is checked before the next step runs, so a
# crafted value costs at most MAX_PARAM characters of base64 and MAX_JSON bytes of inflation.

PARAM = "report"  # the query parameter
VERSION = "r1"
MAX_PARAM = 8000  # characters of the parameter: well inside what browsers and servers accept
MAX_JSON = 200_000  # bytes the parameter may inflate to (a compression bomb stops here)
MAX_ITEMS = 40
MAX_COMMENT = 2000  # characters of one comment
MAX_LINK = 2000  # characters of one item's link (page path and query)
# A page path of this app (never another site, nor "//host") and a query of printable ASCII
# without "#" (the query is percent-encoded; a fragment or a control character has no business here).
_LINK = re.compile(r"^/[A-Za-z0-9_-]*(\?[!-\"$-~]*)?$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def _check_entry(link: object, comment: object) -> None:
    if not isinstance(link, str) or not isinstance(comment, str):
        raise ReportLinkError("each item must be a link and a comment, both text")
    if len(link) > MAX_LINK or not _LINK.match(link):
        raise ReportLinkError(f"an item's link is not an address of this app ({link[:60]!r})")
    if len(comment) > MAX_COMMENT:
        raise ReportLinkError(f"a comment is longer than {MAX_COMMENT} characters")


def encode_entries(entries: Sequence[tuple[str, str]]) -> str:
    """The ``report`` parameter of an address: every item's link (path and query, below the app's
    root, e.g. ``/explorer?ep=ODI``) and comment, compressed.

    Raises
    ------
    ReportLinkError
        When an entry is not a link of this app, a comment is too long, or the report has more
        than :data:`MAX_ITEMS` items or does not fit in :data:`MAX_PARAM` characters.
    """
    if len(entries) > MAX_ITEMS:
        raise ReportLinkError(f"a report holds at most {MAX_ITEMS} views; remove one first")
    for link, comment in entries:
        _check_entry(link, comment)
    payload = json.dumps([[link, comment] for link, comment in entries], ensure_ascii=False,
                         separators=(",", ":")).encode("utf-8")
    text = f"{VERSION}.{base64.urlsafe_b64encode(zlib.compress(payload, 9)).decode('ascii').rstrip('=')}"
    if len(text) > MAX_PARAM:
        raise ReportLinkError(
            f"the report no longer fits in the page's address ({len(text)} of {MAX_PARAM} characters); "
            "remove a view or shorten a comment"
        )
    return text


def decode_entries(text: str) -> list[tuple[str, str]]:
    """The (link, comment) pairs of a ``report`` parameter, read strictly: all or nothing.

    Raises
    ------
    ReportLinkError
        Saying what is wrong with the value (too long, another version, not base64, not
        compressed JSON, wrong shape, an entry that is not a link of this app).
    """
    if len(text) > MAX_PARAM:
        raise ReportLinkError(f"it is longer than {MAX_PARAM} characters")
    version, dot, body = text.partition(".")
    if not dot or version != VERSION:
        raise ReportLinkError(f"it is not a report of this version of the app (expected '{VERSION}.…')")
    if not _BASE64URL.match(body):
        raise ReportLinkError("it holds characters a report never has (it may have been cut or edited)")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflate = zlib.decompressobj()
        payload = inflate.decompress(packed, MAX_JSON)
        if inflate.unconsumed_tail or not inflate.eof:
            raise ReportLinkError("it is incomplete or too large")
        data = json.loads(payload.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ReportLinkError):
            raise
        raise ReportLinkError("it is damaged (it may have been cut or edited)") from None
    if not isinstance(data, list) or not all(isinstance(e, list) and len(e) == 2 for e in data):
        raise ReportLinkError("it is not a list of views with their comments")
    if len(data) > MAX_ITEMS:
        raise ReportLinkError(f"it has {len(data)} views; a report holds at most {MAX_ITEMS}")
    for link, comment in data:
        _check_entry(link, comment)
    return [(str(link), str(comment)) for link, comment in data]


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
body{font-family:Source Sans Pro,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;
line-height:1.45}
h1{font-size:1.8em} h2{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em} th,td{border:1px solid #ccc;padding:4px 8px;
text-align:left} th{background:#f3f3f3} .notice{background:#fff6db;border:1px solid #e6c200;padding:.7em 1em}
.meta{color:#666;font-size:.85em} .figure{height:440px}
.selection{font-size:.95em} .comment{border-left:4px solid #0072B2;background:#f2f7fb;padding:.5em 1em;
white-space:pre-wrap}
"""

NOT_REBUILT = ("Its tables and figures are not in this session (the report was reopened from a link): "
               "open the view from the Report page and add it again to include them.")


def _written() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


#: What a report says of data its study description marks as synthetic. Whether a synthetic study
#: reproduces published results is the study's to say (its description and the paper page), not
#: the report's: a synthetic study need not have any.
SYNTHETIC_NOTICE = ("These are not real patients: the study description marks the data as synthetic "
                    "(generated, not collected), so the numbers show what the analyses do, not what "
                    "a treatment does.")


def render_html(items: Sequence[ReportItem], title: str, provenance: str, synthetic: bool,
                notice: str = "") -> str:
    """A self-contained HTML report; it opens offline (no script or style is fetched).

    Each item is written under its own selection, with its link and its comment. ``notice``:
    what the report says of synthetic data (the study's words,
    :func:`respine.present.labels.synthetic_notice`; default :data:`SYNTHETIC_NOTICE`)."""
    import plotly.offline

    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>",
             f"<style>{STYLE}</style>",
             f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f"<p class='meta'>Written {_esc(_written())}. Data: {_esc(provenance)}.</p>"]
    if synthetic:
        parts.append(f"<p class='notice'><strong>{_esc(SYNTHETIC_MARK)}.</strong> "
                     f"{_esc(notice or SYNTHETIC_NOTICE)}</p>")
    figure_no = 0
    for i, item in enumerate(items, start=1):
        parts.append(f"<h2>{i}. {_esc(item.title)}</h2>")
        if item.selection:
            parts.append(f"<p class='selection'><strong>Selection:</strong> {_esc(item.selection)}</p>")
        if item.link:
            added = f" · added {_esc(item.added)}" if item.added else ""
            parts.append(f"<p class='meta'>View in the app: <a href='{_esc(item.link)}'>{_esc(item.link)}</a>"
                         f"{added}</p>")
        if item.comment:
            parts.append(f"<div class='comment'><strong>Comment:</strong> {_esc(item.comment)}</div>")
        if not item.blocks and item.link:
            parts.append(f"<p class='notice'>{_esc(NOT_REBUILT)}</p>")
        for block in item.blocks:
            kind = block[0]
            if kind == "text":
                parts.append(f"<p>{_esc(block[1])}</p>")
            elif kind == "table":
                frame: pd.DataFrame = block[2]
                parts.append(frame.to_html(index=False, escape=True, border=0, na_rep="–"))
            elif kind == "figure":
                figure_no += 1
                div = f"fig{figure_no}"
                spec = json.loads(block[1])
                payload = json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {})})
                # As unicode escapes (the same JSON), "<", ">" and "&" of a label can neither close
                # the script element nor open "<!--" (which changes how a script's end is found).
                payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                parts.append(f"<div id='{div}' class='figure'></div><script>(function(){{var f={payload};"
                             f"Plotly.newPlot('{div}',f.data,f.layout,{{displaylogo:false,responsive:true}});"
                             "})();</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def figure_images(specs: Sequence[str]) -> tuple[list[bytes], str]:
    """PNG images of plotly figures (their JSON), all rendered in one Chromium session.

    Returns
    -------
    images : list of bytes
        One PNG per figure (1050 x 600 points at scale 2), or an empty list when they could not be
        rendered.
    reason : str
        Why there are none (empty when there are).
    """
    import os

    import plotly.io as pio

    from respine.present import export

    if not specs:
        return [], ""
    browser = export.image_renderer()
    if browser is None:
        return [], "no Chromium is installed to draw them (Debian: apt-get install chromium)"
    os.environ.setdefault("BROWSER_PATH", browser)
    size = export.PUBLICATION["png"]
    try:
        with tempfile.TemporaryDirectory(prefix="respine-report-") as folder:
            paths = [Path(folder) / f"figure{i}.png" for i in range(len(specs))]
            # One call for all figures: kaleido starts Chromium once (about 0.6 s a figure instead
            # of 2.3 s each, measured with four bar charts).
            pio.write_images([pio.from_json(s) for s in specs], paths, format="png", **size)
            return [p.read_bytes() for p in paths], ""
    except Exception as exc:  # kaleido's errors have no common type (browser missing, crashed, ...)
        return [], f"the figure renderer failed ({type(exc).__name__}: {str(exc)[:200]})"


def render_docx(items: Sequence[ReportItem], title: str, provenance: str, synthetic: bool,
                subject: str = "", images: bool = True, notice: str = "") -> bytes:
    """A Word document of the report: each item under its own selection, with its link, its
    comment, its texts, tables and figures (PNG, when Chromium can draw them here; else a line
    says why and the tables stand alone).

    The document's properties are the report's: title, subject (the study, ``subject``; the title
    when empty), author and last editor :data:`AUTHOR`, created and modified now (UTC), the data's
    provenance as comments.
    """
    from docx import Document
    from docx.shared import Inches

    specs = [b[1] for item in items for b in item.blocks if b[0] == "figure"]
    pngs, reason = figure_images(specs) if images else ([], "figures were not requested")
    pictures = iter(pngs)

    doc = Document()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    props = doc.core_properties
    props.title = title
    props.subject = subject or title
    props.author = props.last_modified_by = AUTHOR
    props.created = props.modified = now
    props.language = "en"
    props.revision = 1
    props.comments = f"Data: {provenance}."
    props.keywords = "results report" + ("; synthetic data" if synthetic else "")
    props.category = "Results report"

    doc.add_heading(title, level=0)
    doc.add_paragraph(f"Written {_written()}. Data: {provenance}.")
    if synthetic:
        doc.add_paragraph(f"{SYNTHETIC_MARK}: {notice or SYNTHETIC_NOTICE}")
    if specs and not pngs:
        doc.add_paragraph(f"The figures are not included: {reason}. Their numbers are in the tables; "
                          "the HTML report shows every figure.")
    for i, item in enumerate(items, start=1):
        doc.add_heading(f"{i}. {item.title}", level=1)
        if item.selection:
            doc.add_paragraph().add_run(f"Selection: {item.selection}").bold = True
        if item.link:
            added = f" · added {item.added}" if item.added else ""
            doc.add_paragraph(f"View in the app: {item.link}{added}")
        if item.comment:
            para = doc.add_paragraph()
            para.add_run("Comment: ").bold = True
            para.add_run(item.comment).italic = True
        if not item.blocks and item.link:
            doc.add_paragraph(NOT_REBUILT)
        for block in item.blocks:
            if block[0] == "text":
                doc.add_paragraph(str(block[1]))
            elif block[0] == "table":
                frame = block[2]
                table = doc.add_table(rows=1, cols=len(frame.columns))
                table.style = "Light Grid Accent 1"
                for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
                    cell.text = str(name)
                for _, row in frame.iterrows():
                    cells = table.add_row().cells
                    for cell, value in zip(cells, row, strict=True):
                        cell.text = "–" if pd.isna(value) else str(value)
                doc.add_paragraph("")
            elif block[0] == "figure":
                png = next(pictures, None)
                if png is not None:
                    doc.add_picture(io.BytesIO(png), width=Inches(6.3))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def static_report(trial: Trial) -> list[ReportItem]:
    """The report `respine report` writes: design and populations, the primary analysis beside the
    published figures, baseline characteristics, every endpoint at the primary visit (or its last
    visit) with its course over time, and safety; the same tables and figures as the app.

    Each item carries its selection (:func:`respine.present.labels.selection_caption`), and each
    figure has it as its subtitle, as in the app."""
    from respine.analyses import published, safety
    from respine.analyses.baseline import baseline_table
    from respine.present import figures, labels, tables

    design = trial.design
    colours = figures.arm_colours(design.arms, design.reference_arm)
    arms = [*design.treatment_arms, design.reference_arm]
    items: list[ReportItem] = [ReportItem("Design and populations", "", (
        ("text", design.description or design.title),
        ("table", "populations", published.population_counts(trial))),
        selection=labels.selection_caption(trial, whole_study=True))]
    if design.primary is not None:
        primary = published.primary_selection(trial)
        result = compare.analyze(trial, primary)
        caption = labels.selection_caption(trial, primary)
        items.append(ReportItem(f"Primary analysis: {result.endpoint_label}, {result.visit_label}", "", (
            ("figure", figures.captioned(figures.rate_figure(result, colours), caption).to_json()),
            ("table", "primary_arms", tables.arm_table(result)),
            ("table", "primary_contrasts", tables.contrast_table(result)),
            ("table", "published_check", published.primary_check(trial, result)),
            ("text", result.methods_text)), selection=caption))
    frame = baseline_table(trial, design.default_population)
    items.append(ReportItem("Baseline characteristics", "", (
        ("table", "baseline", tables.baseline_display(frame, arms)),),
        selection=labels.selection_caption(trial, population=design.default_population)))
    target = design.primary.visit if design.primary else design.visits[-1].number
    for endpoint in availability.available_endpoints(trial):
        ep = trial.endpoint(endpoint)
        visits = availability.post_baseline_visits(trial, endpoint)
        if not visits or (design.primary and endpoint == design.primary.endpoint):
            continue
        visit = target if target in visits else visits[-1]
        sel = selection.Selection(endpoint, visit, measure="chg" if ep.kind == "continuous" else "aval")
        try:
            result = compare.analyze(trial, sel)
            course = trend.over_time(trial, sel)
        except RespineError as exc:
            items.append(ReportItem(endpoint_label(ep, sel.rule, trial.endpoint), "", (("text", str(exc)),),
                                    selection=labels.selection_caption(trial, sel)))
            continue
        # The result's label names the responder rule it was computed under (never "primary"
        # for another rule); every title of the section uses it.
        y_title = labels.value_title(ep, sel.measure)  # the measure's unit
        fig = figures.over_time_figure(course, colours, f"{result.endpoint_label} by visit", y_title,
                                       percent=ep.kind == "binary")
        caption = labels.selection_caption(trial, sel)
        items.append(ReportItem(f"{result.endpoint_label}, {result.visit_label}", "", (
            ("figure", figures.captioned(fig, caption).to_json()),
            ("table", f"{endpoint}_arms", tables.arm_table(result)),
            ("table", f"{endpoint}_contrasts", tables.contrast_table(result)),
            ("text", result.methods_text)), selection=caption))
    if not trial.adverse_events.empty:
        pop = "SAFETY" if any(p.id == "SAFETY" for p in design.populations) else None
        overview = safety.ae_overview(trial, pop)
        items.append(ReportItem("Adverse events", "", (
            ("table", "ae_overview", tables.counts_display(overview, arms, "category", "Category")),),
            selection=labels.selection_caption(trial, population=pop)))
    return items

