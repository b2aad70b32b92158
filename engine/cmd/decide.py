"""`warrant decide`: determinations for people and for machines (`warrant report`: engine/cmd/report.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cmd.common import (
    echo,
    emit_json,
    any_denied,
    format_option,
    handles_errors,
    kept,
    kb_option,
    load_kb,
    open_case,
    policy_options,
)


# ---------------------------------------------------------------------------------- decide
@click.command(epilog="""\b
Examples:
  warrant decide kb/examples/reference-case.yaml
  warrant decide case.yaml --format json > decision.json
  warrant decide cases/*.yaml --format json --fail-on-deny""")
@click.argument("cases", nargs=-1, required=True)
@format_option(["text", "json", "markdown", "fhir"])
@click.option("--fail-on-deny", is_flag=True, help="Exit with code 10 when any line is not medically necessary.")
@click.option("--explain", is_flag=True, help="Add each line's proof tree to JSON output.")
@click.option("--ids", is_flag=True, help="Text and Markdown: show identifiers (bases, fields, line ids) too.")
@policy_options
@kb_option
@handles_errors
def decide(cases: tuple[str, ...], fmt: str, fail_on_deny: bool, explain: bool, ids: bool, policy: str | None,
           as_of: str | None, kb_dir: Path | None) -> None:
    """Decide every requested line of one or more cases."""
    from engine.decide.decision import decide as decide_case
    from engine.present.render import decision_markdown, decision_text

    kb = load_kb(kb_dir)
    if fmt == "fhir":  # a FHIR response Bundle per request bundle (fhir commands section)
        return _decide_fhir(kb, cases, fail_on_deny, policy, as_of)
    decisions, words = [], []
    for case in cases:
        if decisions:
            session = open_case(kb, case, policy, as_of)
        else:
            with kept():  # the first case compiles the kb's program into pyDatalog
                session = open_case(kb, case, policy, as_of)
        decisions.append(decide_case(session, explain=explain))
        words.append(session.kb.words)
    for i, decision in enumerate(decisions):
        if fmt == "json":
            emit_json(decision, indent=None if len(decisions) > 1 else 2)
        elif fmt == "markdown":
            echo(("\n" if i else "") + decision_markdown(decision, words[i], ids), nl=False)
        else:
            echo(("\n" if i else "") + decision_text(decision, words[i], ids), nl=False)
    if fail_on_deny and any_denied(kb, decisions):
        sys.exit(10)



def _decide_fhir(kb, cases: tuple[str, ...], fail_on_deny: bool, policy: str | None, as_of: str | None) -> None:
    """`warrant decide BUNDLE --format fhir`: one response Bundle per request bundle."""
    from engine.decide.decision import decide as decide_case
    from engine.errors import UsageError
    from engine.fhir.respond import respond

    answers = []
    denied = False
    for case in cases:
        session = open_case(kb, case, policy, as_of)
        if session.imported is None:
            raise UsageError(f"{case}: --format fhir answers FHIR bundles, and this is a warrant-case "
                             "file; use --format json")
        decision = decide_case(session)
        denied = denied or any_denied(kb, [decision])
        answers.append(respond(decision, session.imported, session.lines, case_schema=kb.case_schema, kb_root=kb.root))
    for answer in answers:
        emit_json(answer, indent=None if len(answers) > 1 else 2)
    if fail_on_deny and denied:
        sys.exit(10)


COMMANDS = [decide]
