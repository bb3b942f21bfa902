"""A minimal Streamlit protocol client for attack tests: raw websocket messages, no browser.

It speaks what Streamlit's frontend speaks: protobuf ``BackMsg`` frames to ``/_stcore/stream``
(the subprotocol header carries ``streamlit``, the XSRF token and an optional session id to
reconnect to), and reads the ``ForwardMsg`` frames back (``new_session`` with the session id,
``delta`` elements, ``script_finished``). Everything it does is bounded in time; it talks to
127.0.0.1 only.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def browser_cookies(base_url: str) -> dict[str, str]:
    """The cookies a browser gets before it opens the websocket (the XSRF cookie)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base_url + "/_stcore/health", timeout=10).read()  # the frontend gets it here
    return {c.name: c.value for c in jar}


def rerun_message(
    query: str = "",
    page: str = "",
    widget_states: Iterable[WidgetState] | None = None,
    *,
    page_script_hash: str = "",
    cached_message_hashes: Iterable[str] = (),
) -> BackMsg:
    """A ``rerun_script`` BackMsg, as the frontend sends it (what ``StreamlitClient.rerun`` sends).

    ``query`` is the query string without ``?``; ``page`` the page's url path (``page_name``: what
    the browser sends for the address it opened); after a click in the navigation the browser
    names the page by ``page_script_hash`` instead. ``cached_message_hashes`` are the hashes of the
    large messages the client keeps (the server then sends only a reference to them).
    """
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    if page_script_hash:
        msg.rerun_script.page_script_hash = page_script_hash
    for state in widget_states or []:
        msg.rerun_script.widget_states.widgets.append(state)
    msg.rerun_script.cached_message_hashes.extend(cached_message_hashes)
    return msg


def drawn_widget_state(element: Any) -> WidgetState | None:
    """The state the frontend stores for a widget when it draws it (``delta.new_element``).

    Streamlit's frontend (1.67) records every drawn widget's value in its widget manager, without
    a rerun, and sends all of them with the next rerun: the value the server set (``set_value``)
    or else the widget's default. A selectbox or radio holds the option's text (``string_value``),
    not its index. None for a widget kind that stores nothing when drawn (buttons) or is not
    covered here, and for a widget with no value (a selectbox without a default).
    """
    kind = element.WhichOneof("type") or ""
    w = getattr(element, kind, None)
    if w is None or not getattr(w, "id", ""):
        return None
    state = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if w.set_value:
            if not w.HasField("raw_value"):
                return None
            state.string_value = w.raw_value
        elif w.HasField("default") and 0 <= w.default < len(w.options):
            state.string_value = w.options[w.default]
        else:
            return None
    elif kind == "multiselect":
        values = list(w.raw_values) if w.set_value else [w.options[i] for i in w.default]
        state.string_array_value.data.extend(values)
    elif kind == "checkbox":  # st.checkbox and st.toggle
        state.bool_value = w.value if w.set_value else w.default
    elif kind == "slider":
        if w.options:  # st.select_slider: the options' texts
            chosen = (list(w.raw_value) if w.set_value and w.raw_value
                      else [w.options[int(i)] for i in w.default])
            state.string_array_value.data.extend(chosen)
        else:
            state.double_array_value.data.extend(w.value if w.set_value else w.default)
    elif kind == "number_input":
        if w.set_value and w.HasField("value"):
            number = w.value
        elif w.HasField("default"):
            number = w.default
        else:
            return None
        if w.data_type == w.INT:
            state.int_value = int(number)
        else:
            state.double_value = number
    elif kind in ("text_input", "text_area"):
        if w.set_value and w.HasField("value"):
            state.string_value = w.value
        elif w.HasField("default"):
            state.string_value = w.default
        else:
            return None
    else:
        return None
    return state


@dataclass
class Element:
    kind: str
    text: str
    widget_id: str = ""
    label: str = ""


@dataclass
class RunResult:
    elements: list[Element] = field(default_factory=list)
    finished: bool = False
    other: list[str] = field(default_factory=list)  # kinds of other ForwardMsgs seen

    def texts(self) -> str:
        return "\n".join(e.text for e in self.elements)

    def widget(self, kind: str, label: str) -> Element:
        return next(e for e in self.elements if e.kind == kind and e.label == label)


def _element(msg: ForwardMsg) -> Element | None:
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None
    el = msg.delta.new_element
    kind = el.WhichOneof("type") or ""
    inner = getattr(el, kind)
    text = ""
    for name in ("body", "label", "value", "title"):
        if hasattr(inner, name) and isinstance(getattr(inner, name), str):
            text = getattr(inner, name)
            if text:
                break
    return Element(kind, text, getattr(inner, "id", ""), getattr(inner, "label", ""))


class StreamlitClient:
    """One websocket session. ``cookies`` makes it a given browser (None: a client with none)."""

    def __init__(
        self,
        base_url: str,
        cookies: dict[str, str] | None = None,
        session_id: str | None = None,
        headers: dict[str, str] | None = None,
        page: str = "",
        query: str = "",
    ) -> None:
        self.base_url = base_url
        self.page = page
        self.query = query
        self.session_id: str | None = None
        host = urlsplit(base_url).netloc
        cookies = cookies or {}
        xsrf = cookies.get("_streamlit_xsrf", "")
        # Entries: the protocol, the XSRF token (any token when the client has no cookie: it only
        # guards the sign-in cookie) and, to reconnect, a session id.
        protocols = ["streamlit", xsrf or "none"] + ([session_id] if session_id else [])
        extra = {"Origin": base_url, **(headers or {})}
        if cookies:
            extra["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self._connection = connect(f"ws://{host}/_stcore/stream", additional_headers=extra,
                                   open_timeout=10, max_size=2**26,
                                   subprotocols=protocols)  # type: ignore[arg-type]
        self.ws = self._connection.__enter__()
        self.widgets: dict[str, Element] = {}

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def __enter__(self) -> StreamlitClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def send_kind(self, kind: str) -> None:
        """Send a BackMsg of one of the simple kinds (``clear_cache``, ``load_git_info``, ...)."""
        msg = BackMsg()
        if kind in ("clear_cache", "load_git_info", "stop_script", "app_heartbeat",
                    "debug_disconnect_websocket", "debug_shutdown_runtime"):
            setattr(msg, kind, True)
        elif kind == "set_run_on_save":
            msg.set_run_on_save = True
        elif kind == "file_urls_request":
            msg.file_urls_request.request_id = "attack"
            msg.file_urls_request.file_names.append("measurements.csv")
            msg.file_urls_request.session_id = self.session_id or ""
        elif kind.startswith("backend_operation_request"):
            op = kind.partition(":")[2] or "dataframe_chunk"
            msg.backend_operation_request.request_id = "attack"
            msg.backend_operation_request.session_id = self.session_id or ""
            getattr(msg.backend_operation_request, op).SetInParent()
        else:
            raise ValueError(kind)
        self.send(msg)

    def rerun(self, widget_states: list[WidgetState] | None = None, timeout: float = 120) -> RunResult:
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_name = self.page
        for state in widget_states or []:
            msg.rerun_script.widget_states.widgets.append(state)
        self.send(msg)
        return self.read_run(timeout)

    def read_run(self, timeout: float = 120) -> RunResult:
        """Read messages until the script run finishes (or ``timeout``)."""
        result = RunResult()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "script_finished":
                result.finished = True
                return result
            element = _element(msg)
            if element is not None:
                result.elements.append(element)
                if element.widget_id:
                    self.widgets[element.label] = element
            elif kind:
                result.other.append(kind)
        return result

    def others_within(self, seconds: float) -> list[str]:
        """The kinds of messages the server sends within ``seconds`` (nothing asked for). Call it
        once before sending what is tested, to drain the status message that follows a run."""
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            except (TimeoutError, ConnectionClosed):
                break
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            seen.append(msg.WhichOneof("type") or "")
        return seen

    def submit_password(self, password: str) -> RunResult:
        """Fill the password form and press its button, as the browser would."""
        field_ = self.widgets["Password"]
        button = next(e for e in self.widgets.values() if e.kind == "button")
        text = WidgetState(id=field_.widget_id, string_value=password)
        press = WidgetState(id=button.widget_id, trigger_value=True)
        result = self.rerun([text, press])
        # the gate reruns the script after a right password: read that run too
        if "Wrong password" not in result.texts() and "Too many" not in result.texts():
            return self.read_run()
        return result
