"""Reports: views collected from the app, written as one self-contained HTML file (interactive
figures that work offline: plotly.js is embedded) and as a Word document of the tables and texts.

Every text is escaped: labels and values from a loaded data set can never become markup.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from respine.analyses import availability, compare, trend
from respine.model import selection
from respine.model.labels import endpoint_label

if TYPE_CHECKING:
    from respine.model.design import Trial

Block = tuple  # ("text", str) | ("table", name, DataFrame) | ("figure", plotly JSON str)


@dataclass(frozen=True)
class ReportItem:
    """One view of the app as it was shown: its title, link and content blocks."""

    title: str
    link: str
    blocks: tuple[Block, ...]
    added: str = field(default_factory=lambda: dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
body{font-family:Source Sans Pro,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;
line-height:1.45}
h1{font-size:1.8em} h2{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em} th,td{border:1px solid #ccc;padding:4px 8px;
text-align:left} th{background:#f3f3f3} .notice{background:#fff6db;border:1px solid #e6c200;padding:.7em 1em}
.meta{color:#666;font-size:.85em} .figure{height:440px}
"""


def render_html(items: list[ReportItem], title: str, provenance: str, synthetic: bool) -> str:
    """A self-contained HTML report; it opens offline (no script or style is fetched)."""
    import plotly.offline

    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>",
             f"<style>{STYLE}</style>",
             f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f"<p class='meta'>Written {_esc(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}. "
             f"Data: {_esc(provenance)}.</p>"]
    if synthetic:
        parts.append("<p class='notice'><b>Synthetic data.</b> These are not the trial's patients: the "
                     "data are a seeded synthetic twin built to reproduce the published results; "
                     "everything else in them is assumed.</p>")
    figure_no = 0
    for i, item in enumerate(items, start=1):
        parts.append(f"<h2>{i}. {_esc(item.title)}</h2>")
        if item.link:
            parts.append(f"<p class='meta'>View in the app: <a href='{_esc(item.link)}'>{_esc(item.link)}</a>"
                         f" · added {_esc(item.added)}</p>")
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


def render_docx(items: list[ReportItem], title: str, provenance: str, synthetic: bool) -> bytes:
    """A Word document with every table and text of the report (figures are in the HTML report)."""
    from docx import Document

    doc = Document()
    doc.add_heading(title, level=0)
    doc.add_paragraph(f"Data: {provenance}.")
    if synthetic:
        doc.add_paragraph("Synthetic data: these are not the trial's patients; the data are a seeded "
                          "synthetic twin built to reproduce the published results.")
    for i, item in enumerate(items, start=1):
        doc.add_heading(f"{i}. {item.title}", level=1)
        if item.link:
            doc.add_paragraph(f"View in the app: {item.link}")
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
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def static_report(trial: Trial) -> list[ReportItem]:
    """The report `respine report` writes: design and populations, the primary analysis beside the
    published figures, baseline characteristics, every endpoint at the primary visit (or its last
    visit) with its course over time, and safety; the same tables and figures as the app."""
    from respine.analyses import published, safety
    from respine.analyses.baseline import baseline_table
    from respine.errors import RespineError
    from respine.present import figures, tables

    design = trial.design
    colours = figures.arm_colours(design.arms, design.reference_arm)
    arms = [*design.treatment_arms, design.reference_arm]
    items: list[ReportItem] = [ReportItem("Design and populations", "", (
        ("text", design.description or design.title),
        ("table", "populations", published.population_counts(trial))))]
    if design.primary is not None:
        result = compare.analyze(trial, published.primary_selection(trial))
        items.append(ReportItem(f"Primary analysis: {result.endpoint_label}, {result.visit_label}", "", (
            ("figure", figures.rate_figure(result, colours).to_json()),
            ("table", "primary_arms", tables.arm_table(result)),
            ("table", "primary_contrasts", tables.contrast_table(result)),
            ("table", "published_check", published.primary_check(trial, result)),
            ("text", result.methods_text))))
    frame = baseline_table(trial, design.default_population)
    items.append(ReportItem("Baseline characteristics", "", (
        ("table", "baseline", tables.baseline_display(frame, arms)),)))
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
            items.append(ReportItem(endpoint_label(ep, sel.rule, trial.endpoint), "", (("text", str(exc)),)))
            continue
        # The result's label names the responder rule it was computed under (never "primary"
        # for another rule); every title of the section uses it.
        y_title = "Change from baseline" if ep.kind == "continuous" else "Subjects"
        fig = figures.over_time_figure(course, colours, f"{result.endpoint_label} by visit", y_title,
                                       percent=ep.kind == "binary")
        items.append(ReportItem(f"{result.endpoint_label}, {result.visit_label}", "", (
            ("figure", fig.to_json()), ("table", f"{endpoint}_arms", tables.arm_table(result)),
            ("table", f"{endpoint}_contrasts", tables.contrast_table(result)),
            ("text", result.methods_text))))
    if not trial.adverse_events.empty:
        pop = "SAFETY" if any(p.id == "SAFETY" for p in design.populations) else None
        overview = safety.ae_overview(trial, pop)
        items.append(ReportItem("Adverse events", "", (
            ("table", "ae_overview", tables.counts_display(overview, arms, "category", "Category")),)))
    return items

