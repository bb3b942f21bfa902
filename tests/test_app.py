"""App tier: every page renders under AppTest with no exception, widgets change what is shown,
and a URL seeds the view."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from respine import load_trial
from tests.conftest import REPO

ALL_PAGES = sorted(f"app_pages/{p.name}" for p in (REPO / "app_pages").glob("*.py"))

pytestmark = pytest.mark.app
PAGES = ("app_pages/overview.py", "app_pages/explorer.py", "app_pages/responders.py")


def new_app(**query: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def assert_healthy(at: AppTest, where: str = "") -> None:
    """No exception, and no page caught by the frame's guard (which logs a bug and says so)."""
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not any("Something went wrong" in e.value for e in at.error), (where, [e.value for e in at.error])


def each_page(at: AppTest, *, from_overview: bool = True) -> Iterator[str]:
    """Open, in turn, every page the navigation of the session's study offers, and yield each
    page file after its run. ``from_overview``: the session stands on the overview (where the app
    opens), which is then not reopened."""
    from respine.ui import pages

    for page in ALL_PAGES:
        if not pages.by_file(page).shown(at.session_state["trial"]):
            continue  # a page this study's navigation does not offer (no data for it)
        if not (from_overview and page == "app_pages/overview.py"):
            at.switch_page(page).run()
        yield page


def open_page(page: str, **query: str) -> AppTest:
    at = new_app(**query).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert_healthy(at, page)
    return at


def widget(elements, label):
    return next(w for w in elements if w.label == label)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(d.value.to_dict("records")) for d in at.dataframe]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_the_frame_with_synthetic_banner(page):
    at = open_page(page)
    assert not at.error
    assert len(at.dataframe) >= 2
    assert at.title[0].value
    assert any("Synthetic data" in w.value for w in at.warning)
    assert widget(at.sidebar.selectbox, "Population").value == "MITT"


def test_overview_shows_the_primary_result():
    at = open_page(PAGES[0])
    metrics = {m.label.replace("\\", ""): m.value for m in at.metric}  # labels are Markdown-escaped
    assert metrics == {"BM-MSC responders": "74%", "Sham responders": "69%", "p-value": "0.77"}
    check = at.dataframe[1].value
    assert check["matches"].all() and len(check) == 5


def test_explorer_widgets_change_the_comparison():
    at = open_page(PAGES[1])
    before = at.dataframe[1].value.to_dict("records")
    assert "VAS" in widget(at.selectbox, "Endpoint").value
    widget(at.selectbox, "Endpoint").set_value("ODI").run()
    assert not at.exception
    after = at.dataframe[1].value.to_dict("records")
    assert after != before
    widget(at.selectbox, "Method").set_value("ancova").run()
    assert "ANCOVA" in at.dataframe[2].value["Test"].iloc[0]
    assert "LS mean [95% CI]" in at.dataframe[1].value.columns
    widget(at.selectbox, "Visit for the comparison").set_value(6.0).run()
    assert "Comparison at Month 6" in [s.value for s in at.subheader]
    assert at.query_params["ep"] == "ODI" and at.query_params["visit"] == "6"
    assert at.query_params["method"] == "ancova"


def test_explorer_binary_endpoint_and_visit_fallback():
    at = open_page(PAGES[1], ep="MRIT2", visit="24")
    # visit 24 exists in the study but MRI has only baseline and month 12: falls back, no error
    assert widget(at.selectbox, "Visit for the comparison").value in (0.0, 12.0)
    widget(at.selectbox, "Endpoint").set_value("HLA1").run()
    assert not at.exception
    assert "Responders / n" in at.dataframe[1].value.columns


def test_url_seeds_the_view():
    at = open_page(PAGES[1], ep="SF36PCS", visit="3", measure="aval", pop="PP")
    assert widget(at.selectbox, "Endpoint").value == "SF36PCS"
    assert widget(at.selectbox, "Visit for the comparison").value == 3.0
    assert widget(at.selectbox, "Measure").value == "aval"
    assert widget(at.sidebar.selectbox, "Population").value == "PP"
    assert "Comparison at Month 3" in [s.value for s in at.subheader]


def test_absurd_url_falls_back_with_visible_notes():
    at = open_page(PAGES[1], ep="NOPE", visit="999", pop="<script>x</script>", vas_mm="-3", zz="1")
    notes = [w.value for w in at.sidebar.warning]
    assert len(notes) == 5, notes
    assert widget(at.sidebar.selectbox, "Population").value == "MITT"
    assert widget(at.selectbox, "Endpoint").value == "VAS"
    assert not at.error and not at.exception


def test_population_and_filters_change_every_page_and_empty_subgroup_is_explained():
    pp = open_page(PAGES[2], pop="PP")
    n_pp = pp.dataframe[0].value["Responders / n"].tolist()
    assert n_pp != ["37/50 (74.0%)", "34/49 (69.4%)"]  # PP is a subset of MITT

    at = open_page(PAGES[2])
    widget(at.sidebar.selectbox, "Population").set_value("PP").run()
    assert at.dataframe[0].value["Responders / n"].tolist() == n_pp
    widget(at.sidebar.multiselect, "Subgroup filters").set_value(["sex"]).run()
    widget(at.sidebar.multiselect, "Sex").set_value(["Female"]).run()
    assert "in PP" in at.sidebar.info[0].value
    women = at.dataframe[0].value["Responders / n"].tolist()
    assert women != n_pp
    assert at.query_params["filter"] in ("sex=Female", ["sex=Female"]) and at.query_params["pop"] == "PP"
    assert (
        open_page(PAGES[2], pop="PP", filter="sex=Female").dataframe[0].value["Responders / n"].tolist()
        == women
    )
    widget(at.sidebar.multiselect, "Sex").set_value([]).run()
    assert any("No subject matches" in e.value for e in at.sidebar.error)
    assert not at.exception
    assert any("No subject in population PP" in w.value for w in at.warning)


def test_responder_rule_controls_change_rates_and_reset():
    at = open_page(PAGES[2])
    primary = at.dataframe[0].value["Responders / n"].tolist()
    assert primary == ["37/50 (74.0%)", "34/49 (69.4%)"]
    widget(at.slider, "VAS improvement at least (mm)").set_value(40.0).run()
    changed = at.dataframe[0].value["Responders / n"].tolist()
    assert changed != primary
    assert any("differs from the primary" in i.value for i in at.info)
    widget(at.radio, "A responder meets").set_value("AND").run()
    assert at.dataframe[0].value["Responders / n"].tolist() != changed
    widget(at.button, "Reset to the primary rule").click().run()
    assert at.dataframe[0].value["Responders / n"].tolist() == primary
    # the widgets show the primary rule again, not only the numbers
    assert widget(at.slider, "VAS improvement at least (mm)").value == 20.0
    assert widget(at.radio, "A responder meets").value == "OR"


def test_mcid_thresholds_change_rates():
    at = open_page(PAGES[2])
    label = "MCID achieved, VAS, Month 12"
    assert any(label in m.value for m in at.markdown)
    before = texts(at)
    widget(at.number_input, "VAS MCID (mm)").set_value(40.0).run()
    assert texts(at) != before and not at.exception


def test_view_survives_page_switches():
    at = open_page(PAGES[1])
    widget(at.selectbox, "Visit for the comparison").set_value(24.0).run()
    at.switch_page(PAGES[2]).run()
    assert widget(at.selectbox, "Visit").value == 24.0
    at.switch_page(PAGES[1]).run()
    assert widget(at.selectbox, "Visit for the comparison").value == 24.0


@pytest.mark.parametrize("column", ["subject_id", "status", "pop_pp", "arm"])
def test_link_filter_on_a_column_that_is_not_a_declared_covariate_is_refused(column):
    """An attack: a link that filters on the subject id picks named patients, and differencing two
    such selections gives one patient's value. Only declared covariates may filter."""
    ids = "|".join(load_trial(REPO / "data").subjects["subject_id"].head(5))
    value = {"subject_id": ids, "status": "Completed", "pop_pp": "Y", "arm": "Sham"}[column]
    at = open_page(PAGES[2], filter=f"{column}={value}")
    assert at.session_state["view"].filters == ()
    notes = [w.value.replace("\\", "") for w in at.sidebar.warning]  # notes are Markdown-escaped
    assert any(f"'{column}' is not a declared subject covariate" in n for n in notes)
    assert at.dataframe[0].value["Responders / n"].tolist() == ["37/50 (74.0%)", "34/49 (69.4%)"]
    assert "filter" not in at.query_params
    offered = next(m for m in at.sidebar.multiselect if m.label == "Subgroup filters").options
    assert column not in offered


def test_adjusted_binary_methods_with_covariates_from_the_link():
    at = open_page(PAGES[1], ep="RESP", bmethod="cmh", cov="country")
    contrasts = at.dataframe[2].value
    assert contrasts["Test"].str.contains("Mantel-Haenszel").all() and len(contrasts) == 3  # RD: Sato, MN
    ms = next(m for m in at.multiselect if m.label.startswith("Adjust for"))
    assert ms.value == ["country"]
    ms.set_value(["country", "sex"]).run()
    assert at.query_params["cov"] == "country,sex"
    widget(at.selectbox, "Method").set_value("logistic").run()
    assert at.dataframe[2].value["Measure"].tolist() == ["Odds ratio"]
    widget(at.selectbox, "Method").set_value("fisher").run()
    assert "Fisher" in at.dataframe[2].value["Test"].iloc[0]


def test_mann_whitney_in_the_explorer():
    at = open_page(PAGES[1], ep="VAS", method="mann_whitney")
    row = at.dataframe[2].value.iloc[0]
    assert row["Measure"] == "Location shift (Hodges-Lehmann)" and "Mann-Whitney" in row["Test"]


def test_mmrm_in_the_explorer_and_over_time():
    at = open_page(PAGES[1], ep="VAS", method="mmrm", covstruct="cs")
    row = at.dataframe[2].value.iloc[0]
    assert "MMRM (compound symmetry" in row["Test"]
    assert "LS mean [95% CI]" in at.dataframe[1].value.columns
    widget(at.selectbox, "Degrees of freedom").set_value("kenward-roger").run()
    assert "Kenward-Roger" in at.dataframe[2].value.iloc[0]["Test"]
    assert at.query_params["df"] == "kenward-roger" and at.query_params["covstruct"] == "cs"
    widget(at.selectbox, "Visit for the comparison").set_value(0.0).run()
    assert any("post\\-baseline" in w.value for w in at.warning)  # data text is Markdown-escaped
    traj = open_page("app_pages/trajectories.py", ep="ODI")
    widget(traj.radio, "Means").set_value("mmrm").run()
    assert "Baseline" not in traj.dataframe[0].value["Visit"].tolist() and not traj.exception


# Regressions found by the browser tier


def test_link_range_outside_the_data_is_clamped_not_a_crash():
    at = open_page(PAGES[1], filter="age=200..300")
    assert any("limited to the data" in w.value for w in at.sidebar.warning)


def test_link_text_is_never_rendered_as_markdown():
    at = open_page(PAGES[1], pop="[Session expired, log in](https://evil.example/login)")
    note = next(w.value for w in at.sidebar.warning if "evil" in w.value)
    assert "\\[Session expired" in note and "\\(https" in note  # escaped: shown as text, not a link


def test_unknown_filter_level_is_named():
    at = open_page(PAGES[2], filter="sex=Nope")
    assert any(
        "Nope is not a value in the data" in w.value and "ignored" in w.value for w in at.sidebar.warning
    )
    assert at.dataframe[0].value["Responders / n"].tolist() == ["37/50 (74.0%)", "34/49 (69.4%)"]
    mixed = open_page(PAGES[2], filter="sex=Nope|Female")
    assert mixed.session_state["view"].filters[0].values == ("Female",)


def test_choices_survive_pages_that_do_not_offer_them():
    at = open_page(PAGES[1], ep="ODI")
    widget(at.selectbox, "Method").set_value("ancova").run()
    at.switch_page(PAGES[2]).run()  # responders: binary tests only
    assert at.query_params["method"] == "ancova"
    at.switch_page(PAGES[1]).run()
    assert widget(at.selectbox, "Method").value == "ancova"
    fresh = open_page(PAGES[1])
    assert "method" not in fresh.query_params and "bmethod" not in fresh.query_params  # defaults stay out


def test_visit_fallback_is_said_and_the_link_keeps_the_choice():
    at = open_page(PAGES[1], ep="MRIT2", visit="1")
    assert any("Month 1 is not available here" in c.value for c in at.caption)
    assert at.query_params["visit"] == "1"


def test_page_options_travel_in_the_link():
    at = open_page(
        "app_pages/subgroups.py",
        ep="RESP",
        o_subgroup_vars="sex|age",
        o_cut_age="40",
        o_subgroup_measure="odds_ratio",
    )
    table = at.dataframe[0].value
    assert "Odds ratio [95% CI]" in table.columns
    assert table["Subgroup"].tolist() == [
        "Overall",
        "Sex: Female",
        "Sex: Male",
        "Age: ≤ 40 years",
        "Age: > 40 years",
    ]
    widget(at.radio, "Effect measure").set_value("risk_difference").run()
    assert "o_subgroup_measure" not in at.query_params  # back to the default: left out of the link
    assert at.query_params["o_subgroup_vars"] == "sex|age" and at.query_params["o_cut_age"] == "40"
    bad = open_page("app_pages/trajectories.py", o_traj_mode="nonsense")
    assert any("link's value is not available" in c.value for c in bad.caption)
    assert widget(bad.radio, "Means").value == "observed"


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_figure_keys_follow_what_the_figures_draw():
    """Figure keys are derived from the results drawn: the two distributions of one loop are two
    figures, and the population (part of the results' inputs) changes them and changes them back."""
    at = open_page("app_pages/mri.py")
    mitt = _charts(at)
    assert [c["layout"]["title"]["text"] for c in mitt[:2]] == [
        "T2 at Month 12", "Change in T2, baseline to Month 12"]
    assert mitt[0]["data"] != mitt[1]["data"]
    widget(at.sidebar.selectbox, "Population").set_value("PP").run()
    assert [c["data"] for c in _charts(at)] != [c["data"] for c in mitt]
    widget(at.sidebar.selectbox, "Population").set_value("MITT").run()
    assert [c["data"] for c in _charts(at)] == [c["data"] for c in mitt]
