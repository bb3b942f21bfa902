"""The published figures of the trial beside the same figures recomputed from the loaded data."""

from __future__ import annotations

import pandas as pd

from respine import derive, fmt
from respine import schema as S
from respine.analysis import AnalysisResult, Selection, analyze


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
