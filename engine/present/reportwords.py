"""The kb's report wording (`report.yaml`) joined with the names words.yaml gives verdicts,
bases and families: what the letter's phrases and the report templates both read."""
from __future__ import annotations

from typing import Any

from engine.errors import Finding, Location, RuleError
from engine.knowledge.base import KnowledgeBase


def report_words(kb: KnowledgeBase) -> dict[str, Any]:
    """report.yaml (titles, headings, bullets, rationale) with the names of verdicts, bases
    and families from words.yaml, so both speak with one voice (read once per loaded kb)."""
    found = kb.__dict__.get("_report_words")
    if found is None:
        found = kb.__dict__["_report_words"] = _read_report_words(kb)
    return found


def _read_report_words(kb: KnowledgeBase) -> dict[str, Any]:
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
