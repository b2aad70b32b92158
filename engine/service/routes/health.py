"""`GET /healthz`: the kb and policy served, and whether the store answers (503 when not)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from engine.service.context import context, json_response
from engine.service.store import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request):
    ctx = context(request)
    kb = ctx.kb
    body = {"status": "ok",
            "knowledge_base": {"version": kb.version, "digest": kb.digest},
            "policies": [ctx.policy],
            "store": {"dialect": ctx.store.dialect}}
    try:
        await run_in_threadpool(ctx.store.ping)
    except StoreUnavailable:
        body["status"] = "store_unavailable"
        return json_response(body, 503, {"Retry-After": "5"})
    return json_response(body)
