"""Where a dashboard bar leads: the list of stored decisions with the bar's filter added to the
dashboard's own, so the list shows exactly the cases the bar counts."""
from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from typing import Any

from engine.service.ui.filters import Filters

DIMENSION_FILTER = {"code": "code", "family": "family", "policy": "policy"}


class ListLinks:
    def __init__(self, filters: Filters, result: dict[str, Any]) -> None:
        self.filters = filters
        self.verdicts = result["verdicts"]

    def _list(self, **changes: str) -> str:
        return "/ui/decisions?" + self.filters.query(**changes)

    def lines(self, dimension: str, key: str, role: str) -> str | None:
        if not key:
            return None
        return self._list(**{DIMENSION_FILTER[dimension]: key, "verdict": self.verdicts[role]})

    def criterion(self, state: str, key: str) -> str | None:
        return self._list(criterion=key, state=state, blocked="1")

    def missing(self, field: str) -> str | None:
        return self._list(missing=field, blocked="1")

    def period(self, key: str, outcome: str) -> str | None:
        if len(key) == 7:       # YYYY-MM
            year, month = int(key[:4]), int(key[5:])
            last = calendar.monthrange(year, month)[1]
            return self._list(since=f"{key}-01", until=f"{key}-{last:02d}", outcome=outcome)
        return self._list(since=key, until=key, outcome=outcome)


def by_day(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """(day, outcome) pairs as the over-time rows of one month, day by day."""
    from engine.authoring.population import OUTCOMES

    counts: dict[str, Counter] = defaultdict(Counter)
    for day, outcome in rows:
        counts[day][outcome] += 1
    return [{"key": day, "label": f"{int(day[8:])} {calendar.month_abbr[int(day[5:7])]}", "counts": {o: counts[day].get(o, 0) for o in OUTCOMES},
             "total": sum(counts[day].values()), "refs": {}} for day in sorted(counts)]
