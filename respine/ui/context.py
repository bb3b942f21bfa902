"""What every page starts from: the trial, its design, the view, the arm colours and the
small-cell threshold, read once (:func:`page_context`)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from respine import derive
from respine.derive.arms import compared_trial
from respine.derive.directions import with_directions
from respine.errors import SelectionError
from respine.model import design as S
from respine.model.endpoints import Endpoint
from respine.model.labels import endpoint_label, responder_rule_applies
from respine.model.params import to_selection
from respine.present import figures
from respine.ui import access, state
from respine.urlstate import ViewState


@dataclass(frozen=True)
class PageContext:
    """The page's starting point.

    Attributes
    ----------
    trial : Trial
        The trial the page compares: the session's study (shipped, configured or uploaded) as the
        view's arms show it (:func:`compared`): the arms shown, pooled arms, the reference.
    view : ViewState
        The reader's view (population, filters, endpoint, ...) as it stands for this run.
    colours : dict
        Arm → colour, the one mapping every figure uses.
    k : int
        Small-cell threshold of aggregate-only mode (0: show every cell).
    study : Trial
        The study as loaded, every arm (what a page about the data itself describes).
    """

    trial: S.Trial
    view: ViewState
    colours: dict[str, str]
    k: int
    study: S.Trial

    @property
    def design(self) -> S.StudyDesign:
        return self.trial.design

    @property
    def source(self) -> str:
        return self.trial.source

    @property
    def arms(self) -> list[str]:
        """Arms in display order (treatment arms, then the reference)."""
        return derive.arm_order(self.trial)

    @property
    def ref(self) -> str:
        return self.design.reference_arm

    def endpoint(self, endpoint_id: str) -> Endpoint:
        return self.trial.endpoint(endpoint_id)

    def label(self, endpoint_id: str) -> str:
        """An endpoint's label (a ``format_func`` for pickers), named after the view's responder
        rule: a rule the reader changed is never called primary."""
        ep = self.trial.endpoint(endpoint_id)
        if not responder_rule_applies(ep):
            return ep.label
        return endpoint_label(ep, to_selection(self.view, ep.kind).rule, self.trial.endpoint)

    def visit_label(self, visit: float) -> str:
        return self.design.visit_label(visit)


def directed(study: S.Trial, view: ViewState) -> S.Trial:
    """The study with the view's directions of benefit (:func:`respine.derive.directions.with_directions`);
    a setting the study cannot take (the link's decoding already left out unknown endpoints) leaves
    the study as loaded."""
    try:
        return with_directions(study, view.lower_better, view.higher_better)
    except SelectionError:
        return study


def compared(study: S.Trial, view: ViewState) -> tuple[S.Trial, str]:
    """The trial a view's choice of arms shows (:func:`respine.derive.arms.compared_trial`), and
    "" or what of the choice could not be used and what is shown instead.

    A choice the study cannot make (a pool holding the reference, one arm left) falls back as a
    link value does: to the reference alone if that can be used, else to the study as loaded."""
    try:
        return compared_trial(study, view.reference or None, view.arms, view.pool), ""
    except SelectionError as exc:
        problem = str(exc)
    try:
        trial = compared_trial(study, view.reference or None)
        return trial, f"{problem} Showing every arm, none pooled."
    except SelectionError:
        return study, f"{problem} Showing every arm with the study's reference {study.design.reference_arm}."


def page_context() -> PageContext:
    """The context of the page being run (the frame puts the trial in the session first); its
    trial is the study as the view's arms show it, applied here once for every page."""
    study: S.Trial = st.session_state["trial"]
    view = state.view()
    trial, _ = compared(directed(study, view), view)  # the sidebar shows why a choice could not be used
    design = trial.design
    return PageContext(
        trial=trial,
        view=view,
        colours=figures.arm_colours(design.arms, design.reference_arm),
        k=access.min_cell(),
        study=study,
    )
