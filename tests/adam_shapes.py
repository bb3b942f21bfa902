"""Small ADaM studies in the shapes real studies are built in, written by the tests themselves.

Each builder writes one folder (ADSL, one or more BDS datasets and, unless the shape says
otherwise, ADAE) under the folder it is given and returns a :class:`Shape`: the folder, the
ADSL frame it wrote and what the loader must report. The data are random but seeded, so every
count a test checks is recomputed from the frames written here, never typed in.

Shapes (ADaM IG v1.1 conventions, as in CDISC pilot and admiral-built studies):
time points (``ATPT``/``ATPTN``, all flagged ``ANL01FL``), ``DTYPE = "AVERAGE"`` records over the
time points, LOCF-derived records, screen failures and non-randomised subjects, ``SAFFL`` only
(written Yes/No), four arms, no ADAE, character results (``AVALC``), an "End of Treatment" visit
(``AVISITN`` 99), unscheduled visits (fractional or missing ``AVISITN``), a baseline taken at
"Day 1" after a screening visit, and BDS datasets named ADEFF and ADQSHAQ sharing a PARAMCD
(with a ``study.toml`` declaring directions of benefit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

VISITS = ((0.0, "Baseline"), (4.0, "Week 4"), (8.0, "Week 8"), (12.0, "Week 12"))
TWO_ARMS = (("Placebo", 0), ("Drug 10 mg", 1))


@dataclass
class Shape:
    """A built study: where it is, its ADSL, and what loading it must report."""

    folder: Path
    adsl: pd.DataFrame
    bds: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()  # fragments the load report must contain
    warnings: tuple[str, ...] = ()  # fragments that must be warnings
    analysed: int = 0  # subjects the loader must keep (recomputed from ADSL by the builder)
    extra: dict[str, object] = field(default_factory=dict)


def _adsl(n_per_arm: int = 6, arms: tuple[tuple[str, int], ...] = TWO_ARMS, seed: int = 1,
          flags: tuple[str, ...] = ("ITTFL", "SAFFL", "EFFFL"), yes: str = "Y",
          no: str = "N") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for arm, armn in arms:
        for i in range(n_per_arm):
            rows.append({"STUDYID": "SHAPE01", "USUBJID": f"SHAPE01-{armn}{i:03d}", "TRT01P": arm,
                         "TRT01PN": armn, "AGE": int(rng.integers(30, 80)),
                         "SEX": str(rng.choice(["F", "M"])), "SITEGR1": str(rng.choice(["S1", "S2"]))})
    adsl = pd.DataFrame(rows)
    for f in flags:
        adsl[f] = yes
    if "EFFFL" in flags:  # one subject per arm without post-baseline efficacy data
        adsl.loc[adsl.groupby("TRT01P").head(1).index, "EFFFL"] = no
    adsl["EOSSTT"] = "COMPLETED"
    adsl.loc[adsl.groupby("TRT01P").tail(1).index, ["EOSSTT"]] = "DISCONTINUED"
    adsl["DCSREAS"] = np.where(adsl["EOSSTT"] == "COMPLETED", "", "ADVERSE EVENT")
    return adsl


def _bds(adsl: pd.DataFrame, params: tuple[tuple[str, str], ...] = (("PAIN", "Pain score (0-10)"),),
         visits: tuple[tuple[float, str], ...] = VISITS, seed: int = 2, flag: bool = True) -> pd.DataFrame:
    """One observed record per subject, parameter and visit, with ABLFL on the baseline and BASE."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in adsl.itertuples(index=False):
        for code, name in params:
            base = float(rng.integers(4, 9))
            for n, label in visits:
                value = base if n == visits[0][0] else max(0.0, base - 0.2 * n * (s.TRT01PN + 1) / 4
                                                            + float(rng.normal(0, 1)))
                rows.append({"STUDYID": "SHAPE01", "USUBJID": s.USUBJID, "PARAMCD": code, "PARAM": name,
                             "AVISIT": label, "AVISITN": n, "AVAL": round(value, 1), "BASE": base,
                             "ABLFL": "Y" if n == visits[0][0] else "", "ADY": int(n * 7 + 1),
                             "AWTARGET": int(n * 7 + 1), "DTYPE": ""})
    d = pd.DataFrame(rows)
    d["CHG"] = np.where(d["ABLFL"] == "Y", np.nan, d["AVAL"] - d["BASE"])
    if flag:
        d["ANL01FL"] = "Y"
    return d


def _adae(adsl: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in adsl.itertuples(index=False):
        for _ in range(int(rng.integers(0, 3))):
            rows.append({"USUBJID": s.USUBJID, "AEBODSYS": "GASTROINTESTINAL DISORDERS",
                         "AEDECOD": str(rng.choice(["NAUSEA", "DIARRHOEA"])), "AESER": "N",
                         "AEREL": str(rng.choice(["NONE", "POSSIBLE"])), "AESEV": "MILD",
                         "AEACN": "DOSE NOT CHANGED", "ASTDY": int(rng.integers(1, 80)), "TRTEMFL": "Y"})
    return pd.DataFrame(rows, columns=["USUBJID", "AEBODSYS", "AEDECOD", "AESER", "AEREL", "AESEV",
                                       "AEACN", "ASTDY", "TRTEMFL"])


def _write(folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "parquet") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            # parquet needs one type per column: text columns with blanks stay text
            frame.to_parquet(folder / f"{name}.parquet", index=False)


def _timepointed(d: pd.DataFrame, seed: int = 4) -> pd.DataFrame:
    """Three time points (ATPT/ATPTN) per record, all kept under ANL01FL."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, tp in enumerate(("PRE-DOSE", "1H POST-DOSE", "2H POST-DOSE"), start=1):
        part = d.assign(ATPT=tp, ATPTN=float(k))
        part["AVAL"] = (part["AVAL"] + rng.normal(0, 0.5, len(part))).round(1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "AVISITN", "ATPTN"])


def timepoints(root: Path) -> Shape:
    adsl = _adsl()
    bds = _timepointed(_bds(adsl))
    _write(root / "timepoints", {"adsl": adsl, "adqspain": bds, "adae": _adae(adsl)})
    return Shape(root / "timepoints", adsl, {"adqspain": bds},
                 notes=("are other time points of their visit", "Record rule 'analysis'"),
                 analysed=len(adsl))


def average_records(root: Path) -> Shape:
    adsl = _adsl()
    tp = _timepointed(_bds(adsl))
    key = ["USUBJID", "PARAMCD", "AVISITN"]
    avg = tp.groupby(key, as_index=False).agg(
        {"AVAL": "mean", **{c: "first" for c in tp.columns if c not in (*key, "AVAL", "ATPT", "ATPTN")}})
    avg = avg.assign(DTYPE="AVERAGE", ATPT="", ATPTN=np.nan)
    bds = pd.concat([tp, avg[tp.columns]], ignore_index=True)
    _write(root / "average", {"adsl": adsl, "adqspain": bds, "adae": _adae(adsl)})
    return Shape(root / "average", adsl, {"adqspain": bds},
                 notes=("are time points whose visit has an AVERAGE record",), analysed=len(adsl),
                 extra={"average": avg})


def locf_records(root: Path) -> Shape:
    """As the CDISC pilot: missing week 8 and 12 results carried forward (DTYPE LOCF, ANL01FL Y),
    plus the original out-of-window records without the flag."""
    adsl = _adsl()
    d = _bds(adsl)
    gone = d["USUBJID"].isin(adsl["USUBJID"].iloc[[2, 9]]) & (d["AVISITN"] >= 8)
    carried = d[d["USUBJID"].isin(adsl["USUBJID"].iloc[[2, 9]]) & (d["AVISITN"] == 4)]
    locf = pd.concat([carried.assign(AVISITN=n, AVISIT=lab, DTYPE="LOCF") for n, lab in VISITS[2:]])
    extra = d[d["AVISITN"] == 8].head(3).assign(ANL01FL="", ADY=60)
    bds = pd.concat([d[~gone], locf, extra], ignore_index=True)
    _write(root / "locf", {"adsl": adsl, "adqspain": bds, "adae": _adae(adsl)}, fmt="csv")
    return Shape(root / "locf", adsl, {"adqspain": bds},
                 notes=("are not flagged ANL01FL = 'Y'",), analysed=len(adsl), extra={"locf": len(locf)})


def screen_failures(root: Path) -> Shape:
    adsl = _adsl(n_per_arm=10, flags=("RANDFL", "ITTFL", "SAFFL"))
    sf = pd.DataFrame({"STUDYID": "SHAPE01", "USUBJID": [f"SHAPE01-SF{i:02d}" for i in range(12)],
                       "TRT01P": "Screen Failure", "TRT01PN": np.nan, "RANDFL": "N", "ITTFL": "N",
                       "SAFFL": "N"})
    na = pd.DataFrame({"STUDYID": "SHAPE01", "USUBJID": [f"SHAPE01-NA{i:02d}" for i in range(3)],
                       "TRT01P": "Not Assigned", "TRT01PN": np.nan, "RANDFL": "N", "ITTFL": "N",
                       "SAFFL": "N"})
    # as often in real ADSL: a third of the screen failures have TRT01P blank and ARM says why
    sf["ARM"] = "Screen Failure"
    sf.loc[sf.index[:4], "TRT01P"] = None
    full = pd.concat([adsl.assign(ARM=adsl["TRT01P"]), sf, na.assign(ARM="Not Assigned")], ignore_index=True)
    d = _bds(adsl)
    screening = _bds(pd.concat([sf, na]).assign(TRT01PN=0), visits=((-1.0, "Screening"),)).assign(ABLFL="")
    bds = pd.concat([d, screening], ignore_index=True)
    _write(root / "screen_failures", {"adsl": full, "adqspain": bds, "adae": _adae(adsl)}, fmt="csv")
    return Shape(root / "screen_failures", full, {"adqspain": bds},
                 notes=("12 screen failures and 3 subjects not randomised",
                        "belong to subjects who are not analysed"), analysed=len(adsl))


def saffl_only(root: Path) -> Shape:
    adsl = _adsl(flags=("SAFFL",), yes="Yes", no="No")
    adsl.loc[0, "SAFFL"] = "No"
    d = _bds(adsl)
    _write(root / "saffl_only", {"adsl": adsl, "adqspain": d, "adae": _adae(adsl)}, fmt="csv")
    return Shape(root / "saffl_only", adsl, {"adqspain": d}, notes=("Default: Safety (SAF)",),
                 analysed=len(adsl))


def four_arms(root: Path) -> Shape:
    arms = (("Drug 5 mg", 1), ("Placebo", 0), ("Drug 10 mg", 2), ("Drug 20 mg", 3))
    adsl = _adsl(n_per_arm=5, arms=arms)
    d = _bds(adsl, params=(("PAIN", "Pain score (0-10)"), ("FATIGUE", "Fatigue score (0-10)")))
    _write(root / "four_arms", {"adsl": adsl, "adqs": d, "adae": _adae(adsl)})
    return Shape(root / "four_arms", adsl, {"adqs": d}, analysed=len(adsl),
                 extra={"arms": ("Placebo", "Drug 5 mg", "Drug 10 mg", "Drug 20 mg")})


def no_adverse_events(root: Path) -> Shape:
    adsl = _adsl()
    d = _bds(adsl)
    _write(root / "no_adae", {"adsl": adsl, "adqspain": d})
    return Shape(root / "no_adae", adsl, {"adqspain": d}, notes=("No ADAE dataset",), analysed=len(adsl))


def character_results(root: Path) -> Shape:
    adsl = _adsl()
    d = _bds(adsl, params=(("CRP", "C-reactive protein (mg/L)"),)).astype({"AVAL": object})
    d["AVALC"] = d["AVAL"].map(lambda v: f"{v:g}")
    post = d.index[d["ABLFL"] != "Y"]
    d.loc[post[:4], "AVALC"] = "ND"
    d.loc[post[4:6], "AVALC"] = "<0.5"
    d.loc[post[:10], "AVAL"] = None  # 4 ND, 2 "<0.5", 4 numbers written as text only
    _write(root / "character", {"adsl": adsl, "adlbcrp": d, "adae": _adae(adsl)}, fmt="csv")
    return Shape(root / "character", adsl, {"adlbcrp": d},
                 notes=("4 results written as text",), warnings=("'ND' x4, '<0.5' x2",), analysed=len(adsl))


def end_of_treatment(root: Path) -> Shape:
    adsl = _adsl()
    d = _bds(adsl)
    last = d[d["AVISITN"] == 12.0].assign(AVISIT="End of Treatment", AVISITN=99.0)
    bds = pd.concat([d, last], ignore_index=True)
    _write(root / "eot", {"adsl": adsl, "adqspain": bds, "adae": _adae(adsl)})
    return Shape(root / "eot", adsl, {"adqspain": bds}, notes=("'End of Treatment' (AVISITN 99)",),
                 analysed=len(adsl))


def unscheduled_visits(root: Path) -> Shape:
    adsl = _adsl()
    d = _bds(adsl)
    u1 = d[d["AVISITN"] == 4.0].head(4).assign(AVISIT="Unscheduled 4.1", AVISITN=4.1, ABLFL="")
    u2 = d[d["AVISITN"] == 8.0].head(3).assign(AVISIT="Unscheduled", AVISITN=np.nan, ABLFL="")
    bds = pd.concat([d, u1, u2], ignore_index=True)
    _write(root / "unscheduled", {"adsl": adsl, "adqspain": bds, "adae": _adae(adsl)}, fmt="csv")
    return Shape(root / "unscheduled", adsl, {"adqspain": bds},
                 notes=("7 are unscheduled",), analysed=len(adsl))


def baseline_at_day_one(root: Path) -> Shape:
    """A screening visit (AVISITN -1) before the baseline taken at Day 1 (AVISITN 1, ABLFL Y)."""
    adsl = _adsl()
    visits = ((-1.0, "Screening"), (1.0, "Day 1"), (29.0, "Day 29"), (57.0, "Day 57"))
    d = _bds(adsl, visits=visits)
    d["ABLFL"] = np.where(d["AVISITN"] == 1.0, "Y", "")
    d["BASE"] = d["USUBJID"].map(d[d["ABLFL"] == "Y"].set_index("USUBJID")["AVAL"])
    _write(root / "day_one", {"adsl": adsl, "adeff": d, "adae": _adae(adsl)})
    return Shape(root / "day_one", adsl, {"adeff": d}, notes=("lie before the baseline visit",),
                 analysed=len(adsl))


def other_dataset_names(root: Path) -> Shape:
    """BDS datasets ADEFF and ADQSHAQ both with PARAMCD TOTAL (ids qualified by the dataset), a
    third parameter only in ADEFF, and a study.toml declaring directions of benefit."""
    adsl = _adsl()
    eff = _bds(adsl, params=(("TOTAL", "Efficacy total"), ("WALK", "Walking distance (m)")), seed=5)
    haq = _bds(adsl, params=(("TOTAL", "HAQ disability index"),), seed=6)
    _write(root / "names", {"adsl": adsl, "adeff": eff, "adqshaq": haq, "adae": _adae(adsl)})
    (root / "names" / "study.toml").write_text(
        '[endpoints.WALK]\nlower_is_better = false\nunit = "m"\n\n'
        '[endpoints."ADQSHAQ.TOTAL"]\nlower_is_better = true\n', encoding="utf-8")
    return Shape(root / "names", adsl, {"adeff": eff, "adqshaq": haq},
                 notes=("PARAMCD TOTAL occur in more than one dataset",), analysed=len(adsl))


def no_baseline(root: Path) -> Shape:
    """A global impression of change (as the CDISC pilot's ADCIBC loaded alone): post-baseline
    visits only, with no ABLFL, no visit named Baseline and no BASE."""
    adsl = _adsl()
    d = _bds(adsl, params=(("CGIC", "Clinical global impression of change (1-7)"),))
    d = d[d["ABLFL"] != "Y"].drop(columns=["ABLFL", "BASE", "CHG"]).reset_index(drop=True)
    d["AVAL"] = d["AVAL"].clip(1, 7).round()
    _write(root / "no_baseline", {"adsl": adsl, "adqscgic": d, "adae": _adae(adsl)})
    return Shape(root / "no_baseline", adsl, {"adqscgic": d}, notes=("No dataset has a baseline record",),
                 analysed=len(adsl))


BUILDERS: dict[str, Callable[[Path], Shape]] = {
    "timepoints": timepoints,
    "average": average_records,
    "locf": locf_records,
    "screen_failures": screen_failures,
    "saffl_only": saffl_only,
    "four_arms": four_arms,
    "no_adae": no_adverse_events,
    "character": character_results,
    "end_of_treatment": end_of_treatment,
    "unscheduled": unscheduled_visits,
    "baseline_day_one": baseline_at_day_one,
    "dataset_names": other_dataset_names,
    "no_baseline": no_baseline,
}
