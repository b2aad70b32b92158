"""Mermaid flowchart text (GitHub and most Markdown viewers draw it without any install)."""
from __future__ import annotations

import networkx as nx

from graphs.build import ordered_edges, orientation
from graphs.style import EDGE_LABELS, FAILING_EDGES, STYLES, edge_colour, headline, legend_keys, legend_text, \
    style_key, subline, wrap

_OPEN_CLOSE = {"statement": ("(", ")"), "rule": ("([", "])"), "fact": ("[", "]"), "table": ("[[", "]]"),
               "test": ("(", ")"), "gap": ("[", "]")}


def _esc(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters Mermaid parses)."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("`", "#96;").replace("|", "#124;"))


def _class(key: str) -> str:
    return "k_" + key.replace(":", "_")


def _node(mid: str, key: str, lines: list[str]) -> str:
    opening, closing = _OPEN_CLOSE[STYLES[key].shape]
    return f'  {mid}{opening}"{"<br/>".join(_esc(x) for x in lines if x)}"{closing}'


def to_mermaid(graph: nx.DiGraph, *, legend: bool = True) -> str:
    meta = graph.graph
    out = ["---", f"title: {_esc(meta.get('title', 'proof graph'))}", "---",
           f"flowchart {orientation(graph)}"]
    for node, data in graph.nodes(data=True):
        key = style_key(data)
        style = STYLES[key]
        tag = data.get("tag", style.tag)
        lines = ([tag] if tag else []) + wrap(headline(data), 60)
        if data["kind"] != "rule" and "ids" not in data:
            lines += wrap(data.get("text", ""), 56)
        lines += wrap(subline(data), 72)
        out.append(_node("n" + node, key, lines))
    link_colours: dict[str, list[str]] = {}
    for i, (source, target, data) in enumerate(ordered_edges(graph)):
        kind = data.get("kind", "premise")
        label = EDGE_LABELS.get(kind)
        if kind in FAILING_EDGES:
            arrow = f"-. {label} .->" if label else "-.->"
        else:
            arrow = f"-- {label} -->" if label else "-->"
        out.append(f"  n{source} {arrow} n{target}")
        link_colours.setdefault(edge_colour(graph, target, kind), []).append(str(i))
    keys = legend_keys(graph)
    if legend and keys:
        out.append('  subgraph legend["Legend"]')
        out.append("    direction TB")
        for key in keys:
            out.append("  " + _node(f"legend_{_class(key)}", key, [legend_text(graph, key)]))
        out.append("  end")
    for colour, indexes in sorted(link_colours.items()):
        out.append(f"  linkStyle {','.join(indexes)} stroke:{colour}")
    for key in STYLES:
        style = STYLES[key]
        parts = [f"fill:{style.fill}", f"stroke:{style.stroke}", "color:#1b1b1b",
                 f"stroke-width:{'2px' if style.bold else '1px'}"]
        if style.dash:
            parts.append("stroke-dasharray:5 3")
        out.append(f"  classDef {_class(key)} {','.join(parts)}")
    members: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        members.setdefault(style_key(data), []).append("n" + node)
    if legend:
        for key in keys:
            members.setdefault(key, []).append(f"legend_{_class(key)}")
    for key in STYLES:
        if members.get(key):
            out.append(f"  class {','.join(members[key])} {_class(key)}")
    return "\n".join(out) + "\n"
