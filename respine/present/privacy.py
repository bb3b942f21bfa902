"""Disclosure control for a hosted explorer: aggregate-only mode and small-cell suppression.

When a trial's results are shared with people who should see aggregates only, these rules apply:

1. views that show individual subjects (trajectories, waterfalls, strip plots, scatter plots,
   cumulative distributions) are not drawn;
2. any table or figure cell that describes fewer than *k* subjects (``min_cell``, default 5) is
   suppressed: a count from 1 to k-1 is shown as ``<k``, and a statistic computed from fewer than
   k subjects (a mean, a rate, a difference) is shown as ``suppressed``. A zero count is shown:
   it describes no one. Where the rest of a total is a count too (subjects without a value at a
   visit), a rest of 1 to k-1 reads ``>n-k/n``;
3. order statistics (:func:`quantile_allowed`): a minimum or a maximum is one subject's value, so
   no range is shown (its cells read ``suppressed``; the column stays, so a table has the same
   columns in both modes); a quantile at probability p of n values is shown only when at least k
   subjects lie on each side of it, ``min(p, 1 - p) * n >= k``. The median needs n >= 2k, the
   quartiles n >= 4k; otherwise they read ``suppressed`` (a median shown without its quartiles
   reads ``12.0 (IQR suppressed)``). With 5 subjects, min, Q1, median, Q3 and max would otherwise
   list every value;
4. complementary (secondary) suppression (:func:`secondary_suppression`): a count shown as ``<k``
   must not be recomputable from the totals published beside it (arm totals, an Overall or Total
   column, a "Randomised" row, a country's sites, the completion counts beside the missing-data
   patterns). Each table declares its additive relations ("lines"); while a line has exactly one
   hidden cell, one more cell of it is hidden, and an exact check (an integer linear program,
   :func:`recomputable`) hides more until no hidden cell can be pinned down. Primary cells read
   ``<k``, complementary ones ``suppressed``; a percentage, a statistic or a comparison beside a
   hidden count is hidden with it.

Builders of tables and figures take ``min_cell``; ``0`` (the default) means "suppress nothing", so
the command line and scripts are unaffected. The rule is applied where the numbers are turned into
cells, so what is shown, downloaded and put in a report is the same suppressed table.

What the rules do not cover: a count recomputed by combining tables whose relation a table does
not declare, or that is known only from what the rows mean, such as the difference of two nested
populations (all randomised minus the safety population, which is who received the procedure).
Cell suppression within a table cannot hide a difference of totals that are themselves
published. And a reader who uses what the markers say (``<k`` is 1 to k-1, ``suppressed`` 0 or
at least k) can be resisted only where the arms have at least 2k subjects.

References
----------
.. [1] European Medicines Agency. External guidance on the implementation of the European
   Medicines Agency policy on the publication of clinical data for medicinal products for human
   use (EMA/90915/2016), section 3.3.2: small cells and the risk of re-identification.
.. [2] Office for National Statistics. Statistical disclosure control methodology: threshold
   rule (cells of fewer than k units suppressed), 2021.
.. [3] Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
   de Wolf PP. Statistical Disclosure Control. Wiley 2012, chapter 4 (tabular data: sensitivity
   rules, under which a statistic dominated by one contributor, as a minimum or a maximum is,
   discloses it; secondary cell suppression and the hypercube method) and chapter 5 (frequency
   tables: threshold rule, linked tables).
.. [4] de Wolf PP, Hundepool A, Giessing S, Salazar-Gonzalez JJ, Castro J. tau-ARGUS user's
   manual. Statistics Netherlands: the hypercube method (GHMITER) of secondary suppression.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from respine.errors import RespineError

DEFAULT_MIN_CELL = 5
SUPPRESSED = "suppressed"
PRIMARY = "primary"  # a count of 1 to k-1, shown as "<k"
COMPLEMENTARY = "complementary"  # hidden so that a primary cell cannot be worked back: SUPPRESSED


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


def split_small(count: float | None, total: float | None, k: int) -> bool:
    """A count out of a total (responders of an arm, subjects with an event) is disclosive when
    the count, or the rest of the total (non-responders, subjects without one), is 1 to k-1:
    '48/50' says that 2 subjects did not respond."""
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return False
    rest = None if total is None or (isinstance(total, float) and math.isnan(total)) else total - count
    return is_small(count, k) or is_small(rest, k)


def small_split_rows(frame: pd.DataFrame, pairs: Iterable[tuple[str, str]], k: int) -> list[bool]:
    """For each row: is any (count column, total column) pair disclosive (:func:`split_small`)?"""
    present = [(c, t) for c, t in pairs if c in frame.columns and t in frame.columns]
    if k <= 0 or not present:
        return [False] * len(frame)
    return [
        any(split_small(row[c], row[t], k) for c, t in present) for _, row in frame.iterrows()
    ]


def count_of_cell(count: int, total: int, k: int, n_pct, complement: bool = True) -> str:
    """'count/total (x%)' through ``n_pct``; '<k/total' when the count is small, and '<k' when the
    total itself is. The rest (total - count) is a count too (non-responders, subjects without a
    value at a visit): when it is small the cell reads '>total-k/total', so that neither count is
    given away by the other (``complement=False`` for a count whose rest is no group)."""
    if is_small(total, k):
        return f"<{k}"
    if is_small(count, k):
        return f"<{k}/{int(total)}"
    if complement and is_small(total - count, k):
        return f">{int(total) - k}/{int(total)}"
    return n_pct(int(count), int(total))


def count_shown(count: int, total: int, k: int, complement: bool = True) -> bool:
    """Whether :func:`count_of_cell` shows the count itself."""
    return not (is_small(total, k) or is_small(count, k) or (complement and is_small(total - count, k)))


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
    rest = r">\d+/\d+$"  # fewer than k without a value (completion)
    hidden = text.apply(
        lambda c: c.str.startswith(marker) | c.str.contains(SUPPRESSED, regex=False) | c.str.match(rest)
    )
    return bool(hidden.to_numpy().any())


def note(k: int) -> str:
    return (
        f"Aggregate-only mode: cells describing fewer than {k} subjects are suppressed "
        f"(counts shown as <{k}, statistics as '{SUPPRESSED}'); so are ranges, quantiles with fewer "
        f"than {k} subjects on a side, and counts that would let a hidden one be worked back."
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


def quantile_allowed(p: float, n: int | float | None, k: int) -> bool:
    """Whether the sample quantile at probability ``p`` of ``n`` values may be shown under ``k``.

    Rule: with k > 0, a quantile is shown only when at least k subjects lie on each side of it,
    ``min(p, 1 - p) * n >= k``; so the median needs n >= 2k and the quartiles n >= 4k. A minimum
    (p = 0) or maximum (p = 1) is one subject's value and is never shown. With k = 0 everything
    is shown.

    Parameters
    ----------
    p
        Probability of the quantile, from 0 (minimum) to 1 (maximum).
    n
        Number of values the quantile is computed from.
    k
        Suppression threshold (``min_cell``); 0 shows everything.

    Returns
    -------
    bool
        True when the quantile may be shown.

    References
    ----------
    .. [1] Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
       de Wolf PP. Statistical Disclosure Control. Wiley 2012, chapter 4 (sensitivity rules: a
       statistic dominated by one contributor discloses that contributor's value).
    """
    if k <= 0:
        return True
    if n is None or (isinstance(n, float) and math.isnan(n)) or not 0 < p < 1:
        return False
    return min(p, 1 - p) * n >= k - 1e-9  # tolerance: 1 - 0.9 is 0.0999...


Line = tuple[Sequence[Hashable], Hashable | None]
"""An additive relation a table publishes: ``(cells, total)``, the cells adding up to the total.
The total is a cell of the table (a row's Total, an Overall column), or ``None`` when it is
published elsewhere and so is known whatever the table hides (an arm's N)."""


def secondary_suppression(
    counts: Mapping[Hashable, float],
    lines: Iterable[Line],
    k: int,
    prefer: Iterable[Hashable] = (),
    audit: bool = True,
) -> dict[Hashable, str]:
    """Primary and complementary (secondary) suppression of a table of counts.

    Primary: every cell of 1 to k-1 subjects. Complementary: a hidden cell must not be
    recomputable from the published sums. Two steps, repeated until nothing changes:

    1. the line-by-line rule of the hypercube method [1]_ [2]_: a line (with its total) that
       holds exactly one hidden cell gets a second one, the cheapest shown cell of the line;
    2. with ``audit``, an exact check (:func:`recomputable`, an integer linear program over every
       line at once) of what a reader can still pin down, reading a ``<k`` cell as 1 to k-1 and a
       ``suppressed`` one as 0 or at least k (a count of 1 to k-1 would be primary); a cell
       pinned down gets the cheapest shown non-zero cell of one of its lines hidden too. Where
       only zeros are left to hide, the check is repeated against a reader who takes every
       hidden cell for any count, and zeros may be hidden against that reader.

    The cheapest cell is a non-zero one before a zero one (a reader who knows that a
    ``suppressed`` count is 0 or at least k reads a hidden zero beside counts under k as 0),
    one above k before one of exactly k (a complement of exactly k gives no room below it), a
    cell of ``prefer`` (an Overall or Total column) before others, then the smallest.

    Parameters
    ----------
    counts
        Every cell of the table (any hashable key) and its count (a non-negative integer).
    lines
        The additive relations the table publishes, as :data:`Line` ``(cells, total)``. A line
        whose sum does not hold in ``counts`` is not a relation of the table and is ignored; a
        cell that is alone in a line with a published total is known whatever is hidden, so it
        is never a complement.
    k
        Suppression threshold (``min_cell``); 0 suppresses nothing.
    prefer
        Cells to hide first when a complement is needed.
    audit
        Run the exact check of step 2 (it needs SciPy's HiGHS; results are cached).

    Returns
    -------
    dict
        The hidden cells, each mapped to :data:`PRIMARY` (shown as ``<k``) or
        :data:`COMPLEMENTARY` (shown as :data:`SUPPRESSED`). Cells not in it are shown.

    Notes
    -----
    Step 1 alone makes every line hold zero or at least two hidden cells: necessary, not
    sufficient (two primary cells of 1 adding up to a published 2 are both known, and a chain
    of lines can pin a cell that no single line does). Step 2 closes these gaps for the lines
    declared, against a reader who takes hidden cells for any count always, and against one
    who uses the markers wherever the table allows it: with an arm of fewer than 2k subjects
    it may not (6 subjects: one ``<5`` and one ``suppressed`` level, so 1 and 5). Relations a
    table does not declare (between tables, or known from what the rows mean) are not
    covered.

    References
    ----------
    .. [1] Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
       de Wolf PP. Statistical Disclosure Control. Wiley 2012, chapter 4 (secondary cell
       suppression; the hypercube method; the attacker's feasibility intervals by linear
       programming) and chapter 5 (frequency tables).
    .. [2] de Wolf PP, Hundepool A, Giessing S, Salazar-Gonzalez JJ, Castro J. tau-ARGUS user's
       manual. Statistics Netherlands: the hypercube method (GHMITER).
    """
    if k <= 0 or not any(is_small(n, k) for n in counts.values()):
        return {}
    frozen_counts = tuple((cell, int(n)) for cell, n in counts.items())
    frozen_lines = tuple((tuple(cells), total) for cells, total in lines)
    return dict(_suppress(frozen_counts, frozen_lines, int(k), frozenset(prefer), bool(audit)))


@lru_cache(maxsize=256)
def _suppress(
    counts_items: tuple, lines: tuple, k: int, preferred: frozenset, audit: bool
) -> tuple[tuple[Hashable, str], ...]:
    counts = dict(counts_items)
    order = {cell: i for i, cell in enumerate(counts)}
    valid = _valid_lines(counts, lines)
    members = [tuple(dict.fromkeys([*cells, *([] if total is None else [total])])) for cells, total in valid]
    status = {cell: PRIMARY for cell, n in counts.items() if is_small(n, k)}
    known = _determined(valid)

    def cost(cell: Hashable) -> tuple:
        n = counts[cell]
        return (n == 0, n <= k, cell not in preferred, n, order[cell])

    def repair(pinned: list[Hashable], zeros: bool) -> bool:
        """Step 2: each pinned cell gets the cheapest shown cell of its lines as a complement;
        the cheapest choices first, one per line a round (it may free the other cells too)."""
        choices = []
        for cell in pinned:
            own = [line for line in members if cell in line]
            shown = {c for line in own for c in line
                     if c not in status and c not in known and (zeros or counts[c] > 0)}
            if shown:
                pick = min(shown, key=cost)
                choices.append((cost(pick), pick, {c for line in own for c in line}))
        added: set[Hashable] = set()
        for _, pick, neighbours in sorted(choices, key=lambda choice: choice[0]):
            if not neighbours & added and pick not in status:
                status[pick] = COMPLEMENTARY
                added.add(pick)
        return bool(added)

    while True:
        changed = True
        while changed:  # step 1: no line with exactly one hidden cell
            changed = False
            for line in members:
                if sum(c in status for c in line) == 1:
                    shown = [c for c in line if c not in status and c not in known]
                    if shown:
                        status[min(shown, key=cost)] = COMPLEMENTARY
                        changed = True
        if not audit:
            break
        # step 2 against a reader who uses what the markers say; where that cannot be helped
        # (only zeros left to hide), at least against one who reads hidden cells as any count
        if not (repair(recomputable(counts, valid, status, k), zeros=False)
                or repair(recomputable(counts, valid, status, k, markers=False), zeros=True)):
            break
    return tuple(sorted(status.items(), key=lambda item: order[item[0]]))


def _determined(lines: list[Line]) -> set[Hashable]:
    """Cells the published sums fix whatever is hidden: the one level of a variable (a line of
    one cell and a published total), a total of no cells (0), and what follows from them."""
    known: set[Hashable] = set()
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            unknown = [c for c in [*cells, *([] if total is None else [total])] if c not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                changed = True
    return known


def _valid_lines(counts: Mapping[Hashable, float], lines: Iterable[Line]) -> list[Line]:
    out = []
    for cells, total in lines:
        cells = [c for c in cells if c in counts]
        if (not cells and total is None) or (total is not None and total not in counts):
            continue
        if total is None or sum(counts[c] for c in cells) == counts[total]:
            out.append((cells, total))
    return out


def recomputable(
    counts: Mapping[Hashable, float],
    lines: Iterable[Line],
    status: Mapping[Hashable, str],
    k: int,
    markers: bool = True,
) -> list[Hashable]:
    """The hidden cells a reader can pin down from what is shown.

    The reader knows every shown count and every published sum (``lines``); with ``markers``,
    also that a cell shown as ``<k`` (:data:`PRIMARY`) holds 1 to k-1 and one shown as
    ``suppressed`` (:data:`COMPLEMENTARY`) 0 or at least k; without, only that a hidden cell is
    a count. A hidden cell is pinned down when every table of non-negative integers agreeing
    with that has the same value in it: the largest and the smallest value it can take, each
    an integer linear program (SciPy's HiGHS), are equal.

    Returns
    -------
    list
        The pinned cells, in the order of ``counts``. A program the solver cannot finish counts
        as pinned.

    References
    ----------
    .. [1] Hundepool A, et al. Statistical Disclosure Control. Wiley 2012, chapter 4 (auditing
       a suppression pattern: the feasibility interval of each suppressed cell).
    """
    hidden = [c for c in counts if c in status]
    if not hidden:
        return []
    # each published sum over the hidden cells: {cell: coefficient} = constant
    equations = []
    for cells, total in _valid_lines(counts, lines):
        constant = 0.0 if total is not None else float(sum(counts[c] for c in cells))
        terms: dict[Hashable, float] = {}
        for c, coefficient in [(c, 1.0) for c in cells] + ([(total, -1.0)] if total is not None else []):
            if c in status:
                terms[c] = terms.get(c, 0.0) + coefficient
            else:
                constant -= coefficient * counts[c]
        terms = {c: v for c, v in terms.items() if v}
        if terms:
            equations.append((terms, constant))
    # cells that share no sum are independent: one small program per group of linked cells
    parent = {c: c for c in hidden}

    def root(c: Hashable) -> Hashable:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for terms, _ in equations:
        first, *rest = terms
        for c in rest:
            parent[root(c)] = root(first)
    groups: dict[Hashable, list[Hashable]] = {}
    for c in hidden:
        groups.setdefault(root(c), []).append(c)
    pinned: set[Hashable] = set()
    big = float(sum(counts.values()) + k + 1)  # no count of the table is larger
    for cells in groups.values():
        own = [(t, b) for t, b in equations if root(next(iter(t))) == root(cells[0])]
        pinned |= _pinned_in(cells, own, counts, status, k, markers, big)
    return [c for c in hidden if c in pinned]


def _pinned_in(
    cells: list[Hashable],
    equations: list[tuple[dict[Hashable, float], float]],
    counts: Mapping[Hashable, float],
    status: Mapping[Hashable, str],
    k: int,
    markers: bool,
    big: float,
) -> set[Hashable]:
    """The cells of one linked group whose largest and smallest feasible values are equal."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    index = {c: i for i, c in enumerate(cells)}
    complementary = [c for c in cells if status[c] == COMPLEMENTARY] if markers else []
    width = len(cells) + len(complementary)
    rows, lower, upper = [], [], []
    for terms, constant in equations:
        row = np.zeros(width)
        for c, coefficient in terms.items():
            row[index[c]] = coefficient
        rows.append(row)
        lower.append(constant)
        upper.append(constant)
    for j, c in enumerate(complementary):  # 0 or at least k: x <= big * b, x >= k * b
        for x, b in ((1.0, -big), (-1.0, float(k))):
            row = np.zeros(width)
            row[index[c]], row[len(cells) + j] = x, b
            rows.append(row)
            lower.append(-np.inf)
            upper.append(0.0)
    constraints = [LinearConstraint(np.array(rows), lower, upper)] if rows else []
    primary = [markers and status[c] == PRIMARY for c in cells]
    lb = [1.0 if p else 0.0 for p in primary] + [0.0] * len(complementary)
    ub = [k - 1.0 if p else big for p in primary] + [1.0] * len(complementary)
    bounds, integrality = Bounds(lb, ub), np.ones(width)
    pinned = set()
    for c in cells:
        value, moves = float(counts[c]), False
        for sign in (-1.0, 1.0):  # the largest value, then the smallest
            objective = np.zeros(width)
            objective[index[c]] = sign
            res = milp(objective, integrality=integrality, bounds=bounds, constraints=constraints,
                       options={"time_limit": 5.0})
            if res.status == 0 and abs(sign * res.fun - value) >= 0.5:
                moves = True
                break
        if not moves:
            pinned.add(c)
    return pinned


def hidden_count(n: int, status: str | None, k: int) -> int | str:
    """A count as shown after :func:`secondary_suppression`: the number, ``<k`` or ``suppressed``."""
    if status == PRIMARY:
        return f"<{k}"
    if status == COMPLEMENTARY:
        return SUPPRESSED
    return int(n)

