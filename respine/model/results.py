"""Result types: per-arm summaries, between-arm contrasts and the result of one analysis at a
visit. They hold unrounded numbers; :mod:`respine.present.fmt` turns them into text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
            **self.extra,
        }

