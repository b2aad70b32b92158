"""Batch decisions: many cases in, one JSON line per case out, in parallel, in flat memory.

    from engine.batch.runner import BatchOptions, run_batch
    stats = run_batch(["cases/", "more.jsonl"], out, BatchOptions(jobs=2))

Inputs are case files, directories (walked in sorted name order, `*.yaml`, `*.yml`, `*.json`,
`*.jsonl`, `*.ndjson`, hidden entries skipped) and JSON Lines streams (`*.jsonl`, `*.ndjson`, or
`-` for standard input: one case object per line, blank lines ignored). Nothing is read ahead of
need: the input is cut into chunks as it is consumed, and at most `in_flight` chunks are out at
any time, so memory does not grow with the number of cases.

Each chunk goes to `decide_partition`, the same evaluator whichever executor runs it: in this
process (`jobs=1`), in a pool of worker processes (`jobs>1`), or on a dask.distributed cluster
(`scheduler=`). A pyDatalog program cannot be pickled, so a chunk carries only the kb directory
and the items; each worker process loads the knowledge base itself, once (see `_knowledge_base`),
and checks that its digest is the one the run started with.

Output lines are the decisions of `warrant decide --format json` as compact JSON, in input order by default, so
the same input gives the same bytes whatever the number of jobs. A case that cannot be decided
becomes an error record `{"source", "case_id", "error": {"code", "messages"}}` (code
`invalid_case` for a case that fails validation, `internal` for anything unexpected) and the run
goes on. `resume=True` skips the cases an earlier, interrupted run already wrote.
"""
from __future__ import annotations

import collections
import gc
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from engine.cases.paths import CASE_SUFFIXES, STREAM_SUFFIXES, walk
from engine.errors import CaseError, Finding, Location, RuleError, UsageError

STDIN = "-"
MAX_CASE_BYTES = 5 * 1024 * 1024  # as the case loader allows

# One unit of work: (source, text, line, problem).
#   source  the case file's path, or the stream's path ("<stdin>" for standard input)
#   text    the case text of a stream line; None for a case file (the worker reads the file)
#   line    1-based line number in the stream; 0 for a case file
#   problem a message when the parent could not even read the line as text; else None
Item = tuple[str, "str | None", int, "str | None"]


# ---------------------------------------------------------------------------------- input
def iter_items(paths: Sequence[str | os.PathLike[str]], *, stdin: IO[bytes] | None = None) -> Iterator[Item]:
    """Every case of the inputs, in order, read lazily."""
    for raw in paths:
        path = os.fspath(raw)
        if path == STDIN:
            yield from _stream_items("<stdin>", stdin if stdin is not None else sys.stdin.buffer)
        elif os.path.isdir(path):
            yield from _dir_items(path)
        elif path.lower().endswith(STREAM_SUFFIXES):
            with open(path, "rb") as handle:
                yield from _stream_items(path, handle)
        else:
            yield (path, None, 0, None)


def _dir_items(root: str) -> Iterator[Item]:
    for path in walk(root, CASE_SUFFIXES + STREAM_SUFFIXES):
        if path.lower().endswith(STREAM_SUFFIXES):
            with open(path, "rb") as handle:
                yield from _stream_items(path, handle)
        else:
            yield (path, None, 0, None)


def _stream_items(source: str, handle: IO[bytes]) -> Iterator[Item]:
    for number, raw in enumerate(handle, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            yield (source, raw.decode("utf-8").rstrip("\r\n"), number, None)
        except UnicodeDecodeError as exc:
            yield (source, None, number, f"{source}:{number}:{exc.start + 1}: the line is not UTF-8 text "
                                         f"(byte 0x{raw[exc.start]:02x} cannot be decoded)")


def count_items(paths: Sequence[str | os.PathLike[str]]) -> int | None:
    """How many items the inputs hold (for a progress bar's ETA); None when a stream is stdin."""
    total = 0
    for raw in paths:
        path = os.fspath(raw)
        if path == STDIN:
            return None
        if os.path.isdir(path):
            for name in walk(path, CASE_SUFFIXES + STREAM_SUFFIXES):
                total += _count_lines(name) if name.lower().endswith(STREAM_SUFFIXES) else 1
        elif path.lower().endswith(STREAM_SUFFIXES):
            total += _count_lines(path)
        else:
            total += 1
    return total


def _count_lines(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        for raw in handle:
            if raw.strip():
                count += 1
    return count


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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


def decide_partition(kb_dir: str | None, items: Sequence[Item], *, explain: bool = False,
                     digest: str | None = None, skip: Iterable[str] | None = None) -> list[str]:
    """Decide a chunk of cases: one JSON line per case (a decision or an error record), in the
    order of `items`; cases whose id is in `skip` give no line.

    The function takes only picklable arguments and loads the knowledge base itself, so it runs
    unchanged in this process, a worker process or a dask worker (`kb_dir` must name the same kb
    files there; None means the worker's bundled kb).
    """
    kb = _knowledge_base(kb_dir, digest)
    skip_ids = skip if isinstance(skip, (set, frozenset)) else frozenset(skip or ())
    out = []
    for item in items:
        line = decide_item(kb, item, explain=explain, skip=skip_ids)
        if line is not None:
            out.append(line)
    return out


def decide_item(kb, item: Item, *, explain: bool = False, skip: frozenset[str] | set[str] = frozenset()) -> str | None:
    from engine.decide.decision import decide
    from engine.inputs import open_session

    source, text, number, problem = item
    if problem is not None:
        return error_record(source, number, None, "invalid_case", [problem])
    try:
        session = open_session(kb, source, text=text)
        case_id = session.case_id
        if case_id in skip:
            return None
        return dumps(decide(session, explain=explain))
    except CaseError as exc:
        case_id = _guess_case_id(source, text)
        if case_id is not None and case_id in skip:
            return None
        return error_record(source, number, case_id, exc.code or "invalid_case", _case_messages(exc, source, text, number))
    except Exception as exc:  # one case's unexpected failure never stops the run
        return error_record(source, number, _guess_case_id(source, text), "internal",
                            [f"{type(exc).__name__}: {exc}"])


def dumps(data: Any) -> str:
    """Compact, deterministic JSON (the key order is the decision's own); never NaN, which is not
    JSON (a value that would need it makes the case an `internal` error record instead)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


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
    """The case id of a case that could not be loaded, when its text still shows one."""
    try:
        if text is None:
            with open(source, "rb") as handle:
                raw = handle.read(MAX_CASE_BYTES + 1)
            if len(raw) > MAX_CASE_BYTES:
                return None
            text = raw.decode("utf-8")
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
        else:
            data = None
        if data is None:
            from ruamel.yaml import YAML

            data = YAML(typ="safe", pure=True).load(text)
    except Exception:
        return None
    if isinstance(data, dict):
        value = data.get("case_id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None


# ---------------------------------------------------------------------------------- resume
@dataclass
class Done:
    """What an earlier run already wrote: decided case ids, and error records' sources."""

    ids: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    lines: int = 0


def read_done(path: Path) -> tuple[Done, int]:
    """Scan an output file line by line; returns what it holds and the byte offset where its
    last complete line ends (a line cut off by an interrupted run is dropped)."""
    done = Done()
    end = 0
    with open(path, "rb") as handle:
        offset = 0
        for raw in handle:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            end = offset
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            done.lines += 1
            case_id = record.get("case_id")
            if isinstance(case_id, str):
                done.ids.add(case_id)
            kb = record.get("knowledge_base")
            if isinstance(kb, dict) and isinstance(kb.get("digest"), str):
                done.digests.add(kb["digest"])
            if "error" in record and isinstance(record.get("source"), str):
                done.sources.add(record["source"])
    return done, end


def _not_done(items: Iterable[Item], done: Done, stats: "BatchStats") -> Iterator[Item]:
    for item in items:
        source = f"{item[0]}:{item[2]}" if item[2] else item[0]
        if source in done.sources:
            stats.cases += 1
            stats.skipped += 1
            continue
        yield item


# ---------------------------------------------------------------------------------- running
@dataclass
class BatchOptions:
    kb_dir: str | None = None          # None: the bundled kb
    jobs: int = 1                      # worker processes; 1 runs in this process
    explain: bool = False
    order: str = "input"               # "input" (deterministic bytes) or "completion"
    chunk_size: int = 32
    in_flight: int | None = None       # chunks out at once (default 4 per job)
    scheduler: str | None = None       # dask.distributed scheduler address
    on_progress: Callable[[int], None] | None = None  # told how many cases each finished chunk held


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
    """Writes whole lines and flushes after every chunk, so an interrupted run leaves complete
    lines (a resumed run drops a cut-off last line)."""

    def __init__(self, out: IO[bytes], stats: BatchStats) -> None:
        self.out = out
        self.stats = stats

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        for line in lines:
            if line.startswith('{"source":'):
                self.stats.errors += 1
            else:
                self.stats.decided += 1
        self.out.write(("\n".join(lines) + "\n").encode("utf-8"))
        self.out.flush()


def run_batch(paths: Sequence[str | os.PathLike[str]], out: IO[bytes], options: BatchOptions, *,
              done: Done | None = None, items: Iterable[Item] | None = None,
              stdin: IO[bytes] | None = None) -> BatchStats:
    """Decide every case of `paths` (or of `items`), writing JSON lines to the binary stream
    `out`. Raises `RuleError` when the kb cannot be loaded; a case's own failure is a record.

    With `jobs > 1` the workers are started fresh (forkserver or spawn) and import the main
    module again: a script calling this needs the usual `if __name__ == "__main__":` guard."""
    stats = BatchStats()
    start = time.perf_counter()
    kb_dir = str(Path(options.kb_dir).resolve()) if options.kb_dir else None
    kb = _knowledge_base(kb_dir, None)  # fails early (exit 4) on a broken kb
    digest = kb.digest
    _KBS.setdefault((kb_dir, digest), kb)
    if done is not None and done.digests - {digest}:
        raise UsageError(f"the output to resume holds decisions of another knowledge base "
                         f"({', '.join(sorted(done.digests - {digest}))}); this run's is {digest}: "
                         "write to a new file instead of resuming")
    source = items if items is not None else iter_items(paths, stdin=stdin)
    if done is not None:
        source = _not_done(source, done, stats)
    skip = frozenset(done.ids) if done is not None else frozenset()
    sink = _Sink(out, stats)
    try:
        if options.scheduler:
            executor = _DaskExecutor(options.scheduler, kb_dir, digest, options.explain, skip)
        elif options.jobs > 1:
            executor = _PoolExecutor(options.jobs, kb_dir, digest, options.explain, skip)
        else:
            executor = _LocalExecutor(kb_dir, digest, options.explain, skip)
        with executor:
            limit = options.in_flight or max(2, 4 * executor.width)
            _drive(executor, chunks(source, max(1, options.chunk_size)), limit, options.order == "input",
                   sink, stats, options.on_progress)
    finally:
        stats.elapsed = time.perf_counter() - start
    return stats


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
            pending.append((executor.submit(chunk), len(chunk)))
            stats.max_in_flight = max(stats.max_in_flight, len(pending))
        if not pending:
            return
        if ordered:
            future, size = pending.popleft()
        else:
            finished = executor.first_completed([f for f, _ in pending])
            index = next(i for i, (f, _) in enumerate(pending) if f is finished)
            future, size = pending[index]
            del pending[index]
        lines = executor.result(future)
        stats.skipped += size - len(lines)
        sink.write(lines)
        if on_progress is not None:
            on_progress(size)


class _LocalExecutor:
    """Chunks decided in this process, one at a time (what `--jobs 1` runs)."""

    width = 1

    def __init__(self, kb_dir: str | None, digest: str, explain: bool, skip: frozenset[str]) -> None:
        self.args = (kb_dir, digest, explain, skip)

    def __enter__(self):
        _settle(_knowledge_base(self.args[0], self.args[1]))
        return self

    def __exit__(self, *exc) -> None:
        gc.unfreeze()

    def submit(self, chunk: list[Item]) -> list[Item]:
        return chunk  # decided when its result is asked for, so nothing runs ahead

    def first_completed(self, futures: list) -> Any:
        return futures[0]

    def result(self, chunk: list[Item]) -> list[str]:
        kb_dir, digest, explain, skip = self.args
        return decide_partition(kb_dir, chunk, explain=explain, digest=digest, skip=skip)


_WORKER: dict[str, Any] = {}


def _init_worker(kb_dir: str | None, digest: str, explain: bool, skip: frozenset[str]) -> None:
    _WORKER.update(kb_dir=kb_dir, digest=digest, explain=explain, skip=skip)
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle

    warnings.simplefilter("ignore")  # a worker has no terminal; the parent reports what matters
    _settle(_knowledge_base(kb_dir, digest))


def _settle(kb) -> None:
    """Build what every case needs (this thread's pyDatalog program, the code tables), then move
    everything alive to the permanent generation: the cyclic collector, which pyDatalog's
    per-case garbage sets off often, then no longer walks the kb's objects each time (about 4%
    of a case's time)."""
    kb.program.backend.activate()
    kb.code_units, kb.code_labels, kb.reason_predicates  # noqa: B018 - cached properties
    gc.collect()
    gc.freeze()


def _worker_chunk(chunk: list[Item]) -> list[str]:
    w = _WORKER
    return decide_partition(w["kb_dir"], chunk, explain=w["explain"], digest=w["digest"], skip=w["skip"])


class _PoolExecutor:
    """Worker processes started fresh (forkserver, or spawn where there is none), each loading
    the kb once in its initializer; the parent only reads input and writes output."""

    def __init__(self, jobs: int, kb_dir: str | None, digest: str, explain: bool, skip: frozenset[str]) -> None:
        self.width = jobs
        self.initargs = (kb_dir, digest, explain, skip)

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
    here), so only the kb has to be reachable from the workers."""

    def __init__(self, address: str, kb_dir: str | None, digest: str, explain: bool, skip: frozenset[str]) -> None:
        self.address = address
        self.kb_dir, self.digest, self.explain, self.skip = kb_dir, digest, explain, skip
        self.width = 1

    def __enter__(self):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed: pip install 'warrant[dask]'") from None
        self.client = Client(self.address, set_as_default=False)
        self.width = max(1, sum(int(w.get("nthreads", 1)) for w in
                                self.client.scheduler_info().get("workers", {}).values()))
        # the ids to skip are sent to each worker once, not with every task
        # (in a list: scatter would otherwise send a set's members one by one)
        self.skip_ref = self.client.scatter([self.skip], broadcast=True, hash=False)[0] if self.skip else None
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def submit(self, chunk: list[Item]):
        return self.client.submit(decide_partition, self.kb_dir, [_with_text(item) for item in chunk],
                                  explain=self.explain, digest=self.digest, skip=self.skip_ref, pure=False)

    def first_completed(self, futures: list) -> Any:
        from distributed import wait

        return next(iter(wait(futures, return_when="FIRST_COMPLETED").done))

    def result(self, future) -> list[str]:
        lines = future.result()
        future.release()
        return lines


def _with_text(item: Item) -> Item:
    """A case file's item with its text, for a worker that may not see this machine's files
    (the loader still checks the text: size, NUL bytes, format)."""
    source, text, number, problem = item
    if text is not None or problem is not None or number:
        return item
    try:
        with open(source, "rb") as handle:
            raw = handle.read(MAX_CASE_BYTES + 1)
    except OSError as exc:
        return (source, None, 0, f"{source}: cannot read the case file ({exc.strerror or exc})")
    if len(raw) > MAX_CASE_BYTES:
        return (source, None, 0, f"{source}: the file holds more than {MAX_CASE_BYTES} bytes; case files "
                                  "may not exceed 5 MiB")
    try:
        return (source, raw.decode("utf-8"), 0, None)
    except UnicodeDecodeError as exc:
        return (source, None, 0, f"{source}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                                  f"offset {exc.start} cannot be decoded)")
