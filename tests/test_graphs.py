"""Proof graphs (graphs/): structure, ids, why-not styling, every renderer, the `graph` command."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from tests.conftest import REFERENCE, ROOT

BASE = ["dot", "json", "mermaid", "html"]


@pytest.fixture
def session(kb):
    """A fresh session per test, so two sessions really build two graphs from scratch."""
    from engine.inputs import open_session

    return open_session(kb, REFERENCE)


@pytest.fixture
def run_graph_cli(run_cli, kb, monkeypatch):
    """The CLI with the session's kb already loaded (kb loading has tests of its own)."""
    from engine.cmd import graph

    monkeypatch.setattr(graph, "load_kb", lambda kb_dir: kb)
    return run_cli


def _line(session, code, level=None):
    from engine.decide.decision import find_line

    return find_line(session, code, level)


def _graph(session, code, level=None):
    import graphs

    return graphs.line_proof_graph(session, _line(session, code, level))


def _why_not(session, code, level=None, verdict="medically_necessary"):
    import graphs

    return graphs.why_not_graph(session, _line(session, code, level), verdict)


def _nodes(graph, kind):
    return [(n, d) for n, d in graph.nodes(data=True) if d["kind"] == kind]


def _graphviz():
    from graphs import graphviz_available

    return graphviz_available()


# -- structure ------------------------------------------------------------------------------------------
def test_proof_graph_of_22558_at_l2_3(session, reference_decision):
    graph = _graph(session, "22558", "L2-3")
    root = graph.graph["root"]
    assert graph.nodes[root]["kind"] == "conclusion"
    assert graph.nodes[root]["label"].startswith("line_verdict('1:22558:L2-3', ")
    assert graph.in_degree(root) == 0
    # the root is the proof id `decide` reports for the line
    line = next(ln for st in reference_decision["stages"] for ln in st["lines"]
                if ln["code"] == "22558" and ln["level"] == "L2-3")
    assert root == line["proof"]

    rules = _nodes(graph, "rule")
    assert rules and all(d["rule"] for _, d in rules)
    assert any(d["citations"] for _, d in rules)
    for node, data in _nodes(graph, "conclusion"):
        if graph.out_degree(node):  # a derived conclusion hangs from exactly one rule instance
            [(_, rule, edge)] = graph.out_edges(node, data=True)
            assert edge["kind"] == "derived_by"
            assert graph.nodes[rule]["kind"] == "rule"
            assert graph.nodes[rule]["rule"] == data["rule"]
            assert graph.nodes[rule]["citations"] == data["citations"]
    mri = [d for _, d in _nodes(graph, "fact") if d["field"].startswith("imaging[].segments.L2-3.")]
    assert mri and all(d["source"] == "case" for d in mri)
    for node, data in _nodes(graph, "fact"):
        assert graph.out_degree(node) == 0
    assert nx_is_dag(graph)


def nx_is_dag(graph) -> bool:
    import networkx as nx

    return nx.is_directed_acyclic_graph(graph)


def test_shared_sub_proof_is_drawn_once(session):
    from engine.decide.decision import LINE_VERDICT, line_verdict

    import graphs

    shared_seen = False
    for line in session.lines:
        tree = session.explainer.why(LINE_VERDICT, (line.id, *line_verdict(session, line)))
        counts = Counter(n.id for n in tree.walk())
        shared = [i for i, c in counts.items() if c > 1]
        if not shared:
            continue
        shared_seen = True
        graph = graphs.line_proof_graph(session, line)
        derived = {n.id for n in tree.walk() if n.kind == "conclusion" and n.children}
        assert graph.number_of_nodes() == len(counts) + len(derived)  # one node per id, plus rule instances
        for node_id in shared:
            assert node_id in graph
        assert any(graph.in_degree(n) >= 2 for n in shared)
    assert shared_seen, "the reference case has lines whose proofs share a sub-proof"


def test_node_ids_are_stable_across_sessions(kb):
    from engine.inputs import open_session

    first = _graph(open_session(kb, REFERENCE), "22853", "L2-3")
    second = _graph(open_session(kb, REFERENCE), "22853", "L2-3")
    assert list(first.nodes(data=True)) == list(second.nodes(data=True))
    assert list(first.edges(data=True)) == list(second.edges(data=True))
    assert all(re.fullmatch(r"[0-9a-f]{16}", n) for n in first.nodes)


def test_why_not_graph_of_22633_at_l4_5(session):
    graph = _why_not(session, "22633", "L4-5")
    assert graph.graph["mode"] == "why_not" and graph.graph["holds"] is False
    assert graph.nodes[graph.graph["root"]]["kind"] == "not_derived"
    missing = _nodes(graph, "missing")
    fields = {d["field"] for _, d in missing}
    assert any(f.startswith("imaging[].segments.L4-5.") for f in fields), fields
    assert all(d["field"] for _, d in missing)
    failed = _nodes(graph, "failed_rule")
    assert failed and all(d["rule"] for _, d in failed)
    assert all(d["status"] == "fails" for _, d in missing + failed)


def test_why_not_styles_tell_failures_apart(session):
    from graphs import render

    graph = _why_not(session, "22633", "L4-5")
    dot = render(graph, "dot")
    missing = next(n for n, _ in _nodes(graph, "missing"))
    failed = next(n for n, _ in _nodes(graph, "failed_rule"))
    conclusion = next(n for n, _ in _nodes(graph, "conclusion"))
    line_of = {m.group(1): m.group(0) for m in re.finditer(r'^  "n([0-9a-f]+)" \[.*$', dot, re.M)}
    assert "dashed" in line_of[missing] and "#e65100" in line_of[missing]       # orange, dashed
    assert "dashed" in line_of[failed] and "#9e9e9e" in line_of[failed]         # grey, dashed
    assert "dashed" not in line_of[conclusion] and "#2e7d32" in line_of[conclusion]  # green, solid
    contradicted = _nodes(graph, "contradicted")
    if contradicted:
        assert "#c62828" in line_of[contradicted[0][0]]                         # red
    assert "cluster_legend" in dot and "missing fact (not documented)" in dot


def test_why_not_of_a_verdict_that_holds_draws_the_proof(session):
    graph = _why_not(session, "22558", "L2-3", verdict="not_medically_necessary")
    assert graph.graph["holds"] is True
    assert graph.nodes[graph.graph["root"]]["kind"] == "conclusion"


# -- renderers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", BASE + ["svg", "png"])
def test_every_format_renders(session, fmt):
    from graphs import render

    if fmt in ("svg", "png") and not _graphviz():
        pytest.skip("neither pygraphviz nor Graphviz's dot is installed")
    # Graphviz takes about a second to lay out the why-not graph: draw the proof there
    graph = _graph(session, "22558", "L2-3") if fmt in ("svg", "png") else _why_not(session, "22633", "L4-5")
    out = render(graph, fmt)
    root = graph.graph["root"]
    if fmt == "png":
        assert isinstance(out, bytes) and out.startswith(b"\x89PNG\r\n\x1a\n")
        return
    assert isinstance(out, str)
    if fmt == "dot":
        assert out.startswith("digraph warrant {") and out.rstrip().endswith("}")
        assert f'"n{root}"' in out
    elif fmt == "json":
        data = json.loads(out)
        assert data["directed"] is True and data["graph"]["root"] == root
        assert data["nodes"][0]["id"] == root
        assert len(data["nodes"]) == graph.number_of_nodes() and len(data["links"]) == graph.number_of_edges()
        assert {"kind", "label", "text", "rule", "citations", "field"} <= set(data["nodes"][0])
    elif fmt == "mermaid":
        assert "\nflowchart " in out and f"n{root}" in out and "classDef k_missing" in out
    elif fmt == "html":
        assert out.startswith("<!DOCTYPE html>") and "<svg" in out and f'data-id="{root}"' in out
    elif fmt == "svg":
        ET.fromstring(out.encode("utf-8"))  # well-formed XML
        assert f'id="n{root}"' in out


def test_html_is_self_contained(session):
    from graphs import render

    page = render(_why_not(session, "22633", "L4-5"), "html")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"url\((?!#)", page) and "@import" not in page and "<link" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    # pan/zoom and the details panel are there
    for hook in ('addEventListener("wheel"', '"pointermove"', 'id="details"', '"mouseenter"'):
        assert hook in page


def test_html_layout_has_no_overlapping_nodes(session):
    from graphs.layout import layout

    for graph in (_graph(session, "22853", "L2-3"), _why_not(session, "22633", "L4-5")):
        boxes = list(layout(graph).boxes.values())
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = (a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y)
                assert apart, (a, b)


def test_output_is_byte_identical_across_runs(kb):
    from engine.inputs import open_session
    from graphs import render

    first, second = (_why_not(open_session(kb, REFERENCE), "22633", "L4-5") for _ in range(2))
    for fmt in BASE:
        assert render(first, fmt) == render(second, fmt), fmt


def test_same_bytes_under_another_hash_seed_and_decide_skips_networkx(run_graph_cli):
    """One separate process, with a fixed hash seed: `decide` there imports neither networkx nor
    graphs/, and `graph` there draws the same bytes as this process does."""
    ours = run_graph_cli("graph", str(REFERENCE), "22853", "--level", "L2-3", "--format", "json").output
    code = ("import sys, cli\n"
            "from click.testing import CliRunner\n"
            f"r = CliRunner().invoke(cli.main, ['decide', {str(REFERENCE)!r}, '--format', 'json'])\n"
            "assert r.exit_code == 0, r.output\n"
            "sys.stderr.write(repr(('networkx' in sys.modules, 'graphs' in sys.modules)))\n"
            "cli.main(['graph', sys.argv[1], '22853', '--level', 'L2-3', '--format', 'json'])\n")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    theirs = subprocess.run([sys.executable, "-c", code, str(REFERENCE)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stderr.strip() == "(False, False)"
    assert theirs.stdout == ours


# -- the command ----------------------------------------------------------------------------------------
def test_cli_graph_to_stdout_and_file(run_graph_cli, tmp_path):
    result = run_graph_cli("graph", str(REFERENCE), "22558", "--level", "L2-3")
    assert result.exit_code == 0 and result.output.startswith("digraph warrant {")
    target = tmp_path / "proof.html"
    result = run_graph_cli("graph", str(REFERENCE), "22558", "--level", "L2-3", "-o", str(target))
    assert result.exit_code == 0 and result.output == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")   # format from the suffix
    result = run_graph_cli("graph", str(REFERENCE), "22633", "--level", "L4-5", "--why-not", "--format", "json")
    assert json.loads(result.output)["graph"]["mode"] == "why_not"


def test_cli_graph_every_line_into_a_directory(run_graph_cli, tmp_path, kb):
    from engine.inputs import open_session

    out = tmp_path / "graphs"
    result = run_graph_cli("graph", str(REFERENCE), "--format", "mermaid", "-o", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(open_session(kb, REFERENCE).lines)
    assert "2-22633-L4-5.mmd" in names and "1-22558-L2-3.mmd" in names and "2-22830.mmd" in names
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind


@pytest.mark.parametrize("args", [
    ["graph", str(REFERENCE)],                                       # no CODE and no -o
    ["graph", str(REFERENCE), "--level", "L2-3", "-o", "x"],         # a level without a code
    ["graph", str(REFERENCE), "22853"],                              # ambiguous line
    ["graph", str(REFERENCE), "--proof", "0000000000000000"],        # unknown proof id
])
def test_cli_graph_usage_errors(run_graph_cli, args):
    assert run_graph_cli(*args).exit_code == 2


def test_cli_graph_bad_case_exits_3(run_graph_cli, tmp_path):
    case = tmp_path / "bad.yaml"
    case.write_text("format: warrant-case/1\n", encoding="utf-8")
    assert run_graph_cli("graph", str(case), "22558").exit_code == 3


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_cli_graph_without_graphviz_exits_6(run_graph_cli, monkeypatch, tmp_path, fmt):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)   # `import pygraphviz` now raises ImportError
    monkeypatch.setenv("PATH", str(tmp_path))               # and no `dot` on PATH
    from graphs.render_graphviz import available

    assert not available()
    result = run_graph_cli("graph", str(REFERENCE), "22558", "--level", "L2-3", "--format", fmt,
                     "-o", str(tmp_path / f"g.{fmt}"))
    assert result.exit_code == 6
    assert "pip install 'warrant[graphviz]'" in result.output and "Graphviz" in result.output
    assert not (tmp_path / f"g.{fmt}").exists()


def test_render_without_graphviz_raises_renderer_missing(session, monkeypatch, tmp_path):
    from engine.errors import RendererMissing
    from graphs import render

    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    graph = _graph(session, "22558", "L2-3")
    with pytest.raises(RendererMissing) as caught:
        render(graph, "svg")
    assert caught.value.exit_code == 6
    assert render(graph, "dot").startswith("digraph")  # the base formats still work


@pytest.mark.skipif("not __import__('shutil').which('dot')", reason="Graphviz's dot is not installed")
def test_svg_through_dot_on_path(session, monkeypatch):
    from graphs import render

    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # force the subprocess path
    svg = render(_graph(session, "22558", "L2-3"), "svg")
    ET.fromstring(svg.encode("utf-8"))


def test_line_file_names(session):
    from graphs import line_file_name

    assert line_file_name(_line(session, "22633", "L4-5"), "svg") == "2-22633-L4-5.svg"
    assert line_file_name(_line(session, "22830"), "mermaid") == "2-22830.mmd"
