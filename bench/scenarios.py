"""What the benchmark measures (bench/run.py, bench/warm.py, bench/browser.py, bench/ab.py).

The pages of the app's navigation, the change timed on each, the targets and the repetitions of
each profile. Nothing here imports the app: the measuring processes import their own checkout's
``respine``.
"""

from __future__ import annotations

WARM_TARGET = 5.0
COLD_TARGET = 1.5

# Repetitions. "uncached"/"cached"/"floor" are numbers of timed reruns per scenario; "cold" the
# cold starts per page; "click" the timed clicks per page (cached values; see click_plan).
PROFILES = {
    "full": {"warmup": 1, "uncached": 12, "cached": 20, "floor": 40, "cold": 4, "click": 4,
             "big_uncached": 5, "big_cached": 10, "big_cold": 3, "big_click": 3},
    "quick": {"warmup": 1, "uncached": 4, "cached": 6, "floor": 16, "cold": 2, "click": 2,
              "big_uncached": 2, "big_cached": 4, "big_cold": 2, "big_click": 2},
}
DATA_LABELS = {"shipped": "shipped (114)", "big": "twin 10,000"}

# Every page of app.py's navigation, in its order; the URL path of each.
PAGES = ("overview", "explorer", "responders", "profile", "subgroups", "trajectories", "mri",
         "robustness", "baseline", "flow", "safety", "missing", "paper", "data", "report", "settings")
# Pages that draw at least one plotly chart at their defaults (AppTest checks it).
CHART_PAGES = frozenset({"overview", "explorer", "responders", "profile", "subgroups", "trajectories",
                         "mri", "robustness", "missing"})


def page_path(page: str) -> str:
    return "/" if page in ("overview", "floor") else f"/{page}"


POPULATIONS_SHOWN = ("MITT: Modified intention to treat", "PP: Per protocol")
# The change timed on each page other than the three foundation pages (whose own scenarios are in
# warm.app_scenarios and browser.click_plan): page -> (query, widget kind, label, two values for
# AppTest (the first is the page's default), the same two as shown in the browser; None for a toggle).
PAGE_CHANGES: dict[str, tuple[dict[str, str], str, str, tuple, tuple | None]] = {
    "profile": ({}, "radio", "Scale", ("VAS", "ODI"), ("Low back pain VAS", "Oswestry Disability Index")),
    "subgroups": ({"ep": "RESP"}, "selectbox", "Visit", (12.0, 6.0), ("Month 12", "Month 6")),
    "trajectories": ({}, "radio", "Means", ("observed", "model"), ("observed", "ANCOVA per visit")),
    "mri": ({}, "radio", "Clinical change", ("VAS", "ODI"),
            ("Low back pain VAS", "Oswestry Disability Index")),
    "robustness": ({"ep": "RESP"}, "selectbox", "Visit", (12.0, 6.0), ("Month 12", "Month 6")),
    "baseline": ({}, "radio", "Continuous variables as", ("mean", "median"), ("mean (SD)", "median (IQR)")),
    "flow": ({}, "selectbox", "Follow-up counted by assessments of", ("VAS", "ODI"),
             ("Low back pain VAS", "Oswestry Disability Index")),
    "safety": ({}, "toggle", "Serious events only (organ class table)", (False, True), None),
    "missing": ({}, "selectbox", "Endpoint", ("VAS", "ODI"),
                ("Low back pain VAS", "Oswestry Disability Index")),
    "paper": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "data": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "report": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
    "settings": ({}, "selectbox", "Population", ("MITT", "PP"), POPULATIONS_SHOWN),
}


def floor_kind(kind: str) -> str:
    """The floor's widget a change is compared with: its slider for a slider, else its selectbox.

    A radio option or a toggle is one pointer action on the new choice, as picking a selectbox
    option is; the timing starts at that action in both."""
    return "slider" if kind == "slider" else "selectbox"


def page_of(name: str) -> str:
    """The page of a scenario name (``"explorer: Endpoint"`` -> ``"explorer"``)."""
    return name.split(":")[0]


# The app's own message for an exception in a page; a measurement that shows it fails.
SOMETHING_WRONG = "Something went wrong on this page"
