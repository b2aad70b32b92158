"""`warrant`: the command line. Parses arguments, calls engine/ and graphs/, formats output."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from engine.errors import WarrantError

FORMATS_DATA = ["text", "json"]


def _fail(exc: WarrantError) -> None:
    for message in exc.messages:
        click.echo(message, err=True)
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
            click.echo(f"warrant: unexpected failure: {type(exc).__name__}: {exc} "
                       "(set WARRANT_DEBUG=1 for the traceback)", err=True)
            sys.exit(1)
    return wrapper


def kb_option(func: Callable) -> Callable:
    return click.option("--kb", "kb_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        envvar="WARRANT_KB", help="Knowledge base directory (default: the bundled kb).")(func)


def format_option(choices: list[str], default: str = "text") -> Callable:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def _kb(kb_dir: Path | None):
    from engine.knowledge import KnowledgeBase

    return KnowledgeBase.load(kb_dir)


def _session(kb, case: str):
    from engine.session import CaseSession

    if case == "-":
        return CaseSession.open(kb, "<stdin>", text=sys.stdin.read())
    return CaseSession.open(kb, case)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def _emit_report(result: dict[str, Any], fmt: str, as_text: Callable, as_markdown: Callable) -> None:
    """A corpus report as JSON, Markdown or text; cases that could not be read make the exit code 3."""
    if fmt == "json":
        _emit_json(result)
    else:
        click.echo((as_markdown if fmt == "markdown" else as_text)(result), nl=False)
    if result["errors"]:
        sys.exit(3)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="warrant")
def main() -> None:
    """Warrant: medical-necessity determinations for spine surgery, with proofs.

    \b
    Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 invalid case or bundle,
    4 knowledge-base error, 5 rule tests failed, 6 renderer missing, 10 --fail-on-deny hit.
    """


# ---------------------------------------------------------------------------------- decide
@main.command(epilog="""\b
Examples:
  warrant decide kb/examples/reference-case.yaml
  warrant decide case.yaml --format json > decision.json
  warrant decide cases/*.yaml --format json --fail-on-deny""")
@click.argument("cases", nargs=-1, required=True)
@format_option(["text", "json", "markdown", "fhir"])
@click.option("--fail-on-deny", is_flag=True, help="Exit with code 10 when any line is not medically necessary.")
@click.option("--explain", is_flag=True, help="Add each line's proof tree to JSON output.")
@kb_option
@handles_errors
def decide(cases: tuple[str, ...], fmt: str, fail_on_deny: bool, explain: bool, kb_dir: Path | None) -> None:
    """Decide every requested line of one or more cases."""
    from engine.decision import decide as decide_case
    from engine.render import decision_markdown, decision_text

    kb = _kb(kb_dir)
    if fmt == "fhir":  # a FHIR response Bundle per request bundle (fhir commands section)
        return _decide_fhir(kb, cases, fail_on_deny)
    decisions = []
    for case in cases:
        decisions.append(decide_case(_session(kb, case), explain=explain))
    for i, decision in enumerate(decisions):
        if fmt == "json":
            text = json.dumps(decision, ensure_ascii=False, indent=None if len(decisions) > 1 else 2)
            click.echo(text)
        elif fmt == "markdown":
            from engine.report import report_words

            click.echo(("\n" if i else "") + decision_markdown(decision, report_words(kb).get("verdicts")), nl=False)
        else:
            click.echo(("\n" if i else "") + decision_text(decision), nl=False)
    if fail_on_deny and _any_denied(kb, decisions):
        sys.exit(10)


def _any_denied(kb, decisions: list[dict[str, Any]]) -> bool:
    """Whether some line of some decision has the kb's negative verdict (for --fail-on-deny)."""
    negative = kb.verdicts["negative"]
    return any(line["verdict"] == negative for d in decisions for s in d["stages"] for line in s["lines"])


def _target_verdict(kb, verdict: str | None) -> str:
    """--verdict, checked against the kb's verdicts; by default the kb's positive verdict."""
    from engine.errors import UsageError

    if verdict is None:
        return kb.verdicts["positive"]
    if verdict not in kb.verdicts.values():
        raise UsageError(f"--verdict {verdict!r} is not a verdict of this knowledge base; choose one of "
                         f"{', '.join(kb.verdicts.values())}")
    return verdict


@main.command(epilog="""\b
Examples:
  warrant report kb/examples/reference-case.yaml
  warrant report case.yaml --format html -o determination.html""")
@click.argument("case")
@format_option(["markdown", "html"], default="markdown")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout (written whole or not at all).")
@kb_option
@handles_errors
def report(case: str, fmt: str, output: Path | None, kb_dir: Path | None) -> None:
    """Write a reviewer-style determination: verdicts, reasons, citations, actions."""
    from engine.decision import decide as decide_case
    from engine.report import render_report

    kb = _kb(kb_dir)
    _write(output, render_report(decide_case(_session(kb, case)), kb, fmt))


# ---------------------------------------------------------------------------------- explanations
def line_options(func: Callable) -> Callable:
    for option in reversed([
        click.option("--level", default=None, help="Spinal level of the line (L4-5, L4-L5, L4/5...)."),
        click.option("--side", type=click.Choice(["left", "right"]), default=None, help="Side of the line."),
        click.option("--stage", type=int, default=None, help="Stage of the line."),
    ]):
        func = option(func)
    return func


@main.command(epilog="""\b
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
    from engine.decision import LINE_VERDICT, decide as decide_case, find_line, line_verdict, proof_index
    from engine.errors import UsageError
    from engine.render import tree_text

    session = _session(_kb(kb_dir), case)
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
        _emit_json(_trim(tree, depth))
    else:
        click.echo(tree_text(tree, depth), nl=False)


def _trim(tree: dict, depth: int | None) -> dict:
    if depth is None:
        return tree
    out = {k: v for k, v in tree.items() if k != "children"}
    if depth > 0 and tree.get("children"):
        out["children"] = [_trim(c, depth - 1) for c in tree["children"]]
    return out


@main.command("why-not", epilog="""\b
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
    from engine.decision import find_line, line_verdict
    from engine.render import why_not_text
    from engine.whynot import explain_absence

    kb = _kb(kb_dir)
    verdict = _target_verdict(kb, verdict)
    session = _session(kb, case)
    line = find_line(session, code, level, side, stage)
    actual = line_verdict(session, line)
    result = explain_absence(session, line, verdict, actual)
    if fmt == "json":
        if result.get("tree"):
            result["tree"] = _trim(result["tree"], depth)
        _emit_json(result)
        return
    click.echo(why_not_text(result, depth), nl=False)


@main.command(epilog="""\b
Examples:
  warrant shell kb/examples/reference-case.yaml
  printf '?- line_verdict(L, V, B).\\nwhy 22558 L2-3\\n' | warrant shell case.yaml""")
@click.argument("case")
@kb_option
@handles_errors
def shell(case: str, kb_dir: Path | None) -> None:
    """Explore a case interactively: ?- goals, why, why-not, decide, facts, rules."""
    from engine.shell import run_shell

    run_shell(_session(_kb(kb_dir), case))


# ---------------------------------------------------------------------------------- rules
@main.command(epilog="""\b
Examples:
  warrant check
  warrant check --kb my-policy/""")
@kb_option
@handles_errors
def check(kb_dir: Path | None) -> None:
    """Lint the knowledge base: syntax, arity, definitions, safety, stratification, annotations."""
    from engine.knowledge import KnowledgeBase

    kb = KnowledgeBase.load(kb_dir, use_cache=False)
    for warning in kb.warnings:
        click.echo(str(warning), err=True)
    rules = sum(1 for c in kb.program.clauses if not c.is_fact)
    facts = sum(1 for c in kb.program.clauses if c.is_fact)
    click.echo(f"ok: {rules} rules, {facts} facts, {len(kb.program.decls)} declared predicates, "
               f"{len(kb.warnings)} warnings ({kb.digest})", err=True)


@main.command(epilog="""\b
Examples:
  warrant rules
  warrant rules --format json | jq '.[] | select(.citations | index("aans-cns-2014"))'""")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def rules(fmt: str, kb_dir: Path | None) -> None:
    """List the rules: ids, heads, citations and sentences."""
    kb = _kb(kb_dir)
    items = [{"id": c.meta.id, "head": str(c.head), "citations": list(c.meta.cites), "says": c.meta.says,
              "location": str(c.loc)} for c in kb.program.clauses if c.meta]
    if fmt == "json":
        _emit_json(items)
        return
    for item in items:
        cites = f"  [{', '.join(item['citations'])}]" if item["citations"] else ""
        click.echo(f"{item['id']}{cites}\n    {item['head']}\n    {item['says']}")


@main.command(epilog="""\b
Examples:
  warrant query kb/examples/reference-case.yaml 'line_verdict(L, V, B)'
  warrant query case.yaml 'criterion_met(L, C), \\+ criterion_unmet(L, C)' --format json""")
@click.argument("case")
@click.argument("goal")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def query(case: str, goal: str, fmt: str, kb_dir: Path | None) -> None:
    """Answer an ad hoc goal over a case's facts (parsed by Warrant, never evaluated as Python)."""
    from engine.errors import RuleError, UsageError
    from engine.render import answers_text

    session = _session(_kb(kb_dir), case)
    try:
        answers = session.ask(goal)
    except RuleError as exc:  # the goal is the user's input, not the kb's: a usage error (exit 2)
        raise UsageError(exc.messages[0], findings=exc.findings) from None
    if fmt == "json":
        _emit_json(answers)
        return
    click.echo(answers_text(answers), nl=False)
    if answers and answers[0]:
        click.echo(f"({len(answers)} answer{'s' if len(answers) != 1 else ''})", err=True)


@main.command(epilog="""\b
Examples:
  warrant facts kb/examples/reference-case.yaml
  warrant facts case.yaml --format json""")
@click.argument("case")
@format_option(["prolog", "json"], default="prolog")
@kb_option
@handles_errors
def facts(case: str, fmt: str, kb_dir: Path | None) -> None:
    """Show the base facts a case file yields (Prolog text or JSON)."""
    from engine.prolog import export_facts

    session = _session(_kb(kb_dir), case)
    if fmt == "json":
        _emit_json({f"{p}/{n}": [list(r) for r in rows] for (p, n), rows in sorted(session.facts.items())})
    else:
        click.echo(export_facts(session.facts), nl=False)


@main.command(epilog="""\b
Examples:
  warrant export --prolog -o policy.pl
  warrant facts case.yaml > case.pl && swipl -q policy.pl case.pl -g 'forall(line_verdict(L,V,B), writeln(L-V-B))' -t halt""")
@click.option("--prolog", "as_prolog", is_flag=True,
              help="Export as SWI-Prolog text (the only export format, so the flag may be left out).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@kb_option
@handles_errors
def export(as_prolog: bool, output: Path | None, kb_dir: Path | None) -> None:
    """Export the knowledge base as a Prolog program SWI-Prolog can consult."""
    from engine.prolog import export_program

    kb = _kb(kb_dir)
    text = export_program(kb.program, f"Warrant knowledge base {kb.version} ({kb.digest})")
    _write(output, text)


def _write(output: Path | None, data: str | bytes) -> None:
    """Write to stdout, or all or nothing to a file (a temporary file renamed into place); an
    output path that cannot be written is a usage error, and no temporary file is left."""
    from engine.errors import UsageError

    if output is None:
        if isinstance(data, bytes):
            stream = click.get_binary_stream("stdout")
            stream.write(data)
            stream.flush()
        else:
            click.echo(data, nl=False)
        return
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


@main.command(epilog="""\b
Examples:
  warrant schema > warrant-case.schema.json""")
@handles_errors
def schema() -> None:
    """Print the JSON Schema of case files (warrant-case/1) for editors and validators."""
    from engine.case import case_json_schema

    _emit_json(case_json_schema())


# ---- authoring commands (begin)
@main.command("test", epilog="""\b
Examples:
  warrant test
  warrant test kb/tests/fusion-met.yaml kb/tests/si-joint-unmet.yaml
  warrant test --coverage
  warrant test --threshold 100 --kb my-policy/
  warrant test --format json > results.json""")
@click.argument("paths", nargs=-1)
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Report which rules fired and which criterion states the tests saw.")
@click.option("--threshold", type=click.FloatRange(0, 100), default=None, metavar="PERCENT",
              help="Fail (exit 5) when fewer than PERCENT of the rules fired in some test.")
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def rule_tests(paths: tuple[str, ...], show_coverage: bool, threshold: float | None, verbose: bool, fmt: str,
               kb_dir: Path | None) -> None:
    """Run rule tests (default: the tests/ folder of the knowledge base); exit 5 on any failure."""
    from engine.coverage import Coverage
    from engine.errors import UsageError
    from engine.ruletest import failure_text, rule_test_files, run_rule_tests

    kb = _kb(kb_dir)
    files = rule_test_files(paths or [kb.root / "tests"])
    if not files:
        raise UsageError(f"no rule tests (*.yaml) in {', '.join(paths) or str(kb.root / 'tests')}")
    coverage = Coverage.for_program(kb.program) if show_coverage or threshold is not None else None
    results = run_rule_tests(kb, files, coverage)
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    closing = f"{passed} passed, {failed} failed"
    below = coverage is not None and threshold is not None and coverage.rule_percent < threshold
    if fmt == "json":
        data: dict[str, Any] = {"tests": [r.to_dict() for r in results], "passed": passed, "failed": failed}
        if coverage is not None:
            data["coverage"] = coverage.to_dict()
            if threshold is not None:
                data["coverage"]["threshold"] = threshold
        _emit_json(data)
        click.echo(closing, err=True)
    else:
        for result in results:
            if not result.passed:
                click.echo(failure_text(result))
            elif verbose:
                click.echo(f"ok   {result.path}: {result.name}")
        if coverage is not None:
            if verbose or failed:
                click.echo("")
            click.echo(coverage.text())
        if below:
            click.echo(f"rule coverage {coverage.rule_percent:.1f}% is below the threshold {threshold:g}%; "
                       "rules never fired: " + ", ".join(c.meta.id for c in coverage.unfired()))
        click.echo(closing)
    if failed or below:
        sys.exit(5)


@main.command("what-if", epilog="""\b
Examples:
  warrant what-if kb/examples/reference-case.yaml --set conservative_care.physical_therapy_weeks=8
  warrant what-if case.yaml --set 'imaging[0].segments.L4-5.translation_mm=4'
  warrant what-if case.yaml --set 'requests[1].procedures[1].levels=[L4-5]' --format json
  warrant what-if case.yaml --unset exam.correlates_with_imaging
\b
FIELD is a dotted case path with list positions in brackets; a mapping on the way that does
not exist is created. VALUE is YAML: 8, true, moderate, [L4-5], {relief_percent: 80}.
Sets apply in the order given, then unsets.""")
@click.argument("case")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Give FIELD this value (repeatable).")
@click.option("--unset", "unsets", multiple=True, metavar="FIELD", help="Remove FIELD: not documented (repeatable).")
@format_option(FORMATS_DATA)
@kb_option
@handles_errors
def what_if(case: str, sets: tuple[str, ...], unsets: tuple[str, ...], fmt: str, kb_dir: Path | None) -> None:
    """Change case fields, decide again, and show only the determinations that changed."""
    from engine.whatif import parse_edits, what_if as run_what_if, what_if_text

    edits = parse_edits(sets, unsets)
    result = run_what_if(_kb(kb_dir), case, edits)
    if fmt == "json":
        _emit_json(result)
    else:
        click.echo(what_if_text(result, edits), nl=False)


@main.command(epilog="""\b
Examples:
  warrant generate --count 300 --seed 1 -o kb/corpus
  warrant generate --count 20 --seed 42 -o /tmp/cases --prefix trial-
  warrant generate --count 50 --seed 3 -o out/ --vocabulary my-generator.yaml
\b
Cases are written as DIR/case-0001.yaml, ... and each is validated before it is written.
The same seed gives the same cases; --count 10 gives the first ten of --count 300.""")
@click.option("--count", type=click.IntRange(1, 100000), required=True, help="How many cases to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random choices.")
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write the cases to (created if needed).")
@click.option("--prefix", default="case-", show_default=True, help="Start of each case_id (then the number).")
@click.option("--vocabulary", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Generator vocabulary (default: generator.yaml of the knowledge base).")
@kb_option
@handles_errors
def generate(count: int, seed: int, output: Path, prefix: str, vocabulary: Path | None, kb_dir: Path | None) -> None:
    """Write synthetic, valid cases spanning the families and documentation states of the kb."""
    from collections import Counter

    from engine.generate import Generator, write_cases

    generator = Generator.load(_kb(kb_dir), seed, vocabulary, prefix=prefix)
    scenarios: Counter = Counter()

    def counted():
        for made in generator.generate(count):
            scenarios[made.scenario] += 1
            yield made

    written = write_cases(counted(), output)
    click.echo(f"wrote {len(written)} cases to {output} (seed {seed}): "
               + ", ".join(f"{n} {name}" for name, n in scenarios.most_common()), err=True)
    others = sorted(set(output.glob("case-*.yaml")) - set(written))
    if others:
        click.echo(f"note: {output} also holds {len(others)} older case files ({others[0].name} ...) "
                   "that this run did not write", err=True)


@main.command("diff", epilog="""\b
Examples:
  warrant diff --base git:HEAD --head kb kb/tests kb/corpus
  warrant diff --base old-kb/ --head new-kb/ cases/ --format markdown > impact.md
  warrant diff --base git:v1.0 kb/corpus --format json
\b
KB is a directory or git:REV (the kb/ directory at that revision; git:REV:PATH for another
directory). --head defaults to --kb (or the bundled kb). CASES are case files, rule test
files, or directories searched for *.yaml / *.yml / *.json.""")
@click.argument("cases", nargs=-1, required=True)
@click.option("--base", "base_spec", required=True, metavar="KB", help="The knowledge base before the change.")
@click.option("--head", "head_spec", default=None, metavar="KB", help="The knowledge base after the change.")
@format_option(["text", "json", "markdown"])
@kb_option
@handles_errors
def kb_diff(cases: tuple[str, ...], base_spec: str, head_spec: str | None, fmt: str, kb_dir: Path | None) -> None:
    """Decide cases under two knowledge bases: which determinations flip, and which change made them."""
    from engine.kbdiff import cleanup, diff, diff_markdown, diff_text, resolve_kb
    from engine.outcomes import expand_case_paths

    paths = expand_case_paths(cases)
    base = resolve_kb(base_spec)
    try:
        head = resolve_kb(head_spec, default=kb_dir)
        try:
            result = diff(base, head, paths)
        finally:
            cleanup(head)
    finally:
        cleanup(base)
    _emit_report(result, fmt, diff_text, diff_markdown)


@main.command(epilog="""\b
Examples:
  warrant summarize kb/corpus
  warrant summarize cases/*.yaml --format markdown > corpus.md
  warrant summarize kb/corpus --top 5 --format json""")
@click.argument("cases", nargs=-1, required=True)
@click.option("--top", type=click.IntRange(1, 1000), default=15, show_default=True,
              help="How many unmet criteria and missing fields to list.")
@format_option(["text", "json", "markdown"])
@kb_option
@handles_errors
def summarize(cases: tuple[str, ...], top: int, fmt: str, kb_dir: Path | None) -> None:
    """Corpus-level view: verdicts per code, most frequent unmet criteria and missing documentation."""
    from engine.outcomes import expand_case_paths
    from engine.summary import summarize as run_summary, summary_markdown, summary_text

    result = run_summary(_kb(kb_dir), expand_case_paths(cases), top)
    _emit_report(result, fmt, summary_text, summary_markdown)
# ---- authoring commands (end)


# ---- graph command (begin)
GRAPH_FORMATS = ["dot", "svg", "png", "html", "mermaid", "json"]
_GRAPH_SUFFIXES = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".html": "html", ".htm": "html",
                   ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json"}


@main.command(epilog="""\b
Examples:
  warrant graph kb/examples/reference-case.yaml 22558 --level L2-3 -o proof.html
  warrant graph case.yaml 22633 --level L4-5 --why-not --format svg -o why-not.svg
  warrant graph case.yaml 22558 --level L2-3 --format dot | dot -Tpdf > proof.pdf
  warrant graph case.yaml --proof 3f2a9c0d1b7e4a55 --format mermaid
  warrant graph case.yaml --format html -o graphs/     # one file per line: graphs/2-22633-L4-5.html

\b
The format comes from --format, else from the suffix of -o, else dot. dot, html,
mermaid and json need nothing more; svg and png need Graphviz: pip install
'warrant[graphviz]' or Graphviz's `dot` on PATH (exit code 6 when neither is there).""")
@click.argument("case")
@click.argument("code", required=False)
@line_options
@click.option("--why-not", "why_not_graph", is_flag=True,
              help="Draw the why-not graph of --verdict: failed rules, missing and contradicting facts.")
@click.option("--verdict", default=None,
              help="With --why-not: the verdict whose absence is drawn (default: the kb's positive verdict).")
@click.option("--proof", "proof_id", default=None, help="Draw the proof with this id (from decide's JSON).")
@click.option("--format", "fmt", type=click.Choice(GRAPH_FORMATS), default=None,
              help="Output format (default: from the -o suffix, else dot).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file (stdout if omitted); without CODE, the directory for one file per line.")
@kb_option
@handles_errors
def graph(case: str, code: str | None, level: str | None, side: str | None, stage: int | None,
          why_not_graph: bool, verdict: str, proof_id: str | None, fmt: str | None, output: Path | None,
          kb_dir: Path | None) -> None:
    """Draw a proof graph (or with --why-not, a why-not graph) of one line or of every line."""
    import graphs
    from engine.decision import decide as decide_case, find_line, proof_index
    from engine.errors import UsageError
    from graphs.render_graphviz import require

    every_line = not code and not proof_id
    if proof_id and (code or why_not_graph):
        raise UsageError("--proof names a proof already: give no CODE and no --why-not with it")
    if every_line and (level or side or stage is not None):
        raise UsageError("--level, --side and --stage select a line: give its CODE too")
    if every_line and output is None:
        raise UsageError("without CODE every line gets a graph: give -o DIR for the files")
    if every_line and output.exists() and not output.is_dir():
        raise UsageError(f"{output} is a file; without CODE, -o names a directory")
    if fmt is None:
        fmt = "dot" if every_line or output is None else _GRAPH_SUFFIXES.get(output.suffix.lower(), "dot")
    require(fmt)
    if output is None and fmt == "png" and sys.stdout.isatty():
        raise UsageError("PNG is binary: give -o FILE or redirect stdout")

    session = _session(_kb(kb_dir), case)

    def draw(line):
        if not why_not_graph:
            return graphs.line_proof_graph(session, line)
        drawn = graphs.why_not_graph(session, line, _target_verdict(session.kb, verdict))
        if drawn.graph.get("holds"):
            click.echo(f"{line.id} is {drawn.graph.get('verdict') or verdict} already; drawing its proof instead",
                       err=True)
        return drawn

    if proof_id:
        index = proof_index(session, decide_case(session))
        if proof_id not in index:
            raise UsageError(f"no proof {proof_id} in the decision of case {session.case_id}")
        key, row = index[proof_id]
        _write(output, graphs.render(graphs.proof_graph(session, key, row), fmt))
    elif code:
        line = find_line(session, code, level, side, stage)
        target = output / graphs.line_file_name(line, fmt) if output is not None and output.is_dir() else output
        _write(target, graphs.render(draw(line), fmt))
    else:
        output.mkdir(parents=True, exist_ok=True)
        for line in session.lines:
            target = output / graphs.line_file_name(line, fmt)
            _write(target, graphs.render(draw(line), fmt))
            click.echo(str(target))
        click.echo(f"{len(session.lines)} graphs written to {output}", err=True)


# ---- graph command (end)


# ---- batch command (begin)
@main.command(epilog="""\b
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
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes (0: one per CPU; 1: decide in this process).")
@click.option("--resume", is_flag=True, help="Skip the cases already in --output and append the rest.")
@click.option("--explain", is_flag=True, help="Add each line's proof tree to its decision.")
@click.option("--order", type=click.Choice(["input", "completion"]), default="input", show_default=True,
              help="input: lines in input order, the same bytes for any --jobs; completion: as decided.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Cases sent to a worker at a time.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on this dask.distributed scheduler (needs the `dask` extra).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on stderr.")
@kb_option
@handles_errors
def batch(paths: tuple[str, ...], output: Path | None, jobs: int, resume: bool, explain: bool, order: str,
          chunk_size: int, scheduler: str | None, quiet: bool, kb_dir: Path | None) -> None:
    """Decide many cases, in parallel, one JSON line per case."""
    from engine.batch import BatchOptions, count_items, read_done, run_batch
    from engine.errors import UsageError

    for path in paths:
        if path != "-" and not os.path.exists(path):
            raise UsageError(f"no such file or directory: {path}")
    if list(paths).count("-") > 1:
        raise UsageError("standard input (-) can be read once")
    if resume and output is None:
        raise UsageError("--resume needs --output: the file whose cases to skip")
    progress = not quiet and sys.stderr.isatty()
    options = BatchOptions(kb_dir=str(kb_dir) if kb_dir else None, jobs=jobs or (os.cpu_count() or 1),
                           explain=explain, order=order, chunk_size=chunk_size, scheduler=scheduler,
                           progress=progress, total=count_items(paths) if progress else None)
    done = None
    stdin = sys.stdin.buffer
    try:
        if output is None:
            stats = run_batch(paths, sys.stdout.buffer, options, stdin=stdin)
        else:
            if resume and output.is_file():
                done, end = read_done(output)
                with output.open("r+b") as fh:
                    fh.truncate(end)  # drop a line an interrupted run left half written
            with output.open("ab" if resume else "wb") as out:
                stats = run_batch(paths, out, options, done=done, stdin=stdin)
    except KeyboardInterrupt:
        again = " with --resume" if output is not None else " with -o FILE --resume next time"
        click.echo(f"\nbatch: interrupted; every line written is complete: run the same command{again} "
                   "to go on", err=True)
        sys.exit(130)
    if not quiet:
        kept = f", {stats.skipped} already done" if done is not None else ""
        click.echo(f"batch: {stats.cases} cases: {stats.decided} decided, {stats.errors} error records{kept} "
                   f"in {stats.elapsed:.1f} s ({stats.rate:.0f} cases/s)", err=True)
# ---- batch command (end)


# ---- fhir commands (begin)
def _fhir_warnings_to_stderr() -> None:
    """Show what a FHIR bundle could not map (engine.fhir logs it) on stderr, for every command
    that reads a bundle (decide, report, why, ...). The handler echoes at emit time, so a test
    runner that swaps stderr sees the lines too."""
    import logging

    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            click.echo(self.format(record), err=True)

    log = logging.getLogger("warrant.fhir")
    if not any(getattr(h, "_warrant_echo", False) for h in log.handlers):
        handler = Echo(logging.WARNING)
        handler._warrant_echo = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.propagate = False


_fhir_warnings_to_stderr()


@main.group("import", epilog="""\b
Examples:
  warrant import fhir request-bundle.json -o case.yaml""")
def import_group() -> None:
    """Turn requests from other systems into warrant-case/1 files."""


@import_group.command("fhir", epilog="""\b
Examples:
  warrant import fhir request-bundle.json -o case.yaml
  warrant import fhir request-bundle.json --format json
  warrant decide request-bundle.json --format fhir > response-bundle.json""")
@click.argument("bundle")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the case to this file instead of stdout (written whole or not at all).")
@format_option(["yaml", "json"], default="yaml")
@kb_option
@handles_errors
def import_fhir(bundle: str, output: Path | None, fmt: str, kb_dir: Path | None) -> None:
    """Convert a FHIR R4 prior-authorization Bundle (Da Vinci PAS) into a warrant-case/1 case.

    What cannot be mapped is listed on stderr as warnings naming the resource; a malformed
    bundle exits with code 3 naming the resource and element.
    """
    from engine.errors import CaseError, Finding, Location
    from engine.fhir.detect import sniff
    from engine.fhir.import_bundle import case_yaml, import_bundle, validate_case

    given = sniff("<stdin>", sys.stdin.read()) if bundle == "-" else sniff(bundle)
    if not given.is_fhir:
        message = ("is not a FHIR resource (JSON with a resourceType); `warrant import fhir` reads a "
                   "FHIR R4 Bundle")
        raise CaseError(f"{given.name}: {message}", findings=[Finding("invalid_bundle", message,
                                                                      Location(given.name))])
    kb = _kb(kb_dir)
    imported = import_bundle(given.data or {}, given.name, given.text, kb_root=kb.root,
                             code_units=kb.code_units)
    validate_case(imported, kb.code_units)
    for warning in imported.warnings:
        click.echo(str(warning), err=True)
    if fmt == "json":
        text = json.dumps(imported.case, indent=2, ensure_ascii=False) + "\n"
    else:
        text = case_yaml(imported.case, source=given.name)
    _write(output, text)


def _decide_fhir(kb, cases: tuple[str, ...], fail_on_deny: bool) -> None:
    """`warrant decide BUNDLE --format fhir`: one response Bundle per request bundle."""
    from engine.decision import decide as decide_case
    from engine.errors import UsageError
    from engine.fhir.respond import respond

    answers = []
    denied = False
    for case in cases:
        session = _session(kb, case)
        if session.imported is None:
            raise UsageError(f"{case}: --format fhir answers FHIR bundles, and this is a warrant-case "
                             "file; use --format json")
        decision = decide_case(session)
        denied = denied or _any_denied(kb, [decision])
        answers.append(respond(decision, session.imported, session.lines, kb_root=kb.root))
    for answer in answers:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=None if len(answers) > 1 else 2))
    if fail_on_deny and denied:
        sys.exit(10)
# ---- fhir commands (end)


if __name__ == "__main__":  # pragma: no cover
    main()
