"""The endpoint registry: one entry per endpoint, read by the core, the CLI and every page.

Adding an endpoint is one :class:`Endpoint` entry here; no page code changes. Measured endpoints
are read from the measurements table; derived endpoints (responder rules, MCID) are computed by
:mod:`respine.derive` from the measured ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["continuous", "binary"]


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
    derived_from : tuple of str
        Measured endpoints a derived endpoint is computed from; empty for measured endpoints.
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
    derived_from: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    description: str = ""

    @property
    def is_derived(self) -> bool:
        return bool(self.derived_from)


REGISTRY: dict[str, Endpoint] = {
    e.id: e
    for e in (
        Endpoint("VAS", "Low back pain VAS", "mm", "continuous", True, (), (0, 100),
                 "Visual analogue scale of low back pain, 0 (no pain) to 100 mm."),
        Endpoint("ODI", "Oswestry Disability Index", "%", "continuous", True, (), (0, 100),
                 "Oswestry Disability Index, 0 (no disability) to 100%."),
        Endpoint("SF36PCS", "SF-36 physical component summary", "points", "continuous", False,
                 (), (0, 100), "Norm-based SF-36 physical summary (population mean 50, SD 10)."),
        Endpoint("SF36MCS", "SF-36 mental component summary", "points", "continuous", False,
                 (), (0, 100), "Norm-based SF-36 mental summary (population mean 50, SD 10)."),
        Endpoint("MRIT2", "MRI T2 disc fluid content", "ms", "continuous", False, (), (0, 300),
                 "Quantitative T2 relaxation time of the treated disc (structural co-primary)."),
        Endpoint("RESP", "Responder (primary rule)", "", "binary", False, ("VAS", "ODI"), (0, 1),
                 "VAS improvement of >=20% and >=20 mm, or ODI improvement of >=20%, "
                 "from baseline (thresholds adjustable)."),
        Endpoint("MCID_VAS", "MCID achieved, VAS", "", "binary", False, ("VAS",), (0, 1),
                 "VAS improvement of at least the MCID (default 15 mm; Ostelo et al. 2008)."),
        Endpoint("MCID_ODI", "MCID achieved, ODI", "", "binary", False, ("ODI",), (0, 1),
                 "ODI improvement of at least the MCID (default 10 points; Ostelo et al. 2008)."),
        Endpoint("HLA1", "Anti-HLA class I antibodies", "", "binary", None, (), (0, 1),
                 "Anti-HLA class I antibodies detected (1) or not (0)."),
        Endpoint("HLA2", "Anti-HLA class II antibodies", "", "binary", None, (), (0, 1),
                 "Anti-HLA class II antibodies detected (1) or not (0)."),
        Endpoint("DSA", "Donor-specific antibodies", "", "binary", None, (), (0, 1),
                 "Antibodies against the donor's HLA detected (1) or not (0)."),
    )
}

MEASURED_ENDPOINTS: tuple[str, ...] = tuple(k for k, e in REGISTRY.items() if not e.is_derived)


def endpoint_for(endpoint_id: str, extra: dict[str, Endpoint] | None = None) -> Endpoint:
    """Look up an endpoint by id, in the registry or in a study's own endpoints.

    Unknown ids found only in a loaded data set get a generic continuous entry, so a study with
    endpoints the registry does not know still works.
    """
    if extra and endpoint_id in extra:
        return extra[endpoint_id]
    if endpoint_id in REGISTRY:
        return REGISTRY[endpoint_id]
    return Endpoint(endpoint_id, endpoint_id, "", "continuous", None)

