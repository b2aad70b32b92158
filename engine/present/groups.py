"""Procedure groups: the codes of one family at their levels, with the add-ons that follow them.

A reviewer writes "Fusion (22633 at L4-5, 22634 at L5-S1) with instrumentation (22843)", not
one paragraph per line. The grouping is read from the kb, never from code lists:
- a family is an *add-on family* when its criteria (`family_criterion/3`) name a parent
  (role `parent`) and no indication of its own (instrumentation, interbody devices); its lines
  join the group of the parent line they follow (`parent_line/3`, the best-decided one);
- every other line joins the group of its family and verdict in the same stage, in request order;
- an add-on whose verdict differs from its parent's group, or that has no parent line, stands
  in a group of its own family.
The letter and the workbench's decision page both group through `procedure_groups`. The page
reads a stored decision, which does not record which line an add-on follows; without
`parent_line/3` rows, an add-on follows the best-decided line in its stage, at its own level
(any level for an add-on decided per stage), of a family the kb's `parent_line/3` rules name: a
family constant in their bodies, or the family of the codes a code table in their bodies lists.
An add-on that must name its level (`unit_locus/2`) and does not follows nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from engine.knowledge.interface import CODE_FAMILY, CRITERION_LISTS, PARENT_LINE
from engine.language import ast

NO_POLICY = "no_policy"
"""The family name of a code the kb has no policy for (words.yaml `families.no_policy`)."""


@dataclass
class Member:
    """One line of a group, as the group needs it."""

    key: str          # line id
    code: str
    level: str | None
    side: str | None
    verdict: str
    basis: str | None
    family: str


@dataclass
class Group:
    """The lines of one family (heads) with the add-ons that follow them, in one stage."""

    stage: Any
    family: str
    verdict: str
    heads: list[Member] = field(default_factory=list)
    addons: list[tuple[str, list[Member]]] = field(default_factory=list)   # (family, members)

    @property
    def members(self) -> list[Member]:
        return self.heads + [m for _family, ms in self.addons for m in ms]

    def add_addon(self, member: Member) -> None:
        for family, members in self.addons:
            if family == member.family:
                members.append(member)
                return
        self.addons.append((member.family, [member]))


def code_families(kb) -> dict[str, str]:
    return {str(code): str(family) for code, family in kb.program.query(*CODE_FAMILY)}


def addon_families(kb) -> set[str]:
    """Families whose criteria name a parent and no indication (see the module docstring)."""
    roles: dict[str, set[str]] = {}
    for clause in kb.program.clauses:
        head = clause.head
        if clause.is_fact and head.key in CRITERION_LISTS and head.key[0].startswith("family"):
            roles.setdefault(str(head.args[0].value), set()).add(str(head.args[2].value))
    return {family for family, found in roles.items() if "parent" in found and "indication" not in found}


def verdict_order(kb) -> dict[str, int]:
    """Worst first: negative < undetermined < positive (kb.yaml `verdicts` roles)."""
    roles = kb.verdicts
    return {roles["negative"]: 0, roles["undetermined"]: 1, roles["positive"]: 2}


def procedure_groups(kb, lines: Sequence[dict[str, Any]], parents: Iterable[Sequence[Any]] | None) -> list[Group]:
    """The groups of the lines of one case (dicts with key, stage, code, level, side, verdict,
    basis), in stage and request order; `parents` are `parent_line/3` rows (None: inferred, see
    the module docstring)."""
    families = code_families(kb)
    addons = addon_families(kb)
    rank = verdict_order(kb)
    members = {ln["key"]: Member(ln["key"], ln["code"], ln.get("level"), ln.get("side"), ln["verdict"],
                                 ln.get("basis"), families.get(str(ln["code"]), NO_POLICY)) for ln in lines}
    stage_of = {ln["key"]: ln["stage"] for ln in lines}
    if parents is None:
        parents = _inferred_parents(kb, members, stage_of, addons)
    parent_of = best_parents(members, parents, rank)
    groups: list[Group] = []
    placed: dict[str, Group] = {}
    later: list[Member] = []
    for ln in lines:
        member = members[ln["key"]]
        if member.family in addons and parent_of.get(member.key) is not None:
            later.append(member)
            continue
        placed[member.key] = _join(groups, stage_of[member.key], member)
    for member in later:
        group = placed.get(parent_of[member.key])
        if group is not None and group.verdict == member.verdict:
            group.add_addon(member)
        else:
            placed[member.key] = _join(groups, stage_of[member.key], member)
    order = {ln["key"]: n for n, ln in enumerate(lines)}
    return sorted(groups, key=lambda g: min(order[m.key] for m in g.members))


def _join(groups: list[Group], stage: Any, member: Member) -> Group:
    for group in groups:
        if group.stage == stage and group.family == member.family and group.verdict == member.verdict:
            group.heads.append(member)
            return group
    group = Group(stage, member.family, member.verdict, [member])
    groups.append(group)
    return group


def best_parents(members: dict[str, Member], parents: Iterable[Sequence[Any]],
                 rank: dict[str, int]) -> dict[str, str]:
    """Each line's best-decided parent line (the one a dependent line follows; a tie goes to
    the first requested)."""
    best: dict[str, str] = {}
    order = list(members)
    for row in sorted(parents, key=lambda r: [str(v) for v in r]):
        child, parent = str(row[0]), str(row[2])
        if child not in members or parent not in members:
            continue
        current = best.get(child)
        if current is None or (rank.get(members[parent].verdict, -1), -order.index(parent)) > \
                (rank.get(members[current].verdict, -1), -order.index(current)):
            best[child] = parent
    return best


def parent_families(kb) -> set[str]:
    """The families a parent line may have, as the kb's `parent_line/3` rules name them (see the
    module docstring)."""
    families = code_families(kb)
    names = set(families.values())
    tables: dict[str, set[str]] = {}
    for clause in kb.program.clauses:
        if clause.is_fact and len(clause.head.args) == 1:
            tables.setdefault(clause.head.pred, set()).add(str(getattr(clause.head.args[0], "value", "")))
    out: set[str] = set()
    for clause in kb.program.clauses:
        if clause.is_fact or clause.head.key != PARENT_LINE:
            continue
        for literal in clause.body:
            if not isinstance(literal, ast.Positive):
                continue
            atom = literal.atom
            out |= {str(a.value) for a in atom.args if hasattr(a, "value") and str(a.value) in names}
            if len(atom.args) == 1 and atom.pred in tables:
                out |= {families[c] for c in tables[atom.pred] if c in families}
    return out


def _inferred_parents(kb, members: dict[str, Member], stage_of: dict[str, Any], addons: set[str]) -> list[tuple]:
    """`parent_line/3`-shaped rows for add-on lines, from the stage, the level and the families
    a parent may have."""
    allowed = parent_families(kb)
    placed = {str(c.head.args[0].value) for c in kb.program.clauses if c.is_fact and c.head.key == ("unit_locus", 2)}
    rows = []
    for key, m in members.items():
        if m.family not in addons or (kb.code_units.get(m.code) in placed and not (m.level or m.side)):
            continue   # not an add-on, or one that must name its place and does not: no parent found
        for other in members.values():
            if other.family in allowed and stage_of[other.key] == stage_of[key] \
                    and (m.level is None or other.level == m.level):
                rows.append((key, "", other.key))
    return rows


def parent_rows(session) -> list[tuple]:
    """The session's `parent_line/3` answers (empty for a kb without them)."""
    return [tuple(r) for r in session.derived.get(PARENT_LINE, ())]
