"""The workbench dashboard's figures over stored decisions, counted in SQL.

`fill` puts into an `engine.authoring.population.Population` the same counts that feeding it
every decision would (a test holds the two to agreement). Each count is one grouped query over
one table, read from a covering index (`ix_lines_counts`, `ix_findings_key`, `ix_decisions_*`):
line findings carry their line's verdict and basis, so nothing is joined, and a filter of
decisions becomes `decision_seq IN (the selected decisions)`.
"""
from __future__ import annotations

from sqlalchemy import func, select

from engine.service.store.records import Search, search_conditions
from engine.service.store.tables import decision_lines, decisions, line_findings


def fill(conn, search: Search, pop) -> None:
    """Count the decisions `search` selects into `pop` (its counters, not its references)."""
    where = search_conditions(search)
    chosen = select(decisions.c.seq).where(*where) if where else None
    for outcome, n in conn.execute(select(decisions.c.outcome, func.count()).where(*where)
                                   .group_by(decisions.c.outcome)):
        pop.outcomes[outcome] += n
        pop.decisions += n
    by_role = _lines(conn, chosen, pop, search.dependent)
    _policies(conn, where, pop, by_role)
    _findings(conn, chosen, pop, pop.kb.verdicts["positive"], search.dependent)
    month = decisions.c.received_month
    for period, outcome, n in conn.execute(select(month, decisions.c.outcome, func.count()).where(*where)
                                           .group_by(month, decisions.c.outcome)):
        pop.by["time"].counts[period][outcome] += n


def _in(column, chosen):
    return [] if chosen is None else [column.in_(chosen)]


def _lines(conn, chosen, pop, dependent: str) -> dict[str, int]:
    line = decision_lines.c
    query = (select(line.kind, line.code, line.verdict, line.basis, func.count())
             .where(*_in(line.decision_seq, chosen)).group_by(line.kind, line.code, line.verdict, line.basis))
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


def _policies(conn, where, pop, by_role: dict[str, int]) -> None:
    """Lines by policy: all of them when the decisions share one policy, else one query each."""
    policies = list(conn.execute(select(decisions.c.policy_id, decisions.c.policy_version).where(*where)
                                 .group_by(decisions.c.policy_id, decisions.c.policy_version)))
    for policy_id, version in policies:
        key = f"{policy_id}@{version}".rstrip("@")
        if len(policies) == 1:
            for role, n in by_role.items():
                pop.by["policy"].counts[key][role] += n
            return
        chosen = select(decisions.c.seq).where(*where, decisions.c.policy_id == policy_id,
                                               decisions.c.policy_version == version)
        for verdict, n in conn.execute(select(decision_lines.c.verdict, func.count())
                                       .where(decision_lines.c.decision_seq.in_(chosen))
                                       .group_by(decision_lines.c.verdict)):
            pop.by["policy"].counts[key][pop.roles.get(verdict, "undetermined")] += n


def _findings(conn, chosen, pop, positive: str, dependent: str) -> None:
    found = line_findings.c
    query = (select(found.kind, found.key, found.state, found.verdict, found.basis, func.count())
             .where(*_in(found.decision_seq, chosen))
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
