"""CDISC ADaM studies: ADSL, BDS datasets and ADAE read into the product's :class:`Trial`.

Every rule below is applied by :func:`read_adam`, which returns the notes
(:class:`respine.errors.Problem`, severity "info", "warning" or "error") that say which rule was
applied and how many subjects and records it kept or left out, per dataset. ``respine validate``
and the Load data page print them.

Subjects (ADSL)
    One row per ``USUBJID`` (a repeated id is an error naming it). ``TRT01P`` (else ``ARM``,
    ``TRTP``) is the arm; screen failures ("Screen Failure"), subjects not assigned or not
    randomised ("Not Assigned", "Not Randomized", ``RANDFL`` = "N") and subjects with a blank arm
    are not analysed, with a note counting each. An arm named placebo, sham, vehicle or control is
    the reference unless another is chosen. Population flags (``ITTFL``, ``FASFL``, ``MITTFL``,
    ``EFFFL``, ``RANDFL``, ``SAFFL``, ``PPROTFL``, ``COMPxxFL``) become populations from whatever
    exists; values Y/N, Yes/No, 1/0 and true/false are understood (blank is "N", counted), any other
    value is an error naming the column and the values. The default population is the first
    present in :data:`DEFAULT_POPULATION_ORDER`.

Measurements (BDS datasets, any name)
    Every dataset with ``PARAMCD``, ``AVISITN`` and ``AVAL`` (or ``AVALC``) is a BDS dataset; each
    ``PARAMCD`` is an endpoint (``PARAM`` its label, ``AVALU`` its unit), its id qualified by the
    dataset (``ADVS.WEIGHT``) when two loaded datasets share the code. By default every BDS dataset
    is loaded except the safety and pharmacokinetic measurements (laboratory ``ADLB*``, vital signs
    ``ADVS``, ECG ``ADEG``, exposure ``ADEX``, ``ADPC``/``ADPP``) and time-to-event ``ADTTE``, which
    has no visits; they are named in a note and loaded on request (``bds=("advs",)``), or when no
    other BDS dataset exists. The direction of benefit is unknown (``lower_is_better=None``) unless
    a ``study.toml`` beside the datasets declares it in ``[endpoints.<PARAMCD>]`` tables, read by
    the same reader as the product's own layout.

    One record per subject, parameter and analysis visit is kept, by the chosen
    :data:`RECORD_RULES` entry (default ``"analysis"``): records without a result, unscheduled
    records (``AVISIT`` "Unscheduled", or no ``AVISITN``) and records before the baseline visit are
    left out; the baseline record is the ``ABLFL`` = "Y" one, moved to the baseline visit (else,
    where a subject has no baseline visit record, ``BASE``); where a parameter has ``ANL01FL``,
    only its flagged records are used; then, among the records left at one visit, a
    ``DTYPE`` = "AVERAGE" record over the visit's time points, else an observed record before a
    derived one, else the last time point (``ATPTN``; or the first, or the record nearest the
    target day ``AWTARGET``, by rule). Records still tied are told apart by analysis day and
    file order, with a warning. The kept record's ``DTYPE`` stays in ``S.RECORD_TYPE``. Text
    results (``AVALC`` with ``AVAL`` missing) that are numbers are converted, with a note; others
    ("ND", "<0.5") are counted by value in a warning and left out. An "End of Treatment" visit
    (``AVISITN`` 99) is kept as a visit of its own, after the scheduled ones.

Adverse events (ADAE)
    Treatment-emergent events (``TRTEMFL`` = "Y") feed the safety views.

References
----------
.. [1] CDISC. Analysis Data Model Implementation Guide, version 1.1. 2016 (sections 3.2
   ADSL, 4 BDS: ABLFL, ANLzzFL, DTYPE, AVISIT/AVISITN, ATPT/ATPTN, AWTARGET).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from respine.errors import DataError, Problem
from respine.io import files, tte
from respine.io.files import DataFile
from respine.model import design as S
from respine.model.endpoints import Endpoint

# Safety, pharmacokinetic and time-to-event datasets: not loaded unless asked for (see the module doc).
NOT_BY_DEFAULT = re.compile(r"^ad(lb|vs|eg|ex|pc|pp|tte)", re.IGNORECASE)
OCCURRENCE = ("adsl", "adae")
POPULATION_FLAGS = {
    "RANDFL": "Randomised",
    "ITTFL": "Intention to treat",
    "MITTFL": "Modified intention to treat",
    "FASFL": "Full analysis set",
    "EFFFL": "Efficacy",
    "PPROTFL": "Per protocol",
    "SAFFL": "Safety",
}
# The default population: the first of these flags ADSL has (then a completer flag, then all).
DEFAULT_POPULATION_ORDER = ("ITTFL", "FASFL", "MITTFL", "EFFFL", "RANDFL", "SAFFL", "PPROTFL")
COMPLETER = re.compile(r"^COMP(\d+)FL$")
REFERENCE_NAME = re.compile(r"placebo|sham|vehicle|control", re.IGNORECASE)
SCREEN_FAILURE = re.compile(r"^screen(ing)?[ _-]*fail", re.IGNORECASE)
NOT_ASSIGNED = re.compile(r"^not[ _-]*(assigned|randomi[sz]ed|treated)$|^no treatment$", re.IGNORECASE)
UNSCHEDULED = re.compile(r"unsch", re.IGNORECASE)
BASELINE_LABEL = re.compile(r"baseline", re.IGNORECASE)
END_OF_TREATMENT = re.compile(r"end of (treatment|study|therapy)|^eot$|^eos$", re.IGNORECASE)
AVERAGE_TYPES = ("AVERAGE", "AVG", "MEAN")
FLAG_TRUE = ("Y", "YES", "1", "1.0", "TRUE", "T")
FLAG_FALSE = ("N", "NO", "0", "0.0", "FALSE", "F")
COVARIATE_CANDIDATES = (
    "SEX",
    "AGE",
    "AGEGR1",
    "RACE",
    "ETHNIC",
    "COUNTRY",
    "SITEID",
    "SITEGR1",
    "REGION1",
    "BMIBL",
    "WEIGHTBL",
    "HEIGHTBL",
    "EDUCLVL",
    "DURDIS",
    "MMSETOT",
    "STRATAR1",
)


@dataclass(frozen=True)
class RecordRule:
    """How one analysis record per subject, parameter and visit is chosen from a BDS dataset.

    Attributes
    ----------
    id : str
        Stable identifier (``load_adam(record_rule=...)``, ``respine validate --record-rule``).
    label : str
        What the Load data page offers.
    use_flag : bool
        Keep only ``ANL01FL`` = "Y" records of a parameter that has any.
    prefer_average : bool
        Prefer a ``DTYPE`` = "AVERAGE" record over the visit's time points.
    within_visit : {"last", "first", "target"}
        Then the last or first time point (``ATPTN``), or the record nearest the visit's target
        day (``|ADY - AWTARGET|``, the later on a tie).
    """

    id: str
    label: str
    use_flag: bool
    prefer_average: bool
    within_visit: Literal["last", "first", "target"]


RECORD_RULES: tuple[RecordRule, ...] = (
    RecordRule("analysis", "ANL01FL = 'Y', then the visit's AVERAGE record, else its last time point",
               True, True, "last"),
    RecordRule("first_timepoint", "ANL01FL = 'Y', then the visit's AVERAGE record, else its first "
               "time point", True, True, "first"),
    RecordRule("target_day", "ANL01FL = 'Y', then the visit's AVERAGE record, else the record "
               "nearest its target day (AWTARGET)", True, True, "target"),
    RecordRule("timepoints_only", "ANL01FL = 'Y', AVERAGE records left out: the visit's last "
               "time point", True, False, "last"),
    RecordRule("ignore_flag", "Every record (ANL01FL ignored), then the visit's AVERAGE record, "
               "else its last time point", False, True, "last"),
)
DEFAULT_RECORD_RULE = RECORD_RULES[0].id


class AdamError(DataError):
    """A :class:`DataError` that knows the file it is about (for the validation report)."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(message)
        self.file = file


def record_rule(rule_id: str | None) -> RecordRule:
    """The :data:`RECORD_RULES` entry of ``rule_id`` (``None``: the default).

    Raises
    ------
    DataError
        For an unknown id; the message lists the valid ones.
    """
    wanted = DEFAULT_RECORD_RULE if rule_id in (None, "") else str(rule_id).strip().lower()
    for r in RECORD_RULES:
        if r.id == wanted:
            return r
    raise DataError(f"Unknown record rule '{rule_id}'; choose one of "
                    f"{', '.join(r.id for r in RECORD_RULES)}.")


def read_table(file: DataFile | Path, notes: list[str] | None = None) -> pd.DataFrame:
    """Read one ADaM dataset (any format :func:`respine.io.files.read_table` reads); upper-case
    column names; blank strings become missing."""
    if isinstance(file, Path):
        file = DataFile(file.name, path=file)
    frame = files.read_table(file, notes)
    frame.columns = [str(c).upper() for c in frame.columns]
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            # text only: vectorised (the element-wise path below costs ~1 s on the pilot's datasets)
            text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
            stripped = text.str.strip()
            stripped = stripped.mask(stripped.fillna("") == "")
            frame[col] = stripped.astype(object).where(stripped.notna(), None)
            continue
        frame[col] = values.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                or (isinstance(v, str) and not v.strip())
                                else (v.strip() if isinstance(v, str) else v))
    return frame


def datasets_of(available: dict[str, DataFile]) -> dict[str, DataFile]:
    """Dataset name (lower case, no extension) -> file, preferring parquet, then xpt, sas7bdat, csv."""
    found: dict[str, DataFile] = {}
    rank = {".parquet": 0, ".xpt": 1, ".sas7bdat": 2, ".csv": 3, ".tsv": 4, ".txt": 5, ".xlsx": 6}
    for f in available.values():
        if f.suffix in rank and (f.stem not in found or rank[f.suffix] < rank[found[f.stem].suffix]):
            found[f.stem] = f
    return found


def find_datasets(folder: Path) -> dict[str, DataFile]:
    return datasets_of(files.folder_files(folder))


def is_adam(available: dict[str, DataFile]) -> bool:
    return "adsl" in datasets_of(available)


def is_adam_folder(folder: Path) -> bool:
    return folder.is_dir() and is_adam(files.folder_files(folder))


def _text(series: pd.Series) -> pd.Series:
    """Upper-case stripped text of a column; missing becomes ""."""
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                      else str(v).strip().upper())


def _yes(series: pd.Series) -> pd.Series:
    return _text(series).isin(FLAG_TRUE)


def _flag(adsl: pd.DataFrame, col: str, errors: list[str], notes: list[Problem],
          file: str = "ADSL") -> pd.Series:
    """A Y/N flag column as booleans; values other than the understood spellings are an error."""
    text = _text(adsl[col])
    bad = sorted(set(text) - set(FLAG_TRUE) - set(FLAG_FALSE) - {""})
    if bad:
        errors.append(f"ADSL column {col} holds {bad}, which are not flag values; write Y or N "
                      "(Yes/No, 1/0 and true/false are also understood).")
    blank = int((text == "").sum())
    if blank:
        notes.append(Problem("info", file, f"{blank} subjects have {col} blank, read as 'N' (not in "
                             "the population).", column=col))
    return text.isin(FLAG_TRUE)


def _ids(values: pd.Series | list, limit: int = 8) -> str:
    vals = [str(v) for v in values]
    return ", ".join(vals[:limit]) + (f" and {len(vals) - limit} more" if len(vals) > limit else "")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _subjects(adsl: pd.DataFrame, notes: list[Problem], file: str = "ADSL"
              ) -> tuple[pd.DataFrame, tuple[S.Population, ...], tuple[S.Covariate, ...], str]:
    """Analysed subjects, populations, covariates and the default population, from ADSL.

    Raises
    ------
    DataError
        For a missing USUBJID or arm column, repeated subject ids or flag values that are not
        flags (all of them listed in one message).
    """
    if "USUBJID" not in adsl.columns:
        raise AdamError(file, "ADSL has no USUBJID column; it is required to identify subjects.")
    arm_col = next((c for c in ("TRT01P", "ARM", "TRTP") if c in adsl.columns), None)
    if arm_col is None:
        raise AdamError(file, "ADSL has no TRT01P or ARM column; one is needed to know each subject's arm.")
    errors: list[str] = []
    ids = adsl["USUBJID"].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                              else str(v).strip())
    if (ids == "").any():
        errors.append(f"ADSL has {_plural(int((ids == '').sum()), 'row')} with USUBJID blank (rows "
                      f"{_ids([i + 2 for i in np.flatnonzero(ids == '')])}); every subject needs an id.")
    repeated = ids[ids.duplicated(keep=False) & (ids != "")].unique()
    if len(repeated):
        errors.append(f"ADSL has more than one row for {_plural(len(repeated), 'subject')} "
                      f"({_ids(repeated)}); ADSL holds one row per subject: remove the repeated rows.")
    flags = {}
    for col in adsl.columns:
        if col in POPULATION_FLAGS or COMPLETER.match(col):
            flags[col] = _flag(adsl, col, errors, notes, file)
    if errors:
        raise AdamError(file, "\n".join(errors))
    arm = adsl[arm_col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                            else str(v).strip())
    # A screen failure often has TRT01P blank and ARM (or ACTARM) "Screen Failure": where the arm
    # column is blank, the other arm columns say why.
    why = arm.copy()
    for other in ("ARM", "ACTARM"):
        if other in adsl.columns and other != arm_col:
            fill = adsl[other].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                   else str(v).strip())
            why = why.where(why != "", fill)
    screen = why.map(lambda a: bool(SCREEN_FAILURE.match(a))).astype(bool)
    unassigned = why.map(lambda a: bool(NOT_ASSIGNED.match(a))).astype(bool) & ~screen
    if "RANDFL" in flags:
        unassigned = unassigned | (~flags["RANDFL"] & ~screen)
    blank = (arm == "") & ~screen & ~unassigned
    arm = arm.where(~(screen | unassigned), "")
    keep = ~(screen | unassigned | blank)
    left_out = []
    if screen.any():
        left_out.append(_plural(int(screen.sum()), "screen failure"))
    if unassigned.any():
        left_out.append(f"{_plural(int(unassigned.sum()), 'subject')} not randomised or not assigned "
                        f"to an arm ({arm_col} 'Not Assigned' or RANDFL = 'N')")
    if left_out:
        notes.append(Problem("info", file, f"{' and '.join(left_out)} are not analysed; "
                             f"{int(keep.sum())} subjects in arms remain.", column=arm_col))
    if blank.any():
        notes.append(Problem("warning", file, f"{_plural(int(blank.sum()), 'subject')} have no arm "
                             f"({arm_col} blank: {_ids(ids[blank])}) and are not analysed; give each "
                             "subject its planned arm, or 'Screen Failure'.", column=arm_col))
    s = pd.DataFrame({S.SUBJECT_ID: ids[keep], S.ARM: arm[keep]})
    adsl = adsl.loc[s.index]
    pops = []
    for col in adsl.columns:
        label = POPULATION_FLAGS.get(col)
        m = COMPLETER.match(col)
        if label is None and m:
            label = f"Completers of week {m.group(1)}"
        if label is None:
            continue
        key = f"pop_{col.lower()}"
        s[key] = np.where(flags[col][keep], "Y", "N")
        pops.append(S.Population(col.removesuffix("FL"), label, key, f"ADSL.{col} = 'Y'"))
    s["pop_all"] = "Y"
    pops.append(S.Population("ALL", "All subjects in ADSL", "pop_all", "Every ADSL record with an arm"))
    by_flag = {f"{p.id}FL": p for p in pops}
    chosen = next((by_flag[f] for f in DEFAULT_POPULATION_ORDER if f in by_flag), None)
    chosen = chosen or next((p for p in pops if COMPLETER.match(f"{p.id}FL")), pops[-1])
    notes.append(Problem("info", file, f"Populations: {', '.join(p.id for p in pops)}. Default: "
                         f"{chosen.label} ({chosen.id}), the first present of "
                         f"{', '.join(DEFAULT_POPULATION_ORDER)}, else a completer flag, else all "
                         "subjects."))
    covariates = []
    for col in COVARIATE_CANDIDATES:
        if col not in adsl.columns or adsl[col].isna().all():
            continue
        values = adsl[col]
        numeric = pd.api.types.is_numeric_dtype(values)
        kind = "continuous" if numeric and values.nunique() > 8 else "categorical"
        if kind == "categorical" and values.nunique() > 40:
            continue
        s[col.lower()] = values.to_numpy()
        covariates.append(S.Covariate(col.lower(), col, kind))
    if "SAFFL" in flags:
        s["treated"] = np.where(flags["SAFFL"][keep], "Y", "N")
    if "DTHFL" in adsl.columns:
        # ADaM's death flag is "Y" or blank: blank means no death recorded, not unknown.
        s["died"] = np.where(_yes(adsl["DTHFL"]), "Y", "N")
    if "EOSSTT" in adsl.columns:
        done = adsl["EOSSTT"].astype(str).str.upper().eq("COMPLETED")
        s["status"] = np.where(done, "Completed", "Withdrew")
        reason = adsl["DCSREAS"] if "DCSREAS" in adsl.columns else pd.Series("", index=adsl.index)
        s["withdrawal_reason"] = np.where(
            done, "", reason.fillna("").astype(str).str.strip().str.capitalize()
        )
    return s.reset_index(drop=True), tuple(pops), tuple(covariates), chosen.id


def _results(file: str, d: pd.DataFrame, notes: list[Problem]) -> pd.Series:
    """AVAL as numbers; a text result (AVALC where AVAL is missing, or text in AVAL) that is a
    number is converted, with a note; other text is counted by value in a warning (and is NaN)."""
    aval = d["AVAL"] if "AVAL" in d.columns else pd.Series(np.nan, index=d.index)
    num = pd.to_numeric(aval, errors="coerce")
    text = pd.Series(None, index=d.index, dtype=object)
    in_aval = aval.notna() & num.isna()
    text[in_aval] = aval[in_aval].astype(str)
    if "AVALC" in d.columns:
        use = num.isna() & ~in_aval & d["AVALC"].notna()
        text[use] = d.loc[use, "AVALC"].astype(str)
    given = text.notna()
    if not given.any():
        return num.astype(float)
    converted = pd.to_numeric(text.where(given).str.strip(), errors="coerce")
    ok = given & converted.notna()
    if ok.any():
        codes = sorted(d.loc[ok, "PARAMCD"].astype(str).unique())
        notes.append(Problem("info", file, f"{_plural(int(ok.sum()), 'result')} written as text "
                             f"(AVALC with AVAL missing) are numbers and were read as such "
                             f"(PARAMCD {', '.join(codes)}).", column="AVALC"))
        num = num.where(~ok, converted)
    other = given & converted.isna()
    if other.any():
        counts = Counter(text[other].str.strip())
        shown = ", ".join(f"'{v}' x{n}" for v, n in counts.most_common(6))
        codes = sorted(d.loc[other, "PARAMCD"].astype(str).unique())
        notes.append(Problem(
            "warning", file, f"{_plural(int(other.sum()), 'result is', 'results are')} text, not "
            f"numbers, and {'is' if int(other.sum()) == 1 else 'are'} left out: {shown}"
            f"{' and others' if len(counts) > 6 else ''} (PARAMCD {', '.join(codes[:10])}). To analyse "
            "them, put a number in AVAL (a result below a limit of quantification, for instance, as "
            "the limit or half of it, as the analysis plan says).",
            column="AVALC" if "AVALC" in d.columns else "AVAL"))
    return num.astype(float)


def _visit_numbers(file: str, d: pd.DataFrame) -> pd.Series:
    raw = d["AVISITN"]
    num = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & num.isna()
    if bad.any():
        examples = ", ".join(f"'{v}'" for v in raw[bad].astype(str).unique()[:5])
        first = int(np.flatnonzero(bad)[0]) + 2
        raise AdamError(file, f"Column AVISITN holds text ({examples}) in "
                        f"{_plural(int(bad.sum()), 'row')}, the first at row {first}. "
                        "AVISITN is the analysis visit's number: put the number there and the visit's "
                        "name in AVISIT.")
    return num.astype(float)


REASONS = {
    "no_result": "have no result (AVAL and AVALC empty)",
    "text": "are text results (see the warning)",
    "subject": "belong to subjects who are not analysed (screen failures, not randomised, no arm "
               "or not in ADSL)",
    "unscheduled": "are unscheduled (AVISIT 'Unscheduled' or no AVISITN) and not assigned to an "
                   "analysis visit",
    "pre_baseline": "lie before the baseline visit (screening, run-in)",
    "not_baseline": "lie at the baseline visit but are not the baseline record (ABLFL = 'Y')",
    "flag": "are not flagged ANL01FL = 'Y' in a parameter that uses the flag",
    "average_unused": "are AVERAGE records, which this rule does not use",
    "averaged": "are time points whose visit has an AVERAGE record, which is kept instead",
    "derived": "are derived records (DTYPE) at a visit that has an observed record",
    "timepoint": "are other time points of their visit",
    "target": "lie further from the visit's target day than the kept record",
    "tied": "tie with another record of the same subject, parameter and visit (see the warning)",
}


def _records(file: str, d: pd.DataFrame, rule: RecordRule, analysed: set[str],
             notes: list[Problem]) -> pd.DataFrame:
    """One record per subject, parameter and visit of one BDS dataset, by ``rule`` (see the
    module docstring), with an info note counting every record left out and why."""
    n_read = len(d)
    value = _results(file, d, notes)
    visit_n = _visit_numbers(file, d)
    label = (d["AVISIT"].astype(object).where(d["AVISIT"].notna(), None) if "AVISIT" in d.columns
             else pd.Series(None, index=d.index, dtype=object))
    label = pd.Series([str(lab) if lab is not None else (f"Visit {n:g}" if not np.isnan(n) else "")
                       for lab, n in zip(label, visit_n, strict=True)], index=d.index)
    r = pd.DataFrame({
        "subject": d["USUBJID"].astype(str).str.strip().to_numpy(),
        "param": d["PARAMCD"].astype(str).str.strip().to_numpy(),
        "visit_n": visit_n.to_numpy(), "label": label.to_numpy(), "value": value.to_numpy(),
        "dtype": (_text(d["DTYPE"]).to_numpy() if "DTYPE" in d.columns else S.OBSERVED),
        "abl": (_yes(d["ABLFL"]).to_numpy() if "ABLFL" in d.columns else False),
        "anl": (_yes(d["ANL01FL"]).to_numpy() if "ANL01FL" in d.columns else False),
        "atptn": (pd.to_numeric(d["ATPTN"], errors="coerce").to_numpy() if "ATPTN" in d.columns
                  else np.nan),
        "ady": pd.to_numeric(d["ADY"], errors="coerce").to_numpy() if "ADY" in d.columns else np.nan,
        "target": (pd.to_numeric(d["AWTARGET"], errors="coerce").to_numpy() if "AWTARGET" in d.columns
                   else np.nan),
        "base": pd.to_numeric(d["BASE"], errors="coerce").to_numpy() if "BASE" in d.columns else np.nan,
        "order": np.arange(n_read),
    })
    dropped: Counter[str] = Counter()

    def leave_out(mask: pd.Series | np.ndarray, reason: str) -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            dropped[reason] += int(mask.sum())
        return r[~mask]

    had_text = r["value"].isna().to_numpy() & _has_text(d)
    r = leave_out(had_text, "text")
    r = leave_out(r["value"].isna(), "no_result")
    r = leave_out(~r["subject"].isin(analysed), "subject")
    # the baseline visit: where the ABLFL records are (else a visit named Baseline, else the first)
    if r["abl"].any():
        at = r.loc[r["abl"], "visit_n"].dropna()
        base_n = float(at.mode().iloc[0]) if len(at) else 0.0
        named = r.loc[r["abl"], "label"]
        base_label = str(named.mode().iloc[0]) if len(named) else "Baseline"
        base_label = base_label if BASELINE_LABEL.search(base_label) else "Baseline"
        moved = r["abl"] & (r["visit_n"] != base_n)
        if moved.any():
            notes.append(Problem("info", file, f"{_plural(int(moved.sum()), 'baseline record')} "
                                 f"(ABLFL = 'Y') at another visit were counted at the baseline "
                                 f"visit ({base_label}).", column="ABLFL"))
        r.loc[r["abl"], ["visit_n", "label"]] = (base_n, base_label)
        base_how = f"the ABLFL = 'Y' record, at the baseline visit (AVISITN {base_n:g})"
    else:
        is_named = r["label"].map(lambda s: bool(BASELINE_LABEL.search(s))).astype(bool)
        named = r[is_named & r["visit_n"].notna()]
        scheduled = r["visit_n"].dropna()
        first_n = float(scheduled.min()) if len(scheduled) else 0.0
        at_first = r[r["visit_n"] == first_n]
        base_label = ""
        if len(named):
            base_n = float(named["visit_n"].mode().iloc[0])
            base_how = f"the visit named {named['label'].mode().iloc[0]} (AVISITN {base_n:g}; no ABLFL)"
        elif r["base"].notna().any() and not (at_first["value"] == at_first["base"]).mean() >= 0.5:
            # no baseline record at all, BASE on the others: a baseline visit before the first
            base_n = 0.0 if first_n > 0 else first_n - 1
            base_label = "Baseline"
            base_how = f"BASE, as a baseline visit (AVISITN {base_n:g}) before the first record"
        else:
            # No ABLFL, no visit named Baseline, no BASE: the parameter has no baseline value (the
            # CIBIC+ is itself a rating of change). Its first visit is not a baseline: taking it as
            # one would adjust later visits for a post-baseline value.
            base_n = 0.0 if first_n > 0 else first_n - 1
            base_how = ("none: no record is flagged ABLFL = 'Y', none is at a visit named Baseline and "
                        "there is no BASE, so change from baseline is not defined")
    unscheduled = ~r["abl"] & (r["visit_n"].isna()
                               | r["label"].map(lambda s: bool(UNSCHEDULED.search(s))).astype(bool))
    r = leave_out(unscheduled, "unscheduled")
    r = leave_out(~r["abl"] & (r["visit_n"] < base_n), "pre_baseline")
    has_abl = r.groupby("param")["abl"].transform("any")
    r = leave_out(has_abl & ~r["abl"] & (r["visit_n"] == base_n), "not_baseline")
    if rule.use_flag and "ANL01FL" in d.columns:
        uses_flag = r.groupby("param")["anl"].transform("any")
        r = leave_out(uses_flag & ~r["anl"] & ~r["abl"], "flag")
    is_avg = r["dtype"].isin(AVERAGE_TYPES)
    if not rule.prefer_average:
        r = leave_out(is_avg, "average_unused")
        is_avg = r["dtype"].isin(AVERAGE_TYPES)
    # records from BASE where a subject has a post-baseline record but no baseline visit record
    filled = 0
    if "BASE" in d.columns:
        with_base = r[r["base"].notna()].drop_duplicates(["subject", "param"])
        has_base = set(map(tuple, r.loc[r["visit_n"] == base_n, ["subject", "param"]].to_numpy()))
        add = with_base[[(s, p) not in has_base for s, p in zip(with_base["subject"], with_base["param"],
                                                                 strict=True)]]
        if len(add):
            base_rows = add.assign(visit_n=base_n, value=add["base"], dtype=S.OBSERVED, abl=True,
                                   anl=True, atptn=np.nan, ady=np.nan, target=np.nan,
                                   label=base_label or (r.loc[r["visit_n"] == base_n, "label"].mode().iloc[0]
                                                        if (r["visit_n"] == base_n).any() else "Baseline"))
            filled = len(base_rows)
            r = pd.concat([r, base_rows], ignore_index=True)
            is_avg = r["dtype"].isin(AVERAGE_TYPES)
    key = ["subject", "param", "visit_n"]
    r = r.assign(
        p_avg=np.where(is_avg, 0, 1) if rule.prefer_average else 0,
        p_obs=np.where(r["dtype"] == S.OBSERVED, 0, 1),
        p_tp=(-r["atptn"] if rule.within_visit == "last" else r["atptn"]).fillna(np.inf)
        if rule.within_visit != "target" else (r["ady"] - r["target"]).abs().fillna(np.inf),
        p_day=(-r["ady"]).fillna(np.inf), p_row=-r["order"],
    )
    r = r.sort_values([*key, "p_avg", "p_obs", "p_tp", "p_day", "p_row"], kind="mergesort")
    first = ~r.duplicated(key, keep="first")
    kept, rest = r[first], r[~first]
    tied_examples: list[str] = []
    if len(rest):
        k = kept.set_index(key)
        best = k.loc[pd.MultiIndex.from_frame(rest[key])]
        lost = rest.reset_index(drop=True)
        best = best.reset_index(drop=True)
        reason = np.select(
            [best["p_avg"].to_numpy() < lost["p_avg"].to_numpy(),
             best["p_obs"].to_numpy() < lost["p_obs"].to_numpy(),
             (best["p_tp"].to_numpy() < lost["p_tp"].to_numpy()) & (rule.within_visit != "target"),
             (best["p_tp"].to_numpy() < lost["p_tp"].to_numpy()) & (rule.within_visit == "target")],
            ["averaged", "derived", "timepoint", "target"], default="tied")
        dropped.update(Counter(reason.tolist()))
        ties = lost[reason == "tied"]
        examples = ties[["subject", "param", "label"]].drop_duplicates().head(3)
        tied_examples = [f"{s} {p} at {lab}" for s, p, lab in examples.itertuples(index=False)]
    if dropped.get("tied"):
        notes.append(Problem(
            "warning", file, f"{_plural(dropped['tied'], 'record')} share their subject, parameter and "
            f"visit with another that nothing tells apart (ATPTN, DTYPE, ANL01FL, ABLFL; for example "
            f"{'; '.join(tied_examples)}); the later by ADY, then by file order, was kept. Flag the "
            "analysis record with ANL01FL = 'Y', or choose another record rule."))
    parts = [f"{n} {REASONS[why]}" for why, n in sorted(dropped.items(), key=lambda kv: -kv[1])]
    n_subjects, n_params = kept["subject"].nunique(), kept["param"].nunique()
    notes.append(Problem(
        "info", file, f"Record rule '{rule.id}' ({rule.label}): {len(kept)} of {n_read} records "
        f"kept, one per subject, parameter and visit ({_plural(n_subjects, 'subject')}, "
        f"{_plural(n_params, 'parameter')})"
        + (f", {filled} of them baseline values from BASE (no baseline visit record)" if filled else "")
        + (". Left out: " + "; ".join(parts) if parts else ". No record was left out")
        + f". Baseline: {base_how}."))
    eot = kept.loc[kept["label"].map(lambda s: bool(END_OF_TREATMENT.search(s))).astype(bool),
                   ["visit_n", "label"]].drop_duplicates("visit_n")
    for n, lab in eot.itertuples(index=False):
        notes.append(Problem("info", file, f"'{lab}' (AVISITN {n:g}) is kept as a visit of its own, "
                             "after the scheduled visits; it usually repeats a subject's last "
                             "scheduled result, so compare arms at a scheduled visit.", column="AVISIT"))
    kept = kept.assign(is_base=kept["visit_n"] == base_n)
    return kept[["subject", "param", "visit_n", "label", "value", "dtype", "is_base"]].reset_index(drop=True)


def _has_text(d: pd.DataFrame) -> np.ndarray:
    """Rows whose result is text in AVAL or AVALC (a number or not)."""
    aval = d["AVAL"] if "AVAL" in d.columns else pd.Series(np.nan, index=d.index)
    in_aval = aval.notna() & pd.to_numeric(aval, errors="coerce").isna()
    in_avalc = (aval.isna() & d["AVALC"].notna()) if "AVALC" in d.columns else False
    return np.asarray(in_aval | in_avalc, dtype=bool)


def _measurements(datasets: dict[str, tuple[str, pd.DataFrame]], rule: RecordRule, analysed: set[str],
                  notes: list[Problem]) -> tuple[pd.DataFrame, dict[str, Endpoint], bool]:
    """The kept records of every BDS dataset (name -> (file name, frame)) as measurements, an
    endpoint entry per parameter (its id qualified by the dataset where two share a PARAMCD), and
    whether any dataset has baseline records."""
    frames, info = [], {}
    picked: dict[str, pd.DataFrame] = {}
    for name, (file, d) in datasets.items():
        missing = [c for c in ("USUBJID", "PARAMCD", "AVISITN") if c not in d.columns]
        if "AVAL" not in d.columns and "AVALC" not in d.columns:
            missing.append("AVAL")
        if missing:
            raise AdamError(file, f"{name.upper()} is not a BDS dataset the explorer can use: columns "
                            f"{missing} are missing.")
        picked[name] = _records(file, d, rule, analysed, notes)
    _one_baseline_visit(picked, datasets, notes)
    codes = Counter(c for r in picked.values() for c in r["param"].unique())
    shared = sorted(c for c, n in codes.items() if n > 1)
    if shared:
        notes.append(Problem("info", "ADaM", f"PARAMCD {', '.join(shared)} occur in more than one "
                             "dataset; their endpoint ids name the dataset (for example "
                             f"{next(n for n, r in picked.items() if shared[0] in set(r['param'])).upper()}"
                             f".{shared[0]})."))
    for name, r in picked.items():
        d = datasets[name][1]
        ids = pd.Series([f"{name.upper()}.{c}" if c in shared else c for c in r["param"]], index=r.index)
        frames.append(pd.DataFrame({
            S.SUBJECT_ID: r["subject"].to_numpy(), S.ENDPOINT: ids.to_numpy(),
            S.VISIT: r["label"].to_numpy(), S.VISIT_MONTH: r["visit_n"].to_numpy(),
            S.VALUE: r["value"].to_numpy(), S.RECORD_TYPE: r["dtype"].to_numpy()}))
        labels = d.drop_duplicates("PARAMCD").assign(PARAMCD=lambda x: x["PARAMCD"].astype(str).str.strip())
        labels = labels.set_index("PARAMCD")
        for code, eid in dict(zip(r["param"], ids, strict=True)).items():
            values = r.loc[r["param"] == code, "value"]
            binary = set(values.dropna().unique()) <= {0.0, 1.0}
            has_label = "PARAM" in labels.columns and code in labels.index
            label = str(labels.at[code, "PARAM"]) if has_label else code
            unit = ""
            if "AVALU" in d.columns:
                units = d.loc[d["PARAMCD"].astype(str).str.strip() == code, "AVALU"].dropna().astype(str)
                unit = str(units.mode().iloc[0]) if len(units) else ""
            info[eid] = Endpoint(
                eid,
                label.strip().title() if label.isupper() else label.strip(),
                unit,
                "binary" if binary else "continuous",
                None,
                description=f"{name.upper()} PARAMCD {code}",
            )
    if not frames or not any(len(f) for f in frames):
        raise DataError("No BDS dataset with PARAMCD, AVISITN and AVAL was found next to ADSL"
                        + (" (the BDS datasets have no record left by the record rule; see the notes)."
                           if frames else "."))
    m = pd.concat(frames, ignore_index=True)
    return m.reset_index(drop=True), info, any(bool(r["is_base"].any()) for r in picked.values())


def _one_baseline_visit(picked: dict[str, pd.DataFrame], datasets: dict[str, tuple[str, pd.DataFrame]],
                        notes: list[Problem]) -> None:
    """Put every dataset's baseline records at one baseline visit, the earliest of theirs (the
    design's first visit, from which change is computed), under a label naming it baseline."""
    bases = {n: (float(r.loc[r["is_base"], "visit_n"].iloc[0]), str(r.loc[r["is_base"], "label"].iloc[0]))
             for n, r in picked.items() if r["is_base"].any()}
    if len(set(b[0] for b in bases.values())) < 2:
        return
    number = min(b[0] for b in bases.values())
    label = next((lab for n, lab in sorted(bases.values()) if n == number and BASELINE_LABEL.search(lab)),
                 next((lab for _, lab in bases.values() if BASELINE_LABEL.search(lab)), "Baseline"))
    for name, (n, lab) in bases.items():
        r = picked[name]
        if n != number or lab != label:
            r.loc[r["is_base"], ["visit_n", "label"]] = (number, label)
            notes.append(Problem("info", datasets[name][0], f"Its baseline visit ({lab}, AVISITN {n:g}) "
                                 f"is counted as the study's baseline visit ({label}, {number:g}), "
                                 "shared with the other datasets."))


#: The label of the baseline visit an ADaM study gets when no dataset has baseline records.
NO_BASELINE_LABEL = "Baseline (no records)"

ENDPOINT_KEYS = {"label": "label", "unit": "unit", "kind": "kind", "lower_is_better": "lower_is_better",
                 "range": "value_range", "description": "description", "derive": "derivation"}


def _declared(available: dict[str, DataFile], info: dict[str, Endpoint],
              notes: list[Problem]) -> dict[str, Endpoint]:
    """``[endpoints.<PARAMCD>]`` tables of a ``study.toml`` beside the datasets, merged over the
    entries read from the data (a key the table gives replaces the data's; the others stay).

    A table may name an endpoint by its id or by its PARAMCD (then every dataset's endpoint of that
    code); a table with ``derive`` adds a derived endpoint.
    """
    file = available.get("study.toml")
    if file is None:
        return info
    import tomllib

    from respine.io.product import _endpoint_from_toml

    try:
        doc = tomllib.loads(files.text_of(file)[0])
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise AdamError("study.toml", f"Beside the ADaM datasets, it cannot be read ({exc}); it holds "
                        "[endpoints.<PARAMCD>] tables such as lower_is_better = true.") from exc
    ignored = sorted(k for k in doc if k != "endpoints")
    if ignored:
        notes.append(Problem("warning", "study.toml", f"Beside ADaM datasets only [endpoints.<PARAMCD>] "
                             f"tables are read; {', '.join(f'[{k}]' for k in ignored)} "
                             "are ignored (arms, visits and populations come from ADSL and the BDS "
                             "datasets)."))
    info = dict(info)
    tables = doc.get("endpoints", {})
    if not isinstance(tables, dict):
        raise AdamError("study.toml", "[endpoints] must be a table of [endpoints.<PARAMCD>] tables.")
    for key, table in tables.items():
        if not isinstance(table, dict):
            continue
        targets = [key] if key in info else [e for e in info if e.rsplit(".", 1)[-1] == key]
        unknown = sorted(set(table) - set(ENDPOINT_KEYS))
        if unknown:
            notes.append(Problem("warning", "study.toml", f"[endpoints.{key}] keys {unknown} are not "
                                 f"known and are ignored; known: {', '.join(ENDPOINT_KEYS)}."))
        try:
            declared = _endpoint_from_toml(str(key), table)
        except (ValueError, KeyError, TypeError) as exc:
            raise AdamError("study.toml", f"[endpoints.{key}]: {exc}.") from exc
        if not targets:
            if declared.derivation is not None:
                info[str(key)] = declared
                continue
            notes.append(Problem("warning", "study.toml", f"[endpoints.{key}] names no parameter of the "
                                 f"data; it is ignored. Parameters: {', '.join(sorted(info))}."))
            continue
        given = {ENDPOINT_KEYS[k]: getattr(declared, ENDPOINT_KEYS[k]) for k in table if k in ENDPOINT_KEYS}
        for t in targets:
            info[t] = replace(info[t], **given)
    notes.append(Problem("info", "study.toml", f"Endpoint declarations read for "
                         f"{', '.join(str(k) for k, v in tables.items() if isinstance(v, dict)) or 'none'}; "
                         "the direction of benefit of the others is unknown."))
    return info


def _adverse_events(adae: pd.DataFrame | None) -> pd.DataFrame:
    """ADAE as the product's adverse-event table (:data:`respine.model.design.AE_COLUMNS`).

    Every ADAE record is kept, one row per event: ``event_id`` is ``USUBJID/AESEQ`` (the row
    position when AESEQ is absent), the organ class AEBODSYS (else AESOC) and the preferred term
    AEDECOD (else AETERM), "Not coded" where both are blank. The other columns are filled only
    from variables ADAE has, and only when at least one record gives a value; an absent or
    wholly blank variable leaves its column out (no data, never "N"):

    * ``serious`` AESER (Y/N); ``treatment_emergent`` TRTEMFL ("Y", else "N": ADaM leaves the
      flag blank on events that are not treatment-emergent);
    * ``relation`` AEREL as written (upper case) and ``related_product`` "Y" when it is one of
      :data:`~respine.model.design.RELATED_VALUES` (POSSIBLE, PROBABLE, DEFINITE, RELATED, ...),
      "N" for any other category (NONE, REMOTE, UNLIKELY, NOT RELATED), missing when blank;
    * ``severity`` AESEV (capitalised) and ``grade`` AETOXGR (the number in it, 1-5);
    * ``outcome`` AEOUT and ``fatal``: "Y" when AEOUT is FATAL or AESDTH is Y;
    * ``action`` AEACN and ``led_to_withdrawal``: "Y" when it is one of
      :data:`~respine.model.design.WITHDRAWN_ACTIONS` (DRUG WITHDRAWN, ...);
    * ``onset_day`` ASTDY (else AESTDY).

    ADSL's disposition (DCSREAS) is read into the subject table, where the safety overview and
    the participant flow both count withdrawals for an adverse event.
    """
    if adae is None:
        return S.no_adverse_events()
    adae = adae.reset_index(drop=True)

    def first(*names: str) -> str | None:
        """The first of ``names`` that ADAE has with a value in any record (read_table has made
        blank strings missing)."""
        return next((n for n in names if n in adae.columns and adae[n].notna().any()), None)

    def text(*names: str) -> pd.Series | None:
        """That variable stripped and upper case (missing stays missing), or None."""
        name = first(*names)
        if name is None:
            return None
        return adae[name].map(lambda v: None if pd.isna(v) else str(v).strip().upper())

    def flag(values: pd.Series, yes: pd.Series) -> pd.Series:
        out = pd.Series(np.where(yes, "Y", "N"), index=values.index, dtype=object)
        return out.where(values.notna(), None)

    if "USUBJID" not in adae.columns:
        raise DataError("ADAE has no USUBJID column; it is required to know whose event each record is.")
    subject = adae["USUBJID"].astype(str)
    seq = pd.to_numeric(adae["AESEQ"], errors="coerce") if "AESEQ" in adae.columns else None
    if seq is not None and seq.notna().all():
        ids = [f"{s}/{v:g}" for s, v in zip(subject, seq, strict=True)]
    else:  # without a sequence number each record is its own event
        ids = [f"{s}/row {i}" for i, s in enumerate(subject, start=1)]
    event_id = pd.Series(ids, index=adae.index, dtype=object)

    def coded(*names: str) -> pd.Series:
        """MedDRA names as written: the first variable of ``names``, blanks from the next."""
        values = pd.Series(None, index=adae.index, dtype=object)
        for name in names:
            if name in adae.columns:
                values = values.fillna(adae[name])
        return values.fillna("Not coded").astype(str)

    out = pd.DataFrame({
        S.SUBJECT_ID: subject,
        S.AE_EVENT_ID: event_id,
        S.AE_SOC: coded("AEBODSYS", "AESOC"),
        S.AE_TERM: coded("AEDECOD", "AETERM"),
    })
    serious = text("AESER")
    if serious is not None:
        out["serious"] = flag(serious, serious.isin(["Y", "YES"]))
    relation = text("AEREL")
    if relation is not None:
        out["related_product"] = flag(relation, relation.isin(S.RELATED_VALUES))
    outcome, death = text("AEOUT"), text("AESDTH")
    if outcome is not None or death is not None:
        known, fatal = pd.Series(False, index=adae.index), pd.Series(False, index=adae.index)
        if outcome is not None:
            known, fatal = known | outcome.notna(), fatal | outcome.eq("FATAL")
        if death is not None:
            known, fatal = known | death.notna(), fatal | death.isin(["Y", "YES"])
        out["fatal"] = flag(known.where(known, None), fatal)
    action = text("AEACN")
    if action is not None:
        out["led_to_withdrawal"] = flag(action, action.isin(S.WITHDRAWN_ACTIONS))
    if first("TRTEMFL"):
        out["treatment_emergent"] = np.where(_yes(adae["TRTEMFL"].fillna("")), "Y", "N").astype(object)
    if relation is not None:
        out["relation"] = relation
    severity = text("AESEV")
    if severity is not None:
        out["severity"] = severity.map(lambda v: v.capitalize() if isinstance(v, str) else None)
    if outcome is not None:
        out["outcome"] = outcome
    if action is not None:
        out["action"] = action
    grade = text("AETOXGR")
    if grade is not None:
        out["grade"] = pd.to_numeric(grade.str.extract(r"(\d+)", expand=False), errors="coerce")
    onset = first("ASTDY", "AESTDY")
    if onset is not None:
        out["onset_day"] = pd.to_numeric(adae[onset], errors="coerce")
    return out[[c for c in S.AE_COLUMNS if c in out.columns]].reset_index(drop=True)


def _choose_datasets(available: dict[str, DataFile], bds: tuple[str, ...] | None,
                     where: str, notes: list[Problem]) -> dict[str, tuple[str, pd.DataFrame]]:
    """The BDS datasets to load: ``bds`` as asked, else by the default rule (module docstring)."""
    others = [n for n in available if n not in OCCURRENCE]
    if bds is not None:
        asked = [str(n).lower().strip() for n in bds]
        unknown = [n for n in asked if n not in available]
        if unknown:
            raise DataError(f"Dataset {', '.join(unknown)} is not in {where}; available: "
                            f"{', '.join(sorted(available))}.")
        names = asked
    else:
        names = [n for n in others if not NOT_BY_DEFAULT.match(n)]
        skipped = [n for n in others if NOT_BY_DEFAULT.match(n)]
        if not names:  # only safety measurements: those are the study's measurements, then
            names = [n for n in skipped if not n.startswith("adtte")]
            skipped = [n for n in skipped if n.startswith("adtte")]
        if skipped:
            notes.append(Problem("info", "ADaM", f"{', '.join(n.upper() for n in sorted(skipped))} "
                                 "(safety, pharmacokinetic or time-to-event data) are not loaded by "
                                 "default; ask for them by name (load_adam(..., bds=('advs',)) or "
                                 "respine validate --bds advs)."))
    out: dict[str, tuple[str, pd.DataFrame]] = {}
    for n in names:
        read_notes: list[str] = []
        d = read_table(available[n], read_notes)
        notes.extend(Problem("warning", available[n].name, m) for m in read_notes)
        if "PARAMCD" in d.columns and ({"AVAL", "AVALC"} & set(d.columns)):
            out[n] = (available[n].name, d)
        elif bds is not None:
            raise DataError(f"{n.upper()} is not a BDS dataset the explorer can use: it has no PARAMCD "
                            "and AVAL (or AVALC) columns.")
        else:
            notes.append(Problem("info", available[n].name, f"{n.upper()} has no PARAMCD and AVAL columns: "
                                 "not a BDS dataset, not loaded."))
    return out


def read_adam(folder: str | Path | dict[str, DataFile], reference: str | None = None,
              bds: tuple[str, ...] | None = None, source: str | None = None,
              record_rule: str | None = None) -> tuple[S.Trial | None, list[Problem]]:
    """Load an ADaM study and say how: the trial (``None`` on an error) and the notes.

    Parameters are those of :func:`load_adam`. Never raises for bad input: every problem,
    and every rule applied with its counts, is a :class:`~respine.errors.Problem` of the list.
    """
    notes: list[Problem] = []
    try:
        trial = _load(folder, reference, bds, source, record_rule, notes)
    except DataError as exc:
        where = getattr(exc, "file", "ADaM")
        notes.extend(Problem("error", where, line) for line in str(exc).splitlines() if line.strip())
        return None, notes
    return trial, notes


def load_adam(folder: str | Path | dict[str, DataFile], reference: str | None = None,
              bds: tuple[str, ...] | None = None, source: str | None = None,
              record_rule: str | None = None, notes: list[Problem] | None = None) -> S.Trial:
    """Load an ADaM study: ADSL, BDS datasets and (optionally) ADAE, by the rules of this module.

    Parameters
    ----------
    folder : path-like or dict
        A folder, or uploaded files by name, holding ``adsl`` and other datasets as .xpt,
        .sas7bdat, .parquet or .csv, and optionally ``study.toml`` with
        ``[endpoints.<PARAMCD>]`` declarations (``lower_is_better``, ``label``, ``unit``, ...).
    reference : str, optional
        Reference arm; default the arm whose name says placebo, sham, vehicle or control, else
        the first arm in ``TRT01PN`` order.
    bds : tuple of str, optional
        BDS dataset names to use (e.g. ``("adadas", "adcibc")``); default every BDS dataset
        except the safety, pharmacokinetic and time-to-event ones (``ADLB*``, ``ADVS``, ``ADEG``,
        ``ADEX``, ``ADPC``, ``ADPP``, ``ADTTE``), which are loaded when no other exists.
    source : str, optional
        How the data are named in results (default: the folder).
    record_rule : str, optional
        Id of the :data:`RECORD_RULES` entry that picks one record per subject, parameter and
        visit (default ``"analysis"``).
    notes : list, optional
        Extended with the rules applied and their counts (see :func:`read_adam`).

    Raises
    ------
    DataError
        When the study cannot be loaded; the message lists every error.
    """
    trial, problems = read_adam(folder, reference, bds, source, record_rule)
    if notes is not None:
        notes.extend(problems)
    if trial is None:
        raise DataError("\n".join(p.message for p in problems if p.severity == "error"))
    return trial


def _load(folder: str | Path | dict[str, DataFile], reference: str | None, bds: tuple[str, ...] | None,
          source: str | None, rule_id: str | None, notes: list[Problem]) -> S.Trial:
    rule = record_rule(rule_id)
    if isinstance(folder, dict):
        raw, where = folder, source or "the uploaded files"
    else:
        folder = Path(folder)
        raw, where = files.folder_files(folder), str(folder)
        source = source or str(folder)
    available = datasets_of(raw)
    if "adsl" not in available:
        raise DataError(f"No ADSL dataset in {where}; an ADaM study needs adsl.xpt (or .sas7bdat, "
                        ".parquet, .csv).")
    read_notes: list[str] = []
    adsl = read_table(available["adsl"], read_notes)
    notes.extend(Problem("warning", available["adsl"].name, m) for m in read_notes)
    subjects, populations, covariates, default_pop = _subjects(adsl, notes, available["adsl"].name)
    datasets = _choose_datasets(available, bds, where, notes)
    measurements, info, has_baseline = _measurements(datasets, rule, set(subjects[S.SUBJECT_ID]), notes)
    info = _declared(raw, info, notes)
    order_col = next((c for c in ("TRT01PN", "TRTPN") if c in adsl.columns), None)
    arm_col = next(c for c in ("TRT01P", "ARM", "TRTP") if c in adsl.columns)
    arm_doses: dict[str, float] = {}
    if order_col:
        ordered = adsl.dropna(subset=[arm_col]).sort_values(order_col)
        arm_order = ordered[arm_col].astype(str).unique().tolist()
        # The numeric planned treatment is the arm's dose when each arm has exactly one value.
        numbers = pd.to_numeric(ordered[order_col], errors="coerce").groupby(ordered[arm_col].astype(str))
        if (numbers.nunique(dropna=True) == 1).all() and numbers.count().gt(0).all():
            arm_doses = {str(a): float(v) for a, v in numbers.first().items()}
    else:
        arm_order = sorted(subjects[S.ARM].unique())
    arm_order = [a for a in arm_order if a in set(subjects[S.ARM])]
    arm_doses = {a: arm_doses[a] for a in arm_order if a in arm_doses}
    if len(arm_order) < 2:
        raise DataError(f"ADSL has only one arm ({', '.join(arm_order)}); a comparison needs two or more.")
    if reference is None:
        reference = next((a for a in arm_order if REFERENCE_NAME.search(a)), arm_order[0])
    elif reference not in arm_order:
        raise DataError(f"Reference arm '{reference}' is not in the data; arms: {', '.join(arm_order)}.")
    visits = list(measurements.drop_duplicates(S.VISIT_MONTH).sort_values(S.VISIT_MONTH)
                  [[S.VISIT_MONTH, S.VISIT]].itertuples(index=False))
    if not has_baseline:
        # The design's first visit is its baseline (change is computed from it). No record is a
        # baseline here (a global impression of change such as CIBIC+ loaded alone), so the first
        # visit in the data must not become one: the design gets a baseline visit without records,
        # before every visit, and each endpoint is analysed as a value, without a baseline term.
        first = float(visits[0][0])
        visits.insert(0, (0.0 if first > 0 else first - 1.0, NO_BASELINE_LABEL))
        notes.append(Problem("info", "ADaM", "No dataset has a baseline record (ABLFL = 'Y', a visit named "
                             "Baseline, or BASE): every endpoint is analysed as its value at a visit, "
                             "without change from baseline or a baseline term."))
    study_id = str(adsl["STUDYID"].iloc[0]) if "STUDYID" in adsl.columns else "ADaM study"
    measured = sorted(set(measurements[S.ENDPOINT]))
    design = S.StudyDesign(
        id=study_id, title=f"{study_id} (CDISC ADaM)", arms=tuple(arm_order), reference_arm=reference,
        visits=tuple(S.Visit(float(n), str(lab)) for n, lab in visits),
        endpoints=tuple(measured + sorted(set(info) - set(measured))),
        populations=populations, default_population=default_pop, covariates=covariates, primary=None,
        synthetic=False, description=f"CDISC ADaM study {study_id}: {len(subjects)} subjects in "
                                     f"{len(arm_order)} arms, datasets {', '.join(sorted(datasets))}; "
                                     f"one record per subject, parameter and visit by the rule "
                                     f"'{rule.id}' ({rule.label}).",
        endpoint_info=info, arm_doses=arm_doses)
    adae = read_table(available["adae"]) if "adae" in available else None
    if adae is None:
        notes.append(Problem("info", "ADaM", "No ADAE dataset: the safety views have no adverse events "
                             "to show."))
    return S.Trial(design=design, subjects=subjects, measurements=measurements,
                   adverse_events=_adverse_events(adae), source=source or "upload",
                   adverse_events_recorded=adae is not None,
                   time_to_event=tte.read_time_to_event(available, subjects))
