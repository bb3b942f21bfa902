"""Which measurement records an analysis reads, declared once.

A measurement carries its record type in :data:`respine.model.design.RECORD_TYPE` (ADaM ``DTYPE``
upper-cased; :data:`~respine.model.design.OBSERVED`, the empty text, for an observed record).
Two choices exist:

* ``"analysis"``: every loaded analysis record, derived ones included (the records an ADaM
  dataset flags for analysis, such as the LOCF records of a study report's primary ANCOVA);
* ``"observed"``: observed records only. A likelihood-based model under missing at random (the
  MMRM) and multiple imputation model the observed data; a record filled in by a rule (LOCF) is
  a missing value to them, not a measurement.

On a study without derived records both choices read the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd

from respine.errors import SelectionError
from respine.model import design as S
from respine.model.results import DTYPE_WORDS, RecordCounts, dtype_words

__all__ = ["DTYPE_WORDS", "RECORDS", "RecordCounts", "Records", "check_records", "count_records",
           "dtype_words", "has_derived_records", "is_observed", "record_types", "select_records"]

Records = Literal["analysis", "observed"]

#: The record choices and their labels (what a methods sentence or a page says about them).
RECORDS: dict[str, str] = {
    "analysis": "analysis records (observed and derived)",
    "observed": "observed records only",
}

def check_records(records: str) -> Records:
    """The records choice, or a :class:`SelectionError` naming the valid ones."""
    if records not in RECORDS:
        raise SelectionError(f"Unknown records choice '{records}'. Choose one of: {', '.join(RECORDS)}.")
    return "observed" if records == "observed" else "analysis"


def record_types(frame: pd.DataFrame) -> pd.Series:
    """The record type of each row (:data:`~respine.model.design.OBSERVED` where the frame has
    no record-type column: a study without derived records)."""
    if S.RECORD_TYPE in frame.columns:
        return frame[S.RECORD_TYPE].fillna(S.OBSERVED).astype(str)
    return pd.Series(S.OBSERVED, index=frame.index, dtype=object)


def _observed(types: pd.Series) -> pd.Series:
    # a summary of one visit's observed values (AVERAGE of its time points) is an observation of it
    return types.isin((S.OBSERVED, *S.SUMMARY_TYPES))


def is_observed(frame: pd.DataFrame) -> pd.Series:
    """True for the observed records of ``frame``: observed values and records summarising the
    observed values of their visit (:data:`~respine.model.design.SUMMARY_TYPES`, such as ADaM
    ``DTYPE = "AVERAGE"``); False for imputed records (LOCF, WOCF, BOCF, ...)."""
    return _observed(record_types(frame))


def has_derived_records(trial: S.Trial, endpoint: str | None = None) -> bool:
    """Whether the trial (or one measured endpoint of it) has any derived record."""
    m = trial.measurements
    if S.RECORD_TYPE not in m.columns:
        return False
    if endpoint is not None:
        m = m[m[S.ENDPOINT].isin(trial.endpoint(endpoint).derived_from or (endpoint,))]
    return bool((~is_observed(m)).any())


def select_records(frame: pd.DataFrame, records: Records) -> pd.DataFrame:
    """The rows of ``frame`` that ``records`` reads (all of them for ``"analysis"``)."""
    if records == "observed" and S.RECORD_TYPE in frame.columns:
        return frame[is_observed(frame)]
    return frame


def _by_type(types: pd.Series) -> dict[str, int]:
    derived = types[~_observed(types)]
    return {str(t): int(n) for t, n in derived.value_counts().sort_index().items()}


def count_records(
    frame: pd.DataFrame, records: Records, arms: Iterable[str] = (), left_out: pd.DataFrame | None = None
) -> RecordCounts:
    """Count the observed and derived records of the rows an analysis read.

    Parameters
    ----------
    frame : DataFrame
        The rows the analysis read (one per subject and visit), with an ``arm`` column.
    records : {"analysis", "observed"}
        The records choice the analysis made.
    arms : iterable of str
        Arms to count separately, in display order (none: no per-arm counts).
    left_out : DataFrame, optional
        Rows the choice set aside (derived records an observed-only analysis does not read).
    """
    types = record_types(frame)
    by_arm = []
    for arm in arms:
        t = types[frame[S.ARM] == arm]
        by_arm.append({"arm": arm, "observed": int(_observed(t).sum()),
                       "derived": int((~_observed(t)).sum())})
    return RecordCounts(
        records=records,
        observed=int(_observed(types).sum()),
        derived=_by_type(types),
        by_arm=tuple(by_arm),
        left_out=_by_type(record_types(left_out)) if left_out is not None else {},
    )
