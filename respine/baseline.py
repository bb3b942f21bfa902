"""Baseline characteristics by arm and overall, with standardised mean differences.

CONSORT asks for a baseline table; it recommends against significance tests of baseline
differences in a randomised trial, so the balance measure shown is the standardised mean
difference (SMD).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from respine import derive
from respine import schema as S
from respine.stats import summarise_continuous

BASELINE_ENDPOINTS = ("VAS", "ODI", "SF36PCS", "SF36MCS", "MRIT2")


def smd_continuous(x: np.ndarray, y: np.ndarray) -> float:
    """SMD of two samples: (mean x - mean y) / sqrt((var x + var y) / 2).

    References
    ----------
    .. [1] Austin PC. Balance diagnostics for comparing the distribution of baseline covariates
       between treatment groups in propensity-score matched samples. Stat Med 2009;28:3083-3107.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if x.size < 2 or y.size < 2:
        return math.nan
    pooled = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2)
    return float((x.mean() - y.mean()) / pooled) if pooled > 0 else math.nan


def smd_categorical(x: pd.Series, y: pd.Series) -> float:
    """Multi-level SMD: sqrt((p1 - p2)' S^-1 (p1 - p2)) over all levels but the first.

    For two levels it equals |p1 - p2| / sqrt((p1(1 - p1) + p2(1 - p2)) / 2). Always >= 0.

    References
    ----------
    .. [1] Yang D, Dalton JE. A unified approach to measuring the effect size between two groups
       using SAS. SAS Global Forum 2012, paper 335-2012.
    """
    x, y = x.dropna().astype(str), y.dropna().astype(str)
    if x.empty or y.empty:
        return math.nan
    levels = sorted(set(x) | set(y))[1:]
    if not levels:
        return 0.0
    p1 = np.array([(x == lev).mean() for lev in levels])
    p2 = np.array([(y == lev).mean() for lev in levels])

    def cov(p: np.ndarray) -> np.ndarray:
        return np.diag(p) - np.outer(p, p)

    s = (cov(p1) + cov(p2)) / 2
    d = p1 - p2
    if not d.any():
        return 0.0
    return float(math.sqrt(max(d @ np.linalg.pinv(s) @ d, 0.0)))


def baseline_table(trial: S.Trial, population: str | None = None,
                   filters: derive.Filters = ()) -> pd.DataFrame:
    """Tidy baseline summary: one row per variable and level, one column group per arm.

    Columns: variable, level, kind, then for each arm and "Overall": ``n``, ``mean``, ``sd``,
    ``median``, ``q1``, ``q3`` (continuous) or ``count``, ``n``, ``pct`` (categorical), as
    ``<group>|<statistic>``; and ``smd`` (treatment arm vs reference; first treatment arm).
    """
    subjects = derive.select_subjects(trial, population, filters).copy()
    m = trial.measurements
    base_visit = min(v.number for v in trial.design.visits)
    labels: dict[str, tuple[str, str]] = {}
    for ep in BASELINE_ENDPOINTS:
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
    treat, ref = frames[groups[0]], frames[d.reference_arm]
    rows: list[dict[str, object]] = []
    for col, (label, kind) in labels.items():
        if kind == "continuous":
            row: dict[str, object] = {"variable": label, "level": "", "kind": "continuous"}
            for g, f in frames.items():
                s = summarise_continuous(f[col], g)
                row.update({f"{g}|n": s.n, f"{g}|mean": s.mean, f"{g}|sd": s.sd,
                            f"{g}|median": s.median, f"{g}|q1": s.q1, f"{g}|q3": s.q3})
            row["smd"] = smd_continuous(treat[col].to_numpy(float), ref[col].to_numpy(float))
            rows.append(row)
        else:
            levels = derive.as_levels(subjects[col].dropna())
            smd = smd_categorical(derive.as_levels(treat[col].dropna()),
                                  derive.as_levels(ref[col].dropna()))
            for i, level in enumerate(sorted(levels.unique(), key=derive.natural_key)):
                row = {"variable": label, "level": level, "kind": "categorical"}
                for g, f in frames.items():
                    values = derive.as_levels(f[col].dropna())
                    count, n = int((values == level).sum()), int(values.size)
                    row.update({f"{g}|count": count, f"{g}|n": n,
                                f"{g}|pct": 100 * count / n if n else math.nan})
                row["smd"] = smd if i == 0 else math.nan
                rows.append(row)
    return pd.DataFrame(rows)


def baseline_notes(trial: S.Trial, population: str | None = None, filters: derive.Filters = ()) -> list[str]:
    """Messages about the selection a reader of the baseline table needs (e.g. an empty arm)."""
    subjects = derive.select_subjects(trial, population, filters)
    present = set(subjects[S.ARM])
    return [f"No subject of arm {a} in this selection, so the SMDs cannot be computed; widen the "
            "population or filters." for a in trial.design.arms if a not in present]

