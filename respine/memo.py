"""Memoisation per trial: results live exactly as long as the trial they were computed from.

``functools.lru_cache`` on a function of a trial keeps strong references to its last trials, so a
data set a reader uploaded would stay in the server's memory after their session ended, until
enough other trials pushed it out. :func:`per_trial` keeps each trial's results in a
``WeakKeyDictionary`` keyed by the trial object instead: when the last session holding an
uploaded trial ends, the trial and every result computed from it are freed.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def per_trial(maxsize: int = 64) -> Callable[[F], F]:
    """Cache ``fn(trial, *args)`` per trial object (by identity), at most ``maxsize`` entries for
    each trial, least recently used first out. The other arguments must be hashable.

    Results must not hold a reference to the trial itself (it would keep the trial alive).
    """

    def decorate(fn: F) -> F:
        store: weakref.WeakKeyDictionary[Any, OrderedDict[Hashable, Any]] = weakref.WeakKeyDictionary()
        lock = threading.Lock()

        @functools.wraps(fn)
        def wrapper(trial: Any, *args: Any, **kwargs: Any) -> Any:
            key: Hashable = (args, tuple(sorted(kwargs.items())))
            with lock:
                entries = store.get(trial)
                if entries is not None and key in entries:
                    entries.move_to_end(key)
                    return entries[key]
            value = fn(trial, *args, **kwargs)
            with lock:
                entries = store.setdefault(trial, OrderedDict())
                entries[key] = value
                while len(entries) > maxsize:
                    entries.popitem(last=False)
            return value

        def cache_clear() -> None:
            with lock:
                store.clear()

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
