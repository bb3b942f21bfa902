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

# Time-to-event table (one row per subject and parameter; ADaM ADTTE): the time from the origin to
# the event or censoring, and whether the event happened (1) or the subject was censored (0).
PARAMETER = "parameter"
PARAMETER_LABEL = "parameter_label"
TIME = "time"
EVENT = "event"
TIME_UNIT = "time_unit"  # ADaM AVALU ("DAYS"); "" when the dataset does not say
TIME_TO_EVENT_COLUMNS = (SUBJECT_ID, PARAMETER, PARAMETER_LABEL, TIME, EVENT, TIME_UNIT)



def empty_time_to_event() -> pd.DataFrame:
    """The time-to-event table of a study that has none (its columns, no row)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TIME_TO_EVENT_COLUMNS})


SUBJECT_REQUIRED = (SUBJECT_ID, ARM)
MEASUREMENT_REQUIRED = (SUBJECT_ID, ENDPOINT, VISIT, VISIT_MONTH, VALUE)
# Optional measurement column: how a record was derived, as ADaM's DTYPE ("LOCF", "AVERAGE",
# "WOCF", ...); "" for an observed record. An MMRM models observed records only; an analysis that
# asks for derived records (the LOCF ANCOVA of a study report) reads them too.
RECORD_TYPE = "dtype"
OBSERVED = ""

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
    """A subject covariate offered for filters and subgroups.

    ``endpoint`` names a measured endpoint whose baseline value is the covariate (the subject
    table gains the column from the measurements); "" for a column of the subject table.
    """

    column: str
    label: str
    kind: str  # "categorical" or "continuous"
    unit: str = ""
    endpoint: str = ""


@dataclass(frozen=True)
class PrimaryAnalysis:
    """The documented primary analysis, which the overview page and the paper check reproduce.

    ``conclusion`` is the published conclusion in one sentence ("" when the study description
    declares none; the overview then states the test's result instead).
    """

    endpoint: str
    visit: float
    population: str
    method: str
    missing: str
    published: dict[str, float] = field(default_factory=dict)
    conclusion: str = ""


@dataclass(frozen=True)
class NoDifferenceClaim:
    """A published claim that none of a list of between-arm comparisons differs.

    The paper check recomputes every comparison with the core analysis (``continuous_method``
    on change from baseline, ``binary_method`` on rates) and lists those with p < ``alpha``.
    """

    item: str
    comparisons: tuple[tuple[str, float], ...]  # (endpoint, visit number)
    population: str | None = None
    alpha: float = 0.05
    continuous_method: str = "welch"
    binary_method: str = "fisher"


@dataclass(frozen=True)
class PublishedFacts:
    """Published facts beyond the primary result, which the paper page checks.

    ``serious_related_events`` is the published number of subjects with a serious adverse
    event related to the product (``None``: not declared, not checked).
    """

    serious_related_events: int | None = None
    no_difference: tuple[NoDifferenceClaim, ...] = ()


#: Endpoint groups a study may declare (``[groups]`` in study.toml) and what reads them. A group
#: that is not declared is empty, and the section it feeds is not shown.
ENDPOINT_GROUPS: dict[str, str] = {
    "baseline": "endpoints whose baseline value the baseline table summarises",
    "immune_response": "antibody endpoints of the immune-response section of the safety page",
    "efficacy": "endpoints offered for the robustness analyses",
    "symptoms": "clinical scales of the individual-profile and MRI pages",
    "structural": "structural (imaging) endpoints of the MRI page",
}


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
    # Endpoints this study declares (its own, e.g. a responder rule, or PARAMCDs of an ADaM
    # study); they take precedence over the library of known instruments.
    endpoint_info: dict[str, Endpoint] = field(default_factory=dict)
    # Named endpoint groups (see ENDPOINT_GROUPS), default subgroup variables, published facts.
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    subgroup_defaults: tuple[str, ...] = ()
    published: PublishedFacts = field(default_factory=PublishedFacts)
    # A short citation of the published results ("Pers et al., Ann Rheum Dis 2024"), for banners.
    short_citation: str = ""
    # Words of a section fed by a group ([sections.<group>] title and note in study.toml).
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    def group(self, name: str) -> tuple[str, ...]:
        """The endpoints of a declared group (see :data:`ENDPOINT_GROUPS`); empty if undeclared."""
        return self.groups.get(name, ())

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
    """A loaded trial: design plus subject, measurement and adverse-event tables, and optionally
    a time-to-event table (columns :data:`TIME_TO_EVENT_COLUMNS`; empty for a study without one).

    The tables are never modified after loading; derivations build new frames.
    """

    design: StudyDesign
    subjects: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame
    source: str
    time_to_event: pd.DataFrame = field(default_factory=lambda: empty_time_to_event())

    @property
    def has_time_to_event(self) -> bool:
        """Whether the study has time-to-event data (the Time to event page is shown only then)."""
        return not self.time_to_event.empty

    @property
    def synthetic(self) -> bool:
        return self.design.synthetic

    def endpoint(self, endpoint_id: str) -> Endpoint:
        """This study's own description of the endpoint, or the known instrument's entry."""
        return endpoint_for(endpoint_id, self.design.endpoint_info)

    def derived_endpoints(self, kind: str) -> tuple[str, ...]:
        """The study's endpoints whose declared derivation is of ``kind`` ("responder", "mcid"),
        in the study's order."""
        out = []
        for e in self.design.endpoints:
            derivation = self.endpoint(e).derivation
            if derivation is not None and derivation.kind == kind:
                out.append(e)
        return tuple(out)

