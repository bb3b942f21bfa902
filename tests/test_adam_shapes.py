"""ADaM studies built the usual way (tests/adam_shapes.py) load by a stated record rule.

Each shape loads with the notes its rule must produce; every count counts a subject once (one
row per subject and visit in ``derive.endpoint_data``; the flow and baseline counts equal those
recomputed from the ADSL the builder wrote); the record kept is the one the rule names; and
every page of the app renders on each shape with no exception and no error box.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine import derive
from respine.analyses.baseline import baseline_table
from respine.analyses.compare import analyze
from respine.analyses.flow import participant_flow
from respine.cli import main
from respine.errors import DataError, Problem
from respine.io import validate_folder
from respine.io.adam import RECORD_RULES, load_adam, read_adam, record_rule
from respine.model import design as S
from respine.model.selection import Selection
from tests.adam_shapes import BUILDERS, Shape
from tests.test_app import assert_healthy, each_page, new_app

REPO = Path(__file__).resolve().parent.parent
NOT_ANALYSED = ("Screen Failure", "Not Assigned")


def _analysed_adsl(shape: Shape) -> pd.DataFrame:
    """ADSL rows the loader must analyse, recomputed by hand: an arm, not a screen failure or
    unassigned, RANDFL not 'N'."""
    a = shape.adsl
    keep = a["TRT01P"].notna() & ~a["TRT01P"].isin(NOT_ANALYSED)
    if "ARM" in a.columns:
        keep &= ~a["ARM"].isin(NOT_ANALYSED)
    if "RANDFL" in a.columns:
        keep &= a["RANDFL"].ne("N")
    return a[keep]


@pytest.fixture(params=sorted(BUILDERS))
def shape(request, tmp_path) -> Shape:
    return BUILDERS[request.param](tmp_path)


def test_each_shape_loads_with_its_notes(shape, capsys):
    problems = validate_folder(shape.folder)
    text = "\n".join(str(p) for p in problems)
    assert not [p for p in problems if p.severity == "error"], text
    for fragment in shape.notes:
        assert fragment in text, (fragment, text)
    warned = "\n".join(p.message for p in problems if p.severity == "warning")
    for fragment in shape.warnings:
        assert fragment in warned, (fragment, text)
    assert any(p.severity == "info" and "Record rule 'analysis'" in p.message for p in problems)
    assert main(["validate", str(shape.folder)]) == 0  # notes and warnings: exit 0
    out = capsys.readouterr().out
    assert "Record rule 'analysis'" in out and "0 errors" in out and "notes in" in out


def test_every_count_counts_a_subject_once(shape):
    trial = load_adam(shape.folder)
    expected = _analysed_adsl(shape)
    assert len(trial.subjects) == shape.analysed == len(expected)
    assert not trial.subjects[S.SUBJECT_ID].duplicated().any()
    by_arm = expected.groupby("TRT01P").size().to_dict()
    assert trial.subjects.groupby(S.ARM).size().to_dict() == by_arm
    assert not trial.measurements.duplicated([S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH]).any()
    pop = trial.design.default_population
    for ep in sorted(set(trial.measurements[S.ENDPOINT])):
        frame = derive.endpoint_data(trial, ep, pop)
        assert not frame.duplicated([S.SUBJECT_ID, S.VISIT_MONTH]).any(), ep
        assert set(frame[S.SUBJECT_ID]) <= set(expected["USUBJID"])
    flow = participant_flow(trial).set_index("detail")
    assert {a: flow.at["Randomised", a] for a in by_arm} == by_arm
    assert flow.at["Randomised", "Total"] == len(expected)
    base = baseline_table(trial, "ALL")
    sex = base[base["variable"] == "SEX"]
    for arm, n in by_arm.items():
        assert int(sex[f"{arm}|count"].sum()) == n, arm


def _kept(trial, endpoint: str = "PAIN") -> pd.DataFrame:
    m = trial.measurements
    return m[m[S.ENDPOINT] == endpoint].set_index([S.SUBJECT_ID, S.VISIT_MONTH])


def test_time_points_keep_the_last_or_the_first_as_the_rule_says(tmp_path):
    shape = BUILDERS["timepoints"](tmp_path)
    d = shape.bds["adqspain"]
    for rule, atptn in (("analysis", 3.0), ("first_timepoint", 1.0)):
        trial = load_adam(shape.folder, record_rule=rule)
        assert f"by the rule '{rule}'" in trial.design.description  # the overview page says it
        kept = _kept(trial)
        want = d[d["ATPTN"] == atptn].set_index(["USUBJID", "AVISITN"])["AVAL"]
        got = kept[S.VALUE].rename_axis(["USUBJID", "AVISITN"])
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)


def test_the_target_day_rule_keeps_the_record_nearest_the_target(tmp_path):
    shape = BUILDERS["timepoints"](tmp_path)
    d = shape.bds["adqspain"].copy()
    d["ADY"] = d["AWTARGET"] + np.where(d["ATPTN"] == 2.0, 0, np.where(d["ATPTN"] == 1.0, -3, 4))
    d.to_parquet(shape.folder / "adqspain.parquet", index=False)
    kept = _kept(load_adam(shape.folder, record_rule="target_day"))
    want = d[d["ATPTN"] == 2.0].set_index(["USUBJID", "AVISITN"])["AVAL"]
    assert np.allclose(kept[S.VALUE].sort_index().to_numpy(), want.sort_index().to_numpy())
    notes: list[Problem] = []
    load_adam(shape.folder, record_rule="target_day", notes=notes)
    assert any("lie further from the visit's target day" in p.message for p in notes)


def test_average_records_win_over_their_time_points_unless_the_rule_says_otherwise(tmp_path):
    shape = BUILDERS["average"](tmp_path)
    avg = shape.extra["average"].set_index(["USUBJID", "AVISITN"])["AVAL"]
    trial = load_adam(shape.folder)
    kept = _kept(trial)
    assert (kept[S.RECORD_TYPE] == "AVERAGE").all()
    assert np.allclose(kept[S.VALUE].sort_index().to_numpy(), avg.sort_index().to_numpy())
    notes: list[Problem] = []
    kept = _kept(load_adam(shape.folder, record_rule="timepoints_only", notes=notes))
    assert (kept[S.RECORD_TYPE] == S.OBSERVED).all() and len(kept) == len(avg)
    assert any("48 are AVERAGE records, which this rule does not use" in p.message for p in notes)


def test_locf_records_keep_their_record_type_and_unflagged_records_are_left_out(tmp_path):
    shape = BUILDERS["locf"](tmp_path)
    trial = load_adam(shape.folder)
    kept = _kept(trial)
    assert int((kept[S.RECORD_TYPE] == "LOCF").sum()) == shape.extra["locf"] == 4
    assert len(kept) == len(shape.adsl) * 4
    # without the flag, the out-of-window records tie with the flagged ones: a warning says so
    _, notes = read_adam(shape.folder, record_rule="ignore_flag")
    assert any(p.severity == "warning" and "nothing tells apart" in p.message for p in notes)


def test_screen_failures_and_unrandomised_subjects_are_counted_not_analysed(tmp_path):
    shape = BUILDERS["screen_failures"](tmp_path)
    _, notes = read_adam(shape.folder)
    note = next(p for p in notes if "screen failures" in p.message)
    assert note.severity == "info" and note.message.startswith(
        "12 screen failures and 3 subjects not randomised")
    assert "20 subjects in arms remain" in note.message
    assert not [p for p in notes if "have no arm" in p.message]  # TRT01P blank, ARM "Screen Failure"


def test_saffl_only_with_yes_no_flags(tmp_path):
    shape = BUILDERS["saffl_only"](tmp_path)
    trial = load_adam(shape.folder)
    assert [p.id for p in trial.design.populations] == ["SAF", "ALL"]
    assert trial.design.default_population == "SAF"
    assert trial.subjects["pop_saffl"].tolist() == np.where(shape.adsl["SAFFL"] == "Yes", "Y", "N").tolist()


def test_four_arms_are_ordered_by_trt01pn_and_every_arm_is_compared(tmp_path):
    shape = BUILDERS["four_arms"](tmp_path)
    trial = load_adam(shape.folder)
    assert trial.design.arms == shape.extra["arms"] and trial.design.reference_arm == "Placebo"
    r = analyze(trial, Selection("PAIN", 12.0, population="ITT", method="welch"))
    assert [c.arm for c in r.contrasts] == ["Drug 5 mg", "Drug 10 mg", "Drug 20 mg"]


def test_character_results_are_converted_or_reported(tmp_path):
    shape = BUILDERS["character"](tmp_path)
    d = shape.bds["adlbcrp"]
    trial = load_adam(shape.folder)
    kept = _kept(trial, "CRP")
    text_only = d[d["AVAL"].isna() & ~d["AVALC"].isin(["ND", "<0.5"])]
    for row in text_only.itertuples():
        assert kept.at[(row.USUBJID, row.AVISITN), S.VALUE] == float(row.AVALC)
    reported = d[d["AVALC"].isin(["ND", "<0.5"])]
    assert not set(zip(reported["USUBJID"], reported["AVISITN"], strict=True)) & set(kept.index)


def test_end_of_treatment_is_a_visit_of_its_own_after_the_scheduled_ones(tmp_path):
    trial = load_adam(BUILDERS["end_of_treatment"](tmp_path).folder)
    assert trial.design.visits[-1] == S.Visit(99.0, "End of Treatment")
    assert [v.number for v in trial.design.visits] == [0.0, 4.0, 8.0, 12.0, 99.0]


def test_unscheduled_records_are_left_out_of_the_visits(tmp_path):
    trial = load_adam(BUILDERS["unscheduled"](tmp_path).folder)
    assert [v.number for v in trial.design.visits] == [0.0, 4.0, 8.0, 12.0]


def test_the_ablfl_record_is_the_baseline_after_a_screening_visit(tmp_path):
    shape = BUILDERS["baseline_day_one"](tmp_path)
    trial = load_adam(shape.folder)
    assert trial.design.visits[0] == S.Visit(1.0, "Baseline")
    frame = derive.endpoint_data(trial, "PAIN", "ITT")
    d = shape.bds["adeff"]
    day29 = d[d["AVISITN"] == 29.0].set_index("USUBJID")
    got = frame[frame[S.VISIT_MONTH] == 29.0].set_index(S.SUBJECT_ID)
    assert np.allclose(got["chg"], (day29["AVAL"] - day29["BASE"]).loc[got.index])


def test_baseline_from_base_where_no_baseline_record_exists(tmp_path):
    shape = BUILDERS["timepoints"](tmp_path)
    d = shape.bds["adqspain"]
    no_base = d[d["AVISITN"] > 0].drop(columns=["ABLFL"])
    no_base.to_parquet(shape.folder / "adqspain.parquet", index=False)
    notes: list[Problem] = []
    trial = load_adam(shape.folder, notes=notes)
    kept = _kept(trial)
    assert len(kept.xs(0.0, level=S.VISIT_MONTH)) == len(shape.adsl)
    info = next(p.message for p in notes if "Record rule" in p.message)
    assert f"{len(shape.adsl)} of them baseline values from BASE" in info
    assert "Baseline: BASE, as a baseline visit (AVISITN 0) before the first record." in info
    # no record names a baseline: BASE makes one at a visit 0 before the first (Week 4)
    assert trial.design.visits[0] == S.Visit(0.0, "Baseline")
    base = d[d["AVISITN"] == 4.0].drop_duplicates("USUBJID").set_index("USUBJID")["BASE"]
    assert np.allclose(kept.xs(0.0, level=S.VISIT_MONTH)[S.VALUE].sort_index(), base.sort_index())


def test_datasets_under_any_name_with_a_shared_paramcd_and_declared_directions(tmp_path):
    trial = load_adam(BUILDERS["dataset_names"](tmp_path).folder)
    assert set(trial.design.endpoints) == {"ADEFF.TOTAL", "ADQSHAQ.TOTAL", "WALK"}
    assert trial.endpoint("WALK").lower_is_better is False and trial.endpoint("WALK").unit == "m"
    assert trial.endpoint("ADQSHAQ.TOTAL").lower_is_better is True
    assert trial.endpoint("ADEFF.TOTAL").lower_is_better is None
    assert trial.endpoint("ADQSHAQ.TOTAL").label == "HAQ disability index"


def test_safety_datasets_load_on_request_or_when_they_are_all_there_is(tmp_path):
    shape = BUILDERS["timepoints"](tmp_path)
    (shape.folder / "adqspain.parquet").rename(shape.folder / "advs.parquet")
    notes: list[Problem] = []
    trial = load_adam(shape.folder, notes=notes)  # only ADVS: it is the study's measurements
    assert set(trial.design.endpoints) == {"PAIN"}
    shape2 = BUILDERS["four_arms"](tmp_path)
    shape.bds["adqspain"].to_parquet(shape2.folder / "advs.parquet", index=False)
    _, notes = read_adam(shape2.folder)
    assert any("ADVS (safety, pharmacokinetic or time-to-event data) are not loaded by default" in p.message
               for p in notes)
    both = load_adam(shape2.folder, bds=("adqs", "advs"))
    assert {"ADQS.PAIN", "ADVS.PAIN", "FATIGUE"} == set(both.design.endpoints)


def test_record_rules_are_declared_once_with_labels():
    assert len({r.id for r in RECORD_RULES}) == len(RECORD_RULES) and all(r.label for r in RECORD_RULES)
    assert record_rule(None).id == "analysis"
    with pytest.raises(DataError, match="choose one of analysis, first_timepoint"):
        record_rule("best")


def test_adsl_errors_name_the_ids_and_values(tmp_path):
    shape = BUILDERS["four_arms"](tmp_path)
    adsl = pd.concat([shape.adsl, shape.adsl.head(2)], ignore_index=True)
    adsl.loc[3, "ITTFL"] = "maybe"
    adsl.to_parquet(shape.folder / "adsl.parquet", index=False)
    _, problems = read_adam(shape.folder)
    text = "\n".join(p.message for p in problems if p.severity == "error")
    assert "more than one row for 2 subjects (SHAPE01-1000, SHAPE01-1001)" in text
    assert "ADSL column ITTFL holds ['MAYBE']" in text


@pytest.mark.app
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_page_renders_on_each_shape(name, tmp_path, monkeypatch):
    """No exception and no error box on any page; the explorer's comparison table compares every
    treatment arm with the reference."""
    shape = BUILDERS[name](tmp_path)
    monkeypatch.setenv("RESPINE_DATA", str(shape.folder))
    trial = load_adam(shape.folder)
    at = new_app().run()
    for page in each_page(at):
        assert_healthy(at, f"{name}: {page}")
        assert not at.error, (name, page, [e.value for e in at.error])
        if page == "app_pages/data.py":  # the page says which study it explores
            assert any("SHAPE01" in i.value for i in at.info), (name, [i.value for i in at.info])
            # and how they were read: the record rule with its counts, for the configured folder
            shown = " ".join(" ".join(map(str, d.value.to_numpy().ravel())) for d in at.dataframe)
            assert "Record rule 'analysis'" in shown and "records kept" in shown, (name, shown[:300])
        if page == "app_pages/explorer.py":
            tables = [d.value for d in at.dataframe if "Comparison" in d.value.columns]
            assert tables, (name, "no comparison table")
            shown = " ".join(map(str, tables[0]["Comparison"]))
            for arm in trial.design.treatment_arms:
                assert arm in shown, (name, arm, shown)


def test_datasets_with_different_baseline_visits_share_the_design_baseline(tmp_path):
    """ADQS has its baseline at AVISITN 0, ADEFF at Day 1 (AVISITN 1): both count at visit 0, so
    change from baseline exists for both."""
    four = BUILDERS["four_arms"](tmp_path)
    day_one = BUILDERS["baseline_day_one"](tmp_path)
    ids = dict(zip(day_one.adsl["USUBJID"], four.adsl["USUBJID"], strict=False))
    eff = day_one.bds["adeff"].assign(USUBJID=lambda x: x["USUBJID"].map(ids)).dropna(subset=["USUBJID"])
    eff.to_parquet(four.folder / "adeff.parquet", index=False)
    notes: list[Problem] = []
    trial = load_adam(four.folder, notes=notes)
    assert trial.design.visits[0] == S.Visit(0.0, "Baseline")
    assert any("Its baseline visit (Baseline, AVISITN 1) is counted as the study's baseline visit"
               in p.message for p in notes)
    frame = derive.endpoint_data(trial, "ADEFF.PAIN", "ALL")
    post = frame[frame[S.VISIT_MONTH] == 29.0].set_index(S.SUBJECT_ID)
    day29 = eff[eff["AVISITN"] == 29.0].set_index("USUBJID")
    assert len(post) == len(day29)
    assert np.allclose(post["chg"], (day29["AVAL"] - day29["BASE"]).loc[post.index])


def test_every_command_reads_an_adam_folder_by_the_record_rule_it_is_given(tmp_path, capsys):
    """``--record-rule`` (and ``--bds``) of analyze, robustness and report read the folder as
    ``validate --record-rule`` checks it: the first time point's values, not the last's."""
    from respine.model.selection import Selection

    shape = BUILDERS["timepoints"](tmp_path)
    means = {}
    for rule in ("analysis", "first_timepoint"):
        assert main(["analyze", "--data", str(shape.folder), "--endpoint", "PAIN", "--visit", "Week 8",
                     "--record-rule", rule, "--bds", "adqspain", "--format", "json"]) == 0
        out = json.loads(capsys.readouterr().out)
        core = analyze(load_adam(shape.folder, record_rule=rule),
                       Selection(endpoint="PAIN", visit=8.0))
        assert [a["mean"] for a in out["arms"]] == pytest.approx([a.mean for a in core.arms], abs=1e-12)
        means[rule] = [a["mean"] for a in out["arms"]]
    assert means["analysis"] != means["first_timepoint"]  # the rule reached the loader
    assert main(["robustness", "--data", str(shape.folder), "--endpoint", "PAIN", "--visit", "Week 8",
                 "--record-rule", "first_timepoint", "--imputations", "5", "--format", "json"]) == 0
    capsys.readouterr()
    out = tmp_path / "report.html"
    assert main(["report", "--data", str(shape.folder), "--record-rule", "first_timepoint",
                 "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    with pytest.raises(SystemExit) as stop:  # an unknown rule: the usage error lists the choices
        main(["analyze", "--data", str(shape.folder), "--endpoint", "PAIN", "--visit", "Week 8",
              "--record-rule", "latest"])
    assert stop.value.code == 2
    assert "first_timepoint" in capsys.readouterr().err


def test_a_study_without_baseline_records_has_no_baseline_invented(tmp_path):
    """The first visit in the data is a post-baseline visit like the others: the explorer
    analyses its value (no change from baseline) and offers it as a visit to compare at."""
    from respine.analyses import availability
    from respine.model.selection import Selection

    shape = BUILDERS["no_baseline"](tmp_path)
    trial = load_adam(shape.folder)
    first = float(shape.bds["adqscgic"]["AVISITN"].min())
    assert trial.design.visits[0].number < first
    assert not availability.has_baseline(trial, "CGIC")
    assert availability.post_baseline_visits(trial, "CGIC")[0] == first
    result = analyze(trial, Selection(endpoint="CGIC", visit=first, measure="aval"))
    assert sum(a.n for a in result.arms) == len(shape.adsl)
