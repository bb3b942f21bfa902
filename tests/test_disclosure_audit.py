"""Disclosure audit of aggregate-only mode: can a hidden count be worked back, or an individual's
value be read from an order statistic?

The attack: parse a displayed table back into its known counts and its hidden ones, write every
sum the table (and the page beside it) publishes as a linear equation (arms add up to Overall or
Total, levels to the arm's N, sites to their country, randomised to received plus not received,
patterns to the completion counts), and with an integer linear program
(``scipy.optimize.linprog``, HiGHS) find the smallest and largest value each hidden count can
take. A hidden count whose interval is a single value has been recomputed.

Two readers: the one of the security review, who takes every hidden cell for an unknown
non-negative integer (asserted on every table: small hand-made trials, the shipped twin, the twin
filtered to small subgroups or cut to one site or country); and a stronger one who also uses what
the markers say (``<k``: 1 to k-1; ``suppressed``: 0 or at least k; ``>m/n``: m+1 to n-1),
asserted where every arm has at least 2k subjects (below that, one ``<5`` and one ``suppressed``
level of an arm of 6 can only be 1 and 5). Negative controls: with primary suppression only, and
with the Missing data tables built apart, the same attack does recompute counts.

References
----------
.. [1] Hundepool A, et al. Statistical Disclosure Control. Wiley 2012, chapter 4 (the attacker's
   interval of a suppressed cell, computed by linear programming; audit of a suppression pattern).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from respine.analyses import flow, missing, published
from respine.analyses.baseline import baseline_table, count_cells
from respine.derive import as_levels
from respine.io import load_trial
from respine.model import design as S
from respine.model.results import AnalysisResult, Contrast
from respine.model.selection import SubgroupFilter
from respine.present import fmt, privacy, tables
from respine.stats import summarise_continuous

K = 5
BIG = 100_000  # an upper bound no count reaches
KNOWN, PRIMARY, COMPLEMENTARY, REST, FREE = "known", "primary", "complementary", "rest", "free"


# --- the attacker --------------------------------------------------------------------------------


@dataclasses.dataclass
class System:
    """What a reader of the page knows: shown counts, hidden ones (with their kind), and the sums."""

    known: dict[Hashable, int] = dataclasses.field(default_factory=dict)
    hidden: dict[Hashable, str] = dataclasses.field(default_factory=dict)
    truth: dict[Hashable, int] = dataclasses.field(default_factory=dict)  # to check the parsing
    bounds: dict[Hashable, tuple[int, int]] = dataclasses.field(default_factory=dict)  # what a marker says
    relations: list[tuple[dict[Hashable, int], int]] = dataclasses.field(default_factory=list)

    def cell(self, key: Hashable, shown: object, true: int) -> None:
        kind, value = parse_count(shown)
        if kind == KNOWN:
            assert value == true, (key, shown, true)
            self.known[key] = value
        else:
            self.hidden[key] = kind
        self.truth[key] = int(true)

    def free(self, key: Hashable, true: int) -> None:
        """An unknown that is not a cell of any table (a total nobody shows)."""
        self.hidden[key] = FREE
        self.truth[key] = int(true)

    def equation(self, terms: dict[Hashable, int], constant: int = 0) -> None:
        """sum(coefficient * cell) == constant."""
        self.relations.append((dict(terms), int(constant)))


def parse_count(text: object) -> tuple[str, int | None]:
    if isinstance(text, int | np.integer):
        return KNOWN, int(text)
    t = str(text).strip()
    if t.startswith(f"<{K}"):
        return PRIMARY, None
    if t.startswith(privacy.SUPPRESSED):
        return COMPLEMENTARY, None
    match = re.match(r"^(\d+)", t)
    assert match, f"not a count: {t!r}"
    return KNOWN, int(match.group(1))


def feasible_intervals(
    system: System, k: int = K, markers: bool = False, full: bool = True
) -> dict[Hashable, tuple[float, float]]:
    """The smallest and largest value of every hidden cell, over all tables of non-negative
    integers that agree with the shown counts and the published sums.

    With ``markers`` the reader also uses what the markers say: a ``<k`` cell holds 1 to k-1, a
    ``suppressed`` one 0 or at least k (a count of 1 to k-1 would read ``<k``), a completion cell
    ``>m/n`` from m+1 to n-1. Without, every hidden cell is just a count (the attack as the
    security review states it). With ``full`` False, a cell that can exceed its true value gets
    (true value, largest) only, which is enough to see it is not pinned."""
    hidden = list(system.hidden)
    if not hidden:
        return {}
    index = {c: i for i, c in enumerate(hidden)}
    complementary = [c for c in hidden if system.hidden[c] == COMPLEMENTARY] if markers else []
    binary = {c: len(hidden) + j for j, c in enumerate(complementary)}  # 1: the count is >= k
    width = len(hidden) + len(binary)
    a_eq, b_eq = [], []
    for terms, constant in system.relations:
        row = np.zeros(width)
        rhs = constant
        for c, coefficient in terms.items():
            if c in index:
                row[index[c]] += coefficient
            else:
                rhs -= coefficient * system.known[c]
        if not row.any():
            assert rhs == 0, f"a published sum does not hold: {terms} = {constant}"
            continue
        a_eq.append(row)
        b_eq.append(rhs)
    a_ub, b_ub = [], []
    for c, j in binary.items():  # complementary: 0, or from k up (x <= BIG*b, x >= k*b)
        row = np.zeros(width)
        row[index[c]], row[j] = 1, -BIG
        a_ub.append(row)
        b_ub.append(0)
        row = np.zeros(width)
        row[index[c]], row[j] = -1, k
        a_ub.append(row)
        b_ub.append(0)

    def bound(c: Hashable) -> tuple[int, int]:
        if not markers:
            return (0, BIG)
        if system.hidden[c] == PRIMARY:
            return (1, k - 1)
        return system.bounds.get(c, (0, BIG))

    bounds = [bound(c) for c in hidden] + [(0, 1)] * len(binary)

    def extreme(c: Hashable, sign: int) -> int:
        objective = np.zeros(width)
        objective[index[c]] = sign
        res = linprog(objective, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                      A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=bounds,
                      integrality=np.ones(width), method="highs")
        assert res.status == 0, (c, res.message)
        return round(sign * res.fun)

    out = {}
    for c in hidden:
        high = extreme(c, -1)
        if not full and high > system.truth[c]:
            out[c] = (system.truth[c], high)  # it can move, so it is not pinned: enough to know
        else:
            out[c] = (extreme(c, 1), high)
    return out


def recomputed(system: System, k: int = K, markers: bool = False) -> dict[Hashable, tuple[float, float]]:
    """Hidden cells the attacker pins down: a single feasible value, and primary cells whose
    interval is a single value inside 1..k-1. Also checks the system: the true table is
    feasible."""
    found = {}
    for c, (lo, hi) in feasible_intervals(system, k, markers, full=False).items():
        assert lo <= system.truth[c] <= hi, (c, lo, hi, system.truth[c])
        if system.hidden[c] == FREE:
            continue
        if hi - lo < 1:
            found[c] = (lo, hi)
        if system.hidden[c] == PRIMARY and 1 <= lo <= hi <= k - 1 and lo == hi:
            found[c] = (lo, hi)
    return found


def primary_only(table: pd.DataFrame, columns: list[str], k: int = K, rows=None) -> pd.DataFrame:
    """The negative control: a table with its small counts as <k and nothing else hidden (in
    ``rows``, by default every row)."""
    out = table.copy().astype(object)
    for i in table.index if rows is None else rows:
        for c in columns:
            if privacy.is_small(parse_count(table.at[i, c])[1], k):
                out.at[i, c] = f"<{k}"
    return out


# --- the tables, as an attacker reads them --------------------------------------------------------


def baseline_system(trial: S.Trial, frame: pd.DataFrame, shown: pd.DataFrame, arms: list[str]) -> System:
    """Cells: each level's count (categorical) and each n (continuous), by arm and Overall.
    Sums: arms add up to Overall; the levels of a variable add up to the group's N; a country
    is the sum of its sites."""
    groups = [*arms, "Overall"]
    system = System()
    levels: dict[str, list[int]] = {}
    for i, r in frame.iterrows():
        for g in groups:
            text = shown.at[i, g]
            if r["kind"] == "continuous":
                text = re.search(r"\[n=([^\]]+)\]", text).group(1)
                system.cell((i, g), text, r[f"{g}|n"])
            else:
                system.cell((i, g), text, r[f"{g}|count"])
        system.equation({**{(i, a): 1 for a in arms}, (i, "Overall"): -1})
        if r["kind"] == "categorical":
            levels.setdefault(r["variable"], []).append(i)
    for rows in levels.values():
        for g in groups:
            system.equation({(i, g): 1 for i in rows}, int(frame.at[rows[0], f"{g}|n"]))
    # geography: every reader knows which country a site is in
    country_of = trial.subjects.drop_duplicates("site").set_index("site")["country"]
    row_of = {(v, lev): i for i, v, lev in zip(frame.index, frame["variable"], frame["level"], strict=True)}
    for country in set(country_of):
        if ("Country", country) not in row_of:
            continue
        sites = [row_of[("Site", s)] for s in country_of.index[country_of == country]
                 if ("Site", s) in row_of]
        for g in groups:
            system.equation({(row_of[("Country", country)], g): 1, **{(i, g): -1 for i in sites}})
    return system


def flow_system(frame: pd.DataFrame, shown: pd.DataFrame, arms: list[str]) -> System:
    """Rows add up to Total; randomised = received + not received; withdrawn = sum of reasons."""
    columns = [*arms, "Total"]
    system = System()
    for i in frame.index:
        for c in columns:
            system.cell((i, c), shown.at[i, c], frame.at[i, c])
        system.equation({**{(i, a): 1 for a in arms}, (i, "Total"): -1})
    at = {d: i for i, d in zip(frame.index, frame["detail"], strict=True)}
    reasons = [i for i in frame.index
               if frame.at[i, "stage"] == "Follow-up" and frame.at[i, "detail"].startswith("  ")]
    for c in columns:
        if "Did not receive it" in at:
            system.equation({(at["Randomised"], c): 1, (at["Received the allocated procedure"], c): -1,
                             (at["Did not receive it"], c): -1})
        if reasons and frame.loc[reasons, c].sum() == frame.at[at["Withdrew (any reason)"], c]:
            system.equation({(at["Withdrew (any reason)"], c): 1, **{(i, c): -1 for i in reasons}})
    return system


def missing_system(patterns: pd.DataFrame, shown_patterns: pd.DataFrame, completion: pd.DataFrame,
                   shown_completion: pd.DataFrame, arms: list[str]) -> System:
    """The two tables of the Missing data page together. Pattern rows add up to Total; each column
    adds up to the arm's N (the completion table's denominator); at each visit the patterns with a
    value add up to the completion table's count, hidden or not."""
    columns = [*arms, "Total"]
    system = System()
    first = patterns.columns[0]
    marks = {i: p.split(" ") for i, p in zip(patterns.index, patterns[first], strict=True)}
    for i in patterns.index:
        for c in columns:
            system.cell((i, c), shown_patterns.at[i, c], patterns.at[i, c])
        system.equation({**{(i, a): 1 for a in arms}, (i, "Total"): -1})
    months = list(dict.fromkeys(completion["visit_month"]))
    n = {}
    for j in completion.index:
        arm, v = completion.at[j, "arm"], months.index(completion.at[j, "visit_month"])
        n[arm] = int(completion.at[j, "expected"])
        text, true = str(shown_completion.at[j, "With a value"]), int(completion.at[j, "observed"])
        rest = re.match(r"^>(\d+)/(\d+)$", text)
        if rest:  # fewer than k without a value: observed from m+1 to n-1
            system.hidden[("obs", v, arm)], system.truth[("obs", v, arm)] = REST, true
            system.bounds[("obs", v, arm)] = (int(rest.group(1)) + 1, int(rest.group(2)) - 1)
        else:
            system.cell(("obs", v, arm), text, true)
    for v in range(len(months)):
        system.free(("obs", v, "Total"), sum(system.truth[("obs", v, a)] for a in arms))
        system.equation({**{("obs", v, a): 1 for a in arms}, ("obs", v, "Total"): -1})
    n["Total"] = sum(n[a] for a in arms)
    for c in columns:
        system.equation({(i, c): 1 for i in patterns.index}, n[c])
        for v in range(len(months)):
            system.equation({**{(i, c): 1 for i in patterns.index if marks[i][v] == "X"}, ("obs", v, c): -1})
    return system


def population_system(frame: pd.DataFrame, shown: pd.DataFrame, arms: list[str]) -> System:
    system = System()
    for i in frame.index:
        for c in [*arms, "Total"]:
            system.cell((i, c), shown.at[i, c], frame.at[i, c])
        system.equation({**{(i, a): 1 for a in arms}, (i, "Total"): -1})
    return system


# --- trials ---------------------------------------------------------------------------------------

STUDY = """[study]
id = "HAND"
title = "Hand-made"
synthetic = true
[arms]
order = ["A", "B"]
reference = "B"
[[visits]]
number = 0
label = "Baseline"
[[visits]]
number = 3
label = "Month 3"
[[visits]]
number = 12
label = "Month 12"
[endpoints]
ids = ["VAS", "ODI", "RESP"]
[[populations]]
id = "ALL"
label = "All"
column = "pop_all"
default = true
[[populations]]
id = "TREATED"
label = "Treated"
column = "pop_treated"
[[populations]]
id = "FEW"
label = "A few"
column = "pop_few"
[[covariates]]
column = "sex"
label = "Sex"
kind = "categorical"
[[covariates]]
column = "smoking"
label = "Smoking"
kind = "categorical"
[[covariates]]
column = "country"
label = "Country"
kind = "categorical"
[[covariates]]
column = "site"
label = "Site"
kind = "categorical"
[[covariates]]
column = "age"
label = "Age"
kind = "continuous"
unit = "years"
"""


def hand_made_trial(folder: Path, arm_sizes: tuple[int, int], seed: int) -> S.Trial:
    """A small trial with counts of 1 to 4 everywhere: rare levels, a site alone in its country,
    one untreated subject, withdrawals with reasons, dropout and an intermittent missed visit."""
    rng = np.random.default_rng(seed)
    n = sum(arm_sizes)
    arms = ["A"] * arm_sizes[0] + ["B"] * arm_sizes[1]
    sites = rng.choice(["FR-01", "FR-02", "DE-01", "IE-01"], n, p=[0.45, 0.3, 0.15, 0.1])
    country = {"FR-01": "France", "FR-02": "France", "DE-01": "Germany", "IE-01": "Ireland"}
    status = rng.choice(["Completed", "Withdrew"], n, p=[0.7, 0.3])
    reasons = rng.choice(["Adverse event", "Lost to follow-up", "Withdrew consent"], n)
    reason = np.where(status == "Withdrew", reasons, "")
    treated = np.array(["Y"] * n)
    treated[rng.integers(n)] = "N"
    subjects = pd.DataFrame({
        "subject_id": [f"S{i:02d}" for i in range(n)], "arm": arms,
        "sex": rng.choice(["F", "M"], n, p=[0.7, 0.3]),
        "smoking": rng.choice(["Current", "Former", "Never"], n, p=[0.15, 0.25, 0.6]),
        "site": sites, "country": [country[s] for s in sites],
        "age": rng.normal(45, 10, n).round(), "treated": treated, "status": status,
        "withdrawal_reason": reason, "pop_all": "Y", "pop_treated": treated,
        "pop_few": rng.choice(["Y", "N"], n, p=[0.3, 0.7]),
    })
    rows = []
    for sid, st in zip(subjects["subject_id"], subjects["status"], strict=True):
        base = float(rng.integers(40, 90))
        for month, label in ((0, "Baseline"), (3, "Month 3"), (12, "Month 12")):
            missed = (month == 12 and st == "Withdrew") or (month == 3 and rng.random() < 0.15)
            if month and missed:
                continue
            value = base - month * float(rng.normal(1.5, 1))
            rows.append((sid, "VAS", label, month, value))
            rows.append((sid, "ODI", label, month, value / 2))
    measurements = pd.DataFrame(rows, columns=["subject_id", "endpoint", "visit", "visit_month", "value"])
    folder.mkdir(parents=True, exist_ok=True)
    subjects.to_csv(folder / "subjects.csv", index=False)
    measurements.to_csv(folder / "measurements.csv", index=False)
    (folder / "study.toml").write_text(STUDY, encoding="utf-8")
    return load_trial(folder)


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand_made")
    return [hand_made_trial(root / f"t{i}", sizes, seed)
            for i, (sizes, seed) in enumerate((((8, 7), 1), ((12, 9), 2), ((6, 6), 3), ((20, 16), 4)))]


@pytest.fixture(scope="module")
def twin():
    from respine import load_trial as load_shipped

    return load_shipped()


def sub_trial(trial: S.Trial, mask: pd.Series) -> S.Trial:
    """The trial restricted to some subjects (a small trial with the twin's structure)."""
    subjects = trial.subjects[mask].reset_index(drop=True)
    ids = set(subjects[S.SUBJECT_ID])
    return dataclasses.replace(
        trial, subjects=subjects,
        measurements=trial.measurements[trial.measurements[S.SUBJECT_ID].isin(ids)].reset_index(drop=True),
        adverse_events=trial.adverse_events[trial.adverse_events[S.SUBJECT_ID].isin(ids)].reset_index(drop=True),
        source=trial.source + f"#sub{len(ids)}",
    )


def twin_selections(trial: S.Trial, most: int = 40) -> list[tuple[SubgroupFilter, ...]]:
    """Small subgroups the app would show (every arm at least k, at most ``most`` subjects): one
    level of a covariate, and sex by country; the page withholds a selection with an arm under k."""
    s = trial.subjects
    singles = [(c, v) for c in ("site", "country", "sex", "smoking", "pfirrmann", "modic", "disc_level")
               for v in sorted(as_levels(s[c]).unique())]
    pairs = [((("sex", a), ("country", b))) for a, b in itertools.product(sorted(s["sex"].unique()),
                                                                          sorted(s["country"].unique()))]
    out = []
    for spec in [((c, v),) for c, v in singles] + pairs:
        keep = np.ones(len(s), bool)
        for c, v in spec:
            keep &= as_levels(s[c]).to_numpy() == v
        column = trial.design.population(trial.design.default_population).column
        sizes = s[keep & s[column].eq("Y").to_numpy()].groupby("arm").size()
        if len(sizes) == 2 and sizes.min() >= K and sizes.sum() <= most:
            out.append(tuple(SubgroupFilter(c, (v,)) for c, v in spec))
    return out


def twin_sub_trials(trial: S.Trial) -> list[S.Trial]:
    """The twin cut to one site or one country whose arms both have at least k subjects."""
    out = []
    s = trial.subjects
    for column in ("site", "country"):
        for level in sorted(s[column].unique()):
            mask = s[column] == level
            if s[mask].groupby("arm").size().reindex(trial.design.arms, fill_value=0).min() >= K:
                out.append(sub_trial(trial, mask))
    return out


def arms_of(trial: S.Trial) -> list[str]:
    return [*trial.design.treatment_arms, trial.design.reference_arm]


# --- the audits -----------------------------------------------------------------------------------


def audit_baseline(trial: S.Trial, filters=(), markers: bool = False) -> dict:
    arms = arms_of(trial)
    frame = baseline_table(trial, None, filters)
    shown = tables.baseline_display(frame, arms, "mean", K)
    return attack(baseline_system(trial, frame, shown, arms), markers)


def attack(system: System, markers: bool = False) -> tuple[dict, int]:
    """The recomputed cells, and how many cells the table hides (so that an audit of a table
    hiding nothing is seen as such)."""
    return recomputed(system, K, markers), sum(kind != FREE for kind in system.hidden.values())


def audit_flow(trial: S.Trial, markers: bool = False) -> dict:
    arms = arms_of(trial)
    frame = flow.participant_flow(trial, "VAS")
    shown = tables.counts_frame_display(frame, [*arms, "Total"], K)
    return attack(flow_system(frame, shown, arms), markers)


def audit_missing(trial: S.Trial, markers: bool = False) -> dict:
    arms = arms_of(trial)
    patterns = missing.missing_patterns(trial, None, "VAS")
    completion = missing.completion(trial, None, "VAS")
    shown_patterns = tables.counts_frame_display(patterns, [*arms, "Total"], K)
    shown_completion = tables.completion_display(completion, K)
    return attack(missing_system(patterns, shown_patterns, completion, shown_completion, arms), markers)


def audit_missing_together(trial: S.Trial, markers: bool = False) -> dict:
    """The Missing data tables built by :func:`tables.missing_display`, suppressed together."""
    arms = arms_of(trial)
    patterns = missing.missing_patterns(trial, None, "VAS")
    completion = missing.completion(trial, None, "VAS")
    shown_completion, shown_patterns = tables.missing_display(completion, patterns, [*arms, "Total"], K)
    return attack(missing_system(patterns, shown_patterns, completion, shown_completion, arms), markers)


def audit_populations(trial: S.Trial, markers: bool = False) -> dict:
    arms = list(trial.design.arms)
    frame = published.population_counts(trial)
    shown = tables.counts_frame_display(frame, [*arms, "Total"], K)
    return attack(population_system(frame, shown, arms), markers)


AUDITS = {"baseline": audit_baseline, "flow": audit_flow, "missing": audit_missing,
          "missing_together": audit_missing_together, "populations": audit_populations}


@pytest.mark.parametrize("table", sorted(AUDITS))
def test_no_hidden_count_of_a_hand_made_trial_can_be_recomputed(hand_made, table):
    hidden = 0
    for trial in hand_made:
        found, n_hidden = AUDITS[table](trial)
        assert found == {}, trial.source
        hidden += n_hidden
    assert hidden  # the tables do hide counts, so the audit is not empty


def test_no_hidden_count_of_the_twin_baseline_can_be_recomputed(twin):
    selections = twin_selections(twin)
    assert len(selections) >= 10
    hidden = 0
    for filters in [(), *selections]:
        found, n_hidden = audit_baseline(twin, filters)
        assert found == {}, [f.describe() for f in filters]
        hidden += n_hidden
    assert hidden


@pytest.mark.parametrize("table", ["flow", "missing", "missing_together", "populations"])
def test_no_hidden_count_of_the_twin_cut_to_a_site_or_country_can_be_recomputed(twin, table):
    trials = [twin, *twin_sub_trials(twin)]
    assert len(trials) >= 6
    hidden = 0
    for trial in trials:
        found, n_hidden = AUDITS[table](trial)
        assert found == {}, trial.source
        hidden += n_hidden
    assert hidden


def large_arms(trial: S.Trial, population: str | None = None, filters=()) -> bool:
    """Every arm has at least 2k subjects: a reader who uses the markers can then be resisted
    (with 6 subjects, one level '<5' and the other 'suppressed' can only be 1 and 5)."""
    from respine.derive import select_subjects

    sizes = select_subjects(trial, population, filters).groupby(S.ARM).size()
    return len(sizes) == len(trial.design.arms) and sizes.min() >= 2 * K


def test_a_reader_who_uses_the_markers_recomputes_nothing_when_arms_have_2k_subjects(twin, hand_made):
    """The stronger attack: '<k' is 1 to k-1, 'suppressed' 0 or at least k, '>m/n' m+1 to n-1.
    On the twin, on the hand-made trial with large arms, and on the twin's selections and cuts
    whose arms have at least 2k subjects; the Missing data tables as missing_display builds them."""
    trials = [t for t in [twin, *hand_made, *twin_sub_trials(twin)] if large_arms(t)]
    assert twin in trials and len(trials) >= 3
    for trial in trials:
        for table in ("baseline", "flow", "missing_together", "populations"):
            assert AUDITS[table](trial, markers=True)[0] == {}, (trial.source, table)
    from respine.derive import select_subjects

    selections = [f for f in twin_selections(twin, most=80) if large_arms(twin, None, f)]
    selections = sorted(selections, key=lambda f: len(select_subjects(twin, None, f)))[:6]  # the smallest
    assert len(selections) == 6
    for filters in selections:
        assert audit_baseline(twin, filters, markers=True)[0] == {}, [f.describe() for f in filters]


def test_the_missing_tables_built_apart_give_a_pattern_away_to_that_reader(twin):
    """Why the Missing data page should build its two tables with missing_display: built apart,
    the completion counts at months 12 and 24 (50/56, 47/56) and '<5' on the dropout patterns
    pin the complete pattern (46) and with it the 4 and the 1."""
    found, _ = audit_missing(twin, markers=True)
    assert (0, "BM-MSC") in found and found[(0, "BM-MSC")] == (46, 46)
    assert audit_missing(twin)[0] == {}  # a reader who takes hidden cells for any count cannot
    assert audit_missing_together(twin, markers=True)[0] == {}


def test_the_audit_finds_what_primary_suppression_alone_leaves(twin, hand_made):
    """Negative control: with the small counts hidden and nothing else, the same attack recomputes
    some of them (so the tests above can fail)."""
    arms = arms_of(twin)
    frame = flow.participant_flow(twin, "VAS")
    naive = primary_only(frame, [*arms, "Total"])
    found = recomputed(flow_system(frame, naive, arms))
    did_not = frame.index[frame["detail"] == "Did not receive it"][0]
    assert (did_not, "BM-MSC") in found and found[(did_not, "BM-MSC")] == (1, 1)  # 58 - 57

    base = baseline_table(twin)
    levels = base.index[base["kind"] == "categorical"]
    naive = primary_only(tables.baseline_display(base, arms, "mean", 0), [*arms, "Overall"], rows=levels)
    assert recomputed(baseline_system(twin, base, naive, arms))

    trial = hand_made[0]
    patterns = missing.missing_patterns(trial, None, "VAS")
    completion = missing.completion(trial, None, "VAS")
    columns = [*arms_of(trial), "Total"]
    naive = primary_only(patterns, columns)
    assert recomputed(missing_system(patterns, naive, completion, tables.completion_display(completion, K),
                                     arms_of(trial)))


def test_the_audit_respects_what_the_markers_say():
    """A line 1 + 5 = 6 with the 5 hidden as 'suppressed' gives the 1 away: a complementary cell is
    0 or at least k. Hidden as two cells that can trade values, it does not."""
    system = System()
    system.cell("a", "<5", 1)
    system.cell("b", privacy.SUPPRESSED, 5)
    system.cell("t", 6, 6)
    system.equation({"a": 1, "b": 1, "t": -1})
    assert recomputed(system) == {}  # read as any count, the 'suppressed' one leaves room
    assert recomputed(system, markers=True) == {"a": (1, 1), "b": (5, 5)}
    system.known.pop("t")
    system.hidden["t"] = COMPLEMENTARY
    assert recomputed(system, markers=True) == {}


# --- the suppression rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "n", "k", "allowed"), [
    (0.5, 10, 5, True), (0.5, 9, 5, False), (0.25, 20, 5, True), (0.25, 19, 5, False),
    (0.75, 20, 5, True), (0.75, 19, 5, False), (0.0, 1000, 5, False), (1.0, 1000, 5, False),
    (0.1, 50, 5, True), (0.9, 50, 5, True), (0.9, 49, 5, False), (0.5, 3, 0, True), (0.0, 3, 0, True),
    (0.5, float("nan"), 5, False), (0.5, None, 5, False),
])
def test_quantile_allowed(p, n, k, allowed):
    assert privacy.quantile_allowed(p, n, k) is allowed


def test_secondary_suppression_hides_the_smallest_non_zero_cell_of_a_line_first():
    counts = {"a": 3, "b": 6, "c": 0, "t": 9}
    line = [(["a", "b", "c"], "t")]
    primary, complementary = privacy.PRIMARY, privacy.COMPLEMENTARY
    assert privacy.secondary_suppression(counts, line, 5) == {"a": primary, "b": complementary}
    assert privacy.secondary_suppression(counts, line, 5, prefer={"t"}) == {"a": primary, "t": complementary}
    assert privacy.secondary_suppression(counts, line, 0) == {}
    assert privacy.secondary_suppression({"a": 7, "t": 7}, [(["a"], "t")], 5) == {}
    # a zero only when no other cell is left, and lines are revisited until nothing changes
    counts = {"a": 2, "z": 0, "x": 7, "y": 8}
    lines = [(["a", "z"], None), (["z", "x", "y"], None)]
    status = privacy.secondary_suppression(counts, lines, 5, audit=False)
    assert status == {"a": primary, "z": complementary, "x": complementary}
    # a cell of exactly k gives no room below it: one above k is taken first
    assert privacy.secondary_suppression({"a": 1, "b": 5, "c": 9}, [(["a", "b", "c"], None)], 5) == {
        "a": primary, "c": complementary}


def test_the_exact_check_adds_what_the_line_rule_misses():
    """1 + 1 + 9 = 11: the two hidden ones add up to 2, so both are 1 although the line has two
    hidden cells; the check hides the 9 as well."""
    counts, lines = {"a": 1, "b": 1, "c": 9, "t": 11}, [(["a", "b", "c"], "t")]
    primary = {"a": privacy.PRIMARY, "b": privacy.PRIMARY}
    assert privacy.secondary_suppression(counts, lines, 5, audit=False) == primary
    assert privacy.recomputable(counts, lines, primary, 5) == ["a", "b"]
    status = privacy.secondary_suppression(counts, lines, 5)
    assert status == {**primary, "c": privacy.COMPLEMENTARY}
    assert privacy.recomputable(counts, lines, status, 5) == []


def test_every_line_keeps_zero_or_two_hidden_cells(twin):
    base = baseline_table(twin)
    counts, lines, prefer = count_cells(base, arms_of(twin))
    status = privacy.secondary_suppression(counts, lines, K, prefer)
    assert any(v == privacy.COMPLEMENTARY for v in status.values())
    for cells, total in lines:
        assert sum(c in status for c in [*cells, total]) != 1, (cells, total)


VALUES = [11.3, 27.9, 35.2, 48.6, 63.1]  # five subjects per arm: min, Q1, median, Q3, max


def _shows(text: str, value: float) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(fmt.num(value))}(?!\d)", text) is not None


def _continuous_result(values_by_arm: dict[str, list[float]]) -> AnalysisResult:
    arms = tuple(summarise_continuous(v, a) for a, v in values_by_arm.items())
    contrast = Contrast(arm="A", reference="B", measure="mean_difference", estimate=1.0, se=1.0,
                        ci_low=-1.0, ci_high=3.0, p_value=0.5, test="Welch t-test")
    return AnalysisResult(endpoint="VAS", endpoint_label="VAS", kind="continuous", visit=12.0,
                          visit_label="Month 12", measure="aval", method="welch", method_label="Welch",
                          population="ALL", arms=arms, contrasts=(contrast,), n_total=10)


def test_no_order_statistic_of_five_subjects_appears_in_the_arm_table():
    other = [v + 100 for v in VALUES]
    result = _continuous_result({"A": VALUES, "B": other})
    full = " ".join(tables.arm_table(result).astype(str).to_numpy().ravel())
    assert all(_shows(full, v) for v in VALUES)  # the values are there without suppression
    text = " ".join(tables.arm_table(result, K).astype(str).to_numpy().ravel())
    for v in [*VALUES, *other]:
        assert not _shows(text, v), v
    assert set(tables.arm_table(result, K)["Range"]) == {privacy.SUPPRESSED}


def test_quartiles_need_4k_subjects_and_the_median_2k():
    ten = [1.5 * i + 0.25 for i in range(10)]
    twenty = [1.5 * i + 0.35 for i in range(20)]
    table = tables.arm_table(_continuous_result({"A": ten, "B": twenty}), K)
    a, b = table.iloc[0]["Median (IQR)"], table.iloc[1]["Median (IQR)"]
    s10, s20 = summarise_continuous(ten), summarise_continuous(twenty)
    assert a == f"{fmt.num(s10.median)} (IQR {privacy.SUPPRESSED})"
    assert b == fmt.median_iqr(s20.median, s20.q1, s20.q3)


def test_no_order_statistic_of_five_subjects_appears_in_the_baseline_or_over_time_tables():
    other = [v + 100 for v in VALUES]
    s, overall = summarise_continuous(VALUES), summarise_continuous(VALUES + other)
    row = {"variable": "Age, years", "level": "", "kind": "continuous", "smd|A": 0.1, "within": "",
           "within_level": ""}
    for g, t in (("A", s), ("B", summarise_continuous(other)), ("Overall", overall)):
        row.update({f"{g}|n": t.n, f"{g}|mean": t.mean, f"{g}|sd": t.sd, f"{g}|median": t.median,
                    f"{g}|q1": t.q1, f"{g}|q3": t.q3})
    frame = pd.DataFrame([row])
    full = " ".join(tables.baseline_display(frame, ["A", "B"], "median").astype(str).to_numpy().ravel())
    assert _shows(full, s.median) and _shows(full, s.q1)
    shown = tables.baseline_display(frame, ["A", "B"], "median", K)
    text = " ".join(shown.astype(str).to_numpy().ravel())
    for v in [*VALUES, *other]:
        assert not _shows(text, v), v
    assert shown.iloc[0]["A"] == f"{privacy.SUPPRESSED} [n=5]"
    assert shown.iloc[0]["Overall"] == f"{fmt.num(overall.median)} (IQR {privacy.SUPPRESSED}) [n=10]"

    trend = pd.DataFrame({"visit": ["Month 12"] * 2, "arm": ["A", "B"], "n": [5, 10],
                          "estimate": [s.mean] * 2, "ci_low": [0.0] * 2, "ci_high": [99.0] * 2,
                          "sd": [s.sd] * 2, "median": [s.median] * 2})
    shown = tables.over_time_table(trend, "continuous", K)
    assert shown["Median"].tolist() == [privacy.SUPPRESSED, fmt.num(s.median)]
    assert not _shows(" ".join(shown.iloc[0].astype(str)), s.median)
