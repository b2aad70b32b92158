"""Plain-text and Markdown views of a decision (the JSON is the contract; these are for people)."""
from __future__ import annotations

from typing import Any

from engine.guard.text import markdown as md
from engine.guard.text import markdown_code as md_code
from engine.guard.text import terminal as term


def _where(line: dict[str, Any]) -> str:
    """Level or side of a line, escaped for a terminal (it may come from the case file)."""
    return term(line.get("level") or line.get("side") or "-")


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return out


def decision_text(decision: dict[str, Any]) -> str:
    lines = [f"case {term(decision['case_id'])}  (knowledge base {decision['knowledge_base']['version']})", ""]
    rows = []
    for stage in decision["stages"]:
        for line in stage["lines"]:
            rows.append([str(stage["stage"]), term(line["code"]), _where(line), line["verdict"], line["basis"]])
        if "admission" in stage:
            adm = stage["admission"]
            days = f"{adm['requested_days']} d requested" if adm.get("requested_days") is not None else ""
            if adm.get("supported_days") is not None:
                days += f", {adm['supported_days']} supported"
            rows.append([str(stage["stage"]), "admission", days or "-", adm["verdict"], adm["basis"]])
        rows.append([str(stage["stage"]), "STAGE", "", stage["verdict"], ""])
    lines += _table(["stage", "code", "level", "verdict", "basis"], rows)
    if decision["documentation_requests"]:
        lines += ["", "documentation requested:"]
        for req in decision["documentation_requests"]:
            lines.append(f"  - {term(req['field'])}: {term(req['item'])}  (unblocks {term(', '.join(req['unblocks']))})")
    return "\n".join(lines) + "\n"


def decision_markdown(decision: dict[str, Any], verdict_words: dict[str, str] | None = None) -> str:
    """A compact Markdown table; `verdict_words` (from the kb's report.yaml) names the verdicts."""
    words = verdict_words or {}
    out = [f"# Determination for case {md_code(decision['case_id'])}", "",
           f"Knowledge base {decision['knowledge_base']['version']} (`{decision['knowledge_base']['digest']}`)", ""]
    for stage in decision["stages"]:
        out.append(f"## Stage {stage['stage']}: {words.get(stage['verdict'], stage['verdict'])}")
        out.append("")
        out.append("| code | level | verdict | basis | reasons |")
        out.append("|---|---|---|---|---|")
        for line in stage["lines"]:
            why = md("; ".join(r["text"] for r in line["reasons"][:3]))
            where = md(line.get("level") or line.get("side") or "-")
            out.append(f"| {md(line['code'])} | {where} | {line['verdict']} | {line['basis']} | {why} |")
        if "admission" in stage:
            adm = stage["admission"]
            out.append(f"| admission | {adm.get('requested_days') or '-'} d | {adm['verdict']} | {adm['basis']} | "
                       f"{md('; '.join(r['text'] for r in adm['reasons'][:2]))} |")
        out.append("")
    if decision["documentation_requests"]:
        out += ["## Documentation requested", ""]
        for req in decision["documentation_requests"]:
            out.append(f"- {md_code(req['field'])}: {md(req['item'])} (unblocks {md(', '.join(req['unblocks']))})")
        out.append("")
    return "\n".join(out)


_MARKS = {
    "conclusion": "✔", "fact": "•", "negation": "¬", "comparison": "≟", "aggregate": "Σ",
    "not_derived": "✘", "failed_rule": "↳", "missing": "? MISSING", "contradicted": "✘ CONTRADICTED",
    "blocked": "… BLOCKED",
}


def tree_text(node: dict[str, Any], depth: int | None = None, indent: str = "") -> str:
    """An explanation tree (Node.to_dict()) as indented text, one step per line with its rule and sources."""
    lines: list[str] = []
    _tree_lines(node, depth, "", lines, True)
    return "\n".join(lines) + "\n"


def _tree_lines(node: dict[str, Any], depth: int | None, prefix: str, out: list[str], root: bool) -> None:
    mark = _MARKS.get(node["kind"], node["kind"])
    head = f"{mark} {term(node['label'])}"
    if node.get("rule") and node["kind"] in ("conclusion", "failed_rule") and node["rule"] != node["label"]:
        head += f"   [{node['rule']}]"
    elif node.get("rule") and node["kind"] == "failed_rule":
        head = f"{mark} rule {node['rule']} does not apply"
    if node.get("citations"):
        head += f"  ({', '.join(node['citations'])})"
    out.append(prefix + head)
    detail_prefix = prefix + "    "
    if node.get("text"):
        out.append(detail_prefix + term(node["text"]))
    if node.get("field"):
        out.append(detail_prefix + f"field: {term(node['field'])}")
    if depth is not None and depth <= 0:
        if node.get("children"):
            out.append(detail_prefix + f"… {len(node['children'])} more step(s); raise --depth to see them")
        return
    for child in node.get("children", []):
        _tree_lines(child, None if depth is None else depth - 1, prefix + "  ", out, False)


def why_not_text(result: dict[str, Any], depth: int | None = None) -> str:
    """A why-not answer (engine.decide.whynot.explain_absence) as text: the failure tree, what stands
    in the way, and the smallest documentation sets."""
    line, verdict, actual = result["line"], result["verdict"], result["actual"]
    if result["holds"]:
        return f"{line} is {verdict} ({actual['basis']}); nothing to explain. See `warrant why`.\n"
    out = [f"{line} is {actual['verdict']} ({actual['basis']}), not {verdict}. Every way to reach {verdict}:", "",
           tree_text(result["tree"], depth).rstrip("\n")]
    if result["blocking"]:
        out += ["", "what stands in the way:"]
        for item in result["blocking"]:
            out.append(f"  - {item['text'] or item['fact']}")
            out += [f"      not documented: {field}" for field in item["missing"]]
            out += [f"      documented: {fact}" for fact in item["contradicted_by"]]
    out += ["", "smallest documentation that would make it hold:"]
    if result["minimal_sets"]:
        for i, item in enumerate(result["minimal_sets"], 1):
            out.append(f"  {i}. " + "; ".join(f"{f['field']} = {f['value']}" for f in item["facts"]))
    else:
        out.append(f"  {result['minimal_note']}")
    return "\n".join(out) + "\n"


def answers_text(answers: list[dict[str, Any]]) -> str:
    """Query answers as an aligned table (Prolog's `true.` / `false.` when there are no variables)."""
    from engine.language.ast import format_value

    if not answers:
        return "false.\n"
    names = list(answers[0])
    if not names:
        return "true.\n"
    rows = [[format_value(a[n]) for n in names] for a in answers]
    return "\n".join(_table(names, rows)) + "\n"
