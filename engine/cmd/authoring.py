"""Rule authoring: test, what-if, generate, diff, summarize."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engine.cmd.common import (
    echo,
    FORMATS_DATA,
    emit_json,
    emit_report,
    format_option,
    handles_errors,
    kb_option,
    load_kb,
    policy_options,
    write_output,
)


@click.command("test", epilog="""\b
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
    from engine.authoring.coverage import Coverages
    from engine.authoring.ruletest import failure_text, rule_test_files, run_rule_tests
    from engine.errors import UsageError

    kb = load_kb(kb_dir)
    files = rule_test_files(paths or [kb.root / "tests"])
    if not files:
        raise UsageError(f"no rule tests (*.yaml) in {', '.join(paths) or str(kb.root / 'tests')}")
    coverages = Coverages() if show_coverage or threshold is not None else None
    results = run_rule_tests(kb, files, coverages)
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    closing = f"{passed} passed, {failed} failed"
    by_policy = _per_policy(results)
    coverage = _default_coverage(kb, coverages)
    below = coverage is not None and threshold is not None and coverage.rule_percent < threshold
    if fmt == "json":
        data: dict[str, Any] = {"tests": [r.to_dict() for r in results], "passed": passed, "failed": failed}
        if coverage is not None:
            data["coverage"] = coverage.to_dict()
            if threshold is not None:
                data["coverage"]["threshold"] = threshold
            data["coverage_by_policy"] = {key: c.to_dict() for key, c in sorted(coverages.by_policy.items())}
        emit_json(data)
        if by_policy:
            echo(by_policy, err=True)
        echo(closing, err=True)
    else:
        for result in results:
            if not result.passed:
                echo(failure_text(result))
            elif verbose:
                echo(f"ok   {result.path}: {result.name}")
        if coverage is not None:
            if verbose or failed:
                echo("")
            for key, each in sorted(coverages.by_policy.items()):
                if len(coverages.by_policy) > 1:
                    echo(f"policy {key}: {each.tests} tests")
                echo(each.text())
        if below:
            echo(f"rule coverage {coverage.rule_percent:.1f}% is below the threshold {threshold:g}%; "
                       "rules never fired: " + ", ".join(c.meta.id for c in coverage.unfired()))
        if by_policy:
            echo(by_policy)
        echo(closing)
    if failed or below:
        sys.exit(5)


def _per_policy(results) -> str:
    """`by policy: reference@1.0: 70 passed; strict@1.0: 20 passed, 1 failed` when tests ran under several."""
    tally: dict[str, list[int]] = {}
    for result in (r for r in results if r.policy):
        counts = tally.setdefault(result.policy, [0, 0])
        counts[0 if result.passed else 1] += 1
    if len(tally) < 2:
        return ""
    parts = [f"{key}: {p} passed" + (f", {f} failed" if f else "") for key, (p, f) in sorted(tally.items())]
    return f"by policy: {'; '.join(parts)}"


def _default_coverage(kb, coverages):
    """The coverage of the default policy as of today (what --threshold and the `coverage` JSON
    key read), or the only one there is."""
    import datetime as dt

    if coverages is None or not coverages.by_policy:
        return None
    table = kb.policy_table
    try:
        key = table.choose(table.default, dt.date.today()).key
    except Exception:
        key = ""
    return coverages.by_policy.get(key) or next(iter(sorted(coverages.by_policy.items())))[1]


@click.command("what-if", epilog="""\b
Examples:
  warrant what-if kb/examples/reference-case.yaml --set conservative_care.physical_therapy_weeks=8
  warrant what-if case.yaml --set 'imaging[0].segments.L4-5.translation_mm=4'
  warrant what-if case.yaml --set 'requests[1].procedures[1].levels=[L4-5]' --format json
  warrant what-if case.yaml --unset exam.correlates_with_imaging
  warrant what-if case.yaml --set 'imaging[].segments.L4-5.central_stenosis=moderate' \\
                            --set 'imaging[].segments.L4-5.neural_compression=true' -o changed.yaml
\b
FIELD is a dotted case path with list positions in brackets; a mapping on the way that does
not exist is created, [N] one past the end appends, and [] is a new entry (every [] on the
same list in one run is the same new entry). VALUE is YAML: 8, true, moderate, [L4-5],
{relief_percent: 80}. Sets apply in the order given, then unsets. -o writes the changed case
(YAML, or JSON for a .json name), whole or not at all.""")
@click.argument("case")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Give FIELD this value (repeatable).")
@click.option("--unset", "unsets", multiple=True, metavar="FIELD", help="Remove FIELD: not documented (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the changed case to this file (YAML; JSON for a .json name).")
@click.option("--ids", is_flag=True, help="Text: show line ids and the rules that now apply or no longer do.")
@format_option(FORMATS_DATA)
@policy_options
@kb_option
@handles_errors
def what_if(case: str, sets: tuple[str, ...], unsets: tuple[str, ...], output: Path | None, ids: bool, fmt: str,
            policy: str | None, as_of: str | None, kb_dir: Path | None) -> None:
    """Change case fields, decide again, and show only the determinations that changed."""
    from engine.authoring.whatif import changed_data, parse_edits, what_if_text
    from engine.authoring.whatif import what_if as run_what_if
    from engine.cmd.common import write_output

    edits = parse_edits(sets, unsets)
    from engine.decide.policy import parse_as_of

    kb = load_kb(kb_dir)
    result = run_what_if(kb, case, edits, policy, parse_as_of(as_of))
    if output is not None:
        write_output(output, _case_text(changed_data(kb, case, edits), edits, output))
    if fmt == "json":
        emit_json(result)
    else:
        echo(what_if_text(result, edits, kb.words, ids), nl=False)


def _case_text(data: dict, edits, output: Path) -> str:
    """The changed case as a file: JSON for a .json name, else YAML with the edits as a header."""
    import json

    if output.suffix.lower() == ".json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    from engine.knowledge.yamlio import dump_yaml

    header = "# changed with warrant what-if:\n" + "".join(f"#   {edit}\n" for edit in edits)
    return dump_yaml(data, header)


@click.command(epilog="""\b
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

    from engine.authoring.generate import Generator, write_cases

    generator = Generator.load(load_kb(kb_dir), seed, vocabulary, prefix=prefix)
    scenarios: Counter = Counter()

    def counted():
        for made in generator.generate(count):
            scenarios[made.scenario] += 1
            yield made

    try:
        written = write_cases(counted(), output)
    except OSError as exc:
        from engine.cmd.common import output_problem
        from engine.errors import UsageError

        raise UsageError(output_problem(exc.filename or output, exc)) from None
    echo(f"wrote {len(written)} cases to {output} (seed {seed}): "
               + ", ".join(f"{n} {name}" for name, n in scenarios.most_common()), err=True)
    others = sorted(set(output.glob("case-*.yaml")) - set(written))
    if others:
        echo(f"note: {output} also holds {len(others)} older case files ({others[0].name} ...) "
                   "that this run did not write", err=True)


@click.command("diff", epilog="""\b
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
    from engine.authoring.kbdiff import (
        cleanup,
        diff,
        diff_markdown,
        diff_text,
        resolve_kb,
    )
    from engine.cases.paths import input_files

    paths = input_files(cases)
    base = resolve_kb(base_spec)
    try:
        head = resolve_kb(head_spec, default=kb_dir)
        try:
            result = diff(base, head, paths)
        finally:
            cleanup(head)
    finally:
        cleanup(base)
    emit_report(result, fmt, diff_text, diff_markdown)


@click.command(epilog="""\b
Examples:
  warrant summarize kb/corpus
  warrant summarize results.jsonl                       # batch output: decisions, not decided again
  warrant summarize results.jsonl --format html -o summary.html
  warrant summarize cases/*.yaml --format markdown > corpus.md
  warrant summarize kb/corpus --top 5 --format json""")
@click.argument("cases", nargs=-1, required=True)
@click.option("--top", type=click.IntRange(1, 1000), default=15, show_default=True,
              help="How many criteria and missing fields to list.")
@click.option("--keep", type=click.IntRange(0, 100000), default=50, show_default=True,
              help="HTML: how many cases to list behind each bar.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (all or nothing) instead of stdout.")
@format_option(["text", "json", "markdown", "html"])
@kb_option
@handles_errors
def summarize(cases: tuple[str, ...], top: int, keep: int, output: Path | None, fmt: str, kb_dir: Path | None) -> None:
    """Rates by code and family, the criteria and documentation that stand in the way most often:
    over batch output (JSON Lines of decisions, streamed), cases, or both (`-`: stdin)."""
    from engine.authoring.summary import summarize as run_summary
    from engine.authoring.summary import summary_markdown, summary_text

    kb = load_kb(kb_dir)
    result = run_summary(kb, list(cases), top, keep if fmt == "html" else 0)
    if fmt == "json":
        text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "html":
        from engine.present.summary_html import summary_html

        text = summary_html(result, kb)
    else:
        text = (summary_markdown if fmt == "markdown" else summary_text)(result)
    write_output(output, text)
    if any(not e.get("recorded") for e in result["errors"]):
        sys.exit(3)


COMMANDS = [rule_tests, what_if, generate, kb_diff, summarize]


@click.command("compare", epilog="""\b
Examples:
  warrant compare case.yaml --policy reference --policy strict
  warrant compare case.yaml --policy reference@1.0 --policy reference@1.1 --format markdown
\b
Decides the case under each policy and shows every line whose verdict differs: the criteria
whose state differs, what each policy asks for them, and the constants and rules behind them.""")
@click.argument("case")
@click.option("--policy", "policies", multiple=True, required=True, metavar="ID[@VERSION]",
              help="A policy to decide under (give two or more).")
@click.option("--as-of", "as_of", default=None, metavar="DATE", help="Choose versions as of this day.")
@format_option(["text", "json", "markdown"])
@kb_option
@handles_errors
def compare(case: str, policies: tuple[str, ...], as_of: str | None, fmt: str, kb_dir: Path | None) -> None:
    """Decide one case under several policies and show where and why the verdicts differ."""
    from engine.authoring.compare import compare as run_compare
    from engine.authoring.compare import compare_text
    from engine.decide.policy import parse_as_of
    from engine.errors import UsageError

    if len(policies) < 2:
        raise UsageError("compare needs two or more --policy options")
    kb = load_kb(kb_dir)
    result = run_compare(kb, case, list(policies), parse_as_of(as_of))
    if fmt == "json":
        emit_json(result)
    else:
        echo(compare_text(result, kb.words, markdown=fmt == "markdown"), nl=False)


COMMANDS.append(compare)
