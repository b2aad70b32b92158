"""Written determinations (`warrant report`): a decision regrouped the way a reviewer writes one.

Per stage a verdict heading; per family the verdict with its reasons and numbered citations;
then the documentation required, the recommended action per line and the reference list. The
content comes from the decision (itself built from proofs); the words and layout come from the
kb (`report.yaml`, `templates/report.*.j2`), rendered with Jinja2 in a sandbox.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from engine.errors import Finding, Location, RuleError
from engine.knowledge.base import KnowledgeBase
from engine.knowledge.interface import CODE_FAMILY

FORMATS = ("markdown", "html")


def report_context(decision: dict[str, Any], kb: KnowledgeBase, escape: Callable[[Any], str] = str,
                   code_span: Callable[[Any], str] | None = None) -> dict[str, Any]:
    """The decision regrouped for a written report: families per stage, numbered references.
    Text a case file can supply goes through `escape`, the case id through `code_span` if given
    (see `_escaped`)."""
    decision = _escaped(decision, escape, code_span)
    families = {str(code): str(family) for code, family in kb.program.query(*CODE_FAMILY)}
    numbers: dict[str, int] = {}

    def refs(citations: list[str]) -> list[int]:
        out = []
        for cite in citations:
            numbers.setdefault(cite, len(numbers) + 1)
            out.append(numbers[cite])
        return sorted(set(out))

    def with_refs(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "refs": refs(r["citations"])} for r in reasons]

    stages = []
    actions = []
    for stage in decision["stages"]:
        groups: list[dict[str, Any]] = []
        for line in stage["lines"]:
            family = families.get(line["code"], "no_policy")
            where = line["level"] or line["side"] or None
            label = f"{line['code']} at {where}" if where else line["code"]
            actions.append({"stage": stage["stage"], "code": line["code"], "where": where or "-",
                            "verdict": line["verdict"], "basis": line["basis"]})
            group = next((g for g in groups if g["family"] == family and g["verdict"] == line["verdict"]
                          and g["basis"] == line["basis"]), None)
            if group is None:
                group = {"family": family, "verdict": line["verdict"], "basis": line["basis"], "labels": [],
                         "reasons": [], "missing": []}
                groups.append(group)
            group["labels"].append(label)
            for reason in with_refs(line["reasons"]):
                if all(r["text"] != reason["text"] for r in group["reasons"]):
                    group["reasons"].append(reason)
            for item in line["missing_documentation"]:
                if item not in group["missing"]:
                    group["missing"].append(item)
        entry: dict[str, Any] = {"stage": stage["stage"], "verdict": stage["verdict"], "groups": groups,
                                 "policy": stage.get("policy")}
        if "admission" in stage:
            entry["admission"] = {**stage["admission"], "reasons": with_refs(stage["admission"]["reasons"])}
        stages.append(entry)
    words = report_words(kb)
    for entry in stages:
        for group in entry["groups"]:
            title = words["families"].get(group["family"], group["family"])
            group["title"] = title[:1].upper() + title[1:]
            group["lines"] = ", ".join(group["labels"])
    registry = {c["id"]: c for c in decision["citations"]}
    references = [{"number": n, "id": cite, "title": registry.get(cite, kb.citations.get(cite, {})).get("title", cite),
                   "source": registry.get(cite, kb.citations.get(cite, {})).get("source", "")}
                  for cite, n in sorted(numbers.items(), key=lambda kv: kv[1])]
    return {"case_id": decision["case_id"], "kb_version": decision["knowledge_base"]["version"],
            "kb_digest": decision["knowledge_base"]["digest"], "stages": stages,
            "documentation": decision["documentation_requests"], "actions": actions, "references": references}


def _escaped(decision: dict[str, Any], escape: Callable[[Any], str],
             code_span: Callable[[Any], str] | None) -> dict[str, Any]:
    """A copy of the decision with the text a case file can supply escaped: the case id (as a
    code span when `code_span` is given), codes, levels, sides and reasons that quote case
    values. Markdown escaping for a Markdown report; for HTML, control characters only, as the
    template escapes the rest."""
    def line(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "code": escape(item["code"]),
                "level": escape(item["level"]) if item.get("level") else item.get("level"),
                "side": escape(item["side"]) if item.get("side") else item.get("side"),
                "reasons": reasons(item["reasons"])}

    def reasons(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "text": escape(r["text"])} for r in items]

    stages = []
    for stage in decision["stages"]:
        entry = {**stage, "lines": [line(item) for item in stage["lines"]]}
        if "admission" in stage:
            entry["admission"] = {**stage["admission"], "reasons": reasons(stage["admission"]["reasons"])}
        stages.append(entry)
    requests = [{**r, "unblocks": [escape(u) for u in r["unblocks"]]} for r in decision["documentation_requests"]]
    case_id = code_span(decision["case_id"]) if code_span else escape(decision["case_id"])
    return {**decision, "case_id": case_id, "stages": stages, "documentation_requests": requests}


def report_words(kb: KnowledgeBase) -> dict[str, Any]:
    """report.yaml (titles, headings, stage summaries, actions) with the names of verdicts, bases
    and families from words.yaml, so both speak with one voice."""
    from engine.knowledge.yamlio import read_yaml

    path = kb.root / "report.yaml"
    if not path.is_file():
        raise RuleError([Finding("kb_missing", "the knowledge base has no report.yaml with report wording",
                                 Location(str(path)))])
    words = kb.words
    out = dict(read_yaml(path) or {})
    out["verdicts"] = {v: words.verdict(v) for v in words.data["verdicts"]}
    out["bases"] = {b: words.basis_means(b) for b in words.data["bases"]}
    out["families"] = {f: words.family(f) for f in words.data["families"]}
    return out


def render_report(decision: dict[str, Any], kb: KnowledgeBase, fmt: str = "markdown") -> str:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.exceptions import TemplateError

    from engine.guard.text import markdown, markdown_code, terminal
    from engine.present.sandbox import BoundedEnvironment

    name = {"markdown": "report.md.j2", "html": "report.html.j2"}[fmt]
    templates = Path(kb.root) / "templates"
    env = BoundedEnvironment(loader=FileSystemLoader(str(templates)), autoescape=(fmt == "html"),
                             undefined=StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=False, lstrip_blocks=False)
    env.add_filter("sentence", lambda text: text[:1].upper() + text[1:] if text else text)
    if fmt == "markdown":
        context = report_context(decision, kb, markdown, markdown_code)
    else:
        context = report_context(decision, kb, terminal)
    try:
        template = env.get_template(name)
        text = env.render(template, report=context, words=report_words(kb))
    except (TemplateError, OSError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None) or 0
        raise RuleError([Finding("template", f"report template error: {exc}", Location(str(templates / name), line))]) from None
    return text.rstrip("\n") + "\n"
