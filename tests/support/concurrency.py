"""Run one function in many threads released at the same moment, collecting each outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def run_together(n: int, target: Callable[[Any], T], args: Iterable[Any]) -> list[T | str]:
    """Call `target(arg)` for each arg in its own thread, all at once; return results or exception class names."""
    barrier = threading.Barrier(n)
    outcomes: list[T | str] = []
    lock = threading.Lock()

    def run(arg: Any) -> None:
        barrier.wait(
            timeout=60
        )  # before the first query: on SQLite a transaction locks from its first statement
        result: T | str
        try:
            result = target(arg)
        except Exception as exc:  # collected, so the assertion shows every unexpected outcome
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes
