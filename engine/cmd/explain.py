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
    line_session,
    open_case,
    policy_options,
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
@click.option("--ids", is_flag=True, help="Show identifiers (terms, rule ids, case fields) beside the words.")
@format_option(FORMATS_DATA)
@policy_options
@kb_option
@handles_errors
def why(case: str, code: str | None, level: str | None, side: str | None, stage: int | None,
        proof_id: str | None, depth: int | None, ids: bool, fmt: str, policy: str | None, as_of: str | None,
        kb_dir: Path | None) -> None:
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

    session = open_case(load_kb(kb_dir), case, policy, as_of)
    if proof_id:
        session, (key, row) = _proof(session, proof_id)
    elif code:
        session, line = line_session(session, find_line(session, code, level, side, stage))
        key, row = LINE_VERDICT, (line.id, *line_verdict(session, line))
    else:
        raise UsageError("name a line (CODE with --level/--side/--stage) or give --proof ID")
    tree = session.explainer.why(key, row).to_dict()
    if fmt == "json":
        emit_json(trim_tree(tree, depth))
    else:
        echo(tree_text(tree, depth, ids), nl=False)


@click.command("why-not", epilog="""\b
Examples:
  warrant why-not kb/examples/reference-case.yaml 22633 --level L4-5
  warrant why-not case.yaml 22633 --level L4-5 --max-size 7
  warrant why-not case.yaml 27280 --side right --format json
  warrant why-not case.yaml 22558 --level L2-3 --tree --ids
  warrant why-not case.yaml 22558 --level L2-3 --verdict cannot_be_determined
\b
The answer comes first: the verdict, what stands in the way (each criterion with what the
policy asks and what is missing or contradicts it), and the smallest sets of documentation that
would give the verdict, any one of which is enough. Each set is checked against the rules;
`what-if --set FIELD=VALUE` applies it (the JSON gives each fact's field and witness value).""")
@click.argument("case")
@click.argument("code")
@line_options
@click.option("--verdict", default=None,
              help="The verdict to explain the absence of (default: the kb's positive verdict, "
                   "medically_necessary in the bundled kb).")
@click.option("--max-size", type=click.IntRange(1, 12), default=3, show_default=True,
              help="Largest documentation set to search (facts per set).")
@click.option("--tree", "show_tree", is_flag=True, help="Also show every rule and every failed condition.")
@click.option("--depth", type=int, default=None, help="With --tree: show at most this many levels.")
@click.option("--ids", is_flag=True, help="Show identifiers (criteria, case fields, line ids) beside the words.")
@format_option(FORMATS_DATA)
@policy_options
@kb_option
@handles_errors
def why_not(case: str, code: str, level: str | None, side: str | None, stage: int | None, verdict: str,
            max_size: int, show_tree: bool, depth: int | None, ids: bool, fmt: str, policy: str | None,
            as_of: str | None, kb_dir: Path | None) -> None:
    """Why a line does not get a verdict, and the smallest documentation that would give it."""
    from engine.decide.decision import find_line, line_verdict
    from engine.decide.whynot import explain_absence
    from engine.present.explanations import why_not_text

    kb = load_kb(kb_dir)
    verdict = target_verdict(kb, verdict)
    session = open_case(kb, case, policy, as_of)
    session, line = line_session(session, find_line(session, code, level, side, stage))
    actual = line_verdict(session, line)
    result = explain_absence(session, line, verdict, actual, max_size=max_size, tree=show_tree or fmt == "json")
    if fmt == "json":
        if result.get("tree"):
            result["tree"] = trim_tree(result["tree"], depth)
        emit_json(result)
        return
    echo(why_not_text(result, depth, ids, show_tree), nl=False)


@click.command(epilog="""\b
Examples:
  warrant shell kb/examples/reference-case.yaml
  printf '?- line_verdict(L, V, B).\\nwhy 22558 L2-3\\n' | warrant shell case.yaml""")
@click.argument("case")
@policy_options
@kb_option
@handles_errors
def shell(case: str, policy: str | None, as_of: str | None, kb_dir: Path | None) -> None:
    """Explore a case interactively: ?- goals, why, why-not, decide, facts, rules (under the
    policy of the case's first stage; pin another with --policy ID@VERSION)."""
    from engine.present.shell import run_shell

    run_shell(open_case(load_kb(kb_dir), case, policy, as_of))


def _proof(session, proof_id: str):
    """The session and conclusion of a proof id of the case's decision (under any of its policies)."""
    from engine.decide.decision import decide as decide_case
    from engine.decide.decision import proof_index
    from engine.errors import UsageError

    for part in list(session.parts.values()) or [session]:
        index = proof_index(part, decide_case(part))
        if proof_id in index:
            return part, index[proof_id]
    raise UsageError(f"no proof {proof_id} in the decision of case {session.case_id}")


COMMANDS = [why, why_not, shell]
