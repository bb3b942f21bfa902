"""Disclosure control for a hosted explorer: aggregate-only mode and small-cell suppression.

When a trial's results are shared with people who should see aggregates only, two rules apply:

1. views that show individual subjects (trajectories, waterfalls, strip plots, scatter plots,
   cumulative distributions) are not drawn;
2. any table or figure cell that describes fewer than *k* subjects (``min_cell``, default 5) is
   suppressed: a count from 1 to k-1 is shown as ``<k``, and a statistic computed from fewer than
   k subjects (a mean, a rate, a difference) is shown as ``suppressed``. A zero count is shown:
   it describes no one.

Builders of tables and figures take ``min_cell``; ``0`` (the default) means "suppress nothing", so
the command line and scripts are unaffected. The rule is applied where the numbers are turned into
cells, so what is shown, downloaded and put in a report is the same suppressed table.

References
----------
.. [1] European Medicines Agency. External guidance on the implementation of the European
   Medicines Agency policy on the publication of clinical data for medicinal products for human
   use (EMA/90915/2016), section 3.3.2: small cells and the risk of re-identification.
.. [2] Office for National Statistics. Statistical disclosure control methodology: threshold
   rule (cells of fewer than k units suppressed), 2021.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from respine.errors import RespineError

DEFAULT_MIN_CELL = 5
SUPPRESSED = "suppressed"


class DisclosureConfigError(RespineError):
    """The privacy settings of a deployment are not valid."""


@dataclass(frozen=True)
class Disclosure:
    """What a session may see.

    Parameters
    ----------
    aggregate_only
        Hide individual-level views and suppress small cells.
    min_cell
        Smallest number of subjects a shown cell may describe (k).
    """

    aggregate_only: bool = False
    min_cell: int = DEFAULT_MIN_CELL

    @property
    def k(self) -> int:
        """The suppression threshold in force: ``min_cell`` in aggregate-only mode, else 0."""
        return self.min_cell if self.aggregate_only else 0

    def describe(self) -> str:
        if not self.aggregate_only:
            return "Full detail: individual-level views and all cells are shown."
        return (
            f"Aggregate only: views of individual subjects are hidden, and cells describing fewer "
            f"than {self.min_cell} subjects are suppressed."
        )


def disclosure_from_settings(settings: Mapping[str, object] | None, login_configured: bool) -> Disclosure:
    """Read ``[privacy]`` settings: ``aggregate_only`` (default: on when a login is configured)
    and ``min_cell`` (default 5). A wrong value raises :class:`DisclosureConfigError`."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - {"aggregate_only", "min_cell"})
    if unknown:
        raise DisclosureConfigError(
            f"Unknown setting(s) in [privacy]: {', '.join(unknown)}. Known: aggregate_only, min_cell."
        )
    aggregate = settings.get("aggregate_only", login_configured)
    if not isinstance(aggregate, bool):
        raise DisclosureConfigError(f"[privacy] aggregate_only must be true or false, not {aggregate!r}.")
    k = settings.get("min_cell", DEFAULT_MIN_CELL)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise DisclosureConfigError(
            f"[privacy] min_cell must be a whole number from 1 to 1000 (for example 5), not {k!r}."
        )
    return Disclosure(aggregate_only=aggregate, min_cell=k)


def is_small(n: float | None, k: int) -> bool:
    """True when a cell of ``n`` subjects must be suppressed: 0 < n < k (and k > 0)."""
    if k <= 0 or n is None or (isinstance(n, float) and math.isnan(n)):
        return False
    return 0 < n < k


def count_cell(n: int, k: int) -> int | str:
    """A count as shown: the number itself (so an unsuppressed column stays numeric in the CSV and
    Excel files), or the text ``<k`` when it is small."""
    return f"<{k}" if is_small(n, k) else int(n)


def count_of_cell(count: int, total: int, k: int, n_pct) -> str:
    """'count/total (x%)' through ``n_pct``; '<k/total' when the count is small, and '<k' when the
    total itself is."""
    if is_small(total, k):
        return f"<{k}"
    if is_small(count, k):
        return f"<{k}/{int(total)}"
    return n_pct(int(count), int(total))


def mask_rows(
    table: pd.DataFrame,
    small: Iterable[bool],
    keep: Iterable[str],
    counts: Mapping[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Suppress whole rows of a display table.

    Every cell of a flagged row becomes ``suppressed``, except the columns in ``keep`` (labels such
    as the arm or the visit) and the columns in ``counts``, whose cells are replaced by the given
    strings (for example ``<5``).
    """
    flags = list(small)
    if not any(flags):
        return table
    out = table.copy()
    keep = set(keep)
    counts = counts or {}
    for i, flagged in enumerate(flags):
        if not flagged:
            continue
        for column in out.columns:
            if column in keep:
                continue
            out.iat[i, out.columns.get_loc(column)] = counts[column][i] if column in counts else SUPPRESSED
    return out


def has_suppressed(table: pd.DataFrame, k: int) -> bool:
    """Whether a display table shows any suppressed cell (for the note under it)."""
    if k <= 0 or table.empty:
        return False
    marker = f"<{k}"
    text = table.astype(str)
    return bool(((text == SUPPRESSED) | text.apply(lambda c: c.str.startswith(marker))).to_numpy().any())


def note(k: int) -> str:
    return (
        f"Aggregate-only mode: cells describing fewer than {k} subjects are suppressed "
        f"(counts shown as <{k}, statistics as '{SUPPRESSED}')."
    )


def small_arms(counts: Mapping[str, int], k: int) -> list[str]:
    """The arms of a selection with fewer than ``k`` subjects (including none)."""
    return [arm for arm, n in counts.items() if k > 0 and n < k]


def small_rows(frame: pd.DataFrame, columns: Iterable[str], k: int) -> list[bool]:
    """For each row of a tidy frame: does any of its count ``columns`` hold 1 to k-1 subjects?"""
    present = [c for c in columns if c in frame.columns]
    if k <= 0 or not present:
        return [False] * len(frame)
    return frame[present].apply(lambda col: col.map(lambda n: is_small(n, k))).any(axis=1).tolist()
