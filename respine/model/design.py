"""The data contract: what a loaded trial looks like in memory.

A :class:`Trial` holds three tidy tables and a :class:`StudyDesign`. Column names are fixed
here, once, and every other module refers to these constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from respine.model.endpoints import Endpoint, endpoint_for

# Subject table (one row per randomised subject).
SUBJECT_ID = "subject_id"
ARM = "arm"
# Measurement table (one row per subject, endpoint and visit).
ENDPOINT = "endpoint"
VISIT = "visit"
VISIT_MONTH = "visit_month"
VALUE = "value"
# Adverse-event table (one row per event).
AE_COLUMNS = ("subject_id", "soc", "term", "serious", "related_product", "related_procedure",
              "severity", "onset_day", "led_to_withdrawal")

SUBJECT_REQUIRED = (SUBJECT_ID, ARM)
MEASUREMENT_REQUIRED = (SUBJECT_ID, ENDPOINT, VISIT, VISIT_MONTH, VALUE)

# Population flag columns: population id -> column in the subject table.
POPULATION_COLUMN_PREFIX = "pop_"


@dataclass(frozen=True)
class Population:
    """An analysis population: a subject-table flag column and a label."""

    id: str
    label: str
    column: str
    description: str = ""


@dataclass(frozen=True)
class Visit:
    """A scheduled visit: its label and its number (months from randomisation for RESPINE)."""

    number: float
    label: str


@dataclass(frozen=True)
class Covariate:
    """A subject covariate offered for filters and subgroups."""

    column: str
    label: str
    kind: str  # "categorical" or "continuous"
    unit: str = ""


@dataclass(frozen=True)
class PrimaryAnalysis:
    """The documented primary analysis, which the overview page and the paper check reproduce."""

    endpoint: str
    visit: float
    population: str
    method: str
    missing: str
    published: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyDesign:
    """What the study description file says about the trial."""

    id: str
    title: str
    arms: tuple[str, ...]
    reference_arm: str
    visits: tuple[Visit, ...]
    endpoints: tuple[str, ...]
    populations: tuple[Population, ...]
    default_population: str
    covariates: tuple[Covariate, ...]
    primary: PrimaryAnalysis | None
    synthetic: bool
    citation: str = ""
    registration: str = ""
    description: str = ""
    generator: dict[str, object] = field(default_factory=dict)
    # Endpoints of this study that the registry does not know (e.g. PARAMCDs of an ADaM study).
    endpoint_info: dict[str, Endpoint] = field(default_factory=dict)

    def visit_label(self, number: float) -> str:
        for v in self.visits:
            if v.number == number:
                return v.label
        return f"Visit {number:g}"

    def population(self, population_id: str) -> Population:
        for p in self.populations:
            if p.id == population_id:
                return p
        from respine.errors import SelectionError

        known = ", ".join(p.id for p in self.populations)
        raise SelectionError(f"Unknown population '{population_id}'. Choose one of: {known}.")

    @property
    def treatment_arms(self) -> tuple[str, ...]:
        return tuple(a for a in self.arms if a != self.reference_arm)


@dataclass(frozen=True, eq=False)
class Trial:
    """A loaded trial: design plus subject, measurement and adverse-event tables.

    The tables are never modified after loading; derivations build new frames.
    """

    design: StudyDesign
    subjects: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame
    source: str

    @property
    def synthetic(self) -> bool:
        return self.design.synthetic

    def endpoint(self, endpoint_id: str) -> Endpoint:
        """The endpoint's registry entry, or this study's own description of it."""
        return endpoint_for(endpoint_id, self.design.endpoint_info)

