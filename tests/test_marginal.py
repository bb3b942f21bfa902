"""Covariate-adjusted marginal effects by g-computation (respine.stats.marginal) and their wiring.

Reference values: ``tests/reference_data/beeca/``, written by ``make_beeca_reference.R`` there
(R 4.2.2, beeca 0.2.0 built from openpharma/beeca). Every row of ``beeca_values.csv`` holds the
exact ``beeca::get_marginal_effect`` call that produced it (column ``call``) on beeca's example
trials ``trial01`` (two arms, one numeric covariate) and ``trial02_cdisc`` (the CDISC pilot's three
arms, adjusted for sex). ``published.csv`` holds the SAS outputs beeca ships beside trial01: the
Ge et al. (2011) macro and SAS %Margins, which beeca's vignette compares with Ge's model-based
variance.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine.errors import AnalysisError
from respine.stats.marginal import marginal_risks

HERE = Path(__file__).parent / "reference_data" / "beeca"
BEECA = pd.read_csv(HERE / "beeca_values.csv", dtype={"level": str})
DATA = {"trial01": pd.read_csv(HERE / "trial01.csv"), "trial02_cdisc": pd.read_csv(HERE / "trial02_cdisc.csv")}
REFERENCE = {"trial01": "0", "trial02_cdisc": "1"}
MEASURE = {"diff": "risk_difference", "rr": "relative_risk", "or": "odds_ratio",
           "logrr": "relative_risk", "logor": "odds_ratio"}


def _fit(case: str, formula: str, method: str, type_: object, strata: object):
    response, rhs = (s.strip() for s in formula.split("~"))
    arm, *covariates = (s.strip() for s in rhs.split("+"))
    ge_type = type_ if isinstance(type_, str) and type_ else "HC0"
    strata_t = (strata,) if isinstance(strata, str) and strata else ()
    return marginal_risks(DATA[case], response, arm, REFERENCE[case], covariates, method, ge_type, strata_t)


CASES = [(key, group) for key, group in BEECA.groupby(["case", "formula", "method", "type", "strata", "contrast"],
                                                      dropna=False)]


@pytest.mark.reference
@pytest.mark.parametrize(("key", "rows"), CASES, ids=["/".join(map(str, k)) for k, _ in CASES])
def test_marginal_effects_match_beeca(key, rows):
    case, formula, method, type_, strata, contrast = key
    fit = _fit(case, formula, method, type_, strata)
    for row in rows.itertuples():
        if row.what == "risk":
            estimate, se = fit.risk(row.level)
        else:
            arm = re.findall(r"\d+", row.level.split(": ")[1])[0]  # "diff: 2-1", "odds(3) / odds(1)"
            c = fit.contrast(arm, MEASURE[contrast])
            estimate, se = c.estimate, c.se
            if contrast in ("logrr", "logor"):  # our SE of a ratio is of its log, as beeca's log contrasts
                estimate = math.log(estimate)
            elif contrast in ("rr", "or"):  # beeca's natural-scale delta method: ratio x SE of the log
                se = c.estimate * c.se
        assert estimate == pytest.approx(row.estimate, abs=1e-6), row.call
        assert se == pytest.approx(row.se, abs=1e-6), row.call


@pytest.mark.reference
def test_ge_model_based_matches_the_published_sas_macros():
    # beeca::ge_macro_trial01 (the SAS macro of Ge et al. 2011) and beeca::margins_trial01 (SAS
    # %Margins) on trial01, aval ~ trtp + bl_cov: the risk difference and its SE (published.csv).
    published = pd.read_csv(HERE / "published.csv")
    c = _fit("trial01", "aval ~ trtp + bl_cov", "Ge", "model-based", "").contrast("1", "risk_difference")
    for row in published.itertuples():
        assert c.estimate == pytest.approx(row.estimate, abs=1e-6), row.source
        assert c.se == pytest.approx(row.se, abs=1e-7), row.source


def test_without_covariates_the_risks_are_the_observed_rates_and_ye_is_the_unpooled_variance():
    # No covariate: g-computation gives each arm's observed rate; Ye's variance reduces to
    # p(1 - p) / (n_arm - 1) per arm (sample variance) and a zero covariance, by hand.
    frame = pd.DataFrame({"y": [1, 1, 0, 0, 0, 1, 1, 1, 0, 1], "arm": ["T"] * 4 + ["C"] * 6})
    fit = marginal_risks(frame, "y", "arm", "C", method="Ye")
    assert fit.risk("T")[0] == pytest.approx(0.5) and fit.risk("C")[0] == pytest.approx(4 / 6)
    n = 10
    var_t = np.var([1, 1, 0, 0], ddof=1) / 0.4 / n
    var_c = np.var([0, 1, 1, 1, 0, 1], ddof=1) / 0.6 / n
    assert fit.risk("T")[1] ** 2 == pytest.approx(var_t) and fit.risk("C")[1] ** 2 == pytest.approx(var_c)
    rd = fit.contrast("T", "risk_difference")
    assert rd.estimate == pytest.approx(0.5 - 4 / 6) and rd.se == pytest.approx(math.sqrt(var_t + var_c))


def test_ratios_have_log_scale_intervals_and_three_contrasts_per_arm():
    fit = _fit("trial02_cdisc", "AVAL ~ TRTPN + SEX", "Ye", "", "")
    contrasts = fit.contrasts()
    assert [(c.arm, c.measure) for c in contrasts] == [
        (a, m) for a in ("2", "3") for m in ("risk_difference", "relative_risk", "odds_ratio")]
    for c in contrasts:
        if c.measure != "risk_difference":
            assert c.ci_low * c.ci_high == pytest.approx(c.estimate**2)  # symmetric on the log scale
        assert c.ci_low < c.estimate < c.ci_high and 0 <= c.p_value <= 1


def test_bad_input_gives_a_message():
    frame = DATA["trial01"]
    with pytest.raises(AnalysisError, match="0 .non-responder. or 1"):
        marginal_risks(frame, "bl_cov", "trtp", "0", ("bl_cov_c",))
    with pytest.raises(AnalysisError, match="must also be covariates"):
        marginal_risks(frame, "aval", "trtp", "0", ("bl_cov",), strata=("bl_cov_c",))
    with pytest.raises(AnalysisError, match="Ye's method"):
        marginal_risks(frame, "aval", "trtp", "0", ("bl_cov_c",), method="Ge", strata=("bl_cov_c",))
    with pytest.raises(AnalysisError, match="reference arm '9'"):
        marginal_risks(frame, "aval", "trtp", "9", ("bl_cov",))
    separated = pd.DataFrame({"y": [1, 1, 1, 0, 0, 0], "arm": ["A", "A", "A", "B", "B", "B"], "x": range(6)})
    with pytest.raises(AnalysisError, match="separation"):
        marginal_risks(separated, "y", "arm", "B", ("x",))
