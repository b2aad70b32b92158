"""Explanations as text: proof and failure trees, and why-not answers that lead with what to do.

Everything here speaks the kb's words (kb/words.yaml, through the explanations' own texts);
identifiers — rule ids, Prolog terms, field paths, line ids — appear only with `ids=True`.
"""
from __future__ import annotations

import textwrap
from typing import Any

from engine.guard.text import terminal

WIDTH = 100

_MARKS = {
    "conclusion": "✔", "fact": "•", "negation": "¬", "comparison": "≟", "aggregate": "Σ",
    "not_derived": "✘", "failed_rule": "↳", "missing": "? missing:", "contradicted": "✘ contradicted:",
    "blocked": "… not checked:",
}


def tree_text(node: dict[str, Any], depth: int | None = None, ids: bool = False) -> str:
    """An explanation tree (Node.to_dict()) as indented text, one step per line, in words; with
    `ids` each step also shows its term, rule id, sources and case field."""
    lines: list[str] = []
    _tree_lines(node, depth, "", lines, ids)
    return "\n".join(terminal(line) for line in lines) + "\n"


def _tree_lines(node: dict[str, Any], depth: int | None, prefix: str, out: list[str], ids: bool) -> None:
    mark = _MARKS.get(node["kind"], "•")
    said = node.get("text") or ("" if ids else _plain_label(node))
    if node["kind"] == "failed_rule":
        said = f"not this way: {said}" if said else "a rule that does not apply"
    head = f"{mark} {said}".rstrip()
    if ids:
        extra = [node["label"]] if node.get("label") and node["kind"] != "failed_rule" else []
        if node.get("rule"):
            extra.append(f"rule {node['rule']}")
        if node.get("citations"):
            extra.append(", ".join(node["citations"]))
        if extra:
            head += f"   [{'; '.join(extra)}]"
    out.append(prefix + head)
    if ids and node.get("field"):
        out.append(prefix + "    field: " + node["field"])
    if depth is not None and depth <= 0:
        if node.get("children"):
            out.append(prefix + f"    … {len(node['children'])} more step(s); raise --depth to see them")
        return
    for child in node.get("children", []):
        _tree_lines(child, None if depth is None else depth - 1, prefix + "  ", out, ids)


def _plain_label(node: dict[str, Any]) -> str:
    """A step with no sentence (a comparison, an aggregate): its values, without the term."""
    label = str(node.get("label", ""))
    return label if node["kind"] in ("comparison", "aggregate") else ""


def why_not_text(result: dict[str, Any], depth: int | None = None, ids: bool = False, tree: bool = False) -> str:
    """A why-not answer (engine.decide.whynot.explain_absence): the verdict, what stands in the
    way by criterion with the policy's requirement, the documentation that would change it —
    one screen — and, with `tree`, every rule and failed condition."""
    words = result.get("words", {})
    line = words.get("line", result["line"]) + (f"  [{result['line']}]" if ids else "")
    label = f" — {words['label']}" if words.get("label") else ""
    actual = f"{words.get('actual', result['actual']['verdict'])} ({words.get('basis', result['actual']['basis'])})"
    target = words.get("verdict", result["verdict"])
    if result["holds"]:
        return (f"{terminal(line + label)}\nIt is {target} already ({words.get('basis', '')}); "
                "`warrant why` shows the proof.\n")
    out = [f"{line}{label}", f"Verdict: {actual}; asked why it is not {target}.", ""]
    out += _standing_lines(result, ids)
    out += [""] + _sets_lines(result, ids)
    if tree and result.get("tree"):
        out += ["", "Every way to reach the verdict, and what fails in each:", tree_text(result["tree"], depth, ids).rstrip("\n")]
    elif not tree:
        out += ["", "(--tree shows every rule and failed condition; --ids shows the identifiers)"]
    return "\n".join(line if "\n" in line else terminal(line) for line in out) + "\n"


def _standing_lines(result: dict[str, Any], ids: bool) -> list[str]:
    standing = result.get("standing", [])
    if not standing:
        return ["Nothing in the record stands in the way; the rules alone decide it."]
    out = ["What stands in the way:"]
    for item in standing:
        if item["kind"] == "request":
            out.append(f"  • the request: {item['text']}" + (f"  [{', '.join(item.get('fields', []))}]" if ids else ""))
        elif item["kind"] == "depends":
            tail = f", which no {result.get('max_size')} documented facts or fewer would change" \
                if item.get("least_facts") is None else ""
            out.append(f"  • it can be no better than {item['text']} ({item['verdict_text']}){tail}"
                       + (f"  [{item['line']}]" if ids else ""))
        else:
            name = item["name"] + (f"  [{item['criterion']}]" if ids else "")
            out.append(f"  • {name} — {item['state_text']}")
            if item.get("requirement"):
                out += _wrapped("the policy asks for: " + item["requirement"], "      ")
            if item.get("documented"):
                shown = "; ".join(d["text"] + (f" ({d['field']})" if ids else "") for d in item["documented"])
                out += _wrapped("the record shows: " + shown, "      ")
            if item.get("missing"):
                shown = "; ".join(m["text"] + (f" ({m['field']})" if ids else "") for m in item["missing"])
                out += _wrapped("not documented: " + shown, "      ")
    return out


def _sets_lines(result: dict[str, Any], ids: bool) -> list[str]:
    target = result.get("words", {}).get("verdict", result["verdict"])
    sets = result.get("minimal_sets", [])
    if not sets:
        note = result.get("minimal_note") or f"no set of documented facts makes it {target}"
        out = ["Documentation that would change it:"] + _wrapped(note[:1].upper() + note[1:] + ".", "  ")
        return out
    intro = "documenting this would" if len(sets) == 1 else "any one of these would"
    out = [f"Smallest documentation that would make it {target} ({intro}):"]
    line_id = result["line"]
    for n, found in enumerate(sets, 1):
        facts = found["facts"]
        first = f"  {n}. " if len(sets) > 1 else "  - "
        pad = " " * len(first)
        for i, fact in enumerate(facts):
            text = fact["text"] + (f"   [{fact['field']} {fact['op']} {_json_value(fact['value'])}]" if ids else "")
            out += _wrapped(("and " if i else "") + text, first if i == 0 else pad)
        others = [u for u in found.get("unblocks", []) if u != line_id]
        if others:
            phrases = result.get("words", {}).get("lines", {})
            named = ", ".join(u if ids else phrases.get(u, u) for u in others)
            out += _wrapped(f"(it would also make {named} {target})", pad)
    return out


def _json_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent.rstrip()]
