"""The worker model: one decision thread per worker process, and a time limit per request.

pyDatalog keeps one compiled program per thread and holds the GIL while it evaluates, so a
second decision thread in the same process adds memory (another program) but no throughput.
Throughput comes from processes: `warrant serve --workers N` starts N uvicorn worker processes,
each with its event loop (HTTP, JSON, database calls on a small thread pool) and this one
decision thread, loaded and warmed when the worker starts. On 2 cores, 2 workers.

The time limit: the event loop waits at most `time_limit` seconds for the decision thread. When
it runs out the request gets 503 and nothing is stored; a Python thread cannot be interrupted,
so the computation finishes in the background and its result is dropped, and requests queued
behind it wait for it (they are subject to their own limits).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class TimeLimitExceeded(Exception):
    """The decision did not finish within the per-request time limit."""


class Decider:
    def __init__(self, kb_dir: Path | None = None, *, time_limit: float = 10.0) -> None:
        self.kb_dir = kb_dir
        self.time_limit = time_limit
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="warrant-decide")
        self._kb = None
        self._lock = threading.Lock()

    @property
    def kb(self):
        """The knowledge base (loaded once; the program compiles into the decision thread)."""
        with self._lock:
            if self._kb is None:
                from engine.knowledge.base import KnowledgeBase

                self._kb = KnowledgeBase.load(self.kb_dir)
            return self._kb

    def warm(self) -> None:
        """Load the kb and compile it into the decision thread now, not on the first request;
        then freeze what is alive so the cyclic collector, which pyDatalog's per-case garbage sets
        off often, stops walking the kb's objects (as batch workers do)."""
        import gc

        self._pool.submit(self._warm).result()
        gc.collect()
        gc.freeze()

    def _warm(self) -> None:
        from engine.service.deciding import decide_text

        kb = self.kb
        example = kb.root / "examples" / "reference-case.yaml"
        if example.is_file():
            decide_text(kb, example.read_text(encoding="utf-8"), str(example))

    async def run(self, func: Callable[..., T], *args: Any, time_limit: float | None = None) -> T:
        """Run `func(kb, *args)` on the decision thread, within the time limit."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self._call, func, args)
        try:
            return await asyncio.wait_for(future, time_limit or self.time_limit)
        except asyncio.TimeoutError:
            raise TimeLimitExceeded() from None

    def _call(self, func: Callable[..., T], args: tuple) -> T:
        return func(self.kb, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
