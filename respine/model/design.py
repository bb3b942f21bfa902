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
# Adverse-event table (one row per event). The identity columns are always there; every other
# column is there only when the source records it: an absent column means "no data", which the
# safety views tell from "no event" (a recorded flag that is never "Y"). Loaders never fill an
# absent column with "N".
AE_EVENT_ID = "event_id"  # unique within a subject: ADAE "USUBJID/AESEQ", or the file row
AE_SOC = "soc"  # MedDRA system organ class (AEBODSYS)
AE_TERM = "term"  # MedDRA preferred term (AEDECOD)
AE_IDENTITY = (SUBJECT_ID, AE_EVENT_ID, AE_SOC, AE_TERM)
#: Optional Y/N flags of an event ("Y", "N", or missing where the record says nothing).
AE_FLAGS: dict[str, str] = {
    "serious": "serious (ADAE AESER)",
    "related_product": "related to the study product (ADAE AEREL in RELATED_VALUES)",
    "related_procedure": "related to a study procedure (a column the study declares)",
    "fatal": "fatal outcome (ADAE AEOUT = FATAL or AESDTH = Y)",
    "led_to_withdrawal": "study product withdrawn (ADAE AEACN = DRUG WITHDRAWN)",
    "treatment_emergent": "treatment-emergent (ADAE TRTEMFL = Y; ADaM leaves it blank otherwise)",
}
#: Optional descriptive columns: text categories as the source writes them, and numbers.
AE_TEXT: dict[str, str] = {
    "relation": "causality category (ADAE AEREL: NONE, REMOTE, POSSIBLE, PROBABLE, ...)",
    "severity": "Mild, Moderate or Severe (ADAE AESEV)",
    "outcome": "outcome (ADAE AEOUT)",
    "action": "action taken with the study treatment (ADAE AEACN)",
}
AE_NUMBERS: dict[str, str] = {
    "grade": "toxicity grade 1-5 (ADAE AETOXGR, CTCAE)",
    "onset_day": "study day of onset (ADAE ASTDY)",
}
#: Every column the adverse-event contract knows, in display order.
AE_COLUMNS = (*AE_IDENTITY, *AE_FLAGS, *AE_TEXT, *AE_NUMBERS)
#: Causality categories that count as related to the product (upper case). Any other recorded
#: category (NONE, NOT RELATED, UNLIKELY, REMOTE, ...) counts as not related; a missing one is
#: unknown.
RELATED_VALUES = frozenset({"Y", "YES", "RELATED", "POSSIBLE", "PROBABLE", "DEFINITE", "POSSIBLY RELATED",
                            "PROBABLY RELATED", "DEFINITELY RELATED", "CERTAIN", "LIKELY"})
#: Severity categories from least to most severe (upper case); the overview counts each subject
#: once, at the worst severity of their events.
SEVERITY_ORDER = ("MILD", "MODERATE", "SEVERE")
#: AEACN values that mean the study product was withdrawn because of the event.
WITHDRAWN_ACTIONS = frozenset({"DRUG WITHDRAWN", "DRUG DISCONTINUED", "TREATMENT WITHDRAWN",
                               "PRODUCT WITHDRAWN"})
#: The disposition (subject table ``withdrawal_reason``, ADSL DCSREAS) of a subject who left the
#: study because of an adverse event, compared case-insensitively.
AE_WITHDRAWAL_REASON = "adverse event"
#: The subject-table column that says a subject died during the study (Y/N; ADSL DTHFL). The
#: safety overview counts deaths from it, whatever the cause, beside the events with a fatal outcome.
DIED = "died"


def ae_recorded(events: pd.DataFrame, column: str) -> bool:
    """Whether the adverse-event table records ``column`` (see :data:`AE_COLUMNS`)."""
    return column in events.columns


def no_adverse_events() -> pd.DataFrame:
    """An adverse-event table with the identity columns and no row."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in AE_IDENTITY})

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
# Record types that summarise the observed values of one visit (the mean of its time points, ...):
# they are observations of that visit, not imputations, so an observed-only analysis reads them.
SUMMARY_TYPES = ("AVERAGE", "AVG", "MEAN", "MAXIMUM", "MINIMUM", "MAX", "MIN", "MEDIAN")

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
    # The dose of each arm on one numeric scale (ADaM TRT01PN/TRTPN: the CDISC pilot's 0, 54 and
    # 81 mg), for a linear trend across doses; empty when the data give none.
    arm_doses: dict[str, float] = field(default_factory=dict)

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
    #: False when the study has no adverse-event data at all (no ADAE, no adverse_events.csv, a
    #: mapped measurement table): the safety views then say "no adverse-event data" instead of
    #: reporting that no subject had an event.
    adverse_events_recorded: bool = True
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

