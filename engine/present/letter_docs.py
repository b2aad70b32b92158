"""The letter's "documentation required before approval": the kb's documentation requests
(`doc_request/2`, one per line and criterion) regrouped the way a reviewer asks for them.

- One item per criterion (a clinical topic: instability, failed conservative care, ...), stated
  with the policy's requirement and thresholds (words.yaml `criteria.*.requirement`, filled from
  kb constants), with the levels it is needed at, and the procedures it would let us decide
  (the lines requesting it, and the dependent lines whose missing documentation runs through
  them).
- Items sit under the procedure family whose lines need them most (ties: the first in request
  order), so a criterion shared by fusion and decompression is asked for once.
- A line's own locus (its levels or side, `unit_locus/2`) is an item too, whether the kb
  requested it (`levels_not_specified`) or a field of it is missing behind another criterion.
- Criteria that name a parent procedure are about the request, not the record: no item.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.decide.determination import Determination, criterion_order
from engine.knowledge.interface import DOC_REQUEST
from engine.present.groups import Group, Member


@dataclass
class Item:
    criterion: str
    number: int = 0
    lines: list[str] = field(default_factory=list)       # line ids it would let us decide
    family: str = ""
    text: str = ""
    decides: str = ""


@dataclass
class Documentation:
    sections: list[dict[str, Any]]
    items: list[Item]

    def items_for(self, keys: list[str]) -> list[int]:
        return [i.number for i in self.items if any(k in i.lines for k in keys)]

    def numbers_of(self, criterion: str) -> list[int]:
        return [i.number for i in self.items if i.criterion == criterion]


def documentation(session, say, lines: list[Determination], groups: list[Group]) -> Documentation:
    """The items and their sections (see the module docstring)."""
    from engine.present.letter_words import loci_of, sentence

    kb = session.kb
    loci = loci_of(kb)
    members = {m.key: m for g in groups for m in g.members}
    family_of = {m.key: g.family for g in groups for m in g.members}
    roles = {(d.key, c["criterion"]): c["role"] for d in lines for c in d.criteria}
    items: dict[str, Item] = {}
    from engine.present.letter_parts import rows

    for line_id, criterion in sorted(rows(session, DOC_REQUEST), key=lambda r: (str(r[0]), str(r[1]))):
        if roles.get((line_id, criterion)) == "parent":
            continue
        _add(items, str(criterion), str(line_id))
    for d in lines:
        for missing in d.missing:
            locus = _locus_field(missing["field"], loci)
            if locus:
                _add(items, locus, d.key)
            elif missing.get("via") and missing.get("criterion") in items and \
                    missing["via"] in items[missing["criterion"]].lines:
                _add(items, missing["criterion"], d.key)
    order = {d.key: n for n, d in enumerate(lines)}
    by_key = {d.key: d for d in lines}
    rank = criterion_order(kb)
    for item in items.values():
        item.lines.sort(key=lambda k: order.get(k, 0))
        item.family = _home(item, family_of, order)
    sections: list[dict[str, Any]] = []
    numbered: list[Item] = []
    for family in _families(groups):
        mine = [i for i in items.values() if i.family == family]
        mine.sort(key=lambda i: (i.criterion not in loci, min(rank.get((members[k].code, i.criterion), 999)
                                                                for k in i.lines if family_of.get(k) == family),
                                 i.criterion))
        if not mine:
            continue
        entries = []
        section_keys = {k for g in groups if g.family == family for k in (m.key for m in g.members)}
        for item in mine:
            item.number = len(numbered) + 1
            numbered.append(item)
            item.text = sentence(_item_text(session, say, item, members, loci, by_key))
            item.decides = say.fill("documentation_decides", lines=say.lines(members[k] for k in item.lines),
                                    codes=say.codes(members[k] for k in item.lines))
            if item.criterion in loci or set(item.lines) == section_keys:
                item.decides = ""   # the item or its section already names the procedures it decides
            entries.append({"number": item.number, "text": item.text, "decides": item.decides})
        asked = {k for i in mine for k in i.lines}
        codes = say.codes(m for g in groups if g.family == family for m in g.members if m.key in asked)
        sections.append({"title": say.fill("documentation_for", family=say.family(family), codes=codes),
                         "items": entries})
    return Documentation(sections, numbered)


def _add(items: dict[str, Item], criterion: str, line_id: str) -> None:
    item = items.setdefault(criterion, Item(criterion))
    if line_id not in item.lines:
        item.lines.append(line_id)


def _locus_field(path: str, loci: list[str]) -> str | None:
    """`levels` for `requests[1].procedures[2].levels`: a field naming the line's own locus."""
    last = path.rsplit(".", 1)[-1]
    return last if path.startswith("requests[") and last in loci else None


def _home(item: Item, family_of: dict[str, str], order: dict[str, int]) -> str:
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for k in item.lines:
        fam = family_of.get(k, "")
        counts[fam] = counts.get(fam, 0) + 1
        first.setdefault(fam, order.get(k, 0))
    return sorted(counts, key=lambda f: (-counts[f], first[f]))[0]


def _families(groups: list[Group]) -> list[str]:
    out: list[str] = []
    for g in groups:
        if g.family not in out:
            out.append(g.family)
    return out


def _item_text(session, say, item: Item, members: dict[str, Member], loci: list[str],
               by_key: dict[str, Determination]) -> str:
    words = session.kb.words
    if item.criterion in loci:
        name = say.fill("documentation_locus", name=words.criterion(item.criterion),
                        lines=say.lines(members[k] for k in item.lines))
        return name
    from engine.present.letter_words import levels_needing

    levels = levels_needing([members[k] for k in item.lines], item.criterion, by_key)
    name = say.topic(item.criterion) if levels else words.criterion(item.criterion)
    from engine.present.letter_parts import session_of

    requirement = session_of(session, item.lines[0]).kb.words.requirement(item.criterion)
    return say.fill("documentation_item", name=name, where=say.at(levels), requirement=requirement)

