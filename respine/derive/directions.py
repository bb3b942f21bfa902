"""The direction of benefit a reader sets for an endpoint the study file leaves undeclared.

An ADaM parameter's direction (are lower values better?) is unknown until the study file says
it (``[endpoints.X] lower_is_better``); until then no view says which arm an estimate favours.
The reader may set it in the app or on the command line (the view's ``lower_better`` and
``higher_better``); :func:`with_directions` gives the trial with those directions, which every
page and analysis then reads as if the study file had declared them. A reader's setting also
overrides a declared direction; :func:`overridden` names those, so a page can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from respine.errors import SelectionError
from respine.memo import per_trial
from respine.model import design as S


def _check(trial: S.Trial, lower: Sequence[str], higher: Sequence[str]) -> None:
    both = sorted(set(lower) & set(higher))
    if both:
        raise SelectionError(f"{', '.join(both)} cannot have both lower and higher values better; "
                             "name each endpoint once.")
    known = set(trial.design.endpoints)
    unknown = [e for e in dict.fromkeys([*lower, *higher]) if e not in known]
    if unknown:
        raise SelectionError(f"Direction of benefit for {', '.join(unknown)}: not an endpoint of this "
                             f"study. Endpoints: {', '.join(trial.design.endpoints)}.")


@per_trial(maxsize=16)
def _with(trial: S.Trial, lower: tuple[str, ...], higher: tuple[str, ...]) -> S.Trial:
    info = dict(trial.design.endpoint_info)
    for ids, value in ((lower, True), (higher, False)):
        for e in ids:
            info[e] = replace(trial.endpoint(e), lower_is_better=value)
    said = "; ".join(part for part in (f"lower better: {', '.join(lower)}" if lower else "",
                                       f"higher better: {', '.join(higher)}" if higher else "") if part)
    return replace(trial, design=replace(trial.design, endpoint_info=info),
                   source=f"{trial.source} (direction set by the reader: {said})")


def with_directions(trial: S.Trial, lower: Sequence[str] = (), higher: Sequence[str] = ()) -> S.Trial:
    """The trial with the reader's directions of benefit.

    Parameters
    ----------
    trial : Trial
    lower, higher : sequence of str
        Endpoint ids whose lower (higher) values are better.

    Returns
    -------
    Trial
        ``trial`` itself when nothing is set or every setting is what the study declares; else one
        trial object per setting (memoised per trial), whose source says what was set.

    Raises
    ------
    SelectionError
        An id that is not an endpoint of the study, or one named in both.
    """
    _check(trial, lower, higher)
    lower_t = tuple(e for e in trial.design.endpoints if e in lower
                    and trial.endpoint(e).lower_is_better is not True)
    higher_t = tuple(e for e in trial.design.endpoints if e in higher
                     and trial.endpoint(e).lower_is_better is not False)
    if not lower_t and not higher_t:
        return trial
    return _with(trial, lower_t, higher_t)


def overridden(study: S.Trial, lower: Sequence[str] = (), higher: Sequence[str] = ()) -> tuple[str, ...]:
    """The endpoints whose declared direction (not unknown) the reader's setting reverses."""
    return tuple(e for e in study.design.endpoints
                 if (e in lower and study.endpoint(e).lower_is_better is False)
                 or (e in higher and study.endpoint(e).lower_is_better is True))
