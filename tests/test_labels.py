"""Direction-of-benefit labels come from the endpoint registry, and a modified responder rule is
never called primary (issue 13).

Every assertion is on a produced object (a figure's layout, a table's columns, a result, the
command line's output), in both directions: a lower-is-better endpoint (VAS), a higher-is-better
one (SF-36 PCS), a binary responder endpoint (more is better) and endpoints whose direction is
unknown (anti-HLA antibodies; an endpoint the registry does not know), which must show no
"favours" and no "benefit" at all.
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import pandas as pd
import pytest

from respine import ResponderRule, Selection, analyze
from respine.analyses import robustness
from respine.analyses.subgroups import subgroup_analysis
from respine.cli import main
from respine.model.endpoints import Endpoint, endpoint_for
from respine.model.labels import (
    endpoint_label,
    favoured_arm,
    positive_favours_arm,
    rule_modified,
)
from respine.model.rules import PRIMARY_RULE
from respine.present import figures, labels, report, tables

TREAT, REF = "BM-MSC", "Sham"
MODIFIED = ResponderRule(vas_pct=30.0)
# An endpoint whose event is bad (fewer is better), to see the binary wording turn round.
ADVERSE = Endpoint("AE", "Any adverse event", "", "binary", True)
UNKNOWN = endpoint_for("NOT_IN_THE_REGISTRY")  # the generic entry: direction unknown


def _x_title(fig) -> str:
    return fig.layout.xaxis.title.text or ""


def _all_text(fig) -> str:
    """Every text a figure can show: its layout (titles, annotations) and its traces (hovers)."""
    return fig.to_json()


def _frame(contrast: str, estimate: float) -> pd.DataFrame:
    """A two-row subgroup frame as :func:`subgroup_analysis` returns it."""
    rows = [{"variable": "Overall", "level": "All subjects", f"n {TREAT}": 50, f"n {REF}": 50,
             "estimate": estimate, "ci_low": estimate - 1, "ci_high": estimate + 1,
             "p_interaction": math.nan, "p_interaction_holm": math.nan, "measure": contrast,
             "note": ""},
            {"variable": "Sex", "level": "Female", f"n {TREAT}": 25, f"n {REF}": 25,
             "estimate": estimate, "ci_low": estimate - 2, "ci_high": estimate + 2,
             "p_interaction": 0.5, "p_interaction_holm": 0.5, "measure": contrast, "note": ""}]
    return pd.DataFrame(rows)


# --- the direction, in the core -------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "measure", "expected"), [
    ("VAS", "chg", False), ("VAS", "aval", False), ("VAS", "pchg", False), ("ODI", "chg", False),
    ("VAS", "mean_difference", False), ("VAS", "improvement", True),
    ("SF36PCS", "chg", True), ("SF36PCS", "pchg", True), ("MRIT2", "aval", True),
    ("RESP", "risk_difference", True), ("RESP", "odds_ratio", True), ("MCID_VAS", "aval", True),
    ("HLA1", "risk_difference", None), ("DSA", "odds_ratio", None),
])
def test_which_arm_a_positive_contrast_favours_comes_from_the_registry(trial, endpoint, measure, expected):
    assert positive_favours_arm(trial.endpoint(endpoint), measure) is expected


def test_favoured_arm_names_each_side(trial):
    assert favoured_arm(trial.endpoint("VAS"), TREAT, REF, positive=True) == REF
    assert favoured_arm(trial.endpoint("VAS"), TREAT, REF, positive=False) == TREAT
    assert favoured_arm(trial.endpoint("SF36PCS"), TREAT, REF, positive=True) == TREAT
    assert favoured_arm(trial.endpoint("SF36PCS"), TREAT, REF, positive=False) == REF
    assert favoured_arm(ADVERSE, TREAT, REF, positive=True, measure="risk_difference") == REF
    assert favoured_arm(trial.endpoint("HLA2"), TREAT, REF, positive=True) is None
    assert favoured_arm(UNKNOWN, TREAT, REF, positive=False) is None


def test_an_undeclared_measure_has_no_direction(trial):
    with pytest.raises(ValueError, match="not known"):
        positive_favours_arm(trial.endpoint("VAS"), "hazard_ratio")


# --- the forest plot ------------------------------------------------------------------------------


def test_forest_of_a_lower_is_better_endpoint_puts_the_treatment_on_the_left(trial):
    """VAS change: a negative difference (BM-MSC minus Sham) favours BM-MSC. The arm named on the
    side where the overall estimate lies is the arm whose mean change is lower (better)."""
    sel = Selection("VAS", 12)
    frame = subgroup_analysis(trial, sel, ("sex",))
    fig = figures.forest_figure(frame, TREAT, REF, "VAS", endpoint=trial.endpoint("VAS"), measure="chg")
    assert _x_title(fig) == "Difference in means: favours BM-MSC ← → favours Sham"
    result = analyze(trial, sel)
    means = {a.arm: a.mean for a in result.arms}
    better = min(means, key=means.get)  # lower change of pain is better
    estimate = frame["estimate"].iloc[0]
    left, right = _x_title(fig).split(": ", 1)[1].split(" ← → ")
    shown = left if estimate < 0 else right
    assert shown == f"favours {better}"


def test_forest_of_a_higher_is_better_endpoint_puts_the_treatment_on_the_right(trial):
    sel = Selection("SF36PCS", 12)
    frame = subgroup_analysis(trial, sel, ("sex",))
    fig = figures.forest_figure(frame, TREAT, REF, "PCS", endpoint=trial.endpoint("SF36PCS"), measure="chg")
    assert _x_title(fig) == "Difference in means: favours Sham ← → favours BM-MSC"
    means = {a.arm: a.mean for a in analyze(trial, sel).arms}
    better = max(means, key=means.get)  # a higher change of physical function is better
    left, right = _x_title(fig).split(": ", 1)[1].split(" ← → ")
    assert (right if frame["estimate"].iloc[0] > 0 else left) == f"favours {better}"


@pytest.mark.parametrize("contrast", ["risk_difference", "odds_ratio"])
def test_forest_of_a_responder_endpoint_favours_the_arm_with_more_responders(trial, contrast):
    frame = subgroup_analysis(trial, Selection("RESP", 12, measure="aval"), ("sex",), binary_measure=contrast)
    fig = figures.forest_figure(frame, TREAT, REF, "RESP", endpoint=trial.endpoint("RESP"), measure="aval")
    assert _x_title(fig).endswith(": favours Sham ← → favours BM-MSC")
    assert fig.layout.xaxis.type == ("log" if contrast == "odds_ratio" else None)


@pytest.mark.parametrize("endpoint", ["HLA1", "unknown", "none"])
def test_forest_without_a_known_direction_says_difference_only(trial, endpoint):
    endpoint = {"HLA1": trial.endpoint("HLA1"), "unknown": UNKNOWN, "none": None}[endpoint]
    fig = figures.forest_figure(_frame("risk_difference", 0.1), TREAT, REF, "t", endpoint=endpoint,
                                measure="aval")
    assert _x_title(fig) == "Risk difference (percentage points)"
    assert "favour" not in _all_text(fig) and "benefit" not in _all_text(fig)


def test_forest_of_a_binary_endpoint_whose_event_is_bad_turns_round():
    fig = figures.forest_figure(_frame("odds_ratio", 1.5), TREAT, REF, "t", endpoint=ADVERSE, measure="aval")
    assert _x_title(fig) == "Odds ratio: favours BM-MSC ← → favours Sham"


# --- the other figures and tables that speak of a direction ---------------------------------------


def _strategies(estimate: float) -> pd.DataFrame:
    return pd.DataFrame({"label": ["Complete cases", "BOCF"], "estimate": [estimate, estimate / 2],
                         "ci_low": [estimate - 3, -1.0], "ci_high": [estimate + 3, 1.0],
                         "p_value": [0.2, 0.5]})


def test_estimates_figure_direction(trial):
    vas = figures.estimates_figure(_strategies(-4.0), "mean_difference", "t", endpoint=trial.endpoint("VAS"),
                                   arm=TREAT, reference=REF)
    pcs = figures.estimates_figure(_strategies(4.0), "mean_difference", "t",
                                   endpoint=trial.endpoint("SF36PCS"), arm=TREAT, reference=REF)
    resp = figures.estimates_figure(_strategies(0.1), "risk_difference", "t", endpoint=trial.endpoint("RESP"),
                                    arm=TREAT, reference=REF, endpoint_measure="aval")
    hla = figures.estimates_figure(_strategies(0.1), "risk_difference", "t", endpoint=trial.endpoint("HLA1"),
                                   arm=TREAT, reference=REF, endpoint_measure="aval")
    assert _x_title(vas) == "Difference in means: favours BM-MSC ← → favours Sham"
    assert _x_title(pcs) == "Difference in means: favours Sham ← → favours BM-MSC"
    assert _x_title(resp) == "Risk difference (percentage points): favours Sham ← → favours BM-MSC"
    assert _x_title(hla) == "Risk difference (percentage points)"
    assert "favour" not in _all_text(figures.estimates_figure(_strategies(1.0), "mean_difference", "t"))


def test_delta_figure_direction(trial):
    table = pd.DataFrame({"delta": [0.0, 5.0], "estimate": [-3.0, 1.0], "ci_low": [-6.0, -2.0],
                          "ci_high": [0.0, 4.0], "p_value": [0.05, 0.5]})
    y = figures.delta_figure(table, "t", "delta", endpoint=trial.endpoint("ODI"), arm=TREAT, reference=REF)
    assert y.layout.yaxis.title.text == "Difference in means: favours BM-MSC ← → favours Sham"
    y = figures.delta_figure(table, "t", "delta", endpoint=trial.endpoint("SF36MCS"), arm=TREAT,
                             reference=REF)
    assert y.layout.yaxis.title.text == "Difference in means: favours Sham ← → favours BM-MSC"
    y = figures.delta_figure(table, "t", "delta", endpoint=UNKNOWN, arm=TREAT, reference=REF)
    assert y.layout.yaxis.title.text == "Difference in means"


@pytest.fixture(scope="module")
def posteriors(trial):
    return robustness.bayes_reading(trial, Selection("RESP", 12, measure="aval"), 0.15)


def test_bayesian_reading_speaks_of_benefit_only_where_the_direction_is_known(trial, posteriors):
    resp = tables.bayes_display(posteriors, trial.endpoint("RESP"))
    assert {"P(any benefit)", "P(benefit > 15 points)"} <= set(resp.columns)
    harm = tables.bayes_display(posteriors, ADVERSE)
    assert {"P(any harm)", "P(harm > 15 points)"} <= set(harm.columns)
    for unknown in (tables.bayes_display(posteriors, trial.endpoint("DSA")),
                    tables.bayes_display(posteriors)):
        assert {"P(difference > 0)", "P(difference > 15 points)"} <= set(unknown.columns)
        assert not any("benefit" in c or "harm" in c for c in unknown.columns)
    # the numbers are the same whatever the words
    assert list(resp["P(any benefit)"]) == list(harm["P(any harm)"])


def test_posterior_figure_direction(trial, posteriors):
    resp = figures.posterior_figure(posteriors, 0.15, "t", endpoint=trial.endpoint("RESP"), arm=TREAT,
                                    reference=REF)
    assert _x_title(resp) == "Risk difference (percentage points): favours Sham ← → favours BM-MSC"
    assert "P(any benefit)" in _all_text(resp)
    hla = figures.posterior_figure(posteriors, 0.15, "t", endpoint=trial.endpoint("HLA1"), arm=TREAT,
                                   reference=REF)
    assert "favour" not in _all_text(hla) and "benefit" not in _all_text(hla)
    assert "clinically relevant" not in _all_text(hla)


def test_direction_note(trial):
    assert labels.direction_note(trial.endpoint("VAS"), TREAT, REF, "mean_difference") == (
        "Lower values are better: a negative difference favours BM-MSC.")
    assert labels.direction_note(trial.endpoint("SF36PCS"), TREAT, REF, "mean_difference") == (
        "Higher values are better: a positive difference favours BM-MSC.")
    assert labels.direction_note(trial.endpoint("RESP"), TREAT, REF, "odds_ratio", "aval") == (
        "A higher rate is better: a ratio above one favours BM-MSC.")
    assert labels.direction_note(trial.endpoint("HLA1"), TREAT, REF, "risk_difference", "aval") == ""


# --- the responder rule's name --------------------------------------------------------------------


def test_the_primary_rule_keeps_todays_label_and_a_modified_rule_is_named_modified(trial):
    resp = trial.endpoint("RESP")
    assert endpoint_label(resp, PRIMARY_RULE) == "Responder (primary rule)"
    assert endpoint_label(resp, ResponderRule()) == "Responder (primary rule)"
    label = endpoint_label(resp, MODIFIED)
    assert "primary" not in label.lower()
    assert label == f"Responder (modified rule: {MODIFIED.describe()})"
    assert "30%" in label
    assert rule_modified(resp, MODIFIED) and not rule_modified(resp, PRIMARY_RULE)
    # an endpoint no responder rule defines is not renamed, and no rule is "modified" for it
    for other in ("VAS", "MCID_VAS", "HLA1"):
        assert endpoint_label(trial.endpoint(other), MODIFIED) == trial.endpoint(other).label
        assert not rule_modified(trial.endpoint(other), MODIFIED)


def test_a_declared_label_without_the_qualifier_gets_it(trial):
    pain = Endpoint("PR", "Pain responder", "", "binary", False, trial.endpoint("RESP").derivation)
    assert endpoint_label(pain) == "Pain responder (primary rule)"
    assert endpoint_label(pain, MODIFIED).startswith("Pain responder (modified rule: ")


def test_analyze_names_a_modified_rule_in_its_result_and_figures(trial):
    result = analyze(trial, Selection("RESP", 12, measure="aval", rule=MODIFIED))
    for text in (result.endpoint_label, result.methods_text,
                 figures.rate_figure(result, figures.arm_colours([TREAT, REF], REF)).layout.title.text):
        assert "primary" not in text.lower() and "modified rule" in text
    assert result.to_dict()["rule_modified"] is True
    primary = analyze(trial, Selection("RESP", 12, measure="aval"))
    assert primary.endpoint_label == "Responder (primary rule)"
    assert primary.to_dict()["rule_modified"] is False


def test_robustness_tables_name_a_modified_rule(trial):
    sel = Selection("RESP", 12, measure="aval", rule=MODIFIED)
    family = robustness.multiplicity_over_endpoints(trial, sel)
    names = set(family["endpoint"])
    assert not any("primary rule" in n for n in names)
    assert endpoint_label(trial.endpoint("RESP"), MODIFIED) in names
    sens = robustness.sensitivity(trial, sel, 5, 1)
    assert not any("primary rule" in t for t in sens["methods_text"])
    assert any("modified rule" in t for t in sens["methods_text"])


def _cli(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


def test_the_command_line_names_a_modified_rule():
    data = json.loads(_cli("analyze", "--endpoint", "RESP", "--visit", "12", "--vas-pct", "30",
                           "--format", "json"))
    assert data["rule_modified"] is True and data["endpoint"] == "RESP"
    assert data["endpoint_label"].startswith("Responder (modified rule: ")
    assert "primary" not in json.dumps(data).lower()
    text = _cli("analyze", "--endpoint", "RESP", "--visit", "12", "--vas-pct", "30", "--format", "text")
    assert "primary rule" not in text and text.startswith("Responder (modified rule: ")
    data = json.loads(_cli("analyze", "--endpoint", "RESP", "--visit", "12", "--format", "json"))
    assert data["rule_modified"] is False and data["endpoint_label"] == "Responder (primary rule)"
    assert data["lower_is_better"] is False
    vas = json.loads(_cli("analyze", "--endpoint", "VAS", "--visit", "12", "--format", "json"))
    assert vas["lower_is_better"] is True and vas["rule_modified"] is False
    hla = json.loads(_cli("analyze", "--endpoint", "HLA1", "--visit", "6", "--format", "json"))
    assert hla["lower_is_better"] is None


def test_the_report_titles_use_the_result_label(trial):
    items = report.static_report(trial)
    primary = [i.title for i in items if i.title.startswith("Primary analysis")]
    assert primary == ["Primary analysis: Responder (primary rule), Month 12"]
    mcid = [i for i in items if i.title.startswith("MCID achieved, VAS")]
    title = json.loads(mcid[0].blocks[0][1])["layout"]["title"]["text"]
    assert title == "MCID achieved, VAS by visit"


# --- the pages ------------------------------------------------------------------------------------


def _page_texts(at) -> list[str]:
    """Every text a page shows (headings, tables, figure titles and axes, captions, notes,
    widget values and the options of its pickers)."""
    from tests.test_links_compat import shown

    out = [text for _, text in shown(at)]
    for e in at.get("plotly_chart"):
        out.append(e.proto.spec)  # the whole figure: titles, axis titles, hovers, annotations
    out += [c.value for c in at.caption] + [m.value for m in at.markdown]
    for box in at.selectbox:
        out += [str(o) for o in box.options]
    return out


@pytest.mark.app
@pytest.mark.parametrize("link", [
    "/responders?vas_pct=30&visit=6",
    "/explorer?ep=RESP&vas_pct=30&odi_pct=25",
    "/subgroups?ep=RESP&vas_mm=30&o_subgroup_vars=sex",
    "/robustness?ep=RESP&vas_pct=30&visit=6&o_mult_family=endpoints",
])
def test_no_page_calls_a_modified_rule_primary(link):
    from tests.test_links_compat import failures, open_link

    at = open_link(link)
    assert not failures(at)
    texts = _page_texts(at)
    assert not [t for t in texts if "primary rule" in t.replace("\\", "")], link
    assert any("modified rule" in t for t in texts), link


@pytest.mark.app
def test_the_subgroup_page_says_which_side_favours_the_treatment():
    from tests.test_links_compat import open_link

    vas = open_link("/subgroups?ep=VAS&o_subgroup_vars=sex")
    spec = json.loads(vas.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "Difference in means: favours BM-MSC ← → favours Sham"
    assert any("a negative difference favours BM" in c.value for c in vas.caption)
    pcs = open_link("/subgroups?ep=SF36PCS&o_subgroup_vars=sex")
    spec = json.loads(pcs.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "Difference in means: favours Sham ← → favours BM-MSC"


@pytest.mark.parametrize(("lower_is_better", "favoured"), [(False, "BM-MSC"), (True, "Sham"), (None, "")])
def test_tipping_point_names_the_favoured_arm_from_the_declared_direction(trial, lower_is_better, favoured):
    """At alpha 0.20 three cells of the RESP tipping grid are significant with more BM-MSC
    responders (tests/test_imputation.py). Declared as a good event they favour BM-MSC; declared
    as a bad one, Sham; with no declared direction, no arm."""
    from dataclasses import replace

    from respine.analyses.imputation import tipping_point

    info = dict(trial.design.endpoint_info)
    info["RESP"] = replace(trial.endpoint("RESP"), lower_is_better=lower_is_better)
    turned = replace(trial, design=replace(trial.design, endpoint_info=info))
    table = tipping_point(turned, "RESP", 12.0, "MITT", alpha=0.20)
    significant = table[table["significant"]]
    assert len(significant) == 3 and (significant["risk_difference"] > 0).all()
    assert set(significant["favours"]) == {favoured}
    assert set(table.loc[~table["significant"], "favours"]) == {""}


def test_improvement_side_of_a_single_subjects_change(trial):
    assert labels.improvement_side(trial.endpoint("VAS"), "pchg") == "below zero"
    assert labels.improvement_side(trial.endpoint("SF36PCS"), "pchg") == "above zero"
    assert labels.improvement_side(trial.endpoint("VAS"), "improvement") == "above zero"
    assert labels.improvement_side(UNKNOWN, "pchg") == "" and labels.improvement_side(None) == ""


def test_benefit_word(trial):
    assert labels.benefit_word(trial.endpoint("RESP")) == "benefit"
    assert labels.benefit_word(ADVERSE) == "harm"
    assert labels.benefit_word(trial.endpoint("HLA2")) == "difference" == labels.benefit_word(None)


@pytest.mark.parametrize(("endpoint", "visit", "note"), [
    ("VAS", "12", "Lower values are better: a negative difference favours BM-MSC."),
    ("SF36PCS", "12", "Higher values are better: a positive difference favours BM-MSC."),
    ("RESP", "12", "A higher rate is better: a positive difference favours BM-MSC."),
    ("HLA1", "6", None),
])
def test_the_comparison_says_which_side_favours_the_treatment(trial, endpoint, visit, note):
    measure = "chg" if trial.endpoint(endpoint).kind == "continuous" else "aval"
    result = analyze(trial, Selection(endpoint, float(visit), measure=measure))
    assert labels.result_direction_note(trial.endpoint(endpoint), result) == (note or "")
    text = _cli("analyze", "--endpoint", endpoint, "--visit", visit, "--format", "text")
    if note:
        assert note in text
    else:
        assert "favour" not in text and "better" not in text


def test_a_long_title_is_wrapped_not_cut(trial):
    result = analyze(trial, Selection("RESP", 12, measure="aval",
                                      rule=ResponderRule(30, 25, "OR", 15, 0.0, "AND")))
    fig = figures.rate_figure(result, figures.arm_colours([TREAT, REF], REF))
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) > 1 and all(len(line) <= figures.TITLE_LINE + 10 for line in lines)
    assert " ".join(lines).replace("&gt;", ">") == f"{result.endpoint_label} at Month 12"
    assert fig.layout.margin.t > 60
    short = figures.rate_figure(analyze(trial, Selection("RESP", 12, measure="aval")), {})
    assert short.layout.title.text == "Responder (primary rule) at Month 12" and short.layout.margin.t == 60


def test_error_messages_name_a_modified_rule(trial):
    from respine.analyses.subgroups import subgroup_analysis
    from respine.errors import AnalysisError

    sel = Selection("RESP", 0.0, measure="aval", rule=MODIFIED)  # no responder status at baseline
    for run in (lambda: analyze(trial, sel), lambda: subgroup_analysis(trial, sel, ("sex",))):
        with pytest.raises(AnalysisError) as caught:
            run()
        message = str(caught.value)
        assert message.startswith("Responder (modified rule: ") and "primary" not in message
