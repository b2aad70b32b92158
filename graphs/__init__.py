"""Proof graphs: explanation trees as networkx DiGraphs, and their renderers.

```python
from graphs import line_proof_graph, why_not_graph, render
graph = line_proof_graph(session, line)              # networkx.DiGraph, typed nodes, content-hash ids
text = render(graph, "html")                         # dot | json | mermaid | html -> str; svg -> str; png -> bytes
```

networkx is imported only when a graph is built or rendered, never by `import graphs`, so the
commands that do not draw graphs (`warrant decide`) do not pay for it.
"""
from __future__ import annotations

from typing import Any

FORMATS = ("dot", "svg", "png", "html", "mermaid", "json")
"""Every format `render` knows."""
"""Formats that need nothing beyond the base install."""
GRAPHVIZ_FORMATS = ("svg", "png")
"""Formats drawn by Graphviz (pygraphviz or `dot` on PATH)."""
EXTENSIONS = {"dot": "dot", "svg": "svg", "png": "png", "html": "html", "mermaid": "mmd", "json": "json"}
"""File name extension for each format."""


def proof_graph(session, key, row, **kwargs: Any):
    """The proof graph of a derived fact; see `graphs.build.proof_graph`."""
    from graphs.build import proof_graph as build

    return build(session, key, row, **kwargs)


def line_proof_graph(session, line):
    """The proof graph of a requested line's verdict."""
    from graphs.build import line_proof_graph as build

    return build(session, line)


def why_not_graph(session, line, verdict: str | None = None, **kwargs: Any):
    """The failure graph of "`line` is `verdict`"; see `graphs.build.why_not_graph`."""
    from graphs.build import why_not_graph as build

    return build(session, line, verdict, **kwargs)


def clinical_graph(session, line, verdict: str | None = None, why_not: bool = False):
    """The clinical view of a line (criteria, their states, the facts behind them); see
    `graphs.clinical`. `warrant graph` draws it unless `--full` asks for the logical graph."""
    from graphs.clinical import clinical_graph as build

    return build(session, line, verdict, why_not)


def from_tree(tree, **kwargs: Any):
    """A proof graph for any `engine.explain.node.Node` tree; see `graphs.build.from_tree`."""
    from graphs.build import from_tree as build

    return build(tree, **kwargs)


def render(graph, fmt: str) -> str | bytes:
    """Render a proof graph: `png` gives bytes, every other format text.

    `svg` and `png` raise `engine.errors.RendererMissing` (exit code 6) without Graphviz.
    """
    if fmt == "dot":
        from graphs.render_dot import to_dot

        return to_dot(graph)
    if fmt == "json":
        from graphs.render_json import to_json

        return to_json(graph)
    if fmt == "mermaid":
        from graphs.render_mermaid import to_mermaid

        return to_mermaid(graph)
    if fmt == "html":
        from graphs.render_html import to_html

        return to_html(graph)
    if fmt in GRAPHVIZ_FORMATS:
        from graphs.render_dot import to_dot
        from graphs.render_graphviz import render as draw

        drawn = draw(to_dot(graph), fmt)
        return drawn.decode("utf-8") if fmt == "svg" else drawn
    raise ValueError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")


def graphviz_available() -> bool:
    """True when SVG and PNG can be drawn (pygraphviz importable or `dot` on PATH)."""
    from graphs.render_graphviz import available

    return available()


def line_file_name(line, fmt: str) -> str:
    """The file name of a line's graph in a directory of graphs: `2-22633-L4-5.svg`."""
    parts = [p for p in str(line.id).split(":") if p and p != "-"]
    return "-".join(parts) + "." + EXTENSIONS.get(fmt, fmt)


__all__ = ["FORMATS", "GRAPHVIZ_FORMATS", "EXTENSIONS", "proof_graph", "line_proof_graph",
           "why_not_graph", "clinical_graph", "from_tree", "render", "graphviz_available", "line_file_name"]
