"""The CLI's explanations for a stored decision: why, why-not, graphs and written reports.

A stored decision is explained by opening its request again with the same knowledge base (the
digest must match the one recorded; otherwise the explanation could describe another policy).
These functions run on the decision thread.
"""
from __future__ import annotations

import json
from typing import Any

from engine.decide.decision import LINE_VERDICT, line_verdict
from engine.errors import UsageError
from engine.service.deciding import reopen

MEDIA = {"dot": "text/vnd.graphviz", "svg": "image/svg+xml", "png": "image/png", "html": "text/html",
         "mermaid": "text/plain", "json": "application/json", "markdown": "text/markdown",
         "pdf": "application/pdf"}
REOPEN_FROM_CASE = ("crd", "dtr")   # their bodies are hook or operation payloads, not cases


def session_of(kb, stored) -> Any:
    """The session of a stored decision: its request as received (a case or a PAS bundle), or
    for CRD and DTR records the normalised case they were decided on."""
    if stored.channel in REOPEN_FROM_CASE:
        return reopen(kb, json.dumps(stored.case), "case.json", stored.decision)
    kind = "yaml" if "yaml" in stored.content_type else "json"
    return reopen(kb, stored.request_body.decode("utf-8", errors="surrogateescape"), f"request.{kind}",
                  stored.decision)


def find_line(session, line_id: str):
    for line in session.lines:
        if line.id == line_id:
            return line
    raise UsageError(f"no line {line_id!r} in this decision; its lines are "
                     f"{', '.join(ln.id for ln in session.lines)}")


def trim(tree: dict[str, Any], depth: int | None) -> dict[str, Any]:
    if depth is None:
        return tree
    out = {k: v for k, v in tree.items() if k != "children"}
    if depth > 0 and tree.get("children"):
        out["children"] = [trim(c, depth - 1) for c in tree["children"]]
    return out


def why(kb, stored, line_id: str, depth: int | None) -> dict[str, Any]:
    session = session_of(kb, stored)
    line = find_line(session, line_id)
    tree = session.explainer.why(LINE_VERDICT, (line.id, *line_verdict(session, line))).to_dict()
    return trim(tree, depth)


def why_not(kb, stored, line_id: str, verdict: str | None, depth: int | None) -> dict[str, Any]:
    from engine.decide.whynot import explain_absence

    verdict = verdict or kb.verdicts["positive"]
    if verdict not in kb.verdicts.values():
        raise UsageError(f"{verdict!r} is not a verdict of this knowledge base; choose one of "
                         f"{', '.join(kb.verdicts.values())}")
    session = session_of(kb, stored)
    line = find_line(session, line_id)
    result = explain_absence(session, line, verdict, line_verdict(session, line))
    if result.get("tree"):
        result["tree"] = trim(result["tree"], depth)
    return result


def graph(kb, stored, line_id: str, fmt: str, why_not_verdict: str | None) -> str | bytes:
    import graphs

    session = session_of(kb, stored)
    line = find_line(session, line_id)
    drawn = (graphs.why_not_graph(session, line, why_not_verdict) if why_not_verdict
             else graphs.line_proof_graph(session, line))
    return graphs.render(drawn, fmt)


def report(kb, stored, fmt: str, reviewer: str | None = None) -> str | bytes:
    """The determination letter of a stored decision, dated by the record: received when the
    request arrived, decided when the decision was stored (so the same record gives the same
    bytes, PDF included)."""
    from engine.present.letter import LetterOptions
    from engine.present.report import render_report

    policy = (str(stored.policy["id"]), str(stored.policy["version"])) if stored.policy.get("id") else None
    options = LetterOptions(reviewer=reviewer, received=_day(stored.received_at), decided=_day(stored.decided_at),
                            policy=policy)
    return render_report(session_of(kb, stored), fmt, options)


def _day(when: Any) -> str | None:
    return when.date().isoformat() if when is not None and hasattr(when, "date") else None
