"""The one place where numbers become display strings.

Statistics carry unrounded values; pages, tables and downloads format them here, so "p < 0.001",
"mean (SD)" and "estimate [95% CI]" look the same everywhere.
"""

from __future__ import annotations

import html
import math
import re

DASH = "–"
MINUS = "−"

CONTRAST_LABELS = {
    "mean_difference": "Difference in means",
    "risk_difference": "Risk difference",
    "relative_risk": "Relative risk",
    "odds_ratio": "Odds ratio",
    "location_shift": "Location shift (Hodges-Lehmann)",
    "rank_z": "Stratified rank statistic (z)",
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


def cell(value: object) -> object:
    """A table cell as a reader sees it: yes/no for a flag, a dash for a missing value (None,
    NaN, pandas' NA and NaT), anything else unchanged. Python's ``True``, ``None`` and ``nan`` are
    never shown."""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy's bool is no bool
        return "Yes" if value else "No"
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return DASH
    if isinstance(value, float) and math.isnan(value):
        return DASH
    return value


def setting(value: object) -> str:
    """A server option's value as it is written in ``.streamlit/config.toml`` (``true``/``false``,
    not Python's ``True``/``False``), so a reader can copy it there."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def visit_number(v: float) -> str:
    return f"{v:g}"


# Backslash-escaped (CommonMark shows an escaped punctuation character as itself): the characters of
# Markdown and GFM (emphasis, code, links and images, headings, lists, tables, strikethrough, HTML,
# entities), of Streamlit's LaTeX (``$``) and of its ``:name[...]`` directives (colours, badges).
# Plain punctuation (, ; ? ' " % @ / ^ =) is left as it is; a "=" that starts a line is escaped
# (it could underline the line above as a heading).
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!|~<>$:&")
WORD_JOINER = "\u2060"  # zero width and invisible: splits a pattern without changing what is seen
# Streamlit also rewrites the *text* of a Markdown element after parsing, where a backslash escape
# no longer shows: ``http://...``, ``www....`` and ``name@host.org`` become links (GFM autolink
# literals), ``:name:`` an emoji, ``:material_name:`` an icon, ``:streamlit:`` a logo image, and
# `` -> ``, `` <- ``, `` <-> ``, `` -- ``, `` >= ``, `` <= ``, `` ~= `` typographic signs. A word
# joiner inside each such pattern keeps the text as it is: after ``http:``, ``www`` and the
# first label of an e-mail domain (before the dot of ``a@host.org``),
# after a colon that could open a shortcode or ``:material/`` (which Streamlit rewrites in the
# source, before escapes are read), before a text that starts with an icon or logo name
# and a colon (it may follow a colon of the page), and inside a sign. (The emoji plugin is loaded
# only when the source has a ``:name:``, which escaped text never has.)
_TEXT_PATTERNS = re.compile(
    r"(?i:https?:(?=//)|www(?=\.))|@[-\w]+(?=\.)|:(?=[\w+-]+(?::|$)|material/)"
    r"|^(?=(?:material_\w+|streamlit):)"
)
_TYPOGRAPHIC = re.compile(r"(?:(?<=\s)|^)(<->|->|<-|--|>=|<=|~=)(?=\s|$)")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_SETEXT = re.compile(r"^=", re.MULTILINE)


def md_escape(text: object) -> str:
    """Text from a link or a data set, safe to put inside Markdown (``st.markdown``, captions,
    alerts, headings, metric, tab and expander labels, widget labels, radio and pills options):
    shown exactly as written, never as a link, image, emphasis, formula, colour, emoji or icon.

    Every character Markdown or Streamlit reads is backslash-escaped; line breaks are normalised
    and lines lose their leading blanks (no indented code block); an invisible word joiner breaks
    the links, shortcodes and signs Streamlit makes from the text after parsing (see
    ``_TEXT_PATTERNS``)."""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n")
    value = _INDENT.sub("", value)
    value = _TEXT_PATTERNS.sub(lambda m: m.group(0) + WORD_JOINER, value)
    value = _TYPOGRAPHIC.sub(lambda m: m.group(1)[0] + WORD_JOINER + m.group(1)[1:], value)
    value = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in value)
    return _SETEXT.sub(r"\\=", value)


# One line of words: letters and digits joined by spaces, commas, full stops, semicolons and
# apostrophes, by a colon and spaces ("DSA: donor"), or by a single hyphen or slash ("BM-MSC",
# "I/II"); an optional closing full stop.
_PLAIN_PHRASE = re.compile(r"[^\W_]+(?:(?:[ ,.;']+|:[ ]+|-|/)[^\W_]+)*\.?")


def md_phrase(text: object) -> str:
    """Study text for the middle of a Markdown sentence: as written when Markdown and Streamlit
    would show it unchanged anyway (a one-line phrase of words; a "." only starts a list at the
    start of a line, and :func:`md_escape` would add nothing but backslashes), else
    :func:`md_escape` of it. Keeps "Pers et al., Ann Rheum Dis 2024" readable in the page source
    and in tests, and a crafted study text inert."""
    value = str(text)
    if _PLAIN_PHRASE.fullmatch(value) and md_escape(value).replace("\\", "") == value:
        return value
    return md_escape(value)


def plot_text(text: object) -> str:
    """Text from a data set or a link, safe inside a plotly figure.

    Plotly draws a subset of HTML in titles, legends, tick labels and hovers (``<b>``, ``<br>``,
    ``<a href>``, ``<span style>``), so an arm label such as ``<a href=...>`` would become a link
    in the chart. Escaping ``&``, ``<`` and ``>`` as entities, which plotly turns back into the
    characters, shows such text literally."""
    return html.escape(str(text), quote=False)

