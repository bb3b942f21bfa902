"""Stratified and model-based binary comparisons (:mod:`respine.stats.stratified`) against outside answers.

Sources
-------
* R Core Team. ``?mantelhaen.test`` examples: the "Penicillin and rabbits" table (Agresti 1990,
  pp. 231-237) and ``datasets::UCBAdmissions``; printed output of ``mantelhaen.test(Rabbits)`` and
  ``mantelhaen.test(UCBAdmissions)`` (R 4.x).
* Rothman KJ, Greenland S, Lash TL. Modern Epidemiology, 3rd ed. 2008, Table 15-1 (tolbutamide,
  UGDP); the Mantel-Haenszel results as stored by metafor's test suite
  (wviechtb/metafor, tests/testthat/test_analysis_example_rothman2008.r, ``rma.mh``).
* Colditz GA et al. JAMA 1994;271:698-702, the 13 BCG trials (``metafor::dat.bcg``); MH risk
  difference and log odds ratio as checked by metafor against Stata's ``metan``
  (tests/testthat/test_misc_metan_vs_rma.mh_with_dat.bcg.r). metafor's z for the risk
  difference (-11.4708) uses Sato's variance, so it checks the variance to 6 digits.
* statsmodels ``StratifiedTable`` (MH odds ratio, RBG CI, CMH test), ``GLM``/``Logit`` and the
  formula API (logistic regression), ``GEE`` via the formula API, and GLM with cluster-robust SEs.
* Closed forms: a saturated logistic model reproduces the crude odds ratio with Woolf's SE; with
  complete data a saturated GEE reproduces each visit's crude odds ratio, and its robust SE is
  Woolf's, whatever the working correlation.

Tolerances: values printed by R use half a unit in the last printed digit; values published to
four decimals use 5e-5; closed forms and independent implementations of the same closed form use a
relative 1e-9; iterative fits (IRLS, GEE) compared across implementations use a relative 1e-6.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable

from respine import derive
from respine.errors import AnalysisError
from respine.stats.stratified import cmh_odds_ratio, cmh_risk_difference, gee_responder, logistic_adjusted

REL = 1e-9
FIT = 1e-6
PUB4 = 5e-5


def frame_from_counts(strata: dict[str, tuple[int, int, int, int]], arm: str = "T",
                      reference: str = "C") -> pd.DataFrame:
    """One row per subject from per-stratum counts (responders arm, n arm, responders ref, n ref)."""
    rows = []
    for s, (x1, n1, x2, n2) in strata.items():
        rows += [(arm, 1, s)] * x1 + [(arm, 0, s)] * (n1 - x1)
        rows += [(reference, 1, s)] * x2 + [(reference, 0, s)] * (n2 - x2)
    return pd.DataFrame(rows, columns=["arm", "resp", "stratum"])


def sm_table(strata: dict[str, tuple[int, int, int, int]]) -> StratifiedTable:
    t = np.array([[[x1, n1 - x1], [x2, n2 - x2]] for x1, n1, x2, n2 in strata.values()], float)
    return StratifiedTable(t.transpose(1, 2, 0))


def rd(frame, **kw):
    return cmh_risk_difference(frame, "arm", "resp", "stratum", "T", "C", **kw)


def odds(frame, **kw):
    return cmh_odds_ratio(frame, "arm", "resp", "stratum", "T", "C", **kw)


# R: Rabbits <- array(c(0, 0, 6, 5,  3, 0, 3, 6,  6, 2, 0, 4,  5, 6, 1, 0,  2, 5, 0, 0),
#      dim = c(2, 2, 5), dimnames = list(Delay = c("None", "1.5h"), Response = c("Cured", "Died"),
#      Penicillin.Level = c("1/8", "1/4", "1/2", "1", "4")))
# Arm "T" = no delay, reference "C" = 1.5 h delay, response = cured. (cured None, n None, cured 1.5h, n 1.5h)
RABBITS = {"1/8": (0, 6, 0, 5), "1/4": (3, 6, 0, 6), "1/2": (6, 6, 2, 6), "1": (5, 6, 6, 6),
           "4": (2, 2, 5, 5)}

# datasets::UCBAdmissions by department: (admitted male, applied male, admitted female, applied female)
UCB = {"A": (512, 825, 89, 108), "B": (353, 560, 17, 25), "C": (120, 325, 202, 593),
       "D": (138, 417, 131, 375), "E": (53, 191, 94, 393), "F": (22, 373, 24, 341)}

# Rothman, Greenland & Lash 2008, Table 15-1: deaths among tolbutamide (T) and placebo (C) by age.
ROTHMAN = {"<55": (8, 106, 5, 120), "55+": (22, 98, 16, 85)}

# metafor::dat.bcg: (tpos, tpos + tneg, cpos, cpos + cneg) for the 13 trials.
BCG = {1: (4, 123, 11, 139), 2: (6, 306, 29, 303), 3: (3, 231, 11, 220), 4: (62, 13598, 248, 12867),
       5: (33, 5069, 47, 5808), 6: (180, 1541, 372, 1451), 7: (8, 2545, 10, 629),
       8: (505, 88391, 499, 88391), 9: (29, 7499, 45, 7277), 10: (17, 1716, 65, 1665),
       11: (186, 50634, 141, 27338), 12: (5, 2498, 3, 2341), 13: (27, 16913, 29, 17854)}

# A 2-stratum table small enough to compute by hand (see the test below).
HAND = {"A": (3, 5, 1, 5), "B": (4, 6, 2, 4)}


# ======================================================================= Mantel-Haenszel OR


@pytest.mark.reference
def test_mh_odds_ratio_matches_r_mantelhaen_test_on_rabbits():
    # R: mantelhaen.test(Rabbits)
    #   Mantel-Haenszel X-squared = 3.9286, df = 1, p-value = 0.04747
    #   95 percent confidence interval: 1.026713 47.725133
    #   common odds ratio 7
    c = odds(frame_from_counts(RABBITS))
    assert c.estimate == pytest.approx(7.0, abs=5e-7)
    assert c.ci_low == pytest.approx(1.026713, abs=5e-7)
    assert c.ci_high == pytest.approx(47.725133, abs=5e-7)
    assert c.p_value == pytest.approx(0.04747, abs=5e-6)
    assert c.measure == "odds_ratio" and "continuity" in c.test
    # statsmodels, an independent implementation of the same estimators
    st = sm_table(RABBITS)
    assert c.estimate == pytest.approx(st.oddsratio_pooled, rel=REL)
    assert c.se == pytest.approx(st.logodds_pooled_se, rel=REL)
    assert (c.ci_low, c.ci_high) == pytest.approx(st.oddsratio_pooled_confint(), rel=REL)
    assert c.p_value == pytest.approx(st.test_null_odds(correction=True).pvalue, rel=REL)


@pytest.mark.reference
def test_mh_odds_ratio_matches_r_on_ucb_admissions():
    # R: mantelhaen.test(UCBAdmissions)
    #   Mantel-Haenszel X-squared = 1.4269, df = 1, p-value = 0.2323
    #   95 percent confidence interval: 0.7719074 1.0603298
    #   common odds ratio 0.9046968
    # R: mantelhaen.test(UCBAdmissions, correct = FALSE)
    #   Mantel-Haenszel X-squared = 1.5246, df = 1, p-value = 0.2169
    frame = frame_from_counts(UCB)
    c = odds(frame)
    assert c.estimate == pytest.approx(0.9046968, abs=5e-8)
    assert (c.ci_low, c.ci_high) == pytest.approx((0.7719074, 1.0603298), abs=5e-8)
    assert c.p_value == pytest.approx(0.2323, abs=5e-5)
    assert odds(frame, correct=False).p_value == pytest.approx(0.2169, abs=5e-5)
    st = sm_table(UCB)
    assert odds(frame, correct=False).p_value == pytest.approx(st.test_null_odds(False).pvalue, rel=REL)
    stat = sps.chi2.isf(c.p_value, 1)
    assert stat == pytest.approx(1.4269, abs=5e-5)
    assert sps.chi2.isf(odds(frame, correct=False).p_value, 1) == pytest.approx(1.5246, abs=5e-5)


@pytest.mark.reference
def test_mh_odds_ratio_matches_rothman_table_15_1():
    # metafor: rma.mh(ai, bi, ci, di, measure = "OR", correct = FALSE, level = 90) on Table 15-1:
    #   confint(res, transf = exp): 1.4031 [0.8411, 2.3409]; MH = 1.1914, MHp = 0.2750
    c = odds(frame_from_counts(ROTHMAN), level=0.90, correct=False)
    assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx((1.4031, 0.8411, 2.3409), abs=PUB4)
    assert sps.chi2.isf(c.p_value, 1) == pytest.approx(1.1914, abs=PUB4)
    assert c.p_value == pytest.approx(0.2750, abs=PUB4)


@pytest.mark.reference
def test_mh_log_odds_ratio_matches_stata_metan_on_bcg():
    # metafor vs Stata: metan tpos tneg cpos cneg, fixed nograph or log -> -0.4734 [-0.5538, -0.3930]
    c = odds(frame_from_counts(BCG))
    assert math.log(c.estimate) == pytest.approx(-0.4734, abs=PUB4)
    assert (math.log(c.ci_low), math.log(c.ci_high)) == pytest.approx((-0.5538, -0.3930), abs=PUB4)


@pytest.mark.reference
def test_mh_odds_ratio_by_hand_on_two_strata():
    # Stratum A: T 3/5, C 1/5 -> a=3 b=2 c=1 d=4, N=10; stratum B: T 4/6, C 2/4 -> a=4 b=2 c=2 d=2, N=10.
    # R_k = ad/N: 1.2, 0.8 (sum 2.0); S_k = bc/N: 0.2, 0.4 (sum 0.6); OR = 2.0/0.6 = 10/3.
    # RBG: P_k=(a+d)/N = 0.7, 0.6; Q_k=(b+c)/N = 0.3, 0.4.
    #   sum PR/(2R^2)          = (0.84+0.48)/8            = 0.165
    #   sum (PS+QR)/(2 R S)    = (0.14+0.36+0.24+0.32)/2.4 = 1.06/2.4
    #   sum QS/(2 S^2)         = (0.06+0.16)/0.72          = 0.22/0.72
    # CMH: E(a_k) = n1 m1/N = 2, 3.6; V_k = n1 n2 m1 m0/(N^2 (N-1)) = 600/900, 576/900.
    #   sum(a - E) = 1.4, sum V = 1176/900; X2 = 1.96/(1176/900) = 1.5; corrected (0.9^2)/(1176/900).
    frame = frame_from_counts(HAND)
    c = odds(frame, correct=False)
    var = 0.165 + 1.06 / 2.4 + 0.22 / 0.72
    assert c.estimate == pytest.approx(10 / 3, rel=REL)
    assert c.se == pytest.approx(math.sqrt(var), rel=REL)
    z = sps.norm.ppf(0.975)
    assert c.ci_low == pytest.approx(10 / 3 * math.exp(-z * math.sqrt(var)), rel=REL)
    assert c.p_value == pytest.approx(sps.chi2.sf(1.5, 1), rel=REL)
    assert odds(frame).p_value == pytest.approx(sps.chi2.sf(0.81 / (1176 / 900), 1), rel=REL)


# ======================================================================= Mantel-Haenszel RD


@pytest.mark.reference
def test_mh_risk_difference_by_hand_on_two_strata():
    # Weights w_k = n1 n2 / N: A 25/10 = 2.5, B 24/10 = 2.4 (sum 4.9).
    # RD = sum (x1 n2 - x2 n1)/N / sum w = ((15 - 5)/10 + (16 - 12)/10) / 4.9 = 1.4 / 4.9 = 2/7.
    # Sato: P_k = (n1^2 x2 - n2^2 x1 + n1 n2 (n2 - n1)/2) / N^2
    #         A: (25*1 - 25*3 + 0)/100 = -0.50;  B: (36*2 - 16*4 + 24*(-2)/2)/100 = -0.16
    #       Q_k = (x1 (n2 - x2) + x2 (n1 - x1)) / (2N)
    #         A: (3*4 + 1*2)/20 = 0.70;           B: (4*2 + 2*2)/20 = 0.60
    # Var = (RD * sum P + sum Q) / (sum w)^2 = (2/7 * -0.66 + 1.3) / 4.9^2 = (7.78/7) / 24.01
    c = rd(frame_from_counts(HAND), correct=False)
    var = (7.78 / 7) / 24.01
    z = sps.norm.ppf(0.975)
    assert c.estimate == pytest.approx(2 / 7, rel=REL)
    assert c.se == pytest.approx(math.sqrt(var), rel=REL)
    assert (c.ci_low, c.ci_high) == pytest.approx((2 / 7 - z * math.sqrt(var), 2 / 7 + z * math.sqrt(var)),
                                                 rel=REL)
    assert c.p_value == pytest.approx(sps.chi2.sf(1.5, 1), rel=REL)  # the CMH test, as for the OR
    assert c.measure == "risk_difference" and c.test == "Cochran-Mantel-Haenszel"


@pytest.mark.reference
def test_mh_risk_difference_in_one_stratum_is_the_binomial_wald_difference():
    # With a single stratum Sato's variance reduces to p1(1-p1)/n1 + p2(1-p2)/n2.
    for x1, n1, x2, n2 in [(3, 5, 1, 5), (17, 40, 9, 35), (1, 12, 0, 9)]:
        c = rd(frame_from_counts({"only": (x1, n1, x2, n2)}))
        p1, p2 = x1 / n1, x2 / n2
        assert c.estimate == pytest.approx(p1 - p2, rel=REL)
        assert c.se == pytest.approx(math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2), rel=REL)
        assert any("one stratum" in n for n in c.notes)


@pytest.mark.reference
def test_mh_risk_difference_matches_rothman_table_15_1():
    # metafor: rma.mh(ai, bi, ci, di, measure = "RD", level = 90) on Table 15-1 (Sato variance):
    #   coef 0.0349, ci.lb -0.0176, ci.ub 0.0874 (0.088 printed in the chapter)
    c = rd(frame_from_counts(ROTHMAN), level=0.90)
    assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx((0.0349, -0.0176, 0.0874), abs=PUB4)


@pytest.mark.reference
def test_mh_risk_difference_matches_metafor_and_stata_on_bcg():
    # metafor: rma.mh(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
    #   beta -0.0033, ci.lb -0.0039, ci.ub -0.0027, zval -11.4708 (Sato variance; Stata 11.56 with GR 1985)
    c = rd(frame_from_counts(BCG))
    assert (c.estimate, c.ci_low, c.ci_high) == pytest.approx((-0.0033, -0.0039, -0.0027), abs=PUB4)
    assert c.estimate / c.se == pytest.approx(-11.4708, abs=PUB4)


# ======================================================================= MH edge cases


@pytest.mark.reference
def test_zero_cells_need_no_correction_and_match_statsmodels():
    strata = {"a": (0, 8, 3, 9), "b": (4, 7, 0, 6), "c": (5, 10, 2, 10)}
    c = odds(frame_from_counts(strata))
    st = sm_table(strata)
    assert c.estimate == pytest.approx(st.oddsratio_pooled, rel=REL)
    assert c.se == pytest.approx(st.logodds_pooled_se, rel=REL)
    assert c.p_value == pytest.approx(st.test_null_odds(correction=True).pvalue, rel=REL)
    r = rd(frame_from_counts(strata))
    assert math.isfinite(r.se) and r.ci_low < r.estimate < r.ci_high


def test_stratum_with_one_arm_contributes_nothing_and_is_noted():
    with_single = {**HAND, "C-only": (0, 0, 3, 4), "T-only": (2, 3, 0, 0)}
    frame = frame_from_counts(with_single)
    for fn in (rd, odds):
        c, ref = fn(frame), fn(frame_from_counts(HAND))
        assert (c.estimate, c.se, c.ci_low, c.ci_high, c.p_value) == pytest.approx(
            (ref.estimate, ref.se, ref.ci_low, ref.ci_high, ref.p_value), rel=REL)
        single = [n for n in c.notes if "one arm only" in n]
        assert len(single) == 2 and any("C-only" in n for n in single)


def test_all_responders_is_a_clear_error():
    frame = frame_from_counts({"a": (5, 5, 4, 4), "b": (3, 3, 6, 6)})
    for fn in (rd, odds):
        with pytest.raises(AnalysisError, match="Every compared subject is a responder"):
            fn(frame)


def test_empty_and_unusable_inputs_are_clear_errors():
    empty = pd.DataFrame(columns=["arm", "resp", "stratum"])
    for fn in (rd, odds):
        with pytest.raises(AnalysisError, match="selection is empty"):
            fn(empty)
        with pytest.raises(AnalysisError, match="No subject of arm 'C'"):
            fn(frame_from_counts({"a": (2, 4, 0, 0)}))
        with pytest.raises(AnalysisError, match="No stratum"):
            fn(frame_from_counts({"a": (2, 4, 0, 0), "b": (0, 0, 1, 3)}))
        with pytest.raises(AnalysisError, match="not in the data"):
            cmh_odds_ratio(empty, "arm", "resp", "site", "T", "C")
    bad = frame_from_counts(HAND).assign(resp=lambda d: d["resp"] * 2)
    with pytest.raises(AnalysisError, match=r"0 \(non-responder\) or 1"):
        rd(bad)
    with pytest.raises(AnalysisError, match="both 'T'"):
        cmh_risk_difference(bad, "arm", "resp", "stratum", "T", "T")


def test_missing_values_are_dropped_with_a_note():
    frame = frame_from_counts(HAND)
    extra = pd.DataFrame({"arm": ["T", "C", None], "resp": [np.nan, 1, 1], "stratum": ["A", None, "A"]})
    c = rd(pd.concat([frame, extra], ignore_index=True))
    assert c.estimate == pytest.approx(2 / 7, rel=REL)
    assert any("2 record(s) with a missing value" in n for n in c.notes)


def test_infinite_odds_ratio_and_separated_risk_difference_have_no_ci():
    frame = frame_from_counts({"a": (4, 4, 0, 3), "b": (2, 2, 0, 5)})  # every T responds, no C does
    c = odds(frame)
    assert c.estimate == math.inf and math.isnan(c.ci_low) and math.isnan(c.ci_high)
    assert 0 < c.p_value < 0.05 and any("infinite" in n for n in c.notes)
    r = rd(frame)
    assert r.estimate == pytest.approx(1.0) and math.isnan(r.ci_low)
    assert any("variance estimate is zero" in n for n in r.notes)


# ======================================================================= logistic regression


def _trial_like(seed: int = 1, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "arm": rng.choice(["Active", "Sham"], n),
        "sex": rng.choice(["F", "M"], n),
        "country": rng.choice(["France", "Spain", "Italy"], n),
        "age": rng.normal(45, 9, n).round(),
    })
    eta = -0.3 + 0.6 * (d["arm"] == "Active") + 0.4 * (d["sex"] == "M") - 0.02 * (d["age"] - 45)
    d["resp"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return d


@pytest.mark.reference
def test_logistic_without_covariates_is_the_crude_odds_ratio_with_woolf_se():
    d = _trial_like()
    (c,) = logistic_adjusted(d, "resp", "arm", "Sham")
    t = pd.crosstab(d["arm"], d["resp"])
    a, b = t.loc["Active", 1], t.loc["Active", 0]
    cc, dd = t.loc["Sham", 1], t.loc["Sham", 0]
    assert c.estimate == pytest.approx(a * dd / (b * cc), rel=FIT)
    assert c.se == pytest.approx(math.sqrt(1 / a + 1 / b + 1 / cc + 1 / dd), rel=FIT)
    assert c.p_value == pytest.approx(2 * sps.norm.sf(abs(math.log(c.estimate) / c.se)), rel=REL)


@pytest.mark.reference
def test_logistic_adjusted_matches_statsmodels_formula_glm_and_logit():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    d = _trial_like(seed=7)
    (c,) = logistic_adjusted(d, "resp", "arm", "Sham", ("sex", "country", "age"), level=0.9)
    fit = smf.glm("resp ~ C(arm, Treatment('Sham')) + C(sex) + C(country) + age", data=d,
                  family=sm.families.Binomial()).fit()
    name = "C(arm, Treatment('Sham'))[T.Active]"
    beta, se = fit.params[name], fit.bse[name]
    lo, hi = np.exp(fit.conf_int(alpha=0.10).loc[name])
    assert (c.estimate, c.se, c.ci_low, c.ci_high) == pytest.approx((math.exp(beta), se, lo, hi), rel=FIT)
    assert c.p_value == pytest.approx(fit.pvalues[name], rel=FIT)
    logit = smf.logit("resp ~ C(arm, Treatment('Sham')) + C(sex) + C(country) + age", data=d).fit(disp=0)
    assert c.estimate == pytest.approx(math.exp(logit.params[name]), rel=FIT)
    assert c.se == pytest.approx(logit.bse[name], rel=FIT)
    assert c.arm == "Active" and c.reference == "Sham" and c.test == "Logistic regression (Wald)"


def test_logistic_three_arms_follow_arm_order():
    d = _trial_like(seed=3)
    d.loc[d.index[::3], "arm"] = "Low dose"
    out = logistic_adjusted(d, "resp", "arm", "Sham", ("sex",), arm_order=("Low dose", "Active", "Sham"))
    assert [c.arm for c in out] == ["Low dose", "Active"]


def test_logistic_separation_is_a_clear_error():
    d = _trial_like(seed=2)
    d.loc[d["country"] == "Italy", "resp"] = 1  # quasi-complete separation by a covariate level
    with pytest.raises(AnalysisError, match=r"separation.*country = Italy \(all"):
        logistic_adjusted(d, "resp", "arm", "Sham", ("country",))
    d2 = _trial_like(seed=2)
    d2["resp"] = (d2["arm"] == "Active").astype(int)  # complete separation by arm
    with pytest.raises(AnalysisError, match="separation"):
        logistic_adjusted(d2, "resp", "arm", "Sham")


def test_logistic_other_failures_are_clear_errors(monkeypatch):
    d = _trial_like()
    with pytest.raises(AnalysisError, match="selection is empty"):
        logistic_adjusted(d.iloc[:0], "resp", "arm", "Sham")
    with pytest.raises(AnalysisError, match="Every subject is a responder"):
        logistic_adjusted(d.assign(resp=1), "resp", "arm", "Sham")
    with pytest.raises(AnalysisError, match="constant or duplicate"):
        logistic_adjusted(d.assign(age2=d["age"] * 2), "resp", "arm", "Sham", ("age", "age2"))
    with pytest.raises(AnalysisError, match="reference arm 'Placebo'"):
        logistic_adjusted(d, "resp", "arm", "Placebo")
    with pytest.raises(AnalysisError, match="not in the data"):
        logistic_adjusted(d, "resp", "arm", "Sham", ("bmi",))

    import statsmodels.genmod.generalized_linear_model as glm

    original = glm.GLM.fit

    def not_converged(self, *args, **kwargs):
        res = original(self, *args, **kwargs)
        res.converged = False
        return res

    monkeypatch.setattr(glm.GLM, "fit", not_converged)
    with pytest.raises(AnalysisError, match="did not converge"):
        logistic_adjusted(d, "resp", "arm", "Sham", ("sex",))


# ======================================================================= GEE


def _long(seed: int = 11, n: int = 160, visits=(1, 3, 6, 12), drop: float = 0.0) -> pd.DataFrame:
    """Correlated binary responses (a subject-level random effect) over visits."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["Active", "Sham"], n)
    sex = rng.choice(["F", "M"], n)
    u = rng.normal(0, 1.2, n)
    rows = []
    for i in range(n):
        for j, v in enumerate(visits):
            eta = -0.4 + 0.15 * j + (0.5 + 0.1 * j) * (arm[i] == "Active") + 0.3 * (sex[i] == "M") + u[i]
            if rng.random() < drop:
                continue
            rows.append((f"S{i:03d}", v, arm[i], sex[i], int(rng.random() < 1 / (1 + math.exp(-eta)))))
    return pd.DataFrame(rows, columns=["sid", "visit", "arm", "sex", "resp"])


@pytest.mark.reference
@pytest.mark.parametrize("correlation", ["exchangeable", "unstructured", "independence"])
def test_gee_on_complete_data_gives_crude_odds_ratios_and_woolf_ses(correlation):
    # Saturated arm-by-visit mean model and complete data: the GEE solution is the cell proportions
    # whatever the working correlation, and the sandwich variance of each logit is 1/(n p (1-p)).
    d = _long()
    out = gee_responder(d, "sid", "visit", "arm", "resp", "Sham", correlation=correlation)
    assert list(out.columns) == ["arm", "reference", "visit", "estimate", "se", "ci_low", "ci_high",
                                 "p_value"]
    assert list(out["visit"]) == [1, 3, 6, 12] and set(out["arm"]) == {"Active"}
    for _, row in out.iterrows():
        at = d[d["visit"] == row["visit"]]
        t = pd.crosstab(at["arm"], at["resp"])
        a, b, c, dd = t.loc["Active", 1], t.loc["Active", 0], t.loc["Sham", 1], t.loc["Sham", 0]
        assert row["estimate"] == pytest.approx(a * dd / (b * c), rel=FIT)
        assert row["se"] == pytest.approx(math.sqrt(1 / a + 1 / b + 1 / c + 1 / dd), rel=FIT)
    assert out.attrs["n_subjects"] == 160 and correlation in out.attrs["test"]


@pytest.mark.reference
def test_gee_exchangeable_with_missing_visits_and_a_covariate_matches_statsmodels_formula():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    d = _long(seed=5, drop=0.2)
    out = gee_responder(d, "sid", "visit", "arm", "resp", "Sham", covariates=("sex",), level=0.9)
    fit = smf.gee("resp ~ C(visit) * C(arm, Treatment('Sham')) + C(sex)", groups="sid", data=d,
                  family=sm.families.Binomial(), cov_struct=sm.cov_struct.Exchangeable()).fit()
    names = list(fit.params.index)
    cov = fit.cov_params().to_numpy()
    main = "C(arm, Treatment('Sham'))[T.Active]"
    z = sps.norm.ppf(0.95)
    for _, row in out.iterrows():
        L = np.zeros(len(names))
        L[names.index(main)] = 1
        inter = f"C(visit)[T.{row['visit']}]:{main}"
        if inter in names:
            L[names.index(inter)] = 1
        est, se = float(L @ fit.params.to_numpy()), math.sqrt(L @ cov @ L)
        assert (row["estimate"], row["se"]) == pytest.approx((math.exp(est), se), rel=FIT)
        assert row["ci_low"] == pytest.approx(math.exp(est - z * se), rel=FIT)
        assert row["p_value"] == pytest.approx(2 * sps.norm.sf(abs(est / se)), rel=1e-5)


@pytest.mark.reference
def test_gee_independence_equals_glm_with_uncorrected_cluster_robust_se():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    d = _long(seed=9, drop=0.25)
    out = gee_responder(d, "sid", "visit", "arm", "resp", "Sham", correlation="independence",
                        covariates=("sex",))
    d = d.assign(active=(d["arm"] == "Active").astype(float))
    terms = " + ".join(f"I(active * (visit == {v}))" for v in (1, 3, 6, 12))
    groups = pd.factorize(d["sid"])[0]
    fit = smf.glm(f"resp ~ 0 + C(visit) + {terms} + C(sex)", data=d, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    for (_, row), v in zip(out.iterrows(), (1, 3, 6, 12), strict=True):
        name = f"I(active * (visit == {v}))"
        assert (row["estimate"], row["se"]) == pytest.approx((math.exp(fit.params[name]), fit.bse[name]),
                                                             rel=FIT)


def test_gee_failures_are_clear_errors(monkeypatch):
    d = _long()
    with pytest.raises(AnalysisError, match="selection is empty"):
        gee_responder(d.iloc[:0], "sid", "visit", "arm", "resp", "Sham")
    with pytest.raises(AnalysisError, match="Unknown working correlation"):
        gee_responder(d, "sid", "visit", "arm", "resp", "Sham", correlation="ar1")
    allresp = d.copy()
    allresp.loc[(allresp["visit"] == 3) & (allresp["arm"] == "Sham"), "resp"] = 1
    with pytest.raises(AnalysisError, match="At visit 3 every subject of arm 'Sham'"):
        gee_responder(allresp, "sid", "visit", "arm", "resp", "Sham")
    with pytest.raises(AnalysisError, match="more than one record"):
        gee_responder(pd.concat([d, d.iloc[:1]]), "sid", "visit", "arm", "resp", "Sham")
    with pytest.raises(AnalysisError, match="no data at visit 6"):
        gee_responder(d[~((d["visit"] == 6) & (d["arm"] == "Active"))], "sid", "visit", "arm", "resp", "Sham")
    sep = d.copy()
    sep.loc[sep["sex"] == "M", "resp"] = 1
    with pytest.raises(AnalysisError, match="separation"):
        gee_responder(sep, "sid", "visit", "arm", "resp", "Sham", covariates=("sex",))

    from statsmodels.genmod.generalized_estimating_equations import GEE
    from statsmodels.tools.sm_exceptions import IterationLimitWarning

    original = GEE.fit

    def warns(self, *args, **kwargs):
        warnings.warn("Iteration limit reached prior to convergence", IterationLimitWarning, stacklevel=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GEE, "fit", warns)
    with pytest.raises(AnalysisError, match="GEE model did not converge"):
        gee_responder(d, "sid", "visit", "arm", "resp", "Sham")


# ======================================================================= the RESPINE twin


def test_methods_run_on_the_respine_twin(trial):
    """Month-12 responders (MITT) stratified by country; GEE over all post-baseline visits."""
    resp = derive.endpoint_data(trial, "RESP", "MITT")
    subjects = derive.subject_table(trial).set_index("subject_id")
    resp["country"] = resp["subject_id"].map(subjects["country"])
    resp["sex"] = resp["subject_id"].map(subjects["sex"])
    m12 = resp[resp["visit_month"] == 12]
    r = cmh_risk_difference(m12, "arm", "value", "country", "BM-MSC", "Sham")
    o = cmh_odds_ratio(m12, "arm", "value", "country", "BM-MSC", "Sham")
    (lg,) = logistic_adjusted(m12, "value", "arm", "Sham", ("country",))
    assert -1 < r.ci_low < r.estimate < r.ci_high < 1 and 0 < r.p_value <= 1
    assert o.ci_low < o.estimate < o.ci_high and o.p_value == r.p_value
    assert lg.estimate == pytest.approx(o.estimate, rel=0.05)  # MH and logistic agree closely here
    gee = gee_responder(resp, "subject_id", "visit_month", "arm", "value", "Sham")
    assert list(gee["visit"]) == [1.0, 3.0, 6.0, 12.0, 24.0]
    ind = gee_responder(resp, "subject_id", "visit_month", "arm", "value", "Sham", correlation="independence")
    # independence GEE at month 12 = the crude odds ratio of the published 37/50 vs 34/49 responders
    assert ind.loc[ind["visit"] == 12, "estimate"].item() == pytest.approx((37 / 13) / (34 / 15), rel=FIT)
    un = gee_responder(resp, "subject_id", "visit_month", "arm", "value", "Sham", correlation="unstructured",
                       covariates=("sex",))
    assert np.isfinite(un[["estimate", "se", "p_value"]].to_numpy()).all()
