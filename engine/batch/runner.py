"""Batch decisions: many cases in, one JSON line per case out, in parallel, in flat memory.

    from engine.batch.runner import BatchOptions, run_batch
    stats = run_batch(["cases/", "more.jsonl"], out, BatchOptions(jobs=2))

Inputs (`items.py`) are read in this process as they are needed, and at most `in_flight`
chunks are out at any time, so memory does not grow with the number of cases.

Each chunk goes to `decide_partition`, the same evaluator whichever executor runs it: in this
process (`jobs=1`), in a pool of worker processes (`jobs>1`, each tied to this process's life
by `lifeline.py`), or on a dask.distributed cluster (`scheduler=`). A pyDatalog program cannot
be pickled, so a chunk carries only the kb directory and the case texts; each worker process
loads the knowledge base itself, once (see `_knowledge_base`), and checks that its digest is
the one the run started with.

Output lines are the decisions of `warrant decide --format json` as compact JSON, in input order by default, so
the same input gives the same bytes whatever the number of jobs. A case that cannot be decided
becomes an error record `{"source", "case_id", "error": {"code", "messages"}}` (code
`invalid_case` for a case that fails validation or cannot be read, `internal` for anything
unexpected) and the run goes on. With a progress journal (`resume.py`) a resumed run skips
exactly the inputs an interrupted one finished.
"""
from __future__ import annotations

import collections
import dataclasses
import gc
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from engine.batch.collect import between_cases, lean, restore
from engine.batch.cores import auto_jobs
from engine.batch.items import Item, chunks, count_items, identity, iter_items
from engine.batch.resume import Done, Journal, read_done
from engine.errors import CaseError, EvaluationError, Finding, Location, RuleError, UsageError

__all__ = ["BatchOptions", "BatchStats", "Done", "auto_jobs", "count_items", "decide_partition", "iter_items",
           "read_done", "run_batch"]


# ---------------------------------------------------------------------------------- worker
_KBS: dict[tuple[str | None, str | None], Any] = {}
_KB_LOCK = threading.Lock()


def _knowledge_base(kb_dir: str | None, digest: str | None):
    """The knowledge base of this process (loaded once, from the on-disk cache when it can be),
    refusing one whose digest differs from the run's: every line of a run comes from one kb."""
    key = (kb_dir, digest)
    kb = _KBS.get(key)
    if kb is None:
        with _KB_LOCK:
            kb = _KBS.get(key)
            if kb is None:
                from engine.knowledge.base import KnowledgeBase

                kb = KnowledgeBase.load(kb_dir)
                if digest is not None and kb.digest != digest:
                    where = kb_dir or "the bundled kb"
                    raise RuleError([Finding("kb_mismatch", f"the knowledge base at {where} on this worker "
                                             f"has digest {kb.digest}, the run started with {digest}; "
                                             "every worker must see the same kb files")])
                _KBS[key] = kb
    return kb


_SETTLED: set[tuple[str | None, str | None]] = set()


def decide_partition(kb_dir: str | None, items: Sequence[Item], *, explain: bool = False,
                     digest: str | None = None, settle: bool = False) -> list[str]:
    """Decide a chunk of cases: one JSON line per case (a decision or an error record), in the
    order of `items`.

    The function takes only picklable arguments and loads the knowledge base itself, so it runs
    unchanged in this process, a worker process or a dask worker (`kb_dir` must name the same kb
    files there; None means the worker's bundled kb).
    """
    kb = _knowledge_base(kb_dir, digest)
    if settle and (kb_dir, digest) not in _SETTLED:  # a dask worker: as lean as a local one
        with _KB_LOCK:
            if (kb_dir, digest) not in _SETTLED:
                _settle(kb)
                _SETTLED.add((kb_dir, digest))
    explain, policy, as_of, only = _how(explain)
    lines = []
    for item in items:
        lines.append(decide_item(kb, item, explain=explain, policy=policy, as_of=as_of, verdicts_only=only))
        between_cases()
    return lines


def _how(explain: bool | tuple) -> tuple[bool, str | None, str | None, bool]:
    """(explain, policy, as_of, verdicts_only) from what workers are handed in place of
    `explain`: a flag, or a tuple of the first three or all four."""
    if not isinstance(explain, tuple):
        return bool(explain), None, None, False
    return (*explain, False)[:4] if len(explain) == 3 else explain


def decide_item(kb, item: Item, *, explain: bool = False, policy: str | None = None,
                as_of: str | None = None, verdicts_only: bool = False) -> str:
    """One case's line: its decision (or its verdicts alone), or an error record; never an
    exception."""
    from engine.decide.decision import decide
    from engine.decide.policy import parse_as_of
    from engine.inputs import open_session

    source, text, number, problem = item
    if problem is not None or text is None:
        return error_record(source, number, None, "invalid_case", [problem or f"{source}: no text"])
    try:
        session = open_session(kb, source, text=text, policy=policy, as_of=parse_as_of(as_of))
        if verdicts_only:
            from engine.batch.verdicts import verdicts

            return dumps(verdicts(session))
        return dumps(decide(session, explain=explain))
    except CaseError as exc:
        return error_record(source, number, _guess_case_id(source, text), exc.code or "invalid_case",
                            _case_messages(exc, source, text, number))
    except EvaluationError as exc:  # past the evaluation budget, or an aggregate over mixed values
        return error_record(source, number, _guess_case_id(source, text), exc.code, exc.messages)
    except Exception as exc:  # one case's unexpected failure never stops the run
        from engine.guard.text import excerpt

        return error_record(source, number, _guess_case_id(source, text), "internal",
                            [f"{type(exc).__name__}: {excerpt(exc, 200, quote=False)}"])


def dumps(data: Any) -> str:
    """Compact, deterministic JSON (the key order is the decision's own); never NaN, which is not
    JSON (a value that would need it makes the case an `internal` error record instead). Lone
    surrogates and terminal controls beyond C0 are escaped, so every line encodes as UTF-8."""
    from engine.guard.text import json_text

    return json_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def error_record(source: str, number: int, case_id: str | None, code: str, messages: list[str]) -> str:
    return dumps({"source": f"{source}:{number}" if number else source, "case_id": case_id,
                  "error": {"code": code, "messages": messages}})


def _case_messages(exc: CaseError, source: str, text: str | None, number: int) -> list[str]:
    """The loader's messages; for a stream line, positions are moved to the stream's lines and
    text that is not one JSON object is reported as such."""
    if not number:
        return exc.messages
    try:
        data = json.loads(text or "")
    except json.JSONDecodeError as err:
        return [f"{source}:{number}:{err.colno}: not valid JSON: {err.msg}"]
    except (ValueError, RecursionError) as err:
        return [f"{source}:{number}: not valid JSON: {err}"]
    if not isinstance(data, dict):
        return [f"{source}:{number}:1: a stream line must hold one case object, not {type(data).__name__}"]
    out = []
    for finding in exc.findings:
        loc = finding.location
        if loc is not None and loc.file == source:
            loc = Location(source, number + max(loc.line, 1) - 1, loc.column) if loc.line else Location(f"{source}:{number}")
        out.append(str(Finding(finding.code, finding.message, loc, finding.severity)))
    return out


def _guess_case_id(source: str, text: str | None) -> str | None:
    """The case id of a case that could not be loaded, when its text still shows one (read by
    the case reader: no aliases expanded, no tags, bounded nesting)."""
    if text is None:
        return None
    try:
        from engine.cases.source import parse

        data = parse(source, text).data
    except Exception:
        return None
    if isinstance(data, dict):
        value = data.get("case_id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None


# ---------------------------------------------------------------------------------- resume


# ---------------------------------------------------------------------------------- running
@dataclass
class BatchOptions:
    kb_dir: str | None = None          # None: the bundled kb
    jobs: int = 1                      # worker processes; 1 runs in this process
    explain: bool = False
    verdicts_only: bool = False        # verdicts without reasons, documentation or proofs (verdicts.py)
    order: str = "input"               # "input" (deterministic bytes) or "completion"
    chunk_size: int = 32
    in_flight: int | None = None       # chunks out at once (default 4 per job)
    scheduler: str | None = None       # dask.distributed scheduler address
    on_progress: Callable[[int], None] | None = None  # told how many cases each finished chunk held
    policy: str | None = None          # --policy ID or ID@VERSION (POLICIES.md section 4)
    as_of: str | None = None           # --as-of YYYY-MM-DD


@dataclass
class BatchStats:
    cases: int = 0          # items taken from the input (skipped ones included)
    decided: int = 0
    errors: int = 0
    skipped: int = 0
    max_in_flight: int = 0  # the most chunks that were out at once
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return (self.cases / self.elapsed) if self.elapsed > 0 else 0.0


class _Sink:
    """Writes whole lines and flushes after every chunk, then records the chunk's inputs in the
    progress journal (when there is one), so an interrupted run leaves complete lines and a
    journal that names only inputs whose lines are in the output."""

    def __init__(self, out: IO[bytes], stats: BatchStats, journal: Journal | None) -> None:
        self.out = out
        self.stats = stats
        self.journal = journal
        self.position = os.fstat(out.fileno()).st_size if journal is not None else 0

    def write(self, chunk: list[Item], lines: list[str]) -> None:
        if not lines:
            return
        ends = []
        data = []
        for line in lines:
            if line.startswith('{"source":'):
                self.stats.errors += 1
            else:
                self.stats.decided += 1
            encoded = line.encode("utf-8", "backslashreplace") + b"\n"
            data.append(encoded)
            self.position += len(encoded)
            ends.append(self.position)
        self.out.write(b"".join(data))
        self.out.flush()
        if self.journal is not None:
            self.journal.record([identity(item) for item in chunk], ends)


def _not_done(items: Iterable[Item], done: Done, stats: BatchStats) -> Iterator[Item]:
    for item in items:
        if identity(item) in done.inputs:
            stats.cases += 1
            stats.skipped += 1
            continue
        yield item


def run_batch(paths: Sequence[str | os.PathLike[str]], out: IO[bytes], options: BatchOptions, *,
              done: Done | None = None, items: Iterable[Item] | None = None,
              stdin: IO[bytes] | None = None, journal: Journal | None = None) -> BatchStats:
    """Decide every case of `paths` (or of `items`), writing JSON lines to the binary stream
    `out`. Raises `RuleError` when the kb cannot be loaded; a case's own failure is a record.
    Inputs named in `done` are skipped; `journal` records each input once its line is written.

    With `jobs > 1` the workers are started fresh (forkserver or spawn) and import the main
    module again: a script calling this needs the usual `if __name__ == "__main__":` guard."""
    stats = BatchStats()
    start = time.perf_counter()
    kb_dir = str(Path(options.kb_dir).resolve()) if options.kb_dir else None
    kb = _knowledge_base(kb_dir, None)  # fails early (exit 4) on a broken kb
    digest = kb.digest
    _KBS.setdefault((kb_dir, digest), kb)
    allowed = _run_digests(kb, options.policy)
    if done is not None and done.digests - allowed:
        raise UsageError(f"the output to resume holds decisions of another knowledge base or policy "
                         f"({', '.join(sorted(done.digests - allowed))}); this run's are "
                         f"{', '.join(sorted(allowed))}: write to a new file instead of resuming")
    shape = "verdicts" if options.verdicts_only else "full"
    if done is not None and done.shapes - {shape}:
        held = "verdicts only" if shape == "full" else "full decisions"
        raise UsageError(f"the output to resume holds {held}; resume it with the same --verdicts-only "
                         "choice, or write to a new file")
    if options.policy or options.as_of or options.verdicts_only:
        # workers read (explain, policy, as_of, verdicts_only) in place of explain
        options = dataclasses.replace(options, explain=(options.explain, options.policy, options.as_of,
                                                        options.verdicts_only))
    source = items if items is not None else iter_items(paths, stdin=stdin)
    if done is not None:
        source = _not_done(source, done, stats)
    sink = _Sink(out, stats, journal)
    try:
        if options.scheduler:
            executor = _DaskExecutor(options.scheduler, kb_dir, digest, options.explain)
        elif options.jobs > 1:
            executor = _PoolExecutor(options.jobs, kb_dir, digest, options.explain)
        else:
            executor = _LocalExecutor(kb_dir, digest, options.explain)
        with executor:
            limit = options.in_flight or max(2, 4 * executor.width)
            _drive(executor, chunks(source, max(1, options.chunk_size)), limit, options.order == "input",
                   sink, stats, options.on_progress)
    finally:
        stats.elapsed = time.perf_counter() - start
    return stats


def _run_digests(kb, policy: str | None) -> set[str]:
    """The kb and policy digests the decisions of this run can name: the kb's, and those of
    every policy version it may choose (the one pinned, or every version of the id given)."""
    from engine.errors import CaseError
    from engine.knowledge.policies import PolicyChoiceError, version_digest

    table = kb.policy_table
    try:
        versions = ([table.get(policy)] if policy and "@" in policy else table.of(policy) if policy
                    else table.versions)
    except PolicyChoiceError as exc:
        raise CaseError(f"policy: {exc}", code="policy") from None
    return {kb.digest} | {version_digest(table, kb.digest, v) for v in versions}


def _drive(executor, work: Iterator[list[Item]], limit: int, ordered: bool, sink: _Sink,
           stats: BatchStats, on_progress: Callable[[int], None] | None) -> None:
    """Keep at most `limit` chunks out; write results in input order (waiting on the oldest
    chunk) or as they complete."""
    pending: collections.deque = collections.deque()
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            chunk = next(work, None)
            if chunk is None:
                exhausted = True
                break
            stats.cases += len(chunk)
            pending.append((executor.submit(chunk), chunk))
            stats.max_in_flight = max(stats.max_in_flight, len(pending))
        if not pending:
            return
        if ordered:
            future, chunk = pending.popleft()
        else:
            finished = executor.first_completed([f for f, _ in pending])
            index = next(i for i, (f, _) in enumerate(pending) if f is finished)
            future, chunk = pending[index]
            del pending[index]
        sink.write(chunk, executor.result(future))
        if on_progress is not None:
            on_progress(len(chunk))


class _LocalExecutor:
    """Chunks decided in this process, one at a time (what `--jobs 1` runs)."""

    width = 1

    def __init__(self, kb_dir: str | None, digest: str, explain: bool) -> None:
        self.args = (kb_dir, digest, explain)

    def __enter__(self):
        _settle(_knowledge_base(self.args[0], self.args[1]))
        return self

    def __exit__(self, *exc) -> None:
        gc.unfreeze()
        restore()

    def submit(self, chunk: list[Item]) -> list[Item]:
        return chunk  # decided when its result is asked for, so nothing runs ahead

    def first_completed(self, futures: list) -> Any:
        return futures[0]

    def result(self, chunk: list[Item]) -> list[str]:
        kb_dir, digest, explain = self.args
        return decide_partition(kb_dir, chunk, explain=explain, digest=digest)


_WORKER: dict[str, Any] = {}


def _init_worker(kb_dir: str | None, digest: str, explain: bool, parent: int) -> None:
    _WORKER.update(kb_dir=kb_dir, digest=digest, explain=explain)
    import signal
    import warnings

    from engine.batch.lifeline import die_with

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with(parent)

    warnings.simplefilter("ignore")  # a worker has no terminal; the parent reports what matters
    _settle(_knowledge_base(kb_dir, digest))


def _settle(kb) -> None:
    """Build what every case needs (this thread's pyDatalog program, the code tables), then move
    everything alive to the permanent generation: the cyclic collector, which pyDatalog's
    per-case garbage sets off often, then no longer walks the kb's objects each time (about 4%
    of a case's time); and collect between cases rather than during them (collect.py)."""
    kb.program.backend.activate()
    kb.code_units, kb.code_labels, kb.reason_predicates, kb.reason_leads, kb.noreason_rules  # noqa: B018 - cached properties
    gc.collect()
    gc.freeze()
    lean()


def _worker_chunk(chunk: list[Item]) -> list[str]:
    w = _WORKER
    return decide_partition(w["kb_dir"], chunk, explain=w["explain"], digest=w["digest"])


class _PoolExecutor:
    """Worker processes started fresh (forkserver, or spawn where there is none), each loading
    the kb once in its initializer; the parent only reads input and writes output."""

    def __init__(self, jobs: int, kb_dir: str | None, digest: str, explain: bool) -> None:
        self.width = jobs
        self.initargs = (kb_dir, digest, explain, os.getpid())

    def __enter__(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.pool = ProcessPoolExecutor(max_workers=self.width, mp_context=multiprocessing.get_context(method),
                                        initializer=_init_worker, initargs=self.initargs)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.pool.shutdown(wait=exc_type is None, cancel_futures=True)

    def submit(self, chunk: list[Item]):
        return self.pool.submit(_worker_chunk, chunk)

    def first_completed(self, futures: list) -> Any:
        from concurrent.futures import FIRST_COMPLETED, wait

        return next(iter(wait(futures, return_when=FIRST_COMPLETED).done))

    def result(self, future) -> list[str]:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise RuntimeError(f"a worker process died ({exc}); rerun with --resume to continue") from None


class _DaskExecutor:
    """Chunks as tasks on a dask.distributed cluster. Workers import `engine.batch.runner` and load the
    kb themselves from `kb_dir` (None: their own bundled kb), which must hold the same files
    there as here: the digest is checked. Cases travel with the tasks (case files are read
    here, as for every executor), so only the kb has to be reachable from the workers."""

    def __init__(self, address: str, kb_dir: str | None, digest: str, explain: bool) -> None:
        self.address = address
        self.kb_dir, self.digest, self.explain = kb_dir, digest, explain
        self.width = 1

    def __enter__(self):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed: pip install 'warrant[dask]'") from None
        self.client = Client(self.address, set_as_default=False)
        self.width = max(1, sum(int(w.get("nthreads", 1)) for w in
                                self.client.scheduler_info().get("workers", {}).values()))
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def submit(self, chunk: list[Item]):
        return self.client.submit(decide_partition, self.kb_dir, chunk, explain=self.explain,
                                  digest=self.digest, settle=True, pure=False)

    def first_completed(self, futures: list) -> Any:
        from distributed import wait

        return next(iter(wait(futures, return_when="FIRST_COMPLETED").done))

    def result(self, future) -> list[str]:
        lines = future.result()
        future.release()
        return lines
