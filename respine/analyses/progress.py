"""Progress of a computation made of named steps, reported to a callback (no display here).

A long computation (the robustness analyses of 10,000 subjects take seconds) tells whoever waits
how far it is: it calls ``progress(fraction, step)`` before each step, with the fraction of the
steps done so far (0 before the first, increasing) and the name of the step that starts, and
``progress(1.0, DONE)`` at the end. The command line prints it on stderr, the app draws a
progress bar; the core only calls the function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

ProgressCallback = Callable[[float, str], None]
"""``progress(fraction, step)``: ``fraction`` of the work done (0 to 1, increasing), ``step`` the
name of the step that starts (:data:`DONE` at the end)."""

DONE = "done"


@dataclass
class Tracker:
    """Reports named steps to a callback, in order.

    Parameters
    ----------
    steps : sequence of str
        The steps' names, in the order they run (each counts the same).
    callback : ProgressCallback or None
        Called by :meth:`start` and :meth:`finish`; None reports nothing.

    Examples
    --------
    >>> seen = []
    >>> t = Tracker(["load", "fit"], lambda f, s: seen.append((f, s)))
    >>> t.start("load"); t.start("fit"); t.finish()
    >>> seen
    [(0.0, 'load'), (0.5, 'fit'), (1.0, 'done')]
    """

    steps: Sequence[str]
    callback: ProgressCallback | None = None
    _done: int = field(default=0, init=False)

    def start(self, step: str) -> None:
        """Step ``step`` starts: the steps before it are done."""
        if step not in self.steps:
            raise ValueError(f"'{step}' is not one of the steps {list(self.steps)}")
        self._done = max(self._done, list(self.steps).index(step))
        if self.callback is not None:
            self.callback(self._done / len(self.steps), step)

    def finish(self) -> None:
        """Every step is done."""
        self._done = len(self.steps)
        if self.callback is not None:
            self.callback(1.0, DONE)


def run_steps(steps: Sequence[tuple[str, Callable[[], Any]]],
              progress: ProgressCallback | None = None) -> list[Any]:
    """Run named steps in order, reporting each to ``progress`` (see :class:`Tracker`).

    Parameters
    ----------
    steps : sequence of (name, function)
        Each step's name and the function that computes it (no arguments).
    progress : ProgressCallback, optional
        Called with increasing fractions, ending with ``(1.0, "done")``.

    Returns
    -------
    list
        The steps' results, in order.
    """
    tracker = Tracker([name for name, _ in steps], progress)
    out = []
    for name, fn in steps:
        tracker.start(name)
        out.append(fn())
    tracker.finish()
    return out


def within(progress: ProgressCallback | None, start: float, end: float) -> ProgressCallback | None:
    """``progress`` for a part of the work that runs from ``start`` to ``end`` of the whole: the
    part's fractions are mapped into that range, and the part's end is not the whole's (its
    :data:`DONE` becomes the fraction ``end``)."""
    if progress is None:
        return None
    callback = progress

    def part(fraction: float, step: str) -> None:
        if step != DONE:
            callback(start + (end - start) * fraction, step)
        elif end >= 1.0:  # the part ends the whole (else the whole's next step reports)
            callback(1.0, DONE)

    return part
