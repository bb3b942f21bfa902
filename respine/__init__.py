"""RESPINE results explorer: the analysis core (no Streamlit here; see respine.ui).

Typical use from Python::

    from respine import load_trial, analyze, Selection
    trial = load_trial()                       # the shipped synthetic twin
    result = analyze(trial, Selection("RESP", 12))
    result.to_dict()
"""

from respine.analyses.compare import analyze
from respine.analyses.trend import over_time
from respine.io import load_trial, validate_folder
from respine.model.results import AnalysisResult
from respine.model.rules import ResponderRule
from respine.model.selection import Selection, SubgroupFilter

__all__ = [
    "AnalysisResult",
    "ResponderRule",
    "Selection",
    "SubgroupFilter",
    "analyze",
    "load_trial",
    "over_time",
    "validate_folder",
]
__version__ = "0.1.0"
