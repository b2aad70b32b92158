"""Building many long-lived objects at once without the cyclic collector walking them meanwhile.

Unpickling the kb cache and compiling its clauses into pyDatalog create tens of thousands of
objects that all stay alive; each allocation burst triggers collections that find nothing to
free, and a full one can cost more than the unpickling itself. The collector is paused for the
duration (reference counting still frees everything as usual) and resumed as it was.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block when it is running; resume it afterwards.
    (Another thread pausing at the same time at worst resumes it a little early.)"""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
