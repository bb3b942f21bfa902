"""The arms a reader compares: the reference, the arms shown and arms pooled into one.

:func:`arm_view` turns a trial and the reader's choice of arms into the trial every analysis then
reads: subjects of the arms not shown are left out, the subjects of pooled arms carry the pooled
arm's name, and the design's arms and reference say so. Analyses need no code of their own for
this: they compare every treatment arm of the trial they are given with its reference.

The view is memoised per trial (:func:`respine.memo.per_trial`), so one choice gives one trial
object and every cache keyed on the trial (the per-trial memos, the app's caches keyed by the
trial's source) keeps working; the default choice is the trial itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import replace

from respine.errors import SelectionError
from respine.memo import per_trial
from respine.model import design as S

POOL_SEPARATOR = "+"
"""How the pooled arms are joined in a link and on the command line (``A+B``)."""

# Each view made by arm_view -> (the study's design, the choice it shows): applying the same
# choice to the view again gives the view (the app and a script may both apply it), and an
# analysis can tell whether the trial it got shows the arms its selection names.
Key = tuple[str, tuple[str, ...], tuple[str, ...]]  # (reference, arms shown, arms pooled)
_MADE: weakref.WeakKeyDictionary[S.Trial, tuple[S.StudyDesign, Key]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def pooled_label(arms: Sequence[str]) -> str:
    """A readable name of pooled arms: the words the arms start with are written once
    ("Xanomeline Low Dose + High Dose"), else "Pooled: A + B"."""
    words = [a.split() for a in arms]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
        common += 1
    if common:
        rest = [" ".join(w[common:]) for w in words[1:]]
        return " + ".join([arms[0], *rest])
    return "Pooled: " + " + ".join(arms)


def _known(design: S.StudyDesign, names: Sequence[str], what: str) -> None:
    bad = [a for a in names if a not in design.arms]
    if bad:
        raise SelectionError(
            f"{what} {', '.join(repr(a) for a in bad)} {'is' if len(bad) == 1 else 'are'} not an arm of "
            f"this study. Arms: {', '.join(design.arms)}."
        )


def view_design(design: S.StudyDesign, reference: str | None = None, arms: Sequence[str] = (),
                pool: Sequence[str] = ()) -> tuple[dict[str, str], S.StudyDesign]:
    """Check a choice of arms and give the design it makes.

    Parameters
    ----------
    design : StudyDesign
        The study's design (its arms and reference).
    reference : str or None
        The reference arm (None or "": the study's).
    arms : sequence of str
        The arms shown, by the study's names (empty: every arm).
    pool : sequence of str
        Arms pooled into one arm (empty: none); at least two, all shown, the reference not among
        them.

    Returns
    -------
    (dict, StudyDesign)
        Each shown study arm -> its arm in the view (a pooled arm's name for the pooled ones), and
        the design with the view's arms (study order, the pooled arm where its first arm was) and
        reference.

    Raises
    ------
    SelectionError
        An unknown arm, a pool of fewer than two arms or holding the reference, a reference not
        shown, or no treatment arm left to compare.
    """
    ref = reference or design.reference_arm
    _known(design, [ref], "Reference arm")
    _known(design, arms, "Arm")
    _known(design, pool, "Pooled arm")
    shown = [a for a in design.arms if not arms or a in arms]
    pooled = [a for a in design.arms if a in pool]
    if pool and len(pooled) < 2:
        raise SelectionError(f"Pool at least two arms, joined by '{POOL_SEPARATOR}' "
                             f"(e.g. {POOL_SEPARATOR.join(design.treatment_arms[:2]) or 'A+B'}); "
                             f"got {', '.join(pool)}.")
    if ref in pooled:
        raise SelectionError(
            f"The pool {' + '.join(pooled)} holds the reference arm {ref}: the treatment arms would be "
            f"compared with a mix of themselves and the reference. Leave {ref} out of the pool, or "
            "choose another reference arm (ref= in a link, --reference on the command line)."
        )
    if ref not in shown:
        raise SelectionError(f"The reference arm {ref} is not among the arms shown ({', '.join(shown)}); "
                             "show it or choose another reference.")
    hidden = [a for a in pooled if a not in shown]
    if hidden:
        raise SelectionError(f"Pooled arm(s) {', '.join(hidden)} are not among the arms shown "
                             f"({', '.join(shown)}); show them or leave them out of the pool.")
    label = pooled_label(pooled) if pooled else ""
    if label in design.arms:
        raise SelectionError(f"The pooled arm's name '{label}' is the name of an arm of the study.")
    relabel = {a: (label if a in pooled else a) for a in shown}
    view_arms = tuple(dict.fromkeys(relabel[a] for a in shown))
    if len(view_arms) < 2:
        raise SelectionError(f"Show at least one arm beside the reference {ref}. "
                             f"Arms: {', '.join(design.arms)}.")
    return relabel, replace(design, arms=view_arms, reference_arm=ref)


def is_default(design: S.StudyDesign, reference: str | None = None, arms: Sequence[str] = (),
               pool: Sequence[str] = ()) -> bool:
    """Whether a choice of arms is the study's own (every arm, its reference, nothing pooled)."""
    return (not pool and (reference or design.reference_arm) == design.reference_arm
            and set(arms or design.arms) == set(design.arms))


def describe(design: S.StudyDesign) -> str:
    """One phrase on the arms of a view: "Xanomeline High Dose, Placebo; reference Placebo"."""
    return f"arms {', '.join(design.arms)}; reference {design.reference_arm}"


@per_trial(maxsize=16)
def _view(trial: S.Trial, reference: str, arms: tuple[str, ...], pool: tuple[str, ...]) -> S.Trial:
    relabel, design = view_design(trial.design, reference, arms, pool)
    subjects = trial.subjects[trial.subjects[S.ARM].isin(list(relabel))].copy()
    subjects[S.ARM] = subjects[S.ARM].map(relabel)
    kept = set(subjects[S.SUBJECT_ID])
    measurements = trial.measurements[trial.measurements[S.SUBJECT_ID].isin(kept)].reset_index(drop=True)
    events = trial.adverse_events
    if S.SUBJECT_ID in events.columns:
        events = events[events[S.SUBJECT_ID].isin(kept)].reset_index(drop=True)
    # Its own source: the app's caches key results by source, and a view's results are not the
    # study's (they stay in the session, as the study's own caches share only the study's).
    return S.Trial(design=design, subjects=subjects.reset_index(drop=True), measurements=measurements,
                   adverse_events=events, source=f"{trial.source} ({describe(design)})")


def arm_view(trial: S.Trial, reference: str | None = None, arms: Sequence[str] = (),
             pool: Sequence[str] = ()) -> S.Trial:
    """The trial as a reader's choice of arms shows it.

    Subjects of arms not shown are left out (with their measurements and adverse events),
    subjects of pooled arms belong to the pooled arm (named by :func:`pooled_label`), and the
    design's arms and reference are the view's. The study's own choice gives ``trial`` itself;
    any other gives one trial object per choice (memoised per trial), whose source names the
    view.

    Parameters
    ----------
    trial : Trial
        The loaded study.
    reference, arms, pool
        As for :func:`view_design`.

    Returns
    -------
    Trial

    Raises
    ------
    SelectionError
        A choice :func:`view_design` refuses, with what to change.
    """
    with _LOCK:
        made = _MADE.get(trial)
    if made is not None and _key(made[0], reference, arms, pool) == made[1]:
        return trial  # the view of this very choice
    if is_default(trial.design, reference, arms, pool):  # (an unknown name is never the default)
        return trial
    view_design(trial.design, reference, arms, pool)  # the choice as given, unknown names too
    key = _key(trial.design, reference, arms, pool)
    view = _view(trial, *key)
    with _LOCK:
        _MADE[view] = (trial.design, key)
    return view


def _key(design: S.StudyDesign, reference: str | None, arms: Sequence[str], pool: Sequence[str]) -> Key:
    """One key per choice, whatever the order or repetitions the names came in."""
    return (reference or design.reference_arm, tuple(a for a in design.arms if not arms or a in arms),
            tuple(a for a in design.arms if a in pool))


def shown_choice(trial: S.Trial) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The arms shown and pooled that ``trial`` shows, as a selection names them: ``((), ())`` for
    a study as loaded, the choice :func:`arm_view` made it with otherwise (the arms shown as the
    study's names: every arm shown reads ``()``)."""
    with _LOCK:
        made = _MADE.get(trial)
    if made is None:
        return (), ()
    design, (_, shown, pooled) = made
    return (() if shown == design.arms else shown), pooled


def require_view(trial: S.Trial, arms: Sequence[str] = (), pool: Sequence[str] = ()) -> None:
    """Raise unless ``trial`` shows the arms and pool a selection names (an analysis given the
    whole study with a selection that pools arms would silently compare the arms unpooled).

    Raises
    ------
    SelectionError
        The selection names arms shown or pooled and ``trial`` is not :func:`arm_view` of them.
    """
    if not arms and not pool:
        return
    with _LOCK:
        made = _MADE.get(trial)
    if made is not None:
        _, shown, pooled = made[1]
        _, want_shown, want_pooled = _key(made[0], None, arms, pool)
        if (shown, pooled) == (want_shown, want_pooled):
            return
    elif is_default(trial.design, None, arms, pool):
        return
    raise SelectionError(
        "This selection names arms shown or pooled (arms=..., pool=...) that the trial does not show: "
        "analyse respine.derive.arm_view(trial, sel.reference, sel.arms, sel.pool), as the app and the "
        "command line do."
    )


def compared_trial(trial: S.Trial, reference: str | None = None, arms: Sequence[str] = (),
                   pool: Sequence[str] = ()) -> S.Trial:
    """The trial the app's pages and the command line read for a reader's choice of arms.

    :func:`arm_view`, except on a study of two arms when only the reference changes: the
    analyses that take the reference from the selection (the comparison of every arm with it)
    flip, and the arms keep their study order and colours everywhere else, as they always did
    on such a study (its links must keep showing what they showed).
    """
    if len(trial.design.arms) <= 2 and not arms and not pool:
        return trial
    return arm_view(trial, reference, arms, pool)
