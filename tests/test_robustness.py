"""The robustness views: core wrappers and the page (controls change the numbers)."""

from __future__ import annotations

import pytest

from respine.analyses import robustness
from respine.errors import AnalysisError
from respine.model.selection import Selection
from tests.test_app import open_page, widget


def test_sensitivity_complete_case_equals_the_primary_analysis(trial):
    table = robustness.sensitivity(trial, Selection("RESP", 12.0), n_imputations=20)
    cc = table.set_index("strategy").loc["complete_case"]
    assert cc["estimate"] == pytest.approx(37 / 50 - 34 / 49) and round(cc["p_value"], 2) == 0.77
    assert list(table["strategy"]) == ["complete_case", "nri", "locf", "bocf", "mi"]


def test_tipping_point_and_bayes_on_the_primary_result(trial):
    grid, summary = robustness.tipping(trial, Selection("RESP", 12.0))
    assert grid.shape[0] == 7 * 7 and "changes the conclusion" in summary
    posts = robustness.bayes_reading(trial, Selection("RESP", 12.0), threshold=0.10)
    neutral = next(p for p in posts if p.prior == "neutral")
    assert neutral.mean == pytest.approx(38 / 52 - 35 / 51)  # Beta(1,1) posterior means
    with pytest.raises(AnalysisError, match="binary"):
        robustness.bayes_reading(trial, Selection("VAS", 12.0))


def test_multiplicity_over_visits_is_never_below_raw(trial):
    table = robustness.multiplicity_over_visits(trial, Selection("RESP"))
    assert list(table["visit"]) == ["Month 1", "Month 3", "Month 6", "Month 12", "Month 24"]
    for col in ("p_holm", "p_hochberg", "p_bh"):
        assert (table[col] >= table["p_value"] - 1e-12).all()


@pytest.mark.app
def test_robustness_page_on_the_primary_endpoint():
    at = open_page("app_pages/robustness.py", ep="RESP")
    sens = at.dataframe[0].value.set_index("Analysis")
    assert sens.loc["Complete cases", "p-value"] == "0.775"
    assert any("changes the conclusion" in m.value for m in at.markdown)
    bayes = at.dataframe[1].value.set_index("Prior")
    assert bayes.loc["Neutral (uniform)", "P(any benefit)"] == "69.2%"
    before = bayes.loc["Neutral (uniform)"].iloc[2]
    widget(at.slider, "Clinically relevant benefit (percentage points)").set_value(20).run()
    assert at.dataframe[1].value.set_index("Prior").loc["Neutral (uniform)"].iloc[2] != before
    gee_before = at.dataframe[3].value["Odds ratio [95% CI]"].tolist()
    widget(at.radio, "Working correlation").set_value("unstructured").run()
    assert at.dataframe[3].value["Odds ratio [95% CI]"].tolist() != gee_before


@pytest.mark.app
def test_robustness_page_on_a_continuous_endpoint():
    at = open_page("app_pages/robustness.py", ep="ODI", visit="6")
    assert at.dataframe[0].value.iloc[0]["Analysis"] == "Complete cases"
    # missing data, reference-based MI, multiplicity, estimands: no Bayesian reading or GEE
    assert len(at.dataframe) == 4


def test_multiplicity_over_endpoints(trial):
    table = robustness.multiplicity_over_endpoints(trial, Selection("RESP", 12.0))
    assert {"Low back pain VAS", "Responder (primary rule)", "MRI T2 disc fluid content"} <= set(
        table["endpoint"]
    )
    assert (table["p_holm"] >= table["p_value"] - 1e-12).all()


@pytest.mark.app
def test_robustness_multiplicity_family_switch():
    at = open_page("app_pages/robustness.py", ep="RESP")
    widget(at.radio, "Family of tests").set_value("endpoints").run()
    assert any(t.value.columns[0] == "Endpoint" for t in at.dataframe)


def test_the_tipping_point_uses_the_chosen_mcid_as_sensitivity_does(trial):
    """Both missing-data analyses take the MCID threshold of the selection (the tipping point used
    to analyse the default 15 mm whatever the reader chose)."""
    default, strict = Selection("MCID_VAS", 12.0), Selection("MCID_VAS", 12.0, mcid_vas=40.0)
    grid_default, _ = robustness.tipping(trial, default, n_imputations=5)
    grid_strict, _ = robustness.tipping(trial, strict, n_imputations=5)
    assert not grid_default.equals(grid_strict)
