"""The workbench's filters: one set of query parameters for the list of decisions, the dashboard
and the links from a chart's bar to the cases behind it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from engine.service.errors import ApiError
from engine.service.store import Search

PAGE = 25


@dataclass
class Filters:
    policy: str = ""
    code: str = ""
    family: str = ""
    verdict: str = ""
    basis: str = ""
    outcome: str = ""
    case: str = ""
    since: str = ""        # YYYY-MM-DD, inclusive
    until: str = ""        # YYYY-MM-DD, inclusive
    criterion: str = ""
    state: str = ""
    missing: str = ""
    blocked: str = ""      # "1": lines not approved on their own account (what a criterion bar counts)
    cursor: str = ""

    @classmethod
    def from_query(cls, params) -> "Filters":
        return cls(**{f.name: str(params.get(f.name, "") or "")[:200] for f in fields(cls)})

    def query(self, **changes: Any) -> str:
        """These filters as a query string, with `changes`; a page cursor is kept only if given."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["cursor"] = ""
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if f.name != "cursor")

    def search(self, kb, limit: int = PAGE) -> Search:
        codes = None
        if self.family:
            from engine.service.ui.views import families

            codes = tuple(sorted(c for c, f in families(kb).items() if f == self.family))
        if self.cursor and not self.cursor.isdigit():
            raise ApiError(422, "invalid_parameter", "cursor must come from a previous page")
        return Search(code=self.code or None, verdict=self.verdict or None, basis=self.basis or None,
                      policy=self.policy or None, outcome=self.outcome or None, case_id=self.case or None,
                      since=_day(self.since, "since"), until=_day(self.until, "until", 1), codes=codes,
                      criterion=self.criterion or None, state=self.state or None, missing=self.missing or None,
                      blocked=self.blocked == "1", positive=kb.verdicts["positive"], limit=limit,
                      cursor=int(self.cursor) if self.cursor else None)


def _day(value: str, name: str, plus: int = 0) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"{name} must be a date as YYYY-MM-DD",
                       [{"path": name, "message": "expected YYYY-MM-DD"}]) from None
    return dt.datetime.combine(day + dt.timedelta(days=plus), dt.time())
