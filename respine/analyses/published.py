"""The published figures of the trial beside the same figures recomputed from the loaded data."""

from __future__ import annotations

import pandas as pd

from respine import derive, stats
from respine.analyses.compare import analyze
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.results import AnalysisResult
from respine.model.selection import Selection
from respine.present import fmt

NOTHING_DECLARED = (
    "This study declares no published results; add them to study.toml as [primary.published] "
    "(the primary result: rate <arm>, p_value, randomised <arm>), [published] "
    "serious_related_events or [[published.no_difference]] claims (see data/study.toml), and "
    "this page sets each beside the same figure recomputed from the data."
)
"""What the paper page says for a study that declares no published figure."""


def declares_published(design: S.StudyDesign) -> bool:
    """Whether the study description declares any published figure the paper page can check."""
    facts = design.published
    return bool((design.primary is not None and design.primary.published)
                or facts.serious_related_events is not None or facts.no_difference)


def paper_check(trial: S.Trial) -> pd.DataFrame:
    """Every published fact the study description declares beside the same fact recomputed from
    the loaded data.

    The facts are the primary result (``[primary.published]``), the number of subjects with a
    serious adverse event related to the product (``[published] serious_related_events``) and
    any claim that no comparison of a list differs between arms (``[[published.no_difference]]``,
    recomputed by :func:`no_difference_check`). Only what the study declares is checked: a study
    that declares none of them gets an empty table (see :func:`declares_published`), and the
    primary analysis is run only when the study publishes a primary figure. Columns: item,
    published, recomputed, matches. On the synthetic twin every row matches; on real data this is
    the first check a statistician runs.
    """
    rows: list[dict[str, object]] = []
    if trial.design.primary is not None and trial.design.primary.published:
        result = analyze(trial, primary_selection(trial))
        rows.extend(primary_check(trial, result).to_dict("records"))
    facts = trial.design.published
    ae = trial.adverse_events
    if facts.serious_related_events is not None:
        published = facts.serious_related_events
        item = "Serious adverse events related to the product"
        claimed = "none" if published == 0 else f"{published} subjects"
        if {"serious", "related_product"} <= set(ae.columns):
            both = ae[(ae["serious"].astype(str) == "Y") & (ae["related_product"].astype(str) == "Y")]
            n = both[S.SUBJECT_ID].nunique()
            rows.append({"item": item, "published": claimed, "recomputed": f"{n} subjects",
                         "matches": n == published})
        else:  # declared but not recomputable: say so rather than drop the row
            rows.append({"item": item, "published": claimed,
                         "recomputed": "not recomputable: the adverse events have no serious and "
                                       "related_product columns", "matches": False})
    for claim in facts.no_difference:
        rows.append(no_difference_check(trial, claim))
    return pd.DataFrame(rows, columns=["item", "published", "recomputed", "matches"])


def no_difference_p_values(trial: S.Trial, claim: S.NoDifferenceClaim) -> dict[str, float]:
    """The p-value of each comparison of a declared no-difference claim, by the core analysis.

    Continuous endpoints: change from baseline by ``claim.continuous_method``; binary ones by
    ``claim.binary_method``; first treatment arm against the reference, complete cases, in the
    claim's population. A comparison the data cannot make (no such endpoint or visit) is left
    out. Keys are "<endpoint> at <visit label>".
    """
    out: dict[str, float] = {}
    available = set(trial.measurements[S.ENDPOINT].astype(str))
    d = trial.design
    arm, reference = d.treatment_arms[0], d.reference_arm
    base_visit = min(v.number for v in d.visits)
    for endpoint, visit in claim.comparisons:
        ep = trial.endpoint(endpoint)
        if not set(ep.derived_from or (ep.id,)) <= available:
            continue
        method = claim.binary_method if ep.kind == "binary" else claim.continuous_method
        key = f"{endpoint} at {d.visit_label(visit)}"
        try:
            if (ep.kind == "binary" and method in stats.BINARY_TESTS) or (
                    ep.kind == "continuous" and method == "welch" and visit != base_visit):
                # The same test analyze() runs, on the same complete cases, without the summaries,
                # figures' extras and methods sentence a page needs (38 comparisons in RESPINE).
                p = _plain_test_p(trial, endpoint, visit, claim.population, method, arm, reference)
            else:
                sel = Selection(endpoint=endpoint, visit=visit, population=claim.population,
                                method=method, measure="aval" if ep.kind == "binary" else "chg")
                contrasts = analyze(trial, sel).contrasts
                p = contrasts[0].p_value if contrasts else None
        except (AnalysisError, SelectionError):
            continue  # e.g. no subject with a value at that visit
        if p is not None:
            out[key] = p
    return out


def _plain_test_p(trial: S.Trial, endpoint: str, visit: float, population: str | None, method: str,
                  arm: str, reference: str) -> float | None:
    """p-value of Welch's t-test on change from baseline, or of a test of a 2x2 table, at a visit
    (complete cases); ``None`` when an arm has no value there."""
    data = derive.endpoint_data(trial, endpoint, population)
    at = data[data[S.VISIT_MONTH] == visit]
    if trial.endpoint(endpoint).kind == "binary":
        y1 = at.loc[at[S.ARM] == arm, S.VALUE].dropna().to_numpy()
        y2 = at.loc[at[S.ARM] == reference, S.VALUE].dropna().to_numpy()
        if not (y1.size and y2.size):
            return None
        return stats.compare_binary(int((y1 == 1).sum()), int(y1.size), int((y2 == 1).sum()),
                                    int(y2.size), arm, reference, method)[0].p_value
    y1 = at.loc[at[S.ARM] == arm, derive.CHG].dropna()
    y2 = at.loc[at[S.ARM] == reference, derive.CHG].dropna()
    if not (len(y1) and len(y2)):
        return None
    return stats.welch_t(y1, y2, arm, reference).p_value


def no_difference_check(trial: S.Trial, claim: S.NoDifferenceClaim) -> dict[str, object]:
    """One paper-check row: the comparisons of a no-difference claim with p < alpha, if any."""
    p_values = no_difference_p_values(trial, claim)
    significant = sorted(k for k, v in p_values.items() if v < claim.alpha)
    return {
        "item": f"{claim.item} ({len(p_values)} comparisons)",
        "published": "none",  # the study's own claim ([[published.no_difference]])
        "recomputed": ", ".join(significant) or f"none (all p >= {claim.alpha:g})",
        "matches": not significant,
    }


def conclusion(trial: S.Trial, result: AnalysisResult) -> str:
    """The primary result in one sentence: the study's declared conclusion, or, when it declares
    none, the test's own result at the two-sided 5% level (never a fixed verdict)."""
    p = trial.design.primary
    if p is not None and p.conclusion:
        return p.conclusion
    if not result.contrasts:
        return ""
    c = result.contrasts[0]
    verdict = "differs" if c.p_value < 0.05 else "does not differ significantly"
    shown = fmt.p_value(c.p_value)
    p_text = f"p {shown}" if shown.startswith("<") else f"p = {shown}"
    return (f"{c.arm} {verdict} from {c.reference} at the two-sided 5% level "
            f"({p_text}, {result.method_label}).")


def primary_selection(trial: S.Trial) -> Selection:
    """The study's documented primary analysis as a :class:`Selection`."""
    p = trial.design.primary
    if p is None:
        raise SelectionError("The study description has no [primary] analysis.")
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

