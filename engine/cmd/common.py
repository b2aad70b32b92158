"""What every command shares: error handling and exit codes, the options that mean the same
thing everywhere (--kb, --format, line selection), and how data reaches stdout or a file."""
from __future__ import annotations

import functools
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from engine.errors import WarrantError

FORMATS_DATA = ["text", "json"]


def echo(message: Any = "", **options: Any) -> None:
    """`click.echo` for text Warrant laid out: newlines and tabs stay, any other control
    character a value smuggled in is shown escaped (values are also escaped one by one)."""
    from engine.guard.text import terminal_block

    click.echo(terminal_block(str(message)), **options)


def _fail(exc: WarrantError) -> None:
    from engine.guard.text import terminal

    for message in exc.messages:
        click.echo(terminal(message), err=True)
    sys.exit(exc.exit_code)


def handles_errors(func: Callable) -> Callable:
    """Turn Warrant errors into messages on stderr and documented exit codes, never tracebacks."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except WarrantError as exc:
            _fail(exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:
            sys.exit(0)
        except Exception as exc:  # an unexpected failure: one line, exit 1, traceback on request
            if os.environ.get("WARRANT_DEBUG"):
                raise
            from engine.guard.text import excerpt

            click.echo(f"warrant: unexpected failure: {type(exc).__name__}: {excerpt(exc, 200, quote=False)} "
                       "(set WARRANT_DEBUG=1 for the traceback)", err=True)
            sys.exit(1)
    return wrapper


def kb_option(func: Callable) -> Callable:
    return click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        envvar="WARRANT_KB", help="Knowledge base directory (default: the bundled kb).")(func)


def format_option(choices: list[str], default: str = "text") -> Callable:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def load_kb(kb_dir: Path | None):
    """The kb of a command (its objects kept from the collector: see `kept`)."""
    from engine.knowledge.base import KnowledgeBase

    with kept():
        return KnowledgeBase.load(kb_dir)


@contextmanager
def kept() -> Iterator[None]:
    """Build what lives as long as the command — the kb, its compiled program — with the cyclic
    collector off, then move it out of the collector's reach (`gc.freeze`): no collection,
    including the ones at exit, walks those objects, and none runs while they are built."""
    import gc

    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if running:
            gc.enable()


def policy_options(func: Callable) -> Callable:
    """`--policy ID|ID@VERSION` and `--as-of DATE` (POLICIES.md section 4), for every command that decides."""
    func = click.option("--as-of", "as_of", default=None, metavar="DATE",
                        help="Choose policy versions as of this day (YYYY-MM-DD) instead of the case's "
                             "dates of service, its received date or today.")(func)
    return click.option("--policy", "policy", default=None, metavar="ID[@VERSION]",
                        help="Decide under this policy (kb/policies.yaml), instead of the case's own or the "
                             "default; ID@VERSION pins a version whatever the dates.")(func)


def open_case(kb, case: str, policy: str | None = None, as_of: str | None = None):
    """The session of a case argument: a file, a FHIR bundle, or `-` for standard input, under
    the policy versions `--policy`, `--as-of` and the case's own fields choose."""
    from engine.decide.policy import parse_as_of
    from engine.inputs import open_session

    when = parse_as_of(as_of)

    if case == "-":  # read at most one byte past the case size limit, so the loader refuses it
        from engine.guard.limits import LIMITS

        raw = click.get_binary_stream("stdin").read(LIMITS.case_bytes + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            from engine.cases.positions import fail

            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            raise fail("<stdin>", f"the input is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be "
                       "decoded)", line, column) from None
        return open_session(kb, "<stdin>", text=text, policy=policy, as_of=when)
    return open_session(kb, case, policy=policy, as_of=when)


def line_session(session, line):
    """The session of the policy version that decides `line`'s stage, and the line in it."""
    part = session.for_stage(line.stage)
    return part, next((ln for ln in part.lines if ln.id == line.id), line)


def emit_json(data: Any, indent: int | None = 2) -> None:
    """JSON on stdout: C0 controls escaped by json, C1 and bidirectional controls by us."""
    from engine.guard.text import dumps

    click.echo(dumps(data, indent=indent, sort_keys=False))


def emit_report(result: dict[str, Any], fmt: str, as_text: Callable, as_markdown: Callable) -> None:
    """A corpus report as JSON, Markdown or text; cases that could not be read make the exit code 3."""
    if fmt == "json":
        emit_json(result)
    else:
        echo((as_markdown if fmt == "markdown" else as_text)(result), nl=False)
    if result["errors"]:
        sys.exit(3)



def any_denied(kb, decisions: list[dict[str, Any]]) -> bool:
    """Whether some line of some decision has the kb's negative verdict (for --fail-on-deny)."""
    negative = kb.verdicts["negative"]
    return any(line["verdict"] == negative for d in decisions for s in d["stages"] for line in s["lines"])


def target_verdict(kb, verdict: str | None) -> str:
    """--verdict, checked against the kb's verdicts; by default the kb's positive verdict."""
    from engine.errors import UsageError

    if verdict is None:
        return kb.verdicts["positive"]
    if verdict not in kb.verdicts.values():
        raise UsageError(f"--verdict {verdict!r} is not a verdict of this knowledge base; choose one of "
                         f"{', '.join(kb.verdicts.values())}")
    return verdict

def line_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--level", default=None, help="Spinal level of the line (L4-5, L4-L5, L4/5...)."),
        click.option("--side", default=None, metavar="SIDE",
                     help="Side of the line, as the case's lines name it (left, right)."),
        click.option("--stage", type=int, default=None, help="Stage of the line."),
    ]):
        func = option(func)
    return func

def trim_tree(tree: dict, depth: int | None) -> dict:
    if depth is None:
        return tree
    out = {k: v for k, v in tree.items() if k != "children"}
    if depth > 0 and tree.get("children"):
        out["children"] = [trim_tree(c, depth - 1) for c in tree["children"]]
    return out

def write_output(output: Path | None, data: str | bytes) -> None:
    """Write to stdout, or all or nothing to a file (`engine.guard.files.write_atomic`: an
    unpredictable temporary file beside it, renamed into place). An output path that cannot be
    written (a missing or read-only folder, a device, a FIFO) is a usage error, exit 2, and no
    temporary file is left."""
    from engine.errors import UsageError
    from engine.guard.files import write_atomic

    if output is None:
        if isinstance(data, bytes):
            stream = click.get_binary_stream("stdout")
            stream.write(data)
            stream.flush()
        else:
            echo(data, nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as exc:
        raise UsageError(output_problem(output, exc)) from None


def output_problem(output: Path | str, exc: OSError) -> str:
    """The words for an output that cannot be written (the path escaped for the terminal)."""
    from engine.guard.text import terminal

    return f"cannot write {terminal(str(output))}: {exc.strerror or exc}"
