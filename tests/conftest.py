"""Shared fixtures: the shipped trial and small hand-made trials."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from respine.io import load_trial

REPO = Path(__file__).resolve().parent.parent


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
