"""Bayesian posterior of the risk difference (:mod:`respine.stats.bayes`).

Sources
-------
* Miller E. Formulas for Bayesian A/B testing (2015), https://www.evanmiller.org/bayesian-ab-testing.html:
  for X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y) with a_x a whole number,
  P(X > Y) = sum_{i=0}^{a_x - 1} B(a_y + i, b_x + b_y) / ((b_x + i) B(1 + i, b_x) B(a_y, b_y)).
* The same probability by numerical integration of the two Beta densities (scipy.stats.beta and
  scipy.integrate.quad, in the original scale: an independent route from the module's).
* A seeded Monte Carlo of 10^6 draws from each posterior (numpy), for the quantiles.
* Spiegelhalter DJ, Abrams KR, Myles JP. Bayesian Approaches to Clinical Trials and Health-Care
  Evaluation. Wiley, 2004, chapter 5 (sceptical, enthusiastic and reference priors).

Tolerances: 1e-6 against the closed form and quadrature; 0.002 against the Monte Carlo, whose
standard error for a 2.5% quantile of a distribution with SD 0.09 is about 0.0003.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import special as sp
from scipy import stats as sps

from respine.analyses.compare import analyze
from respine.errors import AnalysisError, SelectionError
from respine.model.selection import Selection
from respine.stats.bayes import (
    PRIORS,
    bayes_all_priors,
    bayes_risk_difference,
    difference_density,
    difference_quantile,
    difference_sf,
    prior_parameters,
)

pytestmark = pytest.mark.reference

COUNTS = [(37, 50, 34, 49), (3, 10, 7, 10), (0, 5, 0, 5), (20, 25, 5, 30), (1, 2, 0, 1), (450, 500, 430, 500)]


def evan_miller_p_x_greater(ax: int, bx: float, ay: float, by: float) -> float:
    """Closed form of P(X > Y), X ~ Beta(ax, bx) with whole ax, Y ~ Beta(ay, by) (log scale)."""
    total = 0.0
    for i in range(int(ax)):
        total += math.exp(sp.betaln(ay + i, bx + by) - math.log(bx + i) - sp.betaln(1 + i, bx)
                          - sp.betaln(ay, by))
    return total


def quad_p_difference_above(c: float, a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X - Y > c) = integral f_Y(y) P(X > y + c) dy, plain quadrature in the original scale."""
    lo, hi = max(0.0, -c), min(1.0, 1.0 - c)
    mass_below = sps.beta.cdf(lo, a2, b2)  # y < -c: X - Y > c for sure
    body = integrate.quad(lambda y: sps.beta.pdf(y, a2, b2) * sps.beta.sf(y + c, a1, b1), lo, hi,
                          epsabs=1e-13, epsrel=1e-12, limit=500)[0]
    return mass_below + body


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), COUNTS)
def test_probability_of_benefit_matches_closed_form_and_quadrature(x1, n1, x2, n2):
    r = bayes_risk_difference(x1, n1, x2, n2, "neutral")
    a1, b1, a2, b2 = x1 + 1, n1 - x1 + 1, x2 + 1, n2 - x2 + 1  # Beta(1, 1) priors
    assert r.posterior_arm == (a1, b1) and r.posterior_reference == (a2, b2)
    assert r.p_positive == pytest.approx(evan_miller_p_x_greater(a1, b1, a2, b2), abs=1e-6)
    assert r.p_positive == pytest.approx(quad_p_difference_above(0.0, a1, b1, a2, b2), abs=1e-6)
    assert r.p_threshold == pytest.approx(quad_p_difference_above(0.10, a1, b1, a2, b2), abs=1e-6)


@pytest.mark.parametrize("c", [-0.9, -0.3, -0.05, 0.0, 0.07, 0.25, 0.6])
@pytest.mark.parametrize(("a1", "b1", "a2", "b2"), [(38, 14, 35, 16), (0.5, 0.5, 2.0, 7.5), (1, 1, 1, 1),
                                                    (3.5, 12.25, 30.0, 2.0)])
def test_difference_tail_matches_quadrature(c, a1, b1, a2, b2):
    assert difference_sf(c, a1, b1, a2, b2) == pytest.approx(quad_p_difference_above(c, a1, b1, a2, b2),
                                                             abs=1e-6)


def test_uniform_difference_by_hand():
    # X, Y ~ U(0, 1): X - Y has the triangular density 1 - |d| on (-1, 1); P(X - Y > c) = (1 - c)^2 / 2
    # for c >= 0, and its quantiles are 1 - sqrt(2 (1 - q)) above the median.
    for c in (0.0, 0.2, 0.5, 0.9):
        assert difference_sf(c, 1, 1, 1, 1) == pytest.approx((1 - c) ** 2 / 2, abs=1e-10)
    assert difference_quantile(0.975, 1, 1, 1, 1) == pytest.approx(1 - math.sqrt(0.05), abs=1e-9)
    grid, dens = difference_density(1, 1, 1, 1)
    inner = np.abs(grid) < 0.99
    assert dens[inner] == pytest.approx(1 - np.abs(grid[inner]), abs=1e-3)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), COUNTS)
@pytest.mark.parametrize("prior", list(PRIORS))
def test_posterior_mean_is_exact(x1, n1, x2, n2, prior):
    try:
        r = bayes_risk_difference(x1, n1, x2, n2, prior)
    except AnalysisError:  # e.g. an enthusiastic prior above a control rate of 85%
        assert prior == "enthusiastic"
        return
    (a1, b1), (a2, b2) = r.posterior_arm, r.posterior_reference
    assert r.mean == a1 / (a1 + b1) - a2 / (a2 + b2)
    assert (a1 - r.prior_arm[0], b1 - r.prior_arm[1]) == pytest.approx((x1, n1 - x1), abs=1e-9)
    assert (a2 - r.prior_reference[0], b2 - r.prior_reference[1]) == pytest.approx((x2, n2 - x2), abs=1e-9)


@pytest.mark.parametrize("prior", list(PRIORS))
@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(37, 50, 34, 49), (3, 10, 7, 10)])
def test_credible_interval_matches_monte_carlo(prior, x1, n1, x2, n2):
    r = bayes_risk_difference(x1, n1, x2, n2, prior)
    rng = np.random.default_rng(20240612)
    d = rng.beta(*r.posterior_arm, size=1_000_000) - rng.beta(*r.posterior_reference, size=1_000_000)
    lo, med, hi = np.quantile(d, [0.025, 0.5, 0.975])
    assert (r.ci_low, r.median, r.ci_high) == pytest.approx((lo, med, hi), abs=0.002)
    assert r.mean == pytest.approx(d.mean(), abs=0.002)
    assert r.p_positive == pytest.approx((d > 0).mean(), abs=0.002)
    assert r.p_threshold == pytest.approx((d > 0.10).mean(), abs=0.002)
    # the plotted density integrates to 1 and gives the same tail probability
    assert np.trapezoid(r.density, r.grid) == pytest.approx(1.0, abs=1e-4)
    above = r.grid > 0
    g = np.concatenate(([0.0], r.grid[above]))
    f = np.concatenate(([np.interp(0.0, r.grid, r.density)], r.density[above]))
    assert np.trapezoid(f, g) == pytest.approx(r.p_positive, abs=1e-4)


def test_priors_are_what_the_docstring_says():
    mu = 35 / 51  # (x2 + 1) / (n2 + 2) for RESPINE's 34/49 sham responders
    arm, ref, text = prior_parameters("sceptical", mu)
    assert arm == ref and arm[0] / sum(arm) == pytest.approx(mu, rel=1e-12)
    assert difference_sf(0.15, *arm, *ref) == pytest.approx(0.05, abs=1e-9)  # P(RD > 15 points) = 5%
    assert difference_sf(0.0, *arm, *ref) == pytest.approx(0.5, abs=1e-9)  # centred on no difference
    assert "no difference" in text
    arm, ref, text = prior_parameters("enthusiastic", mu)
    assert arm[0] / sum(arm) - ref[0] / sum(ref) == pytest.approx(0.15, abs=1e-12)  # mean +15 points
    assert sum(arm) == pytest.approx(sum(ref), rel=1e-12)
    assert 1 - difference_sf(0.0, *arm, *ref) == pytest.approx(0.05, abs=1e-9)  # P(harm) = 5%
    assert prior_parameters("neutral", mu)[:2] == ((1.0, 1.0), (1.0, 1.0))
    # the prior tail probabilities checked by simulation too, independently of difference_sf
    rng = np.random.default_rng(5)
    s_arm, s_ref, _ = prior_parameters("sceptical", mu)
    d = rng.beta(*s_arm, 1_000_000) - rng.beta(*s_ref, 1_000_000)
    assert (d > 0.15).mean() == pytest.approx(0.05, abs=0.002)
    d = rng.beta(*arm, 1_000_000) - rng.beta(*ref, 1_000_000)
    assert (d < 0).mean() == pytest.approx(0.05, abs=0.002)


def test_respine_posteriors(trial):
    result = analyze(trial, Selection("RESP", 12.0, "MITT"))
    (t, s) = result.arms
    assert (t.responders, t.n, s.responders, s.n) == (37, 50, 34, 49)
    rs = bayes_all_priors(t.responders, t.n, s.responders, s.n)
    assert [r.prior for r in rs] == ["sceptical", "neutral", "enthusiastic"]
    sceptical, neutral, enthusiastic = rs
    assert neutral.posterior_arm == (38, 14) and neutral.posterior_reference == (35, 16)
    assert neutral.mean == 38 / 52 - 35 / 51
    # more optimism before the trial, more belief in a benefit after it
    assert sceptical.p_positive < neutral.p_positive < enthusiastic.p_positive
    assert sceptical.p_threshold < neutral.p_threshold < enthusiastic.p_threshold
    # the neutral 95% credible interval is close to the Newcombe confidence interval
    rd = result.contrasts[0]
    assert (neutral.ci_low, neutral.ci_high) == pytest.approx((rd.ci_low, rd.ci_high), abs=0.01)


def test_bad_inputs_are_explained():
    with pytest.raises(SelectionError, match="Unknown prior"):
        bayes_risk_difference(3, 10, 2, 10, "optimistic")
    with pytest.raises(AnalysisError, match="0 <= responders <= patients"):
        bayes_risk_difference(11, 10, 2, 10, "neutral")
    with pytest.raises(AnalysisError, match="no room for a benefit"):
        bayes_risk_difference(10, 10, 10, 10, "enthusiastic")  # control rate 11/12
    with pytest.raises(SelectionError, match="credible level"):
        bayes_risk_difference(3, 10, 2, 10, "neutral", level=95)
    r = bayes_risk_difference(10, 10, 10, 10, "enthusiastic", control_rate=0.5)
    assert r.prior_reference[0] / sum(r.prior_reference) == pytest.approx(0.5)
    assert set(r.to_dict()) >= {"prior", "mean", "ci_low", "ci_high", "p_positive", "p_threshold", "grid"}
