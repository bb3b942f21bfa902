"""The direction of benefit a reader sets for an endpoint the study file does not declare: in the
core (respine.derive.directions), from a link and a widget in the app, and on the command line.
An ADaM parameter's direction is unknown until set, and no view says "favours" while unknown."""

from __future__ import annotations

import json

import pytest

from respine.analyses.compare import analyze
from respine.cli import main
from respine.derive.directions import overridden, with_directions
from respine.errors import SelectionError
from respine.io import load_trial
from respine.io.adam import load_adam
from respine.model.selection import Selection
from respine.present import labels
from tests.adam_shapes import BUILDERS
from tests.conftest import REPO
from tests.test_app import assert_healthy, new_app

WEEK_8 = Selection(endpoint="PAIN", visit=8.0)


@pytest.fixture
def shape(tmp_path):
    return BUILDERS["four_arms"](tmp_path)


def test_an_adam_parameter_has_no_direction_until_the_reader_sets_it(shape):
    trial = load_adam(shape.folder)
    assert trial.endpoint("PAIN").lower_is_better is None
    assert labels.result_direction_note(trial.endpoint("PAIN"), analyze(trial, WEEK_8)) == ""
    lower = with_directions(trial, lower=("PAIN",))
    assert lower.endpoint("PAIN").lower_is_better is True and lower is not trial
    assert with_directions(trial, lower=("PAIN",)) is lower  # one trial object per setting
    assert "lower better: PAIN" in lower.source
    note = labels.result_direction_note(lower.endpoint("PAIN"), analyze(lower, WEEK_8))
    # four arms compared with one reference: the sentence names none of them
    assert note == f"Lower values are better: a negative difference favours the arm compared with " \
                   f"{trial.design.reference_arm}."
    higher = with_directions(trial, higher=("PAIN",))
    assert higher.endpoint("PAIN").lower_is_better is False
    # the numbers do not change with the direction
    assert [c.estimate for c in analyze(higher, WEEK_8).contrasts] == \
           [c.estimate for c in analyze(trial, WEEK_8).contrasts]


def test_a_setting_equal_to_the_declaration_is_the_study_and_a_reversal_is_named():
    twin = load_trial(REPO / "data")
    assert twin.endpoint("VAS").lower_is_better is True
    assert with_directions(twin, lower=("VAS",)) is twin
    assert overridden(twin, higher=("VAS",)) == ("VAS",)
    assert with_directions(twin, higher=("VAS",)).endpoint("VAS").lower_is_better is False
    with pytest.raises(SelectionError, match="cannot have both"):
        with_directions(twin, lower=("VAS",), higher=("VAS",))
    with pytest.raises(SelectionError, match="NOPE: not an endpoint of this study"):
        with_directions(twin, lower=("NOPE",))


def test_the_command_line_sets_the_direction(shape, capsys):
    args = ["analyze", "--data", str(shape.folder), "--endpoint", "PAIN", "--visit", "Week 8"]
    assert main(args) == 0
    assert "favours" not in capsys.readouterr().out
    assert main([*args, "--lower-is-better", "pain"]) == 0  # names in any case
    assert "Lower values are better: a negative difference favours" in capsys.readouterr().out
    assert main([*args, "--higher-is-better", "PAIN", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["lower_is_better"] is False


def shown(at) -> str:
    """The captions as a reader reads them (Markdown escapes removed)."""
    return " ".join(c.value for c in at.caption).replace("\\", "")


@pytest.mark.app
def test_the_explorer_offers_the_direction_and_keeps_it_in_the_link(shape, monkeypatch):
    monkeypatch.setenv("RESPINE_DATA", str(shape.folder))
    at = new_app(ep="PAIN", visit="8").run()
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "explorer")
    captions = " ".join(c.value for c in at.caption)
    assert "favours" not in captions
    box = next(s for s in at.selectbox if s.label == "Direction of benefit")
    box.set_value(True).run()
    assert_healthy(at, "explorer, direction set")
    assert at.query_params["lower"] in ("PAIN", ["PAIN"])
    assert "Lower values are better: a negative difference favours" in shown(at)
    # a new session from that link shows the same
    again = new_app(ep="PAIN", visit="8", lower="PAIN").run()
    again.switch_page("app_pages/explorer.py").run()
    assert "negative difference favours" in shown(again)
    assert next(s for s in again.selectbox if s.label == "Direction of benefit").value is True


@pytest.mark.app
def test_a_declared_direction_draws_no_control():
    at = new_app(ep="VAS", visit="12").run()
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "explorer")
    assert not [s for s in at.selectbox if s.label == "Direction of benefit"]
