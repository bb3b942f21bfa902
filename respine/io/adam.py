"""CDISC ADaM studies: ADSL, BDS datasets and ADAE read into the product's :class:`Trial`.

Conventions honoured (ADaM Implementation Guide v1.1):

* one analysis record per subject, parameter and visit: where ``ANL01FL`` exists only records
  flagged "Y" are kept, which includes derived records (``DTYPE`` such as LOCF) exactly where the
  study's analysis plan used them;
* ``PARAMCD`` becomes the endpoint (``PARAM`` its label), ``AVISIT``/``AVISITN`` the visit and
  its order, ``AVAL`` the value;
* ADSL flags (``ITTFL``, ``SAFFL``, ``EFFFL``, ``FASFL``, ``PPROTFL``, ``COMPxxFL``, ...) become
  populations; ``TRT01P`` (planned treatment) is the arm, and an arm named placebo, sham, vehicle
  or control is the reference unless another is chosen;
* ADAE's treatment-emergent events (``TRTEMFL`` = "Y") feed the safety views.

References
----------
.. [1] CDISC. Analysis Data Model Implementation Guide, version 1.1. 2016.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from respine.errors import DataError
from respine.io import files, tte
from respine.io.files import DataFile
from respine.model import design as S
from respine.model.endpoints import Endpoint

SKIPPED_BDS = re.compile(r"^ad(lb|vs|eg|tte|ex|cm|mh)", re.IGNORECASE)
POPULATION_FLAGS = {
    "RANDFL": "Randomised",
    "ITTFL": "Intention to treat",
    "MITTFL": "Modified intention to treat",
    "FASFL": "Full analysis set",
    "EFFFL": "Efficacy",
    "PPROTFL": "Per protocol",
    "SAFFL": "Safety",
}
COMPLETER = re.compile(r"^COMP(\d+)FL$")
REFERENCE_NAME = re.compile(r"placebo|sham|vehicle|control", re.IGNORECASE)
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


def read_table(file: DataFile | Path) -> pd.DataFrame:
    """Read one ADaM dataset (any format :func:`respine.io.files.read_table` reads); upper-case
    column names; blank strings become missing."""
    if isinstance(file, Path):
        file = DataFile(file.name, path=file)
    frame = files.read_table(file)
    frame.columns = [str(c).upper() for c in frame.columns]
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
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


def _yes(series: pd.Series) -> pd.Series:
    return series.astype(str).str.upper().isin(["Y", "1", "1.0", "TRUE"])


def _subjects(adsl: pd.DataFrame) -> tuple[pd.DataFrame, tuple[S.Population, ...], tuple[S.Covariate, ...]]:
    if "USUBJID" not in adsl.columns:
        raise DataError("ADSL has no USUBJID column; it is required to identify subjects.")
    arm_col = next((c for c in ("TRT01P", "ARM", "TRTP") if c in adsl.columns), None)
    if arm_col is None:
        raise DataError("ADSL has no TRT01P or ARM column; one is needed to know each subject's arm.")
    s = pd.DataFrame({S.SUBJECT_ID: adsl["USUBJID"].astype(str), S.ARM: adsl[arm_col].astype(str)})
    s = s[
        adsl[arm_col].notna().to_numpy()
        & ~adsl[arm_col].astype(str).str.upper().isin(["SCREEN FAILURE", "NOT ASSIGNED"])
    ]
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
        s[key] = np.where(_yes(adsl[col]), "Y", "N")
        pops.append(S.Population(col.removesuffix("FL"), label, key, f"ADSL.{col} = 'Y'"))
    s["pop_all"] = "Y"
    pops.append(S.Population("ALL", "All subjects in ADSL", "pop_all", "Every ADSL record with an arm"))
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
    if "SAFFL" in adsl.columns:
        s["treated"] = np.where(_yes(adsl["SAFFL"]), "Y", "N")
    if "EOSSTT" in adsl.columns:
        done = adsl["EOSSTT"].astype(str).str.upper().eq("COMPLETED")
        s["status"] = np.where(done, "Completed", "Withdrew")
        reason = adsl["DCSREAS"] if "DCSREAS" in adsl.columns else pd.Series("", index=adsl.index)
        s["withdrawal_reason"] = np.where(
            done, "", reason.fillna("").astype(str).str.strip().str.capitalize()
        )
    return s.reset_index(drop=True), tuple(pops), tuple(covariates)


def _measurements(datasets: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, Endpoint]]:
    frames, info = [], {}
    for name, d in datasets.items():
        missing = [c for c in ("USUBJID", "PARAMCD", "AVAL", "AVISITN") if c not in d.columns]
        if missing:
            raise DataError(
                f"{name.upper()} is not a BDS dataset the explorer can use: columns {missing} are missing."
            )
        if "ANL01FL" in d.columns:
            d = d[_yes(d["ANL01FL"])]
        d = d[d["AVISITN"].notna() & d["AVAL"].notna()]
        label_col = "AVISIT" if "AVISIT" in d.columns else "AVISITN"
        frames.append(
            pd.DataFrame(
                {
                    S.SUBJECT_ID: d["USUBJID"].astype(str).to_numpy(),
                    S.ENDPOINT: d["PARAMCD"].astype(str).to_numpy(),
                    S.VISIT: d[label_col].astype(str).to_numpy(),
                    S.VISIT_MONTH: d["AVISITN"].astype(float).to_numpy(),
                    S.VALUE: pd.to_numeric(d["AVAL"], errors="coerce").to_numpy(),
                    S.RECORD_TYPE: (d["DTYPE"].fillna("").astype(str).str.strip().str.upper().to_numpy()
                                    if "DTYPE" in d.columns else S.OBSERVED),
                }
            )
        )
        labels = d.drop_duplicates("PARAMCD").set_index("PARAMCD")
        for code in labels.index:
            values = d.loc[d["PARAMCD"] == code, "AVAL"]
            binary = set(pd.to_numeric(values, errors="coerce").dropna().unique()) <= {0.0, 1.0}
            label = str(labels.at[code, "PARAM"]) if "PARAM" in labels.columns else str(code)
            info[str(code)] = Endpoint(
                str(code),
                label.strip().title() if label.isupper() else label.strip(),
                "",
                "binary" if binary else "continuous",
                None,
                description=f"{name.upper()} PARAMCD {code}",
            )
    if not frames:
        raise DataError("No BDS dataset with PARAMCD, AVISITN and AVAL was found next to ADSL.")
    m = pd.concat(frames, ignore_index=True)
    dups = m.duplicated([S.SUBJECT_ID, S.ENDPOINT, S.VISIT_MONTH])
    if dups.any():  # without ANL01FL several records can share a visit: keep the first
        m = m[~dups]
    return m.reset_index(drop=True), info


def _adverse_events(adae: pd.DataFrame | None) -> pd.DataFrame:
    if adae is None:
        return pd.DataFrame(columns=list(S.AE_COLUMNS))
    if "TRTEMFL" in adae.columns:
        adae = adae[_yes(adae["TRTEMFL"])]
    get = lambda col, default="": adae[col] if col in adae.columns else pd.Series(default, index=adae.index)  # noqa: E731
    related = (
        get("AEREL")
        .fillna("")
        .astype(str)
        .str.upper()
        .isin(["PROBABLE", "POSSIBLE", "RELATED", "Y", "YES", "DEFINITE"])
    )
    withdrawn = get("AEACN").fillna("").astype(str).str.upper().str.contains("WITHDRAWN")
    return pd.DataFrame(
        {
            "subject_id": get("USUBJID").astype(str),
            "soc": get("AEBODSYS").fillna("Not coded").astype(str),
            "term": get("AEDECOD").fillna(get("AETERM")).fillna("Not coded").astype(str),
            "serious": np.where(_yes(get("AESER", "N")), "Y", "N"),
            "related_product": np.where(related, "Y", "N"),
            "related_procedure": "N",
            "severity": get("AESEV").fillna("").astype(str).str.capitalize(),
            "onset_day": pd.to_numeric(get("ASTDY", np.nan), errors="coerce"),
            "led_to_withdrawal": np.where(withdrawn, "Y", "N"),
        }
    ).reset_index(drop=True)


def load_adam(folder: str | Path | dict[str, DataFile], reference: str | None = None,
              bds: tuple[str, ...] | None = None, source: str | None = None) -> S.Trial:
    """Load an ADaM study: ADSL, BDS datasets and (optionally) ADAE.

    Parameters
    ----------
    folder : path-like or dict
        A folder, or uploaded files by name, holding ``adsl`` and other datasets as .xpt,
        .sas7bdat, .parquet or .csv.
    reference : str, optional
        Reference arm; default the arm whose name says placebo, sham, vehicle or control, else
        the first arm in ``TRT01PN`` order.
    bds : tuple of str, optional
        BDS dataset names to use (e.g. ``("adadas", "adcibc")``); default every dataset with
        PARAMCD/AVAL except laboratory, vital-sign, ECG, exposure and time-to-event datasets.
    source : str, optional
        How the data are named in results (default: the folder).
    """
    if isinstance(folder, dict):
        available, where = datasets_of(folder), "the uploaded files"
    else:
        folder = Path(folder)
        available, where = find_datasets(folder), str(folder)
        source = source or str(folder)
    if "adsl" not in available:
        raise DataError(f"No ADSL dataset in {where}; an ADaM study needs adsl.xpt (or .sas7bdat, "
                        ".parquet, .csv).")
    adsl = read_table(available["adsl"])
    subjects, populations, covariates = _subjects(adsl)
    names = bds if bds is not None else tuple(n for n in available if n not in ("adsl", "adae")
                                             and not SKIPPED_BDS.match(n))
    datasets = {}
    for n in names:
        if n not in available:
            raise DataError(f"Dataset {n} is not in {where}; available: {', '.join(sorted(available))}.")
        d = read_table(available[n])
        if {"PARAMCD", "AVAL"} <= set(d.columns):
            datasets[n] = d
    measurements, info = _measurements(datasets)
    measurements = measurements[measurements[S.SUBJECT_ID].isin(subjects[S.SUBJECT_ID])]
    order_col = next((c for c in ("TRT01PN", "TRTPN") if c in adsl.columns), None)
    arm_col = next(c for c in ("TRT01P", "ARM", "TRTP") if c in adsl.columns)
    if order_col:
        ordered = adsl.dropna(subset=[arm_col]).sort_values(order_col)
        arm_order = ordered[arm_col].astype(str).unique().tolist()
    else:
        arm_order = sorted(subjects[S.ARM].unique())
    arm_order = [a for a in arm_order if a in set(subjects[S.ARM])]
    if len(arm_order) < 2:
        raise DataError(f"ADSL has only one arm ({', '.join(arm_order)}); a comparison needs two or more.")
    if reference is None:
        reference = next((a for a in arm_order if REFERENCE_NAME.search(a)), arm_order[0])
    elif reference not in arm_order:
        raise DataError(f"Reference arm '{reference}' is not in the data; arms: {', '.join(arm_order)}.")
    visits = (measurements.drop_duplicates(S.VISIT_MONTH).sort_values(S.VISIT_MONTH)
              [[S.VISIT_MONTH, S.VISIT]].itertuples(index=False))
    preferred = ("ITT", "FAS", "MITT", "EFF")
    default_pop = next((p.id for p in populations if p.id in preferred), populations[0].id)
    study_id = str(adsl["STUDYID"].iloc[0]) if "STUDYID" in adsl.columns else "ADaM study"
    design = S.StudyDesign(
        id=study_id, title=f"{study_id} (CDISC ADaM)", arms=tuple(arm_order), reference_arm=reference,
        visits=tuple(S.Visit(float(n), str(lab)) for n, lab in visits), endpoints=tuple(sorted(info)),
        populations=populations, default_population=default_pop, covariates=covariates, primary=None,
        synthetic=False, description=f"CDISC ADaM study {study_id}: {len(subjects)} subjects in "
                                     f"{len(arm_order)} arms, datasets {', '.join(sorted(datasets))}.",
        endpoint_info=info)
    adae = read_table(available["adae"]) if "adae" in available else None
    return S.Trial(design=design, subjects=subjects, measurements=measurements,
                   adverse_events=_adverse_events(adae), source=source or "upload",
                   time_to_event=tte.read_time_to_event(available, subjects))

