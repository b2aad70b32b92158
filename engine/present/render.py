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


def _phrases(decision: dict[str, Any], words) -> dict[str, str]:
    """Each line id of the decision and how it reads (`2:22633:L4-5` → `22633 at L4-5`)."""
    seen: dict[tuple, int] = {}
    entries = []
    for stage in decision["stages"]:
        for line in stage["lines"]:
            where = line.get("level") or line.get("side") or "-"
            entries.append((f"{stage['stage']}:{line['code']}:{where}", line, stage["stage"]))
            seen[(line["code"], where)] = seen.get((line["code"], where), 0) + 1
    out = {}
    for line_id, line, stage in entries:
        twice = seen[(line["code"], line.get("level") or line.get("side") or "-")] > 1
        out[line_id] = words.line(line["code"], line.get("level"), line.get("side"), stage, twice) if words else line_id
    return out


def policy_text(record: dict[str, Any]) -> str:
    """One stage's policy in words: id, version, when it took effect, the date that chose it."""
    source = {"option": "given with --as-of", "today": "the day of the decision"}.get(record["as_of_from"],
                                                                                       record["as_of_from"])
    return (f"policy {record['id']} {record['version']} (in effect from {record['effective_from']}), "
            f"chosen as of {record['as_of']} ({term(source)})")


def policy_lines(decision: dict[str, Any]) -> list[str]:
    """The policy of each stage, once when every stage has the same one."""
    records = [(stage["stage"], stage["policy"]) for stage in decision["stages"] if stage.get("policy")]
    if not records:
        return []
    if all(r == records[0][1] for _, r in records):
        return [f"decided under {policy_text(records[0][1])}"]
    return [f"stage {stage} decided under {policy_text(record)}" for stage, record in records]


def decision_text(decision: dict[str, Any], words=None, ids: bool = False) -> str:
    """The decision as a table a reviewer reads: verdicts and bases in the kb's words (kb/words.yaml),
    documentation requests by what they are, the lines they would decide; `ids` adds identifiers."""
    verdict = words.verdict if words else str
    basis = words.basis if words else str
    lines = [f"case {term(decision['case_id'])}  (knowledge base {decision['knowledge_base']['version']})",
             *policy_lines(decision), ""]
    rows = []
    for stage in decision["stages"]:
        for line in stage["lines"]:
            rows.append([str(stage["stage"]), term(line["code"]), _where(line), verdict(line["verdict"]),
                         basis(line["basis"]) + (f" [{line['basis']}]" if ids and words else "")])
        if "admission" in stage:
            adm = stage["admission"]
            days = f"{adm['requested_days']} d requested" if adm.get("requested_days") is not None else ""
            if adm.get("supported_days") is not None:
                days += f", {adm['supported_days']} supported"
            rows.append([str(stage["stage"]), "admission", days or "-", verdict(adm["verdict"]), basis(adm["basis"])])
        rows.append([str(stage["stage"]), "STAGE", "", verdict(stage["verdict"]), ""])
    lines += _table(["stage", "code", "level", "verdict", "basis"], rows)
    if decision["documentation_requests"]:
        names = _phrases(decision, words)
        lines += ["", "documentation requested:"]
        for req in decision["documentation_requests"]:
            unblocks = ", ".join(term(u if ids or not words else names.get(u, u)) for u in req["unblocks"])
            field = f"{term(req['field'])}: " if ids or not words else ""
            lines.append(f"  - {field}{term(req['item'])}  (would help decide {unblocks})")
    return "\n".join(lines) + "\n"


def decision_markdown(decision: dict[str, Any], words=None, ids: bool = False) -> str:
    """A compact Markdown table in the kb's words (`words`: engine.knowledge.words.Words)."""
    verdict = words.verdict if words else str
    basis = words.basis if words else str
    names = _phrases(decision, words)
    out = [f"# Determination for case {md_code(decision['case_id'])}", "",
           f"Knowledge base {decision['knowledge_base']['version']} (`{decision['knowledge_base']['digest']}`)", ""]
    if policy_lines(decision):
        out += [md(line) for line in policy_lines(decision)] + [""]
    for stage in decision["stages"]:
        out.append(f"## Stage {stage['stage']}: {verdict(stage['verdict'])}")
        out.append("")
        out.append("| code | level | verdict | basis | reasons |")
        out.append("|---|---|---|---|---|")
        for line in stage["lines"]:
            why = md("; ".join(r["text"] for r in line["reasons"][:3]))
            where = md(line.get("level") or line.get("side") or "-")
            out.append(f"| {md(line['code'])} | {where} | {verdict(line['verdict'])} | {basis(line['basis'])} | {why} |")
        if "admission" in stage:
            adm = stage["admission"]
            out.append(f"| admission | {adm.get('requested_days') or '-'} d | {verdict(adm['verdict'])} | "
                       f"{basis(adm['basis'])} | {md('; '.join(r['text'] for r in adm['reasons'][:2]))} |")
        out.append("")
    if decision["documentation_requests"]:
        out += ["## Documentation requested", ""]
        for req in decision["documentation_requests"]:
            unblocks = md(", ".join(u if ids or not words else names.get(u, u) for u in req["unblocks"]))
            field = f"{md_code(req['field'])}: " if ids or not words else ""
            out.append(f"- {field}{md(req['item'])} (would help decide {unblocks})")
        out.append("")
    return "\n".join(out)


from engine.present.explanations import tree_text, why_not_text  # noqa: E402,F401  (their home)


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
