"""Links copied from the app keep working: each link of tests/reference_data/links_golden.json is
opened as a browser would open it, and what the app makes of it must equal what it made when the
golden file was written (the link it writes back, its notes, and what the page shows).

The golden file is written only by ``tests/reference_data/make_links_golden.py`` (see there for
how to re-run it). Regenerate it only for an intended change of what a link shows, never to make
this test pass after a refactor: that is exactly what this test is for.

This module imports nothing from the package but its public names, so it runs unchanged however
the modules behind the app are arranged. The generator imports :func:`open_link` and
:func:`snapshot` from here: what is recorded and what is compared are one definition.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from respine import __version__
from tests.conftest import REPO

pytestmark = pytest.mark.app

GOLDEN = REPO / "tests" / "reference_data" / "links_golden.json"
# Environment variables that would open other data than the shipped data/ folder.
DATA_ENV = ("RESPINE_DATA", "RESPINE_DATA_ROOT")
TIMEOUT = 180  # seconds for one run (an MMRM with Kenward-Roger on a busy 2-core machine)
# Text of a note that a page (not the sidebar) shows for a link value it cannot use.
PAGE_NOTE = re.compile(r"is not available here|the link's value")
HAS_DIGIT = re.compile(r"\d")
WIDGETS = ("selectbox", "radio", "multiselect", "slider", "select_slider", "number_input",
           "text_input", "toggle", "checkbox")


# --- opening a link -------------------------------------------------------------------------------


def split_link(link: str) -> tuple[str, dict[str, str | list[str]]]:
    """``/explorer?ep=ODI&filter=a&filter=b`` -> ``("explorer", {"ep": "ODI", "filter": ["a", "b"]})``.

    Values are as AppTest takes them: one value as text, a repeated parameter as a list."""
    parts = urlsplit(link)
    query = parse_qs(parts.query, keep_blank_values=True)
    return parts.path.strip("/"), {k: v[0] if len(v) == 1 else v for k, v in query.items()}


def open_link(link: str) -> AppTest:
    """A new session that opens ``link``: its first run is on the linked page, with the query.

    A browser that opens ``/<url_path>?...`` asks for the page ``st.navigation`` registered under
    that url path, whose script hash Streamlit computes as ``calc_hash(url_path)``
    (``st.Page._script_hash``). ``AppTest.switch_page`` names a page by its file, and the files
    may move while the url paths may not; so the hash is set from the url path here. A link to
    a page that no longer exists opens the default page, whose title then differs from the golden.
    """
    path, query = split_link(link)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    if path:
        at._page_hash = calc_hash(path)
    return at.run()


# --- what the app made of it ----------------------------------------------------------------------


# The checkout's path, also as Markdown-escaped text (a backslash before any character).
_REPO_PATH = re.compile("".join(r"\\?" + re.escape(c) for c in str(REPO)))


def _normal(text: str) -> str:
    """Text without what belongs to the machine, not to the link: the checkout's path, versions."""
    return (
        _REPO_PATH.sub("<REPO>", str(text))
        .replace(f"respine {__version__}", "respine <version>")
        .replace(f"Streamlit {st.__version__}", "Streamlit <version>")
    )


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return str(value)


def _figure_title(element: Any) -> str | None:
    try:
        spec = json.loads(element.proto.spec)
    except (AttributeError, TypeError, ValueError):
        return None
    title = spec.get("layout", {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return str(title) if title else None


def canonical(at: AppTest) -> dict[str, str | list[str]]:
    """The query the app wrote back to the address bar after the first run: the canonical link."""
    return {k: at.query_params[k] for k in sorted(at.query_params)}


def notes(at: AppTest) -> list[str]:
    """Notes about the link: the sidebar's warnings (the URL codec's notes and the filters'), and
    the captions a page shows for a link value it cannot use."""
    out = [_normal(w.value) for w in at.sidebar.warning]
    out += [_normal(c.value) for c in at.main.caption if PAGE_NOTE.search(c.value)]
    return out


def shown(at: AppTest) -> list[list[str]]:
    """What the page shows, as ``[kind, text]`` items: headings, metrics, the full text of every
    table, figure titles, every text with a number in it, and every widget's value."""
    items: list[list[str]] = []
    for where, block in (("main", at.main), ("sidebar", at.sidebar)):
        for kind in ("title", "header", "subheader"):
            items += [[f"{where} {kind}", _normal(e.value)] for e in getattr(block, kind)]
        for m in block.metric:
            items.append([f"{where} metric", _normal(f"{m.label} = {m.value} (delta {m.delta})")])
        for i, d in enumerate(block.dataframe):
            items.append([f"{where} table {i + 1}", _normal(d.value.to_csv(index=False))])
        for e in block.get("plotly_chart"):
            title = _figure_title(e)
            if title is not None:
                items.append([f"{where} figure title", _normal(title)])
        for kind in ("markdown", "caption", "info", "warning", "error", "success"):
            items += [[f"{where} {kind}", _normal(e.value)] for e in getattr(block, kind)
                      if HAS_DIGIT.search(e.value)]
        for kind in WIDGETS:
            items += [[f"{where} {kind}", _normal(f"{w.label} = {_value_text(w.value)}")]
                      for w in getattr(block, kind)]
    return items


def failures(at: AppTest) -> list[str]:
    """Exceptions, and pages caught by the frame's guard (which logs a bug and says so)."""
    out = [f"exception: {e.value}" for e in at.exception]
    out += [f"error: {e.value}" for e in at.error if "Something went wrong" in e.value]
    return out


def snapshot(at: AppTest) -> dict[str, Any]:
    return {"canonical": canonical(at), "notes": notes(at), "shown": shown(at)}


# --- the test -------------------------------------------------------------------------------------


def _golden() -> list[dict[str, Any]]:
    if not GOLDEN.is_file():
        return []
    return json.loads(GOLDEN.read_text(encoding="utf-8"))["links"]


LINKS = _golden()


def test_the_golden_file_is_there_and_holds_links():
    assert GOLDEN.is_file(), f"{GOLDEN} is missing: run tests/reference_data/make_links_golden.py"
    assert len(LINKS) >= 30, f"{GOLDEN} holds {len(LINKS)} links"
    assert len({g["id"] for g in LINKS}) == len(LINKS), "link ids must be unique"


def _first_difference(golden: list, now: list) -> str:
    """Where two lists of recorded items first differ (or that only their order differs)."""
    order = "the same items in another order; " if sorted(map(str, golden)) == sorted(map(str, now)) else ""
    for i, (g, a) in enumerate(zip(golden, now, strict=False)):
        if g != a:
            return f"{order}item {i + 1}: golden {_describe(g, a)}"
    if len(golden) != len(now):
        i = min(len(golden), len(now))
        extra = golden[i] if len(golden) > i else now[i]
        which = "missing now" if len(golden) > i else "new now"
        return f"{len(golden)} items in the golden file, {len(now)} now; item {i + 1} is {which}: {extra!r}"
    return "no difference"


def _describe(golden: Any, now: Any) -> str:
    """The golden and the current item; for two tables the first line that differs."""
    if (isinstance(golden, list) and isinstance(now, list) and len(golden) == len(now) == 2
            and golden[0] == now[0] and "\n" in golden[1]):
        g_lines, a_lines = golden[1].splitlines(), now[1].splitlines()
        for n, (g, a) in enumerate(zip(g_lines, a_lines, strict=False), start=1):
            if g != a:
                return f"{golden[0]}, line {n}:\n  golden: {g!r}\n  now:    {a!r}"
        return f"{golden[0]}: {len(g_lines)} lines in the golden file, {len(a_lines)} now"
    return f"{golden!r}\n  now:    {now!r}"


@pytest.mark.parametrize("golden", LINKS or [None], ids=[g["id"] for g in LINKS] or ["golden-file-missing"])
def test_a_link_of_today_opens_the_same_view(golden, monkeypatch):
    assert golden is not None, f"{GOLDEN} is missing or empty: run tests/reference_data/make_links_golden.py"
    for name in DATA_ENV:
        monkeypatch.delenv(name, raising=False)
    link = golden["link"]
    at = open_link(link)
    problems = failures(at)
    assert not problems, f"{link}: {problems}"
    now = snapshot(at)
    assert now["canonical"] == golden["canonical"], (
        f"{link}: the link the app writes back differs\n  golden: {golden['canonical']}\n"
        f"  now:    {now['canonical']}"
    )
    assert now["notes"] == golden["notes"], (
        f"{link}: notes differ, {_first_difference(golden['notes'], now['notes'])}"
    )
    assert now["shown"] == golden["shown"], (
        f"{link}: what the page shows differs, {_first_difference(golden['shown'], now['shown'])}"
    )
