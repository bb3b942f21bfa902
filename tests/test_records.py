"""Which records each analysis reads: observed and derived (LOCF) records on a trial small enough
to check by hand, the counts and words of the methods sentences, the ANCOVA of an endpoint
without a baseline, and the linear trend across doses."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from respine import derive, stats
from respine.analyses import compare, missing, registry, trend
from respine.analyses.availability import has_baseline
from respine.analyses.repeated import MMRM_RECORDS
from respine.errors import AnalysisError, SelectionError
from respine.io import load_trial
from respine.model import design as S
from respine.model.results import RecordCounts
from respine.model.selection import Selection
from tests.conftest import write_tiny_trial


@pytest.fixture
def locf_trial(tmp_path):
    """The tiny trial of conftest with record types: subject S4 (arm A) has no Month 12 visit,
    and the data carry its baseline forward as LOCF records (VAS 70, ODI 30); S8 (arm B) has an
    observed Month 12 VAS but an LOCF Month 12 ODI (40)."""
    subjects = pd.DataFrame({
        "subject_id": [f"S{i}" for i in range(1, 9)],
        "arm": ["A"] * 4 + ["B"] * 4,
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
        "pop_all": ["Y"] * 8,
    })
    base_vas = [80, 60, 50, 70, 90, 50, 45, 60]
    m12_vas = [40, 50, 45, 70, 60, 48, 40, 66]
    base_odi = [40, 40, 20, 30, 40, 30, 10, 40]
    m12_odi = [30, 30, 19, 30, 35, 30, 9, 40]
    vas_type = ["", "", "", "LOCF", "", "", "", ""]
    odi_type = ["", "", "", "LOCF", "", "", "", "LOCF"]
    rows = []
    for i, sid in enumerate(subjects["subject_id"]):
        for ep, b, f, t in (("VAS", base_vas[i], m12_vas[i], vas_type[i]),
                            ("ODI", base_odi[i], m12_odi[i], odi_type[i])):
            rows.append((sid, ep, "Baseline", 0, b, ""))
            rows.append((sid, ep, "Month 12", 12, f, t))
    measurements = pd.DataFrame(
        rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value", S.RECORD_TYPE])
    return load_trial(write_tiny_trial(tmp_path / "locf", subjects, measurements))


def test_the_records_choices_are_declared_once_with_labels():
    assert set(derive.RECORDS) == {"analysis", "observed"}
    assert all(derive.RECORDS.values())
    assert MMRM_RECORDS == "observed" and compare.VISIT_RECORDS == "analysis"
    with pytest.raises(SelectionError, match="Choose one of: analysis, observed"):
        derive.check_records("locf")


def test_endpoint_data_reads_analysis_or_observed_records(locf_trial):
    analysis = derive.endpoint_data(locf_trial, "VAS", records="analysis")
    observed = derive.endpoint_data(locf_trial, "VAS", records="observed")
    m12 = analysis[analysis[S.VISIT_MONTH] == 12]
    assert len(m12) == 8 and m12.set_index(S.SUBJECT_ID).at["S4", S.RECORD_TYPE] == "LOCF"
    after = observed.loc[observed[S.VISIT_MONTH] == 12, S.SUBJECT_ID]
    assert set(after) == {f"S{i}" for i in (1, 2, 3, 5, 6, 7, 8)}
    # The baseline of every subject stays (it is the baseline of the change).
    assert len(observed[observed[S.VISIT_MONTH] == 0]) == 8
    assert analysis.set_index([S.SUBJECT_ID, S.VISIT_MONTH]).at[("S4", 12.0), derive.CHG] == 0
    with pytest.raises(SelectionError, match="records choice"):
        derive.endpoint_data(locf_trial, "VAS", records="derived")  # type: ignore[arg-type]


def test_a_derived_endpoint_is_derived_when_one_of_its_sources_is(locf_trial):
    # RESP is derived from VAS and ODI: S4 (both LOCF) and S8 (ODI LOCF) are derived records.
    analysis = derive.endpoint_data(locf_trial, "RESP", records="analysis").set_index(S.SUBJECT_ID)
    assert analysis[S.RECORD_TYPE].to_dict() == {
        "S1": "", "S2": "", "S3": "", "S4": "LOCF", "S5": "", "S6": "", "S7": "", "S8": "LOCF"}
    observed = derive.endpoint_data(locf_trial, "RESP", records="observed")
    # S4 has no observed source value; S8's ODI is missing, so its status rests on VAS alone,
    # which the rule may or may not determine: it is never read from the LOCF record.
    assert "S4" not in set(observed[S.SUBJECT_ID])
    assert (observed[S.RECORD_TYPE] == "").all()


def test_counts_and_words_of_the_records():
    frame = pd.DataFrame({S.ARM: ["A", "A", "B", "B", "B"], S.RECORD_TYPE: ["", "LOCF", "", "", "WOCF"]})
    counts = derive.count_records(frame, "analysis", ["A", "B"])
    assert counts.observed == 3 and counts.derived == {"LOCF": 1, "WOCF": 1} and counts.n_derived == 2
    assert counts.by_arm == ({"arm": "A", "observed": 1, "derived": 1},
                             {"arm": "B", "observed": 2, "derived": 1})
    assert counts.describe() == ("3 observed, 1 carried forward by LOCF (DTYPE), "
                                 "1 carried forward by WOCF (worst observation) (DTYPE)")
    unknown = RecordCounts("observed", 5, left_out={"XYZ": 2})
    assert unknown.describe_left_out() == "2 derived as XYZ (DTYPE)"
    # A frame without a record-type column is all observed.
    assert derive.count_records(frame.drop(columns=[S.RECORD_TYPE]), "analysis").observed == 5


def test_the_comparison_reads_and_names_the_analysis_records(locf_trial):
    result = compare.analyze(locf_trial, Selection(endpoint="VAS", visit=12.0))
    assert [a.n for a in result.arms] == [4, 4]  # S4's LOCF record is an analysis record
    assert result.records is not None and result.records.records == "analysis"
    assert result.records.observed == 7 and result.records.derived == {"LOCF": 1}
    assert "using the analysis records (7 observed, 1 carried forward by LOCF (DTYPE))" in result.methods_text
    assert "complete cases" not in result.methods_text
    out = result.to_dict()
    assert out["records"]["observed"] == 7 and out["records"]["derived"] == 1
    assert out["records"]["by_arm"] == [{"arm": "A", "observed": 3, "derived": 1},
                                        {"arm": "B", "observed": 4, "derived": 0}]
    binary = compare.analyze(locf_trial, Selection(endpoint="RESP", visit=12.0))
    assert binary.records is not None and binary.records.derived == {"LOCF": 2}
    assert "using the analysis records (6 observed, 2 carried forward by LOCF (DTYPE))" in binary.methods_text


def test_without_derived_records_the_methods_text_says_complete_cases(tiny_trial):
    result = compare.analyze(tiny_trial, Selection(endpoint="VAS", visit=12.0))
    assert "(complete cases)" in result.methods_text
    assert result.records is not None and result.records.observed == 7 and not result.records.derived
    assert "dose_response" not in result.to_dict()  # two arms: no trend across doses


def test_completion_and_patterns_count_derived_records_as_missing(locf_trial):
    comp = missing.completion(locf_trial, None, "VAS").set_index(["arm", "visit_month"])
    assert comp.loc[("A", 12.0), "observed"] == 3 and comp.loc[("A", 12.0), "derived"] == 1
    assert comp.loc[("B", 12.0), "observed"] == 4 and comp.loc[("B", 12.0), "derived"] == 0
    assert comp.loc[("A", 12.0), "pct"] == 75.0
    patterns = missing.missing_patterns(locf_trial, None, "VAS")
    by_pattern = patterns.set_index(patterns.columns[0])
    assert by_pattern.loc["X .", "A"] == 1 and by_pattern.loc["X X", "A"] == 3


def test_over_time_reads_the_records_asked_for(locf_trial):
    sel = Selection(endpoint="VAS", visit=12.0)
    both = trend.over_time(locf_trial, sel).set_index(["arm", "visit_month"])
    seen = trend.over_time(locf_trial, sel, records="observed").set_index(["arm", "visit_month"])
    assert both.loc[("A", 12.0), "n"] == 4 and both.loc[("A", 12.0), "derived"] == 1
    assert seen.loc[("A", 12.0), "n"] == 3 and seen.loc[("A", 12.0), "derived"] == 0
    # Arm A change: -40, -10, -5 observed; the LOCF record adds 0.
    assert seen.loc[("A", 12.0), "estimate"] == pytest.approx(-55 / 3)
    assert both.loc[("A", 12.0), "estimate"] == pytest.approx(-55 / 4)
    assert derive.has_derived_records(locf_trial, "VAS") and derive.has_derived_records(locf_trial, "RESP")


def test_the_ancova_error_names_a_term_without_values():
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4], "arm": ["A", "A", "B", "B"], "base": [np.nan] * 4})
    with pytest.raises(AnalysisError, match="base has no value for any subject"):
        stats.ancova(frame, "y", "arm", "B", ("base",))
    one_arm = pd.DataFrame({"y": [1.0, 2, 3, 4], "arm": ["A", "A", "B", "B"],
                            "base": [1.0, 2, np.nan, np.nan]})
    with pytest.raises(AnalysisError, match=r"subjects per arm: A: 2"):
        stats.ancova(one_arm, "y", "arm", "B", ("base",))


def test_ancova_without_a_baseline_term_when_the_endpoint_has_no_baseline(tmp_path):
    # GIC is measured only after baseline (a global impression of change): no baseline value.
    subjects = pd.DataFrame({"subject_id": [f"S{i}" for i in range(1, 9)], "arm": ["A"] * 4 + ["B"] * 4,
                             "sex": ["F", "M"] * 4, "pop_all": ["Y"] * 8})
    gic = [3, 4, 2, 3, 5, 4, 4, 6]
    rows = [(f"S{i + 1}", "VAS", "Baseline", 0, 50) for i in range(8)]
    rows += [(f"S{i + 1}", "GIC", "Month 12", 12, v) for i, v in enumerate(gic)]
    folder = write_tiny_trial(tmp_path / "gic", subjects, pd.DataFrame(
        rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value"]))
    study = (folder / "study.toml").read_text(encoding="utf-8").replace(
        'ids = ["VAS", "ODI", "RESP"]', 'ids = ["VAS", "ODI", "RESP", "GIC"]')
    (folder / "study.toml").write_text(study + '[endpoints.GIC]\nlabel = "Global impression"\n'
                                       'kind = "continuous"\n', encoding="utf-8")
    gic_trial = load_trial(folder)
    result = compare.analyze(gic_trial, Selection(endpoint="GIC", visit=12.0, method="ancova"))
    assert result.measure == "aval" and any("no baseline value" in n for n in result.notes)
    # Arm only: the difference of means, 3 - 4.75, with the pooled-variance t-test.
    a, b = np.array(gic[:4], float), np.array(gic[4:], float)
    pooled = ((a.var(ddof=1) + b.var(ddof=1)) / 2) * (1 / 4 + 1 / 4)
    assert result.contrasts[0].estimate == pytest.approx(a.mean() - b.mean())
    assert result.contrasts[0].se == pytest.approx(math.sqrt(pooled))
    assert result.method_label == "ANOVA on arm"
    assert "no baseline term: Global impression has no baseline value" in result.methods_text
    with_sex = compare.analyze(gic_trial, Selection(endpoint="GIC", visit=12.0, method="ancova",
                                                    covariates=("sex",)))
    assert "arm and sex as terms (no baseline term" in with_sex.methods_text
    welch = compare.analyze(gic_trial, Selection(endpoint="GIC", visit=12.0, method="welch"))
    assert welch.contrasts[0].estimate == pytest.approx(a.mean() - b.mean())
    # A course of change from baseline would be empty: it says which measure to choose instead.
    for course in (trend.over_time, trend.over_time_adjusted):
        with pytest.raises(AnalysisError, match="no baseline value, so its change from baseline"):
            course(gic_trial, Selection(endpoint="GIC", visit=12.0))
    observed = trend.over_time(gic_trial, Selection(endpoint="GIC", visit=12.0, measure="aval"))
    assert list(observed["n"]) == [4, 4]
    assert not has_baseline(gic_trial, "GIC") and has_baseline(gic_trial, "VAS")


def test_dose_trend_recovers_an_exact_linear_dose_effect():
    rng = np.random.default_rng(1)
    dose = np.repeat([0.0, 50.0, 100.0], 20)
    site = np.tile(["x", "y"], 30)
    noise = rng.normal(0, 1, 60)
    y = 2.0 - 0.03 * dose + np.where(site == "y", 1.5, 0.0) + noise
    frame = pd.DataFrame({"y": y, "dose": dose, "site": site})
    fit = stats.dose_trend(frame, "y", "dose", ("site",))
    X = np.column_stack([np.ones(60), dose, (site == "y").astype(float)])
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    se = math.sqrt(float(rss[0]) / 57 * np.linalg.inv(X.T @ X)[1, 1])
    assert fit.slope == pytest.approx(beta[1], rel=1e-12) and fit.se == pytest.approx(se, rel=1e-10)
    assert fit.df == 57 and fit.n == 60
    from scipy import stats as sps
    assert fit.p_value == pytest.approx(2 * sps.t.sf(abs(beta[1] / se), 57), rel=1e-9)
    with pytest.raises(AnalysisError, match="three or more doses"):
        stats.dose_trend(frame[frame["dose"] < 100], "y", "dose", ("site",))


def test_dose_arms_need_three_arms_with_distinct_doses(tiny_trial):
    assert compare.dose_arms(tiny_trial) == {}
    assert compare.dose_response(tiny_trial, Selection(endpoint="VAS", visit=12.0)) is None
    assert registry.dose_response.path == "respine.analyses.compare.dose_response"


def test_the_record_type_of_a_value_derived_from_several_sources():
    from respine.derive.measures import _derived_type

    a = pd.Series(["", "LOCF", "", "LOCF", "AVERAGE", None])
    b = pd.Series(["", "", "LOCF", "LOCF", "LOCF", ""])
    assert list(_derived_type({"a": a, "b": b})) == ["", "LOCF", "LOCF", "LOCF", "AVERAGE/LOCF", ""]
    assert list(_derived_type({"a": a, "b": b, "c": b})) == ["", "LOCF", "LOCF", "LOCF", "AVERAGE/LOCF", ""]
