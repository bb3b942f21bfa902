"""Uploaded data are the uploading session's alone and leave the server's memory with it.

An upload used to be cached process-wide: its results sat in ``st.cache_data`` and its trial in
the core's ``lru_cache`` entries after the session had closed, reachable by any code path that
knew its source. Now its results live in the session's state (:mod:`respine.ui.cache`) and the
core memoises per trial object (:mod:`respine.memo`), so once the session is gone nothing refers
to the uploaded trial.
"""

from __future__ import annotations

import gc
import shutil

import pytest
from streamlit.runtime.caching import cache_data_api, cache_resource_api
from streamlit.testing.v1 import AppTest

from respine.io import load_trial
from respine.model import design as S
from tests.conftest import REPO
from tests.test_app import assert_healthy, each_page

UPLOAD_SOURCE = "upload: subjects.csv, measurements.csv [lifetime-test]"


def _entries() -> int:
    stats = [*cache_data_api.get_data_cache_stats_provider().get_stats(),
             *cache_resource_api.get_resource_cache_stats_provider().get_stats()]
    return len(stats)


def _alive(source: str) -> list[S.Trial]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, S.Trial) and o.source == source]


@pytest.mark.app
@pytest.mark.timeout(600)
def test_an_uploaded_trial_is_cached_in_its_session_only_and_freed_with_it(tmp_path):
    shutil.copytree(REPO / "data", tmp_path / "upload")
    uploaded = load_trial(tmp_path / "upload")
    object.__setattr__(uploaded, "source", UPLOAD_SOURCE)  # as respine.ui.data names an upload

    warm = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()  # shared data loaded
    del warm
    st_cache_data = __import__("streamlit").cache_data
    st_cache_data.clear()
    before = _entries()

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["loaded_trial"] = uploaded
    at.run()
    for page in each_page(at):
        assert_healthy(at, page)
    assert at.session_state["trial"].source == UPLOAD_SOURCE
    # every result and figure of the upload is in the session, none in the process-wide caches
    assert _entries() == before, "results of uploaded data went into a process-wide cache"
    assert len(at.session_state["_session_cache"]) > 20

    del uploaded
    assert _alive(UPLOAD_SOURCE), "the session holds its upload while it is open"
    del at
    assert _alive(UPLOAD_SOURCE) == [], "the uploaded trial outlived its session"
