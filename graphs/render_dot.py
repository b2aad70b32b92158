"""Graphviz DOT text for a proof graph (no Graphviz needed to write it).

Node ids are the graph's content-hash ids (prefixed `n`), which also become the SVG element ids
when Graphviz renders the text. A legend cluster lists the node styles the graph uses.
"""
from __future__ import annotations

from html import escape as _html

import networkx as nx

from graphs.build import ordered_edges, orientation
from graphs.style import EDGE_LABELS, FAILING_EDGES, STYLES, Style, edge_colour, headline, legend_keys, legend_text, \
    style_of, subline, wrap

_SHAPES = {"statement": ("box", "rounded"), "rule": ("ellipse", ""), "fact": ("box", ""),
           "table": ("note", ""), "test": ("box", "rounded"), "gap": ("box", "")}


def _q(text: str) -> str:
    """A DOT double-quoted string (escString: backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _h(text: str) -> str:
    return _html(text, quote=False)


def _style_attrs(style: Style) -> list[str]:
    shape, extra = _SHAPES[style.shape]
    styles = ["filled"] + ([extra] if extra else []) + (["dashed"] if style.dash else [])
    attrs = [f"shape={shape}", f"style={_q(','.join(styles))}", f"fillcolor={_q(style.fill)}",
             f"color={_q(style.stroke)}"]
    if style.bold:
        attrs.append("penwidth=2")
    if style.dash and not style.bold:
        attrs.append('fontcolor="#555555"')
    return attrs


def _label(data: dict, style: Style) -> str:
    parts = []
    tag = data.get("tag", style.tag)
    if tag:
        parts.append(f'<FONT POINT-SIZE="8" COLOR="{style.stroke}"><B>{_h(tag)}</B></FONT>')
    parts += [f"<B>{_h(line)}</B>" for line in wrap(headline(data), 60)]
    clinical = "ids" in data
    if data["kind"] != "rule" and not clinical:
        for line in wrap(data.get("text", ""), 56):
            parts.append(f'<FONT POINT-SIZE="9" COLOR="#444444">{_h(line)}</FONT>')
    sub = subline(data)
    if sub:
        colour = "#444444" if clinical else "#1f5fa8" if data.get("field") else (
            "#777777" if data.get("collapsed") else style.stroke)
        for line in wrap(sub, 70 if clinical else 80):
            parts.append(f'<FONT POINT-SIZE="{9 if clinical else 8}" COLOR="{colour}">{_h(line)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def _tooltip(node: str, data: dict) -> str:
    if "ids" in data:  # the clinical view: words only
        return "\n".join(x for x in (data["label"], data.get("text", "")) if x)
    lines = [f"{data['kind']}: {data['label']}"]
    if data.get("text"):
        lines.append(data["text"])
    if data.get("rule"):
        lines.append(f"rule: {data['rule']}")
    if data.get("citations"):
        lines.append("citations: " + ", ".join(data["citations"]))
    if data.get("field"):
        lines.append(f"case-file field: {data['field']}")
    lines.append(f"id: {node}")
    return "\n".join(lines)


def to_dot(graph: nx.DiGraph) -> str:
    meta = graph.graph
    title = meta.get("title", "proof graph")
    lines = [title]
    if meta.get("case_id"):
        lines.append(f"case {meta['case_id']}, knowledge base {meta.get('kb_version', '?')}")
    caption = '"' + "".join(_q(x)[1:-1] + "\\l" for x in lines) + '"'  # \l: left-justified lines
    out = ["digraph warrant {",
           f"  graph [rankdir={orientation(graph)}, fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, "
           f"nodesep=0.18, ranksep=0.45, label={caption}];",
           '  node [fontname="Helvetica", fontsize=10, margin="0.10,0.05"];',
           '  edge [arrowsize=0.6, color="#555555"];']
    for node, data in graph.nodes(data=True):
        style = style_of(data)
        attrs = [f"id={_q('n' + node)}"] + _style_attrs(style) + [f"label={_label(data, style)}",
                                                                    f"tooltip={_q(_tooltip(node, data))}"]
        out.append(f"  {_q('n' + node)} [{', '.join(attrs)}];")
    for source, target, data in ordered_edges(graph):
        kind = data.get("kind", "premise")
        colour = edge_colour(graph, target, kind)
        attrs = [f"color={_q(colour)}"]
        if kind in FAILING_EDGES:
            attrs.append('style="dashed"')
        if kind in EDGE_LABELS:
            attrs += [f"label={_q(EDGE_LABELS[kind])}", "fontsize=8", f"fontcolor={_q(colour)}"]
        out.append(f"  {_q('n' + source)} -> {_q('n' + target)} [{', '.join(attrs)}];")
    keys = legend_keys(graph)
    if keys:
        out.append('  subgraph cluster_legend {')
        out.append('    label="Legend"; fontsize=10; style="rounded"; color="#bbbbbb";')
        for key in keys:
            style = STYLES[key]
            attrs = _style_attrs(style) + [f"label={_q(legend_text(graph, key))}", "fontsize=9"]
            out.append(f"    {_q('legend_' + key.replace(':', '_'))} [{', '.join(attrs)}];")
        for a, b in zip(keys, keys[1:]):
            out.append(f"    {_q('legend_' + a.replace(':', '_'))} -> {_q('legend_' + b.replace(':', '_'))}"
                       " [style=invis];")
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"
