"""Responder and MCID rules: small value objects, evaluated elementwise on arrays.

The RESPINE primary responder rule (Pers et al. 2024): improvement of VAS low back pain of at
least 20% **and** at least 20 mm, **or** improvement of ODI of at least 20% (relative), from
baseline. The thresholds, the AND/OR joins and which criteria count (both, or the VAS or the ODI
criterion alone) are adjustable, because sensitivity to the rule is one of the first questions
readers ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from respine.model.endpoints import Derivation, Mcid, Responder

Join = Literal["AND", "OR"]
Criteria = Literal["OR", "AND", "VAS", "ODI"]
"""Which criteria make a responder: either (``OR``, the primary rule), both (``AND``), or one alone:
``VAS`` the first criterion (the ``vas_*`` thresholds), ``ODI`` the second (the ``odi_*`` ones).
The names are those of the RESPINE rule, as the thresholds' are; which endpoints the two criteria
read is the study's :class:`~respine.model.endpoints.Responder` declaration."""
CRITERIA: tuple[Criteria, ...] = get_args(Criteria)
ALONE: tuple[Criteria, ...] = ("VAS", "ODI")  # one criterion alone: the other's thresholds are unused


@dataclass(frozen=True)
class ResponderRule:
    """A composite responder definition on VAS and ODI improvement from baseline.

    Parameters
    ----------
    vas_pct : float
        Minimum relative VAS improvement, in percent of baseline.
    vas_mm : float
        Minimum absolute VAS improvement, in mm.
    vas_join : {"AND", "OR"}
        How the two VAS criteria combine.
    odi_pct : float
        Minimum relative ODI improvement, in percent of baseline.
    odi_points : float
        Minimum absolute ODI improvement, in points (0 = no absolute criterion).
    join : {"OR", "AND", "VAS", "ODI"}
        Which criteria make a responder (:data:`Criteria`): the VAS or the ODI criterion (OR),
        both (AND), or the VAS or the ODI criterion alone.

    References
    ----------
    .. [1] Pers Y-M, et al. Allogenic bone marrow-derived mesenchymal stromal cell-based therapy
       for patients with chronic low back pain (RESPINE). Ann Rheum Dis 2024;83:1572-1583.
    """

    vas_pct: float = 20.0
    vas_mm: float = 20.0
    vas_join: Join = "AND"
    odi_pct: float = 20.0
    odi_points: float = 0.0
    join: Criteria = "OR"

    def describe(self, first: str = "VAS", second: str = "ODI", first_unit: str = "mm") -> str:
        """The rule in words; ``first`` and ``second`` name the endpoints its two criteria read
        (a study's :class:`~respine.model.endpoints.Responder` declaration), ``first_unit`` the
        unit of the first criterion's absolute threshold."""
        vas = f"{first} improvement >= {self.vas_pct:g}% {self.vas_join} >= {self.vas_mm:g} {first_unit}"
        odi = f"{second} improvement >= {self.odi_pct:g}%"
        if self.odi_points > 0:
            odi += f" and >= {self.odi_points:g} points"
        if self.join in ALONE:
            return f"{vas if self.join == 'VAS' else odi} ({first if self.join == 'VAS' else second} alone)"
        return f"({vas}) {self.join} ({odi})"

    @property
    def is_primary(self) -> bool:
        return self == PRIMARY_RULE


PRIMARY_RULE = ResponderRule()

# Minimal clinically important differences for chronic low back pain (Ostelo et al. 2008).
MCID_VAS_MM = 15.0
MCID_ODI_POINTS = 10.0


def _combine(a: np.ndarray, b: np.ndarray, join: Join | Criteria) -> np.ndarray:
    """Three-valued AND/OR: NaN means unknown; a known result wins where logic allows. ``VAS``
    and ``ODI`` (:data:`Criteria`) keep the first or the second criterion alone."""
    if join == "VAS":
        return a
    if join == "ODI":
        return b
    a_true, b_true = a == 1.0, b == 1.0
    a_false, b_false = a == 0.0, b == 0.0
    out = np.full(a.shape, np.nan)
    if join == "AND":
        out[a_true & b_true] = 1.0
        out[a_false | b_false] = 0.0
    else:
        out[a_false & b_false] = 0.0
        out[a_true | b_true] = 1.0
    return out


def _relative(improvement: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Percent improvement; -inf (never meets a threshold) for a zero baseline, NaN if missing."""
    missing = np.where(np.isnan(improvement), np.nan, -np.inf)
    return np.where(base > 0, 100.0 * improvement / np.where(base > 0, base, 1.0), missing)


def _criterion(improvement: np.ndarray, threshold: float) -> np.ndarray:
    out = np.where(improvement >= threshold - 1e-9, 1.0, 0.0)
    return np.where(np.isnan(improvement), np.nan, out)


def responder(
    vas_base: np.ndarray,
    vas: np.ndarray,
    odi_base: np.ndarray,
    odi: np.ndarray,
    rule: ResponderRule = PRIMARY_RULE,
    *,
    first_lower_is_better: bool = True,
    second_lower_is_better: bool = True,
) -> np.ndarray:
    """Evaluate a responder rule elementwise.

    Returns 1.0 (responder), 0.0 (non-responder) or NaN (cannot be determined from the values
    present; for example, VAS missing, ODI criterion not met and the join is OR).

    Improvement is baseline minus follow-up on a lower-is-better scale (VAS and ODI) and
    follow-up minus baseline on a higher-is-better one (``first_lower_is_better`` and
    ``second_lower_is_better`` say which; the ``vas_*`` thresholds apply to the first scale, the
    ``odi_*`` ones to the second). Relative improvement is undefined for a zero baseline and then
    counts as not met.
    """
    vas_base, vas = np.asarray(vas_base, float), np.asarray(vas, float)
    odi_base, odi = np.asarray(odi_base, float), np.asarray(odi, float)
    vas_imp = _improvement(vas_base, vas, first_lower_is_better)
    odi_imp = _improvement(odi_base, odi, second_lower_is_better)
    with np.errstate(divide="ignore", invalid="ignore"):
        vas_rel = _relative(vas_imp, vas_base)
        odi_rel = _relative(odi_imp, odi_base)
    vas_ok = _combine(_criterion(vas_rel, rule.vas_pct), _criterion(vas_imp, rule.vas_mm), rule.vas_join)
    odi_ok = _criterion(odi_rel, rule.odi_pct)
    if rule.odi_points > 0:
        odi_ok = _combine(odi_ok, _criterion(odi_imp, rule.odi_points), "AND")
    return _combine(vas_ok, odi_ok, rule.join)


def _improvement(base: np.ndarray, value: np.ndarray, lower_is_better: bool) -> np.ndarray:
    improvement: np.ndarray = base - value if lower_is_better else value - base
    return improvement


def mcid_achieved(base: np.ndarray, value: np.ndarray, threshold: float, *,
                  lower_is_better: bool = True) -> np.ndarray:
    """1.0 where the improvement reaches ``threshold``; NaN if missing.

    The improvement is baseline minus value on a lower-is-better scale, value minus baseline
    otherwise.

    References
    ----------
    .. [1] Ostelo RWJG, Deyo RA, Stratford P, et al. Interpreting change scores for pain and
       functional status in low back pain: towards international consensus regarding minimal
       important change. Spine 2008;33(1):90-94. (VAS 15 mm of 100; ODI 10 points.)
    """
    return _criterion(_improvement(np.asarray(base, float), np.asarray(value, float), lower_is_better),
                      threshold)


def default_parameters() -> dict[str, object]:
    """The derivation parameters of the default view: the primary rule and the MCID defaults."""
    return {"rule": PRIMARY_RULE, "mcid_vas": MCID_VAS_MM, "mcid_odi": MCID_ODI_POINTS}


def evaluate(
    derivation: Derivation,
    base: Mapping[str, np.ndarray],
    value: Mapping[str, np.ndarray],
    parameters: Mapping[str, object],
    lower_is_better: Mapping[str, bool | None],
) -> np.ndarray:
    """Evaluate a declared derivation elementwise: 1.0, 0.0 or NaN (undetermined).

    Parameters
    ----------
    derivation : Responder or Mcid
        The endpoint's declared derivation.
    base, value : mapping of str to ndarray
        Baseline and follow-up values of each source endpoint, aligned by subject.
    parameters : mapping
        View parameters by name: ``rule`` (a :class:`ResponderRule`) and the MCID thresholds
        (``mcid_vas``, ``mcid_odi``); only those the derivation declares are read.
    lower_is_better : mapping of str to bool or None
        Direction of each source endpoint; ``None`` counts as lower is better (improvement is a
        fall), the convention of the pain and disability scales the rules were written for.
    """
    def lower(endpoint: str) -> bool:
        return lower_is_better.get(endpoint) is not False

    if isinstance(derivation, Responder):
        rule = parameters["rule"]
        if not isinstance(rule, ResponderRule):
            raise TypeError("The responder derivation needs a ResponderRule as parameter 'rule'.")
        a, b = derivation.first, derivation.second
        return responder(base[a], value[a], base[b], value[b], rule,
                         first_lower_is_better=lower(a), second_lower_is_better=lower(b))
    if isinstance(derivation, Mcid):
        threshold = float(parameters[derivation.threshold])  # type: ignore[arg-type]
        src = derivation.source
        return mcid_achieved(base[src], value[src], threshold, lower_is_better=lower(src))
    raise TypeError(f"Unknown derivation {derivation!r}.")

