"""The ASGI application: one FastAPI app, one router per channel.

Routers: health, decisions (the JSON API), explanations of stored decisions, metrics and audit,
PAS (`/fhir/Claim/...`), CRD (`/cds-services`), DTR (`/fhir/Questionnaire/...`). Another
channel (the workbench under `/ui/`) is one more `app.include_router(...)`; routes reach the
shared state through `engine.service.context.context(request)` and the store's query methods.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from engine.errors import CaseError, EvaluationError, RuleError, UsageError, WarrantError
from engine.service.config import ServiceConfig, Tokens
from engine.service.context import Context, audit, json_response
from engine.service.decider import Decider, TimeLimitExceeded
from engine.service.errors import ApiError, error_body, from_warrant, operation_outcome
from engine.service.limits import AccessLog, BodyLimit
from engine.service.store import Store, StoreUnavailable, default_url

log = logging.getLogger("warrant.service")
FHIR_PREFIXES = ("/fhir/",)


def create_app(config: ServiceConfig | None = None, *, store: Store | None = None,
               decider: Decider | None = None) -> FastAPI:
    """Build the app. `store` and `decider` may be given (tests share them between apps)."""
    from engine.service.routes import ROUTERS

    config = config or ServiceConfig.from_env()
    tokens = Tokens.read(config.token_file) if config.token_file else None
    store = store or Store(config.db_url or default_url(), migrate=config.migrate)
    decider = decider or Decider(config.kb_dir, time_limit=config.time_limit)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(decider.warm)
        yield

    app = FastAPI(title="Warrant decision service", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")  # no CDN-loaded pages
    app.state.warrant = Context(config, store, decider, tokens)
    for router in ROUTERS:
        app.include_router(router)
    _error_handlers(app)
    if config.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(BodyLimit, max_body=config.max_body)
    app.add_middleware(AccessLog)  # outermost: logs every request, answers what no handler took
    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn's worker processes call (`engine.service.app:app_from_env`)."""
    return create_app(ServiceConfig.from_env())


def _respond(request: Request, error: ApiError) -> Response:
    fhir = request.url.path.startswith(FHIR_PREFIXES)
    body = operation_outcome(error) if fhir else error_body(error)
    return json_response(body, error.status, error.headers, fhir=fhir)


async def _answer(request: Request, error: ApiError) -> Response:
    if error.code != "store_unavailable":
        try:
            await audit(request, error.status)
        except StoreUnavailable:
            error = ApiError(503, "store_unavailable", "the decision store cannot be reached; try again later",
                             headers={"Retry-After": "5"})
    return _respond(request, error)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return await _answer(request, exc)

    @app.exception_handler(WarrantError)
    async def warrant_error(request: Request, exc: WarrantError) -> Response:
        if isinstance(exc, CaseError):
            return await _answer(request, from_warrant(exc, 422))
        if isinstance(exc, UsageError):
            return await _answer(request, from_warrant(exc, 400))
        if isinstance(exc, EvaluationError) and exc.code == "budget_exceeded":
            # the same request would run out again: the client must change it, not retry it
            return await _answer(request, from_warrant(exc, 422))
        if isinstance(exc, (RuleError, EvaluationError)):
            log.error("knowledge-base error: %s", exc.code)
            return await _answer(request, ApiError(500, "kb_error", "the knowledge base is broken; see the server log"))
        return await _answer(request, from_warrant(exc, 500))

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> Response:
        log.warning("store unavailable: %s", exc)
        return _respond(request, ApiError(503, "store_unavailable",
                                          "the decision store cannot be reached; nothing was stored; try again later",
                                          headers={"Retry-After": "5"}))

    @app.exception_handler(TimeLimitExceeded)
    async def too_slow(request: Request, exc: TimeLimitExceeded) -> Response:
        limit = request.app.state.warrant.decider.time_limit
        return await _answer(request, ApiError(503, "time_limit", f"the decision took longer than {limit:g} s; "
                                               "nothing was stored", headers={"Retry-After": "1"}))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        findings = [{"path": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body")),
                     "message": str(e.get("msg", ""))} for e in exc.errors()]
        return await _answer(request, ApiError(422, "invalid_parameter", "the request's parameters are invalid",
                                               findings))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _respond(request, ApiError(exc.status_code, code, str(exc.detail)))


__all__ = ["create_app", "app_from_env"]


