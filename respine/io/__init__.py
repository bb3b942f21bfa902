"""Ingestion: files, the product's own layout, CDISC ADaM, mapped spreadsheets."""

from respine.errors import Problem
from respine.io.adam import DEFAULT_RECORD_RULE, RECORD_RULES, RecordRule, load_adam, read_adam
from respine.io.product import (
    AE_FILE,
    DATA_ENV,
    MEASUREMENTS_FILE,
    REPO_DATA,
    STUDY_FILE,
    SUBJECTS_FILE,
    default_data_path,
    load_adam_files,
    load_files,
    load_trial,
    validate_folder,
)

__all__ = [
    "AE_FILE",
    "DATA_ENV",
    "DEFAULT_RECORD_RULE",
    "MEASUREMENTS_FILE",
    "RECORD_RULES",
    "REPO_DATA",
    "STUDY_FILE",
    "SUBJECTS_FILE",
    "Problem",
    "RecordRule",
    "default_data_path",
    "load_adam",
    "load_adam_files",
    "load_files",
    "load_trial",
    "read_adam",
    "validate_folder",
]
