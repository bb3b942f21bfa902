"""Subgroup screening: every subgroup one or two covariates define, against what chance alone gives.

Each subgroup (a level of one declared covariate, or a pair of levels of two) has a treatment
effect: the difference in means of the analysed measure, or the risk difference of a binary
endpoint, of one treatment arm against the reference. A reader plots it against the subgroup's
size, beside the overall effect. How far would subgroups stray from the overall effect if the
treatment acted alike in everyone? The arms are re-labelled at random B times (seeded), which
keeps every subject's value and covariates and destroys any link between arm and outcome; each
re-labelling gives every subgroup's deviation from its own overall effect.

The deviations are put on one scale by the size factor ``sqrt(1/m - 1/N)`` (m the subgroup's size,
N the whole sample): for a difference in means under random allocation with proportion p,
``var(d_S - d) = sigma^2 (1/m - 1/N) / (p (1 - p))`` (the subgroup is a part of the whole, so its
deviation shrinks to 0 as it grows to the whole sample). Two bands follow, both drawn as funnels
around the overall effect, ``overall +- q sqrt(1/m - 1/N)``:

* **pointwise** (``q_pointwise``): the ``level`` quantile of the scaled absolute deviation over every
  subgroup and re-labelling; a subgroup outside it is as unusual as 1 - level of subgroups are by
  chance, so about 5% of subgroups fall outside it even when nothing is going on;
* **simultaneous** (``q_simultaneous``): the ``level`` quantile over re-labellings of the largest
  scaled deviation among all subgroups (Westfall and Young's max-T); in 95% of re-labellings no
  subgroup at all leaves it, so a subgroup outside it stands out beyond chance, after looking at
  every subgroup. Its adjusted p-value is the share of re-labellings whose largest deviation is at
  least the subgroup's.

For a binary endpoint the variance of a risk difference depends on the subgroup's risk too, so
the common scale is an approximation there; the permutation distribution itself is exact.

References
----------
.. [1] Westfall PH, Young SS. Resampling-Based Multiple Testing. Wiley, 1993 (single-step max-T).
.. [2] Good P. Permutation, Parametric, and Bootstrap Tests of Hypotheses, 3rd ed. Springer, 2005.
.. [3] Lipkovich I, Dmitrienko A, D'Agostino RB. Tutorial in biostatistics: data-driven subgroup
   identification and analysis in clinical trials. Stat Med 2017;36:136-196.
.. [4] Wang R, Lagakos SW, Ware JH, Hunter DJ, Drazen JM. Statistics in medicine: reporting of
   subgroup analyses in clinical trials. N Engl J Med 2007;357:2189-2194.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from respine import derive
from respine.analyses.subgroups import cut_levels
from respine.derive.arms import require_view
from respine.errors import AnalysisError, SelectionError
from respine.model import design as S
from respine.model.labels import endpoint_label
from respine.model.selection import Selection

#: Categorical covariates with more levels than this are left out (a subgroup per site is noise).
MAX_LEVELS = 8
#: Re-labellings are drawn in blocks of this many, to bound memory at 10,000 subjects.
BLOCK = 200


@dataclass(frozen=True)
class ChanceBand:
    """The overall effect and the permutation distribution of every subgroup's deviation from it.

    Attributes
    ----------
    overall : float
        The effect in the whole sample.
    n : int
        The whole sample's size (N).
    scale : ndarray
        ``sqrt(1/m - 1/N)`` of each subgroup.
    estimate : ndarray
        Each subgroup's observed effect.
    deviations : ndarray
        B x G: each re-labelling's deviation of each subgroup from that re-labelling's overall effect.
    overall_permuted : ndarray
        The overall effect of each re-labelling (its spread is the randomisation distribution).
    level : float
        The bands' coverage.
    """

    overall: float
    n: int
    scale: np.ndarray
    estimate: np.ndarray
    deviations: np.ndarray
    overall_permuted: np.ndarray
    level: float

    @property
    def standardised(self) -> np.ndarray:
        """Each subgroup's observed deviation over its size factor."""
        return np.asarray((self.estimate - self.overall) / self.scale)

    @property
    def q_pointwise(self) -> float:
        """The ``level`` quantile of |deviation| / scale over every subgroup and re-labelling."""
        return float(np.nanquantile(np.abs(self.deviations / self.scale), self.level))

    @property
    def max_t(self) -> np.ndarray:
        """The largest |deviation| / scale among the subgroups, per re-labelling."""
        with np.errstate(invalid="ignore"):
            return np.asarray(np.nanmax(np.abs(self.deviations / self.scale), axis=1))

    @property
    def q_simultaneous(self) -> float:
        """The ``level`` quantile of :attr:`max_t`."""
        return float(np.nanquantile(self.max_t, self.level))

    def adjusted_p(self) -> np.ndarray:
        """Each subgroup's max-T adjusted p-value: the share of re-labellings whose largest scaled
        deviation is at least the subgroup's (with the observed labelling counted, so never 0)."""
        t = np.abs(self.standardised)
        m = self.max_t[np.isfinite(self.max_t)]
        return np.asarray((1 + (m[None, :] >= t[:, None]).sum(axis=1)) / (1 + m.size))


def chance_band(
    y: np.ndarray,
    treated: np.ndarray,
    members: np.ndarray,
    permutations: int = 1000,
    seed: int = 2024,
    level: float = 0.95,
) -> ChanceBand:
    """Subgroup effects and their deviations under ``permutations`` random re-labellings of arms.

    Parameters
    ----------
    y : ndarray of float, length N
        The analysed value of each subject (0/1 for a binary endpoint: the effect is then a risk
        difference).
    treated : ndarray of bool, length N
        Whether each subject is in the treatment arm (the others are the reference).
    members : ndarray of bool, G x N
        Row g marks the subjects of subgroup g.
    permutations : int
        Re-labellings B (each a random permutation of ``treated``, so arm sizes stay as they are).
    seed : int
        Seed of the re-labellings (the same seed gives the same band).
    level : float
        The bands' coverage.

    Returns
    -------
    ChanceBand

    References
    ----------
    .. [1] Westfall PH, Young SS. Resampling-Based Multiple Testing. Wiley, 1993.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    a = np.asarray(members, dtype=float)
    if y.ndim != 1 or t.shape != y.shape or a.ndim != 2 or a.shape[1] != y.size:
        raise AnalysisError("Values, arms and subgroup memberships must describe the same subjects.")
    if not np.isfinite(y).all():
        raise AnalysisError("Every subject of the screening needs a value; leave out the missing ones first.")
    if not 0 < level < 1:
        raise AnalysisError(f"The band's level must be between 0 and 1 (got {level}).")
    if permutations < 20:
        raise AnalysisError(f"At least 20 re-labellings are needed for a band (got {permutations}).")
    if t.all() or not t.any():
        raise AnalysisError("Both arms need subjects for a screening.")
    n = y.size
    ay = a * y
    sum_all, count_all = ay.sum(axis=1), a.sum(axis=1)
    if (count_all >= n).any() or (count_all == 0).any():
        raise AnalysisError("A subgroup is empty or holds every subject; it carries no comparison.")
    scale = np.sqrt(1 / count_all - 1 / n)
    estimate, overall = _effects(t[None, :].astype(float), y, ay, a, sum_all, count_all)
    rng = np.random.default_rng(seed)
    deviations, overall_b = [], []
    for start in range(0, permutations, BLOCK):
        b = min(BLOCK, permutations - start)
        labels = rng.permuted(np.tile(t, (b, 1)), axis=1).astype(float)
        eff, tot = _effects(labels, y, ay, a, sum_all, count_all)
        deviations.append(eff - tot[:, None])
        overall_b.append(tot)
    return ChanceBand(
        float(overall[0]), n, scale, estimate[0], np.vstack(deviations), np.concatenate(overall_b), level
    )


def _effects(
    labels: np.ndarray,
    y: np.ndarray,
    ay: np.ndarray,
    a: np.ndarray,
    sum_all: np.ndarray,
    count_all: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Subgroup and overall differences in means (treated minus reference) for each row of labels."""
    sum_t, count_t = labels @ ay.T, labels @ a.T  # B x G
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = sum_t / count_t - (sum_all - sum_t) / (count_all - count_t)
        n_t = labels.sum(axis=1)
        tot = labels @ y / n_t - (y.sum() - labels @ y) / (y.size - n_t)
    return eff, tot


@dataclass(frozen=True)
class Screening:
    """Every screened subgroup with its effect and where it lies against the chance bands.

    Attributes
    ----------
    subgroups : DataFrame
        One row per subgroup: ``subgroup`` (its definition), ``variables``, ``depth`` (1 or 2
        covariates), ``n``, ``n <arm>``, ``n <reference>``, ``estimate``, ``deviation`` (from the
        overall effect), ``z`` (deviation over the size factor), ``pointwise_low``/``_high`` and
        ``simultaneous_low``/``_high`` (the bands at its size), ``outside_pointwise``,
        ``outside_simultaneous``, ``p_adjusted`` (max-T).
    arm, reference, measure : str
        The comparison and its measure (``mean_difference`` or ``risk_difference``).
    overall : float
        The effect in every subject screened.
    n : int
        Subjects screened.
    q_pointwise, q_simultaneous : float
        The bands' multipliers of ``sqrt(1/m - 1/N)``.
    permutations, seed : int
        The re-labellings.
    level : float
        The bands' coverage.
    expected_outside : float
        How many subgroups chance alone puts outside the pointwise band (1 - level of them).
    notes : tuple of str
        What was left out and why.
    """

    subgroups: pd.DataFrame
    arm: str
    reference: str
    measure: str
    overall: float
    n: int
    q_pointwise: float
    q_simultaneous: float
    permutations: int
    seed: int
    level: float
    expected_outside: float
    endpoint_label: str = ""
    visit_label: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def band(
        self, sizes: np.ndarray | Sequence[float], simultaneous: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The band's limits at subgroup sizes ``sizes`` (for the funnel of a figure)."""
        m = np.asarray(sizes, dtype=float)
        q = self.q_simultaneous if simultaneous else self.q_pointwise
        half = q * np.sqrt(np.clip(1 / m - 1 / self.n, 0, None))
        return self.overall - half, self.overall + half

    def to_dict(self) -> dict[str, object]:
        """Plain numbers for JSON (the command line's ``subgroup_screening``)."""
        rows = self.subgroups.replace({np.nan: None}).to_dict("records")
        return {
            "arm": self.arm,
            "reference": self.reference,
            "measure": self.measure,
            "overall": self.overall,
            "n": self.n,
            "subgroups": len(rows),
            "permutations": self.permutations,
            "seed": self.seed,
            "level": self.level,
            "q_pointwise": self.q_pointwise,
            "q_simultaneous": self.q_simultaneous,
            "outside_pointwise": int(self.subgroups["outside_pointwise"].sum()),
            "expected_outside_pointwise": self.expected_outside,
            "outside_simultaneous": int(self.subgroups["outside_simultaneous"].sum()),
            "standing_out": [r for r in rows if r["outside_simultaneous"]],
            "notes": list(self.notes),
        }


def screening_variables(trial: S.Trial) -> tuple[str, ...]:
    """The covariates screened by default: every declared subject covariate except the site."""
    return tuple(c.column for c in trial.design.covariates if c.column != "site")


def subgroup_screening(
    trial: S.Trial,
    sel: Selection,
    variables: tuple[str, ...] = (),
    cutpoints: tuple[tuple[str, tuple[float, ...]], ...] = (),
    pairs: bool = True,
    min_size: int = 20,
    min_per_arm: int = 5,
    permutations: int = 1000,
    seed: int = 2024,
    arm: str = "",
    level: float = 0.95,
) -> Screening:
    """Screen every subgroup that one or two covariates define against a permutation chance band.

    Parameters
    ----------
    trial : Trial
    sel : Selection
        Endpoint, visit, measure, population and filters (the method is not used).
    variables : tuple of str
        Declared covariates to screen (default: :func:`screening_variables`). Continuous ones are
        cut at the median, or at ``cutpoints``; categorical ones with more than
        :data:`MAX_LEVELS` levels are left out with a note.
    cutpoints : tuple of (column, cut-points)
        Cut-points of continuous covariates.
    pairs : bool
        Also screen the subgroups two covariates define together (a level of each).
    min_size, min_per_arm : int
        The smallest subgroup screened, in all and in each arm.
    permutations, seed : int
        Re-labellings of the arms (:func:`chance_band`).
    arm : str
        The treatment arm compared with the reference (default: the first treatment arm).
    level : float
        The bands' coverage.

    Returns
    -------
    Screening

    References
    ----------
    .. [1] Westfall PH, Young SS. Resampling-Based Multiple Testing. Wiley, 1993.
    .. [2] Lipkovich I, Dmitrienko A, D'Agostino RB. Stat Med 2017;36:136-196.
    """
    require_view(trial, sel.arms, sel.pool)
    design = trial.design
    ep = trial.endpoint(sel.endpoint)
    reference = design.reference_arm
    treat = arm or design.treatment_arms[0]
    if treat not in design.treatment_arms:
        raise SelectionError(
            f"Arm '{treat}' is not a treatment arm; choose one of: {', '.join(design.treatment_arms)}."
        )
    if min_size < 2 or min_per_arm < 1:
        raise SelectionError("The smallest subgroup must hold at least 2 subjects and 1 per arm.")
    chosen = tuple(variables) or screening_variables(trial)
    derive.check_covariates(trial, chosen, "Screening")
    column = (
        S.VALUE
        if ep.kind == "binary"
        else {"aval": S.VALUE, "chg": derive.CHG, "pchg": derive.PCHG}[sel.measure]
    )
    data = derive.endpoint_data(
        trial, ep.id, sel.population, sel.filters, sel.rule, sel.mcid_vas, sel.mcid_odi
    )
    at = data[(data[S.VISIT_MONTH] == sel.visit) & data[S.ARM].isin([treat, reference])].dropna(
        subset=[column]
    )
    label = endpoint_label(ep, sel.rule, trial.endpoint)
    if at.empty:
        raise AnalysisError(f"{label} has no data at {design.visit_label(sel.visit)} in this selection.")
    at = at.reset_index(drop=True)
    covariates = derive.subject_table(trial).set_index(S.SUBJECT_ID)
    kinds = {c.column: c for c in design.covariates}
    cuts = dict(cutpoints)
    notes: list[str] = []
    levels: dict[str, pd.Series] = {}
    for var in chosen:
        raw = covariates[var].reindex(at[S.SUBJECT_ID].to_numpy())
        cov = kinds.get(var)
        if cov is not None and cov.kind == "continuous":
            groups = cut_levels(raw, cuts.get(var), cov.unit)
        else:
            groups = derive.as_levels(raw).where(raw.notna(), None)
        groups = pd.Series(groups.to_numpy(), index=at.index)
        n_levels = groups.dropna().nunique()
        name = cov.label if cov is not None else var
        if n_levels > MAX_LEVELS:
            notes.append(f"{name} is left out: {n_levels} levels (at most {MAX_LEVELS} are screened).")
            continue
        if n_levels < 2:
            notes.append(f"{name} is left out: one level in this selection.")
            continue
        levels[name] = groups
    if not levels:
        raise AnalysisError("No covariate with 2 to 8 levels to screen; choose other covariates.")
    treated = (at[S.ARM] == treat).to_numpy()
    defs: list[tuple[str, str, int, np.ndarray]] = []
    for name, groups in levels.items():
        for lev in sorted(groups.dropna().unique(), key=derive.natural_key):
            defs.append((f"{name}: {lev}", name, 1, (groups == lev).to_numpy()))
    if pairs:
        for (n1, g1), (n2, g2) in itertools.combinations(levels.items(), 2):
            for l1 in sorted(g1.dropna().unique(), key=derive.natural_key):
                for l2 in sorted(g2.dropna().unique(), key=derive.natural_key):
                    defs.append(
                        (f"{n1}: {l1} & {n2}: {l2}", f"{n1} × {n2}", 2, ((g1 == l1) & (g2 == l2)).to_numpy())
                    )
    n_all = len(at)
    kept = [
        d
        for d in defs
        if d[3].sum() >= min_size
        and d[3].sum() < n_all
        and (d[3] & treated).sum() >= min_per_arm
        and (d[3] & ~treated).sum() >= min_per_arm
    ]
    if len(kept) < len(defs):
        notes.append(
            f"{len(defs) - len(kept)} subgroups with fewer than {min_size} subjects, or fewer than "
            f"{min_per_arm} in an arm, are not screened."
        )
    if not kept:
        raise AnalysisError(
            f"No subgroup holds at least {min_size} subjects with {min_per_arm} in each arm; "
            "lower the smallest size or widen the selection."
        )
    members = np.vstack([d[3] for d in kept])
    y = at[column].to_numpy(float)
    band = chance_band(y, treated, members, permutations, seed, level)
    q_pw, q_sim = band.q_pointwise, band.q_simultaneous
    z = band.standardised
    n_sub = members.sum(axis=1)
    frame = pd.DataFrame(
        {
            "subgroup": [d[0] for d in kept],
            "variables": [d[1] for d in kept],
            "depth": [d[2] for d in kept],
            "n": n_sub.astype(int),
            f"n {treat}": (members & treated).sum(axis=1).astype(int),
            f"n {reference}": (members & ~treated).sum(axis=1).astype(int),
            "estimate": band.estimate,
            "deviation": band.estimate - band.overall,
            "z": z,
            "pointwise_low": band.overall - q_pw * band.scale,
            "pointwise_high": band.overall + q_pw * band.scale,
            "simultaneous_low": band.overall - q_sim * band.scale,
            "simultaneous_high": band.overall + q_sim * band.scale,
            "outside_pointwise": np.abs(z) > q_pw,
            "outside_simultaneous": np.abs(z) > q_sim,
            "p_adjusted": band.adjusted_p(),
        }
    )
    return Screening(
        frame,
        treat,
        reference,
        "risk_difference" if ep.kind == "binary" else "mean_difference",
        band.overall,
        n_all,
        q_pw,
        q_sim,
        permutations,
        seed,
        level,
        (1 - level) * len(kept),
        label,
        design.visit_label(sel.visit),
        tuple(notes),
    )


def screening_summary(screening: Screening) -> str:
    """One sentence on what the screening found, with counts only (the page formats numbers)."""
    s = screening.subgroups
    out_pw, out_sim = int(s["outside_pointwise"].sum()), int(s["outside_simultaneous"].sum())
    expected = screening.expected_outside
    verdict = (
        "no subgroup stands out beyond what chance alone gives"
        if out_sim == 0
        else f"{out_sim} subgroup{'s' if out_sim > 1 else ''} stand{'s' if out_sim == 1 else ''} out beyond "
        "what chance alone gives"
    )
    return (
        f"{len(s)} subgroups screened: {out_pw} lie outside the pointwise band (chance alone puts about "
        f"{math.floor(expected + 0.5)} there); {verdict} (simultaneous band, {screening.permutations} "
        "re-labellings of the arms)."
    )
