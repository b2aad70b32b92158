"""Explanations of a stored decision: `why`, `why-not`, `graph` and `report`, as the CLI gives them."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from engine.errors import RendererMissing
from engine.service import explaining
from engine.service.context import audit, begin, caller, context, json_response
from engine.service.errors import ApiError

router = APIRouter(prefix="/api/v1/decisions/{decision_id}", tags=["explanations"])


async def _stored(request: Request, decision_id: str, what: str):
    begin(request, "read", "R", "api", f"Decision/{decision_id}/{what}")
    ctx = context(request)
    stored = await run_in_threadpool(ctx.store.get, decision_id)
    if stored is None:
        raise ApiError(404, "not_found", f"no decision {decision_id}")
    if not ctx.knows(stored.policy["digest"]):
        raise ApiError(409, "policy_changed",
                       f"decision {decision_id} was made with knowledge base {stored.policy['version']} "
                       f"({stored.policy['digest']}); this service runs {ctx.kb.version} ({ctx.kb.digest}); "
                       "`warrant replay` shows what the change does to it")
    return stored


@router.get("/why")
async def why(request: Request, decision_id: str, line: str, depth: int | None = Query(None, ge=0),
              who: str = Depends(caller)):
    stored = await _stored(request, decision_id, "why")
    tree = await context(request).decider.run(explaining.why, stored, line, depth)
    await audit(request)
    return json_response(tree)


@router.get("/why-not")
async def why_not(request: Request, decision_id: str, line: str, verdict: str | None = None,
                  depth: int | None = Query(None, ge=0), who: str = Depends(caller)):
    stored = await _stored(request, decision_id, "why-not")
    result = await context(request).decider.run(explaining.why_not, stored, line, verdict, depth)
    await audit(request)
    return json_response(result)


@router.get("/graph")
async def graph(request: Request, decision_id: str, line: str, format: str = "json",
                why_not: str | None = None, who: str = Depends(caller)):
    import graphs

    if format not in graphs.FORMATS:
        raise ApiError(422, "invalid_parameter", f"format must be one of {', '.join(graphs.FORMATS)}",
                       [{"path": "format", "message": f"unknown format {format!r}"}])
    stored = await _stored(request, decision_id, "graph")
    try:
        drawn = await context(request).decider.run(explaining.graph, stored, line, format, why_not)
    except RendererMissing as exc:
        raise ApiError(501, "renderer_missing", str(exc.findings[0].message)) from None
    await audit(request)
    return Response(drawn, media_type=explaining.MEDIA[format])


@router.get("/report")
async def report(request: Request, decision_id: str, format: str = "markdown",
                 reviewer: str | None = Query(None, max_length=200), who: str = Depends(caller)):
    """The determination letter (markdown, html or pdf); 501 when PDF has no renderer here."""
    from engine.present.report import FORMATS

    if format not in FORMATS:
        raise ApiError(422, "invalid_parameter", f"format must be one of {', '.join(FORMATS)}",
                       [{"path": "format", "message": f"unknown format {format!r}"}])
    if format == "pdf":
        from engine.present.pdf import find_renderer

        try:
            find_renderer()
        except RendererMissing as exc:
            raise ApiError(501, "renderer_missing", str(exc.findings[0].message)) from None
    stored = await _stored(request, decision_id, "report")
    text = await context(request).decider.run(explaining.report, stored, format, reviewer)
    await audit(request)
    return Response(text, media_type=explaining.MEDIA.get(format, "text/plain") + (
        "; charset=utf-8" if isinstance(text, str) else ""))
