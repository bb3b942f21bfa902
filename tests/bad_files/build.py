"""Write the corpus of bad data folders the loader must survive (run from the repository root:
``.venv/bin/python tests/bad_files/build.py``). Each case is a folder; ``cases.toml`` says what
the loader must report. The folders are committed; this script documents how they were made."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "data"

STUDY = (DATA / "study.toml").read_text(encoding="utf-8")
SUBJECTS = pd.read_csv(DATA / "subjects.csv", keep_default_na=False).head(20)
IDS = set(SUBJECTS["subject_id"])
MEAS = pd.read_csv(DATA / "measurements.csv", keep_default_na=False)
MEAS = MEAS[MEAS["subject_id"].isin(IDS)]
AE = pd.read_csv(DATA / "adverse_events.csv", keep_default_na=False)
AE = AE[AE["subject_id"].isin(IDS)]

LONG = pd.DataFrame(
    {
        "patient": ["P1", "P1", "P2", "P2", "P3", "P3", "P4", "P4"],
        "group": ["Active", "Active", "Placebo", "Placebo", "Active", "Active", "Placebo", "Placebo"],
        "visit": ["Baseline", "Week 4"] * 4,
        "param": ["PAIN"] * 8,
        "result": [60, 40, 62, 55, 70, 45, 58, 52],
    }
)
MAPPING = (
    '[mapping]\ntable = "trial.csv"\nsubject = "patient"\narm = "group"\nvisit = "visit"\n'
    'endpoint = "param"\nvalue = "result"\n'
)


def product(name: str, subjects=SUBJECTS, meas=MEAS, study=STUDY, ae=AE, raw: dict | None = None) -> None:
    folder = HERE / name
    folder.mkdir()
    (folder / "study.toml").write_text(study, encoding="utf-8")
    for fname, frame in (("subjects.csv", subjects), ("measurements.csv", meas), ("adverse_events.csv", ae)):
        if raw and fname in raw:
            (folder / fname).write_bytes(raw[fname])
        elif frame is not None:
            frame.to_csv(folder / fname, index=False)


def table(
    name: str,
    frame: pd.DataFrame | None = None,
    raw: bytes | None = None,
    mapping: str | None = MAPPING,
    fname: str = "trial.csv",
) -> None:
    folder = HERE / name
    folder.mkdir()
    if raw is not None:
        (folder / fname).write_bytes(raw)
    else:
        assert frame is not None
        frame.to_csv(folder / fname, index=False)
    if mapping is not None:
        (folder / "mapping.toml").write_text(mapping.replace("trial.csv", fname), encoding="utf-8")


def adam(name: str, adsl: pd.DataFrame, bds: pd.DataFrame | None) -> None:
    folder = HERE / name
    folder.mkdir()
    adsl.to_csv(folder / "adsl.csv", index=False)
    if bds is not None:
        bds.to_csv(folder / "adqs.csv", index=False)


def workbook(name: str, sheets: list[tuple[str, pd.DataFrame, str]], mapping: str = MAPPING) -> None:
    """A mapped Excel table: sheets as (title, frame, state), state "visible" or "hidden"."""
    folder = HERE / name
    folder.mkdir()
    with pd.ExcelWriter(folder / "trial.xlsx", engine="openpyxl") as writer:
        for title, frame, _ in sheets:
            frame.to_excel(writer, sheet_name=title, index=False)
        for title, _, state in sheets:
            writer.book[title].sheet_state = state
    (folder / "mapping.toml").write_text(mapping.replace("trial.csv", "trial.xlsx"), encoding="utf-8")


def cases_33_59() -> None:
    """Validation that misses nothing: the product layout, files and mappings."""
    m = MEAS.copy()
    # a subject-level column that changes between a subject's rows of a long table
    varying = LONG.assign(sex=["F", "M", "M", "M", "F", "F", "M", "M"])
    table("33_mapped_subject_varies", varying, mapping=MAPPING + 'covariates = ["sex"]\n')
    clash = m[m["endpoint"] == "VAS"].head(2).copy()
    clash["value"] = clash["value"] + 7
    product("34_conflicting_records", meas=pd.concat([m, clash]))
    nd = m.copy()
    nd["value"] = nd["value"].astype(object)
    nd.iloc[10, nd.columns.get_loc("value")] = "ND"
    product("35_value_nd", meas=nd)
    product("36_synthetic_no", study=STUDY.replace("synthetic = true", 'synthetic = "no"', 1))
    product("37_lower_is_better_text",
            study=STUDY.replace("lower_is_better = false", 'lower_is_better = "no"', 1))
    product("38_primary_endpoint_unknown", study=STUDY.replace('[primary]\nendpoint = "RESP"',
                                                               '[primary]\nendpoint = "RSEP"'))
    product("39_covariate_column_missing", study=STUDY.replace(
        "[[covariates]]", '[[covariates]]\ncolumn = "weight"\nlabel = "Weight"\nkind = "continuous"\n\n'
        "[[covariates]]", 1))
    # the primary names a population that is not declared, and a declared one has no flag column
    product("40_unknown_population",
            study=STUDY.replace('population = "MITT"\nmethod', 'population = "ITT"\nmethod')
            .replace("[[populations]]", '[[populations]]\nid = "ITT2"\nlabel = "ITT"\ncolumn = "pop_itt"\n\n'
                     "[[populations]]", 1))
    product("41_subgroup_default_unknown", study=STUDY.replace('default = ["sex", "age"',
                                                               'default = ["sex", "weight", "age"'))
    blank = SUBJECTS.copy()
    blank.loc[blank.index[[3, 7]], "arm"] = ""
    product("42_blank_arms", subjects=blank)
    yes_no = SUBJECTS.copy()
    yes_no["pop_mitt"] = yes_no["pop_mitt"].map({"Y": "Yes", "N": "No"})
    product("43_flags_yes_no", subjects=yes_no)
    product("44_utf16_subjects", raw={"subjects.csv": SUBJECTS.to_csv(index=False).encode("utf-16")})
    folder = HERE / "45_zip_archive"
    folder.mkdir()
    with zipfile.ZipFile(folder / "respine_trial.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("respine_trial/study.toml", STUDY)
        for fname, frame in (("subjects.csv", SUBJECTS), ("measurements.csv", MEAS),
                             ("adverse_events.csv", AE)):
            zf.writestr(f"respine_trial/{fname}", frame.to_csv(index=False))
        zf.writestr("__MACOSX/respine_trial/._study.toml", b"\x00\x05\x16\x07")
        zf.writestr("respine_trial/notes.docx", b"not data")
    notes = pd.DataFrame({"note": ["Exported from the EDC on 2024-03-01"]})
    workbook("46_xlsx_hidden_first_sheet", [("Notes", notes, "hidden"), ("Data", LONG, "visible")])
    workbook("47_xlsx_second_sheet", [("Data", LONG, "visible"), ("Summary", notes, "visible")])
    workbook("48_mapping_sheet_unknown", [("Data", LONG, "visible"), ("Summary", notes, "visible")],
             mapping=MAPPING + 'sheet = "Results"\n')
    text_visit = LONG.assign(visitn=["0", "4", "0", "4", "0", "four", "0", "4"])
    table("49_visit_number_text", text_visit, mapping=MAPPING + 'visit_number = "visitn"\n')
    table("50_mapping_table_number", LONG, mapping=MAPPING.replace('table = "trial.csv"', "table = 3"))
    product("51_nested_study_toml", study="deep = " + "[" * 5000 + "]" * 5000 + "\n" + STUDY)
    folder = HERE / "52_nested_mapping_json"
    folder.mkdir()
    LONG.to_csv(folder / "trial.csv", index=False)
    (folder / "mapping.json").write_text('{"mapping": {"table": ' + "[" * 100000 + "]" * 100000 + "}}",
                                         encoding="utf-8")
    folder = HERE / "53_single_empty_file"
    folder.mkdir()
    (folder / "trial.csv").write_bytes(b"")
    product("54_empty_study_toml", study="")
    product("55_study_key_typo", study=STUDY.replace("synthetic = true", "synthetc = true", 1))
    product("56_visit_declared_twice", study=STUDY.replace(
        "[[visits]]", '[[visits]]\nnumber = 12\nlabel = "Month 12 (repeat)"\n\n[[visits]]', 1))
    product("57_negative_visit", study=STUDY.replace(
        "[[visits]]", '[[visits]]\nnumber = -1\nlabel = "Screening"\n\n[[visits]]', 1))
    product("58_bom_semicolon_crlf", raw={"subjects.csv": b"\xef\xbb\xbf" + SUBJECTS.to_csv(
        index=False, sep=";", lineterminator="\r\n").encode()})
    text = MEAS.to_csv(index=False)
    cut = text.index("\n", 20000) + 1  # a NUL byte past the first 4 kB, in an otherwise clean file
    product("59_nul_byte", raw={"measurements.csv": (text[:cut] + "RSP-X,VAS,Baseline,0,5\x00\n"
                                                     + text[cut:]).encode()})


def cases_80_on() -> None:
    """Product-layout cases added after the ADaM ones (60-79)."""
    died = SUBJECTS.assign(died="N")
    died.loc[died.index[2], "died"] = "Unknown"
    died.loc[died.index[5], "died"] = "Y"
    product("80_death_flag_not_a_flag", subjects=died)


def main(only: tuple[str, ...] = ()) -> None:
    """Build every case, or only those whose number is in ``only`` (``build.py 33 34``)."""
    if only:
        global HERE
        real, HERE = HERE, Path(__file__).resolve().parent / "__build__"
        shutil.rmtree(HERE, ignore_errors=True)
        HERE.mkdir()
        try:
            main()
            for built in HERE.iterdir():
                if built.name.split("_", 1)[0] in only:
                    shutil.rmtree(real / built.name, ignore_errors=True)
                    shutil.move(str(built), real / built.name)
        finally:
            shutil.rmtree(HERE, ignore_errors=True)
            HERE = real
        return
    for child in HERE.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    m = MEAS.copy()
    product("01_semicolon_delimiter", raw={"subjects.csv": SUBJECTS.to_csv(index=False, sep=";").encode()})
    latin = SUBJECTS.copy()
    latin.loc[0, "site"] = "FR-01 Montpellier-Hérault"
    product("02_latin1_encoding", raw={"subjects.csv": latin.to_csv(index=False).encode("latin-1")})
    product("03_utf8_bom", raw={"subjects.csv": b"\xef\xbb\xbf" + SUBJECTS.to_csv(index=False).encode()})
    product("04_empty_measurements", raw={"measurements.csv": b""})
    product("05_header_only_subjects", raw={"subjects.csv": (",".join(SUBJECTS.columns) + "\n").encode()})
    product("06_missing_arm_column", subjects=SUBJECTS.drop(columns=["arm"]))
    dup_cols = SUBJECTS.to_csv(index=False).replace("age,", "sex,", 1).encode()
    product("07_duplicated_columns", raw={"subjects.csv": dup_cols})
    bad = m.copy()
    bad["value"] = bad["value"].astype(object)
    bad.iloc[3, bad.columns.get_loc("value")] = "n/a (patient refused)"
    product("08_text_in_value", meas=bad)
    out = m.copy()
    out.loc[(out["endpoint"] == "VAS").to_numpy().nonzero()[0][:3], "value"] = 150
    product("09_impossible_vas", meas=out)
    product("10_duplicate_subjects", subjects=pd.concat([SUBJECTS, SUBJECTS.head(2)]))
    product("11_one_arm", subjects=SUBJECTS.assign(arm="Sham"))
    unk = m.copy()
    unk.loc[unk.index[:5], "visit_month"] = 7
    product("12_unknown_visits", meas=unk)
    dupr = pd.concat([m, m.head(4)])
    product("13_duplicate_records", meas=dupr)
    product("14_study_toml_broken", study="[arms\norder = ")
    product("15_study_one_arm", study=STUDY.replace('order = ["BM-MSC", "Sham"]', 'order = ["BM-MSC"]'))
    product(
        "16_unknown_arm",
        subjects=SUBJECTS.assign(arm=["BM-MSC", "Sham", "Stem cells"] * 6 + ["Sham", "BM-MSC"]),
    )
    product("17_missing_subjects_file", subjects=None)
    product("18_orphan_measurements", meas=pd.concat([m, m.head(3).assign(subject_id="GHOST-1")]))
    dates = LONG.assign(
        visit_date=[
            "2020-01-05",
            "05/02/2020",
            "2020-01-07",
            "7 Feb 2020",
            "2020-01-09",
            "09/02/2020",
            "2020-01-11",
            "11 Feb 2020",
        ]
    )
    table("19_mixed_date_formats", dates)
    table(
        "20_formula_and_html_injection",
        LONG.assign(
            group=['=HYPERLINK("http://x","y")'] * 2
            + ["<script>alert(1)</script>"] * 2
            + ['=HYPERLINK("http://x","y")'] * 2
            + ["<script>alert(1)</script>"] * 2
        ),
    )
    table("21_corrupt_xlsx", raw=b"PK\x03\x04 this is not a workbook", fname="trial.xlsx")
    (HERE / "22_corrupt_xpt").mkdir()
    (HERE / "22_corrupt_xpt" / "adsl.xpt").write_bytes(b"HEADER RECORD*******LIBRARY HEADER but truncated")
    table("23_no_mapping", LONG, mapping=None)
    table("24_mapping_unknown_key", LONG, mapping=MAPPING + 'colour = "blue"\n')
    table("25_mapping_missing_column", LONG, mapping=MAPPING.replace('"result"', '"score"'))
    table("26_arm_conflict", LONG.assign(group=["Active", "Placebo", *list(LONG["group"][2:])]))
    table("27_header_only_table", raw=b"patient,group,visit,param,result\n")
    adam(
        "28_adam_one_arm",
        pd.DataFrame({"USUBJID": ["1", "2"], "TRT01P": ["Drug", "Drug"], "ITTFL": ["Y", "Y"]}),
        pd.DataFrame({"USUBJID": ["1", "2"], "PARAMCD": ["X", "X"], "AVAL": [1.0, 2.0], "AVISITN": [0, 0]}),
    )
    adam("29_adam_no_usubjid", pd.DataFrame({"SUBJ": ["1", "2"], "TRT01P": ["Drug", "Placebo"]}), None)
    adam(
        "30_adam_bds_without_aval",
        pd.DataFrame({"USUBJID": ["1", "2"], "TRT01P": ["Drug", "Placebo"]}),
        pd.DataFrame({"USUBJID": ["1", "2"], "PARAMCD": ["X", "X"], "AVISITN": [0, 0]}),
    )
    table("31_reference_not_in_data", LONG, mapping=MAPPING + 'reference = "Sham"\n')
    table("32_binary_garbage_csv", raw=bytes(range(256)) * 8)
    cases_33_59()
    cases_80_on()


if __name__ == "__main__":
    main(tuple(sys.argv[1:]))
