"""Serve the explorer behind its hosting guard: ``streamlit run serve.py`` (what scripts/start.sh,
the Dockerfile and a hosted deployment run).

``app.py`` is the Streamlit app itself; this launcher wraps it in :class:`respine.ui.guard.HostingGuard`,
an ASGI middleware that filters the websocket messages and HTTP routes a signed-out client may
use. ``streamlit run app.py`` still works for an open local run, but an app that needs a login
refuses to show anything without the guard.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from respine.ui import warmup
from respine.ui.guard import FailClosed, HostingGuard


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    # The runtime has started: compute every page's default view in the background (bounded in
    # time, yielding to readers; respine.ui.warmup), so first readers find them cached.
    warmup.start("app.py")
    yield


app = st.App("app.py", middleware=[Middleware(HostingGuard)], lifespan=lifespan)
# Outermost: while a secrets file exists but cannot be used, an error page instead of the app.
app = FailClosed(app)  # type: ignore[assignment]
