"""Multiplicity adjustment (:mod:`respine.stats.multiplicity`) against outside answers.

Sources
-------
* Benjamini Y, Hochberg Y. J R Stat Soc B 1995;57:289-300, section 4: the 15 p-values of
  Neuhaus et al. (1992). At level 0.05 the FDR procedure rejects 4 hypotheses; the Bonferroni-type
  procedures (Holm, Hochberg) reject 3.
* R Core Team. ``?p.adjust``: the algorithms (``cummax``/``cummin`` of scaled ordered p-values,
  capped at 1) and the handling of NA (excluded; n = number of non-missing p-values).
* statsmodels ``multipletests`` (methods "holm", "simes-hochberg", "fdr_bh"), an independent
  implementation, run in the tests.

Tolerances: hand calculations and independent implementations of the same closed form agree to
1e-12 (absolute; p-values lie in [0, 1]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from respine.errors import AnalysisError
from respine.stats.multiplicity import LABELS, adjust_p, adjust_table

ABS = 1e-12
SM = {"holm": "holm", "hochberg": "simes-hochberg", "bh": "fdr_bh"}

# Benjamini & Hochberg (1995), section 4 (Neuhaus et al. 1992), sorted ascending.
NEUHAUS = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
           0.5719, 0.6528, 0.7590, 1.000]


@pytest.mark.reference
def test_benjamini_hochberg_1995_example():
    holm, hoch, bh = (adjust_p(NEUHAUS, m) for m in ("holm", "hochberg", "bh"))
    # Published: BH rejects 4 at q = 0.05; Holm and Hochberg reject 3.
    assert (bh <= 0.05).sum() == 4
    assert (holm <= 0.05).sum() == 3 and (hoch <= 0.05).sum() == 3
    # By hand (m = 15):
    #   Holm:  15*0.0001 = 0.0015, 14*0.0004 = 0.0056, 13*0.0019 = 0.0247, 12*0.0095 = 0.114
    #   BH, 4th: min_{j>=4} 15 p(j)/j = min(15*0.0095/4 = 0.035625, 15*0.0201/5 = 0.0603, ...) = 0.035625
    #   BH, 1st: min_j 15 p(j)/j = min(0.0015, 0.003, 0.0095, ...) = 0.0015
    #   Hochberg, 6th: min_{j>=6} (16-j) p(j) = min(10*0.0278, 9*0.0298 = 0.2682, 8*0.0344, ...) = 0.2682
    assert holm[:4] == pytest.approx([0.0015, 0.0056, 0.0247, 0.114], abs=ABS)
    assert bh[3] == pytest.approx(0.035625, abs=ABS) and bh[0] == pytest.approx(0.0015, abs=ABS)
    assert hoch[5] == pytest.approx(0.2682, abs=ABS)
    assert holm[-1] == hoch[-1] == bh[-1] == 1.0
    for m in SM:
        assert adjust_p(NEUHAUS, m) == pytest.approx(multipletests(NEUHAUS, method=SM[m])[1], abs=ABS)


@pytest.mark.reference
@pytest.mark.parametrize("method", ["holm", "hochberg", "bh"])
def test_matches_statsmodels_multipletests_on_random_families_with_ties(method):
    rng = np.random.default_rng(2024)
    for size in (1, 2, 3, 7, 20, 100):
        p = rng.beta(0.4, 1.5, size)
        if size > 3:
            p[1] = p[2] = p[0]  # ties
            p[3] = 1.0
        shuffled = rng.permutation(p)
        got = adjust_p(shuffled, method)
        assert got == pytest.approx(multipletests(shuffled, method=SM[method])[1], abs=ABS)
        assert ((got >= shuffled - ABS) & (got <= 1)).all()


@pytest.mark.reference
def test_nan_is_passed_through_and_not_counted_as_r_does():
    # R: p.adjust(c(0.01, NA, 0.04, 0.03), "holm") adjusts the 3 non-missing values with n = 3:
    #   sorted 0.01, 0.03, 0.04 -> 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.06, 1*0.04) = 0.06
    #   so the result is 0.03, NA, 0.06, 0.06
    p = [0.01, np.nan, 0.04, 0.03]
    got = adjust_p(p, "holm")
    assert np.isnan(got[1])
    assert got[[0, 2, 3]] == pytest.approx([0.03, 0.06, 0.06], abs=ABS)
    for m in SM:
        out = adjust_p(p, m)
        assert np.isnan(out[1])
        assert out[[0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method=SM[m])[1], abs=ABS)
    assert np.isnan(adjust_p([np.nan, np.nan], "bh")).all()


def test_input_checks():
    assert adjust_p([], "holm").size == 0
    assert adjust_p(pd.Series([0.2, 0.01]), "BH") == pytest.approx([0.2, 0.02], abs=ABS)
    assert adjust_p([0.2, 0.01], "fdr") == pytest.approx([0.2, 0.02], abs=ABS)
    with pytest.raises(AnalysisError, match="Unknown multiplicity adjustment 'bonferroni'"):
        adjust_p([0.1], "bonferroni")
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        adjust_p([0.1, 1.2], "holm")
    with pytest.raises(AnalysisError, match="numbers"):
        adjust_p(["a"], "holm")


def test_adjust_table_adds_labelled_columns_beside_the_raw_p():
    frame = pd.DataFrame({"endpoint": ["VAS", "ODI", "RESP", "MRI"], "p_value": [0.01, 0.04, np.nan, 0.03],
                          "note": ["", "", "no data", ""]})
    out = adjust_table(frame)
    assert list(out.columns) == ["endpoint", "p_value", "p_holm", "p_hochberg", "p_bh", "note"]
    for m in ("holm", "hochberg", "bh"):
        assert out[f"p_{m}"].to_numpy() == pytest.approx(adjust_p(frame["p_value"], m), abs=ABS, nan_ok=True)
        assert out.attrs["column_labels"][f"p_{m}"] == LABELS[m]
    assert list(frame.columns) == ["endpoint", "p_value", "note"]  # input untouched
    again = adjust_table(out, methods=("bh",))
    assert list(again.columns) == ["endpoint", "p_value", "p_bh", "p_holm", "p_hochberg", "note"]
    assert adjust_table(frame.iloc[:0])["p_holm"].size == 0
    with pytest.raises(AnalysisError, match="Column 'p'"):
        adjust_table(frame, p_col="p")
