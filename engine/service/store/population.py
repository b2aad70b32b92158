"""The workbench dashboard's figures over stored decisions, counted in SQL.

`fill` puts into an `engine.authoring.population.Population` the same counts that feeding it
every decision would (a test holds the two to agreement). Each count is one grouped query over
one narrow table, read from a covering index in grouping order (`ix_facts_counts`,
`ix_lines_counts`, `ix_findings_key`): line findings carry their line's verdict and basis, so
nothing is joined, and a filter of decisions becomes `decision_seq IN (the selected decisions)`.

How that IN is read depends on how much of the store a filter selects. A few decisions: each
one's rows are looked up by seq. A large part (a family, a common criterion): the covering index
is scanned in grouping order and each row's seq tested against the selection, which is several
times faster than looking up and then sorting most of the table (`seq + 0` keeps the planner
from choosing the lookups).
"""
from __future__ import annotations

from sqlalchemy import func, select

from engine.service.store.records import Search, search_conditions
from engine.service.store.tables import decision_facts, decision_lines, line_findings

WIDE = 5       # a selection of at least 1/WIDE of the store is counted by scanning


def fill(conn, search: Search, pop) -> None:
    """Count the decisions `search` selects into `pop` (its counters, not its references)."""
    facts = decision_facts.c
    where = search_conditions(search)
    groups = (facts.received_month, facts.outcome, facts.policy_id, facts.policy_version)
    policies: set[tuple[str, str]] = set()
    for month, outcome, policy_id, version, n in conn.execute(select(*groups, func.count()).where(*where)
                                                              .group_by(*groups)):
        pop.outcomes[outcome] += n
        pop.decisions += n
        pop.by["time"].counts[month][outcome] += n
        policies.add((policy_id, version))
    selection = _selection(conn, where, pop.decisions)
    by_role = _lines(conn, selection, pop, search.dependent)
    _policies(conn, where, sorted(policies), pop, by_role)
    _findings(conn, selection, pop, pop.kb.verdicts["positive"], search.dependent)


def _selection(conn, where: list, selected: int):
    """A function giving the IN condition on a table's `decision_seq` (None: no filter)."""
    if not where:
        return None
    chosen = select(decision_facts.c.seq).where(*where)
    total = conn.execute(select(func.count()).select_from(decision_facts)).scalar_one()
    if selected >= total:       # a filter that every decision passes (one policy, a whole year)
        return None
    if selected * WIDE >= total:
        return lambda column: [(column + 0).in_(chosen)]
    return lambda column: [column.in_(chosen)]


def _in(column, selection) -> list:
    return [] if selection is None else selection(column)


def _lines(conn, selection, pop, dependent: str) -> dict[str, int]:
    line = decision_lines.c
    query = (select(line.kind, line.code, line.verdict, line.basis, func.count())
             .where(*_in(line.decision_seq, selection)).group_by(line.kind, line.code, line.verdict, line.basis))
    by_role: dict[str, int] = {}
    for kind, code, verdict, basis, n in conn.execute(query):
        role = pop.roles.get(verdict, "undetermined")
        by_role[role] = by_role.get(role, 0) + n
        if kind == "admission":
            pop.admissions += n
            pop.by["code"].counts["admission"][role] += n
            continue
        pop.lines += n
        pop.by["code"].counts[code][role] += n
        pop.by["family"].counts[pop.families.get(code, "")][role] += n
        if basis == dependent:
            pop.addons += n
        elif role != "positive":
            pop.blocked += n
    return by_role


def _policies(conn, where: list, policies: list[tuple[str, str]], pop, by_role: dict[str, int]) -> None:
    """Lines by policy: all of them when the decisions share one policy, else one grouped join."""
    if not policies:
        return
    if len(policies) == 1:
        for role, n in by_role.items():
            pop.by["policy"].counts[_key(*policies[0])][role] += n
        return
    facts, line = decision_facts.c, decision_lines.c
    query = (select(facts.policy_id, facts.policy_version, line.verdict, func.count())
             .select_from(decision_lines.join(decision_facts, facts.seq == line.decision_seq)).where(*where)
             .group_by(facts.policy_id, facts.policy_version, line.verdict))
    for policy_id, version, verdict, n in conn.execute(query):
        pop.by["policy"].counts[_key(policy_id, version)][pop.roles.get(verdict, "undetermined")] += n


def _key(policy_id: str, version: str) -> str:
    return f"{policy_id}@{version}".rstrip("@")


def _findings(conn, selection, pop, positive: str, dependent: str) -> None:
    found = line_findings.c
    query = (select(found.kind, found.key, found.state, found.verdict, found.basis, func.count())
             .where(*_in(found.decision_seq, selection))
             .group_by(found.kind, found.key, found.state, found.verdict, found.basis))
    for kind, key, state, verdict, basis, n in conn.execute(query):
        if basis == dependent:
            continue
        blocked = verdict != positive
        if kind == "criterion":
            pop.applicable[key] += n
            if blocked and state in pop.criteria:
                pop.criteria[state].counts[key][state] += n
        elif blocked:
            pop.missing.counts[key]["missing"] += n
