"""`warrant batch`: many cases in parallel, one JSON line each."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from engine.cmd.common import echo, handles_errors, kb_option, policy_options
from engine.cmd.progress import progress_meter


class _Jobs(click.ParamType):
    """A number of worker processes (0 or more), or `auto`."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            self.fail(f"{value!r} is not a number of jobs (0 or more) or 'auto'", param, ctx)
        return number


@click.command(epilog="""\b
Examples:
  warrant batch cases/ --jobs 2 -o results.jsonl
  warrant batch requests-2026-*.jsonl --jobs 0 -o results.jsonl --resume
  cat cases.jsonl | warrant batch - --quiet > results.jsonl
  warrant batch cases.jsonl --kb /shared/kb --scheduler tcp://10.0.0.5:8786 -o results.jsonl

\b
Inputs: case files (YAML or JSON), directories (walked in sorted order: *.yaml,
*.yml, *.json, *.jsonl, *.ndjson) and JSON Lines streams (*.jsonl, *.ndjson, or -
for stdin; one case object per line). Output: one JSON line per case, the decision
of `warrant decide --format json`, or an error record
{"source", "case_id", "error": {"code", "messages"}} for a case that cannot be
decided; the run goes on. With --scheduler, cases travel with the tasks, but each
dask worker loads the kb itself: --kb must name the same files at the same path
there (without --kb, each worker's bundled kb; the digest is checked).""")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON lines to this file (default: stdout).")
@click.option("-j", "--jobs", type=_Jobs(), default="1", show_default=True,
              help="Worker processes (0: one per CPU; auto: the CPUs the load average leaves free; "
                   "1: decide in this process).")
@click.option("--resume", is_flag=True,
              help="Skip the inputs already in --output (by path or stream line and content) and append the rest.")
@click.option("--explain", is_flag=True, help="Add each line's proof tree to its decision.")
@click.option("--verdicts-only", "verdicts_only", is_flag=True,
              help="Write each case's stage, admission and line verdicts and bases only: the decision "
                   "without reasons, missing documentation, criteria, proofs or citations (faster).")
@click.option("--order", type=click.Choice(["input", "completion"]), default="input", show_default=True,
              help="input: lines in input order, the same bytes for any --jobs; completion: as decided.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Cases sent to a worker at a time.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on this dask.distributed scheduler (needs the `dask` extra).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on stderr.")
@policy_options
@kb_option
@handles_errors
def batch(paths: tuple[str, ...], output: Path | None, jobs: int | str, resume: bool, explain: bool,
          verdicts_only: bool, order: str,
          chunk_size: int, scheduler: str | None, quiet: bool, policy: str | None, as_of: str | None,
          kb_dir: Path | None) -> None:
    """Decide many cases, in parallel, one JSON line per case."""
    from engine.batch.runner import BatchOptions, count_items, run_batch
    from engine.errors import UsageError

    for path in paths:
        if path != "-" and not os.path.lexists(path):
            raise UsageError(f"no such file or directory: {path}")
    if list(paths).count("-") > 1:
        raise UsageError("standard input (-) can be read once")
    if resume and output is None:
        raise UsageError("--resume needs --output: the file whose cases to skip")
    from engine.decide.policy import parse_as_of

    parse_as_of(as_of)  # a malformed date is a usage error before any case is read
    if explain and verdicts_only:
        raise UsageError("--explain adds proof trees to full decisions; it cannot go with --verdicts-only")
    meter = progress_meter(count_items(paths)) if not quiet and sys.stderr.isatty() else None
    if jobs == "auto":
        from engine.batch.runner import auto_jobs

        jobs = auto_jobs()
    options = BatchOptions(kb_dir=str(kb_dir) if kb_dir else None, jobs=jobs or (os.cpu_count() or 1),
                           explain=explain, verdicts_only=verdicts_only, order=order, chunk_size=chunk_size, scheduler=scheduler,
                           on_progress=meter.update if meter is not None else None, policy=policy,
                           as_of=as_of)
    done = None
    stdin = sys.stdin.buffer
    try:
        if output is None:
            stats = run_batch(paths, sys.stdout.buffer, options, stdin=stdin)
        else:
            done, stats = _run_to_file(paths, output, options, resume, stdin)
    except KeyboardInterrupt:
        if meter is not None:
            meter.close()
        again = " with --resume" if output is not None else " with -o FILE --resume next time"
        echo(f"\nbatch: interrupted; every line written is complete: run the same command{again} "
             "to go on", err=True)
        sys.exit(130)
    if meter is not None:
        meter.close()
    if not quiet:
        kept = f", {stats.skipped} already done" if done is not None else ""
        echo(f"batch: {stats.cases} cases: {stats.decided} decided, {stats.errors} error records{kept} "
             f"in {stats.elapsed:.1f} s ({stats.rate:.0f} cases/s, {_workers(options)})", err=True)


def _workers(options) -> str:
    if options.scheduler:
        return f"dask at {options.scheduler}"
    return "in this process" if options.jobs <= 1 else f"{options.jobs} worker processes"


def _run_to_file(paths, output: Path, options, resume: bool, stdin):
    """Run into OUTPUT with its progress journal (OUTPUT.progress), resuming from them when
    asked; an output that cannot be opened is a usage error (exit 2)."""
    from engine.batch.resume import Journal, cut_back, progress_path, read_done
    from engine.batch.runner import run_batch
    from engine.cmd.common import output_problem
    from engine.errors import UsageError
    from engine.guard.files import open_append

    done = None
    journal_path = progress_path(output)
    if resume and output.exists():
        if not journal_path.exists() and output.stat().st_size:
            raise UsageError(f"{output} has no {journal_path.name} beside it, so which inputs it holds is "
                             "unknown; write to a new file instead of resuming")
        done, keep_out, keep_progress = read_done(output)
        cut_back(output, keep_out, keep_progress)  # drop lines written after the last recorded input
    fresh = not resume
    try:
        out = open_append(output, truncate=fresh)
        journal_handle = open_append(journal_path, truncate=fresh)
    except OSError as exc:
        raise UsageError(output_problem(exc.filename or output, exc)) from None
    with out, journal_handle:
        stats = run_batch(paths, out, options, done=done, stdin=stdin, journal=Journal(journal_handle, out))
    return done, stats


COMMANDS = [batch]
