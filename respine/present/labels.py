"""Direction-of-benefit wording, from the endpoint registry.

Every "favours", "benefit" and "harm" that a figure axis, a hover text, a table header or a note
shows is written here, from :func:`respine.model.labels.positive_favours_arm`; where the
endpoint's direction is unknown (``lower_is_better`` is ``None``) the wording speaks only of a
difference. The endpoint's name under the view's responder rule is
:func:`respine.model.labels.endpoint_label`, re-exported here for the display layer.
"""

from __future__ import annotations

from respine.model.endpoints import Endpoint
from respine.model.labels import endpoint_label, favoured_arm, positive_favours_arm, rule_modified
from respine.model.results import AnalysisResult
from respine.present import fmt

__all__ = [
    "benefit_headers",
    "benefit_word",
    "contrast_axis_title",
    "direction_note",
    "endpoint_label",
    "favours_axis",
    "improvement_side",
    "result_direction_note",
    "rule_modified",
]

RATIOS = frozenset({"relative_risk", "odds_ratio"})


def favours_axis(endpoint: Endpoint | None, arm: str, reference: str, measure: str = "chg") -> str:
    """The two ends of a contrast axis, left (negative; ratio below 1) then right:
    "favours <arm> ← → favours <other arm>"; empty when the direction is unknown.

    Parameters
    ----------
    endpoint : Endpoint or None
        The endpoint compared; ``None`` (not known to the caller) counts as unknown direction.
    arm, reference : str
        The arms of the contrast (arm minus reference, or arm over reference).
    measure : str
        The measure compared (see :func:`respine.model.labels.positive_favours_arm`).
    """
    if endpoint is None:
        return ""
    right = favoured_arm(endpoint, arm, reference, True, measure)
    left = favoured_arm(endpoint, arm, reference, False, measure)
    if right is None or left is None:
        return ""
    return f"favours {left} ← → favours {right}"


def contrast_axis_title(contrast: str, endpoint: Endpoint | None, arm: str, reference: str,
                        measure: str = "chg") -> str:
    """Title of an axis of contrasts of ``contrast`` (e.g. ``"risk_difference"``), with the
    direction of benefit where it is known.

    Parameters
    ----------
    contrast : str
        The contrast measure (``mean_difference``, ``risk_difference``, ``odds_ratio``, ...).
    endpoint : Endpoint or None
        The endpoint compared; ``None`` gives the title without direction.
    arm, reference : str
        The arms of the contrast.
    measure : str
        The endpoint's measure (``chg``, ``aval``, ``pchg``); it sets the direction together with
        the endpoint.

    Examples
    --------
    >>> from respine.model.endpoints import REGISTRY
    >>> contrast_axis_title("mean_difference", REGISTRY["VAS"], "BM-MSC", "Sham")
    'Difference in means: favours BM-MSC ← → favours Sham'
    """
    unit = " (percentage points)" if contrast == "risk_difference" else ""
    title = f"{fmt.contrast_label(contrast)}{unit}"
    sides = favours_axis(endpoint, arm, reference, measure)
    return f"{title}: {sides}" if sides else title


def direction_note(endpoint: Endpoint | None, arm: str, reference: str, contrast: str,
                   measure: str = "chg") -> str:
    """One sentence saying which side of the null value favours ``arm``; empty when the direction
    is unknown.

    Examples
    --------
    >>> from respine.model.endpoints import REGISTRY
    >>> direction_note(REGISTRY["VAS"], "BM-MSC", "Sham", "mean_difference")
    'Lower values are better: a negative difference favours BM-MSC.'
    """
    if endpoint is None:
        return ""
    favours = positive_favours_arm(endpoint, measure)
    if favours is None:
        return ""
    if endpoint.kind == "binary":
        scale = "A higher rate is better" if endpoint.lower_is_better is False else "A lower rate is better"
    else:
        scale = "Higher values are better" if endpoint.lower_is_better is False else "Lower values are better"
    if contrast in RATIOS:
        side = "a ratio above one" if favours else "a ratio below one"
    else:
        side = "a positive difference" if favours else "a negative difference"
    return f"{scale}: {side} favours {arm}."


def benefit_word(endpoint: Endpoint | None) -> str:
    """What a positive risk difference (arm minus reference) is for ``endpoint``: "benefit" when
    it favours the arm (more responders), "harm" when it favours the reference (more of a bad
    event), "difference" when the direction is unknown."""
    favours = None if endpoint is None else positive_favours_arm(endpoint, "risk_difference")
    if favours is None:
        return "difference"
    return "benefit" if favours else "harm"


def benefit_headers(endpoint: Endpoint | None, threshold_points: float) -> tuple[str, str]:
    """Headers of the Bayesian reading of a risk difference (arm minus reference): the posterior
    probability that it is above zero and that it is above ``threshold_points`` percentage points.

    "P(any benefit)" and "P(benefit > x points)" when a positive difference favours the arm;
    "P(any harm)" and "P(harm > x points)" when it favours the reference; "P(difference > 0)" and
    "P(difference > x points)" when the direction is unknown (nothing is called a benefit then).
    """
    word = benefit_word(endpoint)
    if word == "difference":
        return "P(difference > 0)", f"P(difference > {threshold_points:g} points)"
    return f"P(any {word})", f"P({word} > {threshold_points:g} points)"


def improvement_side(endpoint: Endpoint | None, measure: str = "chg") -> str:
    """Where an improvement lies on a plot of one subject's ``measure`` (change or percent
    change from baseline): "above zero" on a higher-is-better scale, "below zero" on a
    lower-is-better one, and "" when the direction is unknown (then no side is called better).

    Examples
    --------
    >>> from respine.model.endpoints import REGISTRY
    >>> improvement_side(REGISTRY["VAS"], "pchg")
    'below zero'
    """
    favours = None if endpoint is None else positive_favours_arm(endpoint, measure)
    if favours is None:
        return ""
    return "above zero" if favours else "below zero"


def result_direction_note(endpoint: Endpoint | None, result: AnalysisResult) -> str:
    """:func:`direction_note` for the first contrast of ``result`` (its arm, reference and
    measure); empty when the result has no contrast or the direction is unknown. Shown under a
    contrast table so that a difference of, say, −8 mm on a pain scale is read the right way."""
    if not result.contrasts:
        return ""
    c = result.contrasts[0]
    # several arms compared with one reference: the sentence holds for each, so it names none
    several = len({x.arm for x in result.contrasts}) > 1
    arm = f"the arm compared with {c.reference}" if several else c.arm
    return direction_note(endpoint, arm, c.reference, c.measure, result.measure)
