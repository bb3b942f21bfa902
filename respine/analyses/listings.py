"""Patient-level views: data listings (subjects, measurements, adverse events) and the profile of
one subject (every measurement over time and every adverse event).

These are the listings and the patient profile of a clinical-trial review (teal's
``tm_t_pp_basic_info``, ``tm_g_pp_adverse_events``, ``tm_data_table``): they show individual
subjects, so the app offers them only outside aggregate-only mode. Every function returns tidy
DataFrames of the data as loaded (values unrounded, ids and codes as written), for any study:
no endpoint, arm or adverse-event column is assumed beyond the data contract's
(``subject_id``, ``arm``; measurements' ``endpoint``, ``visit``, ``visit_month``, ``value``;
an optional ``dtype`` and an adverse event's optional ``onset_day``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from respine import derive
from respine.errors import SelectionError
from respine.model import design as S
from respine.model.selection import SubgroupFilter

Filters = tuple[SubgroupFilter, ...]

SUBJECT, ARM_LABEL = "Subject", "Arm"
ENDPOINT_ID = S.ENDPOINT  # the endpoint's id in a measurement listing (beside its label)
ENDPOINT_LABEL, VISIT_LABEL, VISIT_NUMBER, VALUE_LABEL, RECORD = (
    "Endpoint", "Visit", "Visit number", "Value", "Record")
OBSERVED_TEXT = "observed"
ONSET_DAY = "onset_day"


def _arm_rank(trial: S.Trial) -> dict[str, int]:
    return {arm: i for i, arm in enumerate(derive.arm_order(trial))}


def _record_text(values: pd.Series) -> pd.Series:
    """A record's type in words: "observed", or the derivation (ADaM DTYPE: LOCF, AVERAGE, ...)."""
    text = values.fillna(S.OBSERVED).astype(str).str.strip()
    return text.where(text != S.OBSERVED, OBSERVED_TEXT)


def subject_listing(
    trial: S.Trial, population: str | None = None, filters: Filters = (), search: str = ""
) -> pd.DataFrame:
    """One row per subject of the selection: id, arm, every subject column of the data, and one
    Y/N column per population (named by its id).

    Parameters
    ----------
    trial : Trial
        The loaded study.
    population : str, optional
        Population id (the study's default when None).
    filters : tuple of SubgroupFilter
        Subgroup filters on declared covariates.
    search : str
        Only the rows that contain every word of it (see :func:`matching_rows`).

    Returns
    -------
    DataFrame
        Sorted by arm (treatment arms first, the reference last) and subject id.

    Raises
    ------
    AnalysisError
        When no subject of the population matches the filters.
    """
    subjects = derive.select_subjects(trial, population, filters)
    flags = {p.column: p.id for p in trial.design.populations if p.column in subjects.columns}
    out = subjects.drop(columns=list(flags)).copy()
    for column, pop_id in flags.items():
        out[pop_id] = subjects[column].astype(str).str.upper().isin(["Y", "1", "TRUE"]).map({True: "Y",
                                                                                              False: "N"})
    rank = _arm_rank(trial)
    out = out.assign(_rank=out[S.ARM].map(rank).fillna(len(rank))).sort_values(["_rank", S.SUBJECT_ID])
    return matching_rows(out.drop(columns="_rank").reset_index(drop=True), search)


def _labelled_measurements(trial: S.Trial, rows: pd.DataFrame, arms: pd.Series) -> pd.DataFrame:
    m = rows
    endpoint_labels = {e: trial.endpoint(e).label for e in m[S.ENDPOINT].unique()}
    out = pd.DataFrame({
        SUBJECT: m[S.SUBJECT_ID].astype(str),
        ARM_LABEL: m[S.SUBJECT_ID].map(arms).astype(str),
        ENDPOINT_ID: m[S.ENDPOINT].astype(str),
        ENDPOINT_LABEL: m[S.ENDPOINT].map(endpoint_labels).astype(str),
        VISIT_LABEL: m[S.VISIT].astype(str),
        VISIT_NUMBER: m[S.VISIT_MONTH].astype(float),
        VALUE_LABEL: pd.to_numeric(m[S.VALUE], errors="coerce"),
        RECORD: _record_text(m[S.RECORD_TYPE]) if S.RECORD_TYPE in m.columns else OBSERVED_TEXT,
    })
    order = {e: i for i, e in enumerate(trial.design.endpoints)}
    out = out.assign(_ep=out[ENDPOINT_ID].map(order).fillna(len(order)))
    out = out.sort_values([SUBJECT, "_ep", ENDPOINT_ID, VISIT_NUMBER, RECORD], kind="stable")
    return out.drop(columns="_ep").reset_index(drop=True)


def measured_endpoints(trial: S.Trial) -> tuple[str, ...]:
    """The endpoints that have measurement records: the study's declared order first, then any
    other the data hold (a derived endpoint such as a responder rule has none)."""
    present = list(dict.fromkeys(map(str, trial.measurements[S.ENDPOINT])))
    declared = [e for e in trial.design.endpoints if e in present]
    return (*declared, *[e for e in present if e not in declared])


def measurement_listing(
    trial: S.Trial, population: str | None = None, filters: Filters = (), endpoint: str | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Every measurement record of the selection's subjects (of one endpoint, if given; with every
    word of ``search``, if given: see :func:`matching_rows`).

    Returns
    -------
    DataFrame
        Columns Subject, Arm, endpoint (id), Endpoint (label), Visit, Visit number, Value, Record
        ("observed" or the record's derivation, e.g. LOCF); by subject, endpoint (the study's
        order) and visit.

    Raises
    ------
    AnalysisError
        When no subject of the population matches the filters.
    SelectionError
        When ``endpoint`` has no record in the data.
    """
    subjects = derive.select_subjects(trial, population, filters)
    m = trial.measurements
    m = m[m[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    if endpoint is not None:
        if endpoint not in set(trial.measurements[S.ENDPOINT]):
            known = ", ".join(sorted(map(str, trial.measurements[S.ENDPOINT].unique())))
            raise SelectionError(
                f"Endpoint '{endpoint}' has no measurement in the data. Use one of: {known}.")
        m = m[m[S.ENDPOINT] == endpoint]
    return matching_rows(_labelled_measurements(trial, m, subjects.set_index(S.SUBJECT_ID)[S.ARM]), search)


def adverse_event_listing(
    trial: S.Trial, population: str | None = None, filters: Filters = (), search: str = ""
) -> pd.DataFrame:
    """Every adverse event of the selection's subjects, with every column the data have and the
    subject's arm; by subject and onset day (when the data have one); with every word of
    ``search``, if given (see :func:`matching_rows`).

    Raises
    ------
    AnalysisError
        When no subject of the population matches the filters.
    """
    subjects = derive.select_subjects(trial, population, filters)
    ae = trial.adverse_events
    ae = ae[ae[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])].copy()
    ae.insert(1, S.ARM, ae[S.SUBJECT_ID].map(subjects.set_index(S.SUBJECT_ID)[S.ARM]))
    keys = [S.SUBJECT_ID, ONSET_DAY] if ONSET_DAY in ae.columns else [S.SUBJECT_ID]
    return matching_rows(ae.sort_values(keys, kind="stable").reset_index(drop=True), search)


@dataclass(frozen=True)
class PatientProfile:
    """Everything recorded about one subject.

    Attributes
    ----------
    subject_id : str
    arm : str
    characteristics : DataFrame
        Columns Characteristic, Value: every subject column of the data (populations by id).
    measurements : DataFrame
        As :func:`measurement_listing`, for this subject.
    adverse_events : DataFrame
        As :func:`adverse_event_listing`, for this subject (may be empty).
    """

    subject_id: str
    arm: str
    characteristics: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame


def patient_profile(trial: S.Trial, subject_id: str) -> PatientProfile:
    """The profile of one subject: characteristics, every measurement over time by endpoint and
    every adverse event.

    Raises
    ------
    SelectionError
        When the data have no subject ``subject_id``.
    """
    table = derive.subject_table(trial)
    row = table[table[S.SUBJECT_ID].astype(str) == str(subject_id)]
    if row.empty:
        raise SelectionError(
            f"Subject '{subject_id}' is not in the data ({len(table)} subjects); choose one from the list."
        )
    subject = row.iloc[0]
    pop_columns = {p.column: p.id for p in trial.design.populations}
    characteristics = pd.DataFrame(
        [(pop_columns.get(str(c), str(c)), "" if pd.isna(v) else str(v)) for c, v in subject.items()],
        columns=["Characteristic", "Value"])
    m = trial.measurements
    measurements = _labelled_measurements(trial, m[m[S.SUBJECT_ID].astype(str) == str(subject_id)],
                                          table.set_index(S.SUBJECT_ID)[S.ARM])
    ae = trial.adverse_events
    events = ae[ae[S.SUBJECT_ID].astype(str) == str(subject_id)]
    if ONSET_DAY in events.columns:
        events = events.sort_values(ONSET_DAY, kind="stable")
    return PatientProfile(str(subject_id), str(subject[S.ARM]), characteristics,
                          measurements, events.reset_index(drop=True))


def matching_rows(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows of ``frame`` in which any cell contains ``text`` (case-insensitive, as written;
    numbers as they print, without trailing zeros). Words separated by spaces must all occur
    in the row, in any cells."""
    words = [w.casefold() for w in str(text).split()]
    if not words or frame.empty:
        return frame
    cells = frame.apply(lambda col: derive.as_levels(col).str.casefold())
    keep = pd.Series(True, index=frame.index)
    for word in words:
        keep &= cells.apply(lambda col, w=word: col.str.contains(w, regex=False, na=False)).any(axis=1)
    return frame[keep].reset_index(drop=True)
