"""Proportions and ranks: Miettinen-Nurminen (stratified too), Clopper-Pearson, the exact
conditional odds ratio, Breslow-Day with Tarone's correction and van Elteren's test.

Each stored value names its source: a published table (Newcombe 1998; Fagerland, Lydersen and
Laake 2017), documentation that prints a package's output, or an R call run here (R 4.2.2; coin
1.4-2 from Debian's r-cran-coin).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats import nchypergeom_fisher

from respine import stats
from respine.errors import AnalysisError
from respine.stats import proportions as P
from respine.stats.nonparametric import mann_whitney_hodges_lehmann

# --- Miettinen-Nurminen ---------------------------------------------------------------------------

# Newcombe RG. Stat Med 1998;17:873-890, Table II, method 6 (Miettinen-Nurminen), examples
# 56/70 - 48/80, 9/10 - 3/10 and 10/10 - 0/20 (four decimals, as printed; the same values are the
# expectations of GSK-Biostatistics/cicalc tests/testthat/test-prop_ci_mn.R); and Fagerland MW,
# Lydersen S, Laake P. Statistical Analysis of Contingency Tables. CRC, 2017, chapter 4:
# MiettinenNurminen_asymptotic_score_CI_difference_2x2(matrix(c(0,16,15,57), 2, byrow=TRUE))
# prints "estimate = -0.2083 (95% CI -0.3164 to -0.0056)" (ocbe-uio/contingencytables,
# tests/testthat/test-ch4.R), rows being the groups: 0/16 - 15/72.
PUBLISHED_MN = [
    ((56, 70, 48, 80), (0.0528, 0.3382)),
    ((9, 10, 3, 10), (0.1700, 0.8406)),
    ((10, 10, 0, 20), (0.7156, 1.0000)),
    ((0, 16, 15, 72), (-0.3164, -0.0056)),
]


@pytest.mark.reference
@pytest.mark.parametrize(("counts", "limits"), PUBLISHED_MN)
def test_miettinen_nurminen_matches_the_published_intervals(counts, limits):
    assert stats.miettinen_nurminen_ci(*counts) == pytest.approx(limits, abs=5e-5)


def test_the_interval_is_where_the_score_statistic_is_within_z():
    low, high = P.miettinen_nurminen_ci(56, 70, 48, 80)
    z = sps.norm.ppf(0.975)
    assert P._mn_z(56, 70, 48, 80, low) == pytest.approx(z, abs=1e-9)
    assert P._mn_z(56, 70, 48, 80, high) == pytest.approx(-z, abs=1e-9)


@pytest.mark.reference
# Stratified, Mantel-Haenszel weights: the documented example of cicalc's ci_prop_diff_mn_strata
# (GSK-Biostatistics/cicalc, README): strata 7/10 - 5/10 and 5/10 - 4/10 (what its
# expand(c(9, 3, 7, 2), c(10, 10, 10, 10)) with alternating arms gives), printed
# "Weights: stratum1 = 5, stratum2 = 5 / Estimate: 0.15 / 95% Confidence Interval: (-0.1606, 0.4338)".
def test_stratified_miettinen_nurminen_matches_the_documented_example():
    result = stats.stratified_miettinen_nurminen([7, 5], [10, 10], [5, 4], [10, 10])
    assert result.weights == (5.0, 5.0) and result.estimate == pytest.approx(0.15)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.1606, 0.4338), abs=5e-5)


# The same method run in SAS (PROC FREQ COMMONRISKDIFF(CL=SCORE TEST=SCORE), margin -0.1), as the
# cicalc test of ci_prop_diff_mn_strata stores it, on R's set.seed(123); trt <- rep(1:2, each = 100);
# response <- rbinom(200, 1, .6); region <- 1 + rbinom(200, 1, .5); sex <- 1 + rbinom(200, 1, .5),
# whose counts by interaction(region, sex) R 4.2.2 gives as below: limits -0.16116, 0.10954;
# z = 1.05697, one-sided p = 0.14526. SAS's limits differ from the Mantel-Haenszel-weighted
# Miettinen-Nurminen statistic in the fifth decimal (that test allows 0.001, and 0.01 for z).
SAS_STRATA = ([13, 20, 15, 12], [26, 28, 26, 20], [15, 15, 20, 12], [23, 22, 33, 22])


@pytest.mark.reference
def test_stratified_miettinen_nurminen_agrees_with_sas_to_its_documented_tolerance():
    result = stats.stratified_miettinen_nurminen(*SAS_STRATA, null=-0.1)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.16116, 0.10954), abs=1e-3)
    assert result.z == pytest.approx(1.05697, rel=1e-2)
    assert sps.norm.sf(result.z) == pytest.approx(0.14526, rel=1e-2)


def test_one_stratum_is_the_unstratified_interval_and_empty_strata_are_counted():
    one = stats.stratified_miettinen_nurminen([56], [70], [48], [80])
    assert (one.ci_low, one.ci_high) == pytest.approx(stats.miettinen_nurminen_ci(56, 70, 48, 80), abs=1e-10)
    with_empty = stats.stratified_miettinen_nurminen([56, 3], [70, 5], [48, 0], [80, 0])
    assert with_empty.dropped == 1 and with_empty.ci_low == pytest.approx(one.ci_low, abs=1e-10)
    with pytest.raises(AnalysisError, match="both groups"):
        stats.stratified_miettinen_nurminen([3], [5], [0], [0])


# --- Clopper-Pearson -------------------------------------------------------------------------------

# binom.test(x, n)$conf.int, R 4.2.2
R_BINOM = [
    ((7, 34), (0.0870213054581, 0.3789777485397)),
    ((0, 10), (0.0, 0.308497107819)),
    ((10, 10), (0.691502892181, 1.0)),
    ((56, 70), (0.687264346104, 0.886119637968)),
]


@pytest.mark.reference
@pytest.mark.parametrize(("counts", "limits"), R_BINOM)
def test_clopper_pearson_matches_r_binom_test(counts, limits):
    assert stats.clopper_pearson_ci(*counts) == pytest.approx(limits, abs=1e-11)


def test_impossible_counts_say_what_is_wrong():
    with pytest.raises(AnalysisError, match="0 <= events <= subjects"):
        stats.clopper_pearson_ci(11, 10)
    with pytest.raises(AnalysisError, match="at least one subject"):
        stats.miettinen_nurminen_ci(0, 0, 1, 5)


# --- exact conditional odds ratio ------------------------------------------------------------------

# fisher.test(rbind(c(x1, n1 - x1), c(x2, n2 - x2)), conf.level = level): $estimate, $conf.int, R 4.2.2.
# R finds the limits with uniroot at its default tolerance, so its tail probabilities at them are
# 0.025 to about 1e-4 (at 396.19 the upper tail is 0.02505); the limits here solve the tails to
# machine precision (checked below), and agree with R to 0.25%.
R_FISHER = [
    ((9, 13, 4, 14, 0.95), (5.232650611165, 0.847208171687, 40.446562708115)),
    ((7, 34, 1, 34, 0.95), (8.328450003200, 0.973247719583, 396.187789872885)),
    ((56, 70, 48, 80, 0.90), (2.64919027064, 1.35329778202, 5.32605353824)),
]


@pytest.mark.reference
@pytest.mark.parametrize(("counts", "expected"), R_FISHER)
def test_exact_odds_ratio_matches_r_fisher_test(counts, expected):
    x1, n1, x2, n2, level = counts
    estimate, low, high = stats.exact_odds_ratio_ci(x1, n1, x2, n2, level)
    assert estimate == pytest.approx(expected[0], rel=2e-4)  # the conditional MLE, also found by uniroot
    assert (low, high) == pytest.approx(expected[1:], rel=2.5e-3)
    # the limits are where each one-sided exact tail is (1 - level) / 2
    total, row, column = n1 + n2, n1, x1 + x2
    assert nchypergeom_fisher.sf(x1 - 1, total, row, column, low) == pytest.approx((1 - level) / 2, abs=1e-10)
    assert nchypergeom_fisher.cdf(x1, total, row, column, high) == pytest.approx((1 - level) / 2, abs=1e-10)


# --- Breslow-Day -----------------------------------------------------------------------------------

# Fagerland, Lydersen and Laake (2017), chapter 10, smoking and lung cancer (Doll and Hill 1950):
# BreslowDay_homogeneity_test_stratified_2x2(n) with n[, , 1] = [647 622; 2 27],
# n[, , 2] = [41 28; 19 32] prints "The Breslow-Day test: P = 0.02292, T0 = 5.175 (df = 1)" (with
# Tarone's correction; ocbe-uio/contingencytables tests/testthat/test-ch10.R), and
# MantelHaenszel_estimate_stratified_2x2(n) "The Mantel-Haenszel estimate = 4.5239".
# Rows are the two groups, the first column the outcome counted: stratum 1 is 647 of 1269 against
# 2 of 29, stratum 2 is 41 of 69 against 19 of 51.
DOLL_HILL = ([647, 41], [1269, 69], [2, 19], [29, 51])


@pytest.mark.reference
def test_breslow_day_with_tarone_matches_the_published_example():
    result = stats.breslow_day(*DOLL_HILL)
    assert result.tarone and result.df == 1
    assert result.statistic == pytest.approx(5.175, abs=5e-4)
    assert result.p_value == pytest.approx(0.02292, abs=5e-6)
    assert result.common_odds_ratio == pytest.approx(4.5239, abs=5e-5)


def test_tarone_subtracts_a_non_negative_term_and_equal_odds_give_zero():
    plain = stats.breslow_day(*DOLL_HILL, tarone=False)
    assert plain.statistic >= stats.breslow_day(*DOLL_HILL).statistic
    same = stats.breslow_day([10, 20], [30, 60], [5, 10], [25, 50])  # the same table twice over
    assert same.statistic == pytest.approx(0.0, abs=1e-12) and same.p_value == pytest.approx(1.0)
    with pytest.raises(AnalysisError, match="two or more strata"):
        stats.breslow_day([1], [5], [2], [5])


# --- van Elteren -----------------------------------------------------------------------------------

# R 4.2.2, coin 1.4-2: with y, g = factor(..., levels = c("T", "R")), s as below,
#   independence_test(y ~ g | s, teststat = "scalar",
#     ytrafo = function(data) trafo(data, numeric_trafo = function(x) rank(x) / (length(x) + 1),
#                                   block = s))
# (mid-ranks within each stratum over N_k + 1: van Elteren's weights) gives statistic 3.06724632203,
# pvalue 0.00216040748077; wilcox.test(y ~ g, exact = FALSE, correct = FALSE) on stratum A alone
# gives p 0.0357608054208.
Y = [3.1, 4.5, 2.2, 5.0, 4.5, 1.0, 2.2, 3.0, 0.5,
     7, 8, 6.5, 9, 7, 6, 5.5, 7, 4,
     1, 2, 3, 2, 2, 0, 1, 1.5, 0.5]
G = ["T"] * 5 + ["R"] * 4 + ["T"] * 5 + ["R"] * 4 + ["T"] * 3 + ["R"] * 6
S = ["A"] * 9 + ["B"] * 9 + ["C"] * 9


@pytest.mark.reference
def test_van_elteren_matches_r_coin():
    result = stats.van_elteren(Y, G, S, "T", "R")
    assert result.z == pytest.approx(3.06724632203, abs=1e-10)
    assert result.p_value == pytest.approx(0.00216040748077, rel=1e-9)
    assert result.chi_square == pytest.approx(3.06724632203**2, rel=1e-9) and result.strata == 3


@pytest.mark.reference
def test_van_elteren_in_one_stratum_is_the_wilcoxon_test():
    result = stats.van_elteren(Y[:9], G[:9], S[:9], "T", "R")
    assert result.p_value == pytest.approx(0.0357608054208, rel=1e-9)
    wilcoxon = mann_whitney_hodges_lehmann(np.array(Y[:5]), np.array(Y[5:9]), exact=False, correct=False)
    assert result.p_value == pytest.approx(wilcoxon.p_value, rel=1e-9)


def test_van_elteren_counts_strata_of_one_group_and_refuses_when_none_compares():
    result = stats.van_elteren([*Y, 5.0, 6.0], [*G, "T", "T"], [*S, "D", "D"], "T", "R")
    assert result.dropped == 1 and result.z == pytest.approx(3.06724632203, abs=1e-10)
    with pytest.raises(AnalysisError, match="No stratum has values of both"):
        stats.van_elteren([1.0, 2.0], ["T", "R"], ["a", "b"], "T", "R")
    assert not math.isnan(result.statistic)
