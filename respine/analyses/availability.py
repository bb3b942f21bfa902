"""What the loaded trial can analyse: endpoints with data, and the visits each has data at."""

from __future__ import annotations

from respine.derive.measures import endpoints_with_data
from respine.memo import per_trial
from respine.model import design as S


def visits_with_data(trial: S.Trial, endpoint: str) -> list[float]:
    """Visit numbers at which an endpoint has any data (derived ones: post-baseline visits).

    Any analysis record counts, a derived one (LOCF) too: the comparison at a visit reads the
    analysis records, so a visit held only by derived records can still be compared. The MMRM
    and the missing-data views read observed records and count per visit themselves.
    """
    return list(_visits_with_data(trial, endpoint))


@per_trial(maxsize=256)
def _visits_with_data(trial: S.Trial, endpoint: str) -> tuple[float, ...]:
    ep = trial.endpoint(endpoint)
    m = trial.measurements
    sources = ep.derived_from or (ep.id,)
    months = sorted(set(m.loc[m[S.ENDPOINT].isin(sources), S.VISIT_MONTH].unique()))
    if ep.is_derived:
        base = min(v.number for v in trial.design.visits)
        months = [v for v in months if v != base]
    return tuple(float(v) for v in months)


def available_endpoints(trial: S.Trial) -> list[str]:
    """Endpoint ids of the study that have data (derived ones need their sources); see
    :func:`respine.derive.measures.endpoints_with_data`."""
    return list(endpoints_with_data(trial))


def has_baseline(trial: S.Trial, endpoint: str) -> bool:
    """Whether an endpoint has data at the baseline visit (a global impression of change, such
    as the CDISC pilot's CIBIC+, has none: its models have no baseline term)."""
    base = min(v.number for v in trial.design.visits)
    m = trial.measurements
    sources = trial.endpoint(endpoint).derived_from or (endpoint,)
    return bool(((m[S.ENDPOINT].isin(sources)) & (m[S.VISIT_MONTH] == base)).any())


def post_baseline_visits(trial: S.Trial, endpoint: str) -> list[float]:
    """Visits after baseline at which an endpoint has data."""
    base = min(v.number for v in trial.design.visits)
    return [v for v in visits_with_data(trial, endpoint) if v != base]

