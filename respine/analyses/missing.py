"""Missing data of an endpoint: completion by visit and arm, and the patterns of missing visits."""

from __future__ import annotations

import math

import pandas as pd

from respine import derive
from respine.analyses.availability import visits_with_data
from respine.model import design as S


def completion(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Subjects with a value at each visit, per arm, out of the population.

    Columns: arm, visit_month, visit, observed, expected, pct.
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    m = trial.measurements
    m = m[(m[S.ENDPOINT] == endpoint) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    arm_of = subjects.set_index(S.SUBJECT_ID)[S.ARM]
    expected = subjects.groupby(S.ARM).size()
    rows = []
    for month in visits_with_data(trial, endpoint):
        ids = m.loc[m[S.VISIT_MONTH] == month, S.SUBJECT_ID]
        observed = arm_of[ids].value_counts()
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
                }
            )
    return pd.DataFrame(rows)


def missing_patterns(trial: S.Trial, population: str | None, endpoint: str) -> pd.DataFrame:
    """Patterns of observed (X) and missing (.) values across visits, with counts per arm.

    Also says whether each pattern is monotone (once missing, always missing: dropout) or
    intermittent. Columns: pattern (named with the visits, e.g. "pattern (Baseline M1 M3)"),
    kind, one per arm, Total; most frequent first.
    """
    pop = trial.design.population(population or trial.design.default_population)
    subjects = derive.select_subjects(trial, pop.id)
    months = visits_with_data(trial, endpoint)
    m = trial.measurements
    m = m[(m[S.ENDPOINT] == endpoint) & m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
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

