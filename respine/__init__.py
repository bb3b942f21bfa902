"""RESPINE results explorer: the analysis core (no Streamlit here; see respine.ui).

Typical use from Python::

    from respine import load_trial, analyze, Selection
    trial = load_trial()                       # the shipped synthetic twin
    result = analyze(trial, Selection("RESP", 12))
    result.to_dict()
"""

from respine.analysis import AnalysisResult, Selection, analyze, over_time
from respine.io import load_trial, validate_folder

__all__ = ["AnalysisResult", "Selection", "analyze", "load_trial", "over_time", "validate_folder"]
__version__ = "0.1.0"
