"""Result types: per-arm summaries, between-arm contrasts and the result of one analysis at a
visit. They hold unrounded numbers; :mod:`respine.present.fmt` turns them into text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: How common ADaM derivation types read in a sentence ("99 carried forward by LOCF").
DTYPE_WORDS: dict[str, str] = {
    "LOCF": "carried forward by LOCF",
    "WOCF": "carried forward by WOCF (worst observation)",
    "BOCF": "carried forward from baseline (BOCF)",
    "AVERAGE": "averaged from several records",
    "MAXIMUM": "taken as the maximum of several records",
    "MINIMUM": "taken as the minimum of several records",
    "PHANTOM": "added as phantom records",
    "INTERP": "interpolated",
    "MI": "imputed",
}


def dtype_words(dtype: str) -> str:
    """A derivation type in words ("carried forward by LOCF"); unknown ones as "derived as X"."""
    return DTYPE_WORDS.get(dtype, f"derived as {dtype}")


@dataclass(frozen=True)
class RecordCounts:
    """How many observed and derived records one analysis read (or left out).

    ``derived`` counts records by derivation type (``{"LOCF": 99}``); ``by_arm`` gives, per arm,
    ``{"arm", "observed", "derived"}``; ``left_out`` counts derived records the analysis did
    not read (an MMRM reads observed records only).
    """

    records: str
    observed: int
    derived: dict[str, int] = field(default_factory=dict)
    by_arm: tuple[dict[str, object], ...] = ()
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def n_derived(self) -> int:
        return int(sum(self.derived.values()))

    @property
    def n_left_out(self) -> int:
        return int(sum(self.left_out.values()))

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "observed": self.observed,
            "derived": self.n_derived,
            "derived_by_type": dict(self.derived),
            "derived_left_out": self.n_left_out,
            "left_out_by_type": dict(self.left_out),
            "by_arm": [dict(d) for d in self.by_arm],
        }

    def describe(self) -> str:
        """The records in words: "155 observed, 99 carried forward by LOCF (DTYPE)"."""
        return ", ".join([f"{self.observed} observed", *_derived_words(self.derived)])

    def describe_left_out(self) -> str:
        """The derived records left out in words: "163 carried forward by LOCF (DTYPE)"."""
        return ", ".join(_derived_words(self.left_out))


def _derived_words(counts: dict[str, int]) -> list[str]:
    return [f"{n} {dtype_words(t)} (DTYPE)" for t, n in counts.items() if n]


@dataclass(frozen=True)
class ContinuousSummary:
    """Descriptive statistics of one arm (or group) for a continuous variable."""

    arm: str
    n: int
    mean: float
    sd: float
    se: float
    ci_low: float
    ci_high: float
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class BinarySummary:
    """Responders, rate and Wilson 95% CI of one arm."""

    arm: str
    n: int
    responders: int
    rate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Contrast:
    """One between-arm comparison: estimate, SE (where the method has one), 95% CI, p-value."""

    arm: str
    reference: str
    measure: str
    estimate: float
    se: float | None
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    df: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


@dataclass(frozen=True)
class DoseResponse:
    """Linear trend across doses: the coefficient of dose as a continuous term of an ANCOVA.

    ``slope`` is the change in the analysed measure per unit of dose (per mg for the CDISC
    pilot's TRT01PN); ``p_value`` is the t-test of the slope (equal to the F-test of dropping the
    dose term, 1 numerator df); ``doses`` the dose of each arm in the model.
    """

    slope: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    n: int
    doses: dict[str, float]
    covariates: tuple[str, ...]
    test: str = "ANCOVA linear trend in dose"

    def to_dict(self) -> dict[str, object]:
        return {
            "p": self.p_value,
            "slope": self.slope,
            "se": self.se,
            "df": self.df,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n": self.n,
            "doses": dict(self.doses),
            "covariates": list(self.covariates),
            "test": self.test,
        }


@dataclass(frozen=True)
class AnalysisResult:
    """Per-arm summaries and between-arm contrasts at one visit."""

    endpoint: str
    endpoint_label: str
    kind: str
    visit: float
    visit_label: str
    measure: str
    method: str
    method_label: str
    population: str
    arms: tuple[ContinuousSummary | BinarySummary, ...]
    contrasts: tuple[Contrast, ...]
    n_total: int
    lsmeans: tuple[dict[str, float | str], ...] = ()
    filters: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str = ""
    synthetic: bool = False
    methods_text: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    # Which records the analysis read and how many were observed or derived (None: not counted).
    records: RecordCounts | None = None
    # Linear trend across the arms' doses (ANCOVA on 3+ arms with doses; None otherwise).
    dose_response: DoseResponse | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON contract of ``respine analyze --format json``."""
        arms = []
        lsm = {d["arm"]: d for d in self.lsmeans}
        for a in self.arms:
            d = a.to_dict()
            if a.arm in lsm:
                d["lsmean"] = lsm[a.arm]["lsmean"]
                d["lsmean_se"] = lsm[a.arm]["se"]
            arms.append(d)
        return {
            "endpoint": self.endpoint,
            "endpoint_label": self.endpoint_label,
            "kind": self.kind,
            "visit": self.visit_label,
            "visit_number": self.visit,
            "measure": self.measure,
            "method": self.method,
            "method_label": self.method_label,
            "population": self.population,
            "filters": list(self.filters),
            "n_total": self.n_total,
            "arms": arms,
            "contrasts": [c.to_dict() for c in self.contrasts],
            "notes": list(self.notes),
            "methods_text": self.methods_text,
            "data": {"source": self.source, "synthetic": self.synthetic},
            **({"records": self.records.to_dict()} if self.records is not None else {}),
            **({"dose_response": self.dose_response.to_dict()} if self.dose_response is not None else {}),
            **self.extra,
        }

