"""`warrant graph`: proof and why-not graphs in every format."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cmd.common import (
    echo,
    handles_errors,
    kb_option,
    line_options,
    load_kb,
    line_session,
    open_case,
    policy_options,
    target_verdict,
    write_output,
)

GRAPH_FORMATS = ["dot", "svg", "png", "html", "mermaid", "json"]
_GRAPH_SUFFIXES = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".html": "html", ".htm": "html",
                   ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json"}


@click.command(epilog="""\b
Examples:
  warrant graph kb/examples/reference-case.yaml 22558 --level L2-3 -o proof.html
  warrant graph case.yaml 22633 --level L4-5 --why-not --format svg -o why-not.svg
  warrant graph case.yaml 22558 --level L2-3 --format dot | dot -Tpdf > proof.pdf
  warrant graph case.yaml --proof 3f2a9c0d1b7e4a55 --format mermaid
  warrant graph case.yaml --format html -o graphs/     # one file per line: graphs/2-22633-L4-5.html
  warrant graph case.yaml 22633 --level L4-5 --why-not --full -o logic.html

\b
By default the graph is the clinical view: the line, each of its criteria with its state and the
policy's requirement, the case facts behind each or the fields that are missing (and, with
--why-not, the documentation that would change the verdict). --full draws the logical graph:
every rule instance, table row and condition the proof or failure tree touches.

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
@click.option("--full", is_flag=True, help="Draw the full logical graph instead of the clinical view.")
@click.option("--format", "fmt", type=click.Choice(GRAPH_FORMATS), default=None,
              help="Output format (default: from the -o suffix, else dot).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file (stdout if omitted); without CODE, the directory for one file per line.")
@policy_options
@kb_option
@handles_errors
def graph(case: str, code: str | None, level: str | None, side: str | None, stage: int | None,
          why_not_graph: bool, verdict: str, proof_id: str | None, full: bool, fmt: str | None,
          output: Path | None, policy: str | None, as_of: str | None, kb_dir: Path | None) -> None:
    """Draw a proof graph (or with --why-not, a why-not graph) of one line or of every line."""
    import graphs
    from engine.decide.decision import decide as decide_case
    from engine.decide.decision import find_line, proof_index
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

    session = open_case(load_kb(kb_dir), case, policy, as_of)

    def draw(line):
        if not full:
            drawn = graphs.clinical_graph(session, line, target_verdict(session.kb, verdict), why_not_graph)
            if why_not_graph and drawn.graph.get("holds"):
                click.echo(f"{line.id} is {drawn.graph.get('verdict')} already; drawing why", err=True)
            return drawn
        if not why_not_graph:
            return graphs.line_proof_graph(session, line)
        drawn = graphs.why_not_graph(session, line, target_verdict(session.kb, verdict))
        if drawn.graph.get("holds"):
            echo(f"{line.id} is {drawn.graph.get('verdict') or verdict} already; drawing its proof instead",
                       err=True)
        return drawn

    if proof_id:
        index = proof_index(session, decide_case(session))
        if proof_id not in index:
            raise UsageError(f"no proof {proof_id} in the decision of case {session.case_id}")
        key, row = index[proof_id]
        write_output(output, graphs.render(graphs.proof_graph(session, key, row), fmt))
    elif code:
        session, line = line_session(session, find_line(session, code, level, side, stage))
        target = output / graphs.line_file_name(line, fmt) if output is not None and output.is_dir() else output
        write_output(target, graphs.render(draw(line), fmt))
    else:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from engine.cmd.common import output_problem

            raise UsageError(output_problem(output, exc)) from None
        for session, line in [line_session(session, ln) for ln in session.lines]:
            target = output / graphs.line_file_name(line, fmt)
            write_output(target, graphs.render(draw(line), fmt))
            echo(str(target))
        echo(f"{len(session.lines)} graphs written to {output}", err=True)


COMMANDS = [graph]
