"""Figure factories: each takes results and returns a plotly Figure (no Streamlit here).

One arm-colour mapping, from the Okabe-Ito palette (distinguishable with the common forms of
colour-vision deficiency), is used by every figure, so an arm has the same colour on every page.

References
----------
.. [1] Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that
   are friendly to colorblind people. 2008. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from respine import fmt
from respine.analysis import AnalysisResult

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


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str = "") -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), font=FONT,
                      template="plotly_white", margin=dict(l=60, r=20, t=60, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
                      hovermode="closest", height=420)
    fig.update_yaxes(title_text=y_title, zeroline=True, zerolinecolor="#BBBBBB")
    fig.update_xaxes(title_text=x_title)
    return fig


def over_time_figure(frame: pd.DataFrame, colours: dict[str, str], title: str, y_title: str,
                     percent: bool = False) -> go.Figure:
    """Mean (or rate) with 95% CI by arm across visits; hover shows n and CI.

    Arms are dodged slightly along the x axis so their error bars do not overlap.
    """
    fig = go.Figure()
    arms = [a for a in colours if a in set(frame["arm"])]
    visits = sorted(frame["visit_month"].unique())
    labels = frame.drop_duplicates("visit_month").set_index("visit_month")["visit"]
    step = 0.08 * (max(visits) - min(visits) if len(visits) > 1 else 1) / max(len(arms), 1)
    scale = 100.0 if percent else 1.0
    for i, arm in enumerate(arms):
        d = frame[frame["arm"] == arm].sort_values("visit_month")
        x = d["visit_month"] + (i - (len(arms) - 1) / 2) * step
        y = d["estimate"] * scale
        hover = [f"<b>{arm}</b><br>{v}<br>n = {int(n)}<br>"
                 f"{fmt.num(e * scale)}{'%' if percent else ''} "
                 f"[95% CI {fmt.num(lo * scale)} to {fmt.num(hi * scale)}]"
                 for v, n, e, lo, hi in zip(d["visit"], d["n"], d["estimate"], d["ci_low"],
                                            d["ci_high"], strict=True)]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines+markers", name=arm, line=dict(color=colours[arm], width=2.5),
            marker=dict(size=8, symbol=["circle", "square", "diamond", "triangle-up"][i % 4]),
            error_y=dict(type="data", symmetric=False, array=(d["ci_high"] - d["estimate"]) * scale,
                         arrayminus=(d["estimate"] - d["ci_low"]) * scale, thickness=1.5, width=4),
            hovertext=hover, hoverinfo="text", customdata=d["n"]))
    fig.update_xaxes(tickmode="array", tickvals=visits, ticktext=[labels[v] for v in visits])
    return _layout(fig, title, y_title + (" (%)" if percent else ""))


def rate_figure(result: AnalysisResult, colours: dict[str, str]) -> go.Figure:
    """Responder rates by arm with Wilson 95% CIs at one visit; hover shows k/n and CI."""
    fig = go.Figure()
    for s in result.arms:
        fig.add_trace(go.Bar(
            x=[s.arm], y=[100 * s.rate], name=s.arm, marker_color=colours.get(s.arm, PALETTE[0]),
            error_y=dict(type="data", symmetric=False, array=[100 * (s.ci_high - s.rate)],
                         arrayminus=[100 * (s.rate - s.ci_low)], thickness=1.5, width=8),
            text=[fmt.pct(s.rate)], textposition="inside",
            hovertext=[f"<b>{s.arm}</b><br>{fmt.n_pct(s.responders, s.n)}<br>"
                       f"95% CI {fmt.pct(s.ci_low)} to {fmt.pct(s.ci_high)}"],
            hoverinfo="text"))
    fig.update_yaxes(range=[0, 100])
    fig.update_layout(showlegend=False, bargap=0.5)
    return _layout(fig, f"{result.endpoint_label} at {result.visit_label}", "Responders (%)")


def distribution_figure(values: pd.DataFrame, column: str, colours: dict[str, str], title: str,
                        y_title: str) -> go.Figure:
    """Box plot with every subject's value as a point, by arm, at one visit."""
    fig = go.Figure()
    for arm, colour in colours.items():
        d = values[values["arm"] == arm]
        if d.empty:
            continue
        fig.add_trace(go.Box(y=d[column], name=f"{arm} (n={len(d)})", marker_color=colour,
                             boxpoints="all", jitter=0.4, pointpos=0, boxmean=True,
                             hovertext=d["subject_id"], hoverinfo="y+text"))
    fig.update_layout(showlegend=False)
    return _layout(fig, title, y_title)
