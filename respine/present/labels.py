"""Direction-of-benefit wording, units of what is shown, and the selection in words.

Every "favours", "benefit" and "harm" that a figure axis, a hover text, a table header or a note
shows is written here, from :func:`respine.model.labels.positive_favours_arm`; where the
endpoint's direction is unknown (``lower_is_better`` is ``None``) the wording speaks only of a
difference. The endpoint's name under the view's responder rule is
:func:`respine.model.labels.endpoint_label`, re-exported here for the display layer.

Every axis title of a value, a change or a rate is :func:`value_title`, whose unit comes from the
measure (:func:`respine.model.labels.measure_unit`). What a figure or a table shows is named by
:func:`selection_caption`: the population, the subgroup filters, the arms compared, the records
read where it matters, the data and, for synthetic data, :data:`SYNTHETIC_MARK`. Figures carry it
as their subtitle and every export (PNG, SVG, CSV, Excel, the reports) carries it inside the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from respine.derive.measures import MEASURES
from respine.derive.records import RECORDS, has_derived_records
from respine.errors import SelectionError
from respine.memo import per_trial
from respine.model.endpoints import Endpoint
from respine.model.labels import (
    endpoint_label,
    favoured_arm,
    filters_phrase,
    measure_unit,
    positive_favours_arm,
    rule_modified,
)
from respine.model.results import AnalysisResult
from respine.model.selection import Filters, Selection
from respine.present import fmt

if TYPE_CHECKING:
    from respine.model.design import StudyDesign, Trial

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
    "selection_caption",
    "selection_parts",
    "synthetic_notice",
    "value_title",
    "with_unit",
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


# --- units of what is shown --------------------------------------------------------------------

SUBJECTS_TITLE = "Subjects"  # the axis of a rate: the percent of subjects with the event
IMPROVEMENT_TITLE = "Improvement from baseline"


def with_unit(text: str, unit: str) -> str:
    """``text (unit)``, or ``text`` when there is no unit."""
    return f"{text} ({unit})" if unit else text


def value_title(endpoint: Endpoint, measure: str = "aval", *, name: bool = False) -> str:
    """The axis title (or table header) of ``measure`` of ``endpoint``, with the measure's unit.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint shown.
    measure : str
        ``"aval"``, ``"chg"``, ``"pchg"`` or ``"improvement"``; a binary endpoint is its rate.
    name : bool
        Start with the endpoint's label (for an axis that does not otherwise say which endpoint
        it shows).

    Examples
    --------
    >>> from respine.model.endpoints import REGISTRY
    >>> value_title(REGISTRY["VAS"], "pchg")
    'Percent change from baseline (%)'
    >>> value_title(REGISTRY["ODI"], "chg", name=True)
    'Oswestry Disability Index, change from baseline (percentage points)'
    """
    unit = measure_unit(endpoint, measure)
    if endpoint.kind == "binary":
        what = SUBJECTS_TITLE
    else:
        what = IMPROVEMENT_TITLE if measure == "improvement" else MEASURES[measure]
    if name and endpoint.kind == "binary":
        what = endpoint.label
    elif name:
        what = f"{endpoint.label}, {what[0].lower()}{what[1:]}"
    return with_unit(what, unit)


# --- the selection in words ----------------------------------------------------------------------

SYNTHETIC_MARK = "Synthetic data"


def synthetic_notice(design: StudyDesign) -> str:
    """What a page or a report says of data the study description marks as synthetic (plain
    text, after :data:`SYNTHETIC_MARK`), in the study description's words: a study that cites
    published results (``short_citation``) is a twin built to reproduce them; one that cites none
    is only called synthetic."""
    if design.short_citation:
        return (f"These are not the {design.id} patients: this is a seeded synthetic twin built to "
                f"reproduce the published results ({design.short_citation}). Everything else in it is "
                "assumed; see data/README.md.")
    return (f"These are not real patients of {design.id}: the study description marks the data as "
            "synthetic.")
"""The mark every figure, table and report of a synthetic study carries (the study description's
``synthetic = true``); a study with real data carries none."""
NO_FILTER = "no subgroup filter"
WHOLE_STUDY = "every subject of the study"


def source_name(source: str) -> str:
    """The data source as an export names it: an upload or an opened folder as the app names it
    (file names and digest), a folder on the server by its name only (its path on the server
    means nothing to a reader, and is not theirs to know)."""
    if source.startswith(("upload", "folder: ")) or not source:
        return source
    return PurePath(source).name or source


def _population_words(trial: Trial, population: str | None) -> str:
    pop_id = population or trial.design.default_population
    try:
        label = trial.design.population(pop_id).label
    except SelectionError:  # a population the study does not declare: named as given
        return f"population {pop_id}"
    return f"{label} population ({pop_id})" if label and label != pop_id else f"population {pop_id}"


@per_trial(maxsize=64)
def _has_derived(trial: Trial, endpoint: str | None) -> bool:
    # a scan of the measurements (about 1 ms at 114 subjects): a caption is drawn for every
    # table and figure of every rerun, so it is done once per trial and endpoint
    return has_derived_records(trial, endpoint)


def _arms_words(trial: Trial, pool: Sequence[str]) -> str:
    design = trial.design
    words = f"{', '.join(design.treatment_arms)} vs {design.reference_arm} (reference)"
    if pool:
        words += f"; pooled: {' + '.join(pool)}"
    return words


def selection_parts(trial: Trial, sel: Selection | None = None, *, population: str | None = None,
                    filters: Filters | None = None, records: str | None = None,
                    endpoint: str | None = None, note: str = "", whole_study: bool = False,
                    source: str | None = None) -> list[str]:
    """The parts of :func:`selection_caption`, in order (population, filters, arms, [records],
    [note], data, [synthetic mark])."""
    population = population if population is not None else (sel.population if sel else None)
    filters = filters if filters is not None else (sel.filters if sel else ())
    pool = sel.pool if sel else ()
    who = WHOLE_STUDY if whole_study else _population_words(trial, population)
    parts = [who, filters_phrase(filters) or NO_FILTER, _arms_words(trial, pool)]
    if records is not None and _has_derived(trial, endpoint or (sel.endpoint if sel else None)):
        parts.append(RECORDS.get(records, records))
    if note:
        parts.append(note)
    design = trial.design
    source = source_name(trial.source if source is None else source)
    parts.append(f"data: {design.id}" + (f" ({source})" if source and source != design.id else ""))
    if trial.synthetic:
        parts.append(SYNTHETIC_MARK)
    return parts


def selection_caption(trial: Trial, sel: Selection | None = None, *, population: str | None = None,
                      filters: Filters | None = None, records: str | None = None,
                      endpoint: str | None = None, note: str = "", whole_study: bool = False,
                      source: str | None = None) -> str:
    """What a figure or a table shows, in one line: the population, the subgroup filters (or
    that there is none), the arms compared (and pooled), the records read (only where the study
    has derived records and ``records`` is given), a ``note``, the data, and
    :data:`SYNTHETIC_MARK` for a synthetic study.

    Parameters
    ----------
    trial : Trial
        The trial as the view shows it (its arms, reference and pooled arm; its source and
        whether its data are synthetic).
    sel : Selection, optional
        The view's selection (population, filters, pooled arms); the study's default population
        and no filter when None.
    population, filters : optional
        What the shown analysis used, where it is not the selection's (a page that shows the
        primary analysis on its own population, without the view's filters).
    records : {"analysis", "observed"}, optional
        The records read (:data:`respine.derive.records.RECORDS`).
    endpoint : str, optional
        The endpoint whose derived records decide whether ``records`` is named (default: the
        selection's).
    note : str
        A further part (e.g. that the sidebar filter is not applied).
    whole_study : bool
        What is shown describes every subject of the study (a table of the populations, the
        participant flow), not one population.
    source : str, optional
        The data source to name (default: the trial's; a view of some arms names its study's).

    Examples
    --------
    >>> from respine import load_trial
    >>> from respine.model.selection import SubgroupFilter
    >>> trial = load_trial()
    >>> caption = selection_caption(trial, Selection(filters=(SubgroupFilter("sex", ("Female",)),)))
    >>> for part in caption.split(" · "):
    ...     print(part)
    Modified intention to treat population (MITT)
    sex in {Female}
    BM-MSC vs Sham (reference)
    data: RESPINE (data)
    Synthetic data
    """
    return " · ".join(selection_parts(trial, sel, population=population, filters=filters, records=records,
                                      endpoint=endpoint, note=note, whole_study=whole_study,
                                      source=source))
