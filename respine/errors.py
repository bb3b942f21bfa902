"""Domain exceptions.

Every message is written for the person who can fix the input: it says what is wrong and what
to do. They all subclass :class:`ValueError`, so generic callers can still catch them, and only
the UI layer turns them into on-page messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class RespineError(ValueError):
    """Base class of every error the core raises on purpose."""


class DataError(RespineError):
    """The data set cannot be loaded or does not follow the data contract."""


class SelectionError(RespineError):
    """A requested endpoint, visit, population, arm or filter does not exist in the data."""


class AnalysisError(RespineError):
    """The data are valid but the analysis cannot be computed (e.g. an empty arm)."""







@dataclass(frozen=True)
class Problem:
    """One finding of validation: where it is, what is wrong, and how to fix it.

    ``severity`` "error" stops the load, "warning" asks the person to confirm, and "info" states
    a rule that was applied (for instance which ADaM record was kept per visit) with its counts.
    """

    severity: Literal["error", "warning", "info"]
    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{self.severity.upper()}: {where}: {self.message}"

