"""Derivations: populations, filters, baseline, change from baseline and derived endpoints.

All functions are pure: they take a :class:`~respine.schema.Trial` and return new frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from respine import schema as S
from respine.errors import AnalysisError, SelectionError
from respine.memo import per_trial
from respine.rules import (
    MCID_ODI_POINTS,
    MCID_VAS_MM,
    PRIMARY_RULE,
    ResponderRule,
    mcid_achieved,
    responder,
)

BASE = "base"
CHG = "chg"
PCHG = "pchg"
MEASURES = {"chg": "Change from baseline", "pchg": "Percent change from baseline", "aval": "Observed value"}


@dataclass(frozen=True)
class SubgroupFilter:
    """Keep subjects whose ``column`` is one of ``values`` (categorical) or in [low, high]."""

    column: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        if self.values or (self.low is None and self.high is None):
            return f"{self.column} in {{{', '.join(self.values)}}}"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.column} in [{lo}, {hi}]"

    @classmethod
    def parse(cls, text: str) -> SubgroupFilter:
        """Parse ``COL=V1|V2`` (categorical) or ``COL=LOW..HIGH`` (numeric range)."""
        if "=" not in text:
            raise SelectionError(
                f"Filter '{text}' must look like COLUMN=VALUE, COLUMN=A|B or COLUMN=LOW..HIGH."
            )
        col, _, rhs = text.partition("=")
        col, rhs = col.strip(), rhs.strip()
        if ".." in rhs:
            lo_s, _, hi_s = rhs.partition("..")
            try:
                lo = float(lo_s) if lo_s.strip() else None
                hi = float(hi_s) if hi_s.strip() else None
            except ValueError as exc:
                raise SelectionError(f"Filter '{text}': range limits must be numbers.") from exc
            return cls(col, (), lo, hi)
        return cls(col, tuple(v.strip() for v in rhs.split("|") if v.strip()))


Filters = tuple[SubgroupFilter, ...]


@per_trial(maxsize=8)
def subject_table(trial: S.Trial) -> pd.DataFrame:
    """Subjects plus baseline VAS and ODI (``baseline_vas``, ``baseline_odi``) as covariates."""
    subjects = trial.subjects.copy()
    base_visit = min(v.number for v in trial.design.visits)
    m = trial.measurements
    for ep, col in (("VAS", "baseline_vas"), ("ODI", "baseline_odi")):
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


def resolve_visit(trial: S.Trial, visit: str | float | int) -> float:
    """Turn a visit label ("Month 12") or number ("12", 12) into the visit number."""
    visits = trial.design.visits
    text = str(visit).strip()
    for v in visits:
        if v.label.lower() == text.lower():
            return v.number
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and any(v.number == number for v in visits):
        return number
    known = ", ".join(f"{v.label} ({v.number:g})" for v in visits)
    raise SelectionError(f"Unknown visit '{visit}'. Choose one of: {known}.")


def _wide(m: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    sel = m[m[S.ENDPOINT] == endpoint]
    return sel.pivot(index=S.SUBJECT_ID, columns=S.VISIT_MONTH, values=S.VALUE)


def endpoint_data(
    trial: S.Trial,
    endpoint: str,
    population: str | None = None,
    filters: Filters = (),
    rule: ResponderRule = PRIMARY_RULE,
    mcid_vas: float = MCID_VAS_MM,
    mcid_odi: float = MCID_ODI_POINTS,
) -> pd.DataFrame:
    """Long frame of one endpoint for the selected subjects (a copy: callers may change it).

    Derivations are cached per trial; arguments an endpoint does not use (the responder rule for
    anything but RESP, the MCID thresholds for anything but MCID_*) do not split the cache.
    """
    if endpoint != "RESP":
        rule = PRIMARY_RULE
    if endpoint != "MCID_VAS":
        mcid_vas = MCID_VAS_MM
    if endpoint != "MCID_ODI":
        mcid_odi = MCID_ODI_POINTS
    return _endpoint_data(trial, endpoint, population, filters, rule, mcid_vas, mcid_odi).copy()


@per_trial(maxsize=64)
def _endpoint_data(
    trial: S.Trial,
    endpoint: str,
    population: str | None,
    filters: Filters,
    rule: ResponderRule,
    mcid_vas: float,
    mcid_odi: float,
) -> pd.DataFrame:
    """Long frame of one endpoint for the selected subjects.

    Columns: subject_id, arm, visit_month, visit, value and, for continuous endpoints, base,
    chg (value - base) and pchg (100 * chg / base; NaN where base is 0). Derived binary
    endpoints (RESP, MCID_*) have one row per subject and post-baseline visit with a determinable
    status.
    """
    ep = trial.endpoint(endpoint)
    subjects = select_subjects(trial, population, filters)
    arm = subjects.set_index(S.SUBJECT_ID)[S.ARM]
    m = trial.measurements[trial.measurements[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    base_visit = min(v.number for v in trial.design.visits)
    available = set(trial.measurements[S.ENDPOINT].unique())
    if ep.is_derived:
        missing = [d for d in ep.derived_from if d not in available]
        if missing:
            raise SelectionError(
                f"Endpoint {endpoint} is derived from {missing}, which the data do not have."
            )
        if endpoint == "RESP":
            vas, odi = _wide(m, "VAS"), _wide(m, "ODI")
            idx = vas.index.union(odi.index)
            vas, odi = vas.reindex(idx), odi.reindex(idx)
            months = [c for c in vas.columns.union(odi.columns) if c != base_visit]
            vas, odi = vas.reindex(columns=[base_visit, *months]), odi.reindex(columns=[base_visit, *months])
            values = {
                mo: responder(vas[base_visit], vas[mo], odi[base_visit], odi[mo], rule) for mo in months
            }
        else:
            src = ep.derived_from[0]
            w = _wide(m, src)
            threshold = mcid_vas if src == "VAS" else mcid_odi
            idx = w.index
            months = [c for c in w.columns if c != base_visit]
            values = {mo: mcid_achieved(w.get(base_visit), w[mo], threshold) for mo in months}
        frame = pd.DataFrame(values, index=idx).rename_axis(S.SUBJECT_ID).reset_index()
        long = frame.melt(id_vars=S.SUBJECT_ID, var_name=S.VISIT_MONTH, value_name=S.VALUE)
        long = long.dropna(subset=[S.VALUE])
    else:
        if endpoint not in available:
            raise SelectionError(
                f"Endpoint '{endpoint}' has no data. Available: {', '.join(sorted(available))}."
            )
        long = m[m[S.ENDPOINT] == endpoint][[S.SUBJECT_ID, S.VISIT_MONTH, S.VALUE]].copy()
        if ep.kind == "continuous":
            base = long[long[S.VISIT_MONTH] == base_visit].set_index(S.SUBJECT_ID)[S.VALUE]
            long[BASE] = long[S.SUBJECT_ID].map(base)
            long[CHG] = long[S.VALUE] - long[BASE]
            with np.errstate(divide="ignore", invalid="ignore"):
                long[PCHG] = np.where(long[BASE] != 0, 100.0 * long[CHG] / long[BASE], np.nan)
    long[S.VISIT_MONTH] = long[S.VISIT_MONTH].astype(float)
    long[S.ARM] = long[S.SUBJECT_ID].map(arm)
    long[S.VISIT] = long[S.VISIT_MONTH].map(trial.design.visit_label)
    return long.sort_values([S.SUBJECT_ID, S.VISIT_MONTH]).reset_index(drop=True)


def arm_order(trial: S.Trial) -> list[str]:
    """Treatment arms first, reference last, as tables conventionally show them."""
    d = trial.design
    return [*d.treatment_arms, d.reference_arm]
