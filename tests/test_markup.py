"""Markup in data is shown as text: ``fmt.md_escape`` neutralises every Markdown construct that
Streamlit renders, and every page of the app, opened on a study whose labels are Markdown, LaTeX,
directives, shortcodes and HTML, shows those labels escaped (in text, widget labels, radio options,
metrics and figures).

The browser tier (tests/browser/test_browser_markup.py) opens the same hostile study in Chromium
and checks that nothing is fetched, linked or typeset.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from respine.present import fmt
from respine.present.fmt import md_escape
from tests.conftest import REPO
from tests.test_app import assert_healthy

# Every page of the app, as app.py lists them (overview first: it is the default page).
PAGES = (
    "overview", "explorer", "responders", "profile", "subgroups", "trajectories", "mri", "robustness",
    "baseline", "flow", "safety", "missing", "paper", "data", "report", "settings",
)
MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error",
                  "success", "toast")


def hostile_labels(port: int) -> dict[str, str]:
    """Labels that would fetch, link, typeset, colour or iconise if read as Markdown or HTML; the
    images point at ``127.0.0.1:port`` (the browser tier records every request made there)."""
    here = f"http://127.0.0.1:{port}"
    return {
        "arm": f"BM-MSC ![x]({here}/pixel.png) <img src={here}/arm.png>",
        "reference": "Sham [click](https://evil.example/arm) **bold**",
        "visit": "Month 12 $x^2$",
        # (no image in the id: it is also a link parameter)
        "population": "MITT $x^2$ **bold**",
        "population_label": "Modified ITT :red[red] <img src=x onerror=alert(1)>",
        "covariate": "Age [link](https://evil.example/cov) $x^2$",
        "level": f"Male :material/home: :smile: ![c]({here}/level.png)",
        "term": f"Back pain ![ae]({here}/ae.png) <b>bold</b>",
        "title": f"RESPINE ![t]({here}/title.png) :red[red] $x^2$",
    }


def _toml_basic(text: str) -> str:
    """``text`` as the inside of a TOML basic string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def write_hostile_study(folder: Path, port: int = 9) -> tuple[Path, dict[str, str]]:
    """The shipped study (product layout) copied to ``folder``, with arm, visit, population,
    covariate, adverse-event and title labels replaced by :func:`hostile_labels`."""
    labels = hostile_labels(port)
    shutil.copytree(REPO / "data", folder)
    subjects = pd.read_csv(folder / "subjects.csv", dtype=str, keep_default_na=False)
    subjects["arm"] = subjects["arm"].map({"BM-MSC": labels["arm"], "Sham": labels["reference"]})
    subjects["sex"] = subjects["sex"].replace({"Male": labels["level"]})
    subjects.to_csv(folder / "subjects.csv", index=False)
    measurements = pd.read_csv(folder / "measurements.csv", dtype=str, keep_default_na=False)
    measurements["visit"] = measurements["visit"].replace({"Month 12": labels["visit"]})
    measurements.to_csv(folder / "measurements.csv", index=False)
    events = pd.read_csv(folder / "adverse_events.csv", dtype=str, keep_default_na=False)
    events["term"] = events["term"].replace({"Back pain": labels["term"]})
    events.to_csv(folder / "adverse_events.csv", index=False)

    study = (folder / "study.toml").read_text(encoding="utf-8")
    q = {key: _toml_basic(value) for key, value in labels.items()}
    study = re.sub(r'(?m)^title = ".*"$', f'title = "{q["title"]}"', study, count=1)
    # arms everywhere they are named: the order, the reference, the published figures, the generator
    for old, key in (("BM-MSC", "arm"), ("Sham", "reference")):
        for prefix in ("", "rate ", "randomised "):
            study = study.replace(f'"{prefix}{old}"', f'"{prefix}{q[key]}"')
    study = study.replace('label = "Month 12"', f'label = "{q["visit"]}"')
    study = study.replace('id = "MITT"', f'id = "{q["population"]}"')
    study = study.replace('population = "MITT"', f'population = "{q["population"]}"')
    study = study.replace('label = "Modified intention to treat"', f'label = "{q["population_label"]}"')
    study = study.replace('label = "Age"', f'label = "{q["covariate"]}"')
    (folder / "study.toml").write_text(study, encoding="utf-8")
    return folder, labels


# --- md_escape ------------------------------------------------------------------------------------

# Streamlit's own rules (static/js/StreamlitMarkdown.*.js of Streamlit 1.67): the regular
# expressions it applies to an element's source before parsing, and to its text after parsing.
SOURCE_EMOJI = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")  # loads remark-emoji
SOURCE_MATH_ESCAPES = re.compile(  # code spans, fences and escapes are masked before looking for $
    r"(?:(?<=\n)|^) {0,3}(`{3,}|~{3,})[\s\S]*?(?:\n[ \t]*\1|$)|(?<!`)(`+)[^`\n]+\2(?!`)|\\[\\$`]"
)
SOURCE_MATH = (
    re.compile(r"(?<!\$)\$\$+(?!\$)[\s\S]*?\$\$"),
    re.compile(r"(?<!\$)\$(?![\s$])[^$\n]*?[^\s$]\$(?!\d)"),
)
TEXT_REWRITES = (
    re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.I),  # a GFM autolink literal
    re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),  # an e-mail autolink
    re.compile(r":material_(\w+):"),  # a Material icon
    re.compile(r":streamlit:"),  # the Streamlit logo, an <img>
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),  # typographic arrows and signs
)

# (emoji shortcodes are replaced in the text too, but only when SOURCE_EMOJI loads the plugin)
HOSTILE = [
    "![x](http://127.0.0.1:9/pixel.png)",
    "[click](https://evil.example)",
    "<https://evil.example>",
    "https://evil.example www.evil.example a@evil.example HTTP://EVIL.EXAMPLE WWW.EVIL.EXAMPLE",
    "xmpp:a@evil.example mailto:a@evil.example http://127.0.0.1:9/x.png",
    "$x^2$",
    "$$\\frac{a}{b}$$",
    ":red[red]",
    ":red-background[x] :blue-badge[b] :small[s] :color[c]{foreground=red}",
    "**bold** __bold__ *it* _it_ ~~strike~~ `code`",
    "<img src=x onerror=alert(1)>",
    "<b>bold</b> &lt;b&gt; &amp;",
    ":material/home: :material_home: :smile: :+1: :streamlit:",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "# heading",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "2) item",
    "> quote",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Title\n===",
    "Title\n---",
    "***",
    "    indented code",
    "[^1] [ref]\n\n[ref]: https://evil.example",
    "\\*not bold\\* \\\\ back\\slash",
    "line one\r\nline two\rthree",
    "ratio 1:1, 12:30, ITT: all",
    "streamlit: material_home: x",
]


def unescape(text: str) -> str:
    """What a Markdown reader shows for an escaped text: escapes resolved, word joiners invisible."""
    return re.sub(r"\\(.)", r"\1", text.replace(fmt.WORD_JOINER, ""), flags=re.S)


# What Markdown, GFM and Streamlit read: each is backslash-escaped (the brief of the fix lists
# \ ` * _ { } [ ] ( ) # + - . ! | ~ < > $ :, and & for entities).
SPECIAL = "\\`*_{}[]()#+-.!|~<>$:&"


def test_md_escape_escapes_every_markdown_character():
    assert md_escape(SPECIAL).replace(fmt.WORD_JOINER, "") == "".join("\\" + c for c in SPECIAL)
    assert md_escape("Placebo 10 mg, 2/day; 50% (n=3)?") == "Placebo 10 mg, 2/day; 50% \\(n=3\\)?"
    assert md_escape("a\n=== b") == "a\n\\=== b"  # no heading underline


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_shows_the_text_as_written(text):
    escaped = md_escape(text)
    shown = unescape(escaped)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert shown == "\n".join(line.lstrip(" \t") for line in lines)
    # no character is left for Markdown to read: each is escaped
    rest = re.sub(r"\\.", "", escaped, flags=re.S)
    assert not any(c in SPECIAL for c in rest), rest
    # and no line starts with blanks (an indented code block) or "=" (a heading underline)
    assert not re.search(r"(?m)^[ \t=]", escaped)


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("context", ["{}", "{}:", ":{}", "**{}**", "Arms: {} (reference: {})", "{} at {}"])
def test_md_escape_defeats_streamlits_source_and_text_rewrites(text, context):
    """Around static text as the pages put it, escaped data never loads the emoji plugin, never
    forms a formula, an icon, a logo image or an arrow."""
    source = context.format(*[md_escape(text)] * context.count("{}"))
    static = context.replace("{}", "")
    assert not SOURCE_EMOJI.search(source) or SOURCE_EMOJI.search(static)
    assert ":material/" not in source
    masked = SOURCE_MATH_ESCAPES.sub("_", source)
    assert not any(p.search(masked) for p in SOURCE_MATH)
    shown = re.sub(r"\\(.)", r"\1", source, flags=re.S)  # the text nodes after parsing
    for rule in TEXT_REWRITES:
        assert not rule.search(shown), (rule.pattern, shown)


def test_plot_text_escapes_plotly_markup():
    assert fmt.plot_text("<a href='x'>A</a> & <b>") == "&lt;a href='x'&gt;A&lt;/a&gt; &amp; &lt;b&gt;"


# --- the app on a hostile study --------------------------------------------------------------------

# What must never be left unescaped in a Markdown text, once every backslash escape is removed.
RAW = ("![", "](", "<img", "<b>", "$x", ":red[", "**bold**", "[click", "[link", ":material/", ":smile:")


def _unescaped_part(text: str) -> str:
    return re.sub(r"\\.", "", text, flags=re.S)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    return write_hostile_study(tmp_path_factory.mktemp("markup") / "study")


def texts_of(block) -> list[str]:
    """Every Markdown text of a block (``at.main``, ``at.sidebar``): elements, metric labels and
    help, widget labels and help, radio options."""
    out = [str(e.value) for kind in MARKDOWN_KINDS for e in block.get(kind)]
    out += [m.label for m in block.get("metric")] + [m.help or "" for m in block.get("metric")]
    for kind in ("selectbox", "multiselect", "radio", "text_input", "slider", "number_input", "toggle",
                 "checkbox", "button"):
        for w in block.get(kind):
            out += [str(getattr(w, "label", "") or ""), str(getattr(w, "help", "") or "")]
    out += [str(o) for r in block.get("radio") for o in r.options]
    return out


def raw_markup(texts: list[str]) -> list[tuple[str, str]]:
    """(construct, text) for each hostile construct left unescaped in a text."""
    return [(raw, text) for text in texts for raw in RAW if raw in _unescaped_part(text)]


def hostile_app(folder: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("RESPINE_DATA", str(folder))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=90).run()
    assert_healthy(at, "first run")
    return at


def pages_of(at: AppTest) -> Iterator[str]:
    """Open every page in turn (the overview is open already); yield its name once it has run."""
    for name in PAGES:
        if name != "overview":
            at.switch_page(f"app_pages/{name}.py").run()
        assert_healthy(at, name)
        yield name


@pytest.mark.app
def test_every_page_shows_hostile_labels_escaped(hostile, monkeypatch):
    folder, labels = hostile
    at = hostile_app(folder, monkeypatch)
    assert at.session_state["trial"].design.reference_arm == labels["reference"]
    shown: set[str] = set()
    for name in pages_of(at):
        texts = texts_of(at.main)
        assert not raw_markup(texts), (name, raw_markup(texts))
        shown |= {key for key, label in labels.items() if any(md_escape(label) in t for t in texts)}
        for chart in at.main.get("plotly_chart"):
            spec = chart.proto.spec
            for raw in ("<img", "<b>bold", "<a "):
                assert raw not in spec, (name, raw)
    # the labels were on the pages (escaped), so the checks above were not vacuous
    expected = {"arm", "reference", "visit", "population", "population_label", "title", "covariate"}
    assert expected <= shown, shown


@pytest.mark.app
def test_the_sidebar_shows_hostile_labels_escaped(hostile, monkeypatch):
    folder, _ = hostile
    at = hostile_app(folder, monkeypatch)
    # a subgroup filter on the hostile covariate draws its label as a widget label
    filters = next(w for w in at.sidebar.multiselect if w.label == "Subgroup filters")
    filters.set_value(["sex", "age"]).run()
    assert_healthy(at, "filters")
    for name in pages_of(at):
        texts = texts_of(at.sidebar)
        assert not raw_markup(texts), (name, raw_markup(texts))


@pytest.mark.app
def test_hostile_labels_in_tables_and_figures_are_the_data_as_written(hostile, monkeypatch):
    """Tables (plain text) show the labels unchanged; figures carry them entity-escaped."""
    folder, labels = hostile
    at = hostile_app(folder, monkeypatch)
    at.switch_page("app_pages/safety.py").run()
    assert_healthy(at, "safety")
    cells = " ".join(str(d.value.to_dict("records")) for d in at.dataframe)
    assert labels["term"] in cells and labels["arm"] in cells
    at.switch_page("app_pages/subgroups.py").run()
    assert_healthy(at, "subgroups")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    ticks = spec["layout"]["yaxis"]["ticktext"]
    assert any(fmt.plot_text(labels["level"]) in t for t in ticks), ticks
