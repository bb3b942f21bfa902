"""Missing-data sensitivity analyses (:mod:`respine.analyses.imputation`).

Sources
-------
* Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley, 1987, section 3.1
  (eqs. 3.1.2-3.1.7 and 3.1.10, as numbered in the documentation of ``mice::pool.scalar``).
* Barnard J, Rubin DB. Biometrika 1999;86:948-955 (small-sample degrees of freedom).
* van Buuren S. Flexible Imputation of Missing Data, 2nd ed., 2018, section 2.3.
* mice (amices/mice on GitHub): ``R/pool.scalar.R`` and ``R/barnard.rubin.R`` (transcribed
  below as an independent implementation), the example of ``?pool.scalar`` (its inputs are
  used below) and ``tests/testthat/test-barnard.rubin.R`` (the limits at lambda = 0 and for
  an infinite complete-data df).
* Pers Y-M, et al. RESPINE. Ann Rheum Dis 2024;83:1572-1583 (37/50 vs 34/49 responders,
  chi-square with Yates p = 0.77, complete cases).

Pooling is checked on fixed inputs whose results are worked out by hand in the comments; the
carry-forward strategies on a hand-made trial whose answers can be counted; the tipping-point
corners against the hand-made analyses; multiple imputation for reproducibility, for
identity with the complete-case analysis when nothing is missing, and for recovering a known
answer under missing at random.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from respine import derive, stats
from respine.analyses.compare import analyze
from respine.analyses.imputation import (
    STRATEGIES,
    primary_sensitivity,
    sensitivity_table,
    smallest_tipping_shift,
    tipping_point,
)
from respine.errors import AnalysisError, SelectionError
from respine.io import load_trial
from respine.model import design as S
from respine.model.selection import Selection, SubgroupFilter
from respine.stats.rubin import rubin_pool
from tests.conftest import RESP_DECLARATION

REL = 1e-12


# ====================================================================== hand-made trials


def _write_trial(folder: Path, subjects: pd.DataFrame, rows: list[tuple], visits: tuple[int, ...],
                 endpoints: str = '["VAS", "ODI", "RESP"]') -> Path:
    """A trial folder in the product layout with the given visits (numbers = months)."""
    folder.mkdir(parents=True, exist_ok=True)
    subjects.to_csv(folder / "subjects.csv", index=False)
    labels = {v: "Baseline" if v == 0 else f"Month {v}" for v in visits}
    pd.DataFrame([(s, e, labels[v], v, x) for s, e, v, x in rows],
                 columns=["subject_id", "endpoint", "visit", "visit_month", "value"]
                 ).to_csv(folder / "measurements.csv", index=False)
    visit_toml = "".join(f'[[visits]]\nnumber = {v}\nlabel = "{labels[v]}"\n' for v in visits)
    (folder / "study.toml").write_text(
        '[study]\nid = "TINY"\ntitle = "Tiny"\nsynthetic = true\n'
        '[arms]\norder = ["A", "B"]\nreference = "B"\n' + visit_toml +
        f'[endpoints]\nids = {endpoints}\n' + (RESP_DECLARATION if '"RESP"' in endpoints else '') +
        '[[populations]]\nid = "ALL"\nlabel = "All"\ncolumn = "pop_all"\ndefault = true\n'
        '[[covariates]]\ncolumn = "sex"\nlabel = "Sex"\nkind = "categorical"\n', encoding="utf-8")
    return folder


# VAS and ODI at baseline, month 6 and month 12 (None = missing). Responder at month 12 under the
# primary rule: VAS improvement >= 20 mm and >= 20%, or ODI improvement >= 20%.
TINY = {
    #       VAS 0, 6, 12        ODI 0, 6, 12           month 12, LOCF status (by hand)
    "A1": ((80, 50, 40), (40, 35, 30)),      # VAS -40 mm (50%): responder
    "A2": ((60, 55, 50), (40, 32, 30)),      # VAS -10 mm; ODI -25%: responder
    "A3": ((50, 48, 45), (20, 20, 19)),      # VAS -5 mm; ODI -5%: non-responder
    "A4": ((70, 40, None), (30, 20, None)),  # missing; LOCF: VAS -30 mm (43%): responder
    "A5": ((60, 58, None), (30, 29, None)),  # missing; LOCF: VAS -2 mm, ODI -3%: non-responder
    "B1": ((90, 70, 60), (40, 38, 35)),      # VAS -30 mm (33%): responder
    "B2": ((50, 49, 48), (30, 30, 30)),      # non-responder
    "B3": ((45, 44, 40), (10, 10, 9)),       # VAS -5 mm; ODI -10%: non-responder
    "B4": ((60, 62, 66), (40, 45, 50)),      # worse: non-responder
    "B5": ((80, 50, None), (50, 30, None)),  # missing; LOCF: VAS -30 mm, ODI -40%: responder
    "B6": ((70, None, None), (30, None, None)),  # missing, nothing after baseline: LOCF = BOCF
}


@pytest.fixture
def tiny3(tmp_path):
    """Five subjects in arm A (2 missing at month 12), six in arm B (2 missing)."""
    ids = list(TINY)
    subjects = pd.DataFrame({"subject_id": ids, "arm": [i[0] for i in ids],
                             "sex": ["F", "M"] * 5 + ["F"], "pop_all": ["Y"] * len(ids)})
    rows = []
    for sid, (vas, odi) in TINY.items():
        for ep, values in (("VAS", vas), ("ODI", odi)):
            for visit, v in zip((0, 6, 12), values, strict=True):
                if v is not None:
                    rows.append((sid, ep, visit, v))
    return load_trial(_write_trial(tmp_path / "tiny3", subjects, rows, (0, 6, 12)))


def _by_strategy(results):
    return {r.strategy: r for r in results}


# ====================================================================== Rubin's rules


def test_rubin_rules_by_hand_three_imputations():
    # Q = (10, 12, 14), U = (4, 5, 6), m = 3, complete-data df 20.
    #   Q-bar = 12; U-bar = 5; B = ((-2)^2 + 0 + 2^2) / 2 = 4
    #   T = 5 + (1 + 1/3) 4 = 31/3;  r = (4/3 * 4) / 5 = 16/15;  lambda = (16/3) / (31/3) = 16/31
    #   nu_old = (m - 1) / lambda^2 = 2 (31/16)^2 = 961/128 = 7.5078125  (= 2 (1 + 15/16)^2)
    #   nu_obs = (21/23) * 20 * (1 - 16/31) = 6300/713
    #   nu = nu_old nu_obs / (nu_old + nu_obs) = 6054300/1491593 = 4.058949...
    #   fmi = (r + 2/(nu + 3)) / (r + 1)
    lam = Fraction(16, 31)
    nu_old = Fraction(961, 128)
    nu_obs = Fraction(21, 23) * 20 * (1 - lam)
    nu = nu_old * nu_obs / (nu_old + nu_obs)
    assert nu_obs == Fraction(6300, 713) and nu == Fraction(6054300, 1491593)
    r = Fraction(16, 15)
    fmi = (r + 2 / (nu + 3)) / (r + 1)
    p = rubin_pool([10, 12, 14], [4, 5, 6], df_complete=20)
    assert p.m == 3 and p.estimate == 12 and p.within == 5 and p.between == pytest.approx(4, rel=REL)
    assert p.total == pytest.approx(31 / 3, rel=REL) and p.se == pytest.approx(math.sqrt(31 / 3), rel=REL)
    assert p.riv == pytest.approx(16 / 15, rel=REL) and p.lambda_ == pytest.approx(16 / 31, rel=REL)
    assert p.df == pytest.approx(float(nu), rel=1e-12) and p.df == pytest.approx(4.058949, abs=5e-7)
    assert p.fmi == pytest.approx(float(fmi), rel=1e-12)
    # t = 12 / sqrt(31/3); two-sided p and 95% CI from t with nu df
    t = 12 / math.sqrt(31 / 3)
    assert p.statistic == pytest.approx(t, rel=REL)
    assert p.p_value == pytest.approx(2 * sps.t.sf(t, float(nu)), rel=1e-10)
    half = sps.t.ppf(0.975, float(nu)) * math.sqrt(31 / 3)
    assert (p.ci_low, p.ci_high) == pytest.approx((12 - half, 12 + half), rel=1e-12)
    # Rubin's (1987) df alone: nu_old = 7.5078125
    assert rubin_pool([10, 12, 14], [4, 5, 6], df_method="rubin").df == pytest.approx(7.5078125, rel=REL)
    assert rubin_pool([10, 12, 14], [4, 5, 6]).df == pytest.approx(7.5078125, rel=REL)  # df_complete = inf


def _mice_pool_scalar(Q, U, n=math.inf, k=1):
    """mice::pool.scalar (rule "rubin1987") and mice::barnard.rubin, transcribed line by line from
    amices/mice R/pool.scalar.R and the current R/barnard.rubin.R (no 1e-4 floor on lambda)."""
    m = len(Q)
    qbar = sum(Q) / m
    ubar = sum(U) / m
    b = sum((q - qbar) ** 2 for q in Q) / (m - 1)  # var(Q)
    r = (1 + 1 / m) * b / ubar
    t = ubar + (m + 1) * b / m
    dfcom = n - k
    lam = (1 + 1 / m) * b / t
    dfold = (m - 1) / lam**2 if lam > 0 else math.inf
    if math.isinf(dfcom):
        df = dfold
    else:
        dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
        df = dfobs if math.isinf(dfold) else dfold * dfobs / (dfold + dfobs)
    fmi = (r + 2 / (df + 3)) / (r + 1)
    return {"qbar": qbar, "ubar": ubar, "b": b, "t": t, "df": df, "r": r, "fmi": fmi}


@pytest.mark.reference
@pytest.mark.parametrize(("Q", "U", "n", "k"), [
    # The example of ?pool.scalar (mice): nhanes, bmi ~ age, m = 2, n = 25, k = 2.
    # By hand: qbar = (-1.5457 - 1.428)/2 = -1.48685; ubar = (0.94536729 + 1.083681)/2
    # = 1.014524145; b = 0.1177^2 / 2 = 0.006926645; t = ubar + 1.5 b = 1.0249141125;
    # lambda = 1.5 b / t = 0.0101374...; nu_old = 1 / lambda^2 = 9730.8...;
    # nu_obs = (24/26) 23 (1 - lambda) = 21.0155...; nu = 20.9703...
    ([-1.5457, -1.428], [0.9723**2, 1.041**2], 25, 2),
    ([0.31, 0.35, 0.29, 0.40, 0.33], [0.010, 0.012, 0.011, 0.009, 0.010], 100, 2),
    ([2.0, 2.5, 1.5, 2.2], [0.5, 0.6, 0.4, 0.5], math.inf, 1),
])
def test_rubin_rules_match_mice_pool_scalar(Q, U, n, k):
    ref = _mice_pool_scalar(Q, U, n, k)
    p = rubin_pool(Q, U, df_complete=n - k)
    assert (p.estimate, p.within, p.between, p.total, p.riv, p.df, p.fmi) == pytest.approx(
        (ref["qbar"], ref["ubar"], ref["b"], ref["t"], ref["r"], ref["df"], ref["fmi"]), rel=1e-12)


def test_pool_scalar_example_by_hand():
    p = rubin_pool([-1.5457, -1.428], [0.9723**2, 1.041**2], df_complete=23)
    assert p.estimate == pytest.approx(-1.48685, abs=1e-12)
    assert p.within == pytest.approx(1.014524145, abs=1e-9)
    assert p.between == pytest.approx(0.006926645, abs=1e-9)
    assert p.total == pytest.approx(1.0249141125, abs=1e-9)
    assert p.df == pytest.approx(20.9703, abs=5e-4)


def test_rubin_rules_limits():
    # Identical imputations (nothing missing): B = 0, T = U-bar; the Barnard-Rubin df tends to
    # nu_com (nu_com + 1) / (nu_com + 3) (mice test BARNARD-RUBIN-004), infinite without nu_com.
    p = rubin_pool([1.5, 1.5, 1.5], [0.25, 0.25, 0.25], df_complete=100)
    assert p.between == 0 and p.total == 0.25 and p.riv == 0 and p.lambda_ == 0
    assert p.df == pytest.approx(100 * 101 / 103, rel=REL)
    q = rubin_pool([1.5, 1.5], [0.25, 0.25])
    assert math.isinf(q.df) and q.fmi == 0
    assert q.ci_high == pytest.approx(1.5 + sps.norm.ppf(0.975) * 0.5, rel=REL)
    # nu_com infinite: Rubin's (m - 1) / lambda^2 (mice test BARNARD-RUBIN-002)
    m, lam = 8, 0.2
    b = lam * 2 / (1 + 1 / m)  # T = 2
    est = [0.0] * m
    est[0], est[1] = math.sqrt(b * (m - 1) / 2), -math.sqrt(b * (m - 1) / 2)  # var = b
    r = rubin_pool(est, [2 - (1 + 1 / m) * b] * m)
    assert r.total == pytest.approx(2, rel=REL) and r.df == pytest.approx((m - 1) / lam**2, rel=1e-10)


def test_rubin_rules_reject_bad_input():
    with pytest.raises(AnalysisError, match="at least 2 imputations"):
        rubin_pool([1.0], [1.0])
    with pytest.raises(AnalysisError, match="negative variance"):
        rubin_pool([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(SelectionError, match="degrees-of-freedom"):
        rubin_pool([1.0, 2.0], [1.0, 1.0], df_method="satterthwaite")


# ====================================================================== single imputations, by hand


def test_responder_strategies_counted_by_hand(tiny3):
    res = _by_strategy(primary_sensitivity(tiny3, "RESP", 12.0, n_imputations=5))
    assert list(res) == list(STRATEGIES)

    def counts(r):
        return {a.arm: (a.responders, a.n, a.n_imputed) for a in r.arms}

    # complete cases: A1, A2 of A1-A3; B1 of B1-B4
    assert counts(res["complete_case"]) == {"A": (2, 3, 0), "B": (1, 4, 0)}
    # NRI: A4, A5, B5, B6 are non-responders
    assert counts(res["nri"]) == {"A": (2, 5, 2), "B": (1, 6, 2)}
    # LOCF: A4 (month 6: VAS 70 -> 40) and B5 (80 -> 50) responders; A5 no; B6 has no month 6,
    # so baseline is carried: no change, non-responder
    assert counts(res["locf"]) == {"A": (3, 5, 2), "B": (2, 6, 2)}
    assert any("no post-baseline value" in n and n.startswith("1 subjects") for n in res["locf"].notes)
    # BOCF: no change, so every imputed subject is a non-responder
    assert counts(res["bocf"]) == {"A": (2, 5, 2), "B": (1, 6, 2)}
    for key, (x1, n1, x2, n2) in {"complete_case": (2, 3, 1, 4), "nri": (2, 5, 1, 6),
                                  "locf": (3, 5, 2, 6), "bocf": (2, 5, 1, 6)}.items():
        expected = stats.compare_binary(x1, n1, x2, n2, "A", "B", "chisq_yates")[0]
        assert res[key].contrast == expected, key
    assert res["mi"].n_imputed == {"A": 2, "B": 2}
    for r in res.values():
        assert r.methods_text.startswith("Responder (primary rule) at Month 12")


def test_complete_case_is_the_primary_analysis(tiny3, trial):
    for t, ep in ((tiny3, "RESP"), (tiny3, "VAS"), (trial, "RESP"), (trial, "ODI"), (trial, "MCID_VAS")):
        cc = primary_sensitivity(t, ep, 12.0, strategies=("complete_case",))[0]
        primary = analyze(t, Selection(ep, 12.0))
        assert cc.contrast == primary.contrasts[0]
        assert [a.n for a in cc.arms] == [a.n for a in primary.arms]


def test_continuous_strategies_by_hand(tiny3):
    res = _by_strategy(primary_sensitivity(tiny3, "VAS", 12.0, n_imputations=5))
    # Change in VAS at month 12: A: -40, -10, -5; B: -30, -2, -5, +6
    cc_a, cc_b = [-40, -10, -5], [-30, -2, -5, 6]
    assert res["complete_case"].contrast == stats.welch_t(cc_a, cc_b, "A", "B")
    # LOCF: A4 -30 (40 - 70), A5 -2 (58 - 60), B5 -30 (50 - 80), B6 0 (no month 6: baseline)
    assert res["locf"].contrast == stats.welch_t([*cc_a, -30, -2], [*cc_b, -30, 0], "A", "B")
    # BOCF: every imputed change is 0
    assert res["bocf"].contrast == stats.welch_t([*cc_a, 0, 0], [*cc_b, 0, 0], "A", "B")
    assert res["bocf"].arms[0].estimate == pytest.approx(-55 / 5)
    # NRI does not apply to a continuous endpoint: no contrast, a note says why
    assert res["nri"].contrast is None and not res["nri"].applicable
    assert "only to responder" in res["nri"].notes[0]
    table = sensitivity_table(list(res.values()))
    assert table["strategy"].tolist() == list(STRATEGIES) and math.isnan(table.loc[1, "estimate"])


def test_measures_and_measured_binary_endpoints(trial):
    aval = _by_strategy(primary_sensitivity(trial, "VAS", 12.0, strategies=("complete_case", "bocf"),
                                            measure="aval"))
    primary = analyze(trial, Selection("VAS", 12.0, measure="aval"))
    assert aval["complete_case"].contrast == primary.contrasts[0]
    # Anti-HLA antibodies are measured yes/no: no regression imputation, but NRI and BOCF apply.
    hla = _by_strategy(primary_sensitivity(trial, "HLA1", 6.0, n_imputations=2))
    assert hla["mi"].contrast is None and "yes/no" in hla["mi"].notes[0]
    assert hla["nri"].contrast is not None and "not a benefit" in hla["nri"].notes[0]


def test_bad_requests_are_explained(tiny3):
    with pytest.raises(SelectionError, match="Unknown strategy 'mice'"):
        primary_sensitivity(tiny3, "RESP", 12.0, strategies=("mice",))
    with pytest.raises(AnalysisError, match="at least 2 imputations"):
        primary_sensitivity(tiny3, "RESP", 12.0, strategies=("mi",), n_imputations=1)
    with pytest.raises(AnalysisError, match="visit after baseline"):
        primary_sensitivity(tiny3, "RESP", 0.0)
    with pytest.raises(SelectionError, match="Unknown visit"):
        primary_sensitivity(tiny3, "RESP", 7.0)
    with pytest.raises(SelectionError, match="treatment arm"):
        primary_sensitivity(tiny3, "RESP", 12.0, arm="B")


# ====================================================================== multiple imputation


def test_mi_is_reproducible_and_depends_on_the_seed(trial):
    a = primary_sensitivity(trial, "RESP", 12.0, "MITT", strategies=("mi",), n_imputations=20, seed=7)[0]
    b = primary_sensitivity(trial, "RESP", 12.0, "MITT", strategies=("mi",), n_imputations=20, seed=7)[0]
    c = primary_sensitivity(trial, "RESP", 12.0, "MITT", strategies=("mi",), n_imputations=20, seed=8)[0]
    assert a.contrast == b.contrast and a.pooling == b.pooling
    assert a.contrast.estimate != c.contrast.estimate
    assert a.pooling.m == 20 and a.pooling.between > 0


def test_mi_without_missing_data_is_the_complete_case_analysis(trial):
    at12 = derive.endpoint_data(trial, "RESP", "MITT")
    complete = set(at12.loc[at12["visit_month"] == 12, "subject_id"])
    # filters take declared covariates only: declare "has month-12 data" as one for this test
    flag = trial.subjects["subject_id"].isin(complete).map({True: "yes", False: "no"})
    trial = replace(
        trial,
        subjects=trial.subjects.assign(complete12=flag),
        design=replace(trial.design, covariates=(*trial.design.covariates,
                                                 S.Covariate("complete12", "Month-12 data", "categorical"))),
        source=trial.source + "+complete12",
    )
    only = (SubgroupFilter("complete12", ("yes",)),)
    for ep in ("RESP", "VAS"):
        cc, mi = primary_sensitivity(trial, ep, 12.0, "MITT", only, strategies=("complete_case", "mi"))
        assert mi.contrast == cc.contrast and mi.arms == cc.arms
        assert mi.n_imputed == {"BM-MSC": 0, "Sham": 0} and "complete-case" in mi.notes[0]


def test_mi_counts_and_keeps_observed_values(trial):
    res = _by_strategy(primary_sensitivity(trial, "RESP", 12.0, "MITT", n_imputations=10))
    mi, cc = res["mi"], res["complete_case"]
    # 56 - 50 and 55 - 49 subjects lack a month-12 status; all of them have a baseline
    assert mi.n_imputed == {"BM-MSC": 6, "Sham": 6}
    assert [(a.n, a.n_observed) for a in mi.arms] == [(56, 50), (55, 49)]
    # the observed responders are kept: the average count can only grow by the imputed ones
    for m_arm, c_arm in zip(mi.arms, cc.arms, strict=True):
        assert c_arm.responders <= m_arm.responders <= c_arm.responders + 6
    assert mi.contrast.se == pytest.approx(mi.pooling.se) and mi.contrast.df == mi.pooling.df
    assert "Rubin" in mi.contrast.test and "missing at random" in mi.methods_text


def test_mi_recovers_the_answer_under_missing_at_random(tmp_path):
    """In arm A, subjects who improved most by month 6 drop out more often; in arm B dropout is
    rare and unrelated to anything. This is missing at random (given arm and month 6).

    Complete cases then under-estimate the improvement in A and so the difference; MI, which
    imputes month 12 from baseline and month 6 within each arm, must land near the answer
    computed before the values were deleted.
    """
    rng = np.random.default_rng(11)
    n = 1000
    ids = [f"{arm}{i:04d}" for arm in "AB" for i in range(n)]
    arm = np.repeat(["A", "B"], n)
    base = rng.normal(60, 8, 2 * n)
    m6 = base - 15 - 10 * (arm == "A") + rng.normal(0, 8, 2 * n)
    m12 = 0.3 * base + 0.7 * m6 - 3 + rng.normal(0, 5, 2 * n)
    improved = m6 < np.median(m6[arm == "A"])
    drop = rng.random(2 * n) < np.where(arm == "A", np.where(improved, 0.7, 0.05), 0.1)
    rows = []
    for k, sid in enumerate(ids):
        rows += [(sid, "VAS", 0, base[k]), (sid, "VAS", 6, m6[k])]
        if not drop[k]:
            rows.append((sid, "VAS", 12, m12[k]))
    subjects = pd.DataFrame({"subject_id": ids, "arm": arm, "sex": "F", "pop_all": "Y"})
    t = load_trial(_write_trial(tmp_path / "mar", subjects, rows, (0, 6, 12), '["VAS"]'))
    chg = m12 - base
    truth = chg[arm == "A"].mean() - chg[arm == "B"].mean()
    res = _by_strategy(primary_sensitivity(t, "VAS", 12.0, strategies=("complete_case", "mi"),
                                           n_imputations=30))
    cc, mi = res["complete_case"].contrast, res["mi"].contrast
    assert abs(mi.estimate - truth) < 1.0 < abs(cc.estimate - truth)
    assert mi.ci_low < truth < mi.ci_high
    mean_a = res["mi"].arms[0].estimate
    assert mean_a == pytest.approx(chg[arm == "A"].mean(), abs=1.0)


# ====================================================================== tipping point


def test_tipping_point_corners_are_the_hand_made_analyses(tiny3):
    table = tipping_point(tiny3, "RESP", 12.0)
    assert table.attrs["missing_arm"] == 2 and table.attrs["missing_reference"] == 2
    assert len(table) == 3 * 3
    res = _by_strategy(primary_sensitivity(tiny3, "RESP", 12.0, strategies=("nri",)))
    corner = table.iloc[0]  # no missing subject responds: non-responder imputation
    assert (corner["responders_missing_arm"], corner["responders_missing_reference"]) == (0, 0)
    nri = res["nri"].contrast
    assert (corner["risk_difference"], corner["ci_low"], corner["ci_high"], corner["p_value"]) == \
        pytest.approx((nri.estimate, nri.ci_low, nri.ci_high, nri.p_value), rel=1e-12)
    top = table.iloc[-1]  # every missing subject responds: A 4/5, B 3/6
    full = stats.compare_binary(4, 5, 3, 6, "A", "B", "chisq_yates")[0]
    counts = (top["responders_arm"], top["n_arm"], top["responders_reference"], top["n_reference"])
    assert counts == (4, 5, 3, 6)
    assert (top["risk_difference"], top["ci_low"], top["ci_high"], top["p_value"]) == \
        pytest.approx((full.estimate, full.ci_low, full.ci_high, full.p_value), rel=1e-12)


def test_every_tipping_cell_matches_the_primary_method(trial):
    table = tipping_point(trial, "RESP", 12.0, "MITT")
    assert len(table) == 7 * 7 and table.attrs["primary_p_value"] == pytest.approx(0.7747, abs=5e-5)
    for row in table.itertuples():
        c = stats.compare_binary(row.responders_arm, row.n_arm, row.responders_reference,
                                 row.n_reference, "BM-MSC", "Sham", "chisq_yates")[0]
        assert (row.risk_difference, row.ci_low, row.ci_high, row.p_value) == pytest.approx(
            (c.estimate, c.ci_low, c.ci_high, c.p_value), rel=1e-10)
    # RESPINE: no way of filling the 6 + 6 missing statuses makes the difference significant
    assert not table["changes_conclusion"].any() and smallest_tipping_shift(table) is None
    best = table.loc[table["p_value"].idxmin()]  # all 6 BM-MSC responders, no Sham responder
    assert (best["responders_arm"], best["n_arm"], best["responders_reference"]) == (43, 56, 34)


def test_smallest_binary_shift_by_hand(trial):
    table = tipping_point(trial, "RESP", 12.0, "MITT", alpha=0.20)
    # At alpha = 0.20 three cells change the conclusion: (i, j) = (6, 0) p = 0.132, (6, 1)
    # p = 0.191 and (5, 0) p = 0.197. Missing at random predicts 6 x 37/50 = 4.44 and
    # 6 x 34/49 = 4.163 responders; distances 1.56 + 4.163 = 5.72, 1.56 + 3.163 = 4.72 and
    # 0.56 + 4.163 = 4.72. The tie goes to the smaller p-value: (6, 1).
    changed = table[table["changes_conclusion"]]
    assert sorted(zip(changed["responders_missing_arm"], changed["responders_missing_reference"],
                      strict=True)) == [(5, 0), (6, 0), (6, 1)]
    shift = smallest_tipping_shift(table)
    assert (shift.row["responders_missing_arm"], shift.row["responders_missing_reference"]) == (6, 1)
    assert shift.shift == pytest.approx((6 - 6 * 37 / 50) + (6 * 34 / 49 - 1), abs=1e-12)
    assert "6 of the 6 missing BM-MSC" in shift.description and shift.row["favours"] == "BM-MSC"


def test_continuous_tipping_point_is_a_delta_adjusted_mi(trial):
    table = tipping_point(trial, "SF36PCS", 12.0, "MITT", n_imputations=20, seed=3)
    mi = primary_sensitivity(trial, "SF36PCS", 12.0, "MITT", strategies=("mi",), n_imputations=20,
                             seed=3)[0]
    zero = table[table["delta"] == 0].iloc[0]
    assert (zero["estimate"], zero["se"], zero["p_value"]) == pytest.approx(
        (mi.contrast.estimate, mi.contrast.se, mi.contrast.p_value), rel=1e-12)
    # Shifting the imputed BM-MSC values by delta moves the difference by delta x k/n exactly,
    # k of the n BM-MSC subjects being imputed (10 of 56 for SF-36 PCS at month 12)
    arm = mi.arms[0]
    assert (arm.n_imputed, arm.n) == (10, 56)
    step = np.diff(table["estimate"]) / np.diff(table["delta"])
    assert step == pytest.approx(np.full(len(step), 10 / 56), rel=1e-9)
    assert table["delta"].tolist() == [float(d) for d in range(-10, 11)]  # default: round steps
    shift = smallest_tipping_shift(table)
    assert shift is not None and shift.kind == "continuous"
    flips = table[table["changes_conclusion"]]
    assert abs(shift.shift) == flips["delta"].abs().min()


# ====================================================================== the RESPINE twin


def test_respine_sensitivity_numbers(trial):
    res = _by_strategy(primary_sensitivity(trial, "RESP", 12.0, "MITT"))
    cc = res["complete_case"]
    assert [(a.responders, a.n) for a in cc.arms] == [(37, 50), (34, 49)]
    assert cc.contrast.p_value == pytest.approx(0.77, abs=0.005)
    assert [(a.responders, a.n) for a in res["nri"].arms] == [(37, 56), (34, 55)]
    assert res["nri"].contrast == res["bocf"].contrast  # no change = non-responder
    for r in res.values():
        assert r.contrast.p_value > 0.05  # every strategy agrees with the primary conclusion
