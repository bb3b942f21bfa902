"""Exports: formula neutralisation, Excel output, and code snippets that reproduce the page."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from respine.analyses.compare import analyze
from respine.model.rules import ResponderRule
from respine.model.selection import Selection, SubgroupFilter
from respine.present import tables
from respine.present.export import analysis_code, neutralise, safe_frame, to_csv_bytes, to_excel_bytes
from tests.test_app import open_page, widget


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("−5.5 [−14.4, 3.3]", "−5.5 [−14.4, 3.3]"),
        ("-3.2", "-3.2"),
        ("BM-MSC", "BM-MSC"),
        (3.5, 3.5),
    ],
)
def test_formula_neutralisation(cell, expected):
    assert neutralise(cell) == expected


def test_csv_and_excel_are_neutralised():
    frame = pd.DataFrame({"arm": ["=1+1", "Sham"], "n": [-3, 4]})
    assert safe_frame(frame)["arm"].tolist() == ["'=1+1", "Sham"]
    assert "'=1+1" in to_csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_excel(io.BytesIO(to_excel_bytes(frame)))
    assert back["arm"].tolist() == ["'=1+1", "Sham"] and back["n"].tolist() == [-3, 4]


def test_snippet_reproduces_the_numbers(trial, tmp_path):
    sel = Selection(
        "RESP",
        12.0,
        population="PP",
        filters=(SubgroupFilter("sex", ("Female",)),),
        rule=ResponderRule(vas_mm=30.0, join="AND"),
        method="fisher",
    )
    code = analysis_code(sel, trial.source).replace(
        "print(result.to_dict())", "import json; print(json.dumps(result.to_dict()))"
    )
    script = tmp_path / "snippet.py"
    script.write_text(code)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout.replace("NaN", "null"))
    direct = analyze(trial, sel)
    assert [a["responders"] for a in out["arms"]] == [a.responders for a in direct.arms]
    assert out["contrasts"][0]["p_value"] == pytest.approx(direct.contrasts[0].p_value)


def _run_page_code(at) -> dict:
    code = next(c.value for c in at.code if "load_trial" in c.value)
    namespace: dict = {}
    exec(compile(code, "page_code", "exec"), namespace)
    return namespace


@pytest.mark.app
def test_page_code_matches_the_page():
    at = open_page("app_pages/explorer.py", ep="ODI", visit="6", pop="PP", filter="smoking=Never|Former")
    widget(at.selectbox, "Method").set_value("ancova").run()
    shown = at.dataframe[2].value["Estimate [95% CI]"].iloc[0]
    namespace = _run_page_code(at)
    results = [v for k, v in namespace.items() if k.startswith("result_") and hasattr(v, "contrasts")]
    assert any(tables.contrast_table(r)["Estimate [95% CI]"].iloc[0] == shown for r in results)
    assert any(r.method == "ancova" for r in results)


@pytest.mark.app
@pytest.mark.parametrize("page", ["overview", "responders", "profile", "subgroups", "trajectories", "mri",
                                  "baseline", "flow", "safety", "missing", "paper"])
def test_every_page_code_runs(page):
    at = open_page(f"app_pages/{page}.py")
    namespace = _run_page_code(at)
    assert any(k.startswith("result_") for k in namespace), page


def test_figures_export_as_png_and_svg_at_publication_size():
    """Rendered by kaleido in Debian's Chromium (installed by scripts/test.sh)."""
    import struct

    from respine.present import figures
    from respine.present.export import figure_image, image_renderer

    assert image_renderer() is not None, "Chromium is needed for figure export (scripts/test.sh installs it)"
    fig = figures.rate_figure(analyze_primary(), figures.arm_colours(["BM-MSC", "Sham"], "Sham"))
    png = figure_image(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (2100, 1200)
    svg = figure_image(fig, "svg").decode("utf-8")
    assert svg.lstrip().startswith("<svg") and "Responder" in svg


def analyze_primary():
    from respine.io import load_trial

    return analyze(load_trial(), Selection("RESP", 12.0))
