"""Missing data of an endpoint: completion by visit and arm, and the patterns of missing visits.

Both count **observed records** only (:mod:`respine.derive.records`): a record filled in by a
rule (ADaM ``DTYPE`` such as LOCF) stands for a missing value, so it counts as missing here;
:func:`completion` counts those derived records separately (column ``derived``).
"""

from __future__ import annotations

import math

import pandas as pd

from respine import derive
from respine.analyses.availability import visits_with_data
from respine.model import design as S


def completion(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Subjects with a value at each visit, per arm, out of the population.

    Columns: arm, visit_month, visit, observed (subjects with an observed record), expected,
    pct (observed out of expected), derived (subjects whose only record there is derived, such
    as an LOCF record: missing, filled in by a rule).
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    m = _records(trial, subjects, endpoint)
    seen = derive.is_observed(m)
    arm_of = subjects.set_index(S.SUBJECT_ID)[S.ARM]
    expected = subjects.groupby(S.ARM).size()
    rows = []
    for month in visits_with_data(trial, endpoint):
        at = m[S.VISIT_MONTH] == month
        observed_ids = set(m.loc[at & seen, S.SUBJECT_ID])
        derived_ids = set(m.loc[at & ~seen, S.SUBJECT_ID]) - observed_ids
        observed = arm_of[sorted(observed_ids)].value_counts()
        derived = arm_of[sorted(derived_ids)].value_counts()
        for arm in derive.arm_order(trial):
            e, o = int(expected.get(arm, 0)), int(observed.get(arm, 0))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "visit": trial.design.visit_label(month),
                    "observed": o,
                    "expected": e,
                    "pct": 100 * o / e if e else math.nan,
                    "derived": int(derived.get(arm, 0)),
                }
            )
    return pd.DataFrame(rows)


def _records(trial: S.Trial, subjects: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """The endpoint's measurement records of the selected subjects (observed and derived)."""
    m = trial.measurements
    return m[(m[S.ENDPOINT] == endpoint) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]


def missing_patterns(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Patterns of observed (X) and missing (.) values across visits, with counts per arm.

    Also says whether each pattern is monotone (once missing, always missing: dropout) or
    intermittent. A derived record (LOCF) is a missing value (.), as in :func:`completion`.
    Columns: pattern (named with the visits, e.g. "pattern (Baseline M1 M3)"), kind, one per arm,
    Total; most frequent first.
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    months = visits_with_data(trial, endpoint)
    m = derive.select_records(_records(trial, subjects, endpoint), "observed")
    seen = set(zip(m[S.SUBJECT_ID], m[S.VISIT_MONTH], strict=True))
    patterns = []
    for sid, arm in zip(subjects[S.SUBJECT_ID], subjects[S.ARM], strict=True):
        marks = "".join("X" if (sid, mo) in seen else "." for mo in months)
        patterns.append((arm, marks))
    frame = pd.DataFrame(patterns, columns=["arm", "pattern"])
    table = frame.groupby(["pattern", "arm"]).size().unstack(fill_value=0)
    for arm in derive.arm_order(trial):
        if arm not in table.columns:
            table[arm] = 0
    table = table[derive.arm_order(trial)]
    table.columns.name = None
    table["Total"] = table.sum(axis=1)
    table = table.sort_values("Total", ascending=False, kind="mergesort").reset_index()

    def kind(p: str) -> str:
        if "." not in p:
            return "complete"
        return "monotone (dropout)" if "X" not in p[p.index(".") :] else "intermittent"

    table.insert(1, "kind", table["pattern"].map(kind))
    header = " ".join(trial.design.visit_label(mo).replace("Month ", "M") for mo in months)
    table["pattern"] = table["pattern"].map(lambda p: " ".join(p))
    return table.rename(columns={"pattern": f"pattern ({header})"})

