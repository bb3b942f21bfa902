"""Unit and app tests of the reader's views: baseline table, participant flow, safety."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from respine import flow, safety
from respine.baseline import baseline_table, smd_categorical, smd_continuous
from respine.derive import SubgroupFilter
from respine.errors import AnalysisError
from tests.test_app import PAGES, open_page, widget

# ---------------------------------------------------------------- standardised mean differences


def test_smd_continuous_by_hand():
    # means 2 and 4; variances 1 and 1 -> pooled SD 1 -> SMD -2
    assert smd_continuous(np.array([1, 2, 3.0]), np.array([3, 4, 5.0])) == pytest.approx(-2.0)
    assert math.isnan(smd_continuous(np.array([1.0]), np.array([1, 2.0])))


def test_smd_categorical_two_levels_equals_the_binary_formula():
    x = pd.Series(["F"] * 6 + ["M"] * 4)
    y = pd.Series(["F"] * 3 + ["M"] * 7)
    p1, p2 = 0.4, 0.7  # share of the non-reference level "M"
    by_hand = abs(p1 - p2) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    assert smd_categorical(x, y) == pytest.approx(by_hand)


def test_smd_categorical_identical_and_three_levels():
    same = pd.Series(list("aabbcc"))
    assert smd_categorical(same, same) == 0.0
    assert smd_categorical(pd.Series(list("aaabbc")), pd.Series(list("abbccc"))) > 0


def test_baseline_table_counts_match_the_subject_table(trial):
    b = baseline_table(trial, "RANDOMISED")
    sex = b[(b["variable"] == "Sex") & (b["level"] == "Female")].iloc[0]
    s = trial.subjects
    assert sex["BM-MSC|count"] == ((s["arm"] == "BM-MSC") & (s["sex"] == "Female")).sum()
    assert sex["Overall|n"] == 114
    age = b[b["variable"] == "Age, years"].iloc[0]
    assert age["Overall|mean"] == pytest.approx(s["age"].mean())
    assert {"Low back pain VAS, mm", "Modic change", "Site"} <= set(b["variable"])


def test_baseline_table_with_empty_filter_is_explained(trial):
    with pytest.raises(AnalysisError, match="No subject"):
        baseline_table(trial, "MITT", (SubgroupFilter("sex", ("Nobody",)),))


# ---------------------------------------------------------------- flow and safety


def test_participant_flow_counts(trial):
    f = flow.participant_flow(trial).set_index("detail")
    assert f.loc["Randomised", ["BM-MSC", "Sham", "Total"]].tolist() == [58, 56, 114]
    assert f.loc["Assessed at Month 12 (VAS)", ["BM-MSC", "Sham"]].tolist() == [50, 49]
    reasons = f[f.index.str.startswith("  ")]
    assert reasons["Total"].sum() == f.loc["Withdrew (any reason)", "Total"]
    dot = flow.flow_dot(flow.participant_flow(trial), ["BM-MSC", "Sham"])
    assert dot.startswith("digraph") and "Allocated to BM-MSC (n = 58)" in dot


def test_safety_overview_matches_raw_events(trial):
    o = safety.ae_overview(trial, "SAFETY").set_index("category")
    ae, s = trial.adverse_events, trial.subjects
    arm = s.set_index("subject_id")["arm"]
    serious = ae[ae["serious"] == "Y"]["subject_id"].unique()
    assert o.loc["Serious adverse event", "BM-MSC|count"] == (arm[serious] == "BM-MSC").sum()
    assert o.loc["Serious and related to the product", ["BM-MSC|count", "Sham|count"]].tolist() == [0, 0]
    assert o.loc["Any adverse event", "BM-MSC|n"] == 57  # safety population, BM-MSC


def test_events_by_term_count_subjects_once(trial):
    t = safety.ae_by_term(trial, "SAFETY")
    back = t[t["term"] == "Back pain"].iloc[0]
    ae = trial.adverse_events
    ids = ae[ae["term"] == "Back pain"]["subject_id"].unique()
    arm = trial.subjects.set_index("subject_id")["arm"]
    assert back["BM-MSC|count"] + back["Sham|count"] == len(ids)
    assert (arm[ids] == "Sham").sum() == back["Sham|count"]
    serious = safety.ae_by_term(trial, "SAFETY", serious_only=True)
    assert set(serious["term"]) - {""} <= set(ae.loc[ae["serious"] == "Y", "term"])


def test_immune_response_new_positives(trial):
    imm = safety.immune_response(trial, "MITT").set_index(["endpoint", "visit"])
    new = imm.loc[("HLA1", "New at Month 6")]
    assert new["BM-MSC|n"] <= imm.loc[("HLA1", "Month 6"), "BM-MSC|n"]
    assert imm.loc[("DSA", "Baseline"), "BM-MSC|count"] == 0


# ---------------------------------------------------------------- app


@pytest.mark.app
def test_baseline_page_switches_summary_and_follows_filters():
    at = open_page("app_pages/baseline.py")
    assert not at.exception
    table = at.dataframe[0].value
    vas = table[table["Characteristic"] == "Low back pain VAS, mm"].iloc[0]
    assert "(" in vas["BM-MSC"] and "[n=56]" in vas["BM-MSC"]
    widget(at.radio, "Continuous variables as").set_value("median").run()
    median = at.dataframe[0].value.iloc[0]["BM-MSC"]
    assert median != vas["BM-MSC"] and " to " in median
    women = open_page("app_pages/baseline.py", filter="sex=Female")
    row = women.dataframe[0].value
    assert row[row["Characteristic"] == "Sex: Female"].iloc[0]["Overall"].endswith("(100.0%)")


@pytest.mark.app
def test_flow_page_draws_and_changes_with_endpoint():
    at = open_page("app_pages/flow.py")
    assert len(at.get("graphviz_chart")) == 1
    before = at.dataframe[0].value
    assert before.loc[before["detail"] == "Randomised", "Total"].iloc[0] == 114
    widget(at.selectbox, "Follow-up counted by assessments of").set_value("SF36PCS").run()
    after = at.dataframe[0].value
    assert after["detail"].str.contains("SF36PCS").any() and not at.exception


@pytest.mark.app
def test_safety_page_numbers_and_serious_toggle():
    at = open_page("app_pages/safety.py", pop="SAFETY")
    overview = at.dataframe[0].value.set_index("Category")
    assert overview.loc["Serious and related to the product", "BM-MSC"] == "0/57 (0.0%)"
    n_rows = len(at.dataframe[1].value)
    widget(at.toggle, "Serious events only (organ class table)").set_value(True).run()
    assert len(at.dataframe[1].value) < n_rows
    assert "HLA1, New at Month 6" in at.dataframe[2].value["Antibody, visit"].tolist()


@pytest.mark.app
def test_new_pages_explain_an_empty_subgroup():
    for page in ("app_pages/baseline.py", "app_pages/safety.py"):
        at = open_page(page, filter="sex=")
        assert not at.exception
        assert any("No subject" in w.value for w in at.warning), page


def test_pages_registered():
    assert PAGES[0] == "app_pages/overview.py"
