"""A layered tree layout computed in Python, for renderers that do without Graphviz (HTML).

Ranks are longest-path depths from the root (`graphs.build.layers`), so every edge points forward.
Across the ranks, the depth-first spanning tree decides the order: subtrees are packed side by
side as closely as their contours allow (a simple Reingold-Tilford layout), each parent midway over
its children, so no two nodes of a rank overlap. A shared node is placed under the
first parent that reaches it; its other parents get an extra edge.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from graphs.build import _successors, layers, ordered_edges, orientation
from graphs.style import headline, style_of, subline, wrap

CHAR_W = 7.0        # width of one character of the 12 px monospace headline
SMALL_W = 6.0       # width of one character of the second line (10 px, 10.5 px in the clinical view)
LINE_H = 15.0
PAD_X, PAD_Y = 10.0, 8.0
GAP_ACROSS = 14.0   # between neighbouring nodes of a rank
GAP_ALONG = {"TB": 46.0, "LR": 60.0}
HEAD_CHARS = 56     # a headline wraps past this many characters (nothing is ever cut)
SUB_CHARS = 72


@dataclass
class Box:
    x: float        # left
    y: float        # top
    w: float
    h: float
    lines: list[tuple[str, str]]   # (css class, text)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Layout:
    direction: str
    width: float
    height: float
    boxes: dict[str, Box]
    edges: list[tuple[str, str, str, str]]   # (source, target, kind, svg path)


def node_lines(data: dict) -> list[tuple[str, str]]:
    """A node's label as lines: its tag, its headline and second line, wrapped — never cut."""
    style = style_of(data)
    lines = []
    tag = data.get("tag", style.tag)
    if tag:
        lines.append(("tag", tag))
    lines += [("head", part) for part in wrap(headline(data), HEAD_CHARS)]
    sub = subline(data)
    if not sub and data.get("kind") == "conclusion" and data.get("text"):
        sub = data["text"]
    lines += [("sub", part) for part in wrap(sub, SUB_CHARS)]
    return lines


def _size(lines: list[tuple[str, str]]) -> tuple[float, float]:
    width = max(len(text) * (CHAR_W if cls == "head" else SMALL_W) for cls, text in lines)
    return max(90.0, width + 2 * PAD_X), len(lines) * LINE_H + 2 * PAD_Y


def layout(graph: nx.DiGraph) -> Layout:
    """Positions for every node and an SVG path for every edge."""
    depth = layers(graph)
    direction = orientation(graph, depth)
    across_tb = direction == "TB"
    boxes: dict[str, Box] = {}
    for node, data in graph.nodes(data=True):
        lines = node_lines(data)
        w, h = _size(lines)
        boxes[node] = Box(0.0, 0.0, w, h, lines)
    tops, tree = _spanning_tree(graph, depth)
    extent = {n: (b.w if across_tb else b.h) for n, b in boxes.items()}  # size across the ranks
    centre = _centres(tops, tree, depth, extent)
    width, height = _place(boxes, depth, centre, direction)
    edges = []
    for source, target, data in ordered_edges(graph):
        edges.append((source, target, data.get("kind", "premise"), _path(boxes[source], boxes[target], across_tb)))
    return Layout(direction, round(width, 1), round(height, 1), boxes, edges)


def _spanning_tree(graph: nx.DiGraph, depth: dict[str, int]) -> tuple[list[str], dict[str, list[str]]]:
    """The roots and children of a spanning tree: each node hangs under the node that discovers it
    first, in body order, so that shared premises are drawn once."""
    root = graph.graph.get("root")
    starts = ([root] if root in graph else []) + [n for n in graph.nodes if n != root]
    parent_of: dict[str, str | None] = {}
    tree: dict[str, list[str]] = {n: [] for n in graph.nodes}
    tops: list[str] = []
    for start in starts:
        if start in parent_of:
            continue
        parent_of[start] = None
        tops.append(start)
        stack = [start]
        while stack:
            node = stack.pop()
            fresh = [c for c in _successors(graph, node) if c not in parent_of and depth[c] > depth[node]]
            for child in fresh:
                parent_of[child] = node
            tree[node].extend(fresh)
            stack.extend(reversed(fresh))
    return tops, tree


def _centres(tops: list[str], tree: dict[str, list[str]], depth: dict[str, int],
             extent: dict[str, float]) -> dict[str, float]:
    """Each node's centre across the ranks. Each subtree is packed as tightly as its contour (per
    rank: lowest and highest occupied coordinate) allows against its left siblings; a parent sits
    midway over its children."""
    relative: dict[str, float] = {}
    contour: dict[str, dict[int, list[float]]] = {}
    for node in _postorder(tops, tree):
        half = extent[node] / 2
        shape = {depth[node]: [-half, half]}
        if tree[node]:
            merged, places = _pack([contour[c] for c in tree[node]])
            mid = (places[0] + places[-1]) / 2
            for child, place in zip(tree[node], places):
                relative[child] = place - mid
            for r, (lo, hi) in merged.items():
                shape[r] = [lo - mid, hi - mid]
        contour[node] = shape
    merged, places = _pack([contour[t] for t in tops])
    low = min((lo for lo, _ in merged.values()), default=0.0)
    centre: dict[str, float] = {}
    for top, place in zip(tops, places):
        centre[top] = place - low
        for node in _preorder(top, tree):
            for child in tree[node]:
                centre[child] = centre[node] + relative[child]
    return centre


def _place(boxes: dict[str, Box], depth: dict[str, int], centre: dict[str, float],
           direction: str) -> tuple[float, float]:
    """Set every box's position (ranks along the direction, centres across it); the drawing's size."""
    across_tb = direction == "TB"
    ranks = max(depth.values(), default=0) + 1
    along_size = [0.0] * ranks
    for node, box in boxes.items():
        along_size[depth[node]] = max(along_size[depth[node]], box.h if across_tb else box.w)
    start_of, position = [], 0.0
    for size in along_size:
        start_of.append(position)
        position += size + GAP_ALONG[direction]
    margin = 20.0
    for node, box in boxes.items():
        r = depth[node]
        if across_tb:
            box.x = margin + centre[node] - box.w / 2
            box.y = margin + start_of[r] + (along_size[r] - box.h) / 2
        else:
            box.x = margin + start_of[r]
            box.y = margin + centre[node] - box.h / 2
    width = max((b.x + b.w for b in boxes.values()), default=0.0) + margin
    height = max((b.y + b.h for b in boxes.values()), default=0.0) + margin
    return width, height


def _postorder(tops: list[str], tree: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for top in tops:
        stack = [(top, False)]
        while stack:
            node, done = stack.pop()
            if done:
                out.append(node)
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(tree[node]))
    return out


def _preorder(top: str, tree: dict[str, list[str]]) -> list[str]:
    out, stack = [], [top]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(tree[node]))
    return out


def _pack(shapes: list[dict[int, list[float]]]) -> tuple[dict[int, list[float]], list[float]]:
    """Place contours side by side, each as close to the previous ones as no rank overlaps."""
    merged: dict[int, list[float]] = {}
    places: list[float] = []
    for shape in shapes:
        place = places[-1] if places else 0.0
        for r, (lo, _hi) in shape.items():
            if r in merged:
                place = max(place, merged[r][1] + GAP_ACROSS - lo)
        places.append(place)
        for r, (lo, hi) in shape.items():
            if r in merged:
                merged[r] = [min(merged[r][0], lo + place), max(merged[r][1], hi + place)]
            else:
                merged[r] = [lo + place, hi + place]
    return merged, places


def _path(a: Box, b: Box, across_tb: bool) -> str:
    if across_tb:
        x1, y1, x2, y2 = a.cx, a.y + a.h, b.cx, b.y
        bend = max(24.0, (y2 - y1) / 2)
        return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
    x1, y1, x2, y2 = a.x + a.w, a.cy, b.x, b.cy
    bend = max(24.0, (x2 - x1) / 2)
    return f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
