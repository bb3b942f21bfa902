"""Every declared view parameter (respine.model.params) reaches the link, the command line and the
analysis selection with no code of its own: each test here is parametrised over ``PARAMS``, so a
parameter declared tomorrow is covered without a new test."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from respine import urlstate
from respine.cli import build_parser, view_from_args
from respine.model.params import KINDS, PARAMS, SOURCES, Options, Param, ViewState, to_selection
from respine.model.rules import ResponderRule
from respine.model.selection import Selection, SubgroupFilter
from respine.ui import state

IDS = [p.name for p in PARAMS]


@pytest.fixture(scope="module")
def options(trial) -> Options:
    """What the app allows for the shipped trial (the app's own ``options_for``)."""
    return state.options_for(trial)


def other_value(p: Param, options: Options) -> Any:
    """A value of ``p`` that the trial allows and that is not its default."""
    allowed = p.allowed(options) or ()
    if p.kind == "number":
        lo, hi = p.bounds or (0.0, 1.0)
        # links write numbers with 6 significant digits ("{:g}"): a value they can hold
        return next(v for v in (float(f"{lo + (hi - lo) / 3:.4g}"), lo, hi) if v != p.default)
    if p.kind in ("choice", "visit"):
        assert allowed, f"{p.name}: no allowed values"
        return next(v for v in allowed if v not in (p.default, getattr(options.default, p.name)))
    if p.kind == "names":
        return tuple(allowed[:2])
    if p.kind == "filters":
        return (SubgroupFilter(allowed[0], ("x", "y")), SubgroupFilter(allowed[1], (), 1.0, 2.0))
    raise AssertionError(f"no sample value for kind {p.kind}")


def bad_text(p: Param) -> str:
    """Link text of ``p`` that no study allows."""
    return {"choice": "no-such-value", "visit": "999", "number": "1e999", "names": "no_such_column",
            "filters": "no_such_column=1"}[p.kind]


def test_declarations_are_consistent():
    assert len({p.url for p in PARAMS}) == len(PARAMS), "one URL key per parameter"
    assert not any(p.url.startswith(urlstate.OPTION_PREFIX) for p in PARAMS), "o_ keys are page options"
    assert {p.kind for p in PARAMS} <= set(KINDS)
    option_fields = {f.name for f in fields(Options)}
    for p in PARAMS:
        assert p.label and p.url, p.name
        if isinstance(p.choices, str):
            assert p.choices in SOURCES and p.choices in option_fields, p.name
        elif isinstance(p.choices, tuple):
            assert p.default in p.choices, f"{p.name}: default not among its choices"
        if p.bounds is not None:
            assert p.bounds[0] <= p.default <= p.bounds[1], p.name
    # A flag shared by parameters fills one selection field, each for another kind of endpoint.
    for flag in {p.cli for p in PARAMS if p.cli}:
        sharing = [p for p in PARAMS if p.cli == flag]
        if len(sharing) > 1:
            assert len({p.to for p in sharing}) == 1 and "any" not in {p.endpoints for p in sharing}
            assert len({p.endpoints for p in sharing}) == len(sharing), flag


def test_every_selection_field_is_filled_by_a_declared_parameter():
    """The selection has no field a reader cannot set (except the rule's absolute ODI criterion,
    which no control offers: the published rule has none)."""
    targets = {p.to for p in PARAMS}
    for f in fields(Selection):
        if f.name == "rule":
            rule_fields = {g.name for g in fields(ResponderRule)} - {"odi_points"}
            assert {f"rule.{g}" for g in rule_fields} <= targets
        else:
            assert f.name in targets, f"Selection.{f.name} has no declared view parameter"


def test_every_kind_has_a_url_codec():
    assert set(KINDS) <= set(urlstate._ENCODE) and set(KINDS) <= urlstate.KINDS_READ


@pytest.mark.parametrize("p", PARAMS, ids=IDS)
def test_a_parameter_round_trips_the_link(p, options):
    value = other_value(p, options)
    view = replace(options.default, **{p.name: value})
    link = urlstate.encode(view, options.default)
    assert list(link) == [p.url], "only the non-default value is written, under its key"
    assert urlstate.decode(link, options) == (view, [])
    assert urlstate.encode(options.default, options.default) == {}


@pytest.mark.parametrize("p", PARAMS, ids=IDS)
def test_an_unusable_link_value_falls_back_with_a_note(p, options):
    decoded, notes = urlstate.decode({p.url: bad_text(p)}, options)
    assert getattr(decoded, p.name) == getattr(options.default, p.name)
    assert len(notes) == 1 and ("no-such-value" in notes[0] or "999" in notes[0]
                                or "1e999" in notes[0] or "no_such_column" in notes[0]), notes
    too_long = urlstate.decode({p.url: "1" * (urlstate.MAX_PARAM_LENGTH + 1)}, options)
    assert getattr(too_long[0], p.name) == getattr(options.default, p.name) and too_long[1]


@pytest.mark.parametrize("p", PARAMS, ids=IDS)
def test_a_parameter_is_a_command_line_option(p, options, trial):
    """``respine analyze`` offers the flag, and the flag's text (the link's) sets the parameter:
    what a page shows can be checked from a script."""
    assert p.cli, f"{p.name} has no command-line flag"
    analyze = build_parser()._subparsers._group_actions[0].choices["analyze"]  # type: ignore[union-attr]
    assert p.cli in analyze._option_string_actions
    value = other_value(p, options)
    link = urlstate.encode(replace(ViewState(), **{p.name: value}))[p.url]
    texts = link if isinstance(link, list) else [link]
    required = {"endpoint": ["--endpoint", "VAS"], "visit": ["--visit", "12"]}
    argv = ["analyze", *(x for name, pair in required.items() if name != p.name for x in pair)]
    for text in texts:
        argv += [p.cli, text]
    view = view_from_args(build_parser().parse_args(argv), trial)
    assert getattr(view, p.name) == value
    only_required = ["analyze", *(x for pair in required.values() for x in pair)]
    defaults = view_from_args(build_parser().parse_args(only_required), trial)
    if p.name not in required:
        assert getattr(defaults, p.name) == p.default, "an absent flag leaves the view's default"


def _at(selection: Selection, path: str) -> Any:
    head, _, leaf = path.partition(".")
    value = getattr(selection, head)
    return getattr(value, leaf) if leaf else value


@pytest.mark.parametrize("p", PARAMS, ids=IDS)
@pytest.mark.parametrize("kind", ["continuous", "binary"])
def test_a_parameter_reaches_the_selection(p, kind, options):
    value = other_value(p, options)
    sel = to_selection(replace(ViewState(), **{p.name: value}), kind)
    base = to_selection(ViewState(), kind)
    if p.endpoints in ("any", kind):
        assert _at(sel, p.to) == value
    else:
        assert sel == base, f"{p.name} is for {p.endpoints} endpoints only"
    default_value = _at(base, p.to)
    if p.endpoints in ("any", kind):
        expected = None if p.empty_is_none and p.default == "" else p.default
        assert default_value == expected


def test_the_default_view_asks_for_the_default_selection():
    """The declared defaults are the analysis defaults (the primary responder rule, the MCIDs)."""
    for kind in ("continuous", "binary"):
        assert to_selection(ViewState(), kind) == Selection(endpoint="VAS")



WITH_CHOICES = [p for p in PARAMS if p.choices is not None]


@pytest.mark.parametrize("p", WITH_CHOICES, ids=[p.name for p in WITH_CHOICES])
def test_the_app_offers_a_parameter_its_declared_choices(p, trial, options):
    """``state.choices`` (what a page's control offers) is the declaration's list or the trial's."""
    assert state.choices(p.name, trial) == p.allowed(options)
    if isinstance(p.choices, tuple):
        assert state.choices(p.name) == p.choices
    else:
        with pytest.raises(ValueError, match="pass the trial"):
            state.choices(p.name)


def test_the_rule_is_filled_by_its_declared_parameters():
    from respine.model.params import filling

    rule = filling("rule")
    assert set(rule) == {"vas_pct", "vas_mm", "vas_join", "odi_pct", "join"}
    defaults = ViewState()
    moved = replace(defaults, vas_pct=50.0, join="AND", mcid_vas=3.0)
    reset = replace(moved, **{n: getattr(defaults, n) for n in rule})
    assert to_selection(reset, "binary").rule == ResponderRule() and reset.mcid_vas == 3.0


@pytest.mark.app
def test_state_reset_puts_declared_defaults_back_and_forgets_the_widgets():
    from streamlit.testing.v1 import AppTest

    def script():
        from dataclasses import replace

        import streamlit as st

        from respine.model.params import ViewState, filling
        from respine.ui import state

        if "view" not in st.session_state:
            st.session_state["view"] = replace(ViewState(), vas_pct=50.0, join="AND", mcid_vas=3.0)
            st.session_state["w_vas_pct"] = 50.0
            st.session_state["w_join_0badc0de"] = "AND"
        else:
            state.reset(*filling("rule"))

    at = AppTest.from_function(script).run()
    assert at.session_state["view"].vas_pct == 50.0
    at.run()
    view = at.session_state["view"]
    assert (view.vas_pct, view.join, view.mcid_vas) == (20.0, "OR", 3.0)
    assert "w_vas_pct" not in at.session_state and "w_join_0badc0de" not in at.session_state


def test_the_mmrm_choices_are_the_ones_the_analysis_knows():
    """The declared choices of the MMRM settings (links, CLI, the explorer's selectboxes) and the
    catalogues the analysis validates against and labels with are one list."""
    from respine.analyses import repeated
    from respine.model import params

    assert params.BY_NAME["covariance"].choices == tuple(repeated.COVARIANCES)
    assert params.BY_NAME["df_method"].choices == tuple(repeated.DF_METHODS)


def test_a_set_of_names_is_joined_by_its_declared_separator(options):
    """Pooled arms read as a sum ("A+B"), the other sets as lists ("A,B"); a name holding the other
    separator is one name (an arm called "A,B" can be pooled)."""
    names = [p for p in PARAMS if p.kind == "names"]
    assert {p.name: p.sep for p in names}["pool"] == "+"
    for p in names:
        allowed = p.allowed(options) or ()
        if len(allowed) < 2:
            continue
        value = tuple(allowed[:2])
        link = urlstate.encode(replace(options.default, **{p.name: value}), options.default)
        assert link[p.url] == p.sep.join(value)
        other = "+" if p.sep == "," else ","
        decoded, notes = urlstate.decode({p.url: other.join(value)}, options)
        assert getattr(decoded, p.name) == () and len(notes) == 1, notes
