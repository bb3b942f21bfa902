"""What every page starts from: the trial, its design, the view, the arm colours and the
small-cell threshold, read once (:func:`page_context`)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from respine import derive
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
        The trial the session explores (shipped, configured or uploaded).
    view : ViewState
        The reader's view (population, filters, endpoint, ...) as it stands for this run.
    colours : dict
        Arm → colour, the one mapping every figure uses.
    k : int
        Small-cell threshold of aggregate-only mode (0: show every cell).
    """

    trial: S.Trial
    view: ViewState
    colours: dict[str, str]
    k: int

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
    def treat(self) -> str:
        """The first treatment arm (the one the comparisons of this app contrast)."""
        return self.design.treatment_arms[0]

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


def page_context() -> PageContext:
    """The context of the page being run (the frame puts the trial in the session first)."""
    trial: S.Trial = st.session_state["trial"]
    design = trial.design
    return PageContext(
        trial=trial,
        view=state.view(),
        colours=figures.arm_colours(design.arms, design.reference_arm),
        k=access.min_cell(),
    )
