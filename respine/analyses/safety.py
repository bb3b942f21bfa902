"""Safety: adverse-event overview, events by system organ class and preferred term, immune response.

Counts are of subjects (a subject with two events of a term counts once), over the safety
population, as ICH E3 section 12.2 tabulates them.
"""

from __future__ import annotations

import math

import pandas as pd

from respine import derive, stats
from respine.model import design as S
from respine.model.selection import Filters

OVERVIEW = (
    ("Any adverse event", None),
    ("Serious adverse event", "serious"),
    ("Related to the product", "related_product"),
    ("Related to the procedure", "related_procedure"),
    ("Serious and related to the product", ("serious", "related_product")),
    ("Leading to withdrawal", "led_to_withdrawal"),
)


def _yes(series: pd.Series) -> pd.Series:
    return series.astype(str).str.upper().isin(("Y", "1", "TRUE"))


def _subjects_with(ae: pd.DataFrame, flags: str | tuple[str, ...] | None) -> set[str]:
    if flags is None:
        return set(ae[S.SUBJECT_ID])
    mask = pd.Series(True, index=ae.index)
    for f in (flags,) if isinstance(flags, str) else flags:
        if f not in ae.columns:
            return set()
        mask &= _yes(ae[f])
    return set(ae.loc[mask, S.SUBJECT_ID])


def _row(label: str, ids: set[str], denominators: dict[str, pd.Index], arms: list[str],
         reference: str) -> dict[str, object]:
    row: dict[str, object] = {"category": label}
    counts = {a: int(denominators[a].isin(ids).sum()) for a in arms}
    for a in arms:
        n = len(denominators[a])
        row[f"{a}|count"], row[f"{a}|n"] = counts[a], n
        row[f"{a}|pct"] = 100 * counts[a] / n if n else math.nan
    treat = arms[0]
    if len(denominators[treat]) and len(denominators[reference]):
        rd = stats.compare_binary(counts[treat], len(denominators[treat]), counts[reference],
                                  len(denominators[reference]), treat, reference, "fisher")[0]
        row.update({"rd": rd.estimate, "rd_low": rd.ci_low, "rd_high": rd.ci_high, "p_value": rd.p_value})
    return row


def _denominators(trial: S.Trial, population: str | None, filters: Filters) -> tuple[dict, list, str]:
    pop = population or ("SAFETY" if any(p.id == "SAFETY" for p in trial.design.populations)
                         else trial.design.default_population)
    subjects = derive.select_subjects(trial, pop, filters)
    d = trial.design
    arms = [*d.treatment_arms, d.reference_arm]
    den = {a: pd.Index(subjects.loc[subjects[S.ARM] == a, S.SUBJECT_ID]) for a in arms}
    return den, arms, d.reference_arm


def ae_overview(trial: S.Trial, population: str | None = None, filters: Filters = ()) -> pd.DataFrame:
    """Subjects with at least one event of each kind, per arm, with risk difference (Newcombe CI)
    and Fisher's exact p. Columns: category, ``<arm>|count``, ``<arm>|n``, ``<arm>|pct``, rd,
    rd_low, rd_high, p_value."""
    den, arms, ref = _denominators(trial, population, filters)
    ae = trial.adverse_events
    return pd.DataFrame([_row(label, _subjects_with(ae, flags), den, arms, ref) for label, flags in OVERVIEW])


def ae_by_term(trial: S.Trial, population: str | None = None, filters: Filters = (),
               serious_only: bool = False) -> pd.DataFrame:
    """Subjects with each system organ class and preferred term, most frequent first.

    Columns: soc, term ("" on the organ-class row), label (for display), then as
    :func:`ae_overview`.
    """
    den, arms, ref = _denominators(trial, population, filters)
    ae = trial.adverse_events
    if serious_only:
        ae = ae[_yes(ae["serious"])]
    rows = []
    soc_order = ae.groupby("soc")[S.SUBJECT_ID].nunique().sort_values(ascending=False, kind="mergesort")
    for soc in soc_order.index:
        part = ae[ae["soc"] == soc]
        rows.append({"soc": soc, "term": "", **_row(soc, set(part[S.SUBJECT_ID]), den, arms, ref)})
        terms = part.groupby("term")[S.SUBJECT_ID].nunique().sort_values(ascending=False, kind="mergesort")
        for term in terms.index:
            ids = set(part.loc[part["term"] == term, S.SUBJECT_ID])
            rows.append({"soc": soc, "term": term, **_row(term, ids, den, arms, ref)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["label"] = [t if t else f"{soc} (any term)" for soc, t in zip(out["soc"], out["term"], strict=True)]
    return out.drop(columns=["category"])


def immune_response(trial: S.Trial, population: str | None = None,
                    filters: Filters = ()) -> pd.DataFrame:
    """Antibody status at each visit and new positives (negative at baseline, positive later),
    for the endpoints of the study's declared ``immune_response`` group (empty if undeclared).

    Columns: endpoint, visit, label (for display), then ``<arm>|count``, ``<arm>|n``,
    ``<arm>|pct``.
    """
    d = trial.design
    arms = [*d.treatment_arms, d.reference_arm]
    available = set(trial.measurements[S.ENDPOINT])
    rows = []
    for ep in d.group("immune_response"):  # the study's declared antibody endpoints
        if ep not in available:
            continue
        data = derive.endpoint_data(trial, ep, population, filters)
        base = min(v.number for v in d.visits)
        wide = data.pivot_table(index=[S.SUBJECT_ID, S.ARM], columns=S.VISIT_MONTH, values=S.VALUE)
        for month in wide.columns:
            row: dict[str, object] = {"endpoint": ep, "visit": d.visit_label(month)}
            for a in arms:
                has_arm = a in wide.index.get_level_values(1)
                x = wide.xs(a, level=S.ARM)[month].dropna() if has_arm else pd.Series(dtype=float)
                row[f"{a}|count"], row[f"{a}|n"] = int((x == 1).sum()), int(x.size)
                row[f"{a}|pct"] = 100 * (x == 1).mean() if x.size else math.nan
            rows.append(row)
            if month != base and base in wide.columns:
                row = {"endpoint": ep, "visit": f"New at {d.visit_label(month)}"}
                for a in arms:
                    sub = wide.xs(a, level=S.ARM) if a in wide.index.get_level_values(1) else wide.iloc[0:0]
                    both = sub[[base, month]].dropna()
                    neg = both[both[base] == 0]
                    row[f"{a}|count"], row[f"{a}|n"] = int((neg[month] == 1).sum()), len(neg)
                    row[f"{a}|pct"] = 100 * (neg[month] == 1).mean() if len(neg) else math.nan
                rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out.insert(2, "label", out["endpoint"] + ", " + out["visit"])
    return out

