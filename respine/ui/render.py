"""Rendering helpers: tables with downloads, errors as messages, the synthetic-data banner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from respine import schema as S
from respine.errors import AnalysisError, RespineError


@contextmanager
def explained() -> Iterator[None]:
    """Run a block; a domain error becomes a message in place of the block, never a traceback."""
    try:
        yield
    except AnalysisError as exc:
        st.warning(str(exc), icon=":material/info:")
    except RespineError as exc:
        st.error(str(exc), icon=":material/error:")


def table(frame: pd.DataFrame, name: str, key: str) -> None:
    """Show a built table and offer it as CSV (the same table, not a re-computation)."""
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button("Download CSV", frame.to_csv(index=False).encode("utf-8"),
                       file_name=f"{name}.csv", mime="text/csv", key=f"dl_{key}",
                       icon=":material/download:")


def figure(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


def synthetic_banner(trial: S.Trial) -> None:
    if trial.synthetic:
        st.warning("**Synthetic data.** These are not the RESPINE patients: this is a seeded "
                   "synthetic twin built to reproduce the published results "
                   "(Pers et al., Ann Rheum Dis 2024). Everything else in it is assumed; see "
                   "data/README.md.", icon=":material/science:")


def notes(messages: list[str] | tuple[str, ...]) -> None:
    for m in messages:
        st.caption(f"Note: {m}")
