"""Prior-authorization metrics in the spirit of CMS-0057-F: how many requests were approved,
denied or pended, by code, by policy and by month, and how long decisions took.

A decision's `outcome` is `approved` (every line has the kb's positive verdict), `denied`
(every line the negative one), `pended` (some line cannot be determined yet) or `partial`
(approved and denied lines, none pended). Time to decision runs from receipt of the request
to the stored decision.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from engine.service.store.tables import decision_lines, decisions

OUTCOMES = ("approved", "denied", "partial", "pended")
HOURS_72_MS = 72 * 3600 * 1000.0
DAYS_7_MS = 7 * 24 * 3600 * 1000.0


def _window(query, since: dt.datetime | None, until: dt.datetime | None):
    if since is not None:
        query = query.where(decisions.c.received_at >= since)
    if until is not None:
        query = query.where(decisions.c.received_at < until)
    return query


def _counts(conn, group_cols, since, until) -> dict[tuple, dict[str, int]]:
    query = _window(select(*group_cols, decisions.c.outcome, func.count()).group_by(*group_cols, decisions.c.outcome),
                    since, until)
    out: dict[tuple, dict[str, int]] = {}
    for row in conn.execute(query):
        key = tuple(row[:-2])
        bucket = out.setdefault(key, {"total": 0, **{o: 0 for o in OUTCOMES}})
        bucket[row[-2]] = bucket.get(row[-2], 0) + row[-1]
        bucket["total"] += row[-1]
    return out


def _by_code(conn, since, until) -> dict[str, dict[str, int]]:
    query = (select(decision_lines.c.code, decision_lines.c.verdict, func.count())
             .join(decisions, decisions.c.seq == decision_lines.c.decision_seq)
             .where(decision_lines.c.kind == "line")
             .group_by(decision_lines.c.code, decision_lines.c.verdict))
    out: dict[str, dict[str, int]] = {}
    for code, verdict, n in conn.execute(_window(query, since, until)):
        bucket = out.setdefault(code, {"total": 0})
        bucket[verdict] = bucket.get(verdict, 0) + n
        bucket["total"] += n
    return dict(sorted(out.items()))


def _timing(conn, since, until) -> dict[str, Any]:
    n, mean, fast, week = conn.execute(_window(select(
        func.count(), func.avg(decisions.c.duration_ms),
        func.sum(case((decisions.c.duration_ms <= HOURS_72_MS, 1), else_=0)),
        func.sum(case((decisions.c.duration_ms <= DAYS_7_MS, 1), else_=0))), since, until)).one()
    if not n:
        return {"decisions": 0, "mean_ms": None, "median_ms": None, "within_72_hours": None, "within_7_days": None}
    ordered = _window(select(decisions.c.duration_ms), since, until).order_by(decisions.c.duration_ms)
    middle = [r[0] for r in conn.execute(ordered.offset((n - 1) // 2).limit(2 - n % 2))]
    return {"decisions": n, "mean_ms": round(float(mean), 3), "median_ms": round(sum(middle) / len(middle), 3),
            "within_72_hours": round(int(fast or 0) / n, 6), "within_7_days": round(int(week or 0) / n, 6)}


def metrics(conn, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[str, Any]:
    """The metrics of the decisions received in [since, until) (all of them by default)."""
    overall = _counts(conn, [], since, until).get((), {"total": 0, **{o: 0 for o in OUTCOMES}})
    by_policy = {f"{pid}@{version}": counts for (pid, version), counts in
                 sorted(_counts(conn, [decisions.c.policy_id, decisions.c.policy_version], since, until).items())}
    by_month = {month: counts for (month,), counts in
                sorted(_counts(conn, [decisions.c.received_month], since, until).items())}
    by_channel = {channel: counts for (channel,), counts in
                  sorted(_counts(conn, [decisions.c.channel], since, until).items())}
    return {**overall, "by_code": _by_code(conn, since, until), "by_policy": by_policy,
            "by_month": by_month, "by_channel": by_channel, "time_to_decision": _timing(conn, since, until)}
