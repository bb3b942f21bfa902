"""Every export carries its selection, its data source and, for synthetic data only, the synthetic
mark (issue 17): CSV, Excel, PNG, SVG, the HTML and Word reports; methods sentences name the
subgroup filters; the overview says which sidebar choices it does not apply; the forest plot
shows each covariate's interaction p-value.

Each artefact is opened as a reader would open it (pandas, openpyxl, python-docx, the SVG text)
and searched for the words; the twin (synthetic) and the CDISC pilot (real data, no mark) are
both checked.
"""

from __future__ import annotations

import html
import io
import math
import struct
from pathlib import Path

import pandas as pd
import pytest

from respine import Selection, SubgroupFilter, analyze, load_trial
from respine.analyses import published
from respine.analyses.subgroups import subgroup_analysis
from respine.io.adam import load_adam
from respine.present import export, figures, labels, report, tables
from tests.adam_shapes import BUILDERS
from tests.conftest import pilot_folder
from tests.test_app import _charts, open_page

html_escape = html.escape

FEMALE = (SubgroupFilter("sex", ("Female",)),)
MARK = "Synthetic data"


@pytest.fixture(scope="module")
def twin():
    return load_trial()


@pytest.fixture(scope="module")
def pilot():
    return load_adam(pilot_folder(), bds=("adadas", "adcibc"))


def _about(trial, caption: str, name: str = "VAS_arms") -> list[str]:
    design = trial.design
    return export.about_lines(name, caption, study=design.title or design.id, synthetic=design.synthetic)


# ---- the caption -----------------------------------------------------------------------------------

def test_caption_names_population_filters_arms_data_and_the_mark(twin):
    caption = labels.selection_caption(twin, Selection("VAS", 12.0, population="PP", filters=FEMALE))
    assert caption.split(" · ") == ["Per protocol population (PP)", "sex in {Female}",
                                    "BM-MSC vs Sham (reference)", "data: RESPINE (data)", MARK]


def test_caption_of_a_real_study_has_no_synthetic_mark(pilot):
    caption = labels.selection_caption(pilot, Selection("ACTOT", 24.0, population="EFF"))
    assert caption.split(" · ") == ["Efficacy population (EFF)", "no subgroup filter",
                                    "Xanomeline Low Dose, Xanomeline High Dose vs Placebo (reference)",
                                    "data: CDISCPILOT01 (cdiscpilotadam)"]
    assert "synthetic" not in caption.lower()


def test_caption_names_pooled_arms_and_records_only_where_records_differ(pilot, twin):
    from respine.derive.arms import compared_trial

    pool = ("Xanomeline High Dose", "Xanomeline Low Dose")
    pooled = compared_trial(pilot, pool=pool)
    caption = labels.selection_caption(pooled, Selection("ACTOT", 24.0, pool=pool), records="observed")
    assert "pooled: Xanomeline High Dose + Xanomeline Low Dose" in caption
    assert "observed records only" in caption  # the pilot has LOCF records
    # the twin has no derived records: which records are read changes nothing, so nothing is said
    assert "records" not in labels.selection_caption(twin, Selection("VAS"), records="observed")


def test_caption_names_no_server_path(twin):
    assert str(Path(twin.source).parent) not in labels.selection_caption(twin)
    assert labels.source_name("upload: a.csv, b.csv [1a2b]") == "upload: a.csv, b.csv [1a2b]"


# ---- CSV and Excel ---------------------------------------------------------------------------------

@pytest.mark.parametrize("study", ["twin", "pilot"])
def test_csv_starts_with_the_selection_and_reads_back(study, request):
    trial = request.getfixturevalue(study)
    endpoint, visit = ("VAS", 12.0) if study == "twin" else ("ACTOT", 24.0)
    sel = Selection(endpoint, visit, filters=FEMALE if study == "twin" else
                    (SubgroupFilter("sex", ("F",)),))
    frame = tables.arm_table(analyze(trial, sel))
    caption = labels.selection_caption(trial, sel)
    data = export.to_csv_bytes(frame, _about(trial, caption))
    text = data.decode("utf-8-sig")
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert head[0] == "# VAS_arms"
    assert f"# Selection: {caption}" in head
    assert any("sex in {Female}" in line or "sex in {F}" in line for line in head)
    assert (MARK in text) == (study == "twin")
    back = pd.read_csv(io.BytesIO(data), comment="#", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == frame.columns.tolist()
    assert back.to_numpy().tolist() == frame.astype(str).to_numpy().tolist()


def test_about_lines_name_the_measure_and_leave_out_empty_parts():
    lines = export.about_lines("VAS_arms", "cap", study="RESPINE", synthetic=True,
                               measure="Low back pain VAS, change from baseline (mm)")
    assert lines == ["VAS_arms", "Study: RESPINE", "Endpoint: Low back pain VAS, change from baseline (mm)",
                     "Selection: cap", "Synthetic data: these are not real patients; the study description "
                     "marks the data as synthetic."]
    assert export.about_lines("t", "") == ["t"]


def test_csv_header_lines_stay_one_line_each_whatever_the_labels():
    data = export.to_csv_bytes(pd.DataFrame({"a": [1]}), ["title", "Selection: arm\nX=1\r\n# y"])
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[:2] == ["# title", "# Selection: arm X=1 # y"] and lines[2] == "a"


@pytest.mark.parametrize("study", ["twin", "pilot"])
def test_excel_has_the_table_first_and_an_about_sheet(study, request):
    from openpyxl import load_workbook

    trial = request.getfixturevalue(study)
    caption = labels.selection_caption(trial)
    frame = pd.DataFrame({"Arm": ["A", "B"], "Mean": ["−1.0", "=cmd"]})
    data = export.to_excel_bytes(frame, "VAS_arms", _about(trial, caption))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["VAS_arms", "About"]
    assert pd.read_excel(io.BytesIO(data)).columns.tolist() == ["Arm", "Mean"]  # the first sheet
    about = [row[0] for row in book["About"].iter_rows(values_only=True)]
    assert f"Selection: {caption}" in about
    assert any(str(line).startswith(MARK) for line in about) == (study == "twin")
    assert book["VAS_arms"]["B3"].value == "'=cmd"  # formulas still neutralised


# ---- figures -------------------------------------------------------------------------------------

def _rate_figure(trial):
    result = analyze(trial, published.primary_selection(trial))
    return figures.rate_figure(result, figures.arm_colours(trial.design.arms, trial.design.reference_arm))


def test_captioned_figure_keeps_the_original_and_does_not_caption_twice(twin):
    fig = _rate_figure(twin)
    caption = labels.selection_caption(twin, Selection(filters=FEMALE))
    once = figures.captioned(fig, caption)
    assert not fig.layout.title.subtitle.text  # the shared figure is untouched
    assert figures.caption_of(once) == caption
    assert once.layout.margin.t == figures.captioned(once, caption).layout.margin.t > fig.layout.margin.t


def test_svg_and_png_carry_the_selection_inside_the_image(twin, monkeypatch):
    assert export.image_renderer() is not None, "Chromium is needed for figure export (scripts/test.sh)"
    fig = _rate_figure(twin)
    caption = labels.selection_caption(twin, Selection(filters=FEMALE))
    svg = export.figure_image(fig, "svg", caption).decode("utf-8")
    assert "sex in {Female}" in svg and MARK in svg and "MITT" in svg
    png = export.figure_image(fig, "png", caption)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (2100, 1200)
    # a PNG's text cannot be read back without OCR: the figure kaleido draws is checked instead
    import plotly.io as pio

    drawn = []
    monkeypatch.setattr(pio, "to_image", lambda f, **kw: drawn.append(f) or b"")
    export.figure_image(fig, "png", caption)
    assert figures.caption_of(drawn[0]) == caption


def test_svg_of_a_real_study_has_no_synthetic_mark(pilot):
    from respine.analyses import trend

    sel = Selection("ACTOT", 24.0, population="EFF")
    caption = labels.selection_caption(pilot, sel)
    colours = figures.arm_colours(pilot.design.arms, pilot.design.reference_arm)
    fig = figures.over_time_figure(trend.over_time(pilot, sel), colours, "ADAS-Cog", "Change from baseline")
    svg = export.figure_image(figures.captioned(fig, caption), "svg").decode("utf-8")
    assert "Efficacy population (EFF)" in svg and "CDISCPILOT01" in svg and MARK not in svg


# ---- reports -------------------------------------------------------------------------------------

@pytest.mark.parametrize("study", ["twin", "pilot"])
def test_html_and_word_reports_carry_each_items_selection_and_the_mark(study, request):
    from docx import Document

    trial = request.getfixturevalue(study)
    items = report.static_report(trial)
    assert all(item.selection for item in items)
    design = trial.design
    provenance = f"{design.title or design.id}, source {labels.source_name(trial.source)}"
    html = report.render_html(items, "r", provenance, trial.synthetic)
    assert "Selection:</strong> " + html_escape(labels.selection_caption(trial, whole_study=True)) in html
    assert (MARK in html) == (study == "twin")
    # every figure's subtitle is its selection
    assert html.count('"subtitle"') == sum(b[0] == "figure" for i in items for b in i.blocks) > 0
    doc = Document(io.BytesIO(report.render_docx(items[:2], "r", provenance, trial.synthetic, images=False)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"Selection: {items[0].selection}" in text and f"Selection: {items[1].selection}" in text
    assert (MARK in text) == (study == "twin")


# ---- methods sentences ---------------------------------------------------------------------------

def test_methods_sentence_names_the_filters(twin, pilot):
    filtered = analyze(twin, Selection("VAS", 12.0, method="ancova", filters=FEMALE)).methods_text
    assert filtered.endswith(" Only subjects with sex in {Female} were included.")
    assert "Only subjects" not in analyze(twin, Selection("VAS", 12.0)).methods_text
    mmrm = analyze(pilot, Selection("ACTOT", 24.0, population="EFF", method="mmrm",
                                    filters=(SubgroupFilter("sex", ("F",)),))).methods_text
    assert "Only subjects with sex in {F} were included." in mmrm


# ---- forest plot: the interaction p on the figure ---------------------------------------------------

def test_forest_plot_shows_each_covariates_interaction_p(twin):
    frame = subgroup_analysis(twin, Selection("RESP", 12.0, measure="aval"), ("sex", "smoking"))
    fig = figures.forest_figure(frame, "BM-MSC", "Sham", "t", endpoint=twin.endpoint("RESP"), measure="aval")
    notes = {a.text: a.y for a in fig.layout.annotations if "interaction p" in (a.text or "")}
    expected = {f"interaction p = {labels.fmt.p_value(p)}"
                for p in frame.drop_duplicates("variable")["p_interaction"] if not math.isnan(p)}
    assert set(notes) == expected and len(expected) == 2
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True))
    # beside the first row of its covariate
    assert sorted(ticks[y].split(":")[0] for y in notes.values()) == ["Sex", "Smoking"]


def test_forest_plot_of_several_comparisons_names_each_arms_p(pilot):
    frame = subgroup_analysis(pilot, Selection("ACTOT", 24.0, population="EFF"), ("sex",))
    fig = figures.forest_figure(frame, "each arm", "Placebo", "t", endpoint=pilot.endpoint("ACTOT"))
    notes = [a.text for a in fig.layout.annotations if "interaction p" in (a.text or "")]
    assert sorted(n.split(":")[0] for n in notes) == sorted(pilot.design.treatment_arms)


# ---- the pages -------------------------------------------------------------------------------------

@pytest.mark.app
def test_explorer_charts_carry_the_filter_in_their_subtitle():
    at = open_page("app_pages/explorer.py", filter="sex=Female")
    raw = [c["layout"]["title"]["subtitle"]["text"] for c in _charts(at)]
    subtitles = [" ".join(html.unescape(s.replace("<br>", " ")).split()) for s in raw]
    assert subtitles and all("sex in {Female}" in s and MARK in s for s in subtitles), subtitles


@pytest.mark.app
def test_overview_says_the_sidebar_filter_is_not_applied_and_captions_what_it_shows():
    at = open_page("app_pages/overview.py", filter="sex=Female")
    notes = [i.value.replace("\\", "") for i in at.info if "Not applied on this page" in i.value]
    assert notes and "sex in {Female}" in notes[0]
    subtitles = [c["layout"]["title"]["subtitle"]["text"] for c in _charts(at)]
    assert subtitles and all("no subgroup filter" in s for s in subtitles), subtitles
    plain = open_page("app_pages/overview.py")
    assert not [i for i in plain.info if "Not applied on this page" in i.value]


# ---- any study: the built ADaM shapes -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_shape_reports_and_exports_its_selection_without_a_synthetic_mark(name, tmp_path):
    shape = BUILDERS[name](tmp_path)
    trial = load_adam(shape.folder)
    assert not trial.synthetic
    items = report.static_report(trial)
    assert items and all(item.selection for item in items), [i.title for i in items if not i.selection]
    page = report.render_html(items, "r", "p", trial.synthetic)
    assert MARK not in page and "no subgroup filter" in page
    caption = labels.selection_caption(trial)
    assert f"vs {trial.design.reference_arm} (reference)" in caption and trial.design.id in caption
    frame = tables.counts_frame_display(published.population_counts(trial),
                                        [*trial.design.arms, "Total"])
    data = export.to_csv_bytes(frame, _about(trial, caption, "populations"))
    assert MARK not in data.decode("utf-8-sig")
    back = pd.read_csv(io.BytesIO(data), comment="#", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == frame.columns.tolist() and len(back) == len(frame)
