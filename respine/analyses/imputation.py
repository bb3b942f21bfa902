"""Missing-data sensitivity analyses of a between-arm comparison at one visit.

The primary analysis uses complete cases: the subjects with an assessment at the visit. This
module asks how much that answer depends on the subjects who have none. Each strategy fills the
missing values in a different way, then analyses the completed data:

========================  =================================================================
``complete_case``         no imputation (the primary analysis)
``nri``                   non-responder imputation: a missing status counts as failure
                          (binary endpoints only)
``locf``                  last observation carried forward: the last post-baseline value
                          before the visit replaces the missing one
``bocf``                  baseline observation carried forward: no change from baseline
``mi``                    multiple imputation under missing at random, by Bayesian linear
                          regression within each arm, pooled with Rubin's rules
========================  =================================================================

Records: every strategy reads **observed records only** (:mod:`respine.derive.records`). A
record filled in by a rule in the data (ADaM ``DTYPE`` such as LOCF) is a missing value here,
which each strategy fills its own way; counting it as observed would make the imputations
no-ops. Each result's notes say how many derived records were set aside.

For a derived endpoint (a responder rule or an MCID, declared in its registry entry) the
imputations are made on the measured source values and the status is derived again from the
completed values by the same declared derivation, so the rule is applied exactly as for observed
subjects.

:func:`tipping_point` shows how extreme the missing outcomes would have to be to change the
conclusion: every possible number of responders among the missing subjects of each arm (binary
endpoints), or a shift ``delta`` added to the multiply imputed values of the treatment arm
(continuous endpoints).

Every function returns unrounded numbers; :mod:`respine.present.fmt` formats them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from respine import derive, stats
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.endpoints import Endpoint, Responder
from respine.model.labels import endpoint_label, positive_favours_arm
from respine.model.results import RecordCounts
from respine.model.rules import (
    MCID_ODI_POINTS,
    MCID_VAS_MM,
    PRIMARY_RULE,
    ResponderRule,
    evaluate,
)
from respine.model.selection import Filters
from respine.stats import refbased
from respine.stats.proportions import _wilson, _yates_p
from respine.stats.rubin import PooledEstimate, rubin_pool

#: The records the missing-data strategies read (see the module docstring).
IMPUTATION_RECORDS: derive.Records = "observed"

STRATEGIES: dict[str, str] = {
    "complete_case": "Complete cases",
    "nri": "Non-responder imputation",
    "locf": "Last observation carried forward",
    "bocf": "Baseline observation carried forward",
    "mi": "Multiple imputation (missing at random)",
}
DEFAULT_STRATEGIES: tuple[str, ...] = tuple(STRATEGIES)
MEASURE_COLUMNS = {"chg": derive.CHG, "pchg": derive.PCHG, "aval": S.VALUE}
ALPHA = 0.05
PRIMARY_TEST = "chisq_yates"


# ====================================================================== results


@dataclass(frozen=True)
class ArmSummary:
    """One arm of a (completed) data set.

    ``n`` subjects are analysed: ``n_observed`` with a value at the visit plus ``n_imputed``
    with an imputed one. ``n_missing`` is how many had no value before imputation (those that
    could not be imputed stay out of the analysis). ``estimate`` is the responder rate (binary)
    or the mean of the analysed measure (continuous). For multiple imputation ``responders``,
    ``estimate`` and ``sd`` are averages over the completed data sets, so ``responders`` need
    not be a whole number.
    """

    arm: str
    n: int
    n_observed: int
    n_imputed: int
    n_missing: int
    estimate: float
    responders: float | None = None
    sd: float | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SensitivityResult:
    """One missing-data strategy applied to the comparison of one treatment arm with the reference.

    ``contrast`` is ``None`` when the strategy does not apply to the endpoint (for example
    non-responder imputation of a continuous endpoint); ``notes`` then say why. ``n_imputed``
    maps each arm to the number of subjects whose missing value was imputed. ``pooling`` holds
    Rubin's-rules details for multiple imputation.
    """

    strategy: str
    label: str
    arms: tuple[ArmSummary, ...]
    contrast: stats.Contrast | None
    n_imputed: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    methods_text: str = ""
    pooling: PooledEstimate | None = None

    @property
    def applicable(self) -> bool:
        return self.contrast is not None

    def to_dict(self) -> dict[str, object]:
        return {"strategy": self.strategy, "label": self.label,
                "arms": [a.to_dict() for a in self.arms],
                "contrast": None if self.contrast is None else self.contrast.to_dict(),
                "n_imputed": dict(self.n_imputed), "notes": list(self.notes),
                "methods_text": self.methods_text,
                "pooling": None if self.pooling is None else self.pooling.to_dict()}


@dataclass(frozen=True)
class TippingShift:
    """The least extreme departure, in a tipping-point table, that changes the conclusion.

    ``shift`` is ``delta`` for continuous endpoints; for binary endpoints it is the number of
    missing subjects whose status must differ from what their own arm's observed responder rate
    predicts (see :func:`smallest_tipping_shift`). ``row`` is the table row.
    """

    kind: str
    shift: float
    row: dict[str, object]
    description: str


# ====================================================================== data preparation


@dataclass(frozen=True)
class _Prepared:
    """Everything the strategies need, one row per selected subject of the two arms."""

    endpoint: Endpoint
    kind: str
    visit: float
    visit_label: str
    population: str
    population_label: str
    arm: str
    reference: str
    measure: str
    subject_ids: np.ndarray
    arms: np.ndarray  # arm of each subject
    outcome: np.ndarray  # observed analysed value at the visit; NaN where missing
    sources: tuple[str, ...]  # measured endpoints the outcome is derived from
    continuous_sources: bool  # False for measured binary endpoints (no regression imputation)
    base: dict[str, np.ndarray]
    at_visit: dict[str, np.ndarray]
    earlier: dict[str, pd.DataFrame]  # post-baseline visits before the visit (columns: visit)
    derive_outcome: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], np.ndarray]
    rule: ResponderRule
    derived_at_visit: dict[str, int] = field(default_factory=dict)  # derived records set aside, by type

    def records_note(self) -> list[str]:
        """The note saying which derived records were treated as missing (none: no note)."""
        if not self.derived_at_visit:
            return []
        counts = RecordCounts("observed", 0, left_out=self.derived_at_visit)
        return [f"Observed records only: {counts.describe_left_out()} at {self.visit_label} "
                "were treated as missing values: the complete-case analysis leaves them out, the "
                "other strategies impute them in their own way."]

    @property
    def missing(self) -> np.ndarray:
        return np.isnan(self.outcome)

    def mask(self, arm: str) -> np.ndarray:
        return self.arms == arm

    @property
    def order(self) -> tuple[str, str]:
        return (self.arm, self.reference)

    def source_text(self) -> str:
        return " and ".join(self.sources)


def _outcome_function(trial: S.Trial, ep: Endpoint, measure: str, rule: ResponderRule, mcid_vas: float,
                      mcid_odi: float) -> tuple[tuple[str, ...], Callable]:
    if ep.derivation is not None:
        # The status is derived from the (completed) source values by the endpoint's declared
        # derivation, exactly as derive.endpoint_data derives it from observed values.
        derivation = ep.derivation
        params = {"rule": rule, "mcid_vas": mcid_vas, "mcid_odi": mcid_odi}
        directions = {src: trial.endpoint(src).lower_is_better for src in derivation.sources}

        def derived(base: dict[str, np.ndarray], value: dict[str, np.ndarray]) -> np.ndarray:
            return evaluate(derivation, base, value, params, directions)
        return derivation.sources, derived
    if ep.kind == "continuous":
        def cont(base: dict[str, np.ndarray], value: dict[str, np.ndarray]) -> np.ndarray:
            b, v = base[ep.id], value[ep.id]
            if measure == "aval":
                return v.astype(float)
            if measure == "chg":
                return v - b
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(b != 0, 100.0 * (v - b) / b, np.nan)
        return (ep.id,), cont

    def measured_binary(base: dict[str, np.ndarray], value: dict[str, np.ndarray]) -> np.ndarray:
        return value[ep.id].astype(float)
    return (ep.id,), measured_binary


def _prepare(trial: S.Trial, endpoint: str, visit: float | str, population: str | None,
             filters: Filters, rule: ResponderRule, measure: str, mcid_vas: float,
             mcid_odi: float, arm: str | None) -> _Prepared:
    design = trial.design
    ep = trial.endpoint(endpoint)
    visit_n = derive.resolve_visit(trial, visit)
    population = population or design.default_population
    pop = design.population(population)
    base_visit = min(v.number for v in design.visits)
    visit_label = design.visit_label(visit_n)
    if visit_n == base_visit:
        raise AnalysisError("Missing-data sensitivity analyses compare arms after treatment; "
                            "choose a visit after baseline.")
    reference = design.reference_arm
    arm = arm or (design.treatment_arms[0] if design.treatment_arms else None)
    if arm is None or arm not in design.arms or arm == reference:
        raise SelectionError(f"Choose a treatment arm to compare with {reference}: "
                             f"{', '.join(design.treatment_arms) or 'none in this study'}.")
    if measure not in MEASURE_COLUMNS:
        raise SelectionError(f"Unknown measure '{measure}'. Choose one of: {', '.join(MEASURE_COLUMNS)}.")
    measure = measure if ep.kind == "continuous" else "aval"
    subjects = derive.select_subjects(trial, population, filters)
    subjects = subjects[subjects[S.ARM].isin([arm, reference])]
    if subjects.empty:
        raise AnalysisError(f"No subject of arms {arm} or {reference} is in this selection. "
                            "Widen the population or filters.")
    ids = subjects[S.SUBJECT_ID].to_numpy()
    data = derive.endpoint_data(trial, ep.id, population, filters, rule, mcid_vas, mcid_odi,
                                records=IMPUTATION_RECORDS)
    analysis = derive.endpoint_data(trial, ep.id, population, filters, rule, mcid_vas, mcid_odi)
    analysis = analysis[(analysis[S.VISIT_MONTH] == visit_n) & analysis[S.SUBJECT_ID].isin(ids)]
    derived_at_visit = derive.count_records(analysis, "analysis").derived
    at = data[data[S.VISIT_MONTH] == visit_n]
    column = MEASURE_COLUMNS[measure] if ep.kind == "continuous" else S.VALUE
    observed = at.set_index(S.SUBJECT_ID)[column] if not at.empty else pd.Series(dtype=float)
    outcome = pd.Series(ids).map(observed).to_numpy(dtype=float)
    sources, fn = _outcome_function(trial, ep, measure, rule, mcid_vas, mcid_odi)
    m = trial.measurements
    m = m[m[S.SUBJECT_ID].isin(ids) & m[S.ENDPOINT].isin(sources)]
    # Observed records after baseline; the baseline is the analysis baseline, as in endpoint_data.
    m = m[derive.is_observed(m) | (m[S.VISIT_MONTH] == base_visit)]
    base, at_visit, earlier = {}, {}, {}
    for s in sources:
        sel = m[m[S.ENDPOINT] == s]
        wide = sel.pivot(index=S.SUBJECT_ID, columns=S.VISIT_MONTH, values=S.VALUE).reindex(ids)
        wide.columns = [float(c) for c in wide.columns]
        absent = np.full(len(ids), np.nan)
        base[s] = wide[base_visit].to_numpy(float) if base_visit in wide.columns else absent.copy()
        at_visit[s] = wide[visit_n].to_numpy(float) if visit_n in wide.columns else absent.copy()
        earlier[s] = wide[[c for c in sorted(wide.columns) if base_visit < c < visit_n]]
    continuous_sources = ep.kind == "continuous" or ep.is_derived
    return _Prepared(ep, ep.kind, visit_n, visit_label, pop.id, pop.label, arm, reference, measure,
                     ids, subjects[S.ARM].to_numpy(), outcome, sources, continuous_sources, base,
                     at_visit, earlier, fn, rule, derived_at_visit)


# ====================================================================== single analyses


def _arm_summaries(prep: _Prepared, outcome: np.ndarray, imputed: np.ndarray) -> tuple[ArmSummary, ...]:
    out = []
    for a in prep.order:
        mask = prep.mask(a)
        y = outcome[mask]
        keep = ~np.isnan(y)
        n = int(keep.sum())
        n_imp = int((imputed[mask] & keep).sum())
        n_missing = int(prep.missing[mask].sum())
        if prep.kind == "binary":
            r = int((y[keep] == 1).sum())
            out.append(ArmSummary(a, n, n - n_imp, n_imp, n_missing, r / n if n else math.nan, r))
        else:
            sd = float(np.std(y[keep], ddof=1)) if n > 1 else math.nan
            out.append(ArmSummary(a, n, n - n_imp, n_imp, n_missing,
                                  float(y[keep].mean()) if n else math.nan, None, sd))
    return tuple(out)


def _contrast(prep: _Prepared, outcome: np.ndarray) -> stats.Contrast:
    """The primary analysis method: chi-square with Yates (binary) or Welch's t-test."""
    y1 = outcome[prep.mask(prep.arm)]
    y2 = outcome[prep.mask(prep.reference)]
    y1, y2 = y1[~np.isnan(y1)], y2[~np.isnan(y2)]
    if prep.kind == "binary":
        return stats.compare_binary(int((y1 == 1).sum()), int(y1.size), int((y2 == 1).sum()),
                                    int(y2.size), prep.arm, prep.reference, PRIMARY_TEST)[0]
    return stats.welch_t(y1, y2, prep.arm, prep.reference)


def _single_result(prep: _Prepared, strategy: str, outcome: np.ndarray, imputed: np.ndarray,
                   notes: list[str], methods: str) -> SensitivityResult:
    arms = _arm_summaries(prep, outcome, imputed)
    empty = [a.arm for a in arms if a.n == 0]
    if empty:
        raise AnalysisError(f"No subject with a value in arm(s) {', '.join(empty)} at {prep.visit_label}; "
                            "widen the population or filters.")
    return SensitivityResult(strategy, STRATEGIES[strategy], arms, _contrast(prep, outcome),
                             {a.arm: a.n_imputed for a in arms}, (*prep.records_note(), *notes), methods)


def _analysis_words(prep: _Prepared) -> str:
    if prep.kind == "binary":
        return ("responder rates were compared by the chi-square test with Yates' correction, as in "
                "the primary analysis, with Newcombe's hybrid score 95% CI of the risk difference")
    return (f"the {derive.MEASURES[prep.measure].lower()} was compared by Welch's t-test "
            "(difference in means with 95% CI)")


def _head(prep: _Prepared) -> str:
    label = endpoint_label(prep.endpoint, prep.rule)  # named after the rule the view uses
    return f"{label} at {prep.visit_label}, {prep.population_label} population"


def _complete_case(prep: _Prepared) -> SensitivityResult:
    imputed = np.zeros(len(prep.outcome), dtype=bool)
    counts = ", ".join(f"{int(prep.missing[prep.mask(a)].sum())} {a}" for a in prep.order)
    methods = (f"{_head(prep)}: complete-case analysis of the subjects with an assessment "
               f"({counts} without one were left out); {_analysis_words(prep)}.")
    return _single_result(prep, "complete_case", prep.outcome, imputed, [], methods)


def _nri(prep: _Prepared) -> SensitivityResult:
    if prep.kind != "binary":
        note = ("Non-responder imputation applies only to responder (yes/no) endpoints; "
                f"{prep.endpoint.label} is continuous. Use BOCF or multiple imputation instead.")
        return SensitivityResult("nri", STRATEGIES["nri"], (), None, {}, (note,), "")
    outcome = np.where(prep.missing, 0.0, prep.outcome)
    imputed = prep.missing.copy()
    notes = []
    if prep.endpoint.lower_is_better is None:
        notes.append(f"For {prep.endpoint.label} a 1 is not a benefit; a missing value was set to 0.")
    methods = (f"{_head(prep)}: every subject of the population without a status at "
               f"{prep.visit_label} was counted as a non-responder (non-responder imputation); "
               f"{_analysis_words(prep)}.")
    return _single_result(prep, "nri", outcome, imputed, notes, methods)


def _carry_forward(prep: _Prepared, strategy: str) -> SensitivityResult:
    filled: dict[str, np.ndarray] = {}
    fallback = np.zeros(len(prep.outcome), dtype=bool)
    for s in prep.sources:
        v = prep.at_visit[s].copy()
        gap = np.isnan(v)
        if strategy == "locf":
            last = prep.earlier[s].ffill(axis=1).iloc[:, -1].to_numpy(float) \
                if prep.earlier[s].shape[1] else np.full(len(v), np.nan)
            use_base = gap & np.isnan(last)
            v = np.where(gap, last, v)
            v = np.where(use_base, prep.base[s], v)
            fallback |= use_base & prep.missing
        else:
            v = np.where(gap, prep.base[s], v)
        filled[s] = v
    derived = prep.derive_outcome(prep.base, filled)
    outcome = np.where(prep.missing, derived, prep.outcome)
    imputed = prep.missing & ~np.isnan(outcome)
    notes = []
    left = int((prep.missing & np.isnan(outcome)).sum())
    if left:
        notes.append(f"{left} subjects without a usable baseline value could not be imputed and are "
                     "left out.")
    if strategy == "locf" and fallback.any():
        notes.append(f"{int(fallback.sum())} subjects had no post-baseline value before "
                     f"{prep.visit_label}; their baseline value was carried forward.")
    notes.append("Single imputation treats imputed values as if observed, so the CI is too narrow.")
    src = prep.source_text()
    if strategy == "locf":
        how = (f"a missing {src} value at {prep.visit_label} was replaced by the subject's last "
               f"post-baseline value before {prep.visit_label} (last observation carried forward)")
    else:
        how = (f"a missing {src} value at {prep.visit_label} was replaced by the subject's baseline "
               "value, i.e. no change from baseline (baseline observation carried forward)")
    if prep.endpoint.is_derived:
        how += "; the status was then derived from the completed values"
        if strategy == "bocf" and isinstance(prep.endpoint.derivation, Responder):
            how += " (no change from baseline: non-responder)"
    methods = f"{_head(prep)}: {how}; {_analysis_words(prep)}."
    return _single_result(prep, strategy, outcome, imputed, notes, methods)


# ====================================================================== multiple imputation


@dataclass(frozen=True)
class _Fit:
    """Least-squares quantities of one imputation model, fixed across imputations."""

    beta_hat: np.ndarray
    chol_v: np.ndarray
    rss: float
    df: int


@dataclass(frozen=True)
class _Step:
    """Impute ``source`` for the subjects at ``rows`` from the columns ``spec`` with ``fit``."""

    arm: str
    source: str
    rows: np.ndarray
    spec: tuple[tuple[str, ...], ...]
    fit: _Fit


def _fit(X: np.ndarray, y: np.ndarray) -> _Fit | None:
    n, q = X.shape
    if n - q < 1 or np.linalg.matrix_rank(X) < q:
        return None
    xtx = X.T @ X
    v = np.linalg.inv(xtx)
    beta = np.linalg.solve(xtx, X.T @ y)
    resid = y - X @ beta
    chol = np.linalg.cholesky((v + v.T) / 2)
    return _Fit(beta, chol, float(resid @ resid), n - q)


def _columns(prep: _Prepared, spec: tuple[tuple[str, ...], ...], current: dict[str, np.ndarray],
             rows: np.ndarray) -> np.ndarray:
    cols = []
    for term in spec:
        if term[0] == "const":
            cols.append(np.ones(rows.size))
        elif term[0] == "base":
            cols.append(prep.base[term[1]][rows])
        elif term[0] == "last":
            cols.append(prep.earlier[term[1]][float(term[2])].to_numpy(float)[rows])
        else:  # ("visit", source): the value at the visit, observed or already imputed
            cols.append(current[term[1]][rows])
    return np.column_stack(cols)


def _mi_plan(prep: _Prepared) -> tuple[list[_Step], list[str]]:
    """Imputation models, one per arm, measured source and last-observed-visit pattern.

    A subject missing ``source`` at the visit, whose last earlier post-baseline value of that
    source is at visit L, is imputed from a regression of the visit value on baseline and the
    value at L (plus, for later sources, the earlier sources at the visit), fitted on the subjects
    of the same arm who have all of them.
    """
    steps: list[_Step] = []
    notes: list[str] = []
    for a in prep.order:
        in_arm = prep.mask(a)
        for k, s in enumerate(prep.sources):
            prev = prep.sources[:k]
            y = prep.at_visit[s]
            need = in_arm & prep.missing & np.isnan(y) & ~np.isnan(prep.base[s])
            if not need.any():
                continue
            earlier = prep.earlier[s]
            last_visit = np.full(len(y), np.nan)
            for c in earlier.columns:  # ordered by visit, so the last non-missing wins
                last_visit = np.where(earlier[c].notna().to_numpy(), c, last_visit)
            for lv in [*sorted(set(last_visit[need][~np.isnan(last_visit[need])])), math.nan]:
                pattern = np.isnan(last_visit) if math.isnan(lv) else last_visit == lv
                rows = np.flatnonzero(need & pattern)
                if rows.size == 0:
                    continue
                candidates = []
                with_prev = tuple(("visit", p) for p in prev)
                base_terms = (("const",), ("base", s))
                if not math.isnan(lv):
                    candidates.append((*base_terms, ("last", s, str(lv)), *with_prev))
                candidates += [(*base_terms, *with_prev), base_terms]
                fitted = None
                for spec in candidates:
                    donors = in_arm & ~np.isnan(y) & ~np.isnan(prep.base[s])
                    for term in spec:
                        if term[0] == "last":
                            donors &= earlier[float(term[2])].notna().to_numpy()
                        elif term[0] == "visit":
                            donors &= ~np.isnan(prep.at_visit[term[1]])
                    drows = np.flatnonzero(donors)
                    X = _columns(prep, spec, prep.at_visit, drows)
                    fitted = _fit(X, y[drows])
                    if fitted is not None:
                        break
                if fitted is None:
                    raise AnalysisError(f"Too few subjects in arm {a} have {s} at both baseline and "
                                        f"{prep.visit_label} to build an imputation model. Use another "
                                        "strategy, or widen the population or filters.")
                if spec != candidates[0]:
                    notes.append(f"Arm {a}, {s}: too few subjects for the full imputation model; "
                                 f"{rows.size} subjects were imputed from a smaller model.")
                steps.append(_Step(a, s, rows, spec, fitted))
    return steps, notes


def _multiply_impute(prep: _Prepared, n_imputations: int, seed: int,
                     plan: tuple[list[_Step], list[str]] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Completed outcomes, one row per imputation (``n_imputations`` x subjects).

    Each imputation draws, for every imputation model, sigma^2 from its posterior (residual sum
    of squares over a chi-square draw with n - q df), the regression coefficients from
    N(beta-hat, sigma^2 (X'X)^-1), then each missing value as prediction plus N(0, sigma^2)
    noise: Bayesian linear regression imputation ("proper" imputation; Rubin 1987, p. 167; van
    Buuren 2018, algorithm 3.1). Observed values are never changed. Returns the outcome matrix,
    the mask of imputed subjects and notes.

    References
    ----------
    .. [1] Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley, 1987, p. 167.
    .. [2] van Buuren S. Flexible Imputation of Missing Data, 2nd ed. CRC Press, 2018, section
       3.2 (algorithm 3.1, Bayesian linear regression).
    """
    if n_imputations < 2:
        raise AnalysisError(f"Multiple imputation needs at least 2 imputations (asked for "
                            f"{n_imputations}); 50 or more is usual.")
    if not prep.continuous_sources:
        raise AnalysisError(f"{prep.endpoint.label} is measured as yes/no, so it cannot be imputed by "
                            "linear regression. Use non-responder imputation, LOCF or BOCF.")
    steps, notes = plan if plan is not None else _mi_plan(prep)
    notes = list(notes)
    rng = np.random.default_rng(seed)
    out = np.empty((n_imputations, len(prep.outcome)))
    for i in range(n_imputations):
        current = {s: v.copy() for s, v in prep.at_visit.items()}
        for step in steps:
            f = step.fit
            sigma = math.sqrt(f.rss / rng.chisquare(f.df))
            beta = f.beta_hat + sigma * (f.chol_v @ rng.standard_normal(f.beta_hat.size))
            X = _columns(prep, step.spec, current, step.rows)
            current[step.source][step.rows] = X @ beta + sigma * rng.standard_normal(step.rows.size)
        derived = prep.derive_outcome(prep.base, current)
        out[i] = np.where(prep.missing, derived, prep.outcome)
    imputed = prep.missing & ~np.isnan(out[0])
    return out, imputed, notes


def _completed_estimates(prep: _Prepared, completed: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per completed data set: the between-arm estimate, its variance and per-arm summaries."""
    parts = {}
    for a in prep.order:
        y = completed[:, prep.mask(a)]
        y = y[:, ~np.isnan(y[0])]
        n = y.shape[1]
        if n == 0 or (prep.kind == "continuous" and n < 2):
            raise AnalysisError(f"Arm {a} has too few subjects with a value at {prep.visit_label} "
                                "for this analysis; widen the population or filters.")
        mean = y.mean(axis=1)
        if prep.kind == "binary":
            var = mean * (1 - mean) / n
            sd = None
        else:
            sd = y.std(axis=1, ddof=1)
            var = sd**2 / n
        parts[a] = {"n": n, "mean": mean, "var": var, "sd": sd,
                    "responders": y.sum(axis=1) if prep.kind == "binary" else None}
    est = parts[prep.arm]["mean"] - parts[prep.reference]["mean"]
    var = parts[prep.arm]["var"] + parts[prep.reference]["var"]
    return est, var, parts


def _pool_completed(prep: _Prepared, completed: np.ndarray, level: float = 0.95
                    ) -> tuple[PooledEstimate, dict]:
    est, var, parts = _completed_estimates(prep, completed)
    if prep.kind == "binary":
        df_com = math.inf
    else:
        df_com = float(parts[prep.arm]["n"] + parts[prep.reference]["n"] - 2)
    return rubin_pool(est, var, df_complete=df_com, level=level), parts


def _mi(prep: _Prepared, n_imputations: int, seed: int) -> SensitivityResult:
    if not prep.continuous_sources:
        note = (f"{prep.endpoint.label} is measured as yes/no, so regression imputation does not "
                "apply; see non-responder imputation, LOCF and BOCF.")
        return SensitivityResult("mi", STRATEGIES["mi"], (), None, {}, (note,), "")
    if n_imputations < 2:
        raise AnalysisError(f"Multiple imputation needs at least 2 imputations (asked for "
                            f"{n_imputations}); 50 or more is usual.")
    plan = _mi_plan(prep)
    if not plan[0]:
        cc = _complete_case(prep)
        note = "No missing value could be imputed, so multiple imputation is the complete-case analysis."
        return SensitivityResult("mi", STRATEGIES["mi"], cc.arms, cc.contrast, cc.n_imputed,
                                 (note,), cc.methods_text)
    completed, imputed, notes = _multiply_impute(prep, n_imputations, seed, plan)
    notes = [*prep.records_note(), *notes]
    pooled, parts = _pool_completed(prep, completed)
    arms = []
    for a in prep.order:
        p = parts[a]
        mask = prep.mask(a)
        n_imp = int(imputed[mask].sum())
        arms.append(ArmSummary(a, p["n"], p["n"] - n_imp, n_imp, int(prep.missing[mask].sum()),
                               float(p["mean"].mean()),
                               float(p["responders"].mean()) if p["responders"] is not None else None,
                               float(p["sd"].mean()) if p["sd"] is not None else None))
    left = int((prep.missing & ~imputed).sum())
    if left:
        notes.append(f"{left} subjects without a usable baseline value could not be imputed and are "
                     "left out.")
    measure = "risk_difference" if prep.kind == "binary" else "mean_difference"
    test = (f"Multiple imputation (m = {n_imputations}), Rubin's rules, "
            f"{'Rubin' if prep.kind == 'binary' else 'Barnard-Rubin'} df")
    contrast = stats.Contrast(prep.arm, prep.reference, measure, pooled.estimate, pooled.se,
                              pooled.ci_low, pooled.ci_high, pooled.p_value, test, df=pooled.df)
    notes.append(f"Fraction of missing information {pooled.fmi:.3f}; between-imputation variance "
                 f"{pooled.between:.3g}, within {pooled.within:.3g}.")
    src = prep.source_text()
    model = "baseline and the last earlier post-baseline value"
    if len(prep.sources) > 1:
        model += f" (and, for {prep.sources[1]}, {prep.sources[0]} at {prep.visit_label})"
    if prep.kind == "binary":
        analysis = ("the status was derived in each completed data set, the risk difference was "
                    "computed in each with variance p(1-p)/n per arm, and the results were combined "
                    "with Rubin's rules (Rubin's degrees of freedom)")
    else:
        analysis = ("the difference in means (variance s1^2/n1 + s2^2/n2) was computed in each "
                    "completed data set and combined with Rubin's rules (Barnard-Rubin degrees of "
                    "freedom)")
    methods = (f"{_head(prep)}: missing {src} values at {prep.visit_label} were multiply imputed "
               f"({n_imputations} imputations, seed {seed}) within each arm by Bayesian linear "
               f"regression on {model}, drawing the regression parameters from their posterior "
               f"(Rubin 1987); {analysis}. This assumes the data are missing at random given arm "
               "and the observed history.")
    return SensitivityResult("mi", STRATEGIES["mi"], tuple(arms), contrast,
                             {a.arm: a.n_imputed for a in arms}, tuple(notes), methods, pooled)


# ====================================================================== public API


def primary_sensitivity(trial: S.Trial, endpoint: str, visit: float | str, population: str | None = None,
                        filters: Filters = (), rule: ResponderRule = PRIMARY_RULE,
                        strategies: Sequence[str] = DEFAULT_STRATEGIES, n_imputations: int = 50,
                        seed: int = 2024, *, arm: str | None = None, measure: str = "chg",
                        mcid_vas: float = MCID_VAS_MM, mcid_odi: float = MCID_ODI_POINTS
                        ) -> list[SensitivityResult]:
    """The comparison of ``arm`` with the reference arm at ``visit`` under each missing-data strategy.

    Strategies (in the order asked):

    * ``complete_case``: subjects with a value at the visit; the primary analysis (chi-square
      with Yates' correction and Newcombe CI for binary endpoints, Welch's t-test for continuous
      ones), so it equals :func:`respine.analyses.compare.analyze` on a study without derived
      records (here derived records such as LOCF are missing values; there they are analysed).
    * ``nri``: missing status = non-responder (binary endpoints; for continuous ones the result
      has no contrast and a note).
    * ``locf``: the last post-baseline value before the visit (baseline when there is none) of
      each measured source (VAS and ODI for RESP), then the status or change is derived again.
    * ``bocf``: the baseline value, i.e. no change (for RESP, non-responder).
    * ``mi``: ``n_imputations`` imputations seeded with ``seed``; within each arm, each missing
      source value at the visit is drawn from a Bayesian linear regression on its baseline and
      its last earlier post-baseline value (ODI also on VAS at the visit), fitted on the arm's
      subjects who have them (see :func:`_multiply_impute`). Each completed data set gives the
      risk difference (variance p(1-p)/n per arm) or the difference in means (variance
      s1^2/n1 + s2^2/n2); :func:`rubin_pool` combines them. With nothing to impute the result
      is the complete-case analysis. Imputed values are neither rounded nor truncated to the
      scale's range (0-100 for VAS and ODI), which would bias the imputed means and variances;
      the responder rule handles values beyond the range correctly.

    Single imputations (NRI, LOCF, BOCF) are analysed like the primary analysis and ignore the
    uncertainty of the imputed values. Continuous endpoints analyse ``measure`` (change from
    baseline by default). For studies with more than two arms, call once per treatment ``arm``.

    References
    ----------
    .. [1] Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley, 1987.
    .. [2] National Research Council. The Prevention and Treatment of Missing Data in Clinical
       Trials. National Academies Press, 2010 (chapters 4-5: single imputation, MI, sensitivity).
    .. [3] EMA/CHMP. Guideline on Missing Data in Confirmatory Clinical Trials.
       EMA/CPMP/EWP/1776/99 Rev. 1, 2010.
    .. [4] van Buuren S. Flexible Imputation of Missing Data, 2nd ed. CRC Press, 2018.
    """
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise SelectionError(f"Unknown strategy {', '.join(repr(s) for s in unknown)}. Choose from: "
                             f"{', '.join(STRATEGIES)}.")
    prep = _prepare(trial, endpoint, visit, population, filters, rule, measure, mcid_vas, mcid_odi, arm)
    out = []
    for s in strategies:
        if s == "complete_case":
            out.append(_complete_case(prep))
        elif s == "nri":
            out.append(_nri(prep))
        elif s in ("locf", "bocf"):
            out.append(_carry_forward(prep, s))
        else:
            out.append(_mi(prep, n_imputations, seed))
    return out


def sensitivity_table(results: Sequence[SensitivityResult]) -> pd.DataFrame:
    """One row per strategy: per-arm n and estimate, imputed counts, contrast, CI and p-value."""
    rows = []
    for r in results:
        row: dict[str, object] = {"strategy": r.strategy, "label": r.label}
        for i, a in enumerate(r.arms):
            key = "arm" if i == 0 else "reference"
            row[f"{key}"] = a.arm
            row[f"n_{key}"] = a.n
            row[f"imputed_{key}"] = a.n_imputed
            row[f"estimate_{key}"] = a.estimate
        c = r.contrast
        row.update({"estimate": c.estimate if c else math.nan, "ci_low": c.ci_low if c else math.nan,
                    "ci_high": c.ci_high if c else math.nan, "p_value": c.p_value if c else math.nan,
                    "test": c.test if c else "", "notes": " ".join(r.notes)})
        rows.append(row)
    return pd.DataFrame(rows)


def tipping_point(trial: S.Trial, endpoint: str, visit: float | str, population: str | None = None,
                  filters: Filters = (), rule: ResponderRule = PRIMARY_RULE,
                  grid: Sequence[float] | None = None, *, arm: str | None = None, measure: str = "chg",
                  n_imputations: int = 50, seed: int = 2024, alpha: float = ALPHA,
                  mcid_vas: float = MCID_VAS_MM, mcid_odi: float = MCID_ODI_POINTS) -> pd.DataFrame:
    """How extreme must the missing outcomes be to change the conclusion of the primary analysis?

    **Binary endpoints**: one row for every combination of ``i`` responders among the ``m1``
    missing subjects of the treatment arm and ``j`` among the ``m2`` of the reference arm
    (0..m1 x 0..m2; ``grid`` is not used). Each row analyses all subjects like the primary
    analysis: risk difference with Newcombe's CI and the chi-square test with Yates' correction.
    The corner ``i = j = 0`` is non-responder imputation; ``i = m1, j = m2`` counts every missing
    subject as a responder.

    **Continuous endpoints**: a delta adjustment. The missing values are multiply imputed as in
    :func:`primary_sensitivity` (``n_imputations``, ``seed``), then ``delta`` is added to every
    imputed value of the analysed measure in the treatment arm only, and the completed data
    sets are pooled with Rubin's rules. ``delta = 0`` is the missing-at-random analysis; for
    endpoints where lower is better (VAS, ODI) a positive delta makes the treatment arm's
    missing subjects do worse. ``grid`` defaults to 21 round values spanning at least one SD of
    the observed measure on either side of 0.

    Columns (binary): responders_missing_arm, responders_missing_reference, responders_arm,
    n_arm, rate_arm, responders_reference, n_reference, rate_reference, risk_difference, ci_low,
    ci_high, p_value, significant, changes_conclusion, favours. Columns (continuous): delta,
    estimate, se, ci_low, ci_high, df, p_value, significant, changes_conclusion, favours.
    ``changes_conclusion`` is True where significance at ``alpha`` differs from that of the
    complete-case primary analysis (e.g. p < 0.05 where the primary was not significant).
    ``DataFrame.attrs`` holds arm, reference, kind, the missing counts and the primary p-value.

    References
    ----------
    .. [1] Yan X, Lee S, Li N. Missing data handling methods in medical device clinical trials.
       J Biopharm Stat 2009;19:1085-1098 (tipping-point analysis of a binary endpoint).
    .. [2] Ratitch B, O'Kelly M, Tosiello R. Missing data in clinical trials: from clinical
       assumptions to statistical analysis using pattern mixture models. Pharm Stat
       2013;12:337-347 (delta adjustment).
    .. [3] National Research Council. The Prevention and Treatment of Missing Data in Clinical
       Trials. National Academies Press, 2010, chapter 5.
    """
    prep = _prepare(trial, endpoint, visit, population, filters, rule, measure, mcid_vas, mcid_odi, arm)
    primary = _contrast(prep, prep.outcome)
    primary_sig = bool(primary.p_value < alpha)
    m1 = int(prep.missing[prep.mask(prep.arm)].sum())
    m2 = int(prep.missing[prep.mask(prep.reference)].sum())
    attrs = {"kind": prep.kind, "arm": prep.arm, "reference": prep.reference, "endpoint": prep.endpoint.id,
             "visit": prep.visit, "missing_arm": m1, "missing_reference": m2, "alpha": alpha,
             "primary_estimate": primary.estimate, "primary_p_value": primary.p_value,
             "primary_significant": primary_sig}
    if prep.kind == "binary":
        y1 = prep.outcome[prep.mask(prep.arm)]
        y2 = prep.outcome[prep.mask(prep.reference)]
        r1, o1 = int((y1 == 1).sum()), int((~np.isnan(y1)).sum())
        r2, o2 = int((y2 == 1).sum()), int((~np.isnan(y2)).sum())
        i, j = np.meshgrid(np.arange(m1 + 1), np.arange(m2 + 1), indexing="ij")
        i, j = i.ravel(), j.ravel()
        x1, x2 = r1 + i, r2 + j
        n1, n2 = np.full(i.shape, o1 + m1), np.full(j.shape, o2 + m2)
        p1, p2 = x1 / n1, x2 / n2
        z = float(sps.norm.ppf(0.975))
        l1, u1 = _wilson(x1, n1, z)
        l2, u2 = _wilson(x2, n2, z)
        rd = p1 - p2
        pv = _yates_p(x1, n1, x2, n2)
        table = pd.DataFrame({
            "responders_missing_arm": i, "responders_missing_reference": j,
            "responders_arm": x1, "n_arm": n1, "rate_arm": p1,
            "responders_reference": x2, "n_reference": n2, "rate_reference": p2,
            "risk_difference": rd,
            "ci_low": rd - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            "ci_high": rd + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
            "p_value": pv})
        attrs.update({"observed_arm": (r1, o1), "observed_reference": (r2, o2),
                      "test": stats.BINARY_TESTS[PRIMARY_TEST]})
        effect = table["risk_difference"]
    else:
        if not prep.continuous_sources:
            raise AnalysisError(f"{prep.endpoint.label} cannot be imputed by regression.")
        completed, imputed, _ = _multiply_impute(prep, n_imputations, seed)
        if grid is None:
            observed = prep.outcome[~prep.missing]
            grid = _default_deltas(float(np.std(observed, ddof=1)) if observed.size > 1 else 1.0)
        shift_cols = imputed & prep.mask(prep.arm)
        rows = []
        for delta in grid:
            shifted = completed.copy()
            shifted[:, shift_cols] += float(delta)
            pooled, _ = _pool_completed(prep, shifted)
            rows.append({"delta": float(delta), "estimate": pooled.estimate, "se": pooled.se,
                         "ci_low": pooled.ci_low, "ci_high": pooled.ci_high, "df": pooled.df,
                         "p_value": pooled.p_value})
        table = pd.DataFrame(rows)
        attrs.update({"n_imputations": n_imputations, "seed": seed, "measure": prep.measure,
                      "test": "Multiple imputation with delta adjustment, Rubin's rules"})
        effect = table["estimate"]
    table["significant"] = table["p_value"] < alpha
    table["changes_conclusion"] = table["significant"] != primary_sig
    # Which arm a significant result favours, from the endpoint's declared direction (for a binary
    # endpoint too: a 1 is not always good); blank where the direction of benefit is unknown.
    positive = positive_favours_arm(prep.endpoint,
                                    "risk_difference" if prep.kind == "binary" else "mean_difference")
    direction = 0.0 if positive is None else (1.0 if positive else -1.0)
    favoured = np.where(direction * effect > 0, prep.arm, prep.reference)
    table["favours"] = np.where(table["significant"] & (direction != 0), favoured, "")
    table.attrs.update(attrs)
    return table


def _default_deltas(sd: float) -> list[float]:
    """21 round shifts, step 1, 2 or 5 x 10^k, spanning at least one SD either side of 0."""
    raw = max(sd, 1e-9) / 10
    mag = 10 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 5, 10) if k * mag >= raw)
    return [round(k * step, 10) for k in range(-10, 11)]


def smallest_tipping_shift(table: pd.DataFrame) -> TippingShift | None:
    """The least extreme row of a :func:`tipping_point` table that changes the conclusion, or None.

    Continuous: the ``delta`` of smallest absolute value whose conclusion differs from the
    primary analysis. Binary: "least extreme" is measured from what missing at random within
    arm predicts, ``m1 * p1`` responders among the ``m1`` missing subjects of the treatment arm
    (``p1`` its observed rate) and likewise ``m2 * p2`` in the reference arm; the shift is
    ``|i - m1 p1| + |j - m2 p2|``, the number of missing subjects whose status must differ from
    that expectation. Ties go to the smaller p-value.

    References
    ----------
    .. [1] Yan X, Lee S, Li N. J Biopharm Stat 2009;19:1085-1098.
    """
    changed = table[table["changes_conclusion"]]
    if changed.empty:
        return None
    a = table.attrs
    if a.get("kind") == "continuous":
        order = changed.assign(_d=changed["delta"].abs()).sort_values(["_d", "p_value"])
        row = order.iloc[0].drop("_d").to_dict()
        text = (f"The conclusion changes when the imputed values of the {a['arm']} arm are shifted "
                f"by {row['delta']:g} (p = {row['p_value']:.3g}).")
        return TippingShift("continuous", float(row["delta"]), row, text)
    r1, o1 = a["observed_arm"]
    r2, o2 = a["observed_reference"]
    e1 = a["missing_arm"] * (r1 / o1 if o1 else 0.0)
    e2 = a["missing_reference"] * (r2 / o2 if o2 else 0.0)
    dist = ((changed["responders_missing_arm"] - e1).abs()
            + (changed["responders_missing_reference"] - e2).abs())
    order = changed.assign(_d=dist).sort_values(["_d", "p_value"])
    row = order.iloc[0].drop("_d").to_dict()
    shift = float(order.iloc[0]["_d"])
    text = (f"The conclusion changes if {int(row['responders_missing_arm'])} of the "
            f"{a['missing_arm']} missing {a['arm']} subjects and {int(row['responders_missing_reference'])} "
            f"of the {a['missing_reference']} missing {a['reference']} subjects were responders "
            f"(risk difference {row['risk_difference']:+.3f}, p = {row['p_value']:.3g}).")
    return TippingShift("binary", shift, row, text)



# ====================================================================== estimands and reference-based MI

#: The ICH E9(R1) intercurrent-event strategy each missing-data strategy of this module stands for,
#: with the assumption it makes about the outcomes after discontinuation (the event: no assessment
#: at or after a visit). Declared once; the estimand table and the methods text read it.
ESTIMAND_STRATEGIES: dict[str, tuple[str, str]] = {
    "complete_case": ("hypothetical", "the missing outcomes are like the observed ones (missing "
                      "completely at random)"),
    "nri": ("composite", "discontinuation counts as treatment failure"),
    "locf": ("while on treatment", "the last assessment before discontinuation stands for the visit"),
    "bocf": ("composite", "discontinuation counts as no change from baseline"),
    "mi": ("hypothetical", "as if the subjects had stayed on their arm's treatment (missing at "
           "random given arm and history)"),
    "MAR": ("hypothetical", "as if the subjects had stayed on their arm's treatment (missing at "
            "random given arm and history)"),
    "JR": ("treatment policy (reference-based)", "after discontinuation the subject jumps to the "
           "reference arm's mean"),
    "CR": ("treatment policy (reference-based)", "the subject's whole course follows the reference "
           "arm's mean"),
    "CIR": ("treatment policy (reference-based)", "after discontinuation the subject's changes are "
            "those of the reference arm, from where it was"),
    "delta": ("hypothetical, departed from MAR", "the discontinued subjects of the treatment arm do "
              "worse than MAR predicts by delta"),
}
REFERENCE_BASED: dict[str, str] = {s: f"Reference-based MI: {refbased.STRATEGIES[s]}"
                                   for s in refbased.STRATEGIES}
REFERENCE_METHODS = refbased.METHODS


def _wide_measure(prep: _Prepared) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The analysed measure at every post-baseline visit up to the analysis visit (subjects x visits)
    and the baseline, for a measured continuous endpoint."""
    s = prep.sources[0]
    wide = prep.earlier[s].copy()
    wide[prep.visit] = prep.at_visit[s]
    base = prep.base[s]
    values = wide.to_numpy(float)
    if prep.measure == "chg":
        values = values - base[:, None]
    elif prep.measure == "pchg":
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(base[:, None] != 0, 100.0 * (values - base[:, None]) / base[:, None], np.nan)
    return values, base, [float(c) for c in wide.columns]


def reference_based(trial: S.Trial, endpoint: str, visit: float | str, population: str | None = None,
                    filters: Filters = (), strategies: Sequence[str] = tuple(refbased.STRATEGIES),
                    method: str = "condmean", n_samples: int = 20, seed: int = 2024, *,
                    arm: str | None = None, measure: str = "chg",
                    deltas: Sequence[float] = (0.0,)) -> pd.DataFrame:
    """Reference-based multiple imputation of a continuous endpoint: one row per strategy and delta.

    The intercurrent event of a subject is discontinuation, taken from the data as the visit after
    its last observed post-baseline assessment up to ``visit`` (missing visits before that are
    intermittent and imputed under MAR, like rbmi's default). The imputation model, the strategies
    (``MAR``, ``JR`` jump to reference, ``CR`` copy reference, ``CIR`` copy increments in reference),
    the two methods (``condmean``: conditional mean with jackknife; ``approxbayes``: ``n_samples``
    bootstrap draws, seeded, Rubin's rules) and the ANCOVA on arm and baseline at ``visit`` are those
    of :func:`respine.stats.refbased.reference_based_mi`; ``deltas`` shifts the imputed values of
    ``arm`` at the visit (a tipping point).

    Columns: strategy, label, estimand_strategy, assumption, method, delta, arm, reference, n_arm,
    n_reference, imputed_arm, imputed_reference, estimate, se, ci_low, ci_high, df, p_value,
    methods_text. ``attrs`` hold the visits of the imputation model and the notes.

    Raises
    ------
    AnalysisError
        For a responder endpoint, when no subject has a baseline, or when the imputation model
        cannot be fitted (the message says why and what to change).

    References
    ----------
    .. [1] Carpenter JR, Roger JH, Kenward MG. J Biopharm Stat 2013;23:1352-1371.
    .. [2] Wolbers M et al. Pharm Stat 2022;21:1246-1257.
    .. [3] Gower-Page C, Noci A, Wolbers M. rbmi. J Open Source Softw 2022;7(74):4251.
    .. [4] ICH E9(R1) addendum on estimands and sensitivity analysis in clinical trials, 2019.
    """
    unknown = [s for s in strategies if s not in refbased.STRATEGIES]
    if unknown:
        raise SelectionError(f"Unknown reference-based strategy {', '.join(repr(s) for s in unknown)}. "
                             f"Choose from: {', '.join(refbased.STRATEGIES)}.")
    if method not in refbased.METHODS:
        raise SelectionError(f"Unknown imputation method '{method}'. Choose from: "
                             f"{', '.join(refbased.METHODS)}.")
    prep = _prepare(trial, endpoint, visit, population, (*filters,), PRIMARY_RULE, measure, MCID_VAS_MM,
                    MCID_ODI_POINTS, arm)
    if prep.kind != "continuous" or prep.endpoint.is_derived:
        raise AnalysisError(f"Reference-based imputation is for continuous endpoints; "
                            f"{prep.endpoint.label} is a yes/no endpoint. Use the missing-data "
                            "strategies and the tipping point above for it.")
    y, base, visits = _wide_measure(prep)
    notes = list(prep.records_note())
    keep = ~np.isnan(base)
    if not keep.all():
        notes.append(f"{int((~keep).sum())} subject(s) without a baseline value were left out (the "
                     "baseline is a covariate of the imputation model and of the analysis).")
    y, base, arms = y[keep], base[keep], prep.arms[keep]
    if y.shape[0] == 0:
        raise AnalysisError("No subject of this selection has a baseline value; widen the selection.")
    code = np.where(arms == prep.reference, 0, 1)
    observed = ~np.isnan(y)
    T = y.shape[1]
    last = np.where(observed.any(axis=1), T - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    ice = np.where(last == T - 1, T, last + 1)
    k = T - 1
    imputed = np.isnan(y[:, k])
    rows = []
    for s in strategies:
        try:
            res = refbased.reference_based_mi(y, code, base, ice, n_arms=2, reference=0, visit_index=k,
                                              strategy=s, method=method, n_samples=n_samples, seed=seed,
                                              deltas=deltas)
        except AnalysisError as exc:
            raise AnalysisError(f"{prep.endpoint.label} at {prep.visit_label}: {exc}") from exc
        ich, assumption = ESTIMAND_STRATEGIES[s]
        how = ("each missing value was its conditional mean, with jackknife standard errors "
               "(Wolbers et al. 2022)" if method == "condmean" else
               f"{n_samples} bootstrap draws of the model (seed {seed}), one random imputation each, "
               "pooled with Rubin's rules (Barnard-Rubin degrees of freedom)")
        text = (f"{_head(prep)}: missing values of the {derive.MEASURES[prep.measure].lower()} were "
                f"imputed under {refbased.STRATEGIES[s]} (ICH E9(R1) {ich} strategy: {assumption}) "
                "from an MMRM on the observed values (arm by visit and baseline by visit, unstructured "
                f"covariance, REML; visits {', '.join(f'{v:g}' for v in visits)}); {how}; each "
                "completed data set was analysed by ANCOVA on arm and baseline (Carpenter, Roger and "
                "Kenward 2013; rbmi).")
        for r in res:
            rows.append({"strategy": s, "label": REFERENCE_BASED[s], "estimand_strategy": ich,
                         "assumption": assumption, "method": method, "delta": r.delta,
                         "arm": prep.arm, "reference": prep.reference,
                         "n_arm": int((code == 1).sum()), "n_reference": int((code == 0).sum()),
                         "imputed_arm": int((imputed & (code == 1)).sum()),
                         "imputed_reference": int((imputed & (code == 0)).sum()),
                         "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "df": r.df, "p_value": r.p_value, "methods_text": text})
    table = pd.DataFrame(rows)
    table.attrs.update({"visits": visits, "notes": notes, "endpoint": prep.endpoint.id,
                        "visit": prep.visit, "measure": prep.measure})
    return table
