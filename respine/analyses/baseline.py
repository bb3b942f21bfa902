"""Baseline characteristics by arm and overall, with standardised mean differences.

CONSORT asks for a baseline table; it recommends against significance tests of baseline
differences in a randomised trial, so the balance measure shown is the standardised mean
difference (SMD).
"""

from __future__ import annotations

import math

import pandas as pd

from respine import derive
from respine.model import design as S
from respine.model.selection import Filters
from respine.stats import summarise_continuous
from respine.stats.balance import smd_categorical, smd_continuous


def baseline_table(trial: S.Trial, population: str | None = None,
                   filters: Filters = ()) -> pd.DataFrame:
    """Tidy baseline summary: one row per variable and level, one column group per arm.

    Columns: variable, level, kind, then for each arm and "Overall": ``n``, ``mean``, ``sd``,
    ``median``, ``q1``, ``q3`` (continuous) or ``count``, ``n``, ``pct`` (categorical), as
    ``<group>|<statistic>``; ``smd|<arm>`` for every treatment arm (that arm vs the reference,
    on a categorical variable's first level); and ``within``, ``within_level``: for a level of a
    variable nested in another (a site in a country), that variable's label and level, else ""
    (see :func:`nested_levels`).
    """
    subjects = derive.select_subjects(trial, population, filters).copy()
    m = trial.measurements
    base_visit = min(v.number for v in trial.design.visits)
    labels: dict[str, tuple[str, str]] = {}
    for ep in trial.design.group("baseline"):  # declared by the study; none if undeclared
        sel = m[(m[S.ENDPOINT] == ep) & (m[S.VISIT_MONTH] == base_visit)]
        if not sel.empty:
            col = f"baseline_{ep.lower()}"
            subjects[col] = subjects[S.SUBJECT_ID].map(sel.set_index(S.SUBJECT_ID)[S.VALUE])

            e = trial.endpoint(ep)
            labels[col] = (f"{e.label}" + (f", {e.unit}" if e.unit else ""), "continuous")
    for c in trial.design.covariates:
        if c.column in subjects.columns and c.column not in labels and not c.column.startswith("baseline_"):
            unit = f", {c.unit}" if c.unit else ""
            labels[c.column] = (c.label + unit, c.kind)
    d = trial.design
    groups = [*d.treatment_arms, d.reference_arm]
    frames = {g: subjects[subjects[S.ARM] == g] for g in groups}
    frames["Overall"] = subjects
    ref = frames[d.reference_arm]
    treated = {a: frames[a] for a in d.treatment_arms}
    rows: list[dict[str, object]] = []
    categorical = [c for c, (_, kind) in labels.items() if kind != "continuous"]
    parents = nested_levels(trial.subjects, categorical)
    for col, (label, kind) in labels.items():
        if kind == "continuous":
            row: dict[str, object] = {"variable": label, "level": "", "kind": "continuous"}
            for g, f in frames.items():
                s = summarise_continuous(f[col], g)
                row.update({f"{g}|n": s.n, f"{g}|mean": s.mean, f"{g}|sd": s.sd,
                            f"{g}|median": s.median, f"{g}|q1": s.q1, f"{g}|q3": s.q3})
            for a, treat in treated.items():
                row[f"smd|{a}"] = smd_continuous(treat[col].to_numpy(float), ref[col].to_numpy(float))
            rows.append(row)
        else:
            levels = derive.as_levels(subjects[col].dropna())
            ref_levels = derive.as_levels(ref[col].dropna())
            smd = {a: smd_categorical(derive.as_levels(treat[col].dropna()), ref_levels)
                   for a, treat in treated.items()}
            for i, level in enumerate(sorted(levels.unique(), key=derive.natural_key)):
                row = {"variable": label, "level": level, "kind": "categorical"}
                for g, f in frames.items():
                    values = derive.as_levels(f[col].dropna())
                    count, n = int((values == level).sum()), int(values.size)
                    row.update({f"{g}|count": count, f"{g}|n": n,
                                f"{g}|pct": 100 * count / n if n else math.nan})
                for a, value in smd.items():
                    row[f"smd|{a}"] = value if i == 0 else math.nan
                outer, outer_level = parents.get((col, level), ("", ""))
                row["within"] = labels[outer][0] if outer else ""
                row["within_level"] = outer_level
                rows.append(row)
    return pd.DataFrame(rows)


def nested_levels(subjects: pd.DataFrame, columns: list[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """Levels of a categorical variable that lie within one level of a coarser variable.

    A variable is nested in another when, over every subject of the trial (not a selection,
    so that a chance pattern of a few subjects is not taken for a hierarchy), each of its levels
    occurs with one level of the other, which has fewer levels: a site within a country. The
    coarser level's count is then the sum of its finer levels', a sum the baseline table
    publishes. Each finer variable is attached to its finest coarser variable.

    Returns
    -------
    dict
        ``(column, level) -> (outer column, outer level)``.
    """
    present = [c for c in columns if c in subjects.columns]
    as_text = {c: derive.as_levels(subjects[c]) for c in present}
    known = {c: as_text[c].where(subjects[c].notna()) for c in present}
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for inner in present:
        best = None
        for outer in present:
            if outer == inner:
                continue
            pairs = pd.DataFrame({"i": known[inner], "o": known[outer]}).dropna()
            n_inner, n_outer = pairs["i"].nunique(), pairs["o"].nunique()
            if pairs.empty or not 1 < n_outer < n_inner or (pairs.groupby("i")["o"].nunique() > 1).any():
                continue
            if best is None or n_outer > best[1]:
                best = (outer, n_outer, pairs.drop_duplicates("i").set_index("i")["o"])
        if best is not None:
            for level, outer_level in best[2].items():
                out[(inner, str(level))] = (best[0], str(outer_level))
    return out


def count_cells(frame: pd.DataFrame, groups: list[str]) -> tuple[dict, list, set]:
    """The counts of a :func:`baseline_table` and the sums they publish, for
    :func:`respine.present.privacy.secondary_suppression`.

    Cells are ``(row position, group)`` over ``groups`` and "Overall": a level's count on a
    categorical row, the number of subjects with a value on a continuous one. Lines: on every
    row, the arms add up to Overall; for every categorical variable and group, the levels add
    up to the group's number of subjects with a value, which is published (by the percentages
    and by the arm totals) and so is a constant, not a cell; and a level of a coarser variable
    is the sum of the levels nested in it (columns ``within``, ``within_level``). The Overall
    cells are hidden first when a complement is needed, so the arms stay comparable.

    Returns
    -------
    tuple
        ``(counts, lines, prefer)``.
    """
    columns = [*groups, "Overall"]
    counts: dict[tuple[int, str], float] = {}
    lines: list[tuple[list[tuple[int, str]], tuple[int, str] | None]] = []
    levels: dict[str, list[int]] = {}
    for i, (_, r) in enumerate(frame.iterrows()):
        stat = "n" if r["kind"] == "continuous" else "count"
        for g in columns:
            counts[(i, g)] = r[f"{g}|{stat}"]
        lines.append(([(i, g) for g in groups], (i, "Overall")))
        if r["kind"] != "continuous":
            levels.setdefault(r["variable"], []).append(i)
    for rows in levels.values():
        lines += [([(i, g) for i in rows], None) for g in columns]
    if "within" in frame.columns:
        keys = zip(frame["variable"], frame["level"], strict=True)
        position = {key: i for i, key in enumerate(keys)}
        nests: dict[int, list[int]] = {}
        for i, (outer, level) in enumerate(zip(frame["within"], frame["within_level"], strict=True)):
            if isinstance(outer, str) and outer and (outer, level) in position:
                nests.setdefault(position[(outer, level)], []).append(i)
        for outer_row, inner_rows in nests.items():
            lines += [([(i, g) for i in inner_rows], (outer_row, g)) for g in columns]
    return counts, lines, {(i, "Overall") for i in range(len(frame))}


def baseline_notes(trial: S.Trial, population: str | None = None, filters: Filters = ()) -> list[str]:
    """Messages about the selection a reader of the baseline table needs (e.g. an empty arm)."""
    subjects = derive.select_subjects(trial, population, filters)
    present = set(subjects[S.ARM])
    return [f"No subject of arm {a} in this selection, so the SMDs cannot be computed; widen the "
            "population or filters." for a in trial.design.arms if a not in present]

