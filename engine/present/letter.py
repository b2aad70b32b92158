"""The determination letter (`warrant report`): what a physician reviewer would sign.

Built after the reference assessment: a header (case, dates, policy, reviewer) with a summary
table; per stage a headline verdict and, per procedure group (engine/present/groups.py), two to
five bullets with citation numbers: the decisive findings of a denial (never a met criterion),
what is missing with the policy's threshold for an undetermined group, one sentence for an
add-on naming the procedure it follows; the clinical rationale and pitfall of each family denied
or undecided (report.yaml `rationale`); the documentation required (engine/present/letter_docs.py);
the recommended approach; appeal rights; and an audit appendix, the only place for identifiers.

Everything here is content; every word comes from the kb (report.yaml, words.yaml, the rules'
sentences). The result is plain data for the templates (engine/present/report.py renders it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.decide.determination import Determination, criterion_order
from engine.knowledge.interface import PARENT_LINE
from engine.present.groups import Group, Member, best_parents, procedure_groups, verdict_order
from engine.present.letter_bullets import Bullets
from engine.present.letter_docs import Documentation, documentation
from engine.present.letter_parts import determinations, rows
from engine.present.letter_words import Phrases, Refs, group_title, loci_of, report_phrases, sentence, unique

__all__ = ["LetterOptions", "Phrases", "Refs", "letter_context", "loci_of", "policy_text", "sentence"]


@dataclass(frozen=True)
class LetterOptions:
    """What the letter states beyond the decision: who signs it and its dates (YYYY-MM-DD)."""

    reviewer: str | None = None
    received: str | None = None
    decided: str | None = None
    policy: tuple[str, str] | None = None
    """(id, version) of the policy that decided, when the caller knows it (a stored decision);
    else the knowledge base's name and version."""



def letter_context(session, options: LetterOptions | None = None) -> dict[str, Any]:
    """The letter as plain data (see the module docstring); deterministic for the same case."""
    options = options or LetterOptions()
    kb = session.kb
    say = report_phrases(kb)
    found = determinations(session)
    lines = [d for d in found if d.kind == "line"]
    groups = procedure_groups(kb, [_line_dict(d) for d in lines], rows(session, PARENT_LINE))
    refs = Refs(kb)
    build = _Builder(session, say, refs, {d.key: d for d in lines}, groups)
    docs = documentation(session, say, lines, groups)
    stages = build.stages(found, docs)
    rationale = build.rationale(found)
    return {
        "header": build.header(options),
        "summary": build.summary(stages),
        "stages": stages,
        "rationale": rationale,
        "documentation": docs.sections,
        "approach": build.approach(stages, docs),
        "references": refs.references(),
        "audit": build.audit(found, refs),
    }


def _line_dict(d: Determination) -> dict[str, Any]:
    return {"key": d.key, "stage": d.stage, "code": d.code, "level": d.line.level, "side": d.line.side,
            "verdict": d.verdict, "basis": d.basis}



class _Builder(Bullets):
    """The sections of one letter, sharing the case's determinations and citation numbers."""

    def __init__(self, session, say: Phrases, refs: Refs, by_key: dict[str, Determination],
                 groups: list[Group]) -> None:
        self.session = session
        self.kb = session.kb
        self.say = say
        self.words = session.kb.words
        self.refs = refs
        self.by_key = by_key
        self.groups = groups
        self.rank = criterion_order(self.kb)
        self.order = verdict_order(self.kb)
        self.parents = _parents(rows(session, PARENT_LINE), by_key, self.order)

    # -- header and summary ------------------------------------------------------------------
    def header(self, options: LetterOptions) -> dict[str, Any]:
        say = self.say
        imported = self.session.imported
        requests = [str(imported.claim_label)] if imported is not None and getattr(imported, "claim_label", "") else []
        received = options.received or _case_received(self.session) or \
            (str(imported.created)[:10] if imported is not None and getattr(imported, "created", "") else None)
        decided = options.decided or _decision_day(self.session)
        return {"case_id": self.session.case_id, "requests": requests,
                "received": received or say.get("header", "not_stated"),
                "decided": decided or say.get("header", "not_stated"), "decided_on": decided,
                "policy": policy_text(self.session, say, options.policy),
                "reviewer": options.reviewer, "unsigned": say.get("header", "unsigned")}

    def summary(self, stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for stage in stages:
            for group in stage["groups"]:
                rows.append({"stage": stage["stage"], "what": group["title"], "short": group["short"],
                             "verdict": group["verdict"],
                             "verdict_words": group["verdict_words"], "action": group["action"]})
            if stage.get("admission"):
                adm = stage["admission"]
                rows.append({"stage": stage["stage"], "what": adm["title"], "short": adm["title"], "verdict": adm["verdict"],
                             "verdict_words": adm["verdict_words"], "action": adm["action"]})
        return rows

    # -- stages and groups -------------------------------------------------------------------
    def stages(self, found: list[Determination], docs: Documentation) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        admissions = {d.stage: d for d in found if d.kind == "admission"}
        for d in found:
            if d.kind != "stage":
                continue
            groups = [self.group(g, docs) for g in self.groups if g.stage == d.stage]
            entry = {"stage": d.stage, "verdict": d.verdict, "verdict_words": self.words.verdict(d.verdict),
                     "groups": groups, "admission": None}
            if d.stage in admissions:
                entry["admission"] = self.admission(admissions[d.stage])
            out.append(entry)
        return out

    def title(self, group: Group, short: bool = False) -> str:
        return group_title(self.say, group, short)

    def group(self, group: Group, docs: Documentation) -> dict[str, Any]:
        self.docs = docs
        bullets = self.bullets(group)
        shared = any(m.code == o.code for g in self.groups if g is not group and g.stage == group.stage
                     for o in g.members for m in group.members)
        return {"title": self.title(group), "short": self.title(group, short=not shared), "verdict": group.verdict,
                "verdict_words": self.words.verdict(group.verdict), "family": group.family,
                "action": self.say.get("actions", group.verdict), "bullets": bullets,
                "codes": [m.code for m in group.members], "keys": [m.key for m in group.members],
                "items": docs.items_for([m.key for m in group.members])}

    def admission(self, d: Determination) -> dict[str, Any]:
        say = self.say
        requested = self.words.quantity(d.requested_days, "days") if d.requested_days is not None else None
        supported = self.words.quantity(d.supported_days, "days") if d.supported_days is not None else None
        if requested and supported:
            detail = say.fill("admission_days", requested=requested, supported=supported)
        elif requested:
            detail = say.fill("admission_requested", requested=requested)
        else:
            detail = ""
        title = f"{say.get('admission')} ({detail})" if detail else say.get("admission")
        bullets = [self._bullet(r["text"], r["citations"]) for r in d.reasons[:1]]
        return {"title": title, "verdict": d.verdict, "verdict_words": self.words.verdict(d.verdict),
                "action": say.get("actions", d.verdict), "bullets": bullets, "days": requested or ""}

    # -- rationale, approach, audit ------------------------------------------------------------
    def rationale(self, found: list[Determination]) -> list[dict[str, Any]]:
        positive = self.kb.verdicts["positive"]
        families: list[str] = []
        for g in self.groups:
            clinical = any(m.basis not in ("incidental", "dependent") for m in g.heads)
            for fam in [g.family] + [f for f, _ms in g.addons]:
                if g.verdict != positive and clinical and fam not in families:
                    families.append(fam)
        if any(d.kind == "admission" and d.verdict == self.kb.verdicts["undetermined"] for d in found):
            families.append("admission")
        table = self.say.text.get("rationale") or {}
        out = []
        for fam in families:
            entry = table.get(fam)
            if not isinstance(entry, dict):
                continue
            title = self.say.get("admission") if fam == "admission" else sentence(self.say.family(fam))
            evidence = [self._bullet(" ".join(str(e["text"]).split()), list(e.get("cite") or []))
                        for e in entry.get("evidence") or []]
            pitfall = entry.get("pitfall")
            out.append({"title": title, "evidence": evidence,
                        "pitfall": self._bullet(" ".join(str(pitfall["text"]).split()), list(pitfall.get("cite") or []))
                        if isinstance(pitfall, dict) else None})
        return out

    def approach(self, stages: list[dict[str, Any]], docs: Documentation) -> list[str]:
        say, words = self.say, self.words
        out = []
        for stage in stages:
            for group in stage["groups"]:
                title = group["title"][:1].lower() + group["title"][1:]
                short = group["short"][:1].lower() + group["short"][1:]
                verdict = group["verdict"]
                if verdict == self.kb.verdicts["negative"]:
                    out.append(say.fill("approach", verdict, action=group["action"], title=title, short=short,
                                        reasons=self.deny_reasons(group)))
                elif all(self.by_key[k].basis == "no_policy" for k in group["keys"]):
                    out.append(say.fill("approach", "no_policy", short=short, title=title))
                elif verdict == self.kb.verdicts["undetermined"]:
                    count = "one" if len(group["items"]) == 1 else "many"
                    items = say.fill("approach_items", count, numbers=say.join(str(n) for n in group["items"])) \
                        if group["items"] else words.basis_means("documentation_missing")
                    out.append(say.fill("approach", verdict, action=group["action"], title=title, short=short,
                                        items=items))
                else:
                    out.append(say.fill("approach", verdict, action=group["action"], title=title, short=short))
            if stage.get("admission"):
                adm = stage["admission"]
                out.append(say.fill("approach", f"admission_{adm['verdict']}", action=adm["action"],
                                    stage=stage["stage"], days=adm["days"]))
        return out

    def deny_reasons(self, group: dict[str, Any]) -> str:
        """Why a group is denied, in a few words (report.yaml `approach_reasons` by basis)."""
        say = self.say
        bases = unique(str(self.by_key[k].basis) for k in group["keys"] if self.by_key[k].verdict == group["verdict"])
        out = []
        for basis in bases:
            table = say.text.get("approach_reasons") or {}
            decisive = [b for b in group["bullets"] if b["criterion"] and b.get("basis") == basis]
            if basis in table and decisive:
                first = decisive[0]
                same = [b for b in decisive if b["levels"] == first["levels"] and b["criterion"] != first["criterion"]
                        and self._state_in(group, b["criterion"]) == self._state_in(group, first["criterion"])]
                criteria = say.join(unique(say.topic(b["criterion"]) if b["levels"] else self.words.criterion(b["criterion"])
                                            for b in [first] + same))
                out.append(say.fill("approach_reasons", basis, criteria=criteria, where=say.at(first["levels"])))
            elif basis != "dependent" or len(bases) == 1:
                out.append(self.words.basis_means(basis))
        return say.join(unique(out))

    def _state_in(self, group: dict[str, Any], criterion: str) -> set[str]:
        return {c["state"] for k in group["keys"] for c in self.by_key[k].criteria if c["criterion"] == criterion}

    def audit(self, found: list[Determination], refs: Refs) -> dict[str, Any]:
        rows = [{"line": d.key, "verdict": d.verdict, "basis": d.basis or "", "rules": d.rule_ids,
                 "proof": d.proof.id if d.proof is not None else ""} for d in found if d.kind != "stage"]
        fields: dict[str, list[str]] = {}
        for d in found:
            for item in d.missing:
                fields.setdefault(item["field"], [])
                if d.key not in fields[item["field"]]:
                    fields[item["field"]].append(d.key)
        record_of = getattr(self.session, "policy_record", None)
        policies = [{"stage": d.stage, **{k: str(v) for k, v in (record_of(d.stage) or {}).items()
                                          if k in ("id", "version", "digest")}}
                    for d in found if d.kind == "stage" and callable(record_of) and record_of(d.stage)]
        return {"kb": {"name": self.kb.meta.get("name", ""), "version": self.kb.version, "digest": self.kb.digest},
                "policies": policies,
                "rows": rows, "fields": [{"field": f, "lines": v} for f, v in sorted(fields.items())],
                "citations": [{"number": r["number"], "id": r["id"]} for r in refs.references()]}



def policy_text(session, say: Phrases, given: tuple[str, str] | None = None) -> str:
    """The policy that decided the case: the one place that reads a decision's policy id and
    version. A stored decision gives them (`given`); a session whose stages were decided by
    policy versions (`policy_record(stage)`, when policies are chosen per stage) names each; else
    the knowledge base's name and version (kb.yaml)."""
    kb = session.kb
    if given is None:
        per_stage = _stage_policies(session)
        if len(per_stage) == 1:
            given = next(iter(per_stage))
        elif per_stage:
            return say.join(say.fill("header", "policy_stages", policy=say.fill("header", "policy_value", name=n, version=v),
                                     stages=say.join(str(st) for st in stages)) for (n, v), stages in per_stage.items())
    name, version = given or (kb.meta.get("name", ""), kb.version)
    return say.fill("header", "policy_value", name=name, version=version)


def _decision_day(session) -> str | None:
    """The day the decision chose its policy version by (`--as-of`, else the day it was made),
    when no request date chose it: the letter is dated as the decision was taken."""
    record_of = getattr(session, "policy_record", None)
    if not callable(record_of):
        return None
    for request in session.document.get("requests", []):
        record = record_of(request.get("stage"))
        if isinstance(record, dict) and record.get("as_of_from") in ("option", "today"):
            return str(record["as_of"])
    return None


def _case_received(session) -> str | None:
    """The day the case says it was received: the case field the kb's policy table names for
    it (kb/policies.yaml `selection.case_date`), when there is one."""
    table = getattr(session.kb, "policy_table", None)
    name = getattr(table, "case_date_field", None)
    value = session.document.get(name) if name else None
    return str(value)[:10] if value else None


def _stage_policies(session) -> dict[tuple[str, str], list[Any]]:
    """(id, version) -> stages, for sessions that record a policy per stage; else empty."""
    record_of = getattr(session, "policy_record", None)
    out: dict[tuple[str, str], list[Any]] = {}
    if not callable(record_of):
        return out
    for request in session.document.get("requests", []):
        record = record_of(request.get("stage"))
        if isinstance(record, dict) and record.get("id"):
            out.setdefault((str(record["id"]), str(record.get("version", ""))), []).append(request.get("stage"))
    return out


def _parents(rows: list[tuple], by_key: dict[str, Determination], order: dict[str, int]) -> dict[str, Member]:
    """Each line's best-decided parent line, as a Member."""
    members = {k: Member(d.key, d.code, d.line.level, d.line.side, d.verdict, d.basis, "") for k, d in by_key.items()}
    return {child: members[parent] for child, parent in best_parents(members, rows, order).items()}
