"""The URL codec: round trip, short links, and absurd parameters that fall back with a note."""

from __future__ import annotations

import pytest

from respine.model.selection import SubgroupFilter
from respine.urlstate import Options, ViewState, decode, encode

OPTIONS = Options(
    endpoints=("VAS", "ODI", "RESP"),
    visits=(0.0, 6.0, 12.0),
    populations=("MITT", "PP"),
    measures=("chg", "pchg", "aval"),
    methods=("welch", "ancova", "fisher"),
    filter_columns=("sex", "age"),
    default=ViewState(population="MITT"),
)


def test_round_trip_of_every_field():
    state = ViewState(
        endpoint="ODI",
        visit=6.0,
        population="PP",
        measure="pchg",
        method="ancova",
        filters=(SubgroupFilter("sex", ("Female", "Male")), SubgroupFilter("age", (), 30, 50)),
        vas_pct=30.0,
        vas_mm=25.0,
        vas_join="OR",
        odi_pct=15.0,
        join="AND",
        mcid_vas=12.0,
        mcid_odi=8.0,
    )
    params = encode(state, OPTIONS.default)
    decoded, notes = decode(params, OPTIONS)
    assert decoded == state and notes == []


def test_defaults_make_an_empty_link():
    assert encode(OPTIONS.default, OPTIONS.default) == {}
    assert decode({}, OPTIONS) == (OPTIONS.default, [])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"ep": "NOPE"}, "not a valid endpoint"),
        ({"visit": "999"}, "does not exist"),
        ({"visit": "nan"}, "does not exist"),
        ({"pop": "<script>alert(1)</script>"}, "not a valid population"),
        ({"vas_mm": "-5"}, "not a valid vas mm"),
        ({"vas_mm": "inf"}, "not a valid vas mm"),
        ({"filter": "shoe=9"}, "not a declared subject covariate"),
        ({"filter": "age"}, "was ignored"),
        ({"zzz": "1"}, "not known"),
        ({"ep": "V" * 5000}, "too long"),
    ],
)
def test_absurd_parameters_fall_back_with_a_note(params, fragment):
    state, notes = decode(params, OPTIONS)
    assert any(fragment in n for n in notes), notes
    for key in ("endpoint", "visit", "population", "vas_mm"):
        assert getattr(state, key) == getattr(OPTIONS.default, key)


def test_covariates_round_trip_and_bad_ones_dropped_with_a_note():
    state = ViewState(population="MITT", covariates=("sex", "age"))
    assert encode(state, OPTIONS.default) == {"cov": "sex,age"}
    decoded, notes = decode({"cov": "sex,shoe"}, OPTIONS)
    assert decoded.covariates == ("sex",) and any("shoe" in n for n in notes)


def test_page_options_round_trip_and_limits():
    state = ViewState(population="MITT", options=(("cut_age", "40|50"), ("subgroup_vars", "sex|age")))
    params = encode(state, OPTIONS.default)
    assert params == {"o_cut_age": "40|50", "o_subgroup_vars": "sex|age"}
    assert decode(params, OPTIONS) == (state, [])
    _, notes = decode({"o_Bad-Name": "1", "o_x": "y" * 600}, OPTIONS)
    assert any("not known" in n for n in notes) and any("too long" in n for n in notes)
