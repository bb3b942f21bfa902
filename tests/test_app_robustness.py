"""App tier, robustness: every page under selections that leave nothing to analyse.

Each must show a clear message in place of the view, never an exception or traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import assert_healthy, new_app

REPO = Path(__file__).resolve().parent.parent
ALL_PAGES = sorted(f"app_pages/{p.name}" for p in (REPO / "app_pages").glob("*.py"))


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
    for page in ALL_PAGES:
        if page != "app_pages/overview.py":
            at.switch_page(page).run()
        assert_healthy(at, page)
        if scenario in ("empty subgroup", "one arm left") and page not in (
                "app_pages/overview.py", "app_pages/flow.py", "app_pages/paper.py", "app_pages/missing.py"):
            shown = [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info]
            assert any("subject" in m.lower() or "arm" in m.lower() for m in shown), (page, shown)
