"""CDISC ADaM ADTTE (time-to-event analysis dataset) read into the Trial's time-to-event table.

ADTTE has one record per subject and parameter (ADaM basic data structure for time-to-event
analyses, ADaM BDS for TTE v1.0): ``PARAMCD``/``PARAM`` name the event, ``AVAL`` is the time from
the origin (``STARTDT``) to the event or the censoring date (``ADT``), ``CNSR`` is 0 for an event
and a positive integer for a censored time (the integer codes the reason), ``AVALU`` the unit
(without it, "days" when AVAL is the day count from STARTDT to ADT in every record).
The table keeps those as :data:`respine.model.design.TIME_TO_EVENT_COLUMNS`, with ``event`` = 1
for CNSR = 0, so an analysis never needs to know ADaM's inverted coding.

A subject's arm is the subject table's (ADSL ``TRT01P``), so populations and filters apply to the
time-to-event analyses as to every other view.

References
----------
.. [1] CDISC. The ADaM Basic Data Structure for Time-to-Event Analyses, version 1.0. 2012.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from respine.errors import DataError
from respine.io.files import DataFile
from respine.model import design as S

DATASET = "adtte"
REQUIRED = ("USUBJID", "PARAMCD", "AVAL", "CNSR")


def _examples(frame: pd.DataFrame, mask: pd.Series) -> str:
    rows = frame.loc[mask, ["USUBJID", "PARAMCD"]].head(3).astype(str)
    return "; ".join(f"{s} ({p})" for s, p in rows.itertuples(index=False))


def _unit_from_dates(frame: pd.DataFrame, time: pd.Series) -> str:
    """"days" when AVAL is the number of days from STARTDT to ADT (counting the first day or not,
    the same way in every record), as in the CDISC pilot, which gives no AVALU; else ""."""
    if not {"STARTDT", "ADT"} <= set(frame.columns):
        return ""
    start = pd.to_datetime(frame["STARTDT"], errors="coerce")
    end = pd.to_datetime(frame["ADT"], errors="coerce")
    if start.isna().any() or end.isna().any():
        return ""
    offset = (time - (end - start).dt.days).unique()
    return "days" if len(offset) == 1 and offset[0] in (0, 1) else ""


def time_to_event(adtte: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """The time-to-event table of an ADTTE dataset.

    Parameters
    ----------
    adtte : DataFrame
        The dataset with upper-case column names (as :func:`respine.io.adam.read_table` reads it).
    subjects : DataFrame
        The trial's subject table; records of subjects not in it (no arm) are left out, with a
        warning naming how many.

    Returns
    -------
    DataFrame
        Columns :data:`~respine.model.design.TIME_TO_EVENT_COLUMNS`, one row per subject and
        parameter; ``event`` is 1 for an event (CNSR = 0), 0 for a censored time.

    Raises
    ------
    DataError
        When a required column is missing, a time is missing or negative, CNSR is not a
        non-negative integer, or a subject has two records of one parameter.
    """
    missing = [c for c in REQUIRED if c not in adtte.columns]
    if missing:
        raise DataError(f"ADTTE has no {', '.join(missing)} column; a time-to-event dataset needs "
                        f"{', '.join(REQUIRED)} (CNSR = 0 for an event, 1 or more for a censored time).")
    frame = adtte.reset_index(drop=True)
    time = pd.to_numeric(frame["AVAL"], errors="coerce")
    bad_time = time.isna() | (time < 0)
    if bad_time.any():
        raise DataError(f"ADTTE has {int(bad_time.sum())} record(s) whose AVAL is missing, not a number "
                        f"or negative (e.g. {_examples(frame, bad_time)}). Every record needs the time "
                        "from the origin to the event or censoring, zero or more.")
    cnsr = pd.to_numeric(frame["CNSR"], errors="coerce")
    bad_cnsr = cnsr.isna() | (cnsr < 0) | (cnsr != np.round(cnsr))
    if bad_cnsr.any():
        raise DataError(f"ADTTE has {int(bad_cnsr.sum())} record(s) whose CNSR is not 0 (event) or a "
                        f"positive integer (censored) (e.g. {_examples(frame, bad_cnsr)}). Fix CNSR.")
    twice = frame.duplicated(["USUBJID", "PARAMCD"], keep=False)
    if twice.any():
        raise DataError(f"ADTTE has {int(twice.sum())} records that repeat a subject and parameter (e.g. "
                        f"{_examples(frame, twice)}); keep one record per subject and PARAMCD.")
    label = frame["PARAM"] if "PARAM" in frame.columns else frame["PARAMCD"]
    unit = (frame["AVALU"] if "AVALU" in frame.columns
            else pd.Series(_unit_from_dates(frame, time), index=frame.index))
    out = pd.DataFrame({
        S.SUBJECT_ID: frame["USUBJID"].astype(str),
        S.PARAMETER: frame["PARAMCD"].astype(str),
        S.PARAMETER_LABEL: label.fillna(frame["PARAMCD"]).astype(str),
        S.TIME: time.astype(float),
        # ADaM codes a censored time as CNSR >= 1; the table says whether the event happened.
        S.EVENT: (cnsr == 0).astype(int),
        S.TIME_UNIT: unit.fillna("").astype(str).str.lower(),
    })
    known = out[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])
    if not known.all():
        warnings.warn(f"ADTTE: {int((~known).sum())} record(s) of subjects without an arm in ADSL were left "
                      "out of the time-to-event analyses.", stacklevel=2)
    return out[known].reset_index(drop=True)


def read_time_to_event(available: dict[str, DataFile], subjects: pd.DataFrame) -> pd.DataFrame:
    """The time-to-event table of an ADaM study's datasets: from ``adtte`` if present, else empty.

    Parameters
    ----------
    available : dict
        Dataset name (lower case) -> file, as :func:`respine.io.adam.datasets_of` gives them.
    subjects : DataFrame
        The trial's subject table.
    """
    if DATASET not in available:
        return S.empty_time_to_event()
    # The ADaM reader (upper-case names, blanks missing), imported here because adam imports us.
    from respine.io.adam import read_table

    return time_to_event(read_table(available[DATASET]), subjects)
