"""The cyclic garbage collector in a process that decides case after case.

A case's evaluation builds many container objects that live until the case is done, and leaves
some cyclic garbage behind. With the collector's default thresholds a young-generation pass
runs every 700 net allocations, in the middle of the case, and walks those live objects again
and again (and once more in each older generation they are promoted to): about 6% of a case.
In a batch process (`lean()`, after the kb is frozen out of the way) the young threshold is
raised so high that an ordinary case never reaches it (it remains as a safety net for a case
that allocates without bound), and `between_cases()` collects the young generation once each
case is done, when only its garbage is left to walk: the same memory, a fraction of the work.
"""
from __future__ import annotations

import gc

CASE_THRESHOLD = 50_000
OLDER_EVERY = 16  # cases between passes over the middle generation

_state: dict = {"lean": False, "before": None, "cases": 0}


def lean() -> None:
    """Raise the young-generation threshold for case-by-case work (idempotent)."""
    if not _state["lean"]:
        _state["before"] = gc.get_threshold()
        gc.set_threshold(CASE_THRESHOLD, *_state["before"][1:])
        _state["lean"] = True


def between_cases() -> None:
    """Collect what the case just done left behind (nothing unless `lean()` ran)."""
    if not _state["lean"] or not gc.isenabled():
        return
    _state["cases"] += 1
    gc.collect(1 if _state["cases"] % OLDER_EVERY == 0 else 0)


def restore() -> None:
    """Back to the thresholds the process had (a batch run inside a longer-lived process)."""
    if _state["lean"]:
        gc.set_threshold(*_state["before"])
        _state["lean"] = False
