"""Unit and app tests of the reader's views: baseline table, participant flow, safety."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from respine.analyses import flow, individual, missing, published, safety
from respine.analyses.baseline import baseline_table
from respine.analyses.compare import analyze
from respine.analyses.subgroups import cut_levels, parse_cutpoints, subgroup_analysis
from respine.analyses.trend import over_time_adjusted
from respine.errors import AnalysisError, SelectionError
from respine.model.selection import Selection, SubgroupFilter
from respine.stats.balance import smd_categorical, smd_continuous
from respine.stats.models import interaction_f_test, interaction_lr_test
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
    assert overview.loc["Serious and related to the product", "BM-MSC"] == "0/57 (0.0%) [0]"  # [events]
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
    """The page registry is the app's page list: every script in app_pages/ is registered once,
    every registered script exists, url paths are unique, and the default page is the overview."""
    from respine.ui import pages

    files = sorted(f"app_pages/{p.name}" for p in (pages.ROOT / "app_pages").glob("*.py"))
    registered = [p.file for p in pages.PAGES]
    assert sorted(registered) == files
    assert len(set(registered)) == len(registered)
    paths = [p.url_path for p in pages.PAGES]
    assert len(set(paths)) == len(paths)
    assert [p.file for p in pages.PAGES if p.default] == [PAGES[0]]
    assert all(pages.by_url_path(p.url_path) is p and pages.by_file(p.file) is p for p in pages.PAGES)
    # the pages that show no results of the selection (no small-selection check, no report entry)
    assert {p.url_path for p in pages.PAGES if not p.selection} == {"data", "report", "settings"}


# ---------------------------------------------------------------- subgroups


def test_cut_levels_median_and_cutpoints():
    x = pd.Series([30, 40, 50, 60, np.nan])
    assert cut_levels(x).tolist() == ["≤ 45", "≤ 45", "> 45", "> 45", None]
    assert cut_levels(x, (40, 50), "years").tolist() == [
        "≤ 40 years",
        "≤ 40 years",
        "40-50 years",
        "> 50 years",
        None,
    ]


def test_parse_cutpoints():
    assert parse_cutpoints("50, 40;40 ") == (40.0, 50.0)
    for bad in ("forty", "inf"):
        with pytest.raises(SelectionError):
            parse_cutpoints(bad)


@pytest.mark.reference
def test_interaction_tests_match_statsmodels():
    """Independent implementation: statsmodels formula OLS/GLM with arm*level, compared with
    ``anova_lm(reduced, full)`` and the likelihood-ratio statistic of the two GLM fits."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(11)
    n = 120
    frame = pd.DataFrame(
        {"arm": rng.integers(0, 2, n).astype(float), "level": rng.choice(["a", "b", "c"], n)}
    )
    frame["y"] = 1.0 * frame["arm"] + (frame["level"] == "b") + rng.normal(0, 1, n)
    full = smf.ols("y ~ arm * C(level)", frame).fit()
    reduced = smf.ols("y ~ arm + C(level)", frame).fit()
    expected = anova_lm(reduced, full)["Pr(>F)"].iloc[1]
    got = interaction_f_test(frame["y"].to_numpy(), frame["arm"].to_numpy(), frame["level"].to_numpy())
    assert got == pytest.approx(expected, rel=1e-9)

    frame["r"] = (rng.random(n) < 0.3 + 0.3 * frame["arm"]).astype(float)
    import statsmodels.api as sm
    from scipy import stats as sps

    gf = smf.glm("r ~ arm * C(level)", frame, family=sm.families.Binomial()).fit()
    gr = smf.glm("r ~ arm + C(level)", frame, family=sm.families.Binomial()).fit()
    expected = sps.chi2.sf(2 * (gf.llf - gr.llf), 2)
    got = interaction_lr_test(frame["r"].to_numpy(), frame["arm"].to_numpy(), frame["level"].to_numpy())
    assert got == pytest.approx(expected, rel=1e-6)


def test_subgroup_rows_add_up_and_one_interaction_p_per_variable(trial):
    table = subgroup_analysis(trial, Selection("RESP", 12.0), ("sex", "smoking", "age"))
    overall = table.iloc[0]
    assert (overall["n BM-MSC"], overall["n Sham"]) == (50, 49)
    sex = table[table["variable"] == "Sex"]
    assert sex["n BM-MSC"].sum() == 50 and sex["p_interaction"].notna().sum() == 1
    assert table.groupby("variable")["p_interaction"].count().drop("Overall").eq(1).all()
    assert overall["estimate"] == pytest.approx(37 / 50 - 34 / 49)
    ors = subgroup_analysis(trial, Selection("RESP", 12.0), ("sex",), binary_measure="odds_ratio")
    assert ors["measure"].iloc[0] == "odds_ratio" and (ors["estimate"] > 0).all()


def test_subgroup_too_small_level_is_noted_not_raised(trial):
    table = subgroup_analysis(trial, Selection("VAS", 12.0), ("site",))
    assert table["note"].str.contains("fewer than").any() or table["estimate"].notna().all()
    with pytest.raises(SelectionError, match="not declared subject covariates"):
        subgroup_analysis(trial, Selection("VAS", 12.0), ("shoe_size",))
    with pytest.raises(SelectionError, match="not declared subject covariates"):  # picks patients
        subgroup_analysis(trial, Selection("VAS", 12.0), ("subject_id",))


# ---------------------------------------------------------------- responder profile, trajectories


def test_cumulative_distribution_and_sweep_agree_with_responder_counts(trial):
    sel = Selection("VAS", 12.0)
    cdf = individual.cumulative_distribution(trial, sel, "VAS")
    assert cdf.groupby("arm")["share"].max().eq(1.0).all()
    sweep = individual.threshold_sweep(trial, sel, "VAS", (0.0, 15.0, 20.0))
    # improvement >= 15 mm is the VAS MCID: the sweep must equal the MCID_VAS analysis
    mcid = analyze(trial, Selection("MCID_VAS", 12.0))
    row = sweep[sweep["threshold"] == 15.0].iloc[0]
    assert row["rate BM-MSC"] == pytest.approx(mcid.arms[0].rate)
    assert row["rate Sham"] == pytest.approx(mcid.arms[1].rate)
    # read off the CDF: share improving >= 20 mm equals the sweep's rate at 20
    bm = cdf[cdf["arm"] == "BM-MSC"]
    share20 = bm.loc[bm["improvement"] >= 20, "share"].max()
    assert share20 == pytest.approx(sweep.loc[sweep["threshold"] == 20.0, "rate BM-MSC"].iloc[0])


def test_waterfall_sorted_and_trajectories_capped(trial):
    bars = individual.waterfall(trial, Selection("ODI", 12.0))
    for _, part in bars.groupby("arm"):
        assert part["pchg"].is_monotonic_decreasing
    lines, total = individual.trajectories(trial, Selection("VAS", measure="aval"))
    assert total == 111 and lines["subject_id"].nunique() == 111
    with pytest.raises(AnalysisError, match="continuous"):
        individual.trajectories(trial, Selection("RESP"))


def test_model_based_means_equal_ancova_lsmeans(trial):
    frame = over_time_adjusted(trial, Selection("VAS"))
    at12 = frame[frame["visit_month"] == 12.0].set_index("arm")["estimate"]
    lsm = {d["arm"]: d["lsmean"] for d in analyze(trial, Selection("VAS", 12.0, method="ancova")).lsmeans}
    assert at12.to_dict() == pytest.approx(lsm)
    assert 0.0 not in set(frame["visit_month"])


def test_structure_vs_symptoms(trial):
    points, corr = individual.structure_vs_symptoms(trial, Selection("MRIT2", 12.0))
    assert corr["arm"].tolist() == ["BM-MSC", "Sham", "All"]
    assert corr.iloc[-1]["n"] == len(points)
    assert corr["rho"].between(-1, 1).all()


def test_completion_and_patterns(trial):
    comp = missing.completion(trial, "MITT", "VAS")
    m12 = comp[comp["visit_month"] == 12.0].set_index("arm")
    assert m12.loc["BM-MSC", "observed"] == 50 and m12.loc["BM-MSC", "expected"] == 56
    patterns = missing.missing_patterns(trial, "MITT", "VAS")
    assert patterns["Total"].sum() == 111
    complete = patterns[patterns["kind"] == "complete"]
    assert complete["Total"].iloc[0] == (
        comp[comp["visit_month"] == 24.0]["observed"].sum()
        - patterns[patterns["kind"] == "intermittent"]["Total"].sum()
    )
    assert {"monotone (dropout)", "intermittent"} <= set(patterns["kind"])


def test_paper_check_all_match_on_twin_and_flags_a_change(trial):
    check = published.paper_check(trial)
    assert check["matches"].all() and len(check) == 7
    import dataclasses

    altered = dataclasses.replace(trial, subjects=trial.subjects.iloc[:-3])
    assert not published.paper_check(altered)["matches"].all()


# ---------------------------------------------------------------- app: new pages


@pytest.mark.app
def test_subgroups_page_controls_change_the_numbers():
    at = open_page("app_pages/subgroups.py", ep="RESP")
    table = at.dataframe[0].value
    assert table.iloc[0]["Subgroup"] == "Overall" and table.iloc[0]["n BM-MSC"] == 50
    assert "Risk difference [95% CI]" in table.columns
    widget(at.radio, "Effect measure").set_value("odds_ratio").run()
    assert "Odds ratio [95% CI]" in at.dataframe[0].value.columns
    widget(at.multiselect, "Subgroup variables").set_value(["age"]).run()
    widget(at.text_input, "Age cut-points").set_value("35, 45").run()
    levels = at.dataframe[0].value["Subgroup"].tolist()
    assert levels == ["Overall", "Age: ≤ 35 years", "Age: 35-45 years", "Age: > 45 years"]
    widget(at.text_input, "Age cut-points").set_value("old").run()
    assert any("must be numbers" in w.value for w in at.warning) and not at.exception
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.app
def test_profile_page_switches_scale_and_endpoint():
    at = open_page("app_pages/profile.py")
    first = at.dataframe[0].value
    assert first.columns[0] == "Improvement at least (mm)"
    widget(at.radio, "Improvement as").set_value("relative").run()
    assert at.dataframe[0].value.columns[0] == "Improvement at least (%)"
    widget(at.radio, "Scale").set_value("ODI").run()
    assert not at.exception and len(at.get("plotly_chart")) == 2


@pytest.mark.app
def test_over_time_page_model_based_and_waterfall_visit():
    at = open_page("app_pages/trajectories.py")
    observed = at.dataframe[0].value
    widget(at.radio, "Means").set_value("model").run()
    model = at.dataframe[0].value
    assert "Baseline" in observed["Visit"].tolist() and "Baseline" not in model["Visit"].tolist()
    widget(at.selectbox, "Visit for the waterfall").set_value(6.0).run()
    assert not at.exception and len(at.get("plotly_chart")) == 3


@pytest.mark.app
def test_mri_missing_and_paper_pages_show_numbers():
    mri = open_page("app_pages/mri.py")
    assert mri.dataframe[4].value["Arm"].tolist() == ["BM-MSC", "Sham", "All"]
    widget(mri.radio, "Clinical change").set_value("ODI").run()
    assert not mri.exception
    missing_page = open_page("app_pages/missing.py")
    row = missing_page.dataframe[0].value
    assert "50/56 (89.3%)" in row["With a value"].tolist()
    widget(missing_page.selectbox, "Endpoint").set_value("MRIT2").run()
    assert set(missing_page.dataframe[0].value["Visit"]) == {"Baseline", "Month 12"}
    paper = open_page("app_pages/paper.py")
    assert any("7 of 7 published figures match" in s.value for s in paper.success)


def test_subgroup_interactions_adjusted_for_multiplicity(trial):
    table = subgroup_analysis(trial, Selection("RESP", 12.0), ("sex", "smoking", "age"))
    p = table.dropna(subset=["p_interaction"])
    assert len(p) == 3 and (p["p_interaction_holm"] >= p["p_interaction"]).all()


@pytest.mark.reference
def test_ancova_equal_weighting_by_hand():
    """Equal weights: LS mean = average over covariate levels of the model's predictions (the
    emmeans/SAS LSMEANS default); computed here directly from statsmodels OLS predictions."""
    import statsmodels.formula.api as smf

    from respine.stats import ancova

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "arm": rng.choice(["A", "B"], 80),
            "site": rng.choice(["s1", "s2", "s3"], 80, p=[0.6, 0.3, 0.1]),
            "base": rng.normal(50, 10, 80),
        }
    )
    frame["y"] = 0.3 * frame["base"] + (frame["site"] == "s2") * 4 + rng.normal(0, 3, 80)
    fit = smf.ols("y ~ C(arm, Treatment('B')) + base + C(site)", frame).fit()
    grid = pd.DataFrame(
        [(a, s, frame["base"].mean()) for a in "AB" for s in ("s1", "s2", "s3")],
        columns=["arm", "site", "base"],
    )
    expected = grid.assign(pred=fit.predict(grid)).groupby("arm")["pred"].mean()
    got = {
        d["arm"]: d["lsmean"]
        for d in ancova(frame, "y", "arm", "B", ("base", "site"), weights="equal").lsmeans
    }
    assert got == pytest.approx(expected.to_dict(), rel=1e-10)
    observed = {d["arm"]: d["lsmean"] for d in ancova(frame, "y", "arm", "B", ("base", "site")).lsmeans}
    assert observed["A"] != pytest.approx(got["A"], rel=1e-6)  # the weighting matters
