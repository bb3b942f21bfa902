"""What a view asks for: the endpoint, visit, population, subgroup filters, responder rule and
method of one analysis (:class:`Selection`), and one subgroup filter (:class:`SubgroupFilter`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from respine.errors import SelectionError
from respine.model.endpoints import DERIVATION_PARAMETERS, Endpoint
from respine.model.rules import (
    MCID_ODI_POINTS,
    MCID_VAS_MM,
    PRIMARY_RULE,
    ResponderRule,
)


@dataclass(frozen=True)
class SubgroupFilter:
    """Keep subjects whose ``column`` is one of ``values`` (categorical) or in [low, high]."""

    column: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        if self.values or (self.low is None and self.high is None):
            return f"{self.column} in {{{', '.join(self.values)}}}"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{self.column} in [{lo}, {hi}]"

    @classmethod
    def parse(cls, text: str) -> SubgroupFilter:
        """Parse ``COL=V1|V2`` (categorical) or ``COL=LOW..HIGH`` (numeric range)."""
        if "=" not in text:
            raise SelectionError(
                f"Filter '{text}' must look like COLUMN=VALUE, COLUMN=A|B or COLUMN=LOW..HIGH."
            )
        col, _, rhs = text.partition("=")
        col, rhs = col.strip(), rhs.strip()
        if ".." in rhs:
            lo_s, _, hi_s = rhs.partition("..")
            try:
                lo = float(lo_s) if lo_s.strip() else None
                hi = float(hi_s) if hi_s.strip() else None
            except ValueError as exc:
                raise SelectionError(f"Filter '{text}': range limits must be numbers.") from exc
            return cls(col, (), lo, hi)
        return cls(col, tuple(v.strip() for v in rhs.split("|") if v.strip()))


Filters = tuple[SubgroupFilter, ...]


@dataclass(frozen=True)
class Selection:
    """Everything that defines one view of the data. Hashable, so results can be cached."""

    endpoint: str = "RESP"
    visit: float = 12.0
    population: str | None = None
    measure: str = "chg"
    method: str | None = None
    filters: Filters = ()
    rule: ResponderRule = PRIMARY_RULE
    mcid_vas: float = MCID_VAS_MM
    mcid_odi: float = MCID_ODI_POINTS
    covariates: tuple[str, ...] = ()
    reference: str | None = None
    # The arms shown (empty: every arm) and pooled (empty: none), as the trial the analysis reads
    # already shows them (respine.derive.arms.arm_view); kept so a result names its view.
    arms: tuple[str, ...] = ()
    pool: tuple[str, ...] = ()
    # The reader's directions of benefit, as the trial the analysis reads already has them
    # (respine.derive.directions.with_directions); kept so a result names its view.
    lower_better: tuple[str, ...] = ()
    higher_better: tuple[str, ...] = ()
    covariance: str = "us"
    df_method: str = "satterthwaite"
    covariance_by: str = "none"
    vcov: str = "model"
    lsmeans_weights: str = "observed"

    def with_(self, **changes: Any) -> Selection:
        """The same selection with ``changes`` (field names; a wrong name raises ``TypeError``)."""
        return replace(self, **changes)

    def for_trend(self, kind: str | Endpoint) -> Selection:
        """The selection a course over visits depends on: neither the visit nor the comparison
        method (one cache entry and one figure serve every visit and method)."""
        return self.normalised(kind).with_(visit=0.0, method=None, covariates=())

    def normalised(self, kind: str | Endpoint) -> Selection:
        """The same selection with the fields this analysis does not use set to their defaults,
        so that equal analyses share one cache entry (e.g. an MCID rate does not depend on the
        responder rule; a t-test does not depend on the MMRM covariance).

        ``kind`` is the endpoint's entry (its declared derivation says which of the responder
        rule and MCID thresholds it reads) or only its kind; a continuous endpoint reads none, a
        binary one given by kind alone keeps them all (it may be derived).
        """
        d = Selection()
        changes: dict[str, Any] = {}
        if isinstance(kind, Endpoint):
            used: tuple[str, ...] = kind.parameters
            kind = kind.kind
        else:
            used = DERIVATION_PARAMETERS if kind == "binary" else ()
        for name in DERIVATION_PARAMETERS:
            if name not in used:
                changes[name] = getattr(d, name)
        if kind == "binary":
            changes["measure"] = "aval"
        if self.method not in ("ancova", "mmrm", "cmh", "logistic", "gcomp_ye", "gcomp_ge", "van_elteren"):
            changes["covariates"] = ()
        if self.method != "mmrm":
            changes.update(covariance=d.covariance, df_method=d.df_method,
                           covariance_by=d.covariance_by, vcov=d.vcov)
        if self.method != "ancova":
            changes["lsmeans_weights"] = d.lsmeans_weights
        return replace(self, **changes)

