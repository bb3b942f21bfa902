"""Stratified and model-based comparisons of a binary (responder) endpoint.

* :func:`cmh_risk_difference`: Mantel-Haenszel common risk difference with Sato's variance.
* :func:`cmh_odds_ratio`: Mantel-Haenszel common odds ratio with the Robins-Breslow-Greenland
  variance; Cochran-Mantel-Haenszel test.
* :func:`logistic_adjusted`: covariate-adjusted odds ratios from a logistic regression.
* :func:`gee_responder`: odds ratio per visit from a logistic GEE across visits (robust SEs).

Every function returns unrounded numbers; :mod:`respine.present.fmt` formats. statsmodels is imported
inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from respine.errors import AnalysisError
from respine.model.results import Contrast

CORRELATIONS = ("exchangeable", "unstructured", "independence")


# ============================================================================ shared helpers


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise AnalysisError(f"The confidence level must be between 0 and 1 (got {level}); "
                            "use for example 0.95 for a 95% interval.")
    return float(sps.norm.ppf(0.5 + level / 2))


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(f"Columns {missing} are not in the data. Available columns: "
                            f"{', '.join(map(str, frame.columns))}.")


def _as_binary(values: pd.Series, name: str) -> np.ndarray:
    """A 0/1 (or True/False) column as floats; anything else is an error."""
    x = pd.to_numeric(values.astype("object").map(lambda v: float(v) if isinstance(v, bool) else v),
                      errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(x, (0.0, 1.0))
    if bad.any():
        examples = ", ".join(map(str, pd.unique(values[bad])[:3]))
        raise AnalysisError(f"The response column '{name}' must hold 0 (non-responder) or 1 "
                            f"(responder) only; found {examples}. Choose a binary endpoint.")
    return x


def _select(frame: pd.DataFrame, columns: Sequence[str], arm_col: str,
            arms: Sequence[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Rows of the compared arms with no missing value in ``columns``, and a note on what was dropped."""
    _require_columns(frame, columns)
    if frame.empty:
        raise AnalysisError("There are no subjects to analyse: the selection is empty. Widen the "
                            "population or filters, or choose another visit.")
    d = frame.loc[frame[arm_col].astype(str).isin([str(a) for a in arms]), list(columns)].copy()
    d[arm_col] = d[arm_col].astype(str)
    n_in = len(d)
    d = d.dropna()
    notes: tuple[str, ...] = ()
    if len(d) < n_in:
        notes = (f"{n_in - len(d)} record(s) with a missing value were left out.",)
    if d.empty:
        raise AnalysisError(f"No subject of arms {', '.join(map(str, arms))} has complete data for "
                            "this analysis. Widen the population or filters, or choose another visit.")
    return d, notes


def _order_arms(present: Sequence[str], reference: str, arm_order: Sequence[str]) -> list[str]:
    rank = {a: i for i, a in enumerate(arm_order)}
    others = [a for a in present if a != reference]
    return sorted(others, key=lambda a: (rank.get(a, len(rank)), str(a)))


def _covariate_blocks(d: pd.DataFrame, covariates: Sequence[str]
                      ) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Design columns for covariates: numbers as they are, categories as treatment-coded dummies.

    The first level (in sorted order) of a categorical covariate is its reference level.
    Returns the columns, their names and notes.
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    notes: list[str] = []
    for c in covariates:
        col = d[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            blocks.append(col.to_numpy(float))
            names.append(str(c))
        else:
            text = col.astype(str)
            levels = sorted(pd.unique(text))
            if len(levels) < 2:
                notes.append(f"Covariate '{c}' has a single level ({levels[0]}) in this selection "
                             "and adjusts for nothing.")
            for lev in levels[1:]:
                blocks.append((text == lev).to_numpy(float))
                names.append(f"{c}[{lev}]")
    return blocks, names, notes


def _full_rank_or_raise(X: np.ndarray, names: Sequence[str], what: str) -> None:
    if X.shape[0] <= X.shape[1]:
        raise AnalysisError(f"Too few records ({X.shape[0]}) for the {X.shape[1]} terms of the {what}; "
                            "remove covariates or widen the selection.")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise AnalysisError(f"The {what} cannot be estimated: some terms are constant or duplicate "
                            f"each other in this selection (terms: {', '.join(names)}). Remove a "
                            "covariate or widen the selection.")


def _separated(X: np.ndarray, y: np.ndarray) -> bool:
    """True when the data are completely or quasi-completely separated (no finite MLE).

    Separation means a direction b != 0 with (2y - 1) * (X b) >= 0 for every record and > 0 for
    at least one (Albert & Anderson 1984). With X of full column rank it exists exactly when the
    linear programme max sum_i s_i x_i'b subject to s_i x_i'b >= 0, -1 <= b <= 1 has a positive
    optimum (cf. Konis 2007).
    """
    from scipy.optimize import linprog

    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    s = 2 * y - 1
    A = s[:, None] * Xs
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(y)), bounds=[(-1, 1)] * X.shape[1],
                  method="highs")
    return bool(res.status == 0 and res.fun is not None and -res.fun > 1e-6)


def _constant_groups(d: pd.DataFrame, response: np.ndarray, columns: Sequence[str]) -> list[str]:
    """Groups (level of an arm or categorical covariate) in which everybody or nobody responded."""
    found = []
    for c in columns:
        col = d[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            continue
        text = col.astype(str).to_numpy()
        for lev in sorted(set(text)):
            r = response[text == lev]
            if r.size and (r.min() == r.max()):
                found.append(f"{c} = {lev} ({'all' if r[0] == 1 else 'no'} {r.size} responded)")
    return found


# ============================================================================ Mantel-Haenszel


def _strata(table: pd.DataFrame, arm_col: str, response_col: str, stratum_col: str, arm: str,
            reference: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Per-stratum counts x1/n1 (arm) and x2/n2 (reference); strata with one arm are dropped."""
    if arm == reference:
        raise AnalysisError(f"The arm and the reference are both '{arm}'; choose two different arms.")
    d, notes = _select(table, [arm_col, response_col, stratum_col], arm_col, [arm, reference])
    d["_y"] = _as_binary(d[response_col], response_col)
    for a in (arm, reference):
        if not (d[arm_col] == str(a)).any():
            raise AnalysisError(f"No subject of arm '{a}' has data here; widen the population or "
                                "filters, or choose another visit.")
    d["_s"] = d[stratum_col].astype(str)
    g = d.groupby(["_s", arm_col])["_y"].agg(["sum", "size"]).unstack(arm_col, fill_value=0)
    counts = pd.DataFrame({"x1": g[("sum", str(arm))], "n1": g[("size", str(arm))],
                           "x2": g[("sum", str(reference))], "n2": g[("size", str(reference))]}).astype(float)
    one_arm = counts[(counts["n1"] == 0) | (counts["n2"] == 0)]
    for stratum, row in one_arm.iterrows():
        notes = (*notes, f"Stratum {stratum_col} = {stratum} has subjects in one arm only "
                         f"({arm}: {int(row['n1'])}, {reference}: {int(row['n2'])}) and contributes "
                         "nothing.")
    counts = counts.drop(one_arm.index)
    if counts.empty:
        raise AnalysisError(f"No stratum of '{stratum_col}' has subjects in both '{arm}' and "
                            f"'{reference}', so no stratified comparison can be made. Choose a "
                            "coarser stratification variable or none.")
    responders = counts["x1"].sum() + counts["x2"].sum()
    total = counts["n1"].sum() + counts["n2"].sum()
    if responders in (0, total):
        state = "responder" if responders == total else "non-responder"
        raise AnalysisError(f"Every compared subject is a {state}, so the response rate does not vary "
                            "and no comparison can be estimated or tested. Choose another visit, "
                            "endpoint or responder rule.")
    if len(counts) == 1:
        notes = (*notes, "Only one stratum has both arms: this is an unstratified comparison.")
    return counts, notes


def _cmh_test(counts: pd.DataFrame, correct: bool) -> tuple[float, float]:
    """Cochran-Mantel-Haenszel chi-square (1 df) as R's ``mantelhaen.test`` computes it."""
    a, n1, c, n2 = (counts[k].to_numpy() for k in ("x1", "n1", "x2", "n2"))
    N = n1 + n2
    m1 = a + c
    m0 = N - m1
    delta = float(np.sum(a - n1 * m1 / N))
    var = float(np.sum(n1 * n2 * m1 * m0 / (N**2 * (N - 1))))
    if var <= 0:
        return (math.nan, math.nan)
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    stat = (abs(delta) - yates) ** 2 / var
    return stat, float(sps.chi2.sf(stat, 1))


def _cmh_name(correct: bool) -> str:
    return "Cochran-Mantel-Haenszel" + (" (continuity-corrected)" if correct else "")


def cmh_risk_difference(table: pd.DataFrame, arm_col: str, response_col: str, stratum_col: str,
                        arm: str, reference: str, level: float = 0.95,
                        correct: bool = True) -> Contrast:
    """Stratified risk difference (arm - reference) with Mantel-Haenszel weights.

    With stratum counts ``x1k/n1k`` (arm) and ``x2k/n2k`` (reference), ``Nk = n1k + n2k`` and
    weights ``wk = n1k*n2k/Nk``, the estimate is ``RD = sum wk (x1k/n1k - x2k/n2k) / sum wk``.
    Its variance is Sato's estimator (Sato 1989; Greenland & Robins 1985 derived the sparse-data
    version), consistent both with many small strata and with few large ones::

        Var = (RD * sum Pk + sum Qk) / (sum wk)^2
        Pk  = (n1k^2 x2k - n2k^2 x1k + n1k n2k (n2k - n1k) / 2) / Nk^2
        Qk  = (x1k (n2k - x2k) + x2k (n1k - x1k)) / (2 Nk)

    The CI is Wald (RD +/- z SE); the p-value is that of the Cochran-Mantel-Haenszel test (by
    default with the continuity correction, as R's ``mantelhaen.test(correct = TRUE)``). Strata
    with subjects in one arm only contribute nothing and are listed in ``notes``. Where every
    stratum is completely separated the variance is zero and no CI is given.

    Parameters
    ----------
    table : DataFrame
        One row per subject, with the arm, the 0/1 response and the stratum.
    arm_col, response_col, stratum_col : str
        Column names.
    arm, reference : str
        The compared arm and the reference arm; rows of other arms are ignored.
    level : float
        Confidence level.
    correct : bool
        Continuity correction in the CMH test.

    References
    ----------
    .. [1] Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up
       data. Biometrics 1985;41:55-68.
    .. [2] Sato T. On the variance estimator for the Mantel-Haenszel risk difference (letter).
       Biometrics 1989;45:1323-1324.
    .. [3] Rothman KJ, Greenland S, Lash TL. Modern Epidemiology, 3rd ed. Lippincott 2008, ch. 15.
    .. [4] Mantel N, Haenszel W. Statistical aspects of the analysis of data from retrospective
       studies of disease. J Natl Cancer Inst 1959;22:719-748.
    """
    z = _z(level)
    counts, notes = _strata(table, arm_col, response_col, stratum_col, arm, reference)
    a, n1, c, n2 = (counts[k].to_numpy() for k in ("x1", "n1", "x2", "n2"))
    N = n1 + n2
    w = n1 * n2 / N
    rd = float(np.sum(a * n2 / N - c * n1 / N) / w.sum())
    P = (n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / N**2
    Q = (a * (n2 - c) + c * (n1 - a)) / (2 * N)
    var = float((rd * P.sum() + Q.sum()) / w.sum() ** 2)
    p = _cmh_test(counts, correct)[1]
    if var > 1e-15 * max(1.0, rd * rd):
        se = math.sqrt(var)
        lo, hi = rd - z * se, rd + z * se
    else:
        se, lo, hi = 0.0, math.nan, math.nan
        notes = (*notes, "The variance estimate is zero (typically because the arms are completely "
                         "separated in every stratum), so no confidence interval can be given.")
    notes = (*notes, f"Mantel-Haenszel weights over {len(counts)} strata of '{stratum_col}'; "
                     "Sato variance.")
    return Contrast(str(arm), str(reference), "risk_difference", rd, se, lo, hi, p,
                    _cmh_name(correct), notes=notes)


def cmh_odds_ratio(table: pd.DataFrame, arm_col: str, response_col: str, stratum_col: str,
                   arm: str, reference: str, level: float = 0.95, correct: bool = True) -> Contrast:
    """Mantel-Haenszel common odds ratio (arm vs reference) and Cochran-Mantel-Haenszel test.

    With stratum cells a (arm responders), b (arm non-responders), c, d (reference) and total N,
    ``OR = sum(a d / N) / sum(b c / N)``. The CI is ``exp(log OR +/- z SE)`` with the
    Robins-Breslow-Greenland variance of log OR, as in R's ``mantelhaen.test``. The p-value is the
    CMH chi-square with 1 df (by default continuity-corrected, as ``mantelhaen.test(correct = TRUE)``:
    0.5 is subtracted from |sum(a - E a)| only if that is at least 0.5). ``se`` is of log OR.

    Strata with subjects in one arm only contribute nothing and are listed in ``notes``. Zero
    cells need no correction; if no stratum has a non-zero ``b c`` (or ``a d``) the odds ratio is
    infinite (or zero) and no CI is given.

    References
    ----------
    .. [1] Mantel N, Haenszel W. J Natl Cancer Inst 1959;22:719-748.
    .. [2] Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance consistent
       in both sparse data and large-strata limiting models. Biometrics 1986;42:311-323.
    .. [3] Agresti A. Categorical Data Analysis, 3rd ed. Wiley 2013, section 6.4.
    .. [4] R Core Team. ``?mantelhaen.test`` (package stats).
    """
    z = _z(level)
    counts, notes = _strata(table, arm_col, response_col, stratum_col, arm, reference)
    a, n1, c, n2 = (counts[k].to_numpy() for k in ("x1", "n1", "x2", "n2"))
    b, d = n1 - a, n2 - c
    N = n1 + n2
    R, S = a * d / N, b * c / N
    P, Q = (a + d) / N, (b + c) / N
    p = _cmh_test(counts, correct)[1]
    notes = (*notes, f"Mantel-Haenszel estimate over {len(counts)} strata of '{stratum_col}'; "
                     "SE is of the log odds ratio (Robins-Breslow-Greenland).")
    if R.sum() == 0 or S.sum() == 0:
        est = 0.0 if R.sum() == 0 else math.inf
        why = (f"no stratum has both a responder in '{arm}' and a non-responder in '{reference}'"
               if R.sum() == 0 else
               f"no stratum has both a non-responder in '{arm}' and a responder in '{reference}'")
        notes = (*notes, f"The odds ratio is {'zero' if est == 0 else 'infinite'} because {why}; "
                         "no confidence interval can be given.")
        return Contrast(str(arm), str(reference), "odds_ratio", est, math.nan, math.nan, math.nan, p,
                        _cmh_name(correct), notes=notes)
    odds = float(R.sum() / S.sum())
    var = float(np.sum(P * R) / (2 * R.sum() ** 2) + np.sum(P * S + Q * R) / (2 * R.sum() * S.sum())
                + np.sum(Q * S) / (2 * S.sum() ** 2))
    se = math.sqrt(var)
    return Contrast(str(arm), str(reference), "odds_ratio", odds, se, odds * math.exp(-z * se),
                    odds * math.exp(z * se), p, _cmh_name(correct), notes=notes)


# ============================================================================ logistic models


def logistic_adjusted(frame: pd.DataFrame, response_col: str, arm_col: str, reference: str,
                      covariates: tuple[str, ...] = (), level: float = 0.95,
                      arm_order: tuple[str, ...] = ()) -> tuple[Contrast, ...]:
    """Covariate-adjusted odds ratio of each arm against the reference, by logistic regression.

    Model: ``logit P(response = 1) = arm + covariates``, fitted by maximum likelihood
    (statsmodels GLM, binomial family, logit link). Categorical covariates enter as
    treatment-coded dummies (first level in sorted order as reference), numeric ones as they are.
    Rows with a missing value in the model are dropped. CIs and p-values are Wald
    (``exp(beta +/- z SE)``, ``2 * (1 - Phi(|beta / SE|))``); ``se`` is of the log odds ratio.
    Contrasts follow ``arm_order``, then arm names.

    Raises :class:`AnalysisError` if the model is rank-deficient, if the data are (quasi-)
    completely separated (some odds ratio would be infinite; detected exactly by a linear
    programme, not by a failing fit) or if the fit does not converge.

    References
    ----------
    .. [1] Agresti A. Categorical Data Analysis, 3rd ed. Wiley 2013, chapters 4-5.
    .. [2] Albert A, Anderson JA. On the existence of maximum likelihood estimates in logistic
       regression models. Biometrika 1984;71:1-10.
    .. [3] Konis K. Linear programming algorithms for detecting separated data in binary logistic
       regression models. DPhil thesis, University of Oxford, 2007.
    .. [4] EMA. Guideline on adjustment for baseline covariates in clinical trials.
       EMA/CHMP/295050/2013, 2015.
    """
    z = _z(level)
    covariates = tuple(covariates)
    if arm_col in covariates or response_col in covariates:
        raise AnalysisError("The arm and the response cannot also be covariates; remove them from "
                            "the covariate list.")
    _require_columns(frame, [response_col, arm_col, *covariates])
    all_arms = [str(a) for a in pd.unique(frame[arm_col].dropna())]
    d, notes = _select(frame, [response_col, arm_col, *covariates], arm_col, all_arms or [reference])
    y = _as_binary(d[response_col], response_col)
    arms = _order_arms(list(pd.unique(d[arm_col])), str(reference), arm_order)
    if str(reference) not in set(d[arm_col]) or not arms:
        raise AnalysisError(f"A logistic model needs subjects in the reference arm '{reference}' and in "
                            "at least one other arm after dropping missing values.")
    if y.min() == y.max():
        state = "responder" if y[0] == 1 else "non-responder"
        raise AnalysisError(f"Every subject is a {state}, so no odds ratio can be estimated. Choose "
                            "another visit, endpoint or responder rule.")
    blocks = [np.ones(len(d))] + [(d[arm_col] == a).to_numpy(float) for a in arms]
    names = ["(Intercept)"] + [f"{arm_col}[{a}]" for a in arms]
    cov_blocks, cov_names, cov_notes = _covariate_blocks(d, covariates)
    X = np.column_stack(blocks + cov_blocks)
    names += cov_names
    _full_rank_or_raise(X, names, "logistic model")
    if _separated(X, y):
        groups = _constant_groups(d, y, [arm_col, *covariates])
        where = f" Groups where the response does not vary: {'; '.join(groups)}." if groups else ""
        raise AnalysisError("The logistic model cannot be estimated: the response is perfectly "
                            "predicted by the arm and covariates in this selection (separation), so "
                            f"some odds ratios are infinite.{where} Remove or merge covariate levels, "
                            "widen the selection, or use the stratified Mantel-Haenszel analysis.")
    import statsmodels.api as sm  # imported here: heavy, and only the model fits need it

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(maxiter=100)
    params, bse = np.asarray(fit.params), np.asarray(fit.bse)
    if not fit.converged or not (np.isfinite(params).all() and np.isfinite(bse).all()):
        detail = "; ".join(sorted({str(w.message) for w in caught}))[:200]
        raise AnalysisError("The logistic model did not converge" + (f" ({detail})" if detail else "")
                            + ". Remove covariates or widen the selection.")
    label = ", ".join(covariates) if covariates else "nothing (no covariates)"
    base_notes = (*notes, *cov_notes, f"Adjusted for: {label}.", "SE is of the log odds ratio.",
                  f"{len(d)} subjects in the model.")
    out = []
    for i, a in enumerate(arms, start=1):
        beta, se = float(params[i]), float(bse[i])
        p = float(2 * sps.norm.sf(abs(beta / se)))
        out.append(Contrast(a, str(reference), "odds_ratio", math.exp(beta), se,
                            math.exp(beta - z * se), math.exp(beta + z * se), p,
                            "Logistic regression (Wald)", notes=base_notes))
    return tuple(out)


def gee_responder(long: pd.DataFrame, subject_col: str, visit_col: str, arm_col: str,
                  response_col: str, reference: str, correlation: str = "exchangeable",
                  covariates: tuple[str, ...] = (), level: float = 0.95,
                  arm_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Odds ratio of response per arm and visit from a logistic GEE across visits.

    Model: ``logit P(response = 1) = visit + arm + arm:visit + covariates``, parametrised so that
    each arm-by-visit coefficient is directly the log odds ratio of that arm against the reference
    at that visit. Fitted by generalised estimating equations (Liang & Zeger 1986; statsmodels
    GEE) with subjects as clusters and an exchangeable or unstructured working correlation
    (``"independence"`` is also accepted). SEs are robust (sandwich), without small-sample
    correction, so inference stays valid if the working correlation is wrong. CIs and p-values
    are Wald. Rows with a missing value are dropped (GEE then assumes data missing completely at
    random).

    Returns
    -------
    DataFrame
        One row per non-reference arm and visit: arm, reference, visit, estimate (odds ratio),
        se (of the log odds ratio), ci_low, ci_high, p_value. ``attrs`` holds ``test``,
        ``correlation``, ``n_subjects`` and ``notes``.

    Raises :class:`AnalysisError` when an arm has no data or no variation in response at a visit
    (the odds ratio would be infinite), when covariates separate the data, or when the
    estimating equations do not converge.

    References
    ----------
    .. [1] Liang K-Y, Zeger SL. Longitudinal data analysis using generalized linear models.
       Biometrika 1986;73:13-22.
    .. [2] Zeger SL, Liang K-Y. Longitudinal data analysis for discrete and continuous outcomes.
       Biometrics 1986;42:121-130.
    .. [3] Fitzmaurice GM, Laird NM, Ware JH. Applied Longitudinal Analysis, 2nd ed. Wiley 2011,
       chapters 12-13.
    """
    z = _z(level)
    if correlation not in CORRELATIONS:
        raise AnalysisError(f"Unknown working correlation '{correlation}'. Choose one of: "
                            f"{', '.join(CORRELATIONS)}.")
    covariates = tuple(covariates)
    cols = [subject_col, visit_col, arm_col, response_col, *covariates]
    _require_columns(long, cols)
    all_arms = [str(a) for a in pd.unique(long[arm_col].dropna())]
    d, notes = _select(long, cols, arm_col, all_arms or [reference])
    y_all = _as_binary(d[response_col], response_col)
    d["_y"] = y_all
    arms = _order_arms(list(pd.unique(d[arm_col])), str(reference), arm_order)
    if str(reference) not in set(d[arm_col]) or not arms:
        raise AnalysisError(f"A GEE model needs subjects in the reference arm '{reference}' and in at "
                            "least one other arm.")
    if d.duplicated([subject_col, visit_col]).any():
        raise AnalysisError("Some subjects have more than one record at the same visit; keep one "
                            "record per subject and visit.")
    visits = sorted(pd.unique(d[visit_col]))
    for a in [str(reference), *arms]:
        for v in visits:
            cell = d.loc[(d[arm_col] == a) & (d[visit_col] == v), "_y"]
            if cell.empty:
                raise AnalysisError(f"Arm '{a}' has no data at visit {v}; drop that visit or widen the "
                                    "selection.")
            if cell.min() == cell.max():
                state = "responder" if cell.iloc[0] == 1 else "non-responder"
                raise AnalysisError(f"At visit {v} every subject of arm '{a}' ({cell.size}) is a {state}, "
                                    "so the odds ratio at that visit is infinite or zero and the GEE "
                                    "cannot be estimated. Drop that visit or choose another endpoint.")
    d = d.sort_values([subject_col, visit_col], kind="stable").reset_index(drop=True)
    y = d["_y"].to_numpy(float)
    vis = d[visit_col].to_numpy()
    arm = d[arm_col].to_numpy()
    blocks = [(vis == v).astype(float) for v in visits]
    names = [f"visit[{v}]" for v in visits]
    for a in arms:
        for v in visits:
            blocks.append(((arm == a) & (vis == v)).astype(float))
            names.append(f"{arm_col}[{a}]:visit[{v}]")
    cov_blocks, cov_names, cov_notes = _covariate_blocks(d, covariates)
    X = np.column_stack(blocks + cov_blocks)
    names += cov_names
    _full_rank_or_raise(X, names, "GEE model")
    if covariates and _separated(X, y):
        raise AnalysisError("The GEE model cannot be estimated: the covariates predict the response "
                            "perfectly in this selection (separation). Remove or merge covariate "
                            "levels, or widen the selection.")
    import statsmodels.api as sm  # imported here: heavy, and only the model fits need it
    from statsmodels.genmod import cov_struct as cs
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, IterationLimitWarning

    structure = {"exchangeable": cs.Exchangeable, "unstructured": cs.Unstructured,
                 "independence": cs.Independence}[correlation]()
    groups = pd.factorize(d[subject_col])[0]
    time = np.searchsorted(np.asarray(visits), vis).astype(np.int64)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            model = sm.GEE(y, X, groups=groups, time=time, family=sm.families.Binomial(),
                           cov_struct=structure)
            fit = model.fit(maxiter=200)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise AnalysisError(f"The GEE model could not be fitted ({exc}). Try the exchangeable "
                                "working correlation, fewer covariates or fewer visits.") from exc
    problems = sorted({str(w.message) for w in caught
                       if issubclass(w.category, (ConvergenceWarning, IterationLimitWarning))})
    if fit is None or not fit.converged or problems:
        detail = f" ({'; '.join(problems)[:200]})" if problems else ""
        raise AnalysisError(f"The GEE model did not converge{detail}. Try the exchangeable working "
                            "correlation, fewer covariates or fewer visits.")
    params, bse = np.asarray(fit.params), np.asarray(fit.bse)
    if not (np.isfinite(params).all() and np.isfinite(bse).all()):
        raise AnalysisError("The GEE model gave non-finite estimates. Try the exchangeable working "
                            "correlation, fewer covariates or fewer visits.")
    rows = []
    k = len(visits)
    for i, a in enumerate(arms):
        for j, v in enumerate(visits):
            idx = k + i * k + j
            beta, se = float(params[idx]), float(bse[idx])
            rows.append({"arm": a, "reference": str(reference), "visit": v, "estimate": math.exp(beta),
                         "se": se, "ci_low": math.exp(beta - z * se), "ci_high": math.exp(beta + z * se),
                         "p_value": float(2 * sps.norm.sf(abs(beta / se)))})
    out = pd.DataFrame(rows, columns=["arm", "reference", "visit", "estimate", "se", "ci_low", "ci_high",
                                      "p_value"])
    label = ", ".join(covariates) if covariates else "nothing (no covariates)"
    out.attrs.update({
        "test": f"Logistic GEE ({correlation} working correlation, robust SE, Wald)",
        "correlation": correlation,
        "n_subjects": len(np.unique(groups)),
        "notes": (*notes, *cov_notes, f"Adjusted for: {label}.", "SE is of the log odds ratio."),
    })
    return out

