"""Safety: adverse-event overview, events by system organ class and preferred term, immune response.

Counts are of subjects (a subject with two events of a term counts once), over a population of
the subject table, beside the number of events, as ICH E3 section 12.2 and the FDA standard
safety tables tabulate them. Every arm is a column; each treatment arm is compared with the
reference arm (risk difference with Newcombe's CI, Fisher's exact p).

A row is shown only when the data can support it: the adverse-event table
(:data:`respine.model.design.AE_COLUMNS`) holds a column only when the study records it, so a
study without seriousness, relation or severity gets no such row (rather than a row of zeros),
and a study with no adverse-event data at all gets an empty table and says so
(:func:`has_data`). Where the events carry the treatment-emergent flag, only treatment-emergent
events are counted.

References
----------
.. [1] ICH E3. Structure and content of clinical study reports, section 12.2 (1995).
.. [2] FDA. Standard Safety Tables and Figures: Integrated Guide (2022), tables of adverse events
   by system organ class and preferred term.
.. [3] Newcombe RG. Interval estimation for the difference between independent proportions.
   Stat Med 1998;17:873-890 (method 10).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from respine import derive, stats
from respine.errors import SelectionError
from respine.model import design as S
from respine.model.selection import Filters

YES = "Y"


@dataclass(frozen=True)
class EventRow:
    """One overview row counted from events: its key, its label, the event columns it needs, and
    which events it counts."""

    key: str
    label: str
    needs: tuple[str, ...]
    counts: Callable[[pd.DataFrame], pd.Series]


def _flag(*columns: str) -> Callable[[pd.DataFrame], pd.Series]:
    def counts(events: pd.DataFrame) -> pd.Series:
        mask = pd.Series(True, index=events.index)
        for c in columns:
            mask &= events[c].astype(object).eq(YES)
        return mask

    return counts


#: The overview's rows counted from events, in display order (the withdrawal and severity rows
#: follow; see :func:`ae_overview`).
EVENT_ROWS = (
    EventRow("any", "Any adverse event", (), lambda e: pd.Series(True, index=e.index)),
    EventRow("serious", "Serious adverse event", ("serious",), _flag("serious")),
    EventRow("related_product", "Related to the product", ("related_product",), _flag("related_product")),
    EventRow("related_procedure", "Related to the procedure", ("related_procedure",),
             _flag("related_procedure")),
    EventRow("serious_related", "Serious and related to the product", ("serious", "related_product"),
             _flag("serious", "related_product")),
    EventRow("fatal", "Adverse event with fatal outcome", ("fatal",), _flag("fatal")),
)


def has_data(trial: S.Trial) -> bool:
    """Whether the study has adverse-event data at all (an empty table of a study that has it
    means that no subject had an event)."""
    return trial.adverse_events_recorded


def arms_and_reference(trial: S.Trial, reference: str | None = None) -> tuple[list[str], str]:
    """The arms in display order (every treatment arm, then the reference) and the reference:
    ``reference`` when given, else the study's."""
    d = trial.design
    ref = reference or d.reference_arm
    if ref not in d.arms:
        raise SelectionError(f"Unknown reference arm '{ref}'. Choose one of: {', '.join(d.arms)}.")
    return [*(a for a in d.arms if a != ref), ref], ref


def events_counted(trial: S.Trial) -> pd.DataFrame:
    """The events the safety tables count: the treatment-emergent ones where the data say which
    are (column ``treatment_emergent``), else every event."""
    ae = trial.adverse_events
    if S.ae_recorded(ae, "treatment_emergent"):
        ae = ae[ae["treatment_emergent"].astype(object).eq(YES)]
    return ae


def _population(trial: S.Trial, population: str | None) -> str:
    if population:
        return population
    ids = [p.id for p in trial.design.populations]
    return next((p for p in ("SAFETY", "SAF") if p in ids), trial.design.default_population)


@dataclass(frozen=True)
class _Groups:
    """The arms of a table and who is in each: the subjects of the population by arm."""

    arms: list[str]
    reference: str
    n: dict[str, int]
    arm_of: dict[str, str]  # subject id -> arm

    def ids(self) -> set[str]:
        return set(self.arm_of)


def _groups(trial: S.Trial, population: str | None, filters: Filters, arms: list[str],
            reference: str) -> _Groups:
    subjects = derive.select_subjects(trial, _population(trial, population), filters)
    subjects = subjects[subjects[S.ARM].isin(arms)]
    arm_of = dict(zip(subjects[S.SUBJECT_ID].astype(str), subjects[S.ARM].astype(str), strict=True))
    n = subjects[S.ARM].value_counts()
    return _Groups(arms, reference, {a: int(n.get(a, 0)) for a in arms}, arm_of)


@lru_cache(maxsize=4096)  # tables repeat the same few small counts; the key is six scalars
def _risk_difference(x1: int, n1: int, x2: int, n2: int, arm: str, reference: str
                     ) -> tuple[float, float, float, float]:
    """Risk difference, its Newcombe 95% CI and Fisher's exact p (NaN when an arm is empty)."""
    if not n1 or not n2:
        return (math.nan,) * 4
    rd = stats.compare_binary(x1, n1, x2, n2, arm, reference, "fisher")[0]
    return rd.estimate, rd.ci_low, rd.ci_high, rd.p_value


def _row(key: str, label: str, ids: Iterable[str], events: pd.DataFrame | None,
         g: _Groups) -> dict[str, object]:
    """Subjects (and events, unless ``events`` is None) per arm, and each treatment arm vs the
    reference."""
    row: dict[str, object] = {"key": key, "category": label}
    counts = Counter(g.arm_of[s] for s in set(ids) if s in g.arm_of)
    per_arm = None if events is None else Counter(g.arm_of.get(s) for s in events[S.SUBJECT_ID])
    for a in g.arms:
        n = g.n[a]
        row[f"{a}|count"], row[f"{a}|n"] = counts[a], n
        row[f"{a}|pct"] = 100 * counts[a] / n if n else math.nan
        row[f"{a}|events"] = math.nan if per_arm is None else per_arm[a]
    ref = g.reference
    for a in g.arms:
        if a != ref:
            rd = _risk_difference(counts[a], g.n[a], counts[ref], g.n[ref], a, ref)
            row[f"{a}|rd"], row[f"{a}|rd_low"], row[f"{a}|rd_high"], row[f"{a}|p_value"] = rd
    return row


def _events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event (a record repeated under the same subject and event id counts once;
    event ids need be unique only within a subject)."""
    if S.AE_EVENT_ID not in events.columns:
        return events
    return events.drop_duplicates([S.SUBJECT_ID, S.AE_EVENT_ID])


def _withdrawal_reasons(trial: S.Trial) -> pd.Series | None:
    """Each subject's reason for leaving the study (lower case, "" for none), or None when the
    subject table records no reason."""
    s = trial.subjects
    if "withdrawal_reason" not in s.columns:
        return None
    reason = s["withdrawal_reason"].fillna("").astype(str).str.strip().str.lower()
    return reason if reason.ne("").any() else None


def _withdrawal_row(trial: S.Trial, events: pd.DataFrame, g: _Groups) -> dict[str, object] | None:
    """Subjects who left for an adverse event: by the study's disposition (the subject table's
    withdrawal reason, which the participant flow shows) when it records reasons, else by the
    events' action taken (study product withdrawn); None when the data say neither."""
    reason = _withdrawal_reasons(trial)
    if reason is not None:
        ids = trial.subjects.loc[reason == S.AE_WITHDRAWAL_REASON, S.SUBJECT_ID]
        return _row("withdrawal", "Withdrew from the study because of an adverse event (disposition)", ids,
                    None, g)
    if S.ae_recorded(events, "led_to_withdrawal"):
        hit = events[events["led_to_withdrawal"].astype(object).eq(YES)]
        return _row("withdrawal", "Leading to withdrawal of the product (action taken)", hit[S.SUBJECT_ID],
                    hit, g)
    return None


def _death_row(trial: S.Trial, g: _Groups) -> dict[str, object] | None:
    """Subjects who died during the study, of any cause (the subject table's death flag, ADSL
    DTHFL), or None when the subject table records no deaths flag."""
    s = trial.subjects
    if S.DIED not in s.columns:
        return None
    died = s[S.DIED].astype(object).eq(YES)  # Y/N, as the loaders write it
    return _row("died", "Died during the study, any cause (subject table)", s.loc[died, S.SUBJECT_ID],
                None, g)


def _worst(events: pd.DataFrame, column: str, levels: list[object], label: str, key: str,
           g: _Groups) -> list[dict[str, object]]:
    """Each subject once at the worst level of ``column`` among their events (levels from least to
    most severe); the events column counts the events of each level."""
    known = events[events[column].notna()]
    rank = {v: i for i, v in enumerate(levels)}
    worst = known.assign(_rank=known[column].map(rank)).groupby(S.SUBJECT_ID)["_rank"].max()
    rows = [_row(f"{key}:{v}", f"{label}: {v}", worst.index[worst == rank[v]], known[known[column] == v], g)
            for v in levels]
    unknown = set(events[S.SUBJECT_ID]) - set(worst.index)
    if unknown:
        rows.append(_row(f"{key}:not recorded", f"{label}: not recorded", unknown,
                         events[events[S.SUBJECT_ID].isin(unknown)], g))
    return rows


def _severity_levels(events: pd.DataFrame) -> list[object]:
    """The standard severities (Mild, Moderate, Severe), then any other category the data have
    (ranked above Severe, in alphabetical order; :func:`ae_notes` names them)."""
    standard = [v.capitalize() for v in S.SEVERITY_ORDER]
    other = sorted(set(events["severity"].dropna().astype(str)) - set(standard))
    return [*standard, *other]


def ae_overview(trial: S.Trial, population: str | None = None, filters: Filters = (),
                reference: str | None = None) -> pd.DataFrame:
    """Subjects with at least one event of each kind, and the events, per arm, with each treatment
    arm compared with the reference.

    Rows, each only when the data record what it needs: any adverse event; serious; related to
    the product; related to the procedure; serious and related; fatal outcome; withdrawal because
    of an adverse event (from the disposition, else from the action taken); deaths of any cause
    (from the subject table's death flag, ADSL DTHFL); the worst severity
    and the worst toxicity grade of each subject's events.

    Parameters
    ----------
    trial : Trial
    population : str, optional
        Population id; default SAFETY (or SAF, an ADaM study's SAFFL), else the study's default.
    filters : tuple of SubgroupFilter
    reference : str, optional
        The arm every other arm is compared with; default the study's reference arm.

    Returns
    -------
    DataFrame
        Columns: key, category, then per arm ``<arm>|count`` (subjects), ``<arm>|n``,
        ``<arm>|pct``, ``<arm>|events`` (NaN on the disposition row, which counts subjects), and
        per treatment arm ``<arm>|rd``, ``<arm>|rd_low``, ``<arm>|rd_high`` (risk difference and
        Newcombe 95% CI, as proportions) and ``<arm>|p_value`` (Fisher's exact test). Empty when
        the study has no adverse-event data (:func:`has_data`).

    References
    ----------
    .. [1] Newcombe RG. Stat Med 1998;17:873-890 (risk difference, method 10).
    .. [2] Fisher RA. Statistical Methods for Research Workers, 1925 (exact test of a 2x2 table).
    """
    arms, ref = arms_and_reference(trial, reference)
    if not has_data(trial):
        return pd.DataFrame()
    g = _groups(trial, population, filters, arms, ref)
    events = _events(events_counted(trial))
    rows = []
    for spec in EVENT_ROWS:
        if all(S.ae_recorded(events, c) for c in spec.needs):
            hit = events[spec.counts(events)]
            rows.append(_row(spec.key, spec.label, hit[S.SUBJECT_ID], hit, g))
    withdrawal = _withdrawal_row(trial, events, g)
    if withdrawal is not None:
        rows.append(withdrawal)
    death = _death_row(trial, g)
    if death is not None:
        rows.append(death)
    if S.ae_recorded(events, "severity"):
        levels = _severity_levels(events)
        rows += _worst(events, "severity", levels, "Worst severity", "severity", g)
    if S.ae_recorded(events, "grade"):
        grades = sorted({1, 2, 3, 4, 5} | {int(g) for g in events["grade"].dropna()})
        graded = events.assign(grade=events["grade"].map(lambda g: None if pd.isna(g) else int(g)))
        rows += _worst(graded, "grade", list(grades), "Worst grade", "grade", g)
    return pd.DataFrame(rows)


def ae_by_term(trial: S.Trial, population: str | None = None, filters: Filters = (),
               serious_only: bool = False, reference: str | None = None) -> pd.DataFrame:
    """Subjects and events by system organ class and, beneath each, preferred term.

    The first row counts subjects with any event; then each organ class (most subjects first,
    then by name) with the subjects who had any event of it, followed by its preferred terms
    (most subjects first, then by name), as ICH E3 and the FDA standard safety tables order
    them. A subject counts once per row however many events they had.

    Parameters
    ----------
    serious_only : bool
        Serious events only (an error when the data do not record seriousness).
    Others as :func:`ae_overview`.

    Returns
    -------
    DataFrame
        Columns: key, level (0 for the total and organ-class rows, 1 for a term), soc, term ("" on
        the total and organ-class rows), label, then the counts and comparisons of
        :func:`ae_overview`. Empty when no event is counted or the study has no adverse-event data.
    """
    arms, ref = arms_and_reference(trial, reference)
    if not has_data(trial):
        return pd.DataFrame()
    g = _groups(trial, population, filters, arms, ref)
    events = _events(events_counted(trial))
    if serious_only:
        if not S.ae_recorded(events, "serious"):
            raise SelectionError("The adverse-event data do not record seriousness; show every event "
                                 "instead.")
        events = events[events["serious"].astype(object).eq(YES)]
    in_population = events[events[S.SUBJECT_ID].isin(g.ids())]
    if in_population.empty:
        return pd.DataFrame()

    def ordered(frame: pd.DataFrame, column: str) -> list[str]:
        n = frame.groupby(column)[S.SUBJECT_ID].nunique()
        return sorted(n.index, key=lambda v: (-n[v], str(v)))

    def row(level: int, soc: str, term: str, label: str, part: pd.DataFrame) -> dict[str, object]:
        key = f"{soc}|{term}" if soc else "any"
        out = _row(key, label, part[S.SUBJECT_ID], part, g)
        del out["category"]
        return {"key": key, "level": level, "soc": soc, "term": term, "label": label, **out}

    label = "Any serious adverse event" if serious_only else "Any adverse event"
    rows = [row(0, "", "", label, in_population)]
    for soc in ordered(in_population, S.AE_SOC):
        part = in_population[in_population[S.AE_SOC] == soc]
        rows.append(row(0, soc, "", soc, part))
        for term in ordered(part, S.AE_TERM):
            rows.append(row(1, soc, term, term, part[part[S.AE_TERM] == term]))
    return pd.DataFrame(rows)


def ae_notes(trial: S.Trial) -> tuple[str, ...]:
    """What the safety tables count and where each row comes from, in sentences for the page."""
    if not has_data(trial):
        return ()
    ae = trial.adverse_events
    notes = []
    events = _events(events_counted(trial))
    if S.ae_recorded(ae, "treatment_emergent"):
        left = len(_events(ae)) - len(events)
        notes.append(f"Treatment-emergent events only: {left} of {len(_events(ae))} events are not "
                     "treatment-emergent and are not counted.")
    if S.ae_recorded(ae, "relation"):
        categories = sorted(set(ae["relation"].dropna().astype(str)))
        related = [c for c in categories if c in S.RELATED_VALUES]
        notes.append(f"Related to the product: relation {' or '.join(related) or '(none of the categories)'} "
                     f"(the data's categories: {', '.join(categories)}).")
    for column, what in (("related_product", "relation to the product"), ("serious", "seriousness"),
                         ("severity", "severity")):
        if S.ae_recorded(events, column) and events[column].isna().any():
            notes.append(f"{int(events[column].isna().sum())} counted events have no recorded {what}; "
                         "they are in no row that needs it.")
    s = trial.subjects
    if _withdrawal_reasons(trial) is not None:
        notes.append("Withdrawal: subjects whose reason for leaving the study is an adverse event, as on the "
                     "participant flow page.")
    elif S.ae_recorded(ae, "led_to_withdrawal"):
        notes.append("Withdrawal: subjects with an event after which the study product was withdrawn.")
    if S.DIED in s.columns:
        notes.append("Died: subjects the subject table flags as having died during the study (ADSL DTHFL), "
                     "whatever the cause; the fatal-outcome row counts events.")
    if S.ae_recorded(events, "severity"):
        other = _severity_levels(events)[len(S.SEVERITY_ORDER):]
        notes.append("Worst severity: each subject once, at the most severe of their events"
                     + (f"; {', '.join(map(str, other))} ranked above Severe." if other else "."))
    unknown = set(ae[S.SUBJECT_ID]) - set(s[S.SUBJECT_ID])
    if unknown:
        notes.append(f"{len(unknown)} subjects with events are not in the subject table and are not counted.")
    notes.append("Cells: subjects n/N (%) [events].")
    return tuple(notes)


def immune_response(trial: S.Trial, population: str | None = None,
                    filters: Filters = ()) -> pd.DataFrame:
    """Antibody status at each visit and new positives (negative at baseline, positive later),
    for the endpoints of the study's declared ``immune_response`` group (empty if undeclared).

    Columns: endpoint, visit, label (for display), then ``<arm>|count``, ``<arm>|n``,
    ``<arm>|pct`` for every arm (treatment arms, then the reference).
    """
    d = trial.design
    arms, _ = arms_and_reference(trial)
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
