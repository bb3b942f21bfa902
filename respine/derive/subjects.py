"""Derivations: populations, filters, baseline, change from baseline and derived endpoints.

All functions are pure: they take a :class:`~respine.model.design.Trial` and return new frames.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from respine.errors import AnalysisError, SelectionError
from respine.memo import per_trial
from respine.model import design as S
from respine.model.selection import Filters


def baseline_covariates(trial: S.Trial) -> dict[str, str]:
    """Declared covariates that are an endpoint's baseline value: column -> endpoint id.

    A covariate names its endpoint (``endpoint = "VAS"`` under ``[[covariates]]``); one that
    does not, whose column is ``baseline_<id>`` (case-insensitive) for an endpoint of the data
    and is not a subject-table column, is read the same way, as study files written before the
    field existed expect.
    """
    measured = {str(e).lower(): str(e) for e in trial.measurements[S.ENDPOINT].unique()}
    out = {}
    for c in trial.design.covariates:
        if c.endpoint:
            out[c.column] = c.endpoint
        elif c.column.startswith("baseline_") and c.column not in trial.subjects.columns:
            ep = measured.get(c.column.removeprefix("baseline_").lower())
            if ep is not None:
                out[c.column] = ep
    return out


@per_trial(maxsize=8)
def subject_table(trial: S.Trial) -> pd.DataFrame:
    """Subjects plus the declared baseline-value covariates (e.g. ``baseline_vas``), each the
    subject's value of its endpoint at the baseline visit (see :func:`baseline_covariates`)."""
    subjects = trial.subjects.copy()
    base_visit = min(v.number for v in trial.design.visits)
    m = trial.measurements
    for col, ep in baseline_covariates(trial).items():
        sel = m[(m[S.ENDPOINT] == ep) & (m[S.VISIT_MONTH] == base_visit)]
        if not sel.empty:
            subjects[col] = subjects[S.SUBJECT_ID].map(sel.set_index(S.SUBJECT_ID)[S.VALUE])
    return subjects


def as_levels(column: pd.Series) -> pd.Series:
    """A covariate as text levels; numbers without trailing zeros ("4", not "4.0")."""
    if pd.api.types.is_numeric_dtype(column):
        return column.map(lambda x: "" if pd.isna(x) else f"{x:g}")
    return column.astype(str)


def natural_key(text: str) -> tuple[int, float | str]:
    """Sort key for levels: numbers in numeric order ("4" < "10"), then text."""
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def apply_filters(subjects: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Subset subjects by every filter (AND across filters, OR within a filter's values)."""
    keep = np.ones(len(subjects), dtype=bool)
    for f in filters:
        if f.column not in subjects.columns:
            raise SelectionError(
                f"Filter column '{f.column}' is not a subject covariate. "
                f"Available: {', '.join(c for c in subjects.columns)}."
            )
        col = subjects[f.column]
        if f.values or (f.low is None and f.high is None):  # no level chosen: nobody matches
            keep &= as_levels(col).isin(f.values).to_numpy()
        else:
            num = pd.to_numeric(col, errors="coerce")
            if f.low is not None:
                keep &= (num >= f.low).to_numpy()
            if f.high is not None:
                keep &= (num <= f.high).to_numpy()
    return subjects[keep]


def covariate_columns(trial: S.Trial) -> tuple[str, ...]:
    """The study's declared subject covariates that the data have: the only columns a filter,
    a subgroup or an adjustment may use (a filter on the subject id or a date would pick out
    named patients)."""
    table = subject_table(trial)
    return tuple(c.column for c in trial.design.covariates if c.column in table.columns)


def check_covariates(trial: S.Trial, columns: Iterable[str], what: str = "Filter") -> None:
    """Raise :class:`SelectionError` for a column that is not a declared subject covariate."""
    allowed = covariate_columns(trial)
    bad = [c for c in columns if c not in allowed]
    if bad:
        raise SelectionError(
            f"{what} column(s) {', '.join(repr(c) for c in bad)} are not declared subject covariates of "
            f"this study. Use one of: {', '.join(allowed) or '(none declared)'}; to add one, declare it "
            "in the study description ([[covariates]] in study.toml)."
        )


def population_subjects(trial: S.Trial, population: str | None = None) -> pd.DataFrame:
    """Every subject of a population, before filters."""
    pop = trial.design.population(population or trial.design.default_population)
    subjects = subject_table(trial)
    return subjects[subjects[pop.column].astype(str).str.upper().isin(["Y", "1", "TRUE"])]


def filter_subjects(trial: S.Trial, population: str | None = None, filters: Filters = ()) -> pd.DataFrame:
    """Subjects of a population after filters on declared covariates (may be empty)."""
    check_covariates(trial, [f.column for f in filters])
    return apply_filters(population_subjects(trial, population), filters)


def select_subjects(trial: S.Trial, population: str | None = None, filters: Filters = ()) -> pd.DataFrame:
    """Subjects of a population after filters; raises if nobody is left."""
    pop = trial.design.population(population or trial.design.default_population)
    out = filter_subjects(trial, pop.id, filters)
    if out.empty:
        described = "; ".join(f.describe() for f in filters) or "no filter"
        raise AnalysisError(
            f"No subject in population {pop.id} matches the filters ({described}). Remove or widen a filter."
        )
    return out


def arm_order(trial: S.Trial) -> list[str]:
    """Treatment arms first, reference last, as tables conventionally show them."""
    d = trial.design
    return [*d.treatment_arms, d.reference_arm]

