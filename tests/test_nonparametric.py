"""Wilcoxon-Mann-Whitney test and Hodges-Lehmann shift (:mod:`respine.stats.nonparametric`).

Sources
-------
* R Core Team. ``?wilcox.test`` example (Hollander & Wolfe 1973, p. 69f): permeability of the
  chorioamnion at term (x) and at 12-26 weeks (y). ``wilcox.test(x, y, alternative = "g")`` prints
  W = 35, p-value = 0.1272 (exact), so the two-sided exact p-value is 0.2544.
* SAS PROC NPAR1WAY (WILCOXON, HL, EXACT) on the same data, as reproduced in the validation
  material of the CRAN package DescrTab2: exact two-sided Pr >= |S - Mean| = 0.2544,
  Hodges-Lehmann location shift (Ctrl - Trt) = -0.3050.
* R output of ``wilcox.test(x, y)`` with ties, as printed on endmemo.com/r/wilcoxon.php:
  x = c(1,5,9,24,56,21,3,7,21,4), y = c(12,15,5,9,9,14,56,22,3,7,32,5): W = 51.5, p-value = 0.5966;
  y = c(1233,4356,987,39999,1111,200000): W = 0, p-value = 0.001364.
* R's source of ``wilcox.test.default`` (Bauer's exact interval ``c(diffs[qu], diffs[ql + 1])``
  with ``qu = qwilcox(alpha/2, n.x, n.y)``; the asymptotic interval as the roots of the
  continuity-corrected statistic).
* SciPy ``scipy.stats.mannwhitneyu`` (exact and asymptotic with tie and continuity corrections), an
  independent implementation, run in the tests; the confidence limits are checked by inverting
  its test: just inside a limit the test does not reject at alpha, just outside it does.

Tolerances: R's printed output, half a unit in the last printed digit; SciPy, a relative 1e-9.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from respine import derive
from respine.errors import AnalysisError
from respine.stats.nonparametric import _pwilcox, _qwilcox, _wilcox_counts, mann_whitney_hodges_lehmann

REL = 1e-9

# ?wilcox.test: Hollander & Wolfe (1973), 69f.
HW_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
HW_Y = [1.15, 0.88, 0.90, 0.74, 1.21]
# endmemo.com R examples (ties -> normal approximation with continuity correction)
EM_X = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4]
EM_Y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5]
EM_Y2 = [1233, 4356, 987, 39999, 1111, 200000]


def _w(c) -> float:
    return float(c.notes[0].split("= ")[1].split(";")[0])


def _assert_inverts_test(c, x, y, alpha, method):
    """Just inside each limit the test of H0: shift = d does not reject; just outside it does."""
    x = np.asarray(x, float)
    diffs = np.unique(np.round(np.subtract.outer(x, y), 9))  # distinct up to floating-point noise
    eps = 0.25 * np.diff(diffs).min()

    def p(d):
        return sps.mannwhitneyu(x - d, y, alternative="two-sided", method=method).pvalue

    assert p(c.ci_low + eps) >= alpha and p(c.ci_low - eps) < alpha
    assert p(c.ci_high - eps) >= alpha and p(c.ci_high + eps) < alpha


@pytest.mark.reference
def test_exact_case_matches_r_sas_and_scipy_on_hollander_wolfe():
    c = mann_whitney_hodges_lehmann(HW_X, HW_Y, "term", "early")
    assert _w(c) == 35  # R: W = 35
    assert c.p_value == pytest.approx(2 * 0.1272, abs=2 * 5e-5)  # R: one-sided p-value = 0.1272
    assert c.p_value == pytest.approx(0.2544, abs=5e-5)  # SAS: exact Pr >= |S - Mean| = 0.2544
    assert c.estimate == pytest.approx(0.3050, abs=5e-5)  # SAS: HL shift (Ctrl - Trt) = -0.3050
    assert c.test == "Wilcoxon-Mann-Whitney (exact)" and c.measure == "location_shift" and c.se is None
    sp = sps.mannwhitneyu(HW_X, HW_Y, alternative="two-sided", method="exact")
    assert _w(c) == sp.statistic and c.p_value == pytest.approx(sp.pvalue, rel=REL)
    assert c.estimate == pytest.approx(float(np.median(np.subtract.outer(HW_X, HW_Y))), rel=REL)


@pytest.mark.reference
def test_exact_interval_is_bauers_order_statistics():
    # qwilcox(0.025, 10, 5): P(U = u) * C(15, 5) for u = 0..9 is the number of partitions of u into
    # at most 5 parts: 1, 1, 2, 3, 5, 7, 10, 13, 18, 23 -> cumulative 1, 2, 4, 7, 12, 19, 29, 42, 60, 83.
    # 0.025 * 3003 = 75.075, first reached at u = 9, so qu = 9 and the CI is (diffs[9], diffs[50 - 9 + 1]).
    assert _qwilcox(0.025, 10, 5) == 9
    assert _pwilcox(8, 10, 5) == pytest.approx(60 / 3003, rel=REL)
    diffs = np.sort(np.subtract.outer(HW_X, HW_Y).ravel())
    c = mann_whitney_hodges_lehmann(HW_X, HW_Y)
    assert (c.ci_low, c.ci_high) == pytest.approx((diffs[8], diffs[41]), rel=REL)
    assert (c.ci_low, c.ci_high) == pytest.approx((-0.15, 0.76), abs=1e-12)
    _assert_inverts_test(c, HW_X, HW_Y, 0.05, "exact")
    c90 = mann_whitney_hodges_lehmann(HW_X, HW_Y, level=0.90)
    _assert_inverts_test(c90, HW_X, HW_Y, 0.10, "exact")
    assert c.ci_low <= c90.ci_low < c90.ci_high <= c.ci_high


@pytest.mark.reference
def test_null_distribution_counts_match_brute_force_enumeration():
    for m, n in [(1, 1), (2, 3), (3, 4), (4, 4), (5, 3)]:
        counts = [0] * (m * n + 1)
        for xs in itertools.combinations(range(m + n), m):  # ranks 0..m+n-1 taken by x
            counts[sum(xs) - m * (m - 1) // 2] += 1
        assert list(_wilcox_counts(m, n)) == counts
    assert sum(_wilcox_counts(49, 49)) == math.comb(98, 49)


@pytest.mark.reference
def test_ties_use_the_normal_approximation_as_r_does():
    c = mann_whitney_hodges_lehmann(EM_X, EM_Y)
    assert _w(c) == 51.5 and c.p_value == pytest.approx(0.5966, abs=5e-5)  # R: W = 51.5, p-value = 0.5966
    c2 = mann_whitney_hodges_lehmann(EM_X, EM_Y2)
    assert _w(c2) == 0 and c2.p_value == pytest.approx(0.001364, abs=5e-7)  # R: W = 0, p-value = 0.001364
    for y, got in ((EM_Y, c), (EM_Y2, c2)):
        sp = sps.mannwhitneyu(EM_X, y, alternative="two-sided", method="asymptotic", use_continuity=True)
        assert got.p_value == pytest.approx(sp.pvalue, rel=REL)
        assert "normal approximation, continuity-corrected" in got.test
        assert any("Tied values" in n for n in got.notes)
    _assert_inverts_test(c, EM_X, EM_Y, 0.05, "asymptotic")


@pytest.mark.reference
def test_normal_approximation_interval_inverts_the_test():
    rng = np.random.default_rng(5)
    x, y = rng.normal(1.0, 2.0, 60).round(3), rng.normal(0.0, 2.0, 55).round(3)
    c = mann_whitney_hodges_lehmann(x, y)  # n >= 50: normal approximation even without ties
    assert "normal approximation" in c.test
    sp = sps.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert c.p_value == pytest.approx(sp.pvalue, rel=REL) and _w(c) == sp.statistic
    _assert_inverts_test(c, x, y, 0.05, "asymptotic")
    forced = mann_whitney_hodges_lehmann(HW_X, HW_Y, exact=False)
    sp = sps.mannwhitneyu(HW_X, HW_Y, alternative="two-sided", method="asymptotic")
    assert forced.p_value == pytest.approx(sp.pvalue, rel=REL)
    _assert_inverts_test(forced, HW_X, HW_Y, 0.05, "asymptotic")
    plain = mann_whitney_hodges_lehmann(x, y, correct=False)
    sp = sps.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=False)
    assert plain.p_value == pytest.approx(sp.pvalue, rel=REL)


def test_edge_cases():
    with pytest.raises(AnalysisError, match="at least one value in each arm"):
        mann_whitney_hodges_lehmann([], [1.0, 2.0])
    with pytest.raises(AnalysisError, match="at least one value in each arm"):
        mann_whitney_hodges_lehmann([np.nan, np.nan], [1.0, 2.0])
    with pytest.raises(AnalysisError, match="identical"):
        mann_whitney_hodges_lehmann([3, 3], [3, 3, 3])
    with pytest.raises(AnalysisError, match="confidence level"):
        mann_whitney_hodges_lehmann(HW_X, HW_Y, level=95)
    with_nan = mann_whitney_hodges_lehmann([*HW_X, np.nan], [*HW_Y, np.nan])
    assert with_nan.p_value == mann_whitney_hodges_lehmann(HW_X, HW_Y).p_value
    tied = mann_whitney_hodges_lehmann([1, 2, 2, 5], [0, 2, 3], exact=True)
    assert "normal approximation" in tied.test and any("exact test cannot" in n for n in tied.notes)
    tiny = mann_whitney_hodges_lehmann([3.1, 4.2], [1.0, 2.5])  # 6 arrangements: no 95% interval exists
    assert tiny.p_value == pytest.approx(2 / 6, rel=REL)
    assert (tiny.ci_low, tiny.ci_high) == (pytest.approx(0.6), pytest.approx(3.2))
    assert any("cannot be reached" in n for n in tiny.notes)
    one_each = mann_whitney_hodges_lehmann([5.0], [2.0])
    assert one_each.estimate == 3.0 and one_each.p_value == 1.0


def test_runs_on_the_respine_twin(trial):
    vas = derive.endpoint_data(trial, "VAS", "MITT")
    m12 = vas[vas["visit_month"] == 12]
    x, y = m12.loc[m12["arm"] == "BM-MSC", "chg"], m12.loc[m12["arm"] == "Sham", "chg"]
    c = mann_whitney_hodges_lehmann(x, y, "BM-MSC", "Sham")
    sp = sps.mannwhitneyu(x.dropna(), y.dropna(), alternative="two-sided", method="asymptotic")
    assert c.p_value == pytest.approx(sp.pvalue, rel=REL)
    assert c.ci_low <= c.estimate <= c.ci_high
