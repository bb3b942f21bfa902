"""Endpoint values at a visit: baseline, change and percent change from baseline, responders, and
the visit a label or number names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from respine.derive.records import Records, check_records, is_observed
from respine.derive.subjects import select_subjects
from respine.errors import SelectionError
from respine.memo import per_trial
from respine.model import design as S
from respine.model.rules import (
    MCID_ODI_POINTS,
    MCID_VAS_MM,
    PRIMARY_RULE,
    ResponderRule,
    default_parameters,
    evaluate,
)
from respine.model.selection import Filters

BASE = "base"
CHG = "chg"
PCHG = "pchg"
MEASURES = {"chg": "Change from baseline", "pchg": "Percent change from baseline", "aval": "Observed value"}


def endpoints_with_data(trial: S.Trial) -> tuple[str, ...]:
    """Endpoint ids of the study that have data, in the study's order: a measured endpoint with
    records, a derived one (responder rule, MCID) whose sources all have records. Read from the
    study's endpoint declarations, so a new derived endpoint is listed without a new line here."""
    return _endpoints_with_data(trial)


@per_trial(maxsize=16)
def _endpoints_with_data(trial: S.Trial) -> tuple[str, ...]:
    have = set(trial.measurements[S.ENDPOINT].unique())
    out = []
    for ep_id in trial.design.endpoints or sorted(have):
        ep = trial.endpoint(ep_id)
        if (ep.is_derived and all(d in have for d in ep.derived_from)) or ep_id in have:
            out.append(ep_id)
    return tuple(out)


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


def _wide(m: pd.DataFrame, endpoint: str, column: str = S.VALUE) -> pd.DataFrame:
    sel = m[m[S.ENDPOINT] == endpoint]
    return sel.pivot(index=S.SUBJECT_ID, columns=S.VISIT_MONTH, values=column)


def _derived_type(types: dict[str, pd.Series]) -> pd.Series:
    """Record type of a value derived from several sources at one visit: observed when every
    source record is observed, else the sources' derivation types ("LOCF", "LOCF/AVERAGE")."""
    columns = [t.fillna(S.OBSERVED).astype(str) for t in types.values()]
    joined = columns[0]
    for c in columns[1:]:
        joined = joined + "/" + c
    # Few distinct combinations exist: normalise each once ("LOCF/" -> "LOCF", "/" -> "").
    return joined.map({v: "/".join(sorted(set(v.split("/")) - {S.OBSERVED})) for v in joined.unique()})


def endpoint_data(
    trial: S.Trial,
    endpoint: str,
    population: str | None = None,
    filters: Filters = (),
    rule: ResponderRule = PRIMARY_RULE,
    mcid_vas: float = MCID_VAS_MM,
    mcid_odi: float = MCID_ODI_POINTS,
    records: Records = "analysis",
) -> pd.DataFrame:
    """Long frame of one endpoint for the selected subjects (a copy: callers may change it).

    ``records`` says which measurement records are read (:mod:`respine.derive.records`):
    ``"analysis"`` every loaded analysis record, derived ones (``dtype`` such as LOCF) included;
    ``"observed"`` observed records only after baseline. The baseline value of change from
    baseline is the analysis baseline either way (ADaM's BASE may itself be derived, an average
    of screening records for example), so an observed-only frame keeps every subject's baseline.

    Derivations are cached per trial; arguments an endpoint's declared derivation does not read
    (the responder rule for anything but a responder endpoint, an MCID threshold for anything
    but the MCID endpoint that names it) do not split the cache.
    """
    given = {"rule": rule, "mcid_vas": mcid_vas, "mcid_odi": mcid_odi}
    used = trial.endpoint(endpoint).parameters
    defaults = default_parameters()
    p = {k: (v if k in used else defaults[k]) for k, v in given.items()}
    return _endpoint_data(trial, endpoint, population, filters,
                          p["rule"], p["mcid_vas"], p["mcid_odi"], check_records(records)).copy()


@per_trial(maxsize=64)
def _endpoint_data(
    trial: S.Trial,
    endpoint: str,
    population: str | None,
    filters: Filters,
    rule: ResponderRule,
    mcid_vas: float,
    mcid_odi: float,
    records: Records = "analysis",
) -> pd.DataFrame:
    """Long frame of one endpoint for the selected subjects.

    Columns: subject_id, arm, visit_month, visit, value and, for continuous endpoints, base,
    chg (value - base) and pchg (100 * chg / base; NaN where base is 0). Derived binary
    endpoints (responder rules, MCID) have one row per subject and post-baseline visit with a determinable
    status. Where the measurements carry a record type, so does the frame (``dtype``; a derived
    endpoint's value is derived when one of its sources is).
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
        sources = ep.derived_from
        wide = {src: _wide(m, src) for src in sources}
        idx = wide[sources[0]].index
        columns = wide[sources[0]].columns
        for w in wide.values():
            idx, columns = idx.union(w.index), columns.union(w.columns)
        months = [c for c in columns if c != base_visit]
        wide = {src: w.reindex(index=idx, columns=[base_visit, *months]) for src, w in wide.items()}
        params = {"rule": rule, "mcid_vas": mcid_vas, "mcid_odi": mcid_odi}
        directions = {src: trial.endpoint(src).lower_is_better for src in sources}
        base = {src: w[base_visit] for src, w in wide.items()}
        typed = S.RECORD_TYPE in m.columns
        if typed:
            kinds = {src: _wide(m, src, S.RECORD_TYPE).reindex(index=idx, columns=[base_visit, *months])
                     for src in sources}
            if records == "observed":  # a derived source value after baseline is a missing value
                keep = {src: k.isna() | k.isin((S.OBSERVED, *S.SUMMARY_TYPES)) | (k.columns == base_visit)
                        for src, k in kinds.items()}
                wide = {src: w.where(keep[src]) for src, w in wide.items()}
        values = {
            mo: evaluate(ep.derivation, base, {src: w[mo] for src, w in wide.items()}, params, directions)
            for mo in months
        }
        frame = pd.DataFrame(values, index=idx).rename_axis(S.SUBJECT_ID).reset_index()
        long = frame.melt(id_vars=S.SUBJECT_ID, var_name=S.VISIT_MONTH, value_name=S.VALUE)
        if typed:
            types = pd.DataFrame(
                {mo: _derived_type({src: k[mo] for src, k in kinds.items()}) for mo in months}, index=idx
            ).rename_axis(S.SUBJECT_ID).reset_index()
            long[S.RECORD_TYPE] = types.melt(id_vars=S.SUBJECT_ID, var_name=S.VISIT_MONTH,
                                             value_name=S.RECORD_TYPE)[S.RECORD_TYPE].to_numpy()
        long = long.dropna(subset=[S.VALUE])
    else:
        if endpoint not in available:
            # every endpoint an analysis can read, derived ones (responder rule, MCID) included
            listed = ", ".join(endpoints_with_data(trial)) or "(none)"
            known = endpoint in trial.design.endpoints
            raise SelectionError(
                f"Endpoint '{endpoint}' has no data. Choose one of: {listed}." if known
                else f"Unknown endpoint '{endpoint}'. Choose one of: {listed}."
            )
        columns = [S.SUBJECT_ID, S.VISIT_MONTH, S.VALUE]
        if S.RECORD_TYPE in m.columns:
            columns.append(S.RECORD_TYPE)
        long = m[m[S.ENDPOINT] == endpoint][columns].copy()
        if ep.kind == "continuous":
            base = long[long[S.VISIT_MONTH] == base_visit].set_index(S.SUBJECT_ID)[S.VALUE]
            long[BASE] = long[S.SUBJECT_ID].map(base)
            long[CHG] = long[S.VALUE] - long[BASE]
            with np.errstate(divide="ignore", invalid="ignore"):
                long[PCHG] = np.where(long[BASE] != 0, 100.0 * long[CHG] / long[BASE], np.nan)
        if records == "observed":  # the baseline stays: it is the analysis baseline of every record
            long = long[is_observed(long) | (long[S.VISIT_MONTH] == base_visit)]
    long[S.VISIT_MONTH] = long[S.VISIT_MONTH].astype(float)
    long[S.ARM] = long[S.SUBJECT_ID].map(arm)
    long[S.VISIT] = long[S.VISIT_MONTH].map(trial.design.visit_label)
    return long.sort_values([S.SUBJECT_ID, S.VISIT_MONTH]).reset_index(drop=True)

