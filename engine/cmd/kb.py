"""Commands about the knowledge base itself and ad hoc questions: check, rules, query, facts,
export, schema."""
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
    load_kb,
    open_case,
    policy_options,
    write_output,
)


@click.command(epilog="""\b
Examples:
  warrant check
  warrant check --kb my-policy/""")
@kb_option
@handles_errors
def check(kb_dir: Path | None) -> None:
    """Lint the knowledge base: syntax, arity, definitions, safety, stratification, annotations,
    `%@ field` paths and constants against the case schema, and the FHIR map's targets."""
    from engine.errors import RuleError
    from engine.knowledge.base import KnowledgeBase

    kb = KnowledgeBase.load(kb_dir, use_cache=False)
    if (kb.root / "fhir-map.yaml").is_file():
        from engine.fhir.mapping import load_map
        from engine.fhir.targets import check_map

        problems = check_map(load_map(kb.root), kb.case_schema)
        if problems:
            raise RuleError(problems)
    for warning in kb.warnings:
        echo(str(warning), err=True)
    rules = sum(1 for c in kb.program.clauses if not c.is_fact)
    facts = sum(1 for c in kb.program.clauses if c.is_fact)
    echo(f"ok: {rules} rules, {facts} facts, {len(kb.program.decls)} declared predicates, "
               f"{len(kb.warnings)} warnings ({kb.digest})", err=True)
    _check_policies(kb)


def _check_policies(kb) -> None:
    """Every policy version of the table, built from its overlays and checked like the base
    (an overlay that replaces what its base lacks fails here, at its `replaces` line)."""
    from engine.errors import RuleError
    from engine.knowledge.base import KnowledgeBase

    findings = []
    for version in kb.policy_table.versions:
        if version.is_base:
            echo(f"ok: policy {version.key} is the knowledge base itself", err=True)
            continue
        try:
            loaded = KnowledgeBase.load(kb.root, policy=version, use_cache=False)
        except RuleError as exc:
            findings += exc.findings
            continue
        for warning in loaded.warnings:
            echo(str(warning), err=True)
        replaced = sum(1 for c in loaded.changes if c.kind == "replaces")
        echo(f"ok: policy {version.key}: {len(loaded.changes) - replaced} clauses added, {replaced} replaced "
             f"({loaded.digest})", err=True)
    if findings:
        raise RuleError(findings)


@click.command(epilog="""\b
Examples:
  warrant rules
  warrant rules --format json | jq '.[] | select(.citations | index("aans-cns-2014"))'""")
@format_option(FORMATS_DATA)
@click.option("--policy", default=None, metavar="ID[@VERSION]",
              help="List this policy's effective rules (its base with its overlays applied), each with "
                   "its file, and the constants its overlays set.")
@kb_option
@handles_errors
def rules(fmt: str, policy: str | None, kb_dir: Path | None) -> None:
    """List the rules: ids, heads, citations and sentences (and the file each comes from)."""
    kb = load_kb(kb_dir)
    if policy:
        kb = _policy_kb(kb, policy)
    items = [{"id": c.meta.id, "head": str(c.head), "citations": list(c.meta.cites), "says": c.meta.says,
              "location": str(c.loc)} for c in kb.program.clauses if c.meta]
    if policy:
        items += [{"id": c.meta.id if c.meta else "", "head": str(c.clause.head), "citations": [],
                   "says": f"replaces {c.replaced}", "location": str(c.clause.loc)}
                  for c in kb.changes if c.is_constant and c.kind == "replaces"]
    if fmt == "json":
        emit_json(items)
        return
    for item in items:
        cites = f"  [{', '.join(item['citations'])}]" if item["citations"] else ""
        where = f"\n    {item['location']}" if policy else ""
        echo(f"{item['id']}{cites}\n    {item['head']}\n    {item['says']}{where}")


def _policy_kb(kb, policy: str):
    """One policy version's program; an unknown id or version is a usage error (exit 2)."""
    from engine.errors import UsageError
    from engine.knowledge.policies import PolicyChoiceError

    try:
        return kb.for_policy(kb.policy_table.get(policy))
    except PolicyChoiceError as exc:
        raise UsageError(f"--policy: {exc}") from None


@click.command(epilog="""\b
Examples:
  warrant query kb/examples/reference-case.yaml 'line_verdict(L, V, B)'
  warrant query case.yaml 'criterion_met(L, C), \\+ criterion_unmet(L, C)' --format json""")
@click.argument("case")
@click.argument("goal")
@format_option(FORMATS_DATA)
@policy_options
@kb_option
@handles_errors
def query(case: str, goal: str, fmt: str, policy: str | None, as_of: str | None, kb_dir: Path | None) -> None:
    """Answer an ad hoc goal over a case's facts (parsed by Warrant, never evaluated as Python),
    under the policy of the case's first stage (pin another with --policy ID@VERSION)."""
    from engine.errors import RuleError, UsageError
    from engine.present.render import answers_text

    session = open_case(load_kb(kb_dir), case, policy, as_of)
    try:
        answers = session.ask(goal)
    except RuleError as exc:  # the goal is the user's input, not the kb's: a usage error (exit 2)
        raise UsageError(exc.messages[0], findings=exc.findings) from None
    if fmt == "json":
        emit_json(answers)
        return
    echo(answers_text(answers), nl=False)
    if answers and answers[0]:
        echo(f"({len(answers)} answer{'s' if len(answers) != 1 else ''})", err=True)


@click.command(epilog="""\b
Examples:
  warrant facts kb/examples/reference-case.yaml
  warrant facts case.yaml --format json""")
@click.argument("case")
@format_option(["prolog", "json"], default="prolog")
@kb_option
@handles_errors
def facts(case: str, fmt: str, kb_dir: Path | None) -> None:
    """Show the base facts a case file yields (Prolog text or JSON)."""
    from engine.present.prolog import export_facts

    session = open_case(load_kb(kb_dir), case)
    if fmt == "json":
        emit_json({f"{p}/{n}": [list(r) for r in rows] for (p, n), rows in sorted(session.facts.items())})
    else:
        echo(export_facts(session.facts), nl=False)


@click.command(epilog="""\b
Examples:
  warrant export --prolog -o policy.pl
  warrant facts case.yaml > case.pl && swipl -q policy.pl case.pl -g 'forall(line_verdict(L,V,B), writeln(L-V-B))' -t halt""")
@click.option("--prolog", "as_prolog", is_flag=True,
              help="Export as SWI-Prolog text (the only export format, so the flag may be left out).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.option("--policy", default=None, metavar="ID[@VERSION]",
              help="Export this policy version (its base with its overlays applied); default: the base.")
@kb_option
@handles_errors
def export(as_prolog: bool, output: Path | None, policy: str | None, kb_dir: Path | None) -> None:
    """Export the knowledge base (or one policy version) as a Prolog program SWI-Prolog can consult."""
    from engine.present.prolog import export_program

    kb = load_kb(kb_dir)
    title = f"Warrant knowledge base {kb.version} ({kb.digest})"
    if policy:
        kb = _policy_kb(kb, policy)
        title = f"Warrant knowledge base {kb.version}, policy {kb.policy.key} ({kb.digest})"
    text = export_program(kb.program, title)
    write_output(output, text)


@click.command(epilog="""\b
Examples:
  warrant schema > warrant-case.schema.json
  warrant schema --format markdown > docs/case-fields.md""")
@format_option(["json", "markdown"], default="json")
@kb_option
@handles_errors
def schema(fmt: str, kb_dir: Path | None) -> None:
    """Print the case format of the knowledge base (kb/case-schema.yaml): a JSON Schema for
    editors and validators, or a Markdown field reference."""
    kb = load_kb(kb_dir)
    if fmt == "markdown":
        from engine.present.schemadoc import case_fields_markdown

        click.echo(case_fields_markdown(kb.case_schema), nl=False)
        return
    from engine.cases import case_json_schema

    emit_json(case_json_schema(kb))


COMMANDS = [check, rules, query, facts, export, schema]
