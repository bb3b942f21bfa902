"""What an endpoint's declaration says about its name and its direction, for a given view.

Two facts every label of a result depends on, computed here once from the endpoint registry
(:mod:`respine.model.endpoints`) so that figures, tables, methods sentences, the report and the
command line cannot disagree:

* **Direction**: which arm a positive contrast (arm minus reference, or a ratio above 1)
  favours, or that the direction is unknown (``lower_is_better`` is ``None``, e.g. antibodies),
  in which case nothing may speak of "favours" or "benefit". The display text built from it
  lives in :mod:`respine.present.labels`.
* **Name under the view's responder rule**: an endpoint derived by a :class:`Responder` rule is
  named after the rule the view uses, so a rule the user moved away from the study's primary
  rule is never called primary.

And the **unit of what is shown** (:func:`measure_unit`): a value and its change from baseline
are in the endpoint's unit, a percent change and a rate in percent, so that no axis says "(mm)"
over a percent change.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from respine.model.endpoints import Endpoint, Responder, endpoint_for
from respine.model.rules import PRIMARY_RULE, ResponderRule
from respine.model.selection import Filters

# Measures of a continuous endpoint that keep the scale's sign: a higher value, change or
# percent change is better exactly when higher values are better.
SAME_SIGN_MEASURES = frozenset({"aval", "chg", "pchg"})
# Measures whose sign was turned so that a positive value is an improvement on any scale
# (``analyses.individual`` plots improvement that way).
IMPROVEMENT_MEASURES = frozenset({"improvement"})
# Contrasts between arms: differences (positive = arm above reference) and ratios (above 1 =
# arm above reference). Which of them is used changes the null value, never the direction.
CONTRAST_MEASURES = frozenset({"mean_difference", "location_shift", "risk_difference",
                               "relative_risk", "odds_ratio"})

PRIMARY_QUALIFIER = "primary rule"
_QUALIFIER = re.compile(r"\s*\((?:primary|modified) rule[^()]*\)$")


def positive_favours_arm(endpoint: Endpoint, measure: str = "chg") -> bool | None:
    """Whether a positive contrast of ``measure`` (arm minus reference; for a ratio, above 1)
    favours the arm.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint compared; its ``lower_is_better`` is the direction of benefit of its values.
        For a binary endpoint the values are 1 (the event, e.g. a responder) and 0, so the
        direction says whether the event is good (``False``: more events are better).
    measure : str
        What is compared: ``"aval"``, ``"chg"`` or ``"pchg"`` (observed value, change and percent
        change keep the sign of the scale: a higher change is better when higher values are
        better), ``"improvement"`` (sign turned so that positive is better), or a contrast
        measure (``"mean_difference"``, ``"risk_difference"``, ``"odds_ratio"``, ...), which
        compares the endpoint's values as they are.

    Returns
    -------
    bool or None
        ``True`` when a positive contrast favours the arm, ``False`` when it favours the
        reference, ``None`` when the endpoint's direction is unknown.

    Raises
    ------
    ValueError
        For a measure whose direction is not declared here.
    """
    if endpoint.lower_is_better is None:
        return None
    if measure in IMPROVEMENT_MEASURES:
        return True
    if measure in SAME_SIGN_MEASURES or measure in CONTRAST_MEASURES:
        return not endpoint.lower_is_better
    raise ValueError(f"The direction of the measure '{measure}' is not known; use one of "
                     f"{', '.join(sorted(SAME_SIGN_MEASURES | IMPROVEMENT_MEASURES | CONTRAST_MEASURES))}.")


def favoured_arm(endpoint: Endpoint, arm: str, reference: str, positive: bool = True,
                 measure: str = "chg") -> str | None:
    """The arm a positive (``positive=True``) or negative contrast of ``arm`` against
    ``reference`` favours; ``None`` when the endpoint's direction is unknown.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint compared.
    arm, reference : str
        The two arms of the contrast (arm minus reference).
    positive : bool
        Which side of the null value is asked about.
    measure : str
        See :func:`positive_favours_arm`.
    """
    favours = positive_favours_arm(endpoint, measure)
    if favours is None:
        return None
    return arm if favours == positive else reference


def responder_rule_applies(endpoint: Endpoint) -> bool:
    """Whether the view's responder rule defines this endpoint (a declared :class:`Responder`)."""
    return isinstance(endpoint.derivation, Responder)


def rule_modified(endpoint: Endpoint, rule: ResponderRule) -> bool:
    """Whether ``endpoint`` is derived by the responder rule and ``rule`` is not the study's
    primary rule (:data:`respine.model.rules.PRIMARY_RULE`)."""
    return responder_rule_applies(endpoint) and rule != PRIMARY_RULE


def describe_rule(endpoint: Endpoint, rule: ResponderRule,
                  lookup: Callable[[str], Endpoint] = endpoint_for) -> str:
    """``rule`` in words, naming the endpoints the endpoint's :class:`Responder` declaration reads.

    Parameters
    ----------
    endpoint : Endpoint
        A responder endpoint.
    rule : ResponderRule
        The rule of the view.
    lookup : callable
        Resolves the rule's source endpoints (their labels' ids and the first one's unit); pass
        ``trial.endpoint`` for a study with endpoints of its own.
    """
    derivation = endpoint.derivation
    if not isinstance(derivation, Responder):
        raise ValueError(f"{endpoint.label} is not defined by a responder rule.")
    return rule.describe(derivation.first, derivation.second, lookup(derivation.first).unit)


def endpoint_label(endpoint: Endpoint, rule: ResponderRule = PRIMARY_RULE,
                   lookup: Callable[[str], Endpoint] = endpoint_for) -> str:
    """The name of ``endpoint`` under the view's responder rule.

    An endpoint that no responder rule defines keeps its registry label. A responder endpoint is
    "<name> (primary rule)" under the study's primary rule (for RESPINE exactly the registry's
    "Responder (primary rule)") and "<name> (modified rule: <the rule in words>)" under any
    other, so that a rule the user changed is never called primary. A qualifier the declared
    label already carries ("(primary rule)") is replaced, not repeated.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint named.
    rule : ResponderRule
        The responder rule of the view (``Selection.rule``).
    lookup : callable
        Resolves the rule's source endpoints; see :func:`describe_rule`.

    Returns
    -------
    str
        The label to show on figures, tables, the report and the command line.

    Examples
    --------
    >>> from respine.model.endpoints import Endpoint, Responder
    >>> resp = Endpoint("RESP", "Responder (primary rule)", "", "binary", False, Responder("VAS", "ODI"))
    >>> endpoint_label(resp)
    'Responder (primary rule)'
    >>> endpoint_label(resp, ResponderRule(vas_pct=30))
    'Responder (modified rule: (VAS improvement >= 30% AND >= 20 mm) OR (ODI improvement >= 20%))'
    """
    if not responder_rule_applies(endpoint):
        return endpoint.label
    name = _QUALIFIER.sub("", endpoint.label)
    if rule == PRIMARY_RULE:
        return f"{name} ({PRIMARY_QUALIFIER})"
    return f"{name} (modified rule: {describe_rule(endpoint, rule, lookup)})"


# The unit of each measure of a continuous endpoint: None keeps the endpoint's own unit (a value,
# a change or an improvement is on the scale of the value); a percent change is in percent of the
# baseline value whatever the scale.
MEASURE_UNITS: dict[str, str | None] = {"aval": None, "chg": None, "improvement": None, "pchg": "%"}
RATE_UNIT = "%"  # a binary endpoint is shown as the percent of subjects with the event
# A difference of two percentages (a change on a 0-100% scale such as the ODI) is in percentage
# points: "(%)" would read as a percent change.
POINTS = "percentage points"


def measure_unit(endpoint: Endpoint, measure: str = "aval") -> str:
    """The unit of ``measure`` of ``endpoint``, as an axis title or a table header shows it.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint shown; its ``unit`` is the unit of its values.
    measure : str
        ``"aval"`` (observed value), ``"chg"`` (change from baseline), ``"improvement"`` (change
        with the sign turned so that positive is better) or ``"pchg"`` (percent change from
        baseline). For a binary endpoint every measure is its rate.

    Returns
    -------
    str
        ``"%"`` for a rate and a percent change; the endpoint's unit for a value; for a change,
        the endpoint's unit, except on a percent scale, where a change is in
        :data:`POINTS`; ``""`` when the endpoint declares no unit.

    Raises
    ------
    ValueError
        For a measure whose unit is not declared in :data:`MEASURE_UNITS`.

    Examples
    --------
    >>> from respine.model.endpoints import REGISTRY
    >>> measure_unit(REGISTRY["VAS"], "chg"), measure_unit(REGISTRY["VAS"], "pchg")
    ('mm', '%')
    >>> measure_unit(REGISTRY["ODI"], "aval"), measure_unit(REGISTRY["ODI"], "chg")
    ('%', 'percentage points')
    """
    if measure not in MEASURE_UNITS:
        raise ValueError(f"The unit of the measure '{measure}' is not known; use one of "
                         f"{', '.join(MEASURE_UNITS)}.")
    if endpoint.kind == "binary":
        return RATE_UNIT
    unit = MEASURE_UNITS[measure]
    if unit is not None:
        return unit
    if measure != "aval" and endpoint.unit == "%":
        return POINTS
    return endpoint.unit


def filters_phrase(filters: Filters) -> str:
    """The subgroup filters of a view in words ("sex in {F}; age in [40, 60]"); "" for none."""
    return "; ".join(f.describe() for f in filters)


def filters_sentence(filters: Filters) -> str:
    """The sentence a methods text ends with when subgroup filters restrict the subjects
    (" Only subjects with sex in {F} were included."); "" for none, so that a methods sentence
    pasted into a report never hides a restriction."""
    phrase = filters_phrase(filters)
    return f" Only subjects with {phrase} were included." if phrase else ""
