"""Figure factories: each takes results and returns a plotly Figure (no Streamlit here).

One arm-colour mapping, from the Okabe-Ito palette (distinguishable with the common forms of
colour-vision deficiency), is used by every figure, so an arm has the same colour on every page.

References
----------
.. [1] Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that
   are friendly to colorblind people. 2008. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterator, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from respine.analyses.screening import Screening
from respine.analyses.survival import TimeToEvent
from respine.model.endpoints import Endpoint
from respine.model.results import AnalysisResult
from respine.present import fmt, privacy
from respine.present import labels as wording
from respine.present.tables import comparisons

# Every text from the data (arm, visit, subgroup and subject labels, titles) goes through _t, so
# that plotly's HTML subset in labels (<b>, <a href>) is shown literally, never drawn.
_t = fmt.plot_text


def _tpl(text: object) -> str:
    """Data text inside a hovertemplate: escaped as :func:`_t`, and ``%{`` broken by a word joiner
    so that a label such as ``%{y}`` is shown, not filled in with a value."""
    return _t(text).replace("%{", "%" + fmt.WORD_JOINER + "{")

# Okabe-Ito: blue, vermillion, bluish green, reddish purple, sky blue, orange.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00")
REFERENCE_COLOUR = "#6E6E6E"  # grey for the control arm, so treatment arms stand out
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=13)


def arm_colours(arms: Sequence[str], reference: str | None = None) -> dict[str, str]:
    """Stable colour for each arm: treatment arms in order from the palette, reference grey."""
    colours: dict[str, str] = {}
    i = 0
    for arm in arms:
        if arm == reference:
            colours[arm] = REFERENCE_COLOUR
        else:
            colours[arm] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


GRID = "#EBEBEB"


def _base_layout(title: str = "", y_title: str = "", x_title: str = "") -> dict:
    return dict(
        title=dict(text=_t(title), x=0, xanchor="left"),
        font=FONT,
        template="none",
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
        hovermode="closest",
        height=420,
        yaxis=dict(
            title=dict(text=_t(y_title)),
            zeroline=True,
            zerolinecolor="#BBBBBB",
            gridcolor=GRID,
            linecolor="#BBBBBB",
        ),
        xaxis=dict(title=dict(text=_t(x_title)), gridcolor=GRID, linecolor="#BBBBBB"),
    )


def _new(title: str = "", y_title: str = "", x_title: str = "", **layout: object) -> go.Figure:
    """A figure whose layout is set once, at creation (updating the layout of a figure that
    already has traces is several times slower), with explicit white styling instead of
    template="plotly_white", whose validation alone cost about 30 ms per figure."""
    base = _base_layout(title, y_title, x_title)
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return go.Figure(layout=base)


def _by_arm(frame: pd.DataFrame, colours: dict[str, str]) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(arm, colour, that arm's rows) for every arm with rows, in the colour mapping's order."""
    for arm, colour in colours.items():
        rows = frame[frame["arm"] == arm]
        if not rows.empty:
            yield arm, colour, rows


TITLE_LINE = 80  # characters (every title of a default view fits); a longer one (a rule in words) is wrapped


def _title(title: str) -> tuple[str, int]:
    """A figure title escaped as :func:`_t`, wrapped at spaces into lines of at most
    :data:`TITLE_LINE` characters (plotly never wraps a title: a long one is cut at the figure's
    edge), and the number of lines."""
    if len(title) <= TITLE_LINE:
        return _t(title), 1
    lines = textwrap.wrap(title, TITLE_LINE, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(_t(line) for line in lines), len(lines)


CAPTION_LINE = 90  # characters of a caption line (a subtitle fits a half-page chart and an export)
CAPTION_FONT = dict(size=11, color="#555555")
DEFAULT_TOP = 100  # plotly's top margin when a figure sets none


def captioned(fig: go.Figure, caption: str) -> go.Figure:
    """A copy of ``fig`` whose subtitle is ``caption`` (what the figure shows: the selection, the
    data, the synthetic-data mark; see :func:`respine.present.labels.selection_caption`), wrapped
    at spaces, with the top margin grown to hold it. The figure itself is not changed (figures
    are shared read-only across sessions); an empty caption gives a plain copy.

    The caption is inside the figure, so every image made from it (PNG, SVG, the reports'
    figures) carries it.
    """
    out = go.Figure(fig)
    if not caption or caption_of(fig) == " ".join(caption.split()):
        return out  # none, or this one already (its margin has grown once)
    lines = textwrap.wrap(caption, CAPTION_LINE, break_long_words=False, break_on_hyphens=False) or [caption]
    out.layout.title.subtitle.text = "<br>".join(_t(line) for line in lines)
    out.layout.title.subtitle.font = CAPTION_FONT
    top = out.layout.margin.t if out.layout.margin.t is not None else DEFAULT_TOP
    out.layout.margin.t = top + 16 * len(lines)
    return out


def caption_of(fig: go.Figure) -> str:
    """The caption :func:`captioned` put on ``fig`` (as plain text, one line), or ""."""
    text = fig.layout.title.subtitle.text or ""
    return " ".join(html.unescape(text.replace("<br>", " ")).split()) if text else ""


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str = "") -> go.Figure:
    """Set the titles of a figure made by :func:`_new` (cheap: three properties); a wrapped
    title gets the room of its extra lines above the plot."""
    fig.layout.title.text, lines = _title(title)
    if lines > 1 and fig.layout.margin.t is not None:  # None: plotly's default, room for three lines
        fig.layout.margin.t += 20 * (lines - 1)
    fig.layout.yaxis.title.text = _t(y_title)
    fig.layout.xaxis.title.text = _t(x_title)
    return fig


def _suppressed(fig: go.Figure, dropped: int, k: int) -> go.Figure:
    """Say on the figure that cells were left out under the small-cell rule."""
    if dropped:
        fig.add_annotation(
            text=f"{dropped} value(s) describing fewer than {k} subjects not shown (aggregate-only mode)",
            xref="paper", yref="paper", x=1.0, y=1.0, xanchor="right", yanchor="bottom",
            showarrow=False, font=dict(size=11, color="#555555"),
        )
    return fig


def _ci_band(fig: go.Figure, x: Sequence[float], low: Sequence[float], high: Sequence[float]) -> None:
    """A shaded 95% confidence band: an invisible upper line, then the lower one filled up to it."""
    fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line=dict(width=0), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=low, mode="lines", fill="tonexty", fillcolor="rgba(0,114,178,0.15)",
                             line=dict(width=0), name="95% CI", hoverinfo="skip"))


def over_time_figure(
    frame: pd.DataFrame,
    colours: dict[str, str],
    title: str,
    y_title: str,
    percent: bool = False,
    min_cell: int = 0,
) -> go.Figure:
    """Mean (or rate) with 95% CI by arm across visits; hover shows n and CI.

    ``y_title`` is the axis title with its unit (:func:`respine.present.labels.value_title`);
    ``percent`` draws rates (0-1) as percentages.

    Arms are dodged slightly along the x axis so their error bars do not overlap. Points that
    describe fewer than ``min_cell`` subjects (n, or responders) are not drawn.
    """
    fig = _new()
    small = [
        a or b for a, b in zip(privacy.small_rows(frame, ("n", "responders"), min_cell),
                               privacy.small_split_rows(frame, [("responders", "n")], min_cell), strict=True)
    ]
    dropped = sum(small)
    frame = frame[[not f for f in small]] if dropped else frame
    arms = [a for a in colours if a in set(frame["arm"])]
    visits = sorted(frame["visit_month"].unique())
    labels = frame.drop_duplicates("visit_month").set_index("visit_month")["visit"]
    step = 0.08 * (max(visits) - min(visits) if len(visits) > 1 else 1) / max(len(arms), 1)
    scale = 100.0 if percent else 1.0
    for i, arm in enumerate(arms):
        d = frame[frame["arm"] == arm].sort_values("visit_month")
        x = d["visit_month"] + (i - (len(arms) - 1) / 2) * step
        y = d["estimate"] * scale
        hover = [
            f"<b>{_t(arm)}</b><br>{_t(v)}<br>n = {int(n)}<br>"
            f"{fmt.num(e * scale)}{'%' if percent else ''} "
            f"[95% CI {fmt.num(lo * scale)} to {fmt.num(hi * scale)}]"
            for v, n, e, lo, hi in zip(
                d["visit"], d["n"], d["estimate"], d["ci_low"], d["ci_high"], strict=True
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                name=_t(arm),
                line=dict(color=colours[arm], width=2.5),
                marker=dict(size=8, symbol=["circle", "square", "diamond", "triangle-up"][i % 4]),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(d["ci_high"] - d["estimate"]) * scale,
                    arrayminus=(d["estimate"] - d["ci_low"]) * scale,
                    thickness=1.5,
                    width=4,
                ),
                hovertext=hover,
                hoverinfo="text",
                customdata=d["n"],
            )
        )
    fig.update_xaxes(tickmode="array", tickvals=visits, ticktext=[_t(labels[v]) for v in visits])
    return _suppressed(_layout(fig, title, y_title), dropped, min_cell)


def rate_figure(result: AnalysisResult, colours: dict[str, str], min_cell: int = 0) -> go.Figure:
    """Responder rates by arm with Wilson 95% CIs at one visit; hover shows k/n and CI.

    An arm with fewer than ``min_cell`` subjects, responders or non-responders is not drawn.
    """
    fig = _new()
    k = min_cell
    shown = [
        s for s in result.arms if not (privacy.is_small(s.n, k) or privacy.split_small(s.responders, s.n, k))
    ]
    for s in shown:
        fig.add_trace(
            go.Bar(
                x=[_t(s.arm)],
                y=[100 * s.rate],
                name=_t(s.arm),
                marker_color=colours.get(s.arm, PALETTE[0]),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[100 * (s.ci_high - s.rate)],
                    arrayminus=[100 * (s.rate - s.ci_low)],
                    thickness=1.5,
                    width=8,
                ),
                text=[fmt.pct(s.rate)],
                textposition="inside",
                hovertext=[
                    f"<b>{_t(s.arm)}</b><br>{fmt.n_pct(s.responders, s.n)}<br>"
                    f"95% CI {fmt.pct(s.ci_low)} to {fmt.pct(s.ci_high)}"
                ],
                hoverinfo="text",
            )
        )
    fig.update_yaxes(range=[0, 100])
    fig.update_layout(showlegend=False, bargap=0.5)
    fig = _layout(fig, f"{result.endpoint_label} at {result.visit_label}", "Responders (%)")
    return _suppressed(fig, len(result.arms) - len(shown), min_cell)


def distribution_figure(
    values: pd.DataFrame, column: str, colours: dict[str, str], title: str, y_title: str
) -> go.Figure:
    """Box plot with every subject's value as a point, by arm, at one visit."""
    fig = _new()
    for arm, colour, d in _by_arm(values, colours):
        fig.add_trace(
            go.Box(
                y=d[column],
                name=f"{_t(arm)} (n={len(d)})",
                marker_color=colour,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                boxmean=True,
                hovertext=d["subject_id"].map(_t),
                hoverinfo="y+text",
            )
        )
    fig.update_layout(showlegend=False)
    return _layout(fig, title, y_title)


def _interval_trace(
    frame: pd.DataFrame, scale: float, y: object, hover: list[str], marker: dict
) -> go.Scatter:
    """Estimates with horizontal 95% CI bars (forest plots and lists of analyses)."""
    return go.Scatter(
        x=frame["estimate"] * scale,
        y=y,
        mode="markers",
        marker=marker,
        error_x=dict(
            type="data",
            symmetric=False,
            array=(frame["ci_high"] - frame["estimate"]) * scale,
            arrayminus=(frame["estimate"] - frame["ci_low"]) * scale,
            thickness=1.5,
            width=0,
            color="#444444",
        ),
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
    )


def _subgroup_hover(r: pd.Series, contrast: str, label: str, counts: str, head: str = "") -> str:
    """The hover text of one subgroup row of a forest plot: its label, n per arm, the effect with
    its CI, the interaction p and any note (``head``: the comparison, when there are several)."""
    est = fmt.contrast_estimate(contrast, r["estimate"], r["ci_low"], r["ci_high"])
    p_int = r["p_interaction"]
    p = "" if pd.isna(p_int) else f"<br>interaction p = {fmt.p_value(p_int)}"
    note = f"<br>{_t(r['note'])}" if r["note"] else ""
    top = f"<b>{head}</b><br>{label}" if head else f"<b>{label}</b>"
    return f"{top}<br>{counts}<br>{fmt.contrast_label(contrast)}: {est}{p}{note}"


INTERACTION_MARGIN = 150  # px right of a forest plot, for the interaction p of each covariate


def _interaction_notes(fig: go.Figure, variables: Sequence[str], y: Sequence[float],
                       p_values: Sequence[float], colour: str = "#333333", prefix: str = "") -> None:
    """Write each covariate's interaction p-value right of the plot, beside the covariate's first
    (top) row: the test of whether the effect differs between its levels, which is what a
    subgroup is judged by (the rows' own CIs are not). Rows without a p-value (Overall, a
    covariate whose test could not be computed) get none."""
    seen: set[str] = set()
    for variable, row, p in zip(variables, y, p_values, strict=True):
        if variable in seen or variable == "Overall" or pd.isna(p):
            continue
        seen.add(variable)
        fig.add_annotation(
            text=f"{prefix}interaction p = {fmt.p_value(p)}", xref="paper", yref="y", x=1.0, y=row,
            xanchor="left", yanchor="middle", xshift=8, showarrow=False,
            font=dict(size=11, color=colour),
        )


def forest_figure(
    frame: pd.DataFrame, treat: str, reference: str, title: str, min_cell: int = 0,
    endpoint: Endpoint | None = None, measure: str = "chg",
) -> go.Figure:
    """Forest plot: one row per subgroup level, effect with 95% CI, null line, n per arm on hover.

    Odds ratios use a log axis. Rows with no estimate (too few subjects) are shown without a
    point, and their reason is in the hover text; so are rows with an arm of fewer than
    ``min_cell`` subjects (aggregate-only mode), whose estimate is suppressed.

    The x axis says which side favours which arm, from ``endpoint``'s direction of benefit and
    ``measure`` (its change, value or percent change); without an endpoint, or for one whose
    direction is unknown, it names the contrast only.

    A frame of several comparisons (its ``arm`` column names more than one treatment arm) shows
    every comparison on each row, one colour per treatment arm (the app's arm colours), named in
    the legend; ``treat`` then names the treatment arms in the axis title ("each arm").

    Each covariate's interaction p-value (``p_interaction``, formatted by
    :func:`respine.present.fmt.p_value`) is written right of the plot beside the covariate's first
    row (one per comparison, in its arm's colour, when there are several).
    """
    parts = comparisons(frame)
    if len(parts) == 1:
        arm = parts[0][0] or treat
        return _forest_one(parts[0][2], arm, parts[0][1] or reference, title, min_cell, endpoint, measure)
    return _forest_several(parts, treat, reference, title, min_cell, endpoint, measure)


def _forest_several(parts: list[tuple[str, str, pd.DataFrame]], treat: str, reference: str, title: str,
                    min_cell: int, endpoint: Endpoint | None, measure: str) -> go.Figure:
    contrast = parts[0][2]["measure"].iloc[0]
    ratio = contrast in wording.RATIOS
    scale = 100.0 if contrast == "risk_difference" else 1.0
    slots = list(dict.fromkeys((v, lev) for _, _, part in parts
                               for v, lev in zip(part["variable"], part["level"], strict=True)))
    row_labels = [_t(f"{v}: {lev}") if v != "Overall" else "Overall" for v, lev in slots]
    centre = {slot: len(slots) - 1 - i for i, slot in enumerate(slots)}
    colours = arm_colours([a for a, _, _ in parts])
    step = 0.7 / len(parts)
    fig = go.Figure()
    dropped = 0
    for j, (arm, ref, part) in enumerate(parts):
        n_columns = [f"n {arm}", f"n {ref}"]
        small = privacy.small_rows(part, n_columns, min_cell)
        dropped += sum(small)
        part = part.copy()
        if any(small):
            part.loc[small, ["estimate", "ci_low", "ci_high"]] = float("nan")
        offset = 0.35 - step / 2 - j * step
        y = [centre[(v, lev)] + offset for v, lev in zip(part["variable"], part["level"], strict=True)]
        hover = []
        for (_, r), (v, lev) in zip(part.iterrows(), zip(part["variable"], part["level"], strict=True),
                                   strict=True):
            ns = ", ".join(f"{_t(c[2:])} n={privacy.count_cell(int(r[c]), min_cell)}" for c in n_columns)
            lab = "Overall" if v == "Overall" else _t(f"{v}: {lev}")
            hover.append(_subgroup_hover(r, contrast, lab, ns, f"{_t(arm)} vs {_t(ref)}"))
        marker = dict(symbol=["diamond" if v == "Overall" else "square" for v in part["variable"]],
                      size=[12 if v == "Overall" else 8 for v in part["variable"]], color=colours[arm])
        trace = _interval_trace(part, scale, y, hover, marker)
        trace.update(name=_t(f"{arm} vs {ref}"), showlegend=True, legendgroup=arm)
        fig.add_trace(trace)
        # interaction p of each comparison beside its own row of the covariate's first level
        _interaction_notes(fig, list(part["variable"]), y, list(part["p_interaction"]), colours[arm],
                           f"{_t(arm)}: ")
    fig.add_vline(x=1.0 if ratio else 0.0, line=dict(color="#888888", dash="dash"))
    fig.update_yaxes(tickmode="array", tickvals=[centre[s] for s in slots], ticktext=row_labels,
                     showgrid=False)
    if ratio:
        fig.update_xaxes(type="log")
    _layout(fig, title, "", wording.contrast_axis_title(contrast, endpoint, treat, reference, measure))
    fig.update_layout(height=max(320, 22 * len(slots) * len(parts) + 160), showlegend=True,
                      margin=dict(r=INTERACTION_MARGIN + 60))
    return _suppressed(fig, dropped, min_cell)


def _forest_one(
    frame: pd.DataFrame, treat: str, reference: str, title: str, min_cell: int = 0,
    endpoint: Endpoint | None = None, measure: str = "chg",
) -> go.Figure:
    """:func:`forest_figure` of one comparison: one row per subgroup level."""
    contrast = frame["measure"].iloc[0]
    n_columns = [c for c in frame.columns if c.startswith("n ")]
    small = privacy.small_rows(frame, n_columns, min_cell)
    if any(small):
        frame = frame.copy()
        frame.loc[small, ["estimate", "ci_low", "ci_high"]] = float("nan")
        for c in n_columns:
            frame[c] = [privacy.count_cell(n, min_cell) for n in frame[c]]
    ratio = contrast in wording.RATIOS
    scale = 100.0 if contrast == "risk_difference" else 1.0
    row_labels = [
        _t(f"{v}: {lev}") if v != "Overall" else "Overall"
        for v, lev in zip(frame["variable"], frame["level"], strict=True)
    ]
    y = list(range(len(frame)))[::-1]
    hover = [_subgroup_hover(r, contrast, lab, ", ".join(f"{_t(c[2:])} n={r[c]}" for c in n_columns))
             for (_, r), lab in zip(frame.iterrows(), row_labels, strict=True)]
    colours = [PALETTE[0] if v != "Overall" else "#000000" for v in frame["variable"]]
    marker = dict(
        symbol=["diamond" if v == "Overall" else "square" for v in frame["variable"]],
        size=[13 if v == "Overall" else 9 for v in frame["variable"]],
        color=colours,
    )
    fig = go.Figure(_interval_trace(frame, scale, y, hover, marker))
    fig.add_vline(x=1.0 if ratio else 0.0, line=dict(color="#888888", dash="dash"))
    fig.update_yaxes(tickmode="array", tickvals=y, ticktext=row_labels, showgrid=False)
    if ratio:
        fig.update_xaxes(type="log")
    _interaction_notes(fig, list(frame["variable"]), y, list(frame["p_interaction"]))
    _layout(fig, title, "", wording.contrast_axis_title(contrast, endpoint, treat, reference, measure))
    fig.update_layout(height=max(320, 26 * len(frame) + 140), margin=dict(r=INTERACTION_MARGIN))
    return _suppressed(fig, sum(small), min_cell)


def cumulative_figure(
    frame: pd.DataFrame, colours: dict[str, str], title: str, x_title: str, thresholds: dict[str, float]
) -> go.Figure:
    """Share of each arm improving at least x, with vertical lines at the named thresholds."""
    fig = _new()
    for arm, colour, d in _by_arm(frame, colours):
        # "vh": at x_i the share is P(improvement >= x_i); just above x_i it drops to the next.
        fig.add_trace(
            go.Scatter(
                x=d["improvement"],
                y=100 * d["share"],
                mode="lines",
                name=f"{_t(arm)} (n={d['n'].iloc[0]})",
                line=dict(color=colour, shape="vh", width=2.5),
                hovertemplate=f"<b>{_tpl(arm)}</b><br>improvement ≥ %{{x:g}}: %{{y:.1f}}%<extra></extra>",
            )
        )
    # Each threshold's label has its own row at the top of the plot (from the left-most line
    # down), so two thresholds close together (a 20 mm responder rule and a 15 mm MCID) never
    # print their labels on top of each other, whatever the thresholds are.
    for row, (label, value) in enumerate(sorted(thresholds.items(), key=lambda item: item[1])):
        fig.add_vline(x=value, line=dict(color="#888888", dash="dot"))
        fig.add_annotation(
            x=value, xref="x", xanchor="left", y=1 - THRESHOLD_ROW * row, yref="paper", yanchor="top",
            text=f"{_t(label)} ({value:g})", showarrow=False, font=dict(size=12, color="#555555"),
            bgcolor="rgba(255, 255, 255, 0.85)", name=THRESHOLD_LABEL,
        )
    fig.update_yaxes(range=[0, 102])
    return _layout(fig, title, "Subjects improving at least this much (%)", x_title)


#: The height of one row of threshold labels on a cumulative plot, as a share of the plot area
#: (a 12 px label is about 16 px tall; the plot area is at least 300 px high).
THRESHOLD_ROW = 0.07
#: The name carried by the threshold labels of a cumulative plot (for the tests and the report).
THRESHOLD_LABEL = "threshold"


def sweep_figure(
    frame: pd.DataFrame, treat: str, reference: str, title: str, x_title: str, min_cell: int = 0
) -> go.Figure:
    """Risk difference (95% CI band) as the responder threshold sweeps.

    Thresholds at which an arm has 1 to ``min_cell`` - 1 responders or non-responders are not drawn.
    """
    fig = _new()
    responders = [c for c in frame.columns if c.startswith("responders ")]
    small = privacy.small_rows(frame, responders, min_cell)
    if min_cell > 0:  # the rest of each arm (non-responders), from the count and the rate
        for c in responders:
            rate = frame.get(c.replace("responders ", "rate ", 1))
            if rate is None:
                continue
            rest = [r * (1 - p) / p if p and p > 0 else None for r, p in zip(frame[c], rate, strict=True)]
            small = [a or privacy.is_small(None if x is None else round(x), min_cell)
                     for a, x in zip(small, rest, strict=True)]
    dropped = sum(small)
    frame = frame[[not f for f in small]] if dropped else frame
    _ci_band(fig, frame["threshold"], 100 * frame["rd_low"], 100 * frame["rd_high"])
    hover = [
        f"threshold {t:g}<br>{_t(treat)} {fmt.pct(a)} vs {_t(reference)} {fmt.pct(b)}<br>"
        f"difference {fmt.contrast_estimate('risk_difference', d, lo, hi)}"
        for t, a, b, d, lo, hi in zip(
            frame["threshold"],
            frame[f"rate {treat}"],
            frame[f"rate {reference}"],
            frame["rd"],
            frame["rd_low"],
            frame["rd_high"],
            strict=True,
        )
    ]
    fig.add_trace(
        go.Scatter(
            x=frame["threshold"],
            y=100 * frame["rd"],
            mode="lines+markers",
            line=dict(color=PALETTE[0], width=2.5),
            name="Risk difference",
            hovertext=hover,
            hoverinfo="text",
        )
    )
    fig.add_hline(y=0, line=dict(color="#888888", dash="dash"))
    fig = _layout(fig, title, f"Responders, {treat} minus {reference} (percentage points)", x_title)
    return _suppressed(fig, dropped, min_cell)


def spaghetti_figure(frame: pd.DataFrame, colours: dict[str, str], title: str, y_title: str) -> go.Figure:
    """One thin line per subject, coloured by arm (one legend entry per arm)."""
    fig = _new()
    for arm, colour, d in _by_arm(frame.sort_values(["subject_id", "visit_month"]), colours):
        # One trace per arm with gaps between subjects keeps the figure light at any size.
        xs, ys, text = [], [], []
        for sid, part in d.groupby("subject_id", sort=False):
            xs += [*part["visit_month"].tolist(), None]
            ys += [*part["y"].tolist(), None]
            text += [_t(sid)] * len(part) + [None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=_t(arm),
                text=text,
                line=dict(color=colour, width=1),
                marker=dict(size=3),
                opacity=0.45,
                hovertemplate="%{text}<br>%{y:.1f}<extra>" + _tpl(arm) + "</extra>",
            )
        )
    visits = sorted(frame["visit_month"].unique())
    labels = frame.drop_duplicates("visit_month").set_index("visit_month")["visit"]
    fig.update_xaxes(tickmode="array", tickvals=visits, ticktext=[_t(labels[v]) for v in visits])
    return _layout(fig, title, y_title)


def waterfall_figure(frame: pd.DataFrame, colours: dict[str, str], title: str) -> go.Figure:
    """Percent change per subject, sorted, side by side per arm."""
    fig = _new()
    offset = 0
    for arm, colour, d in _by_arm(frame, colours):
        fig.add_trace(
            go.Bar(
                x=d["rank"] + offset,
                y=d["pchg"],
                name=f"{_t(arm)} (n={len(d)})",
                marker_color=colour,
                hovertext=d["subject_id"].map(_t),
                hovertemplate="%{hovertext}<br>%{y:.1f}%<extra>" + _tpl(arm) + "</extra>",
            )
        )
        offset += len(d) + 3
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(bargap=0.1)
    return _layout(fig, title, "Percent change from baseline (%)", "Subjects, sorted within arm")


def scatter_figure(
    points: pd.DataFrame, x: str, y: str, colours: dict[str, str], title: str, x_title: str, y_title: str
) -> go.Figure:
    """Per-subject scatter coloured by arm."""
    fig = _new()
    for arm, colour, d in _by_arm(points, colours):
        fig.add_trace(
            go.Scatter(
                x=d[x],
                y=d[y],
                mode="markers",
                name=f"{_t(arm)} (n={len(d)})",
                marker=dict(color=colour, size=8, opacity=0.75),
                text=d["subject_id"].map(_t),
                hovertemplate="%{text}<br>x %{x:.1f}, y %{y:.1f}<extra>" + _tpl(arm) + "</extra>",
            )
        )
    return _layout(fig, title, y_title, x_title)


def completion_figure(
    frame: pd.DataFrame, colours: dict[str, str], title: str, min_cell: int = 0,
    hidden: Sequence[bool] | None = None,
) -> go.Figure:
    """Share of each arm with a value at each visit. In aggregate-only mode (``min_cell`` > 0) a
    bar is left out when it, or the rest of its arm, describes 1 to ``min_cell`` - 1 subjects,
    and where ``hidden`` (one flag per row, from the suppressed table) says its count is hidden:
    a percentage of a known total gives the count away."""
    fig = _new()
    rest = privacy.small_split_rows(frame, [("observed", "expected")], min_cell)
    small = [a or b for a, b in zip(privacy.small_rows(frame, ("observed",), min_cell), rest, strict=True)]
    if min_cell > 0 and hidden is not None:
        small = [a or bool(b) for a, b in zip(small, hidden, strict=True)]
    dropped = sum(small)
    frame = frame[[not f for f in small]] if dropped else frame
    for arm, colour, d in _by_arm(frame, colours):
        fig.add_trace(
            go.Bar(
                x=d["visit"].map(_t),
                y=d["pct"],
                name=_t(arm),
                marker_color=colour,
                text=[f"{o}/{e}" for o, e in zip(d["observed"], d["expected"], strict=True)],
                textposition="outside",
                hovertemplate="%{x}: %{text} (%{y:.1f}%)<extra>" + _tpl(arm) + "</extra>",
            )
        )
    fig.update_yaxes(range=[0, 112])
    fig.update_layout(barmode="group")
    return _suppressed(_layout(fig, title, "Subjects with a value (%)"), dropped, min_cell)


def estimates_figure(frame: pd.DataFrame, measure: str, title: str, label_column: str = "label",
                     endpoint: Endpoint | None = None, arm: str = "", reference: str = "",
                     endpoint_measure: str = "chg") -> go.Figure:
    """Point estimates with 95% CIs, one row per analysis (e.g. missing-data strategies).

    ``measure`` is the contrast (``mean_difference``, ``risk_difference``, ...). Given the
    ``endpoint``, the two ``arm``/``reference`` of the contrast and the endpoint's measure, the
    x axis also says which side favours which arm (nothing when the direction is unknown)."""
    d = frame.dropna(subset=["estimate"]).iloc[::-1]
    scale = 100.0 if measure == "risk_difference" else 1.0
    hover = [
        f"<b>{_t(lab)}</b><br>{fmt.contrast_estimate(measure, e, lo, hi)}<br>p = {fmt.p_value(p)}"
        for lab, e, lo, hi, p in zip(
            d[label_column], d["estimate"], d["ci_low"], d["ci_high"], d["p_value"], strict=True
        )
    ]
    marker = dict(size=10, color=PALETTE[0])
    fig = go.Figure(_interval_trace(d, scale, d[label_column].map(_t), hover, marker))
    fig.add_vline(x=0.0, line=dict(color="#888888", dash="dash"))
    sides = endpoint if arm and reference else None
    _layout(fig, title, "", wording.contrast_axis_title(measure, sides, arm, reference, endpoint_measure))
    fig.update_layout(height=max(300, 50 * len(d) + 140))
    return fig


MAX_TIPPING_CELLS = 26


def _evenly(values: Sequence[float], most: int) -> list[float]:
    """At most ``most`` values spread evenly over ``values`` (first and last always kept)."""
    values = list(values)
    if len(values) <= most:
        return values
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]


def tipping_figure(table: pd.DataFrame, arm: str, reference: str, title: str) -> go.Figure:
    """Binary tipping point: p-value for every count of responders among the missing of each arm;
    cells where the conclusion changes are marked. With many missing subjects the heatmap shows at
    most 26 evenly spaced counts per axis (the table keeps every cell)."""
    rows = _evenly(sorted(table["responders_missing_reference"].unique()), MAX_TIPPING_CELLS)
    cols = _evenly(sorted(table["responders_missing_arm"].unique()), MAX_TIPPING_CELLS)
    table = table[
        table["responders_missing_reference"].isin(rows) & table["responders_missing_arm"].isin(cols)
    ]
    grid = table.pivot(
        index="responders_missing_reference", columns="responders_missing_arm", values="p_value"
    )
    change = table.pivot(
        index="responders_missing_reference", columns="responders_missing_arm", values="changes_conclusion"
    )
    text = [
        [("✱ " if change.iloc[i, j] else "") + fmt.p_value(grid.iloc[i, j]) for j in range(grid.shape[1])]
        for i in range(grid.shape[0])
    ]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=grid.columns,
            y=grid.index,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#D55E00"], [0.05, "#E69F00"], [0.2, "#F0E442"], [1, "#F7F7F7"]],
            zmin=0,
            zmax=1,
            colorbar=dict(title="p"),
            hovertemplate=f"responders among {_tpl(arm)}'s missing: %{{x}}<br>"
            f"among {_tpl(reference)}'s missing: %{{y}}<br>p = %{{z:.3f}}<extra></extra>",
        )
    )
    _layout(
        fig,
        title,
        f"Responders among {reference}'s missing subjects",
        f"Responders among {arm}'s missing subjects",
    )
    return fig


def delta_figure(table: pd.DataFrame, title: str, x_title: str, endpoint: Endpoint | None = None,
                 arm: str = "", reference: str = "", endpoint_measure: str = "chg") -> go.Figure:
    """Continuous tipping point: estimate (95% CI) as the missing values are shifted by delta.

    Given the ``endpoint`` and the arms of the contrast, the y axis also says which side favours
    which arm (nothing when the direction is unknown)."""
    fig = _new()
    _ci_band(fig, table["delta"], table["ci_low"], table["ci_high"])
    fig.add_trace(
        go.Scatter(
            x=table["delta"],
            y=table["estimate"],
            mode="lines+markers",
            name="Estimate",
            line=dict(color=PALETTE[0], width=2.5),
            text=[fmt.p_value(p) for p in table["p_value"]],
            hovertemplate="delta %{x:g}<br>estimate %{y:.2f}<br>p = %{text}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line=dict(color="#888888", dash="dash"))
    sides = endpoint if arm and reference else None
    y_title = wording.contrast_axis_title("mean_difference", sides, arm, reference, endpoint_measure)
    return _layout(fig, title, y_title, x_title)


def posterior_figure(results: list, threshold: float, title: str, endpoint: Endpoint | None = None,
                     arm: str = "", reference: str = "") -> go.Figure:
    """Posterior density of the risk difference under each prior, with the threshold of a
    clinically relevant difference.

    The hover's "P(benefit)" and the x axis's direction come from ``endpoint`` (a responder:
    more is better); without an endpoint, or for one whose direction is unknown, the figure
    speaks of a difference only ("P(difference > 0)")."""
    colours = {"sceptical": "#6E6E6E", "neutral": PALETTE[0], "enthusiastic": PALETTE[1]}
    above_zero, above_threshold = wording.benefit_headers(endpoint, 100 * threshold)
    fig = _new()
    for r in results:
        fig.add_trace(
            go.Scatter(
                x=100 * r.grid,
                y=r.density / 100,
                mode="lines",
                name=f"{r.prior_label}",
                line=dict(color=colours.get(r.prior, PALETTE[2]), width=2.5),
                hovertemplate=(
                    f"<b>{r.prior_label}</b><br>{above_zero} = {fmt.pct(r.p_positive)}<br>"
                    f"{above_threshold} = {fmt.pct(r.p_threshold)}<extra></extra>"
                ),
            )
        )
    fig.add_vline(
        x=0,
        line=dict(color="#888888", dash="dash"),
        annotation_text="no difference",
        annotation_position="top left",
    )
    fig.add_vline(
        x=100 * threshold,
        line=dict(color="#009E73", dash="dot"),
        annotation_text="clinically relevant" if endpoint is not None and endpoint.lower_is_better is not None
        else f"{100 * threshold:g} points",
        annotation_position="top right",
    )
    sides = endpoint if arm and reference else None
    return _layout(fig, title, "Posterior density",
                   wording.contrast_axis_title("risk_difference", sides, arm, reference, "aval"))



def ae_dot_figure(by_term: pd.DataFrame, arms: Sequence[str], colours: dict[str, str], title: str,
                  top: int = 15, min_cell: int = 0) -> go.Figure:
    """The most frequent preferred terms as a dot plot (FDA standard safety figure): the percent
    of subjects with the term in each arm (left), and the risk difference with its 95% CI of each
    treatment arm against the reference (right, percentage points).

    ``by_term`` is :func:`respine.analyses.safety.ae_by_term`; the ``top`` terms with the most
    subjects over all arms are drawn, most frequent at the top. A count of 1 to ``min_cell`` - 1
    subjects (or its complement) is not drawn, nor the differences of its term.
    """
    terms = by_term[by_term["level"] == 1] if not by_term.empty else by_term
    total = terms[[f"{a}|count" for a in arms]].sum(axis=1) if not terms.empty else pd.Series(dtype=float)
    terms = terms.assign(_total=total).sort_values(["_total", "term"], ascending=[False, True],
                                                   kind="mergesort").head(top)
    compared = [a for a in arms if f"{a}|rd" in terms.columns]
    reference = next((a for a in arms if a not in compared), "")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.55, 0.45],
                        horizontal_spacing=0.03)
    fig.update_layout(**{k: v for k, v in _base_layout(title).items() if k not in ("xaxis", "yaxis")})
    fig.layout.title.text = _title(title)[0]
    labels = [_t(term) for term in terms["term"]]
    y = list(range(len(terms)))[::-1]
    small = [any(privacy.split_small(int(r[f"{a}|count"]), int(r[f"{a}|n"]), min_cell) for a in arms)
             for _, r in terms.iterrows()]
    shown = terms[[not s for s in small]]
    y_shown = [yy for yy, s in zip(y, small, strict=True) if not s]
    for a in arms:
        hover = [f"<b>{_t(t)}</b> ({_t(s)})<br>{_t(a)}: {fmt.n_pct(int(c), int(n))}" for t, s, c, n in
                 zip(shown["term"], shown["soc"], shown[f"{a}|count"], shown[f"{a}|n"], strict=True)]
        fig.add_trace(go.Scatter(x=shown[f"{a}|pct"], y=y_shown, mode="markers", name=_t(a),
                                 marker=dict(color=colours.get(a, REFERENCE_COLOUR), size=9),
                                 hovertext=hover, hoverinfo="text"), row=1, col=1)
    for i, a in enumerate(compared):
        part = shown.rename(columns={f"{a}|rd": "estimate", f"{a}|rd_low": "ci_low",
                                     f"{a}|rd_high": "ci_high"})
        hover = [f"<b>{_t(t)}</b><br>{_t(a)} vs {_t(reference)}: "
                 f"{fmt.contrast_estimate('risk_difference', e, lo, hi)}" for t, e, lo, hi in
                 zip(part["term"], part["estimate"], part["ci_low"], part["ci_high"], strict=True)]
        # several comparisons side by side: each a little above or below its term's line
        offset = (i - (len(compared) - 1) / 2) * 0.2
        trace = _interval_trace(part, 100.0, [yy + offset for yy in y_shown], hover,
                                dict(color=colours.get(a, PALETTE[0]), size=8, symbol="diamond"))
        fig.add_trace(trace, row=1, col=2)
    fig.add_vline(x=0, line=dict(color="#888888", dash="dash"), row=1, col=2)
    fig.update_yaxes(tickmode="array", tickvals=y, ticktext=labels, showgrid=False, zeroline=False,
                     automargin=True, row=1, col=1)
    fig.update_yaxes(zeroline=False, row=1, col=2)
    fig.update_xaxes(title_text="Subjects with the term (%)", gridcolor=GRID, rangemode="tozero",
                     row=1, col=1)
    fig.update_xaxes(title_text=_t(f"Risk difference vs {reference} (percentage points)"), gridcolor=GRID,
                     row=1, col=2)
    fig.update_layout(height=max(320, 28 * len(terms) + 160), margin=dict(l=60, r=20, t=70, b=50))
    return _suppressed(fig, sum(small), min_cell)


def _rgba(colour: str, alpha: float) -> str:
    """A ``#RRGGBB`` colour with transparency (for a confidence band in the arm's colour)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def km_figure(result: TimeToEvent, colours: dict[str, str], title: str, x_title: str,
              min_cell: int = 0) -> go.Figure:
    """Kaplan-Meier curves of each arm: the step estimate, its pointwise CI as a band of the arm's
    colour and a tick at each censored time.

    In aggregate-only mode (``min_cell`` > 0) an arm of fewer than ``min_cell`` subjects is not
    drawn (its steps would show single subjects' times), and the figure says so; the censoring
    ticks, each one subject's time, are left out.
    """
    fig = _new(hovermode="x unified" if len(result.curves) > 1 else "closest")
    dropped = 0
    for arm, colour in colours.items():
        km = result.curves.get(arm)
        if km is None:
            continue
        if privacy.is_small(km.n, min_cell):
            dropped += 1
            continue
        time = list(km.time)
        fig.add_trace(go.Scatter(x=time, y=list(km.ci_high), mode="lines", line=dict(width=0, shape="hv"),
                                 showlegend=False, hoverinfo="skip", legendgroup=_t(arm)))
        fig.add_trace(go.Scatter(x=time, y=list(km.ci_low), mode="lines", line=dict(width=0, shape="hv"),
                                 fill="tonexty", fillcolor=_rgba(colour, 0.15), showlegend=False,
                                 hoverinfo="skip", legendgroup=_t(arm)))
        fig.add_trace(go.Scatter(
            x=time, y=list(km.survival), mode="lines", name=f"{_t(arm)} (n={km.n})", legendgroup=_t(arm),
            line=dict(color=colour, shape="hv", width=2.5),
            hovertemplate=f"<b>{_tpl(arm)}</b>: %{{y:.3f}} at %{{x:g}}<extra></extra>",
        ))
        censored = km.censored > 0
        if min_cell > 0:
            continue
        fig.add_trace(go.Scatter(
            x=km.time[censored], y=km.survival[censored], mode="markers", showlegend=False,
            legendgroup=_t(arm), marker=dict(symbol="line-ns-open", size=8, color=colour),
            hovertemplate=f"<b>{_tpl(arm)}</b>: censored at %{{x:g}}<extra></extra>",
        ))
    fig.update_yaxes(range=[0, 1.02])
    fig.update_xaxes(rangemode="tozero")
    _suppressed(fig, dropped, min_cell)
    level = next(iter(result.curves.values())).confidence if result.curves else 0.95
    return _layout(fig, title, f"Probability without the event (band: pointwise {100 * level:g}% CI)",
                   x_title)


def screening_figure(screening: Screening, title: str, min_cell: int = 0) -> go.Figure:
    """Subgroup screening: every subgroup's effect against its size, the overall effect as a line,
    and the funnels of what chance alone gives (pointwise: dotted; simultaneous: shaded).

    Subgroups of one covariate are circles, of two covariates diamonds; those outside the
    simultaneous band are drawn in vermillion. Risk differences are in percentage points.
    Subgroups with an arm of fewer than ``min_cell`` subjects (aggregate-only mode) are not drawn.
    """
    import numpy as np

    pp = 100.0 if screening.measure == "risk_difference" else 1.0
    unit = " (percentage points)" if pp == 100.0 else ""
    s = screening.subgroups
    counts = [c for c in s.columns if c.startswith("n ")]
    shown = s[(s[counts] >= min_cell).all(axis=1)] if min_cell else s
    fig = _new(x_title="Subjects in the subgroup", y_title=f"{fmt.contrast_label(screening.measure)}{unit}")
    sizes = np.linspace(max(2.0, float(s["n"].min()) * 0.9), float(screening.n), 200)
    lo_s, hi_s = screening.band(sizes, simultaneous=True)
    fig.add_trace(go.Scatter(x=sizes, y=hi_s * pp, mode="lines", line=dict(width=0), showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=sizes, y=lo_s * pp, mode="lines", fill="tonexty",
                             fillcolor="rgba(110,110,110,0.15)", line=dict(width=0), hoverinfo="skip",
                             name=f"chance alone, every subgroup ({screening.level:.0%}, simultaneous)"))
    lo_p, hi_p = screening.band(sizes)
    for i, y in enumerate((lo_p, hi_p)):
        fig.add_trace(go.Scatter(x=sizes, y=y * pp, mode="lines",
                                 line=dict(color="#6E6E6E", dash="dot", width=1),
                                 hoverinfo="skip", showlegend=i == 0,
                                 name=f"chance alone, one subgroup ({screening.level:.0%}, pointwise)"))
    fig.add_hline(y=screening.overall * pp, line=dict(color="#000000", width=1.5),
                  annotation_text=f"overall {fmt.num(screening.overall * pp, 1)}",
                  annotation_position="top left")
    for depth, symbol, name in ((1, "circle", "one covariate"), (2, "diamond", "two covariates")):
        part = shown[shown["depth"] == depth]
        if part.empty:
            continue
        hover = [
            f"{_tpl(r['subgroup'])}<br>n = {int(r['n'])} ("
            + ", ".join(f"{_tpl(c[2:])} {int(r[c])}" for c in counts)
            + f")<br>effect {fmt.num(r['estimate'] * pp, 1)}; adjusted p = {fmt.p_value(r['p_adjusted'])}"
            for _, r in part.iterrows()
        ]
        colour = [PALETTE[1] if out else PALETTE[0] for out in part["outside_simultaneous"]]
        fig.add_trace(go.Scatter(x=part["n"], y=part["estimate"] * pp, mode="markers",
                                 name=f"subgroup of {name}",
                                 marker=dict(symbol=symbol, size=8, color=colour, opacity=0.8),
                                 hovertext=hover, hoverinfo="text"))
    _layout(fig, title, f"{fmt.contrast_label(screening.measure)}{unit}", "Subjects in the subgroup")
    return _suppressed(fig, len(s) - len(shown), min_cell)
