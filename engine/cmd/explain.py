"""`warrant why`, `why-not` and `shell`: proofs, failure trees and interactive questions."""
from __future__ import annotations

from pathlib import Path

import click

from engine.cmd.common import (
    echo,
    FORMATS_DATA,
    emit_json,
    format_option,
    handles_errors,
    kb_option,
    line_options,
    load_kb,
    open_case,
    target_verdict,
    trim_tree,
)


@click.command(epilog="""\b
Examples:
  warrant why kb/examples/reference-case.yaml 22558 --level L2-3
  warrant why case.yaml 22633 --level L4-5 --format json --depth 3
  warrant why case.yaml --proof 3f2a9c0d1b7e4a55""")
@click.argument("case")
@click.argument("code", required=False)
@line_options
@click.option("--proof", "proof_id", default=None, help="Open the proof with this id (from decide's JSON).")
@click.option("--depth", type=int, default=None, help="Show at most this many levels of the tree.")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def why(case: str, code: str | None, level: str | None, side: str | None, stage: int | None,
        proof_id: str | None, depth: int | None, fmt: str, kb_dir: Path | None) -> None:
    """Prove a line's verdict, from the verdict down to the case facts."""
    from engine.decide.decision import (
        LINE_VERDICT,
        find_line,
        line_verdict,
        proof_index,
    )
    from engine.decide.decision import decide as decide_case
    from engine.errors import UsageError
    from engine.present.render import tree_text

    session = open_case(load_kb(kb_dir), case)
    if proof_id:
        index = proof_index(session, decide_case(session))
        if proof_id not in index:
            raise UsageError(f"no proof {proof_id} in the decision of case {session.case_id}")
        key, row = index[proof_id]
    elif code:
        line = find_line(session, code, level, side, stage)
        key, row = LINE_VERDICT, (line.id, *line_verdict(session, line))
    else:
        raise UsageError("name a line (CODE with --level/--side/--stage) or give --proof ID")
    tree = session.explainer.why(key, row).to_dict()
    if fmt == "json":
        emit_json(trim_tree(tree, depth))
    else:
        echo(tree_text(tree, depth), nl=False)


@click.command("why-not", epilog="""\b
Examples:
  warrant why-not kb/examples/reference-case.yaml 22633 --level L4-5
  warrant why-not case.yaml 27280 --side right --format json
  warrant why-not case.yaml 22558 --level L2-3 --verdict cannot_be_determined""")
@click.argument("case")
@click.argument("code")
@line_options
@click.option("--verdict", default=None,
              help="The verdict to explain the absence of (default: the kb's positive verdict, "
                   "medically_necessary in the bundled kb).")
@click.option("--depth", type=int, default=None, help="Show at most this many levels of the tree.")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def why_not(case: str, code: str, level: str | None, side: str | None, stage: int | None, verdict: str,
            depth: int | None, fmt: str, kb_dir: Path | None) -> None:
    """Explain why a line does not get a verdict: every rule, every failed condition, what to document."""
    from engine.decide.decision import find_line, line_verdict
    from engine.decide.whynot import explain_absence
    from engine.present.render import why_not_text

    kb = load_kb(kb_dir)
    verdict = target_verdict(kb, verdict)
    session = open_case(kb, case)
    line = find_line(session, code, level, side, stage)
    actual = line_verdict(session, line)
    result = explain_absence(session, line, verdict, actual)
    if fmt == "json":
        if result.get("tree"):
            result["tree"] = trim_tree(result["tree"], depth)
        emit_json(result)
        return
    echo(why_not_text(result, depth), nl=False)


@click.command(epilog="""\b
Examples:
  warrant shell kb/examples/reference-case.yaml
  printf '?- line_verdict(L, V, B).\\nwhy 22558 L2-3\\n' | warrant shell case.yaml""")
@click.argument("case")
@kb_option
@handles_errors
def shell(case: str, kb_dir: Path | None) -> None:
    """Explore a case interactively: ?- goals, why, why-not, decide, facts, rules."""
    from engine.present.shell import run_shell

    run_shell(open_case(load_kb(kb_dir), case))


COMMANDS = [why, why_not, shell]
