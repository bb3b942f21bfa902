"""Unit tier: each core function on tiny inputs a person can check by hand, plus edge cases."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from respine import derive, stats
from respine.analyses.availability import available_endpoints, visits_with_data
from respine.analyses.compare import analyze
from respine.analyses.trend import over_time
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.rules import PRIMARY_RULE, ResponderRule, mcid_achieved, responder
from respine.model.selection import Selection, SubgroupFilter
from respine.present import fmt

# ---------------------------------------------------------------- responder rule


@pytest.mark.parametrize(
    ("vas0", "vas", "odi0", "odi", "expected"),
    [
        (80, 40, 40, 40, 1.0),  # VAS 40 mm and 50%: responder on VAS alone
        (60, 50, 40, 30, 1.0),  # VAS 10 mm: no; ODI 25%: yes
        (50, 45, 20, 19, 0.0),  # neither
        (100, 81, 50, 50, 0.0),  # VAS 19 mm (19%): just below both thresholds
        (100, 80, 50, 50, 1.0),  # VAS exactly 20 mm and 20%: thresholds are inclusive
        (50, 30, 50, 50, 1.0),  # VAS 20 mm = 40%
        (90, 75, 50, 40, 1.0),  # VAS 15 mm fails, ODI exactly 20%
        (60, np.nan, 40, 30, 1.0),  # VAS missing but ODI meets it: OR is determined
        (60, np.nan, 40, 39, np.nan),  # VAS missing and ODI fails: undetermined
        (0, 0, 0, 0, 0.0),  # zero baselines: relative improvement never met
    ],
)
def test_primary_responder_rule_by_hand(vas0, vas, odi0, odi, expected):
    got = responder(np.array([vas0]), np.array([vas]), np.array([odi0]), np.array([odi]))[0]
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_rule_joins_change_the_result():
    args = (np.array([60.0]), np.array([50.0]), np.array([40.0]), np.array([30.0]))
    assert responder(*args, PRIMARY_RULE)[0] == 1.0
    assert responder(*args, ResponderRule(join="AND"))[0] == 0.0
    # VAS 10 mm = 16.7%: with OR between VAS criteria and a 10 mm threshold it passes
    assert responder(*args, ResponderRule(vas_mm=10, vas_join="OR", join="AND"))[0] == 1.0


def test_rule_describe_and_primary_flag():
    assert PRIMARY_RULE.is_primary
    assert not ResponderRule(vas_mm=30).is_primary
    assert "20 mm" in PRIMARY_RULE.describe() and "OR" in PRIMARY_RULE.describe()


def test_mcid():
    got = mcid_achieved(np.array([60, 60, 60, np.nan]), np.array([45, 46, 80, 10]), 15)
    assert got[:3].tolist() == [1.0, 0.0, 0.0] and math.isnan(got[3])


# ---------------------------------------------------------------- summaries and tests


def test_summarise_continuous_by_hand():
    s = stats.summarise_continuous([1, 2, 3, 4, np.nan], "A")
    assert (s.n, s.mean, s.median, s.q1, s.q3, s.minimum, s.maximum) == (4, 2.5, 2.5, 1.75, 3.25, 1, 4)
    assert s.sd == pytest.approx(math.sqrt(5 / 3))
    # t(0.975, 3) = 3.182446; half-width = 3.182446 * sd / 2
    assert s.ci_high - s.mean == pytest.approx(3.182446305 * math.sqrt(5 / 3) / 2, rel=1e-8)


def test_summarise_edge_cases():
    assert stats.summarise_continuous([]).n == 0
    one = stats.summarise_continuous([7.0])
    assert one.n == 1 and one.mean == 7 and math.isnan(one.sd) and math.isnan(one.ci_low)
    b = stats.summarise_binary([1, 0, 1, np.nan])
    assert (b.n, b.responders, b.rate) == (3, 2, pytest.approx(2 / 3))
    assert math.isnan(stats.summarise_binary([]).rate)


def test_welch_needs_two_per_arm_and_variation():
    with pytest.raises(AnalysisError, match="at least 2 subjects"):
        stats.welch_t([1.0], [1.0, 2.0], "A", "B")
    with pytest.raises(AnalysisError, match="identical"):
        stats.welch_t([3.0, 3.0], [3.0, 3.0], "A", "B")
    c = stats.welch_t([1, 2, 3], [1, 2, 3], "A", "B")
    assert c.estimate == 0 and c.p_value == pytest.approx(1.0)


def test_wilson_zero_and_all_events_stay_in_unit_interval():
    assert stats.wilson_ci(0, 10)[0] == 0.0
    assert stats.wilson_ci(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in stats.wilson_ci(0, 0))


def test_compare_binary_zero_events_uses_haldane_and_says_so():
    rd, rr, odds = stats.compare_binary(0, 10, 3, 10, "A", "B", "fisher")
    assert rd.estimate == pytest.approx(-0.3)
    assert rr.estimate == pytest.approx((0.5 / 11) / (3.5 / 11))
    assert any("0.5 added" in n for n in rr.notes)
    assert odds.test == "Fisher's exact test"


def test_compare_binary_rejects_empty_arm_and_unknown_test():
    with pytest.raises(AnalysisError, match="No subject"):
        stats.compare_binary(0, 0, 3, 10, "A", "B")
    with pytest.raises(AnalysisError, match="Unknown test"):
        stats.compare_binary(1, 10, 3, 10, "A", "B", "magic")


def test_ancova_singular_design_is_explained():
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4], "arm": ["A", "A", "B", "B"], "x": [1.0, 1, 1, 1]})
    with pytest.raises(AnalysisError, match="cannot be estimated"):
        stats.ancova(frame, "y", "arm", "B", ("x",))


def test_ancova_without_covariates_equals_difference_in_means():
    frame = pd.DataFrame({"y": [1.0, 2, 3, 5, 7, 9], "arm": ["A"] * 3 + ["B"] * 3})
    fit = stats.ancova(frame, "y", "arm", "B")
    assert fit.contrasts[0].estimate == pytest.approx(2.0 - 7.0)
    assert {d["arm"]: d["lsmean"] for d in fit.lsmeans} == pytest.approx({"A": 2.0, "B": 7.0})


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(("p", "text"), [(0.7747, "0.775"), (0.0004, "<0.001"), (0.001, "0.001"),
                                         (float("nan"), "–"), (None, "–")])
def test_p_value_format(p, text):
    assert fmt.p_value(p) == text


def test_number_formats_use_true_minus_and_no_negative_zero():
    assert fmt.num(-1.25, 1) == "−1.2" or fmt.num(-1.25, 1) == "−1.3"
    assert fmt.num(-0.04, 1) == "0.0"
    assert fmt.est_ci(-5.5, -14.4, 3.3) == "−5.5 [−14.4, 3.3]"
    assert fmt.contrast_estimate("risk_difference", 0.0461, -0.129, 0.218) == "4.6 [−12.9, 21.8] pp"
    assert fmt.n_pct(37, 50) == "37/50 (74.0%)"


# ---------------------------------------------------------------- derivations on a hand-made trial


def test_change_from_baseline_by_hand(tiny_trial):
    d = derive.endpoint_data(tiny_trial, "VAS")
    m12 = d[d["visit_month"] == 12].set_index("subject_id")
    assert m12.loc["S1", "chg"] == -40 and m12.loc["S1", "pchg"] == pytest.approx(-50)
    assert m12.loc["S8", "chg"] == 6 and "S4" not in m12.index


def test_responders_on_hand_made_trial(tiny_trial):
    r = analyze(tiny_trial, Selection("RESP", 12.0))
    arms = {a.arm: (a.responders, a.n) for a in r.arms}
    assert arms == {"A": (2, 3), "B": (1, 4)}
    assert r.contrasts[0].estimate == pytest.approx(2 / 3 - 1 / 4)
    assert [c.measure for c in r.contrasts] == ["risk_difference", "relative_risk", "odds_ratio"]
    assert r.notes  # small cells: suggests Fisher


def test_welch_on_hand_made_trial(tiny_trial):
    r = analyze(tiny_trial, Selection("VAS", 12.0, method="welch"))
    means = {a.arm: a.mean for a in r.arms}
    assert means == pytest.approx({"A": -55 / 3, "B": -31 / 4})
    assert r.contrasts[0].estimate == pytest.approx(-55 / 3 + 31 / 4)
    assert r.n_total == 7


def test_filters_and_empty_subgroup(tiny_trial):
    r = analyze(tiny_trial, Selection("VAS", 12.0, filters=(SubgroupFilter("sex", ("F",)),)))
    assert {a.arm: a.n for a in r.arms} == {"A": 2, "B": 2}
    with pytest.raises(AnalysisError, match="No subject"):
        analyze(tiny_trial, Selection("VAS", 12.0, filters=(SubgroupFilter("sex", ("X",)),)))
    with pytest.raises(AnalysisError, match="No subject"):  # a categorical filter with no level chosen
        analyze(tiny_trial, Selection("VAS", 12.0, filters=(SubgroupFilter("sex", ()),)))
    with pytest.raises(SelectionError, match="not declared subject covariates"):
        analyze(tiny_trial, Selection("VAS", 12.0, filters=(SubgroupFilter("shoe", ("9",)),)))


def test_filter_that_empties_one_arm_is_explained(tiny_trial):
    site = ["X", "X", "X", "Y", "Y", "Y", "Y", "Y"]  # site X has arm A only
    trial = replace(
        tiny_trial,
        subjects=tiny_trial.subjects.assign(site=site),
        design=replace(tiny_trial.design, covariates=(*tiny_trial.design.covariates,
                                                      S.Covariate("site", "Site", "categorical"))),
        source="tiny+site",
    )
    one_arm = (SubgroupFilter("site", ("X",)),)
    with pytest.raises(AnalysisError, match=r"at least 2 subjects|No subject"):
        analyze(trial, Selection("VAS", 12.0, filters=one_arm))


def test_filters_and_adjustments_take_declared_covariates_only(tiny_trial):
    """An attack: a filter on the subject id selects named patients; differencing two such
    selections gives one patient's value."""
    for column in ("subject_id", "arm", "pop_all"):
        with pytest.raises(SelectionError, match="not declared subject covariates"):
            analyze(tiny_trial, Selection("VAS", 12.0, filters=(SubgroupFilter(column, ("S1",)),)))
        with pytest.raises(SelectionError, match="not declared subject covariates"):
            analyze(tiny_trial, Selection("VAS", 12.0, method="ancova", covariates=(column,)))
        with pytest.raises(SelectionError, match="not declared subject covariates"):
            derive.select_subjects(tiny_trial, None, (SubgroupFilter(column, ("S1",)),))
    assert derive.covariate_columns(tiny_trial) == ("sex",)


def test_filter_parse():
    assert SubgroupFilter.parse("sex=Female|Male").values == ("Female", "Male")
    f = SubgroupFilter.parse("age=30..")
    assert (f.low, f.high) == (30.0, None)
    with pytest.raises(SelectionError):
        SubgroupFilter.parse("age")
    with pytest.raises(SelectionError):
        SubgroupFilter.parse("age=a..b")


def test_visit_resolution(trial):
    assert derive.resolve_visit(trial, "Month 12") == 12.0
    assert derive.resolve_visit(trial, "month 12") == 12.0
    assert derive.resolve_visit(trial, "12") == 12.0
    with pytest.raises(SelectionError, match="Unknown visit"):
        derive.resolve_visit(trial, "Week 99")


def test_selection_errors(trial):
    with pytest.raises(SelectionError, match="population"):
        analyze(trial, Selection("VAS", 12.0, population="NOPE"))
    with pytest.raises(SelectionError, match="does not apply"):
        analyze(trial, Selection("VAS", 12.0, method="fisher"))
    with pytest.raises(AnalysisError, match="no data at Month 24"):
        analyze(trial, Selection("MRIT2", 24.0))
    with pytest.raises(AnalysisError, match="baseline visit"):
        analyze(trial, Selection("VAS", 0.0, method="ancova"))


def test_baseline_visit_analyses_observed_value(trial):
    r = analyze(trial, Selection("VAS", 0.0))
    assert r.measure == "aval" and r.notes


def test_endpoint_catalogue(trial):
    assert available_endpoints(trial) == ["VAS", "ODI", "SF36PCS", "SF36MCS", "MRIT2", "RESP",
                                          "MCID_VAS", "MCID_ODI", "HLA1", "HLA2", "DSA"]
    assert visits_with_data(trial, "MRIT2") == [0.0, 12.0]
    assert visits_with_data(trial, "RESP") == [1.0, 3.0, 6.0, 12.0, 24.0]
    assert visits_with_data(trial, "HLA1") == [0.0, 6.0]


def test_over_time_has_every_arm_and_visit(trial):
    frame = over_time(trial, Selection("VAS", measure="aval"))
    assert len(frame) == 12 and set(frame["arm"]) == {"BM-MSC", "Sham"}
    assert (frame["ci_low"] <= frame["estimate"]).all() and (frame["estimate"] <= frame["ci_high"]).all()
    binary = over_time(trial, Selection("RESP"))
    assert binary["estimate"].between(0, 1).all()
