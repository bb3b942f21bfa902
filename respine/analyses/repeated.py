"""The MMRM of a selection: the long frame of post-baseline records and the cached fit, with the
covariance structures and degrees-of-freedom methods the app offers.

The MMRM reads **observed records only** (:mod:`respine.derive.records`): it models the observed
data under missing at random, so a record filled in by a rule (ADaM ``DTYPE`` such as LOCF) is a
missing value to it, never a measurement. :func:`mmrm_records` counts what it read and left out.
"""

from __future__ import annotations

import pandas as pd

from respine import derive, stats
from respine.derive.records import count_records
from respine.errors import AnalysisError, SelectionError
from respine.memo import per_trial
from respine.model import design as S
from respine.model.results import RecordCounts
from respine.model.selection import Selection

#: The records an MMRM reads (see the module docstring).
MMRM_RECORDS: derive.Records = "observed"

# The covariance structures, denominator degrees of freedom, covariance grouping and standard
# errors the app offers, with their labels (the statistics module holds the methods).
COVARIANCES = {
    "us": "unstructured", "cs": "compound symmetry", "ar1": "AR(1)", "toep": "Toeplitz",
    "csh": "heterogeneous compound symmetry", "toeph": "heterogeneous Toeplitz",
    "ar1h": "heterogeneous AR(1)", "ad": "ante-dependence", "adh": "heterogeneous ante-dependence",
    "sp_exp": "spatial exponential (visit time)",
}
DF_METHODS = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}
COVARIANCE_BY = {"none": "one for all subjects", "arm": "one per arm"}
VCOVS = {
    "model": "model-based", "empirical": "empirical (sandwich, CR0)",
    "empirical-bias-reduced": "empirical, bias-reduced (CR2)",
    "empirical-jackknife": "empirical, jackknife (CR3)",
}

def _has_baseline(data: pd.DataFrame) -> bool:
    """Whether any record of the frame has a baseline value (an endpoint without a baseline
    visit, such as a global impression of change, has none)."""
    return derive.BASE in data.columns and bool(data[derive.BASE].notna().any())


def _post_baseline(trial: S.Trial, sel: Selection, records: derive.Records) -> pd.DataFrame:
    data = derive.endpoint_data(trial, sel.endpoint, sel.population, sel.filters, records=records)
    base_visit = min(v.number for v in trial.design.visits)
    return data[data[S.VISIT_MONTH] != base_visit]


def _mmrm_frame(trial: S.Trial, sel: Selection) -> tuple[pd.DataFrame, str]:
    data = _post_baseline(trial, sel, MMRM_RECORDS)
    column = {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    if column != S.VALUE and not _has_baseline(data):
        raise AnalysisError(
            f"{trial.endpoint(sel.endpoint).label} has no baseline value, so change from baseline "
            "cannot be computed; analyse the observed value instead (measure aval)."
        )
    if sel.covariates:
        data = data.merge(derive.subject_table(trial).drop(columns=[S.ARM]), on=S.SUBJECT_ID, how="left")
        for cov in trial.design.covariates:
            if cov.kind == "categorical" and cov.column in sel.covariates:
                data[cov.column] = derive.as_levels(data[cov.column]).where(data[cov.column].notna())
    return data, column


@per_trial(maxsize=64)
def mmrm_fit(trial: S.Trial, sel: Selection):
    """The MMRM of the selected endpoint over all post-baseline visits (one fit serves every visit).

    Model: measure ~ arm * visit + baseline * visit + covariates, REML, with the selection's
    covariance structure and degrees-of-freedom method; see :func:`respine.stats.mmrm.fit_mmrm`.
    """
    from respine.stats.mmrm import fit_mmrm

    if trial.endpoint(sel.endpoint).kind != "continuous":
        raise AnalysisError(
            "An MMRM needs a continuous endpoint; for responders use the GEE on the Robustness page."
        )
    if sel.covariance not in COVARIANCES:
        raise SelectionError(
            f"Unknown covariance '{sel.covariance}'. Choose one of: {', '.join(COVARIANCES)}."
        )
    if sel.df_method not in DF_METHODS:
        raise SelectionError(
            f"Unknown degrees-of-freedom method '{sel.df_method}'. Choose one of: {', '.join(DF_METHODS)}."
        )
    if sel.covariance_by not in COVARIANCE_BY:
        raise SelectionError(
            f"Unknown covariance grouping '{sel.covariance_by}'. Choose one of: {', '.join(COVARIANCE_BY)}."
        )
    if sel.vcov not in VCOVS:
        raise SelectionError(f"Unknown standard errors '{sel.vcov}'. Choose one of: {', '.join(VCOVS)}.")
    if sel.vcov != "model" and sel.df_method == "kenward-roger":
        raise SelectionError(
            "Kenward-Roger degrees of freedom adjust the model-based standard errors; with empirical "
            "standard errors choose Satterthwaite degrees of freedom (Bell-McCaffrey)."
        )
    data, column = _mmrm_frame(trial, sel)
    reference = sel.reference or trial.design.reference_arm
    return fit_mmrm(
        data,
        response=column,
        # No baseline term for an endpoint without a baseline visit (its model is arm * visit).
        baseline=derive.BASE if _has_baseline(data) else None,
        covariates=sel.covariates,
        reference=reference,
        covariance=sel.covariance,
        df_method=sel.df_method,
        arm_order=tuple(derive.arm_order(trial)),
        # The spatial exponential structure reads the visit numbers as times (months for the
        # product's own layout, AVISITN for ADaM), so unequally spaced visits are correlated by
        # their distance.
        group=S.ARM if sel.covariance_by == "arm" else None,
        vcov=sel.vcov,
    )


def mmrm_type3(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """Type III F tests of every term of the MMRM of ``sel`` (one row per term: term, its label,
    numerator and denominator df, F and p), with the selection's degrees of freedom and
    standard errors; see :func:`respine.stats.mmrm.fit_mmrm`."""
    reference = sel.reference or trial.design.reference_arm
    fit = mmrm_fit(trial, sel.with_(reference=reference))
    names = {S.ARM: "Arm", S.VISIT_MONTH: "Visit", derive.BASE: "Baseline"}
    labels = {c.column: c.label for c in trial.design.covariates}

    def label(term: str) -> str:
        return " × ".join(names.get(part, labels.get(part, part)) for part in term.split(":"))

    out = fit.type3.copy()
    out.insert(1, "label", [label(t) for t in out["term"]])
    return out


def mmrm_records(trial: S.Trial, sel: Selection) -> RecordCounts:
    """The records the MMRM of ``sel`` reads (observed post-baseline records with a value of the
    measure) per arm, and the derived analysis records it leaves out, by derivation type."""
    data, column = _mmrm_frame(trial, sel)
    need = [column, *([derive.BASE] if _has_baseline(data) else [])]  # the model's rows
    analysis = _post_baseline(trial, sel, "analysis")
    left_out = analysis[~derive.is_observed(analysis)].dropna(subset=[column])
    return count_records(data.dropna(subset=need), MMRM_RECORDS, derive.arm_order(trial), left_out)


def _mmrm_at_visit(
    fit, visit: float, visit_label: str
) -> tuple[tuple[stats.Contrast, ...], tuple, list[str]]:
    contrasts = fit.contrasts[fit.contrasts["visit"] == visit]
    if contrasts.empty:
        raise AnalysisError(
            f"The MMRM models post-baseline visits only; choose a visit after baseline, not {visit_label}."
        )
    parts = [COVARIANCES[fit.covariance] + (" per arm" if fit.group is not None else ""),
             f"{DF_METHODS.get(fit.df_method, fit.df_method)} df"]
    if fit.vcov != "model":
        parts.append(VCOVS[fit.vcov] + " SE")
    test = f"MMRM ({', '.join(parts)})"
    out = tuple(
        stats.Contrast(
            r.arm,
            r.reference,
            "mean_difference",
            float(r.estimate),
            float(r.se),
            float(r.ci_low),
            float(r.ci_high),
            float(r.p_value),
            test,
            df=float(r.df),
        )
        for r in contrasts.itertuples()
    )
    lsm = fit.lsmeans[fit.lsmeans["visit"] == visit]
    lsmeans = tuple(
        {
            "arm": r.arm,
            "lsmean": float(r.estimate),
            "se": float(r.se),
            "ci_low": float(r.ci_low),
            "ci_high": float(r.ci_high),
        }
        for r in lsm.itertuples()
    )
    return out, lsmeans, list(fit.notes)



def covariance_sensitivity(trial: S.Trial, sel: Selection) -> pd.DataFrame:
    """The MMRM contrast at ``sel.visit`` under every covariance structure, one covariance matrix
    and one per arm, with model-based and empirical (CR2) standard errors: how much the
    comparison depends on the choice of covariance (a robustness check).

    One row per structure, grouping and standard error, per treatment arm: covariance, label,
    covariance_by, vcov, arm, reference, estimate, se, df, ci_low, ci_high, p_value, aic (smaller
    is better; comparable across structures because the fixed effects are the same), and
    ``message``: empty, or why that structure could not be fitted (it names the structure). The
    other MMRM options of ``sel`` (degrees of freedom, covariates) are kept; Kenward-Roger
    degrees of freedom go with model-based standard errors only, so the empirical rows use
    Satterthwaite's (Bell-McCaffrey).
    """
    reference = sel.reference or trial.design.reference_arm
    rows: list[dict[str, object]] = []
    for covariance, label in COVARIANCES.items():
        for by in COVARIANCE_BY:
            for vcov in ("model", "empirical-bias-reduced"):
                df_method = sel.df_method if vcov == "model" else "satterthwaite"
                base = {"covariance": covariance, "label": label, "covariance_by": by, "vcov": vcov,
                        "df_method": df_method}
                try:
                    fit = mmrm_fit(trial, sel.with_(method="mmrm", reference=reference, covariance=covariance,
                                                    covariance_by=by, vcov=vcov, df_method=df_method))
                except AnalysisError as exc:
                    rows.append({**base, "reference": reference, "message": str(exc)})
                    continue
                at = fit.contrasts[fit.contrasts["visit"] == sel.visit]
                if at.empty:
                    raise AnalysisError(
                        "The MMRM models post-baseline visits only; choose a visit after baseline, not "
                        f"{trial.design.visit_label(sel.visit)}."
                    )
                for r in at.itertuples():
                    rows.append({**base, "arm": r.arm, "reference": r.reference, "estimate": r.estimate,
                                 "se": r.se, "df": r.df, "ci_low": r.ci_low, "ci_high": r.ci_high,
                                 "p_value": r.p_value, "aic": fit.aic, "message": ""})
    columns = ["covariance", "label", "covariance_by", "vcov", "df_method", "arm", "reference", "estimate",
               "se", "df", "ci_low", "ci_high", "p_value", "aic", "message"]
    return pd.DataFrame(rows, columns=columns)
