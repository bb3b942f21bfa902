"""The floor: a bare Streamlit page that the benchmark measures the app against.

One plotly figure, one 20-row table (st.dataframe) and two widgets: a selectbox and a slider
that change the figure and the table. No data loading, no caching, no statistics; whatever
time this page takes is the cost of Streamlit, plotly and the browser themselves, so the app's
times are reported as multiples of it (bench/README.md).
"""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

SERIES = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa", "Lambda"]

st.title("Floor")
series = st.selectbox("Series", SERIES)
shift = st.slider("Shift", min_value=0.0, max_value=100.0, value=20.0, step=5.0, format="%.0f")

seed = SERIES.index(series)
rng = np.random.default_rng(seed)
months = [0, 1, 3, 6, 12, 24]
fig = go.Figure()
for arm in ("A", "B"):
    y = rng.normal(50, 10, len(months)) + shift
    fig.add_trace(go.Scatter(x=months, y=y, mode="lines+markers", name=arm,
                             error_y={"type": "data", "array": np.full(len(months), 5.0)}))
fig.update_layout(title=f"{series}: mean by arm (shift {shift:g})", xaxis_title="Month",
                  yaxis_title="Value", height=380)
st.plotly_chart(fig, width="stretch", key="floor_chart")

table = pd.DataFrame({
    "row": range(1, 21),
    "series": series,
    "value": rng.normal(50, 10, 20).round(2) + shift,
    "label": [f"{series}-{i}" for i in range(20)],
})
st.dataframe(table, hide_index=True, width="stretch")
