"""The workbench dashboard's figures over stored decisions, counted in SQL.

`fill` puts into an `engine.authoring.population.Population` the same counts that feeding it
every decision would (a test holds the two to agreement), from five grouped queries over the
decisions a search selects, so the dashboard over ten thousand decisions reads counts, not
ten thousand decision documents."""
from __future__ import annotations

from sqlalchemy import and_, func, select

from engine.service.store.records import Search, search_conditions
from engine.service.store.tables import decision_lines, decisions, line_findings


def fill(conn, search: Search, pop) -> None:
    """Count the decisions `search` selects into `pop` (its counters, not its references)."""
    where = search_conditions(search)
    positive = pop.kb.verdicts["positive"]
    dependent = search.dependent
    for outcome, n in conn.execute(select(decisions.c.outcome, func.count()).where(*where)
                                   .group_by(decisions.c.outcome)):
        pop.outcomes[outcome] += n
        pop.decisions += n
    _lines(conn, where, pop, dependent)
    _findings(conn, where, pop, positive, dependent)
    month = decisions.c.received_month
    for period, outcome, n in conn.execute(select(month, decisions.c.outcome, func.count()).where(*where)
                                           .group_by(month, decisions.c.outcome)):
        pop.by["time"].counts[period][outcome] += n


def _lines(conn, where, pop, dependent: str) -> None:
    line = decision_lines.c
    query = (select(line.kind, line.code, line.verdict, line.basis, decisions.c.policy_id,
                    decisions.c.policy_version, func.count())
             .select_from(decision_lines.join(decisions, decisions.c.seq == line.decision_seq)).where(*where)
             .group_by(line.kind, line.code, line.verdict, line.basis, decisions.c.policy_id,
                       decisions.c.policy_version))
    for kind, code, verdict, basis, policy_id, version, n in conn.execute(query):
        role = pop.roles.get(verdict, "undetermined")
        policy = f"{policy_id}@{version}".rstrip("@")
        pop.by["policy"].counts[policy][role] += n
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


def _findings(conn, where, pop, positive: str, dependent: str) -> None:
    line, found = decision_lines.c, line_findings.c
    blocked = line.verdict != positive
    joined = (line_findings.join(decision_lines, and_(line.decision_seq == found.decision_seq,
                                                      line.line_no == found.line_no))
              .join(decisions, decisions.c.seq == found.decision_seq))
    query = (select(found.kind, found.key, found.state, blocked.label("blocked"), func.count())
             .select_from(joined).where(line.basis != dependent, *where)
             .group_by(found.kind, found.key, found.state, blocked))
    for kind, key, state, is_blocked, n in conn.execute(query):
        if kind == "criterion":
            pop.applicable[key] += n
            if is_blocked and state in pop.criteria:
                pop.criteria[state].counts[key][state] += n
        elif is_blocked:
            pop.missing.counts[key]["missing"] += n
