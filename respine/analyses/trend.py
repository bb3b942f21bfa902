"""Courses over time: arm summaries by visit, ANCOVA at each visit, and MMRM least-squares means."""

from __future__ import annotations

import numpy as np
import pandas as pd

from respine import derive, stats
from respine.analyses.availability import visits_with_data
from respine.analyses.compare import analyze
from respine.analyses.repeated import mmrm_fit
from respine.errors import AnalysisError
from respine.model import design as S
from respine.model.labels import endpoint_label
from respine.model.selection import Selection


def _by_visit_and_arm(frame: pd.DataFrame, trial: S.Trial) -> pd.DataFrame:
    """Rows ordered by visit, then arm in the study's order (treatment arms first, reference last)."""
    order = {a: i for i, a in enumerate(derive.arm_order(trial))}
    return frame.sort_values(
        ["visit_month", "arm"], key=lambda c: c.map(order) if c.name == "arm" else c
    ).reset_index(drop=True)


def _needs_baseline(ep_label: str, measure: str, data: pd.DataFrame) -> None:
    """Refuse a change from baseline of an endpoint that has no baseline value (a course of
    empty rows, or of observed values under a change-from-baseline axis, would mislead)."""
    if measure != "aval" and not data[derive.BASE].notna().any():
        raise AnalysisError(
            f"{ep_label} has no baseline value, so its {derive.MEASURES[measure].lower()} cannot be "
            f"shown; choose the measure '{derive.MEASURES['aval']}'."
        )


def over_time(trial: S.Trial, sel: Selection, records: derive.Records = "analysis") -> pd.DataFrame:
    """Per-arm summary at every visit: mean (95% CI) or rate (Wilson 95% CI), with n.

    ``records`` (:mod:`respine.derive.records`): ``"analysis"`` summarises the records the
    comparison at each visit reads (derived ones such as LOCF included), so the course and the
    comparison table agree; ``"observed"`` the observed records only.

    Columns: arm, visit_month, visit, n, estimate, ci_low, ci_high (plus sd/median for
    continuous endpoints, responders for binary ones) and derived (how many of the n records
    are derived).
    """
    ep = trial.endpoint(sel.endpoint)
    population = sel.population or trial.design.default_population
    data = derive.endpoint_data(trial, ep.id, population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi,
                                records=records)
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}.get(sel.measure, S.VALUE)
    if ep.kind != "continuous":
        column = S.VALUE
    elif not data.empty:
        _needs_baseline(ep.label, sel.measure, data)
    rows = []
    for (arm, month), g in data.groupby([S.ARM, S.VISIT_MONTH], sort=True):
        derived = int((~derive.is_observed(g[g[column].notna()])).sum())
        if ep.kind == "continuous":
            s = stats.summarise_continuous(g[column], str(arm))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "n": s.n,
                    "estimate": s.mean,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "sd": s.sd,
                    "median": s.median,
                    "derived": derived,
                }
            )
        else:
            b = stats.summarise_binary(g[S.VALUE], str(arm))
            rows.append(
                {
                    "arm": arm,
                    "visit_month": month,
                    "n": b.n,
                    "estimate": b.rate,
                    "ci_low": b.ci_low,
                    "ci_high": b.ci_high,
                    "responders": b.responders,
                    "derived": derived,
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        raise AnalysisError(f"{endpoint_label(ep, sel.rule, trial.endpoint)} has no data in this selection.")
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)


def over_time_adjusted(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Model-based course: LS means (95% CI) per arm and post-baseline visit from an ANCOVA of
    the chosen measure on arm and baseline at each visit (same columns as :func:`over_time`);
    an endpoint without a baseline value has no baseline term (its observed value on arm).

    A repeated-measures model over all visits (MMRM) is the fuller alternative; this per-visit
    ANCOVA is the model the comparison table uses.
    """
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError("Model-based means need a continuous endpoint.")
    base = min(v.number for v in trial.design.visits)
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters)
    if not data.empty:
        _needs_baseline(ep.label, sel.measure, data)
    rows = []
    for month in visits_with_data(trial, ep.id):
        if month == base:
            continue
        try:
            result = analyze(trial, sel.with_(visit=month, method="ancova"))
        except AnalysisError:
            continue
        n_by_arm = {a.arm: a.n for a in result.arms}
        for d in result.lsmeans:
            rows.append(
                {
                    "arm": d["arm"],
                    "visit_month": month,
                    "n": n_by_arm.get(d["arm"], 0),
                    "estimate": d["lsmean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "sd": np.nan,
                    "median": np.nan,
                }
            )
    if not rows:
        raise AnalysisError(f"No visit of {ep.label} has enough data for the model in this selection.")
    out = pd.DataFrame(rows)
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)


def over_time_mmrm(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """LS means (95% CI) per arm and post-baseline visit from one MMRM (same columns as
    :func:`over_time`)."""
    fit = mmrm_fit(trial, sel)
    out = fit.lsmeans.rename(columns={"visit": "visit_month"})[
        ["arm", "visit_month", "n", "estimate", "ci_low", "ci_high"]
    ].copy()
    out["sd"], out["median"] = np.nan, np.nan
    out["visit"] = out["visit_month"].map(trial.design.visit_label)
    return _by_visit_and_arm(out, trial)

