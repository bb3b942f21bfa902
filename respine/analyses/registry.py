"""Every analysis the app runs, registered once.

An :class:`Analysis` names a core function of :mod:`respine.analyses` (``fn(trial, ...)``) and
says what of the :class:`~respine.model.selection.Selection` it depends on. Everything else is
derived from the function itself, so nothing is written twice:

* its **options** (typed, with defaults) are the function's parameters that have a default
  (``n_imputations=50, seed=2024`` of :func:`~respine.analyses.robustness.sensitivity`);
* its **result type** is the function's return annotation;
* its **dotted path** (for the code that reproduces a page) is ``fn.__module__`` and
  ``fn.__qualname__``;
* its **inputs** (:meth:`Analysis.inputs`): every argument by name, defaults filled in and the
  Selection normalised for this analysis, so equal analyses share one cache entry and one figure.

The UI's cache wraps each entry (``respine.ui.cache.run(registry.sensitivity, trial, sel)``) and
builds figure keys from the inputs; a notebook calls the entry directly
(``registry.sensitivity(trial, sel)``) or the function it names. This module is pure: no
streamlit.

Adding an analysis is one line here (``name = register(module.function)``) and a page section.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from respine.analyses import (
    baseline,
    compare,
    flow,
    individual,
    listings,
    missing,
    published,
    repeated,
    robustness,
    safety,
    screening,
    subgroups,
    survival,
    trend,
)
from respine.model import design as S
from respine.model.selection import Selection

R = TypeVar("R")

#: What of a Selection an analysis depends on:
#: ``"as_given"`` every field; ``"normalised"`` only those its endpoint kind and method use
#: (:meth:`Selection.normalised`); ``"trend"`` a course over visits, so neither the visit nor the
#: comparison method (:meth:`Selection.for_trend`); ``"values"`` the subjects' values at a visit
#: (normalised, without method or covariates).
SelectionUse = Literal["as_given", "normalised", "trend", "values"]

#: Inputs of one call: every parameter after the trial, by name, in the function's order.
Inputs = tuple[tuple[str, Any], ...]


def _normalise(sel: Selection, trial: S.Trial, use: SelectionUse) -> Selection:
    if use == "as_given":
        return sel
    kind = trial.endpoint(sel.endpoint)  # the entry: its derivation says which rule fields it reads
    if use == "trend":
        return sel.for_trend(kind)
    sel = sel.normalised(kind)
    return sel.with_(method=None, covariates=()) if use == "values" else sel


@dataclass(frozen=True)
class Analysis(Generic[R]):
    """One registered analysis: ``fn(trial, *args, **options) -> R``.

    Parameters
    ----------
    name : str
        Short stable name (cache names, figure keys, messages).
    fn : callable
        The core function; its first parameter is the trial.
    selection : {"as_given", "normalised", "trend", "values"}
        What of a Selection argument the result depends on (see :data:`SelectionUse`).
    keep : int
        How many results of it a cache should keep (a hint for the UI's cache).
    estimand : EstimandSpec, optional
        The estimand attributes it declares (ICH E9(R1)); the Robustness page's estimand table
        and :func:`~respine.analyses.robustness.estimand_table` read them.
    """

    name: str
    fn: Callable[..., R]
    selection: SelectionUse = "as_given"
    keep: int = 64
    estimand: robustness.EstimandSpec | None = None
    _signature: inspect.Signature = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        signature = inspect.signature(self.fn)
        params = list(signature.parameters.values())
        if not params or params[0].name != "trial":
            raise TypeError(f"{self.path}: a registered analysis takes the trial first")
        object.__setattr__(self, "_signature", signature.replace(parameters=params[1:]))

    @property
    def path(self) -> str:
        """Dotted path of the function (``respine.analyses.robustness.sensitivity``)."""
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    @property
    def options(self) -> dict[str, Any]:
        """The function's options and their defaults (its parameters that have a default)."""
        return {
            p.name: p.default
            for p in self._signature.parameters.values()
            if p.default is not inspect.Parameter.empty
        }

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the parameters a call must give (after the trial)."""
        return tuple(
            p.name for p in self._signature.parameters.values() if p.default is inspect.Parameter.empty
        )

    @property
    def result_type(self) -> Any:
        """The function's return annotation (``pd.DataFrame``, ``tuple[pd.DataFrame, str]``, ...)."""
        return typing.get_type_hints(self.fn).get("return", Any)

    def inputs(self, trial: S.Trial, *args: Any, **options: Any) -> Inputs:
        """Every argument of a call by name, defaults filled in, Selections normalised.

        Parameters
        ----------
        trial : Trial
            The trial the analysis will run on (its endpoint kinds normalise the Selection).
        *args, **options
            As for the function, after the trial.

        Returns
        -------
        tuple of (name, value)
            In the function's parameter order: the cache key and the figure key of this call.

        Raises
        ------
        TypeError
            When the arguments do not fit the function (a missing or unknown parameter).
        """
        bound = self._signature.bind(*args, **options)
        bound.apply_defaults()
        return tuple(
            (name, _normalise(value, trial, self.selection) if isinstance(value, Selection) else value)
            for name, value in bound.arguments.items()
        )

    def run(self, trial: S.Trial, inputs: Inputs) -> R:
        """Call the function with inputs made by :meth:`inputs`."""
        return self.fn(trial, **dict(inputs))

    def __call__(self, trial: S.Trial, *args: Any, **options: Any) -> R:
        return self.run(trial, self.inputs(trial, *args, **options))


REGISTRY: dict[str, Analysis[Any]] = {}


def register(
    fn: Callable[..., R], name: str | None = None, selection: SelectionUse = "as_given", keep: int = 64,
    estimand: robustness.EstimandSpec | None = None,
) -> Analysis[R]:
    """Register ``fn`` once; returns its :class:`Analysis` (typed by ``fn``'s result).

    Parameters
    ----------
    fn : callable
        A core function ``fn(trial, ...)``.
    name : str, optional
        Registry name; the function's name by default.
    selection : SelectionUse
        What of a Selection argument the result depends on.
    keep : int
        Cache size hint for the UI.
    estimand : EstimandSpec, optional
        The estimand attributes the analysis declares.

    Raises
    ------
    ValueError
        When the name is taken.
    """
    analysis = Analysis(name or fn.__name__, fn, selection, keep, estimand)
    if analysis.name in REGISTRY:
        raise ValueError(f"analysis {analysis.name!r} is registered twice")
    REGISTRY[analysis.name] = analysis
    return analysis


# Comparisons and courses over time -------------------------------------------------------------
analyze = register(compare.analyze, selection="normalised", keep=512)
dose_response = register(compare.dose_response, selection="normalised")
over_time = register(trend.over_time, selection="trend", keep=512)
over_time_adjusted = register(trend.over_time_adjusted)
over_time_mmrm = register(trend.over_time_mmrm)
mmrm_records = register(repeated.mmrm_records)
mmrm_type3 = register(repeated.mmrm_type3, selection="normalised")
# Individual subjects -----------------------------------------------------------------------------
cumulative = register(individual.cumulative_distribution, "cumulative")
sweep = register(individual.threshold_sweep, "sweep")
trajectories = register(individual.trajectories)
waterfall = register(individual.waterfall)
structure = register(individual.structure_vs_symptoms, "structure")
# Patient-level views (listings, one subject's profile) ------------------------------------------
subject_listing = register(listings.subject_listing, keep=16)
measurement_listing = register(listings.measurement_listing, keep=16)
adverse_event_listing = register(listings.adverse_event_listing, keep=16)
patient_profile = register(listings.patient_profile, keep=32)
# Robustness --------------------------------------------------------------------------------------
_E = robustness.ESTIMANDS
sensitivity = register(robustness.sensitivity, estimand=_E["sensitivity"])
reference_based = register(robustness.reference_based, keep=32, estimand=_E["reference_based"])
tipping = register(robustness.tipping, estimand=_E["tipping"])
bayes = register(robustness.bayes_reading, "bayes", estimand=_E["bayes"])
multiplicity = register(robustness.multiplicity_over_visits, "multiplicity", estimand=_E["multiplicity"])
multiplicity_endpoints = register(robustness.multiplicity_over_endpoints, "multiplicity_endpoints")
gee = register(robustness.gee_over_visits, "gee", estimand=_E["gee"])
estimands = register(robustness.estimand_table, "estimands")
# Subgroups, trial conduct and the publication ----------------------------------------------------
subgroup_analysis = register(subgroups.subgroup_analysis, "subgroups")
subgroup_screening = register(screening.subgroup_screening, "screening", selection="values", keep=32)
baseline_table = register(baseline.baseline_table)
baseline_notes = register(baseline.baseline_notes)
participant_flow = register(flow.participant_flow, keep=16)
ae_overview = register(safety.ae_overview)
ae_by_term = register(safety.ae_by_term)
time_to_event = register(survival.time_to_event, keep=32)
immune_response = register(safety.immune_response)
completion = register(missing.completion)
missing_patterns = register(missing.missing_patterns, "patterns")
paper_check = register(published.paper_check, "paper", keep=16)
primary_check = register(published.primary_check, keep=16)
population_counts = register(published.population_counts, keep=16)
