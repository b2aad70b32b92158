"""One visual vocabulary for every renderer.

Shape tells the role (rounded box: a statement; ellipse: a rule; plain box: a fact), colour and
line the status: green holds, blue is a fact, orange dashed is missing documentation, red is a
contradiction, grey dashed is a rule or conclusion that failed.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    fill: str
    stroke: str
    dash: bool = False          # dashed outline
    bold: bool = False          # thick outline
    shape: str = "statement"    # statement | rule | fact | table | test | gap
    legend: str = ""
    tag: str = ""               # a word printed above the label where colour alone is not enough


STYLES: dict[str, Style] = {
    "conclusion": Style("#e3f4e1", "#2e7d32", legend="conclusion that holds"),
    "rule": Style("#ffffff", "#2e7d32", shape="rule", legend="rule instance (clause that fired)"),
    "fact": Style("#e1ecfa", "#1f5fa8", shape="fact", legend="fact from the case file"),
    "fact:kb": Style("#f0f5fc", "#5b84bd", shape="table", legend="fact from a knowledge-base table"),
    "negation": Style("#f3f8ee", "#558b2f", shape="test", legend="negated condition that holds"),
    "comparison": Style("#f1ecf8", "#5e35b1", shape="test", legend="comparison that holds"),
    "aggregate": Style("#e4f4f5", "#00838f", shape="test", legend="aggregate and its value"),
    "not_derived": Style("#f7f7f7", "#757575", dash=True, legend="conclusion that does not hold",
                         tag="NOT DERIVED"),
    "failed_rule": Style("#f2f2f2", "#9e9e9e", dash=True, shape="rule", legend="rule that does not apply",
                         tag="FAILED RULE"),
    "missing": Style("#fff1e0", "#e65100", dash=True, bold=True, shape="gap",
                     legend="missing fact (not documented)", tag="MISSING"),
    "contradicted": Style("#fdeaea", "#c62828", bold=True, shape="gap", legend="contradicted by the record",
                          tag="CONTRADICTED"),
    "blocked": Style("#ffffff", "#bdbdbd", dash=True, shape="test", legend="not evaluated (earlier failure)",
                     tag="BLOCKED"),
    "option": Style("#eef7f1", "#2e7d32", dash=True, bold=True, legend="documentation that would change it",
                    tag="TO DOCUMENT"),
}

LEGEND_ORDER = ("conclusion", "rule", "fact", "fact:kb", "negation", "comparison", "aggregate",
                "not_derived", "failed_rule", "missing", "contradicted", "blocked", "option")
CLINICAL_LEGEND = {"conclusion": "criterion met / verdict", "not_derived": "not documented / not reached",
                   "contradicted": "contradicted by the record", "fact": "fact from the case file",
                   "missing": "missing documentation", "option": "documentation that would change it",
                   "blocked": "no documentation set found"}
"""Legend words of the clinical view, where the same colours mean criterion states."""

EDGE_COLOURS = {"missing": "#e65100", "contradicted": "#c62828"}
FAILING_EDGES = {"attempt", "fails", "not_derived", "would_count"}
EDGE_LABELS = {"because": "because", "not_derived": "not derived", "would_count": "would count"}


def style_key(data: dict) -> str:
    """The STYLES key of a node's attribute dict."""
    if data.get("kind") == "fact" and data.get("source") == "kb":
        return "fact:kb"
    return data.get("kind", "fact") if data.get("kind") in STYLES else "fact"


def style_of(data: dict) -> Style:
    return STYLES[style_key(data)]


def legend_text(graph, key: str) -> str:
    if graph.graph.get("view") == "clinical" and key in CLINICAL_LEGEND:
        return CLINICAL_LEGEND[key]
    return STYLES[key].legend


def legend_keys(graph) -> list[str]:
    """Legend entries for the node styles a graph uses, in legend order."""
    used = {style_key(data) for _, data in graph.nodes(data=True)}
    return [k for k in LEGEND_ORDER if k in used]


def headline(data: dict) -> str:
    """The main line of a node's label."""
    kind = data.get("kind")
    if "ids" in data:  # the clinical view: words only
        return data.get("label", "")
    if kind == "rule":
        return f"rule {data['rule']}"
    if kind == "failed_rule":
        return f"rule {data['rule'] or data['label']} does not apply"
    return data.get("label", "")


def subline(data: dict) -> str:
    """A short second line: the field to document, or the citations of a rule (in the clinical
    view: the node's text, its state and requirement)."""
    if "ids" in data:
        return data.get("text", "")
    if data.get("field"):
        return f"field: {data['field']}"
    if data.get("kind") in ("rule", "failed_rule") and data.get("citations"):
        return ", ".join(data["citations"])
    if data.get("collapsed"):
        return "its proof is not drawn here"
    return ""


def wrap(text: str, width: int = 52, lines: int | None = None) -> list[str]:
    """Text in lines of at most `width` characters; all of it unless `lines` caps the count."""
    out = textwrap.wrap(text, width, break_on_hyphens=False) if text else []
    if lines is not None and len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def edge_colour(graph, target: str, kind: str) -> str:
    return EDGE_COLOURS.get(graph.nodes[target]["kind"], "#9e9e9e" if kind in FAILING_EDGES else "#555555")
