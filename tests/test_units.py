"""The unit on an axis is the unit of what is drawn (issue 17): a value and its change keep the
endpoint's unit, a percent change and a rate are in percent, a change on a 0-100% scale is in
percentage points, and an endpoint without a unit shows none.

The expected units are written out below from the data dictionary (data/README.md: VAS in mm,
ODI in %, SF-36 summaries in norm-based points, MRI T2 in ms) and from the CDISC pilot's ADaM
datasets (ADADAS and ADCIBC carry no AVALU), not computed from the code under test.
"""

from __future__ import annotations

import pytest

from respine import Selection, load_trial
from respine.analyses import availability, trend
from respine.io.adam import load_adam
from respine.model.endpoints import Endpoint
from respine.model.labels import measure_unit
from respine.present import figures, labels
from tests.conftest import pilot_folder
from tests.test_app import _charts, assert_healthy, new_app, open_page

# (endpoint, measure) -> the unit its axis must show; "" for none.
TWIN_UNITS = {
    ("VAS", "aval"): "mm", ("VAS", "chg"): "mm", ("VAS", "pchg"): "%",
    ("ODI", "aval"): "%", ("ODI", "chg"): "percentage points", ("ODI", "pchg"): "%",
    ("SF36PCS", "aval"): "points", ("SF36PCS", "chg"): "points", ("SF36PCS", "pchg"): "%",
    ("SF36MCS", "aval"): "points", ("SF36MCS", "chg"): "points", ("SF36MCS", "pchg"): "%",
    ("MRIT2", "aval"): "ms", ("MRIT2", "chg"): "ms", ("MRIT2", "pchg"): "%",
}
TWIN_BINARY = ("RESP", "MCID_VAS", "MCID_ODI", "HLA1", "HLA2", "DSA")  # rates: %
PILOT_UNITS = {"aval": "", "chg": "", "pchg": "%"}  # ADAS-Cog and CIBIC+ scores have no unit


@pytest.fixture(scope="module")
def twin():
    return load_trial()


@pytest.fixture(scope="module")
def pilot():
    return load_adam(pilot_folder(), bds=("adadas", "adcibc"))


def _unit_of_title(title: str) -> str:
    """The unit in an axis title's closing parentheses, "" when it has none."""
    return title[title.rindex("(") + 1:-1] if title.endswith(")") else ""


def _trend_axis(trial, endpoint: str, measure: str) -> str:
    ep = trial.endpoint(endpoint)
    sel = Selection(endpoint, trial.design.visits[-1].number, measure=measure)
    course = trend.over_time(trial, sel)
    fig = figures.over_time_figure(course, figures.arm_colours(trial.design.arms, trial.design.reference_arm),
                                   "t", labels.value_title(ep, measure), percent=ep.kind == "binary")
    return fig.layout.yaxis.title.text


def test_every_twin_endpoint_is_in_the_expected_table(twin):
    """The table above covers every endpoint the twin offers (a new one must be added to it)."""
    continuous = {e for e, _ in TWIN_UNITS}
    offered = set(availability.available_endpoints(twin))
    assert offered == continuous | set(TWIN_BINARY)


@pytest.mark.parametrize(("endpoint", "measure"), sorted(TWIN_UNITS))
def test_twin_axis_unit_follows_the_measure(twin, endpoint, measure):
    title = _trend_axis(twin, endpoint, measure)
    assert _unit_of_title(title) == TWIN_UNITS[(endpoint, measure)], title
    words = {"aval": "Observed value", "chg": "Change from baseline", "pchg": "Percent change from baseline"}
    assert labels.value_title(twin.endpoint(endpoint), measure).startswith(words[measure])


@pytest.mark.parametrize("endpoint", TWIN_BINARY)
def test_twin_rates_are_in_percent(twin, endpoint):
    title = _trend_axis(twin, endpoint, "aval")
    assert title == "Subjects (%)"


@pytest.mark.parametrize("measure", sorted(PILOT_UNITS))
def test_pilot_axis_unit_follows_the_measure(pilot, measure):
    for endpoint in availability.available_endpoints(pilot):
        if measure != "aval" and not availability.has_baseline(pilot, endpoint):
            continue  # CIBIC+ has no baseline: no change to draw
        title = _trend_axis(pilot, endpoint, measure)
        assert _unit_of_title(title) == PILOT_UNITS[measure], (endpoint, title)
        assert "mm" not in title


def test_unknown_measure_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="aval, chg, improvement, pchg"):
        measure_unit(Endpoint("X", "X", "mm", "continuous", True), "ratio")


def test_a_change_on_a_percent_scale_is_in_points_and_improvement_keeps_the_unit():
    score = Endpoint("S", "Score", "%", "continuous", True)
    assert measure_unit(score, "chg") == measure_unit(score, "improvement") == "percentage points"
    assert measure_unit(score, "aval") == measure_unit(score, "pchg") == "%"
    assert labels.value_title(Endpoint("P", "Pain", "mm", "continuous", True), "improvement") == (
        "Improvement from baseline (mm)")


# ---- the pages: the distribution plot said "(mm)" over a percent change -----------------------------

def _axes(at) -> list[str]:
    return [c["layout"]["yaxis"]["title"]["text"] for c in _charts(at)]


@pytest.mark.app
@pytest.mark.parametrize(("endpoint", "measure"), [("VAS", "pchg"), ("VAS", "chg"), ("ODI", "chg"),
                                                   ("MRIT2", "aval")])
def test_explorer_axes_show_the_measures_unit(endpoint, measure):
    at = open_page("app_pages/explorer.py", ep=endpoint, measure=measure)
    axes = _axes(at)
    assert len(axes) == 2, axes  # the course over visits and the distribution at the visit
    for title in axes:
        assert _unit_of_title(title) == TWIN_UNITS[(endpoint, measure)], axes
    assert axes[1].startswith(load_trial().endpoint(endpoint).label)  # the distribution names it


@pytest.mark.app
def test_explorer_rate_axis_is_in_percent():
    at = open_page("app_pages/explorer.py", ep="RESP")
    assert _axes(at)[0] == "Subjects (%)"


@pytest.mark.app
def test_pilot_explorer_percent_change_is_in_percent(monkeypatch):
    monkeypatch.setenv("RESPINE_DATA", str(pilot_folder()))
    at = new_app(ep="ACTOT", measure="pchg", visit="24", pop="EFF").run()
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at)
    axes = _axes(at)
    assert axes and all(_unit_of_title(t) == "%" for t in axes), axes


@pytest.mark.app
def test_over_time_and_mri_axes_show_the_measures_unit():
    traj = _axes(open_page("app_pages/trajectories.py", ep="ODI"))
    assert traj[:2] == ["Change from baseline (percentage points)"] * 2, traj  # means, each subject
    assert traj[2] == "Percent change from baseline (%)", traj  # the waterfall
    mri = open_page("app_pages/mri.py")
    assert _axes(mri) == ["Observed value (ms)", "Change from baseline (ms)",
                          "Change in Low back pain VAS (mm)"]
    assert _charts(mri)[2]["layout"]["xaxis"]["title"]["text"] == "Change in T2 (ms)"
