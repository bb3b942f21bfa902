"""The published figures of the trial beside the same figures recomputed from the loaded data."""

from __future__ import annotations

import pandas as pd

from respine import derive
from respine.analyses.compare import analyze
from respine.model import design as S
from respine.model.results import AnalysisResult
from respine.model.selection import Selection
from respine.present import fmt


def paper_check(trial: S.Trial) -> pd.DataFrame:
    """Every published fact beside the same fact recomputed from the loaded data.

    Columns: item, published, recomputed, matches. On the synthetic twin every row matches; on
    real data this is the first check a statistician runs.
    """
    from respine.analyses.published import primary_check, primary_selection
    from respine.synth import secondary_p_values

    rows = []
    if trial.design.primary is not None:
        result = analyze(trial, primary_selection(trial))
        rows.extend(primary_check(trial, result).to_dict("records"))
    ae = trial.adverse_events
    if {"serious", "related_product"} <= set(ae.columns):
        both = ae[(ae["serious"].astype(str) == "Y") & (ae["related_product"].astype(str) == "Y")]
        n = both[S.SUBJECT_ID].nunique()
        rows.append(
            {
                "item": "Serious adverse events related to the product",
                "published": "none",
                "recomputed": f"{n} subjects",
                "matches": n == 0,
            }
        )
    if trial.design.id == "RESPINE" and set(trial.design.arms) == {"BM-MSC", "Sham"}:
        from respine.synth import SyntheticTrial

        p_values = secondary_p_values(SyntheticTrial(trial.subjects, trial.measurements, ae, 0, 0, {}))
        secondary = {k: v for k, v in p_values.items() if " by " not in k}
        significant = sorted(k for k, v in secondary.items() if v < 0.05)
        rows.append(
            {
                "item": f"Secondary outcomes differing between arms ({len(secondary)} comparisons)",
                "published": "none",
                "recomputed": ", ".join(significant) or "none (all p >= 0.05)",
                "matches": not significant,
            }
        )
    return pd.DataFrame(rows, columns=["item", "published", "recomputed", "matches"])


def primary_selection(trial: S.Trial) -> Selection:
    """The study's documented primary analysis as a :class:`Selection`."""
    p = trial.design.primary
    if p is None:
        raise derive.SelectionError("The study description has no [primary] analysis.")
    return Selection(endpoint=p.endpoint, visit=p.visit, population=p.population, method=p.method)


def primary_check(trial: S.Trial, result: AnalysisResult | None = None) -> pd.DataFrame:
    """Published primary figures vs recomputed ones, rounded to the published precision.

    Columns: item, published, recomputed, matches.
    """
    p = trial.design.primary
    if p is None or not p.published:
        return pd.DataFrame(columns=["item", "published", "recomputed", "matches"])
    result = result or analyze(trial, primary_selection(trial))
    rows = []
    by_arm = {a.arm: a for a in result.arms}
    for key, published in p.published.items():
        if key.startswith("rate "):
            arm = key.removeprefix("rate ")
            if arm not in by_arm:
                continue
            got = by_arm[arm].rate
            rows.append({"item": f"Responders, {arm}", "published": f"{round(100 * published)}%",
                         "recomputed": f"{fmt.num(100 * got)}% ({by_arm[arm].responders}/"
                                       f"{by_arm[arm].n})",
                         "matches": round(100 * got) == round(100 * published)})
        elif key == "p_value" and result.contrasts:
            got = result.contrasts[0].p_value
            rows.append({"item": f"p-value ({result.method_label})", "published": f"{published:.2f}",
                         "recomputed": f"{got:.4f}", "matches": round(got, 2) == round(published, 2)})
    n_rand = trial.subjects.groupby(S.ARM).size()
    for arm in trial.design.arms:
        key = f"randomised {arm}"
        if key in p.published:
            got = int(n_rand.get(arm, 0))
            rows.append({"item": f"Randomised, {arm}", "published": f"{int(p.published[key])}",
                         "recomputed": str(got), "matches": got == int(p.published[key])})
    return pd.DataFrame(rows, columns=["item", "published", "recomputed", "matches"])


def population_counts(trial: S.Trial) -> pd.DataFrame:
    """Subjects per arm in each population. Columns: population, label, one per arm, total."""
    rows = []
    subjects = trial.subjects
    for pop in trial.design.populations:
        flag = subjects[pop.column].astype(str).str.upper().isin(["Y", "1", "TRUE"])
        counts = subjects[flag].groupby(S.ARM).size()
        row: dict[str, object] = {"Population": pop.id, "Definition": pop.label}
        for arm in trial.design.arms:
            row[arm] = int(counts.get(arm, 0))
        row["Total"] = int(flag.sum())
        rows.append(row)
    return pd.DataFrame(rows)

