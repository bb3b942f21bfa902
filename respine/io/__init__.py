"""Ingestion: files, the product's own layout, CDISC ADaM, mapped spreadsheets."""

from respine.errors import Problem
from respine.io.product import (
    AE_FILE,
    DATA_ENV,
    MEASUREMENTS_FILE,
    REPO_DATA,
    STUDY_FILE,
    SUBJECTS_FILE,
    default_data_path,
    load_files,
    load_trial,
    validate_folder,
)

__all__ = [
    "AE_FILE",
    "DATA_ENV",
    "MEASUREMENTS_FILE",
    "REPO_DATA",
    "STUDY_FILE",
    "SUBJECTS_FILE",
    "Problem",
    "default_data_path",
    "load_files",
    "load_trial",
    "validate_folder",
]
