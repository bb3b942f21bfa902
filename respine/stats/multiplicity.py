"""Multiplicity adjustment of p-values (Holm, Hochberg, Benjamini-Hochberg).

The adjusted p-values equal those of R's ``p.adjust`` (methods "holm", "hochberg", "BH"):
missing p-values (NaN) are passed through untouched and the number of tests is the number of
non-missing p-values, as ``p.adjust`` does with its default ``n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from respine.errors import AnalysisError

METHODS = ("holm", "hochberg", "bh")
LABELS = {
    "holm": "p (Holm-adjusted)",
    "hochberg": "p (Hochberg-adjusted)",
    "bh": "p (Benjamini-Hochberg FDR-adjusted)",
}


def _method(method: str) -> str:
    key = str(method).strip().lower()
    key = "bh" if key in ("fdr", "benjamini-hochberg") else key
    if key not in METHODS:
        raise AnalysisError(f"Unknown multiplicity adjustment '{method}'. Choose one of: "
                            "holm, hochberg, bh (Benjamini-Hochberg).")
    return key


def adjust_p(p_values: Sequence[float] | np.ndarray | pd.Series, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for a family of tests, in the input order.

    With the m non-missing p-values sorted ascending, p(1) <= ... <= p(m):

    * ``"holm"`` (step-down, controls the family-wise error rate):
      ``p~(i) = min(1, max_{j <= i} (m - j + 1) p(j))``;
    * ``"hochberg"`` (step-up, FWER under independence or positive dependence):
      ``p~(i) = min(1, min_{j >= i} (m - j + 1) p(j))``;
    * ``"bh"`` (step-up, controls the false discovery rate):
      ``p~(i) = min(1, min_{j >= i} m p(j) / j)``.

    A hypothesis is rejected at level alpha when its adjusted p-value is <= alpha. NaN entries are
    returned as NaN and do not count towards m. An empty input gives an empty array.

    References
    ----------
    .. [1] Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat
       1979;6:65-70.
    .. [2] Hochberg Y. A sharper Bonferroni procedure for multiple tests of significance.
       Biometrika 1988;75:800-802.
    .. [3] Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful
       approach to multiple testing. J R Stat Soc B 1995;57:289-300.
    .. [4] Wright SP. Adjusted p-values for simultaneous inference. Biometrics 1992;48:1005-1013.
    .. [5] R Core Team. ``?p.adjust`` (package stats).
    """
    key = _method(method)
    try:
        p = np.array(p_values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise AnalysisError("p-values must be numbers between 0 and 1 (or missing).") from exc
    ok = ~np.isnan(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise AnalysisError("p-values must lie between 0 and 1; check the p-value column.")
    out = p.copy()
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if key == "holm":
        order = np.argsort(q, kind="stable")
        adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    else:
        order = np.argsort(-q, kind="stable")  # descending
        i = np.arange(m, 0, -1)  # rank of each p in ascending order: m, m-1, ..., 1
        factor = (m - i + 1) if key == "hochberg" else m / i
        adj = np.minimum.accumulate(factor * q[order])
    res = np.empty(m)
    res[order] = np.minimum(1.0, adj)
    out[ok] = res
    return out


def adjust_table(frame: pd.DataFrame, p_col: str = "p_value",
                 methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """A copy of ``frame`` with adjusted p-values beside the raw ones.

    Adds ``p_holm``, ``p_hochberg`` and/or ``p_bh`` immediately after ``p_col``, adjusting over all
    rows of the frame (one family). Their display labels are in ``attrs["column_labels"]``.

    References
    ----------
    See :func:`adjust_p`.
    """
    if p_col not in frame.columns:
        raise AnalysisError(f"Column '{p_col}' is not in the table, so there is nothing to adjust. "
                            f"Available columns: {', '.join(map(str, frame.columns))}.")
    keys = [_method(m) for m in methods]
    out = frame.copy()
    position = list(out.columns).index(p_col) + 1
    labels = dict(out.attrs.get("column_labels", {}))
    for k in keys:
        name = f"p_{k}"
        if name in out.columns:
            out = out.drop(columns=name)
            position = list(out.columns).index(p_col) + 1
        out.insert(position, name, adjust_p(out[p_col].to_numpy(dtype=float), k))
        labels[name] = LABELS[k]
        position += 1
    out.attrs["column_labels"] = labels
    return out

