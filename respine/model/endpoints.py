"""The endpoint registry: one entry per endpoint, read by the core, the CLI and every page.

Adding an endpoint is one :class:`Endpoint` entry; no page code changes. Measured endpoints
are read from the measurements table. A derived endpoint carries its :attr:`Endpoint.derivation`
(a :class:`Responder` rule over two measured endpoints, or an :class:`Mcid` threshold on one),
and :mod:`respine.derive` and the imputation analyses compute it from that declaration: no code
outside a study's description names a derived endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Kind = Literal["continuous", "binary"]

# The view parameters a derivation may read (their URL keys and CLI flags are declared with the
# selection): the responder rule's thresholds and joins travel together as ``rule``; each MCID
# threshold is one number.
RULE_PARAMETER = "rule"
MCID_PARAMETERS = ("mcid_vas", "mcid_odi")


@dataclass(frozen=True)
class Responder:
    """A composite responder rule over two measured endpoints.

    The rule's thresholds are the view's responder rule (``vas_pct``, ``vas_mm``, ``vas_join``
    for the first component, ``odi_pct`` for the second, ``join`` between them; see
    :class:`respine.model.rules.ResponderRule`); the parameter names are those of the primary
    RESPINE rule and stay so that links keep working, but which endpoints they read is declared
    here.

    Parameters
    ----------
    first : str
        The endpoint the rule's first criterion (``vas_*`` thresholds) reads.
    second : str
        The endpoint the rule's second criterion (``odi_*`` thresholds) reads.
    """

    first: str
    second: str
    kind: ClassVar[str] = "responder"

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.first, self.second)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The view parameters this derivation reads."""
        return (RULE_PARAMETER,)


@dataclass(frozen=True)
class Mcid:
    """Improvement from baseline of at least a minimal clinically important difference.

    Parameters
    ----------
    source : str
        The measured endpoint whose improvement is tested.
    threshold : {"mcid_vas", "mcid_odi"}
        The view parameter that holds the threshold (in the source's unit).
    """

    source: str
    threshold: str
    kind: ClassVar[str] = "mcid"

    def __post_init__(self) -> None:
        if self.threshold not in MCID_PARAMETERS:
            raise ValueError(f"An MCID threshold is one of the view parameters {', '.join(MCID_PARAMETERS)}; "
                             f"got '{self.threshold}'.")

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The view parameters this derivation reads."""
        return (self.threshold,)


Derivation = Responder | Mcid
DERIVATION_PARAMETERS: tuple[str, ...] = (RULE_PARAMETER, *MCID_PARAMETERS)


@dataclass(frozen=True)
class Endpoint:
    """Everything the product needs to know to analyse and show one endpoint.

    Attributes
    ----------
    id : str
        Stable identifier used in data files, URLs and the command line.
    label : str
        Human-readable name.
    unit : str
        Unit of the value ("" for binary endpoints).
    kind : {"continuous", "binary"}
        Continuous endpoints are compared by mean change; binary ones by rates.
    lower_is_better : bool or None
        Direction of benefit; ``None`` where direction is not meaningful (e.g. antibodies).
    derivation : Responder or Mcid or None
        How a derived endpoint is computed from measured ones; ``None`` for measured endpoints.
    value_range : tuple of float or None
        Plausible range of the raw value, used to validate data.
    description : str
        One sentence for tooltips and the data dictionary.
    """

    id: str
    label: str
    unit: str
    kind: Kind
    lower_is_better: bool | None
    derivation: Derivation | None = None
    value_range: tuple[float, float] | None = None
    description: str = ""

    @property
    def derived_from(self) -> tuple[str, ...]:
        """Measured endpoints a derived endpoint is computed from; empty for measured ones."""
        return self.derivation.sources if self.derivation is not None else ()

    @property
    def is_derived(self) -> bool:
        return self.derivation is not None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The view parameters (of :data:`DERIVATION_PARAMETERS`) this endpoint's values depend on."""
        return self.derivation.parameters if self.derivation is not None else ()


#: The library of known instruments: standard, published scales whose label, unit, direction and
#: range do not depend on the study (a pain VAS, the Oswestry Disability Index, the SF-36
#: summaries). A study finds them by id without declaring them, and may override any of them in
#: its description. A study's own endpoints (its responder rule, MCID endpoints, imaging or
#: immunology measures) are declared in its study description (``[endpoints.<ID>]`` in
#: study.toml), never here.
REGISTRY: dict[str, Endpoint] = {
    e.id: e
    for e in (
        Endpoint("VAS", "Low back pain VAS", "mm", "continuous", True, None, (0, 100),
                 "Visual analogue scale of low back pain, 0 (no pain) to 100 mm."),
        Endpoint("ODI", "Oswestry Disability Index", "%", "continuous", True, None, (0, 100),
                 "Oswestry Disability Index, 0 (no disability) to 100%."),
        Endpoint("SF36PCS", "SF-36 physical component summary", "points", "continuous", False,
                 None, (0, 100), "Norm-based SF-36 physical summary (population mean 50, SD 10)."),
        Endpoint("SF36MCS", "SF-36 mental component summary", "points", "continuous", False,
                 None, (0, 100), "Norm-based SF-36 mental summary (population mean 50, SD 10)."),
    )
}

MEASURED_ENDPOINTS: tuple[str, ...] = tuple(k for k, e in REGISTRY.items() if not e.is_derived)


def endpoint_for(endpoint_id: str, extra: dict[str, Endpoint] | None = None) -> Endpoint:
    """Look up an endpoint by id: in a study's own declarations (``extra``), then in the library
    of known instruments.

    Unknown ids found only in a loaded data set get a generic continuous entry, so a study with
    endpoints nobody declared still works.
    """
    if extra and endpoint_id in extra:
        return extra[endpoint_id]
    if endpoint_id in REGISTRY:
        return REGISTRY[endpoint_id]
    return Endpoint(endpoint_id, endpoint_id, "", "continuous", None)

