"""Derivation: subjects of a population after filters, and endpoint values at a visit
(baseline, change, percent change, responders). Trial in, tidy frames out."""


from respine.derive.arms import arm_view, pooled_label
from respine.derive.measures import (
    BASE,
    CHG,
    MEASURES,
    PCHG,
    endpoint_data,
    resolve_visit,
)
from respine.derive.records import (
    RECORDS,
    Records,
    check_records,
    count_records,
    has_derived_records,
    is_observed,
    record_types,
    select_records,
)
from respine.derive.subjects import (
    apply_filters,
    arm_order,
    as_levels,
    check_covariates,
    covariate_columns,
    filter_subjects,
    natural_key,
    population_subjects,
    select_subjects,
    subject_table,
)

__all__ = [
    "BASE",
    "CHG",
    "MEASURES",
    "PCHG",
    "RECORDS",
    "Records",
    "apply_filters",
    "arm_order",
    "arm_view",
    "as_levels",
    "check_covariates",
    "check_records",
    "count_records",
    "covariate_columns",
    "endpoint_data",
    "filter_subjects",
    "has_derived_records",
    "is_observed",
    "natural_key",
    "pooled_label",
    "population_subjects",
    "record_types",
    "resolve_visit",
    "select_records",
    "select_subjects",
    "subject_table",
]
