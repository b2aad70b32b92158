"""Bulk construction without the cyclic garbage collector.

Loading a program builds many small objects that all stay alive (AST clauses, pyDatalog
clauses, index sets). Each time the live objects grow by a quarter, CPython's collector walks
all of them; with a 100,000-fact table that was a third of the load time, for nothing: none of
these objects is garbage. `paused()` turns the collector off for such a build and back on after
(reference counting still frees everything as usual); nested and concurrent uses turn it back on
only when the last one ends, and only if it was on when the first began; while pauses of several
threads overlap for long, one collection runs every `_LONGEST` seconds.
"""
from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


_LONGEST = 2.0
"""Seconds the collector may stay off while pauses of several threads overlap; past that, the
block that ends collects once (so a server always evaluating somewhere still collects)."""
_since = 0.0


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (see the module docstring)."""
    global _depth, _was_enabled, _since
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            _since = time.monotonic()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                _settle()
                gc.enable()
            elif _was_enabled and time.monotonic() - _since > _LONGEST:
                _since = time.monotonic()
                gc.collect()


_MANY = 100_000
"""Objects allocated in a pause past which they are settled in the oldest generation."""


def _settle() -> None:
    """After a pause that built many objects, put them in the oldest generation directly
    (`gc.freeze()` then `gc.unfreeze()`: documented to move every tracked object to the
    permanent generation and back into the oldest one), so re-enabling the collector does not
    start by walking all of them only to keep them. Skipped when objects are frozen already
    (a batch worker freezes what the kb built): unfreezing would undo that."""
    if gc.get_count()[0] >= _MANY and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
