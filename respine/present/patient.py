"""Figures of one subject: every measurement over time by endpoint, and the adverse events on a
timeline (no Streamlit here). Texts from the data are escaped as every figure's are
(:func:`respine.present.fmt.plot_text`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from respine.analyses import listings as L
from respine.present import figures, fmt

_t = fmt.plot_text
ROW_HEIGHT = 190  # pixels per endpoint panel
SEVERITY_COLOURS = {"MILD": "#56B4E9", "MODERATE": "#E69F00", "SEVERE": "#D55E00",
                    "LIFE-THREATENING": "#CC79A7", "FATAL": "#000000"}


def measurements_figure(measurements: pd.DataFrame, endpoints: Sequence[str], colour: str,
                        title: str) -> go.Figure:
    """One panel per endpoint (in the order given), value by visit; derived records (LOCF, ...)
    as open markers beside the observed ones, so a reader sees what was measured.

    Parameters
    ----------
    measurements : DataFrame
        :attr:`respine.analyses.listings.PatientProfile.measurements`.
    endpoints : sequence of str
        Endpoint ids to draw, one panel each.
    colour : str
        The subject's arm colour.
    title : str
        The figure's title (names the subject).
    """
    endpoints = [e for e in endpoints if (measurements[L.ENDPOINT_ID] == e).any()] if len(
        measurements) else []
    rows = max(len(endpoints), 1)
    labels = [str(measurements.loc[measurements[L.ENDPOINT_ID] == e, L.ENDPOINT_LABEL].iloc[0])
              for e in endpoints]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.3 / rows),
                        subplot_titles=[_t(label) for label in labels] or [""])
    legend_done: set[str] = set()
    for i, endpoint in enumerate(endpoints, start=1):
        d = measurements[measurements[L.ENDPOINT_ID] == endpoint]
        for record, part in d.groupby(L.RECORD, sort=False):
            observed = record == L.OBSERVED_TEXT
            fig.add_trace(go.Scatter(
                x=part[L.VISIT_NUMBER], y=part[L.VALUE_LABEL], name=_t(record),
                legendgroup=str(record), showlegend=str(record) not in legend_done,
                mode="lines+markers" if observed else "markers",
                line=dict(color=colour, width=2),
                marker=dict(size=8 if observed else 10, color=colour if observed else "white",
                            line=dict(color=colour, width=2),
                            symbol="circle" if observed else "diamond-open"),
                text=[_t(v) for v in part[L.VISIT_LABEL]],
                hovertemplate="%{text}: %{y}<extra>" + figures._tpl(record) + "</extra>",
            ), row=i, col=1)
            legend_done.add(str(record))
    visits = measurements.drop_duplicates(L.VISIT_NUMBER).sort_values(L.VISIT_NUMBER)
    fig.update_xaxes(tickmode="array", tickvals=visits[L.VISIT_NUMBER].tolist(),
                     ticktext=[_t(v) for v in visits[L.VISIT_LABEL]], gridcolor=figures.GRID,
                     linecolor="#BBBBBB")
    fig.update_yaxes(gridcolor=figures.GRID, linecolor="#BBBBBB", zeroline=False)
    fig.update_layout(title=dict(text=_t(title), x=0, xanchor="left"), font=figures.FONT, template="none",
                      paper_bgcolor="white", plot_bgcolor="white", height=120 + ROW_HEIGHT * rows,
                      margin=dict(l=60, r=20, t=80, b=50), hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"))
    if not endpoints:
        fig.add_annotation(text="No measurement of this subject.", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    return fig


def adverse_event_figure(events: pd.DataFrame, title: str, term: str = "term",
                         severity: str = "severity", serious: str = "serious") -> go.Figure:
    """The subject's adverse events on a timeline: one row per event (its term), a marker at the
    onset study day, coloured by severity, a diamond for a serious event. Columns the data lack
    are left out of the drawing (an event without an onset day is listed, not drawn)."""
    fig = figures._new(title, "", "Study day of onset", height=160 + 28 * max(len(events), 1),
                       margin=dict(l=260, r=20, t=60, b=50))
    if events.empty or L.ONSET_DAY not in events.columns:
        fig.add_annotation(text="No adverse event with an onset day." if not events.empty
                           else "No adverse event recorded.", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        return fig
    drawn = events.dropna(subset=[L.ONSET_DAY]).reset_index(drop=True)
    names = [f"{i + 1}. {row.get(term, 'event')}" for i, (_, row) in enumerate(drawn.iterrows())]
    levels = drawn[severity].astype(str) if severity in drawn.columns else pd.Series("", index=drawn.index)
    is_serious = (drawn[serious].astype(str).str.upper().isin(["Y", "YES", "TRUE", "1"])
                  if serious in drawn.columns else pd.Series(False, index=drawn.index))
    for level in dict.fromkeys(levels):
        rows = levels == level
        fig.add_trace(go.Scatter(
            x=drawn.loc[rows, L.ONSET_DAY], y=[_t(n) for n, r in zip(names, rows, strict=True) if r],
            mode="markers", name=_t(level or "severity not recorded"),
            marker=dict(size=13, color=SEVERITY_COLOURS.get(level.upper(), figures.REFERENCE_COLOUR),
                        symbol=["diamond" if s else "circle" for s in is_serious[rows]],
                        line=dict(color="#333333", width=1)),
            hovertemplate="%{y}<br>day %{x}<extra>" + figures._tpl(level) + "</extra>",
        ))
    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array",
                     categoryarray=[_t(n) for n in names])
    if is_serious.any():
        fig.add_annotation(text="◆ serious", showarrow=False, x=1, y=1.08, xref="paper", yref="paper",
                           xanchor="right")
    return fig
