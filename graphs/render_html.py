"""One self-contained HTML file: an inline SVG laid out in Python, vanilla JavaScript, no URL.

The page needs nothing at view time: no script, font or style sheet is fetched. Mouse wheel zooms
around the pointer, dragging pans, `+`/`-`/`0` zoom and fit; hovering a node shows its details in
the side panel, clicking pins them (Escape unpins) and highlights its edges; the panel links to the
node's parents and premises. `page.html#<node id>` opens with that node selected.
"""
from __future__ import annotations

import json
from html import escape

import networkx as nx

from graphs.layout import LINE_H, PAD_Y, Layout, layout
from graphs.style import FAILING_EDGES, LEGEND_ORDER, STYLES, edge_colour, legend_keys, legend_text, style_key

_CSS = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1b1b}
body{display:flex;flex-direction:column}
header{padding:8px 12px;border-bottom:1px solid #ddd;background:#fafafa}
header h1{font-size:15px;margin:0 0 2px}
header .meta{color:#555;font-size:12px}
.bar{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-top:6px}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:11px;color:#333}
.legend span{display:inline-flex;align-items:center;gap:4px}
.legend svg{width:26px;height:14px}
button{font:inherit;font-size:12px;padding:2px 8px;border:1px solid #bbb;border-radius:4px;background:#fff;cursor:pointer}
button:hover{background:#f0f0f0}
main{flex:1;display:flex;min-height:0}
#canvas{flex:1;min-width:0;height:100%;background:#fff;cursor:grab;touch-action:none;user-select:none}
#canvas.dragging{cursor:grabbing}
aside{width:360px;max-width:45%;border-left:1px solid #ddd;padding:10px 12px;overflow:auto;background:#fcfcfc}
aside h2{font-size:13px;margin:0 0 6px;word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
aside .kind{display:inline-block;font-size:11px;padding:1px 6px;border-radius:8px;border:1px solid #999;margin-bottom:6px}
aside dl{margin:0}
aside dt{font-size:11px;color:#666;margin-top:8px}
aside dd{margin:0;word-break:break-word}
aside .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
aside a{color:#1f5fa8;cursor:pointer;text-decoration:underline}
aside .hint{color:#777;font-size:12px}
.node rect{stroke-width:1.2}
.node text{pointer-events:none}
.node .head{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;fill:#1b1b1b}
.words .head{font:600 12px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
.words .sub{font-size:10.5px}
.node .sub{font-size:10px;fill:#555}
.node .tag{font-size:9px;font-weight:700;letter-spacing:.04em}
.node{cursor:pointer}
.node:hover rect{filter:brightness(.95)}
.node.sel rect{stroke-width:3}
.edge{fill:none;stroke-width:1.2}
.edge.fail{stroke-dasharray:6 4}
.edge.hl{stroke-width:3}
.dim{opacity:.25}
.hidden{display:none}
.toggle{cursor:pointer}
.toggle circle{fill:#fff;stroke:#777;stroke-width:1}
.toggle text{font:bold 11px system-ui,sans-serif;fill:#333;pointer-events:none}
.node.hit rect{stroke:#f9a825;stroke-width:4}
#search{font:inherit;font-size:12px;padding:2px 6px;border:1px solid #bbb;border-radius:4px;width:16em}
#hits{font-size:11px;color:#555;margin-left:4px}
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.getElementById("canvas");
  var view = document.getElementById("viewport");
  var panel = document.getElementById("details");
  var scale = 1, tx = 0, ty = 0, pinned = null, drag = null, moved = false;
  var nodes = {}, edgesOf = {};
  Array.prototype.forEach.call(document.querySelectorAll(".node"), function (g) { nodes[g.getAttribute("data-id")] = g; });
  Array.prototype.forEach.call(document.querySelectorAll(".edge"), function (p) {
    [p.getAttribute("data-s"), p.getAttribute("data-t")].forEach(function (id) { (edgesOf[id] = edgesOf[id] || []).push(p); });
  });
  function apply() { moved = true; view.setAttribute("transform", "translate(" + tx + "," + ty + ") scale(" + scale + ")"); }
  function fit() {
    var r = svg.getBoundingClientRect();
    scale = Math.min(r.width / data.width, r.height / data.height, 1.25) * 0.96;
    tx = (r.width - data.width * scale) / 2; ty = Math.max(8, (r.height - data.height * scale) / 2); apply();
    moved = false;
  }
  function zoomAt(k, mx, my) {
    var next = Math.min(8, Math.max(0.03, scale * k));
    tx = mx - (mx - tx) * next / scale; ty = my - (my - ty) * next / scale; scale = next; apply();
  }
  function centreOn(id) {
    var n = data.nodes[id], r = svg.getBoundingClientRect();
    if (scale < 0.8) { scale = 0.8; }
    tx = r.width / 2 - (n.x + n.w / 2) * scale; ty = r.height / 2 - (n.y + n.h / 2) * scale; apply();
  }
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  svg.addEventListener("pointerdown", function (e) {
    var hit = e.target && e.target.closest ? e.target.closest(".node") : null;
    drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty, moved: false, node: hit ? hit.getAttribute("data-id") : null };
    svg.setPointerCapture(e.pointerId); svg.classList.add("dragging");
  });
  svg.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
    tx = drag.tx + dx; ty = drag.ty + dy; apply();
  });
  svg.addEventListener("pointerup", function (e) {
    var done = drag; drag = null; svg.classList.remove("dragging");
    if (!done || done.moved) { return; }
    select(done.node);
  });
  function el(tag, text, cls) { var x = document.createElement(tag); if (text !== undefined) { x.textContent = text; } if (cls) { x.className = cls; } return x; }
  function row(dl, name, value, cls) { if (!value) { return; } dl.appendChild(el("dt", name)); var dd = el("dd", value, cls); dl.appendChild(dd); return dd; }
  function links(dl, name, ids) {
    if (!ids.length) { return; }
    dl.appendChild(el("dt", name));
    var dd = el("dd");
    ids.forEach(function (id) {
      var a = el("a", data.nodes[id].label || data.nodes[id].rule, "mono");
      a.addEventListener("click", function () { select(id); centreOn(id); });
      dd.appendChild(a); dd.appendChild(document.createElement("br"));
    });
    dl.appendChild(dd);
  }
  function show(id) {
    panel.textContent = "";
    if (!id) {
      panel.appendChild(el("p", "Hover over a node to see its details; click to keep them here. Wheel zooms, drag pans, 0 fits.", "hint"));
      return;
    }
    var n = data.nodes[id], kind = data.kinds[n.style];
    var badge = el("span", kind.legend, "kind"); badge.style.borderColor = kind.stroke; badge.style.background = kind.fill;
    panel.appendChild(badge);
    panel.appendChild(el("h2", n.kind === "rule" || n.kind === "failed_rule" ? "rule " + (n.rule || n.label) : n.label));
    var dl = el("dl");
    row(dl, "meaning", n.text);
    row(dl, "rule", n.rule, "mono");
    if (n.citations.length) {
      dl.appendChild(el("dt", "citations"));
      var dd = el("dd");
      n.citations.forEach(function (c) { var p = el("div"); p.appendChild(el("span", c, "mono")); if (data.citations[c]) { p.appendChild(el("span", " \u2014 " + data.citations[c])); } dd.appendChild(p); });
      dl.appendChild(dd);
    }
    row(dl, n.kind === "missing" ? "document in the case file" : "case-file field", n.field, "mono");
    row(dl, "status", n.status);
    links(dl, "used by", n.parents);
    links(dl, n.kind === "failed_rule" ? "failed conditions" : (n.kind === "not_derived" ? "rules tried" : "premises"), n.children);
    row(dl, "id", id, "mono");
    panel.appendChild(dl);
  }
  function mark(id, on) {
    if (!id || !nodes[id]) { return; }
    nodes[id].classList.toggle("sel", on);
    (edgesOf[id] || []).forEach(function (p) { p.classList.toggle("hl", on); });
  }
  function select(id) { mark(pinned, false); pinned = id; mark(pinned, true); show(pinned); }
  Object.keys(nodes).forEach(function (id) {
    nodes[id].addEventListener("mouseenter", function () { if (!drag) { show(id); } });
    nodes[id].addEventListener("mouseleave", function () { if (!drag) { show(pinned); } });
  });
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("zin").addEventListener("click", function () { var r = svg.getBoundingClientRect(); zoomAt(1.25, r.width / 2, r.height / 2); });
  document.getElementById("zout").addEventListener("click", function () { var r = svg.getBoundingClientRect(); zoomAt(0.8, r.width / 2, r.height / 2); });
  document.getElementById("root").addEventListener("click", function () { select(data.root); centreOn(data.root); });
  document.addEventListener("keydown", function (e) {
    if (e.target && e.target.id === "search") { return; }
    if (e.key === "+" || e.key === "=") { var r = svg.getBoundingClientRect(); zoomAt(1.25, r.width / 2, r.height / 2); }
    else if (e.key === "-") { var q = svg.getBoundingClientRect(); zoomAt(0.8, q.width / 2, q.height / 2); }
    else if (e.key === "0") { fit(); }
    else if (e.key === "Escape") { select(null); }
  });
  window.addEventListener("resize", function () { if (!moved) { fit(); } });
  window.addEventListener("hashchange", fromHash);
  function fromHash() {
    var id = decodeURIComponent((location.hash || "").slice(1));
    if (data.nodes[id]) { select(id); centreOn(id); }
  }
  // collapsible subtrees: a node's toggle hides what only it leads to
  var kids = {}, parentsOf = {};
  Object.keys(data.nodes).forEach(function (id) { kids[id] = data.nodes[id].children; parentsOf[id] = data.nodes[id].parents; });
  var folded = {};
  function refresh() {
    var seen = {}, queue = [data.root];
    seen[data.root] = true;
    while (queue.length) {
      var id = queue.shift();
      if (folded[id]) { continue; }
      kids[id].forEach(function (c) { if (!seen[c]) { seen[c] = true; queue.push(c); } });
    }
    Object.keys(nodes).forEach(function (id) {
      nodes[id].classList.toggle("hidden", !seen[id] && data.nodes[id].parents.length > 0);
      var t = document.querySelector('.toggle[data-for="' + id + '"] text');
      if (t) { t.textContent = folded[id] ? "+" : "\u2212"; }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".edge"), function (p) {
      var s = p.getAttribute("data-s"), t = p.getAttribute("data-t");
      p.classList.toggle("hidden", nodes[s].classList.contains("hidden") || nodes[t].classList.contains("hidden") || !!folded[s]);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".toggle"), function (g) {
    g.addEventListener("pointerdown", function (e) { e.stopPropagation(); });
    g.addEventListener("click", function (e) {
      e.stopPropagation();
      var id = g.getAttribute("data-for");
      folded[id] = !folded[id];
      refresh();
    });
  });
  document.getElementById("expand").addEventListener("click", function () { folded = {}; refresh(); });
  document.getElementById("collapse").addEventListener("click", function () {
    folded = {};
    kids[data.root].forEach(function (c) { if (kids[c].length) { folded[c] = true; } });
    refresh();
  });
  // search: every node whose words match is marked; Enter goes to the next one
  var box = document.getElementById("search"), hits = [], at = -1;
  function unfoldTo(id) {
    var todo = [id], done = {};
    while (todo.length) {
      var n = todo.pop();
      if (done[n]) { continue; }
      done[n] = true;
      parentsOf[n].forEach(function (p) { delete folded[p]; todo.push(p); });
    }
  }
  function search() {
    var q = box.value.trim().toLowerCase();
    hits = [];
    Object.keys(nodes).forEach(function (id) {
      var n = data.nodes[id];
      var hit = q.length > 1 && ((n.label || "") + " " + (n.text || "")).toLowerCase().indexOf(q) >= 0;
      nodes[id].classList.toggle("hit", hit);
      if (hit) { hits.push(id); }
    });
    document.getElementById("hits").textContent = q.length > 1 ? hits.length + " found" : "";
    at = -1;
    if (hits.length) { next(); }
  }
  function next() {
    if (!hits.length) { return; }
    at = (at + 1) % hits.length;
    unfoldTo(hits[at]); refresh(); select(hits[at]); centreOn(hits[at]);
  }
  box.addEventListener("input", search);
  box.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); next(); } e.stopPropagation(); });
  refresh();
  show(null); fit(); fromHash();
}());
"""


def _e(text: str) -> str:
    return escape(str(text), quote=True)


def _swatch(key: str, text: str) -> str:
    s = STYLES[key]
    dash = ' stroke-dasharray="4 2"' if s.dash else ""
    rx = "7" if s.shape in ("rule",) else ("4" if s.shape in ("statement", "test") else "0")
    return (f'<span><svg viewBox="0 0 26 14" aria-hidden="true"><rect x="1" y="1" width="24" height="12" rx="{rx}" '
            f'fill="{s.fill}" stroke="{s.stroke}" stroke-width="{2 if s.bold else 1.2}"{dash}/></svg>'
            f"{_e(text)}</span>")


def _markers() -> str:
    colours = ["#555555", "#9e9e9e", "#e65100", "#c62828"]
    out = []
    for c in colours:
        out.append(f'<marker id="arrow-{c[1:]}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
                   f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>')
    return "<defs>" + "".join(out) + "</defs>"


def _node_svg(node: str, data: dict, lay: Layout) -> str:
    box = lay.boxes[node]
    key = style_key(data)
    s = STYLES[key]
    rx = box.h / 2 if s.shape == "rule" else (8 if s.shape in ("statement", "test") else 2)
    dash = ' stroke-dasharray="6 4"' if s.dash else ""
    words = " words" if "ids" in data else ""
    parts = [f'<g class="node{words} k-{_e(key.replace(":", "-"))}" data-id="{_e(node)}">',
             f"<title>{_e(data['label'])}</title>",
             f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="{rx:.1f}" '
             f'fill="{s.fill}" stroke="{s.stroke}" stroke-width="{2.2 if s.bold else 1.2}"{dash}/>']
    if s.shape == "table":  # a folded corner marks a row of a knowledge-base table
        fx, fy = box.x + box.w, box.y
        parts.append(f'<path d="M{fx - 9:.1f},{fy:.1f} L{fx:.1f},{fy + 9:.1f} L{fx - 9:.1f},{fy + 9:.1f} z" '
                     f'fill="{s.stroke}" opacity=".5"/>')
    y = box.y + PAD_Y + LINE_H - 4
    for cls, text in box.lines:
        colour = f' fill="{s.stroke}"' if cls == "tag" else ""
        parts.append(f'<text class="{cls}" x="{box.cx:.1f}" y="{y:.1f}" text-anchor="middle"{colour}>{_e(text)}</text>')
        y += LINE_H
    parts.append("</g>")
    return "".join(parts)


def _toggle_svg(node: str, lay: Layout, direction: str) -> str:
    """A small − / + button on the edge of a node that has children: folds its subtree."""
    box = lay.boxes[node]
    cx, cy = (box.cx, box.y + box.h) if direction == "TB" else (box.x + box.w, box.cy)
    return (f'<g class="toggle" data-for="{_e(node)}"><title>fold or unfold what this leads to</title>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7"/>'
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle">\u2212</text></g>')


def _payload(graph: nx.DiGraph, lay: Layout) -> str:
    """The graph as the page's script reads it (JSON, safe inside a <script> element)."""
    meta = graph.graph
    payload = {
        "root": meta.get("root"), "width": lay.width, "height": lay.height,
        "citations": meta.get("citations", {}),
        "kinds": {k: {"legend": legend_text(graph, k), "fill": STYLES[k].fill, "stroke": STYLES[k].stroke}
                  for k in LEGEND_ORDER},
        "nodes": {node: {"kind": d["kind"], "style": style_key(d), "label": d["label"], "text": d["text"],
                         "rule": d["rule"], "citations": d["citations"], "field": d["field"],
                         "status": d["status"],
                         "parents": list(graph.predecessors(node)), "children": list(graph.successors(node)),
                         "x": lay.boxes[node].x, "y": lay.boxes[node].y,
                         "w": lay.boxes[node].w, "h": lay.boxes[node].h}
                  for node, d in graph.nodes(data=True)},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return blob.replace("</", "<\\/").replace("<!--", "<\\!--")


def _info(graph: nx.DiGraph) -> str:
    meta = graph.graph
    info = []
    if meta.get("case_id"):
        info.append(f"case {meta['case_id']}")
    if meta.get("kb_version"):
        info.append(f"knowledge base {meta['kb_version']} ({meta.get('kb_digest', '')})")
    info.append(f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
    if meta.get("truncated"):
        info.append("truncated: too large to draw whole")
    return " · ".join(info)


def to_html(graph: nx.DiGraph) -> str:
    lay = layout(graph)
    title = graph.graph.get("title", "proof graph")
    edges_svg = []
    for source, target, kind, path in lay.edges:
        colour = edge_colour(graph, target, kind)
        cls = "edge fail" if kind in FAILING_EDGES else "edge"
        edges_svg.append(f'<path class="{cls}" data-s="{_e(source)}" data-t="{_e(target)}" d="{path}" '
                         f'stroke="{colour}" marker-end="url(#arrow-{colour[1:]})"/>')
    nodes_svg = [_node_svg(node, data, lay) for node, data in graph.nodes(data=True)]
    toggles = [_toggle_svg(node, lay, lay.direction) for node in graph.nodes if graph.out_degree(node)]
    blob, info = _payload(graph, lay), _info(graph)
    legend = "".join(_swatch(k, legend_text(graph, k)) for k in legend_keys(graph))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<div class="meta">{_e(info)}</div>
<div class="bar"><div class="legend">{legend}</div>
<span><button id="fit" type="button" title="fit to window (0)">fit</button> <button id="zin" type="button" title="zoom in (+)">+</button> <button id="zout" type="button" title="zoom out (-)">&minus;</button> <button id="root" type="button">conclusion</button> <button id="collapse" type="button" title="fold every branch under the conclusion">fold all</button> <button id="expand" type="button" title="unfold everything">unfold all</button></span>
<span><input id="search" type="search" placeholder="search the graph" aria-label="search the graph"><span id="hits"></span></span></div>
</header>
<main>
<svg id="canvas" role="img" aria-label="{_e(title)}">
{_markers()}
<g id="viewport">
<g class="edges">
{chr(10).join(edges_svg)}
</g>
<g class="nodes">
{chr(10).join(nodes_svg)}
</g>
<g class="toggles">
{chr(10).join(toggles)}
</g>
</g>
</svg>
<aside id="details" aria-live="polite"></aside>
</main>
<script type="application/json" id="graph-data">{blob}</script>
<script>{_JS}</script>
</body>
</html>
"""
