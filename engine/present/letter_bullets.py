"""The bullets under each procedure group of the letter, chosen by the basis of its lines:
the decisive findings of a denial (the proofs of its unmet criteria; never a met criterion),
what is missing with the policy's threshold, the procedure an add-on or a dependent line
follows. Two to five per group; the rest is in the documentation list."""
from __future__ import annotations

from typing import Any, Iterable

from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET, DOC_REQUEST
from engine.present.groups import Group, Member
from engine.present.letter_parts import rows, session_of
from engine.present.letter_words import (capped, levels_needing, levels_of, loci_of, merge_levels, merge_same,
                                         number_form, sentence)


class Bullets:
    """Mixed into the letter builder, which holds the session, the kb, its words (`say`),
    the determinations by line (`by_key`), the best parents, the documentation (`docs`)."""

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
                out.append(self._bullet(self.say.fill("bullets", "follows", number_form(members), lines=self.say.lines(members),
                                                      parent=self.say.lines(parents)), []))
        return capped(out, self.say)

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
                                 numbers=say.join(numbers)) if numbers else self.requirement(criterion, ms)
                out.append(self._bullet(say.fill("bullets", "no_indication", criterion=words.criterion(criterion),
                                                 items=items, family=family),
                                        self.criterion_cites(criterion), criterion, levels_of(ms)))
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
            return merge_same(out)
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
                node = session_of(self.session, m.key).explainer.why(CRITERION_UNMET, (m.key, criterion))
                texts.append((node.text, m.level))
                cites += [c for c in node.citations[:1] if c not in cites]
            findings = self.say.join(merge_levels(texts, self.say))
            out.append(self._bullet(self.say.fill("bullets", "unmet", findings=findings, family=family,
                                                  requirement=self.requirement(criterion, ms)),
                                    cites, criterion, levels_of(ms)))
        for criterion, ms in self._criteria(members, lambda c: c["role"] == "indication" and c["state"] == "undocumented"):
            out.append(self._bullet(self.say.fill("bullets", "also_undocumented", criterion=self.say.topic(criterion),
                                                  where=self.say.at(levels_of(ms))),
                                    self.criterion_cites(criterion), criterion, levels_of(ms)))
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
                                                      requirement=self.requirement(criterion, ms)),
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
        return [self._bullet(self.say.fill("bullets", "parent_open", number_form(ms), lines=self.say.lines(ms),
                                           parent=self.say.lines([parent]), verdict=self.words.verdict(parent.verdict)), [])
                for parent, ms in following.values()]

    def levels_needing(self, members: Iterable[Member], criterion: str) -> list[str]:
        """The levels whose missing fields for the criterion name them (`L4-5`, `L5-S1`)."""
        return levels_needing(members, criterion, self.by_key)

    def _proof_reasons(self, members: list[Member]) -> list[dict[str, Any]]:
        from engine.explain.reasons import reasons

        out = []
        for m in members:
            nodes = [n for n in reasons(self.by_key[m.key].proof, self.kb.reason_predicates) if n.kind == "conclusion"]
            nodes = nodes[1:] or nodes
            for node in nodes[:1]:
                out.append(self._bullet(node.text, list(node.citations)))
        return merge_same(out)

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
            for line_id, criterion in rows(self.session, DOC_REQUEST):
                memo.setdefault(str(line_id), set()).add(str(criterion))
            self.__dict__["_requested"] = memo
        return memo

    def loci(self) -> list[str]:
        return loci_of(self.kb)

    def _loci(self, members: list[Member]) -> list[str]:
        requested = self.requested()
        return [k for k in self.loci() if any(k in requested.get(m.key, ()) for m in members)]

    def requirement(self, criterion: str, members: list[Member]) -> str:
        """What the policy deciding these lines asks for the criterion (a stage decided under
        another policy version reads its own thresholds)."""
        return session_of(self.session, members[0].key).kb.words.requirement(criterion)

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
