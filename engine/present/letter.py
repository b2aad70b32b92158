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

import re
from dataclasses import dataclass
from typing import Any, Iterable

from engine.decide.determination import Determination, criterion_order, determine
from engine.errors import Finding, Location, RuleError
from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET
from engine.present.groups import Group, Member, parent_rows, procedure_groups, verdict_order
from engine.present.letter_docs import Documentation, documentation

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class LetterOptions:
    """What the letter states beyond the decision: who signs it and its dates (YYYY-MM-DD)."""

    reviewer: str | None = None
    received: str | None = None
    decided: str | None = None
    policy: tuple[str, str] | None = None
    """(id, version) of the policy that decided, when the caller knows it (a stored decision);
    else the knowledge base's name and version."""


class Refs:
    """Citation numbers in order of first use, and the reference list they point to."""

    def __init__(self, kb) -> None:
        self.kb = kb
        self.numbers: dict[str, int] = {}

    def __call__(self, cites: Iterable[str]) -> list[int]:
        out = set()
        for cite in cites:
            out.add(self.numbers.setdefault(cite, len(self.numbers) + 1))
        return sorted(out)

    def references(self) -> list[dict[str, Any]]:
        return [{"number": n, "id": c, "title": self.kb.citations.get(c, {}).get("title", c),
                 "short": self.kb.citations.get(c, {}).get("short") or self.kb.citations.get(c, {}).get("title", c),
                 "source": self.kb.citations.get(c, {}).get("source", "")}
                for c, n in sorted(self.numbers.items(), key=lambda kv: kv[1])]


class Phrases:
    """report.yaml texts filled in, and the ways the letter names lines, lists and criteria."""

    def __init__(self, kb, text: dict[str, Any]) -> None:
        self.kb = kb
        self.words = kb.words
        self.text = text
        self.source = str(kb.root / "report.yaml")

    def get(self, *path: str) -> str:
        """A text of report.yaml with its white space folded (as YAML folds a paragraph)."""
        return " ".join(self.raw(*path).split())

    def folded(self, *path: str) -> str:
        """Like `get`, keeping a leading or trailing space (`" at {levels}"`)."""
        return re.sub(r"\s+", " ", self.raw(*path))

    def raw(self, *path: str) -> str:
        node: Any = self.text
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if not isinstance(node, str):
            raise RuleError([Finding("kb_report", f"report.yaml has no text {'.'.join(path)}", Location(self.source))])
        return node

    def fill(self, *path: str, **values: Any) -> str:
        template = self.folded(*path)

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                raise RuleError([Finding("kb_report", f"report.yaml {'.'.join(path)}: unknown placeholder "
                                         f"{{{name}}} (known: {', '.join(sorted(values))})", Location(self.source))])
            return str(values[name])
        return self.words.articles(_PLACEHOLDER.sub(one, template))

    def join(self, items: Iterable[str]) -> str:
        items = [i for i in items if i]
        if len(items) < 2:
            return "".join(items)
        return self.raw("join", "comma").join(items[:-1]) + self.raw("join", "last") + items[-1]

    def lines(self, members: Iterable[Member]) -> str:
        """Members merged by code: `22853 at L2-3 and L3-4`, `63052 and 63053`."""
        by_code: dict[str, list[Member]] = {}
        for m in members:
            by_code.setdefault(m.code, []).append(m)
        out = []
        for code, ms in by_code.items():
            levels = [m.level for m in ms if m.level]
            sides = [self.words.term(m.side) for m in ms if m.side and not m.level]
            out.append(self.words.line(code, self.join(levels) or None, self.join(sides) or None))
        return self.join(out)

    def codes(self, members: Iterable[Member]) -> str:
        """The distinct codes of the members, without levels: `22633 and 22634`."""
        return self.join(_unique(m.code for m in members))

    def family(self, family: str) -> str:
        return self.words.family(family)

    def topic(self, criterion: str) -> str:
        """A criterion's name without its place (words.yaml `topic`), for texts that add levels."""
        entry = self.words.data["criteria"].get(criterion)
        topic = entry.get("topic") if isinstance(entry, dict) else None
        return str(topic) if topic else self.words.criterion(criterion)

    def at(self, levels: list[str]) -> str:
        return self.fill("at_levels", levels=self.join(levels)) if levels else ""


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def letter_context(session, options: LetterOptions | None = None) -> dict[str, Any]:
    """The letter as plain data (see the module docstring); deterministic for the same case."""
    from engine.present.report import report_words

    options = options or LetterOptions()
    kb = session.kb
    say = Phrases(kb, report_words(kb))
    found = determine(session)
    lines = [d for d in found if d.kind == "line"]
    groups = procedure_groups(kb, [_line_dict(d) for d in lines], parent_rows(session))
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


class _Builder:
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
        self.parents = _parents(parent_rows(session), by_key, self.order)

    # -- header and summary ------------------------------------------------------------------
    def header(self, options: LetterOptions) -> dict[str, Any]:
        kb, say = self.kb, self.say
        imported = self.session.imported
        requests = [str(imported.claim_label)] if imported is not None and getattr(imported, "claim_label", "") else []
        received = options.received or (str(imported.created)[:10] if imported is not None and
                                         getattr(imported, "created", "") else None)
        return {"case_id": self.session.case_id, "requests": requests,
                "received": received or say.get("header", "not_stated"),
                "decided": options.decided or say.get("header", "not_stated"), "decided_on": options.decided,
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
        """`Lumbar fusion (22633 at L4-5 and 22634 at L5-S1) with instrumentation (22843)`; the
        short form names the codes without their levels."""
        say = self.say
        name = say.codes if short else say.lines
        title = say.fill("group_title", family=sentence(say.family(group.family)), codes=name(group.heads))
        for family, members in group.addons:
            title = say.fill("group_addon", title=title, family=say.family(family), codes=name(members))
        return title

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

    def bullets(self, group: Group) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        bases = []
        for m in group.heads:
            if m.basis not in bases:
                bases.append(m.basis)
        stated: set[Any] = set()
        for basis in bases:
            members = [m for m in group.heads if m.basis == basis]
            for bullet in self._by_basis(group, basis, members):
                if bullet["criterion"] is None or bullet["criterion"] not in stated:
                    out.append({**bullet, "basis": basis})
                    stated.add(bullet["criterion"])
        for _family, members in group.addons:
            parents: list[Member] = []
            for m in members:
                p = self.parents.get(m.key)
                if p is not None and all(p.key != q.key for q in parents):
                    parents.append(p)
            if parents:
                out.append(self._bullet(self.say.fill("bullets", "follows", _number(members), lines=self.say.lines(members),
                                                      parent=self.say.lines(parents)), []))
        return _capped(out, self.say)

    def _by_basis(self, group: Group, basis: Any, members: list[Member]) -> list[dict[str, Any]]:
        say, words = self.say, self.words
        family = say.family(group.family)
        if basis == "criterion_unmet":
            return self._unmet(members, family)
        if basis == "no_documented_indication":
            out = []
            for criterion, ms in self._criteria(members, lambda c: c["role"] == "indication" and c["state"] != "met"):
                numbers = [str(n) for n in self.docs.numbers_of(criterion)]
                items = say.fill("approach_items", "one" if len(numbers) == 1 else "many",
                                 numbers=say.join(numbers)) if numbers else words.requirement(criterion)
                out.append(self._bullet(say.fill("bullets", "no_indication", criterion=words.criterion(criterion),
                                                 items=items, family=family),
                                        self.criterion_cites(criterion), criterion, _levels(ms)))
            return out + self._also_missing(members, [b["criterion"] for b in out]) + self._parent_open(members)
        if basis == "incidental":
            return self._proof_reasons(members)
        if basis == "dependent":
            out = []
            for m in members:
                parent = self.parents.get(m.key)
                if parent is not None:
                    out.append(self._bullet(say.fill("bullets", "dependent", lines=say.lines([m]),
                                                     parent=say.lines([parent]),
                                                     verdict=words.verdict(parent.verdict)), []))
            return _merge_same(out)
        if basis == "levels_not_specified":
            loci = self._loci(members)
            out = [self._bullet(say.fill("bullets", "locus", locus=say.join(words.criterion(k) for k in loci),
                                         lines=say.lines(members)), self.criterion_cites(loci[0]) if loci else [])]
            return out + self._undocumented(members)
        if basis == "documentation_missing":
            return self._undocumented(members) + self._parent_open(members)
        if basis == "criteria_met":
            names = []
            for m in members:
                names += [say.topic(c["criterion"]) for c in self.by_key[m.key].criteria
                          if say.topic(c["criterion"]) not in names]
            return [self._bullet(say.fill("bullets", "met", criteria=say.join(names)), [])]
        return [self._bullet(say.fill("bullets", "no_policy", lines=say.lines(members)), [])]

    def _unmet(self, members: list[Member], family: str) -> list[dict[str, Any]]:
        """The decisive findings (the proofs of the unmet criteria), then the indication if the
        record is silent on it too (never a met criterion)."""
        out = []
        for criterion, ms in self._criteria(members, lambda c: c["state"] == "unmet"):
            texts, cites = [], []
            for m in ms:
                node = self.session.explainer.why(CRITERION_UNMET, (m.key, criterion))
                texts.append((node.text, m.level))
                cites += [c for c in node.citations[:1] if c not in cites]
            findings = self.say.join(_merge_levels(texts, self.say))
            out.append(self._bullet(self.say.fill("bullets", "unmet", findings=findings, family=family,
                                                  requirement=self.words.requirement(criterion)),
                                    cites, criterion, _levels(ms)))
        for criterion, ms in self._criteria(members, lambda c: c["role"] == "indication" and c["state"] == "undocumented"):
            out.append(self._bullet(self.say.fill("bullets", "also_undocumented", criterion=self.say.topic(criterion),
                                                  where=self.say.at(_levels(ms))),
                                    self.criterion_cites(criterion), criterion, _levels(ms)))
        return out

    def _undocumented(self, members: list[Member]) -> list[dict[str, Any]]:
        """What is missing: the first criterion (the indication when it is among them) with the
        policy's requirement, the others named in one bullet with their documentation items."""
        requested = self.requested()
        loci = set(self.loci())
        found = []
        for criterion, ms in self._criteria(members, lambda c: c["state"] == "undocumented" and c["role"] != "parent"):
            ms = [m for m in ms if criterion in requested.get(m.key, ())]
            if ms and criterion not in loci:
                roles = {c["role"] for m in ms for c in self.by_key[m.key].criteria if c["criterion"] == criterion}
                found.append((criterion, ms, "indication" in roles))
        found.sort(key=lambda f: not f[2])
        out = []
        for n, (criterion, ms, _indication) in enumerate(found):
            levels = self.levels_needing(ms, criterion)
            name = self.say.topic(criterion) if levels else self.words.criterion(criterion)
            if n == 0:
                out.append(self._bullet(self.say.fill("bullets", "undocumented", criterion=name, where=self.say.at(levels),
                                                      requirement=self.words.requirement(criterion)),
                                        self.criterion_cites(criterion), criterion, levels))
        return out + self._also_missing(members, [f[0] for f in found[:1]])

    def _also_missing(self, members: list[Member], stated: list[Any]) -> list[dict[str, Any]]:
        """One bullet naming the other undocumented criteria the kb requests, with their items."""
        requested = self.requested()
        loci = set(self.loci())
        rest = []
        for criterion, ms in self._criteria(members, lambda c: c["state"] == "undocumented" and c["role"] != "parent"):
            ms = [m for m in ms if criterion in requested.get(m.key, ())]
            if ms and criterion not in loci and criterion not in stated:
                rest.append((criterion, ms))
        if not rest:
            return []
        names = [self.say.topic(c) + self.say.at(self.levels_needing(ms, c)) if self.levels_needing(ms, c)
                 else self.words.criterion(c) for c, ms in rest]
        numbers = [str(n) for n in sorted(n for c, _ms in rest for n in self.docs.numbers_of(c))]
        count = "one" if len(numbers) == 1 else "many"
        items = self.say.fill("approach_items", count, numbers=self.say.join(numbers)) if numbers else ""
        return [self._bullet(self.say.fill("bullets", "also_missing", criteria=self.say.join(names), items=items),
                             [], None)]

    def _parent_open(self, members: list[Member]) -> list[dict[str, Any]]:
        """For lines that follow a procedure not (yet) approved: one sentence naming it."""
        following: dict[str, tuple[Member, list[Member]]] = {}
        for m in members:
            parent = self.parents.get(m.key)
            if parent is not None and parent.verdict != self.kb.verdicts["positive"]:
                following.setdefault(parent.key, (parent, []))[1].append(m)
        return [self._bullet(self.say.fill("bullets", "parent_open", _number(ms), lines=self.say.lines(ms),
                                           parent=self.say.lines([parent]), verdict=self.words.verdict(parent.verdict)), [])
                for parent, ms in following.values()]

    def levels_needing(self, members: Iterable[Member], criterion: str) -> list[str]:
        """The levels whose missing fields for the criterion name them (`L4-5`, `L5-S1`)."""
        return levels_needing(members, criterion, self.by_key)

    def _proof_reasons(self, members: list[Member]) -> list[dict[str, Any]]:
        from engine.explain.trees import reasons

        out = []
        for m in members:
            nodes = [n for n in reasons(self.by_key[m.key].proof, self.kb.reason_predicates) if n.kind == "conclusion"]
            nodes = nodes[1:] or nodes
            for node in nodes[:1]:
                out.append(self._bullet(node.text, list(node.citations)))
        return _merge_same(out)

    def _criteria(self, members: list[Member], keep) -> list[tuple[str, list[Member]]]:
        """The criteria of the members that `keep` accepts, in the kb's order, with their members."""
        found: dict[str, list[Member]] = {}
        for m in members:
            for c in self.by_key[m.key].criteria:
                if keep(c):
                    found.setdefault(c["criterion"], []).append(m)
        return sorted(found.items(), key=lambda kv: min(self.rank.get((m.code, kv[0]), 999) for m in kv[1]))

    def requested(self) -> dict[str, set[str]]:
        memo = self.__dict__.get("_requested")
        if memo is None:
            memo = {}
            from engine.knowledge.interface import DOC_REQUEST

            for line_id, criterion in self.session.derived.get(DOC_REQUEST, ()):
                memo.setdefault(str(line_id), set()).add(str(criterion))
            self.__dict__["_requested"] = memo
        return memo

    def loci(self) -> list[str]:
        return loci_of(self.kb)

    def _loci(self, members: list[Member]) -> list[str]:
        requested = self.requested()
        return [k for k in self.loci() if any(k in requested.get(m.key, ()) for m in members)]

    def criterion_cites(self, criterion: str) -> list[str]:
        """The source the kb cites most often for the rules that decide a criterion (met or
        unmet); ties go to the first cited."""
        counts: dict[str, int] = {}
        for clause in self.kb.program.clauses:
            head = clause.head
            if clause.meta and head.key in (CRITERION_MET, CRITERION_UNMET) and \
                    getattr(head.args[1], "value", None) == criterion:
                for cite in clause.meta.cites:
                    counts[cite] = counts.get(cite, 0) + 1
        ranked = sorted(counts, key=lambda c: -counts[c])   # stable: first cited wins a tie
        return ranked[:1]

    def _bullet(self, text: str, cites: list[str], criterion: str | None = None,
                levels: list[str] | None = None) -> dict[str, Any]:
        return {"text": sentence(text.rstrip(".")), "refs": self.refs(cites), "cites": list(cites),
                "criterion": criterion, "levels": levels or []}

    # -- admission ---------------------------------------------------------------------------
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
        bases = _unique(str(self.by_key[k].basis) for k in group["keys"] if self.by_key[k].verdict == group["verdict"])
        out = []
        for basis in bases:
            table = say.text.get("approach_reasons") or {}
            decisive = [b for b in group["bullets"] if b["criterion"] and b.get("basis") == basis]
            if basis in table and decisive:
                first = decisive[0]
                same = [b for b in decisive if b["levels"] == first["levels"] and b["criterion"] != first["criterion"]
                        and self._state_in(group, b["criterion"]) == self._state_in(group, first["criterion"])]
                criteria = say.join(_unique(say.topic(b["criterion"]) if b["levels"] else self.words.criterion(b["criterion"])
                                            for b in [first] + same))
                out.append(say.fill("approach_reasons", basis, criteria=criteria, where=say.at(first["levels"])))
            elif basis != "dependent" or len(bases) == 1:
                out.append(self.words.basis_means(basis))
        return say.join(_unique(out))

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
        return {"kb": {"name": self.kb.meta.get("name", ""), "version": self.kb.version, "digest": self.kb.digest},
                "rows": rows, "fields": [{"field": f, "lines": v} for f, v in sorted(fields.items())],
                "citations": [{"number": r["number"], "id": r["id"]} for r in refs.references()]}


def policy_text(session, say: Phrases, given: tuple[str, str] | None = None) -> str:
    """The policy that decided the case: the one place that reads a decision's policy id and
    version. A stored decision gives them (`given`); otherwise the knowledge base's name and
    version (kb.yaml). When decisions carry a policy id and version per stage, read them here."""
    kb = session.kb
    name, version = given or (kb.meta.get("name", ""), kb.version)
    return say.fill("header", "policy_value", name=name, version=version)


def loci_of(kb) -> list[str]:
    """The request's own loci (`unit_locus/2`: levels, side), which documentation can name."""
    out: list[str] = []
    for clause in kb.program.clauses:
        if clause.is_fact and clause.head.key == ("unit_locus", 2):
            value = str(clause.head.args[1].value)
            if value not in out:
                out.append(value)
    return out


def _parents(rows: list[tuple], by_key: dict[str, Determination], order: dict[str, int]) -> dict[str, Member]:
    """Each line's best-decided parent line, as a Member."""
    out: dict[str, Member] = {}
    keys = list(by_key)
    for child, _criterion, parent in sorted(rows, key=lambda r: [str(v) for v in r]):
        if child not in by_key or parent not in by_key:
            continue
        p = by_key[parent]
        current = out.get(child)
        if current is None or (order.get(p.verdict, -1), -keys.index(parent)) > \
                (order.get(current.verdict, -1), -keys.index(current.key)):
            out[child] = Member(p.key, p.code, p.line.level, p.line.side, p.verdict, p.basis, "")
    return out


def _number(members: list[Any]) -> str:
    """`one` or `many`: the form of a report.yaml text whose verb agrees with its subject."""
    return "one" if len(members) == 1 else "many"


def _levels(members: Iterable[Member]) -> list[str]:
    return _unique(m.level for m in members if m.level)


def levels_needing(members: Iterable[Member], criterion: str, by_key: dict[str, Determination]) -> list[str]:
    """The levels of the members whose own missing fields for the criterion name them."""
    levels: list[str] = []
    for m in members:
        fields = [i["field"] for i in by_key[m.key].missing if i.get("criterion") == criterion and not i.get("via")]
        if m.level and any(m.level in f for f in fields) and m.level not in levels:
            levels.append(m.level)
    return levels


def _merge_levels(texts: list[tuple[str, str | None]], say: Phrases) -> list[str]:
    """Findings that differ only by their level read as one: `... at L2-3 and L3-4`."""
    shapes: dict[str, list[str]] = {}
    for text, level in texts:
        if level and level in text:
            shapes.setdefault(text.replace(level, "\x00"), []).append(level)
        else:
            shapes.setdefault(text, [])
    return [shape.replace("\x00", say.join(levels)) if levels else shape for shape, levels in shapes.items()]


def _merge_same(bullets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in bullets:
        if all(o["text"] != b["text"] for o in out):
            out.append(b)
    return out


def _capped(bullets: list[dict[str, Any]], say: Phrases, most: int = 5) -> list[dict[str, Any]]:
    bullets = _merge_same(bullets)
    if len(bullets) <= most:
        return bullets
    kept = bullets[:most - 1]
    rest = len(bullets) - len(kept)
    return kept + [{"text": sentence(say.fill("bullets", "more", count=rest)), "refs": [], "cites": [],
                    "criterion": None}]


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
