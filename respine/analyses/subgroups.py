"""Subgroup analyses: the treatment effect within each level of a subject covariate, with one
treatment-by-subgroup interaction test per covariate. Exploratory by nature: a forest plot of
many subgroups will show some "effects" by chance alone.

References
----------
.. [1] Wang R, Lagakos SW, Ware JH, Hunter DJ, Drazen JM. Statistics in medicine: reporting of
   subgroup analyses in clinical trials. N Engl J Med 2007;357:2189-2194.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd

from respine import derive, stats
from respine.derive.arms import require_view
from respine.errors import AnalysisError
from respine.model import design as S
from respine.model.labels import endpoint_label
from respine.model.selection import Selection
from respine.stats.models import interaction_f_test, interaction_lr_test

MIN_PER_CELL = 2


def cut_levels(values: pd.Series, cutpoints: tuple[float, ...] | None = None,
               unit: str = "") -> pd.Series:
    """Cut a numeric covariate into labelled groups: at its median, or at the given cut-points.

    Groups are closed on the right: with cut-point c, "≤ c" and "> c".
    """
    x = pd.to_numeric(values, errors="coerce")
    cuts = sorted(set(cutpoints)) if cutpoints else [float(x.median())]
    edges = [-math.inf, *cuts, math.inf]
    u = f" {unit}" if unit else ""
    labels = []
    for lo, hi in itertools.pairwise(edges):
        if lo == -math.inf:
            labels.append(f"≤ {hi:g}{u}")
        elif hi == math.inf:
            labels.append(f"> {lo:g}{u}")
        else:
            labels.append(f"{lo:g}-{hi:g}{u}")
    return pd.cut(x, edges, labels=labels, right=True).astype(object).where(x.notna(), None)


def subgroup_analysis(trial: S.Trial, sel: Selection, variables: tuple[str, ...],
                      cutpoints: tuple[tuple[str, tuple[float, ...]], ...] = (),
                      binary_measure: str = "risk_difference") -> pd.DataFrame:
    """Treatment effect of every treatment arm vs the reference, overall and in each subgroup level.

    Continuous endpoints: difference in mean change (Welch CI). Binary endpoints: risk
    difference (Newcombe CI) or odds ratio (Woolf CI). Continuous covariates are cut at the
    median unless ``cutpoints`` gives cut-points for them. Each comparison is the analysis of its
    two arms alone (the subjects of the other arms take no part in it, nor in its interaction
    tests), so a study of three arms gives the numbers of two two-arm studies.

    Returns
    -------
    DataFrame
        One row per comparison and subgroup level (each comparison's first row "Overall"): arm,
        reference, variable, level, n of the two arms (``n <arm>``, ``n <reference>``; empty on the
        rows of other comparisons), estimate, ci_low, ci_high, p_interaction (on the first row of
        each variable) and its Holm and Benjamini-Hochberg adjustments over the covariates of the
        comparison, measure, note.

    References
    ----------
    .. [1] Wang R, Lagakos SW, Ware JH, Hunter DJ, Drazen JM. Statistics in medicine: reporting of
       subgroup analyses in clinical trials. N Engl J Med 2007;357:2189-2194.
    """
    require_view(trial, sel.arms, sel.pool)
    ep = trial.endpoint(sel.endpoint)
    design = trial.design
    data = derive.endpoint_data(trial, ep.id, sel.population, sel.filters, sel.rule, sel.mcid_vas,
                                sel.mcid_odi)
    column = S.VALUE if ep.kind == "binary" else {"aval": S.VALUE, "chg": derive.CHG,
                                                  "pchg": derive.PCHG}[sel.measure]
    at_visit = data[data[S.VISIT_MONTH] == sel.visit].dropna(subset=[column])
    if at_visit.empty:
        raise AnalysisError(f"{endpoint_label(ep, sel.rule, trial.endpoint)} has no data at "
                            f"{design.visit_label(sel.visit)} in this selection.")
    derive.check_covariates(trial, variables, "Subgroup")
    frames = [_one_comparison(trial, ep.kind, at_visit, column, arm, design.reference_arm, variables,
                              dict(cutpoints), binary_measure)
              for arm in design.treatment_arms]
    return pd.concat(frames, ignore_index=True)


def _one_comparison(trial: S.Trial, kind: str, at_visit: pd.DataFrame, column: str, treat: str, ref: str,
                    variables: tuple[str, ...], cuts: dict[str, tuple[float, ...]],
                    binary_measure: str) -> pd.DataFrame:
    """:func:`subgroup_analysis` of one treatment arm against the reference."""
    design = trial.design
    at = at_visit[at_visit[S.ARM].isin([treat, ref])]
    covariates = derive.subject_table(trial).set_index(S.SUBJECT_ID)
    kinds = {c.column: c for c in design.covariates}
    measure = "mean_difference" if kind == "continuous" else binary_measure

    def effect(part: pd.DataFrame) -> tuple[dict[str, int], float, float, float, str]:
        x, y = part.loc[part[S.ARM] == treat, column], part.loc[part[S.ARM] == ref, column]
        counts = {treat: int(x.size), ref: int(y.size)}
        if min(x.size, y.size) < MIN_PER_CELL:
            return counts, math.nan, math.nan, math.nan, f"fewer than {MIN_PER_CELL} subjects in an arm"
        try:
            if kind == "continuous":
                c = stats.welch_t(x, y, treat, ref)
            else:
                k1, k2 = int((x == 1).sum()), int((y == 1).sum())
                rd, _, odds = stats.compare_binary(k1, x.size, k2, y.size, treat, ref, "fisher")
                c = rd if binary_measure == "risk_difference" else odds
        except AnalysisError as exc:
            return counts, math.nan, math.nan, math.nan, str(exc).split(".")[0]
        return counts, c.estimate, c.ci_low, c.ci_high, "; ".join(c.notes[1:]) if c.notes else ""

    def row(variable: str, level: str, part: pd.DataFrame, p_int: float) -> dict[str, object]:
        counts, est, lo, hi, note = effect(part)
        return {"arm": treat, "reference": ref, "variable": variable, "level": level,
                **{f"n {a}": n for a, n in counts.items()}, "estimate": est, "ci_low": lo,
                "ci_high": hi, "p_interaction": p_int, "measure": measure, "note": note}

    rows = [row("Overall", "All subjects", at, math.nan)]
    for var in variables:
        raw = covariates[var].reindex(at[S.SUBJECT_ID].to_numpy())
        label = kinds[var].label if var in kinds else var
        continuous = var in kinds and kinds[var].kind == "continuous"
        if continuous:
            groups = cut_levels(raw, cuts.get(var), kinds[var].unit)
        else:
            groups = derive.as_levels(raw).where(raw.notna(), None)
        part_all = at.assign(_group=groups.to_numpy()).dropna(subset=["_group"])
        y = part_all[column].to_numpy(float)
        arm01 = (part_all[S.ARM] == treat).to_numpy(float)
        level = part_all["_group"].astype(str).to_numpy()
        p_int = (interaction_lr_test(y, arm01, level) if kind == "binary"
                 else interaction_f_test(y, arm01, level))
        order = sorted(set(level), key=_cut_order if continuous else derive.natural_key)
        for i, lev in enumerate(order):
            rows.append(row(label, lev, part_all[part_all["_group"].astype(str) == lev],
                            p_int if i == 0 else math.nan))
    out = pd.DataFrame(rows)
    # One family per comparison: the interaction tests of the chosen covariates (Holm; BH).
    from respine.stats.multiplicity import adjust_p

    has_p = out["p_interaction"].notna()
    for method in ("holm", "bh"):
        out[f"p_interaction_{method}"] = math.nan
        if has_p.any():
            out.loc[has_p, f"p_interaction_{method}"] = adjust_p(out.loc[has_p, "p_interaction"], method)
    return out


def _cut_order(label: str) -> tuple[int, float]:
    if label.startswith("≤"):
        return (0, 0.0)
    if label.startswith(">"):
        return (2, 0.0)
    return (1, float(label.split("-")[0]))


def parse_cutpoints(text: str) -> tuple[float, ...]:
    """Cut-points typed by a person: numbers separated by commas or spaces ("40, 50")."""
    from respine.errors import SelectionError

    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        values = tuple(sorted({float(p) for p in parts}))
    except ValueError as exc:
        raise SelectionError(f"Cut-points '{text}' must be numbers separated by commas, "
                             "e.g. 40, 50.") from exc
    if any(not math.isfinite(v) for v in values):
        raise SelectionError(f"Cut-points '{text}' must be finite numbers.")
    return values

