"""The one page registry: every page of the app, declared once.

``app.py`` builds the navigation from it, :func:`respine.ui.report.current_link` strips its URL
paths, and the tests (and the benchmark: ``from respine.ui.pages import PAGES``) read it.
Importing this module has no streamlit side effect (it imports no streamlit at all), so scripts
can read the page list without starting an app.

A new page is one :class:`Page` line below and its file in ``app_pages/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from respine.model import design as S

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Page:
    """One page of the app.

    Parameters
    ----------
    file : str
        The page's script, relative to the repository (``app_pages/explorer.py``).
    title : str
        Its name in the navigation (and in the report).
    icon : str
        A Material icon (``:material/show_chart:``).
    section : str
        The navigation group.
    url_path : str
        The path of its address (``explorer`` for ``/explorer``); empty for the default page.
    selection : bool
        Whether it shows results of the selected subjects: the small-selection check of the frame
        applies and its view can be added to the report.
    shown_for : str
        The data a study must have for the page to be in its navigation: a key of
        :data:`STUDY_HAS` ("time_to_event", "responder_rule", "structural"), or "" for every
        study.
    individual : bool
        Whether the whole page shows individual subjects: in aggregate-only mode it is left out of
        the navigation and its address says why instead of showing it.
    """

    file: str
    title: str
    icon: str
    section: str
    url_path: str
    selection: bool = True
    shown_for: str = ""
    individual: bool = False

    def shown(self, trial: S.Trial | None) -> bool:
        """Whether the page belongs in the navigation of ``trial`` (every page without a trial)."""
        return not self.shown_for or trial is None or STUDY_HAS[self.shown_for](trial)

    @property
    def default(self) -> bool:
        """The page the app opens on (the one without a URL path)."""
        return self.url_path == ""

    @property
    def path(self) -> str:
        """The page's address below the app's root: ``/`` or ``/explorer``."""
        return "/" + self.url_path


RESULTS, TRIAL, DATA = "Results", "Trial", "Data and report"

#: What a page may require of a study (:attr:`Page.shown_for`), and how to tell.
STUDY_HAS: dict[str, Callable[[S.Trial], bool]] = {
    "time_to_event": lambda trial: trial.has_time_to_event,
    # a derived endpoint with a responder rule (RESPINE's RESP); a study without one (the CDISC
    # pilot) has no responder analysis to show
    "responder_rule": lambda trial: bool(trial.derived_endpoints("responder")),
    # endpoints the study file declares in its "structural" group (imaging, such as MRI T2)
    "structural": lambda trial: bool(trial.design.group("structural")),
}

PAGES: tuple[Page, ...] = (
    Page("app_pages/overview.py", "Study overview", ":material/home:", RESULTS, ""),
    Page("app_pages/explorer.py", "Endpoint explorer", ":material/show_chart:", RESULTS, "explorer"),
    Page("app_pages/responders.py", "Responders", ":material/task_alt:", RESULTS, "responders",
         shown_for="responder_rule"),
    Page("app_pages/profile.py", "Responder profile", ":material/stacked_line_chart:", RESULTS, "profile",
         shown_for="responder_rule"),
    Page("app_pages/subgroups.py", "Subgroups", ":material/account_tree:", RESULTS, "subgroups"),
    Page("app_pages/screening.py", "Subgroup screening", ":material/scatter_plot:", RESULTS, "screening"),
    Page("app_pages/trajectories.py", "Over time", ":material/timeline:", RESULTS, "trajectories"),
    Page("app_pages/mri.py", "MRI", ":material/radiology:", RESULTS, "mri", shown_for="structural"),
    Page("app_pages/robustness.py", "Robustness", ":material/verified:", RESULTS, "robustness"),
    Page("app_pages/survival.py", "Time to event", ":material/event_available:", RESULTS, "survival",
         shown_for="time_to_event"),
    Page("app_pages/baseline.py", "Baseline", ":material/table_chart:", TRIAL, "baseline"),
    Page("app_pages/flow.py", "Participant flow", ":material/device_hub:", TRIAL, "flow"),
    Page("app_pages/safety.py", "Safety", ":material/health_and_safety:", TRIAL, "safety"),
    Page("app_pages/missing.py", "Missing data", ":material/grid_off:", TRIAL, "missing"),
    Page("app_pages/patient.py", "Patient profile", ":material/person:", TRIAL, "patient", individual=True),
    Page("app_pages/listings.py", "Data listings", ":material/list:", TRIAL, "listings", individual=True),
    Page("app_pages/paper.py", "Reproduce the paper", ":material/fact_check:", TRIAL, "paper"),
    Page("app_pages/data.py", "Load data", ":material/upload_file:", DATA, "data", selection=False),
    Page("app_pages/report.py", "Report", ":material/summarize:", DATA, "report", selection=False),
    Page("app_pages/settings.py", "Settings", ":material/settings:", DATA, "settings", selection=False),
)


def sections(trial: S.Trial | None = None) -> dict[str, list[Page]]:
    """The pages by navigation group, in order; with a trial, only those it has data for."""
    out: dict[str, list[Page]] = {}
    for page in PAGES:
        if page.shown(trial):
            out.setdefault(page.section, []).append(page)
    return out


def listed(page: Page, individual_views: bool) -> bool:
    """Whether the navigation lists ``page``: every page, except the pages of individual subjects
    when individual views are off (aggregate-only mode; their address then says why)."""
    return individual_views or not page.individual


def by_url_path(url_path: str) -> Page | None:
    """The registered page at ``url_path`` (``""`` for the default page), or None."""
    return next((p for p in PAGES if p.url_path == url_path), None)


def by_file(file: str) -> Page | None:
    """The registered page of a script path (``app_pages/explorer.py``), or None."""
    return next((p for p in PAGES if p.file == file), None)
