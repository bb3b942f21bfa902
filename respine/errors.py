"""Domain exceptions.

Every message is written for the person who can fix the input: it says what is wrong and what
to do. They all subclass :class:`ValueError`, so generic callers can still catch them, and only
the UI layer turns them into on-page messages.
"""

from __future__ import annotations


class RespineError(ValueError):
    """Base class of every error the core raises on purpose."""


class DataError(RespineError):
    """The data set cannot be loaded or does not follow the data contract."""


class SelectionError(RespineError):
    """A requested endpoint, visit, population, arm or filter does not exist in the data."""


class AnalysisError(RespineError):
    """The data are valid but the analysis cannot be computed (e.g. an empty arm)."""
