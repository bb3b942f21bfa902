"""The one place where numbers become display strings.

Statistics carry unrounded values; pages, tables and downloads format them here, so "p < 0.001",
"mean (SD)" and "estimate [95% CI]" look the same everywhere.
"""

from __future__ import annotations

import html
import math

DASH = "–"
MINUS = "−"

CONTRAST_LABELS = {
    "mean_difference": "Difference in means",
    "risk_difference": "Risk difference",
    "relative_risk": "Relative risk",
    "odds_ratio": "Odds ratio",
    "location_shift": "Location shift (Hodges-Lehmann)",
}


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def num(x: float | None, digits: int = 1) -> str:
    """A number with fixed decimals and a true minus sign; a dash when missing; ∞ when infinite."""
    if _missing(x):
        return DASH
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    text = f"{x:.{digits}f}"
    if text.startswith("-"):
        stripped = text[1:].replace("0", "").replace(".", "")
        text = text[1:] if not stripped else MINUS + text[1:]
    return text


def p_value(p: float | None) -> str:
    """p-values to three decimals, '<0.001' below that (ICMJE style)."""
    if _missing(p):
        return DASH
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def pct(rate: float | None, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage."""
    return DASH if _missing(rate) else f"{num(100 * rate, digits)}%"


def n_pct(k: int, n: int, digits: int = 1) -> str:
    """'k/n (x%)'."""
    if n == 0:
        return f"{k}/{n}"
    return f"{k}/{n} ({num(100 * k / n, digits)}%)"


def mean_sd(mean: float, sd: float, digits: int = 1) -> str:
    return f"{num(mean, digits)} ({num(sd, digits)})"


def median_iqr(median: float, q1: float, q3: float, digits: int = 1) -> str:
    return f"{num(median, digits)} ({num(q1, digits)} to {num(q3, digits)})"


def median_iqr_withheld(median: float, marker: str, digits: int = 1) -> str:
    """A median whose quartiles are not shown: 'median (IQR <marker>)'."""
    return f"{num(median, digits)} (IQR {marker})"


def est_ci(est: float, lo: float, hi: float, digits: int = 1) -> str:
    """'estimate [low, high]'."""
    return f"{num(est, digits)} [{num(lo, digits)}, {num(hi, digits)}]"


def contrast_estimate(measure: str, est: float, lo: float, hi: float, digits: int = 1) -> str:
    """Risk differences in percentage points, ratios with two decimals, means as given."""
    if measure == "risk_difference":
        return est_ci(100 * est, 100 * lo, 100 * hi, digits) + " pp"
    if measure in ("relative_risk", "odds_ratio"):
        return est_ci(est, lo, hi, 2)
    return est_ci(est, lo, hi, digits)


def contrast_label(measure: str) -> str:
    return CONTRAST_LABELS.get(measure, measure.replace("_", " ").capitalize())


def visit_number(v: float) -> str:
    return f"{v:g}"


_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:"


def md_escape(text: object) -> str:
    """Text from a link or a data set, safe to put inside Markdown: every character Markdown (or
    Streamlit's LaTeX and emoji shortcodes) would interpret is backslash-escaped, so a label can
    never become a link, emphasis or a formula."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def plot_text(text: object) -> str:
    """Text from a data set or a link, safe inside a plotly figure.

    Plotly draws a subset of HTML in titles, legends, tick labels and hovers (``<b>``, ``<br>``,
    ``<a href>``, ``<span style>``), so an arm label such as ``<a href=...>`` would become a link
    in the chart. Escaping ``&``, ``<`` and ``>`` as entities, which plotly turns back into the
    characters, shows such text literally."""
    return html.escape(str(text), quote=False)
