"""The JSON API: decide a case and store the decision; read one back; search them."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from engine.service.context import (
    audit,
    begin,
    body_kind,
    body_text,
    caller,
    context,
    json_response,
    parse_date,
    parse_instant,
    store_decision,
)
from engine.service.deciding import decide_text
from engine.service.errors import ApiError
from engine.service.store import Search
from engine.service.store.records import utcnow

router = APIRouter(prefix="/api/v1", tags=["decisions"])


def check_policy(request: Request, policy: str | None) -> None:
    """`policy` names a policy of the kb's table (`id` or `id@version`); anything else is 404."""
    if not policy:
        return
    from engine.knowledge.policies import PolicyChoiceError

    table = context(request).kb.policy_table
    try:
        table.get(policy)
    except PolicyChoiceError as exc:
        raise ApiError(404, "unknown_policy", f"no policy {policy!r}: {exc}") from None


@router.post("/decisions", status_code=201)
async def create_decision(request: Request, policy: str | None = None, as_of: str | None = None,
                          who: str = Depends(caller)):
    """Decide the case in the body (JSON or YAML, or a FHIR bundle) and store the decision."""
    received = utcnow()
    begin(request, "create", "C", "api")
    check_policy(request, policy)
    as_of = parse_date(as_of, "as_of")
    kind = body_kind(request)
    body, text = await body_text(request)
    when = dt.date.fromisoformat(as_of) if as_of else None
    chosen = (policy, when) if policy or when else ()
    decided = await context(request).decider.run(decide_text, text, f"request.{kind}", *chosen)
    content_type = request.headers.get("content-type", "")
    decision_id = await store_decision(request, decided, channel="api", body=body, content_type=content_type,
                                       received=received, as_of=as_of)
    return json_response({"id": decision_id, "decision": decided.decision}, 201,
                         {"Location": f"/api/v1/decisions/{decision_id}"})


@router.get("/decisions/{decision_id}")
async def read_decision(request: Request, decision_id: str, who: str = Depends(caller)):
    begin(request, "read", "R", "api", f"Decision/{decision_id}")
    stored = await run_in_threadpool(context(request).store.get, decision_id)
    if stored is None:
        raise ApiError(404, "not_found", f"no decision {decision_id}")
    await audit(request)
    return json_response(stored.to_dict())


@router.get("/decisions/{decision_id}/request")
async def read_request(request: Request, decision_id: str, who: str = Depends(caller)):
    """The request body exactly as it was received (with its Content-Type)."""
    from starlette.responses import Response

    begin(request, "read", "R", "api", f"Decision/{decision_id}/request")
    stored = await run_in_threadpool(context(request).store.get, decision_id)
    if stored is None:
        raise ApiError(404, "not_found", f"no decision {decision_id}")
    await audit(request)
    return Response(stored.request_body, media_type=stored.content_type or "application/octet-stream",
                    headers={"X-Content-SHA256": stored.request_sha256})


@router.get("/decisions")
async def search_decisions(request: Request, code: str | None = None, verdict: str | None = None,
                           basis: str | None = None, policy: str | None = None, channel: str | None = None,
                           since: str | None = None, limit: int = Query(50, ge=1, le=500),
                           cursor: str | None = None, who: str = Depends(caller)):
    """Decision summaries, newest first; `next_cursor` fetches the next page."""
    begin(request, "search", "R", "api", "Decision?search")
    if cursor is not None and not cursor.isdigit():
        raise ApiError(422, "invalid_parameter", "cursor must be the next_cursor of a previous page",
                       [{"path": "cursor", "message": "not a cursor this service issued"}])
    search = Search(code=code, verdict=verdict, basis=basis, policy=policy, channel=channel,
                    since=parse_instant(since, "since"), limit=limit,
                    cursor=int(cursor) if cursor is not None else None)
    page = await run_in_threadpool(context(request).store.search, search)
    await audit(request)
    return json_response(page)
