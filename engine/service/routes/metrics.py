"""`GET /api/v1/metrics` (CMS-0057-F style counts and timings) and `GET /api/v1/audit`."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from engine.service.context import audit, begin, caller, context, json_response, parse_instant
from engine.service.errors import ApiError

router = APIRouter(prefix="/api/v1", tags=["metrics"])


@router.get("/metrics")
async def metrics(request: Request, since: str | None = None, until: str | None = None,
                  who: str = Depends(caller)):
    begin(request, "search", "R", "api", "Metrics")
    result = await run_in_threadpool(context(request).store.metrics, parse_instant(since, "since"),
                                     parse_instant(until, "until"))
    await audit(request)
    return json_response(result)


@router.get("/audit")
async def audit_trail(request: Request, since: str | None = None, limit: int = Query(100, ge=1, le=1000),
                      cursor: str | None = None, who: str = Depends(caller)):
    """Audit events (FHIR AuditEvent shape), newest first; reading them is audited too."""
    begin(request, "search", "R", "api", "AuditEvent?search")
    if cursor is not None and not cursor.isdigit():
        raise ApiError(422, "invalid_parameter", "cursor must be the next_cursor of a previous page",
                       [{"path": "cursor", "message": "not a cursor this service issued"}])
    await audit(request)
    page = await run_in_threadpool(context(request).store.audit_events, parse_instant(since, "since"), limit,
                                   int(cursor) if cursor else None)
    return json_response(page)
