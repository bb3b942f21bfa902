"""Computations behind the reader's views: responder profile, individual trajectories,
waterfall, MRI against clinical change, missing data, and the full paper check.

Each function returns a tidy DataFrame of unrounded numbers; :mod:`respine.present.figures` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as sps

from respine import derive, stats
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.endpoints import Mcid, Responder
from respine.model.rules import ResponderRule
from respine.model.selection import Selection

SPAGHETTI_MAX_SUBJECTS = 300


def _improvement(trial: S.Trial, sel: Selection, endpoint: str, relative: bool) -> pd.DataFrame:
    """Improvement from baseline at the visit (baseline minus value; percent of baseline if
    ``relative``), positive = better for lower-is-better scales."""
    ep = trial.endpoint(endpoint)
    data = derive.endpoint_data(trial, endpoint, sel.population, sel.filters)
    at = data[data[S.VISIT_MONTH] == sel.visit].dropna(subset=[derive.CHG])
    sign = -1.0 if ep.lower_is_better else 1.0
    at = at.assign(improvement=sign * (at[derive.PCHG] if relative else at[derive.CHG]))
    at = at.dropna(subset=["improvement"])
    if at.empty:
        raise AnalysisError(
            f"{ep.label} has no change from baseline at "
            f"{trial.design.visit_label(sel.visit)} in this selection."
        )
    return at


def cumulative_distribution(
    trial: S.Trial, sel: Selection, endpoint: str, relative: bool = False
) -> pd.DataFrame:
    """Per arm: each subject's improvement and the share of the arm improving at least that much.

    Columns: arm, improvement, share (the proportion with improvement >= this value), n. This is
    the "responder curve" the FDA guidance on patient-reported outcomes recommends.

    References
    ----------
    .. [1] FDA. Patient-reported outcome measures: use in medical product development to support
       labeling claims. Guidance for industry, 2009 (cumulative distribution function displays).
    """
    at = _improvement(trial, sel, endpoint, relative)
    rows = []
    for arm in derive.arm_order(trial):
        x = np.sort(at.loc[at[S.ARM] == arm, "improvement"].to_numpy(float))
        n = x.size
        if n == 0:
            continue
        share = 1.0 - np.arange(n) / n  # P(improvement >= x_i), ties share the top value
        rows.append(pd.DataFrame({"arm": arm, "improvement": x, "share": share, "n": n}))
    return pd.concat(rows, ignore_index=True)


def threshold_sweep(
    trial: S.Trial, sel: Selection, endpoint: str, thresholds: np.ndarray, relative: bool = False
) -> pd.DataFrame:
    """Responder rate per arm and risk difference (Newcombe 95% CI) as the threshold sweeps.

    A subject responds at threshold t when their improvement is at least t.
    Columns: threshold, ``rate <arm>`` and ``responders <arm>`` per arm, rd, rd_low, rd_high.
    """
    at = _improvement(trial, sel, endpoint, relative)
    d = trial.design
    treat, ref = d.treatment_arms[0], d.reference_arm
    x = at.loc[at[S.ARM] == treat, "improvement"].to_numpy(float)
    y = at.loc[at[S.ARM] == ref, "improvement"].to_numpy(float)
    if x.size == 0 or y.size == 0:
        raise AnalysisError("Both arms need subjects with a value to sweep the threshold.")
    rows = []
    for t in thresholds:
        k1, k2 = int((x >= t - 1e-9).sum()), int((y >= t - 1e-9).sum())
        lo, hi = stats.newcombe_difference_ci(k1, x.size, k2, y.size)
        rows.append(
            {
                "threshold": float(t),
                f"rate {treat}": k1 / x.size,
                f"rate {ref}": k2 / y.size,
                f"responders {treat}": k1,
                f"responders {ref}": k2,
                "rd": k1 / x.size - k2 / y.size,
                "rd_low": lo,
                "rd_high": hi,
            }
        )
    return pd.DataFrame(rows)


def trajectories(trial: S.Trial, sel: Selection, seed: int = 1) -> tuple[pd.DataFrame, int]:
    """Individual values over visits; at most ``SPAGHETTI_MAX_SUBJECTS`` subjects per arm drawn
    at random (seeded) so large trials stay legible. Returns (frame, subjects in the selection)."""
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError(f"Individual trajectories need a continuous endpoint; {ep.label} is binary.")
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters)
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    data = data.dropna(subset=[column])
    total = data[S.SUBJECT_ID].nunique()
    rng = np.random.default_rng(seed)
    keep = []
    for _, part in data.groupby(S.ARM):
        ids = part[S.SUBJECT_ID].unique()
        if ids.size > SPAGHETTI_MAX_SUBJECTS:
            ids = rng.choice(ids, SPAGHETTI_MAX_SUBJECTS, replace=False)
        keep.extend(ids)
    out = data[data[S.SUBJECT_ID].isin(keep)]
    return out.assign(y=out[column])[[S.SUBJECT_ID, S.ARM, S.VISIT_MONTH, S.VISIT, "y"]], total


def waterfall(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Percent change from baseline at the visit, one bar per subject, sorted within arm.

    Columns: subject_id, arm, pchg, rank (1 = largest increase).
    """
    ep = trial.endpoint(sel.endpoint)
    if ep.kind != "continuous":
        raise AnalysisError(f"A waterfall plot needs a continuous endpoint; {ep.label} is binary.")
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters)
    at = data[data[S.VISIT_MONTH] == sel.visit].dropna(subset=[derive.PCHG])
    if at.empty:
        raise AnalysisError(f"{ep.label} has no percent change at {trial.design.visit_label(sel.visit)}.")
    at = at.sort_values([S.ARM, derive.PCHG], ascending=[True, False])
    at = at.assign(rank=at.groupby(S.ARM).cumcount() + 1)
    return at[[S.SUBJECT_ID, S.ARM, derive.PCHG, "rank"]].reset_index(drop=True)


def structure_vs_symptoms(
    trial: S.Trial, sel: Selection, clinical: str | None = None, structural: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change in the structural endpoint against change in a clinical one, per subject, and the
    Spearman correlation per arm and overall.

    ``clinical`` and ``structural`` default to the first endpoint of the study's declared
    ``symptoms`` and ``structural`` groups.

    Returns (points: subject_id, arm, structural, clinical; correlations: arm, n, rho, p).

    References
    ----------
    .. [1] Spearman C. The proof and measurement of association between two things.
       Am J Psychol 1904;15:72-101.
    """
    clinical = clinical or next(iter(trial.design.group("symptoms")), None)
    structural = structural or next(iter(trial.design.group("structural")), None)
    if clinical is None or structural is None:
        raise SelectionError("Name a clinical and a structural endpoint: the study description declares "
                             "no [groups] symptoms and structural to default to.")
    frames = []
    for ep in (structural, clinical):
        d = derive.endpoint_data(trial, ep, sel.population, sel.filters)
        d = d[d[S.VISIT_MONTH] == sel.visit][[S.SUBJECT_ID, S.ARM, derive.CHG]]
        frames.append(d.rename(columns={derive.CHG: ep}))
    points = frames[0].merge(frames[1], on=[S.SUBJECT_ID, S.ARM]).dropna()
    if len(points) < 3:
        raise AnalysisError(
            f"Too few subjects with both {structural} and {clinical} change at "
            f"{trial.design.visit_label(sel.visit)}."
        )
    rows = []
    for arm, part in [*points.groupby(S.ARM), ("All", points)]:
        if len(part) >= 3 and part[structural].nunique() > 1 and part[clinical].nunique() > 1:
            rho, p = sps.spearmanr(part[structural], part[clinical])
            rows.append({"arm": arm, "n": len(part), "rho": float(rho), "p_value": float(p)})
        else:
            rows.append({"arm": arm, "n": len(part), "rho": math.nan, "p_value": math.nan})
    return points, pd.DataFrame(rows)


def threshold_lines(
    trial: S.Trial, endpoint: str, relative: bool, rule: ResponderRule, parameters: Mapping[str, float]
) -> dict[str, float]:
    """The thresholds the study's derived endpoints put on one scale, for a cumulative plot.

    The responder rule's criterion on ``endpoint`` (first component: ``vas_pct`` or ``vas_mm``;
    second: ``odi_pct``; absolute thresholds only for the first) as ``"responder"``, and the MCID
    threshold of an MCID endpoint whose source is ``endpoint`` (absolute scale) as ``"MCID"``;
    ``parameters`` holds the MCID view parameters by name (``mcid_vas``, ``mcid_odi``). Which
    endpoints carry which threshold comes from the declared derivations, not from the id.
    """
    lines: dict[str, float] = {}
    for e in trial.derived_endpoints("responder"):
        d = trial.endpoint(e).derivation
        if isinstance(d, Responder) and endpoint == d.first:
            lines["responder"] = rule.vas_pct if relative else rule.vas_mm
        elif isinstance(d, Responder) and endpoint == d.second and relative:
            lines["responder"] = rule.odi_pct
        if lines:
            break
    if not relative:
        for e in trial.derived_endpoints("mcid"):
            d = trial.endpoint(e).derivation
            if isinstance(d, Mcid) and d.source == endpoint:
                lines["MCID"] = float(parameters[d.threshold])
                break
    return lines


def sweep_thresholds(cumulative: pd.DataFrame, relative: bool) -> tuple[float, ...]:
    """A threshold grid from 0 to the largest improvement seen (at most 100): steps of 5 for
    percentages and wide scales, 2 for narrow ones."""
    top = float(np.ceil(max(cumulative["improvement"].max(), 1.0)))
    step = 5.0 if relative or top > 40 else 2.0
    return tuple(float(t) for t in np.arange(0.0, min(top, 100.0) + step, step))

