"""Write the ADaM cases of the bad-file corpus, folders 60-79 (run from the repository root:
``.venv/bin/python tests/bad_files/build_adam.py``). Each is a small ADaM folder (ADSL and one
BDS dataset as CSV) with one defect or one shape a real study has; tests/test_bad_adam_files.py
says what the report must contain. Only folders 60-79 are rewritten."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
NUMBERS = range(60, 80)

ADSL = pd.DataFrame({
    "STUDYID": "BAD01",
    "USUBJID": [f"BAD01-{i:02d}" for i in range(1, 9)],
    "TRT01P": ["Placebo", "Drug"] * 4,
    "TRT01PN": [0, 1] * 4,
    "ITTFL": "Y",
    "SAFFL": "Y",
    "SEX": ["F", "M", "M", "F", "F", "M", "F", "M"],
    "AGE": [61, 55, 70, 48, 66, 59, 72, 50],
})


def _bds(adsl: pd.DataFrame = ADSL) -> pd.DataFrame:
    rows = []
    for k, s in enumerate(adsl["USUBJID"]):
        for n, label in ((0, "Baseline"), (4, "Week 4"), (8, "Week 8")):
            rows.append({"USUBJID": s, "PARAMCD": "SCORE", "PARAM": "Symptom score", "AVISIT": label,
                         "AVISITN": n, "AVAL": 20 - n + k % 3, "ABLFL": "Y" if n == 0 else "",
                         "ANL01FL": "Y"})
    return pd.DataFrame(rows)


BDS = _bds()


def case(name: str, adsl: pd.DataFrame | None = ADSL, bds: pd.DataFrame | None = BDS,
         raw: dict[str, bytes] | None = None, bds_name: str = "adqs.csv") -> None:
    number = int(name[:2])
    assert number in NUMBERS, name
    folder = HERE / name
    folder.mkdir()
    if adsl is not None:
        adsl.to_csv(folder / "adsl.csv", index=False)
    if bds is not None:
        bds.to_csv(folder / bds_name, index=False)
    for fname, content in (raw or {}).items():
        (folder / fname).write_bytes(content)


def main() -> None:
    for child in HERE.iterdir():
        if child.is_dir() and child.name[:2].isdigit() and int(child.name[:2]) in NUMBERS:
            shutil.rmtree(child)
    case("60_adam_duplicate_adsl_rows", adsl=pd.concat([ADSL, ADSL.iloc[[1, 4]]]))
    case("61_adam_flags_yes_no", adsl=ADSL.assign(ITTFL=["Yes", "No"] * 4, SAFFL="true"))
    case("62_adam_flag_values_unknown", adsl=ADSL.assign(ITTFL=["Y", "N", "?", "Y", "Y", "N", "X", "Y"]))
    case("63_adam_blank_arms", adsl=ADSL.assign(TRT01P=["Placebo", "Drug", "", "Drug", "Placebo", "",
                                                        "Placebo", "Drug"]))
    sf = pd.DataFrame({"STUDYID": "BAD01", "USUBJID": ["BAD01-S1", "BAD01-S2"], "TRT01P": "Screen Failure",
                       "ITTFL": "N", "SAFFL": "N"})
    case("64_adam_screen_failures", adsl=pd.concat([ADSL, sf]),
         bds=pd.concat([BDS, _bds(sf).head(2)]))
    case("65_adam_several_records_per_visit", bds=pd.concat([BDS, BDS.iloc[[4, 7, 10]].assign(AVAL=1)]))
    text = BDS.astype({"AVAL": object})
    text.loc[[4, 5, 8], "AVAL"] = ["ND", "<0.5", "ND"]
    case("66_adam_text_in_aval", bds=text)
    visit_text = BDS.astype({"AVISITN": object})
    visit_text.loc[[1, 2], "AVISITN"] = "Week 4"
    case("67_adam_avisitn_text", bds=visit_text)
    case("68_adam_every_result_text", bds=BDS.assign(AVAL="NOT DONE"))
    unsched = pd.concat([BDS, BDS.iloc[[1, 4]].assign(AVISIT="Unscheduled", AVISITN=None, ABLFL="")])
    case("69_adam_unscheduled_records", bds=unsched)
    case("70_adam_study_toml_broken", raw={"study.toml": b"[endpoints.SCORE\nlower_is_better = "})
    case("71_adam_study_toml_unknown_endpoint",
         raw={"study.toml": b"[endpoints.VAS]\nlower_is_better = true\n"})
    case("72_adam_study_toml_bad_kind", raw={"study.toml": b'[endpoints.SCORE]\nkind = "ordinal"\n'})
    case("73_adam_blank_usubjid", adsl=ADSL.assign(USUBJID=[*ADSL["USUBJID"][:6], "", ""]))
    case("74_adam_no_arm_column", adsl=ADSL.drop(columns=["TRT01P", "TRT01PN"]))
    case("75_adam_screen_failures_leave_one_arm",
         adsl=ADSL.assign(TRT01P=["Screen Failure", "Drug"] * 4))
    case("76_adam_bds_without_avisitn", bds=BDS.drop(columns=["AVISITN"]))
    case("77_adam_adsl_only", bds=None)
    case("78_adam_study_toml_deeply_nested", raw={"study.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n"})
    timepoints = pd.concat([BDS.assign(ATPT=tp, ATPTN=k, AVAL=BDS["AVAL"] + k, ANL01FL="")
                            for k, tp in ((1, "PRE-DOSE"), (2, "POST-DOSE"))])
    case("79_adam_time_points_without_flag", bds=timepoints, bds_name="adeff.csv")


if __name__ == "__main__":
    main()
