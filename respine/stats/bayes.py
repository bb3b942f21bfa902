"""A Bayesian reading of a responder comparison: the posterior of the risk difference.

Each arm's responder rate gets an independent Beta prior; with ``x`` responders out of ``n`` the
posterior is Beta(a + x, b + n - x) (conjugacy). The risk difference ``RD = p1 - p2`` (treatment
minus reference) is the difference of two independent Beta variables. Everything is computed
deterministically, without simulation:

* its posterior mean exactly, ``a1/(a1+b1) - a2/(a2+b2)``;
* tail probabilities ``P(RD > c) = integral_0^1 S1(F2^-1(u) + c) du`` (S1 the survival function
  of arm 1's Beta, F2^-1 the quantile function of arm 2's) by adaptive quadrature, accurate to
  about 1e-10;
* the median and the equal-tailed credible interval by solving ``P(RD <= d) = q`` for ``d``;
* the density on a grid, for plotting, by numerical convolution: each Beta is discretised into
  exact cell probabilities on a grid of step 1/20000 and the two are convolved with the FFT.

The three priors follow Spiegelhalter, Abrams & Myles (2004), chapter 5: a *sceptical* prior
that doubts a large benefit, a *neutral* (uniform) prior, and an *enthusiastic* prior that
expects one. See :func:`prior_parameters` for their exact definitions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import integrate, optimize
from scipy import special as sp

from respine.errors import AnalysisError, SelectionError

PRIORS: dict[str, str] = {
    "sceptical": "Sceptical",
    "neutral": "Neutral (uniform)",
    "enthusiastic": "Enthusiastic",
}
CLINICAL_BENEFIT = 0.15  # the benefit the enthusiastic prior expects and the sceptical one doubts
TAIL = 0.05  # prior probability of the effect beyond that benefit (sceptical) or below 0 (enthusiastic)
GRID_CELLS = 20000


@dataclass(frozen=True)
class BayesResult:
    """Posterior summary of the risk difference (treatment minus reference) under one prior.

    ``prior_arm`` / ``prior_reference`` and ``posterior_arm`` / ``posterior_reference`` are the
    Beta (a, b) parameters. ``p_positive`` is P(RD > 0), ``p_threshold`` P(RD > threshold).
    ``grid`` and ``density`` give the posterior density of RD for plotting.
    """

    prior: str
    prior_label: str
    prior_description: str
    x1: int
    n1: int
    x2: int
    n2: int
    prior_arm: tuple[float, float]
    prior_reference: tuple[float, float]
    posterior_arm: tuple[float, float]
    posterior_reference: tuple[float, float]
    mean: float
    median: float
    ci_low: float
    ci_high: float
    level: float
    p_positive: float
    threshold: float
    p_threshold: float
    grid: np.ndarray
    density: np.ndarray

    def to_dict(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("grid", "density")}
        out["grid"] = self.grid.tolist()
        out["density"] = self.density.tolist()
        return out


# ====================================================================== the difference of two Betas


def _check_beta(a: float, b: float) -> None:
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise AnalysisError(f"Beta parameters must be positive and finite (got {a}, {b}).")


def _sf_beta(t: float, a: float, b: float) -> float:
    """P(X > t) for X ~ Beta(a, b), for any real t."""
    return float(sp.betaincc(a, b, min(1.0, max(0.0, t))))


def difference_sf(c: float, a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X - Y > c) for independent X ~ Beta(a1, b1), Y ~ Beta(a2, b2).

    Computed as ``integral_0^1 P(X > F_Y^-1(u) + c) du`` with adaptive Gauss-Kronrod quadrature
    (QUADPACK). In ``u`` the integrand is bounded and monotone, whatever the shape of the
    Betas. Where ``F_Y^-1(u) + c`` is below 0 the integrand is exactly 1 and above 1 exactly 0,
    so only the range in between is integrated numerically.

    References
    ----------
    .. [1] Piessens R, de Doncker-Kapenga E, Ueberhuber CW, Kahaner DK. QUADPACK: A Subroutine
       Package for Automatic Integration. Springer, 1983.
    """
    for a, b in ((a1, b1), (a2, b2)):
        _check_beta(a, b)
    if c <= -1.0:
        return 1.0
    if c >= 1.0:
        return 0.0

    def integrand(u: float) -> float:
        return _sf_beta(float(sp.betaincinv(a2, b2, u)) + c, a1, b1)

    # X - Y > c is certain where y < -c and impossible where y > 1 - c: integrate in between.
    u_lo = float(sp.betainc(a2, b2, -c)) if c < 0 else 0.0
    u_hi = float(sp.betainc(a2, b2, 1.0 - c)) if c > 0 else 1.0
    total = u_lo
    if u_hi - u_lo > 1e-15:
        # Far in a tail the integrand is constant to rounding error and QUADPACK may complain;
        # full_output keeps such messages out of the warnings system (and is thread-safe). The
        # error estimate is the real check.
        value, error, *_ = integrate.quad(integrand, u_lo, u_hi, epsabs=1e-12, epsrel=1e-10,
                                          limit=200, full_output=1)
        if error > 1e-8:
            raise AnalysisError("The posterior probability could not be computed accurately for these "
                                "counts; please report the counts to the maintainers.")
        total += value
    return float(min(1.0, max(0.0, total)))


def difference_quantile(q: float, a1: float, b1: float, a2: float, b2: float) -> float:
    """The ``q`` quantile of X - Y (X ~ Beta(a1, b1), Y ~ Beta(a2, b2)), by Brent's method.

    Solves ``1 - difference_sf(d) = q`` to 1e-12, starting from a bracket read off the
    discretised distribution of :func:`_convolution`.

    References
    ----------
    .. [1] Brent RP. Algorithms for Minimization without Derivatives. Prentice-Hall, 1973, ch. 4.
    """
    if not 0.0 < q < 1.0:
        raise SelectionError(f"A quantile needs 0 < q < 1 (got {q}).")

    def f(d: float) -> float:
        return (1.0 - difference_sf(d, a1, b1, a2, b2)) - q
    d, mass = _convolution(a1, b1, a2, b2)
    guess = float(np.interp(q, np.cumsum(mass), d))
    step = 4.0 / GRID_CELLS
    lo, hi = max(-1.0, guess - step), min(1.0, guess + step)
    if not (f(lo) < 0 < f(hi)):
        lo, hi = -1.0, 1.0
    return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200))


@lru_cache(maxsize=32)
def _convolution(a1: float, b1: float, a2: float, b2: float,
                 cells: int = GRID_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Discretised distribution of X - Y: support (j - cells) h, j = 0..2 cells, and masses.

    Each Beta is discretised into the exact probabilities of cells of width h = 1/``cells``
    centred on 0, h, ..., 1 (so no mass is lost, even where a density is infinite at 0 or 1);
    the masses of the difference are their convolution, computed with the FFT.
    """
    h = 1.0 / cells
    edges = np.clip((np.arange(cells + 2) - 0.5) * h, 0.0, 1.0)
    px = np.diff(sp.betainc(a1, b1, edges))
    py = np.diff(sp.betainc(a2, b2, edges))
    size = 2 * (cells + 1) - 1
    nfft = 1 << (size - 1).bit_length()
    conv = np.fft.irfft(np.fft.rfft(px, nfft) * np.fft.rfft(py[::-1], nfft), nfft)[:size]
    d = (np.arange(size) - cells) * h  # conv[j] is the mass at d = (j - cells) h
    mass = np.maximum(conv, 0.0)
    return d, mass / mass.sum()


def difference_density(a1: float, b1: float, a2: float, b2: float,
                       points: int = 801) -> tuple[np.ndarray, np.ndarray]:
    """Density of X - Y on a grid, by numerical convolution (for plotting).

    The masses of :func:`_convolution` divided by the cell width h = 1/20000 give the density,
    returned on ``points`` equally spaced values covering where it is not negligible (above
    1e-7 of its maximum).

    References
    ----------
    .. [1] Pham-Gia T, Turkkan N, Eng P. Bayesian analysis of the difference of two proportions.
       Commun Stat Theory Methods 1993;22:1755-1771 (the distribution of the difference).
    """
    d, mass = _convolution(a1, b1, a2, b2)
    dens = mass * GRID_CELLS
    big = np.flatnonzero(dens > dens.max() * 1e-7)
    grid = np.linspace(d[big[0]], d[big[-1]], points)
    return grid, np.interp(grid, d, dens)


# ====================================================================== priors


def _beta_with_mean(mean: float, weight: float) -> tuple[float, float]:
    return (mean * weight, (1.0 - mean) * weight)


def prior_parameters(prior: str, control_rate: float, benefit: float = CLINICAL_BENEFIT,
                     tail: float = TAIL) -> tuple[tuple[float, float], tuple[float, float], str]:
    """Beta priors (treatment arm, reference arm) and a plain-language description.

    Let ``mu`` be the anticipated responder rate of the reference (control) arm and ``delta``
    the clinically relevant benefit (``benefit``, default 0.15: +15 percentage points).

    * **neutral**: Beta(1, 1) on each arm, i.e. every rate from 0 to 100% equally likely. The
      posterior is driven by the data alone (the "reference" prior of Spiegelhalter et al.
      2004, section 5.5).
    * **sceptical**: Beta(mu n0, (1 - mu) n0) on *both* arms, so the prior is centred on no
      difference (the two rates are exchangeable and RD is symmetric about 0). The prior
      weight n0 (a "prior sample size" per arm) is chosen so that the prior probability of a
      benefit larger than ``delta`` is only ``tail`` (5%): P(RD > delta) = 0.05. This is
      Spiegelhalter's sceptical prior: a sceptic who finds the hoped-for effect unlikely must
      be convinced by the data (Spiegelhalter et al. 2004, section 5.5; Spiegelhalter,
      Freedman & Parmar 1994).
    * **enthusiastic**: Beta(mu n_e, (1 - mu) n_e) on the reference arm and
      Beta((mu + delta) n_e, (1 - mu - delta) n_e) on the treatment arm, so the prior mean of RD
      is +``delta``; n_e is chosen so that the prior probability of harm is only ``tail``:
      P(RD < 0) = 0.05. This is Spiegelhalter's enthusiastic prior, the mirror of the sceptical
      one (section 5.5): an enthusiast who expects the benefit must be convinced it is absent.

    n0 and n_e are solved numerically from the exact distribution of the difference of two
    Betas (:func:`difference_sf`).

    References
    ----------
    .. [1] Spiegelhalter DJ, Abrams KR, Myles JP. Bayesian Approaches to Clinical Trials and
       Health-Care Evaluation. Wiley, 2004, section 5.5 (sceptical, enthusiastic and
       reference priors).
    .. [2] Spiegelhalter DJ, Freedman LS, Parmar MKB. Bayesian approaches to randomized trials.
       J R Stat Soc A 1994;157:357-416.
    """
    if prior not in PRIORS:
        raise SelectionError(f"Unknown prior '{prior}'. Choose one of: {', '.join(PRIORS)}.")
    if prior == "neutral":
        return (1.0, 1.0), (1.0, 1.0), ("Beta(1, 1) on each arm's responder rate: every rate from 0 to "
                                        "100% equally likely before the trial.")
    if not 0.0 < control_rate < 1.0:
        raise AnalysisError(f"The anticipated control responder rate must be between 0 and 1 "
                            f"(got {control_rate}).")
    if not 0.0 < benefit < 1.0 or not 0.0 < tail < 0.5:
        raise AnalysisError("The clinically relevant benefit must be between 0 and 1 and the tail "
                            "probability between 0 and 0.5.")
    mu = control_rate
    if prior == "enthusiastic" and mu + benefit >= 1.0:
        raise AnalysisError(f"A control rate of {100 * mu:.1f}% leaves no room for a benefit of "
                            f"{100 * benefit:g} points; lower the benefit.")
    w = _prior_weight(prior, mu, benefit, tail)
    if prior == "sceptical":
        arm = ref = _beta_with_mean(mu, w)
        text = (f"Both arms Beta({arm[0]:.2f}, {arm[1]:.2f}): centred on no difference, at a control "
                f"rate of {100 * mu:.1f}%, with the weight of {w:.1f} patients per arm, so that a "
                f"benefit over {100 * benefit:g} percentage points has prior probability "
                f"{100 * tail:g}%.")
        return arm, ref, text
    arm, ref = _beta_with_mean(mu + benefit, w), _beta_with_mean(mu, w)
    text = (f"Treatment Beta({arm[0]:.2f}, {arm[1]:.2f}), control Beta({ref[0]:.2f}, {ref[1]:.2f}): "
            f"centred on a benefit of {100 * benefit:g} percentage points over a control rate of "
            f"{100 * mu:.1f}%, with the weight of {w:.1f} patients per arm, so that harm (a negative "
            f"difference) has prior probability {100 * tail:g}%.")
    return arm, ref, text


@lru_cache(maxsize=256)
def _prior_weight(prior: str, mu: float, benefit: float, tail: float) -> float:
    """Prior weight (patients per arm) of the sceptical or enthusiastic prior; see above."""
    if prior == "sceptical":
        def excess(w: float) -> float:
            a, b = _beta_with_mean(mu, w)
            return difference_sf(benefit, a, b, a, b) - tail
        return _solve_weight(excess, mu)

    def harm(w: float) -> float:
        a1, b1 = _beta_with_mean(mu + benefit, w)
        a2, b2 = _beta_with_mean(mu, w)
        return (1.0 - difference_sf(0.0, a1, b1, a2, b2)) - tail
    return _solve_weight(harm, mu)


def _solve_weight(f: Callable[[float], float], mu: float) -> float:
    """The prior weight where the decreasing tail-probability function ``f`` crosses 0."""
    lo, hi = 2.0, 1e6  # from the weight of a uniform prior upwards
    if f(lo) <= 0:
        raise AnalysisError(f"With a control rate of {100 * mu:.1f}%, even the weakest prior makes "
                            "the requested tail probability smaller than asked; set another control "
                            "rate or a smaller clinically relevant benefit.")
    return float(optimize.brentq(f, lo, hi, xtol=1e-10, rtol=1e-12, maxiter=300))


# ====================================================================== public API


def _check_counts(x1: int, n1: int, x2: int, n2: int) -> None:
    for x, n, arm in ((x1, n1, "treatment"), (x2, n2, "reference")):
        if n <= 0 or x < 0 or x > n or int(x) != x or int(n) != n:
            raise AnalysisError(f"The {arm} arm needs whole numbers with 0 <= responders <= patients "
                                f"(got {x} of {n}).")


def bayes_risk_difference(x1: int, n1: int, x2: int, n2: int, prior: str, threshold: float = 0.10, *,
                          control_rate: float | None = None, benefit: float = CLINICAL_BENEFIT,
                          level: float = 0.95) -> BayesResult:
    """Posterior of the risk difference p1 - p2 from ``x1``/``n1`` vs ``x2``/``n2`` responders.

    Parameters
    ----------
    x1, n1 : int
        Responders and patients in the treatment arm.
    x2, n2 : int
        Responders and patients in the reference arm.
    prior : {"sceptical", "neutral", "enthusiastic"}
        See :func:`prior_parameters` for the exact definitions.
    threshold : float
        The clinically relevant difference for ``p_threshold = P(RD > threshold)`` (default
        0.10, ten percentage points).
    control_rate : float, optional
        The anticipated control responder rate ``mu`` at which the sceptical and enthusiastic
        priors are centred. By default the reference arm's rate under a uniform prior,
        (x2 + 1) / (n2 + 2): this uses the control data once more, so the informative priors
        express doubt or hope about the *difference* only, not about the control rate.
    benefit : float
        The clinically relevant benefit the enthusiastic prior expects and the sceptical prior
        doubts (default 0.15).
    level : float
        Credible level of the equal-tailed interval (default 0.95).

    Returns
    -------
    BayesResult
        Posterior mean (exact), median and equal-tailed credible interval, P(RD > 0),
        P(RD > threshold), and the posterior density on a grid.

    References
    ----------
    .. [1] Spiegelhalter DJ, Abrams KR, Myles JP. Bayesian Approaches to Clinical Trials and
       Health-Care Evaluation. Wiley, 2004, chapter 3 (conjugate Beta-binomial analysis) and
       chapter 5 (priors).
    .. [2] Pham-Gia T, Turkkan N, Eng P. Bayesian analysis of the difference of two proportions.
       Commun Stat Theory Methods 1993;22:1755-1771.
    """
    _check_counts(x1, n1, x2, n2)
    if not 0.0 < level < 1.0:
        raise SelectionError(f"The credible level must be between 0 and 1 (got {level}).")
    if not -1.0 < threshold < 1.0:
        raise SelectionError(f"The clinically relevant difference must be between -1 and 1 "
                             f"(got {threshold}).")
    mu = (x2 + 1) / (n2 + 2) if control_rate is None else control_rate
    prior_arm, prior_ref, text = prior_parameters(prior, mu, benefit)
    a1, b1 = prior_arm[0] + x1, prior_arm[1] + n1 - x1
    a2, b2 = prior_ref[0] + x2, prior_ref[1] + n2 - x2
    mean = a1 / (a1 + b1) - a2 / (a2 + b2)
    tail = (1 - level) / 2
    grid, dens = difference_density(a1, b1, a2, b2)
    return BayesResult(
        prior=prior, prior_label=PRIORS[prior], prior_description=text, x1=x1, n1=n1, x2=x2, n2=n2,
        prior_arm=prior_arm, prior_reference=prior_ref, posterior_arm=(a1, b1),
        posterior_reference=(a2, b2), mean=mean,
        median=difference_quantile(0.5, a1, b1, a2, b2),
        ci_low=difference_quantile(tail, a1, b1, a2, b2),
        ci_high=difference_quantile(1 - tail, a1, b1, a2, b2), level=level,
        p_positive=difference_sf(0.0, a1, b1, a2, b2), threshold=threshold,
        p_threshold=difference_sf(threshold, a1, b1, a2, b2), grid=grid, density=dens)


def bayes_all_priors(x1: int, n1: int, x2: int, n2: int, threshold: float = 0.10, *,
                     control_rate: float | None = None, benefit: float = CLINICAL_BENEFIT,
                     level: float = 0.95) -> list[BayesResult]:
    """:func:`bayes_risk_difference` under the sceptical, neutral and enthusiastic priors.

    References
    ----------
    .. [1] Spiegelhalter DJ, Abrams KR, Myles JP. Bayesian Approaches to Clinical Trials and
       Health-Care Evaluation. Wiley, 2004, section 5.5 (a community of priors).
    """
    return [bayes_risk_difference(x1, n1, x2, n2, p, threshold, control_rate=control_rate,
                                  benefit=benefit, level=level) for p in PRIORS]

