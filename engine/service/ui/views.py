"""What the decision pages show, in the kb's words: the determination (stages, procedures grouped
by family, verdicts, reasons, documentation needed), one line's drill-down (why, why not, the
minimal documentation sets, the clinical graph) and the audit trail. Identifiers stay in links
and in the audit section."""
from __future__ import annotations

from typing import Any

from engine.knowledge.interface import CODE_FAMILY


def line_id(stage: Any, line: dict[str, Any]) -> str:
    return f"{stage}:{line['code']}:{line.get('level') or line.get('side') or '-'}"


def phrases(decision: dict[str, Any], words) -> dict[str, str]:
    """Each line id and how it reads ("22633 at L4-5"; the stage added where a code and level repeat)."""
    seen: dict[tuple, int] = {}
    entries = []
    for stage in decision.get("stages", []):
        for line in stage.get("lines", []):
            where = line.get("level") or line.get("side") or "-"
            entries.append((line_id(stage["stage"], line), line, stage["stage"]))
            seen[(line["code"], where)] = seen.get((line["code"], where), 0) + 1
    out = {}
    for key, line, stage in entries:
        twice = seen[(line["code"], line.get("level") or line.get("side") or "-")] > 1
        out[key] = words.line(line["code"], line.get("level"), line.get("side"), stage, twice)
    return out


def families(kb) -> dict[str, str]:
    return {str(c): str(f) for c, f in kb.program.query(*CODE_FAMILY)}


def procedures(codes: list[str], kb, family_of: dict[str, str]) -> str:
    """What a decision asked for, in words for the list: its families of procedures in the
    order of its lines, with how many lines where more than one ("<family> (2), <family>");
    `family_of` is `families(kb)`, read once for a page."""
    counts: dict[str, int] = {}
    for code in codes:
        family = family_of.get(str(code), "")
        name = kb.words.family(family) if family else str(kb.meta.get("unknown_code_label", "")) or str(code)
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if n == 1 else f"{name} ({n})" for name, n in counts.items())


def decision_view(stored, kb) -> dict[str, Any]:
    """The determination of a stored decision as the page lays it out: procedures in the
    letter's groups (engine/present/groups.py), titled as the letter titles them."""
    from engine.present.groups import procedure_groups
    from engine.present.letter_words import group_title, report_phrases

    words, decision = kb.words, stored.decision
    roles = {verdict: role for role, verdict in kb.verdicts.items()}
    names = phrases(decision, words)
    say = report_phrases(kb)
    entries = {line_id(s["stage"], ln): (s["stage"], ln) for s in decision.get("stages", []) for ln in s.get("lines", [])}
    found = procedure_groups(kb, [{"key": key, "stage": st, "code": ln["code"], "level": ln.get("level"),
                                   "side": ln.get("side"), "verdict": ln["verdict"], "basis": ln.get("basis")}
                                  for key, (st, ln) in entries.items()], None)
    stages = []
    for stage in decision.get("stages", []):
        groups = [{"name": group_title(say, g), "lines": [_line(stage["stage"], entries[m.key][1], names, words, roles)
                                                          for m in g.members]}
                  for g in found if g.stage == stage["stage"]]
        entry = {"stage": stage["stage"], "verdict": words.verdict(stage["verdict"]),
                 "role": roles.get(stage["verdict"], "mixed"), "groups": groups, "admission": None}
        if stage.get("admission"):
            adm = stage["admission"]
            entry["admission"] = {"verdict": words.verdict(adm["verdict"]), "role": roles.get(adm["verdict"]),
                                  "basis": words.basis(adm["basis"]), "requested": adm.get("requested_days"),
                                  "supported": adm.get("supported_days"),
                                  "reasons": [r["text"] for r in adm.get("reasons", [])[:3]]}
        stages.append(entry)
    requests = [{"item": r["item"], "field": r["field"], "lines": [names.get(u, u) for u in r["unblocks"]]}
                for r in decision.get("documentation_requests", [])]
    return {"case_id": stored.case_id, "outcome": stored.outcome, "stages": stages, "requests": requests,
            "audit": audit_view(stored)}


def _line(stage: Any, line: dict[str, Any], names: dict[str, str], words, roles: dict[str, str]) -> dict[str, Any]:
    key = line_id(stage, line)
    own = [m for m in line.get("missing_documentation", []) if "via" not in m]
    via = sorted({m["via"] for m in line.get("missing_documentation", []) if "via" in m})
    return {"id": key, "code": line["code"], "label": line.get("label") or "", "phrase": names.get(key, key),
            "where": line.get("level") or line.get("side") or "", "verdict": words.verdict(line["verdict"]),
            "role": roles.get(line["verdict"], "undetermined"), "basis": words.basis(line["basis"]),
            "basis_means": words.basis_means(line["basis"]),
            "reasons": list(dict.fromkeys(r["text"] for r in line.get("reasons", [])))[:4],  # first of each, in order
            "missing": _by_criterion(own, words), "via": [names.get(v, v) for v in via],
            "criteria": [{"name": words.criterion(c["criterion"]), "state": c["state"],
                          "state_text": words.state(c["state"])} for c in line.get("criteria", [])]}


def _by_criterion(missing: list[dict[str, Any]], words) -> list[dict[str, Any]]:
    """Missing documentation under the criterion it would decide, in the kb's words."""
    groups: dict[str, list[str]] = {}
    for item in missing:
        key = str(item.get("criterion") or "")
        if item["item"] not in groups.setdefault(key, []):
            groups[key].append(item["item"])
    return [{"criterion": words.criterion(k) if k else "", "items": v} for k, v in groups.items()]


def audit_view(stored) -> dict[str, Any]:
    from engine.service.store.records import iso

    return {"id": stored.id, "channel": stored.channel, "caller": stored.caller, "policy": stored.policy,
            "as_of": stored.as_of, "received": iso(stored.received_at), "decided": iso(stored.decided_at),
            "request": {"content_type": stored.content_type, "sha256": stored.request_sha256,
                        "bytes": len(stored.request_body)}}


# ---------------------------------------------------------------- one line (on the decision thread)
def line_detail(kb, stored, line_key: str) -> dict[str, Any]:
    """Why the line has its verdict, why it has not the positive one, the minimal documentation
    sets that would give it, and the clinical graph (SVG when Graphviz is there)."""
    from engine.decide.decision import LINE_VERDICT, line_verdict
    from engine.decide.whynot import explain_absence
    from engine.service.explaining import find_line, session_of

    session = session_of(kb, stored)
    line = find_line(session, line_key)
    verdict, basis = line_verdict(session, line)
    positive = kb.verdicts["positive"]
    tree = session.explainer.why(LINE_VERDICT, (line.id, verdict, basis)).to_dict()
    answer = None if verdict == positive else explain_absence(session, line, positive, (verdict, basis), tree=False)
    return {"line": line.id, "phrase": session.voice.line(line.id), "verdict": kb.words.verdict(verdict),
            "role": {v: r for r, v in kb.verdicts.items()}.get(verdict, "undetermined"),
            "basis": kb.words.basis(basis), "basis_means": kb.words.basis_means(basis),
            "label": kb.code_labels.get(line.code, ""), "positive": kb.words.verdict(positive), "positive_id": positive,
            "why": clinical_tree(tree, 5), "why_not": answer, "graph": _graph_svg(session, line, answer is not None)}


def clinical_tree(node: dict[str, Any], depth: int) -> dict[str, Any]:
    """A proof tree reduced to its sentences (steps without one are passed through)."""
    children = [clinical_tree(c, depth - 1) for c in node.get("children", [])] if depth > 0 else []
    flat: list[dict[str, Any]] = []
    for child in children:
        flat += child["children"] if not child["text"] else [child]
    return {"text": node.get("text") or "", "kind": node.get("kind", ""), "field": node.get("field"),
            "children": flat, "more": bool(node.get("children")) and depth <= 0}


def _graph_svg(session, line, why_not: bool) -> str | None:
    import graphs
    from engine.errors import RendererMissing

    try:
        drawn = graphs.render(graphs.clinical_graph(session, line, why_not=why_not), "svg")
    except RendererMissing:
        return None
    text = drawn.decode("utf-8") if isinstance(drawn, bytes) else drawn
    start = text.find("<svg")
    return text[start:] if start >= 0 else None
