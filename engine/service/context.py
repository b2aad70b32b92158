"""What every route shares: the configuration, the store, the decision thread and the tokens,
plus the small helpers that read requests and record what happened (audit)."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from engine.service.config import ServiceConfig, Tokens
from engine.service.decider import Decider
from engine.service.errors import FHIR_JSON, ApiError, dumps
from engine.service.store import AuditEntry, NewDecision, Store
from engine.service.store.records import utcnow


@dataclass
class Context:
    config: ServiceConfig
    store: Store
    decider: Decider
    tokens: Tokens | None

    @property
    def kb(self):
        return self.decider.kb

    @property
    def policy(self) -> dict[str, str]:
        kb = self.kb
        return {"id": str(kb.meta.get("name", "warrant")), "version": kb.version, "digest": kb.digest}

    def knows(self, digest: str) -> bool:
        """Whether a stored decision's digest is the served kb's or one of its policy versions'
        (so its explanations can be reproduced here)."""
        if digest == self.kb.digest:
            return True
        from engine.knowledge.policies import version_digest

        table = self.kb.policy_table
        return any(version_digest(table, self.kb.digest, v) == digest for v in table.versions)


def context(request: Request) -> Context:
    return request.app.state.warrant


def caller(request: Request) -> str:
    """The name of the caller's token (401 without a valid one); `anonymous` when the service
    runs without tokens, which it only does on loopback."""
    ctx = context(request)
    if not ctx.tokens:
        return "anonymous"
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    name = ctx.tokens.caller(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if name is None:
        request.state.caller = "unauthenticated"
        post = request.method == "POST"
        begin(request, "create" if post else "read", "C" if post else "R", channel_of(request.url.path),
              request.url.path)
        raise ApiError(401, "unauthorized", "a valid bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="warrant"'})
    request.state.caller = name
    return name


def channel_of(path: str) -> str:
    if path.startswith("/fhir/Claim"):
        return "pas"
    if path.startswith("/fhir/Questionnaire"):
        return "dtr"
    if path.startswith("/cds-services"):
        return "crd"
    return "api"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None,
                  fhir: bool = False) -> Response:
    return Response(dumps(data), status_code=status, headers=headers,
                    media_type=FHIR_JSON if fhir else "application/json")


def new_id() -> str:
    return uuid.uuid4().hex


def client(request: Request) -> str:
    return request.client.host if request.client else "-"


def begin(request: Request, subtype: str, action: str, channel: str, entity: str | None = None) -> None:
    """Say what this request does, so that however it ends it is audited as that."""
    request.state.audit = (subtype, action, channel, entity)


def audit_entry(request: Request, status: int, entity: str | None = None) -> AuditEntry | None:
    planned = getattr(request.state, "audit", None)
    if planned is None:
        return None
    subtype, action, channel, planned_entity = planned
    return AuditEntry(subtype=subtype, action=action, agent=getattr(request.state, "caller", "anonymous"),
                      source=client(request), channel=channel, http_status=status,
                      entity=entity or planned_entity, type="operation" if subtype == "operation" else "rest")


async def audit(request: Request, status: int = 200, entity: str | None = None) -> None:
    entry = audit_entry(request, status, entity)
    if entry is not None:
        request.state.audit = None
        await run_in_threadpool(context(request).store.audit, entry)


async def store_decision(request: Request, decided, *, channel: str, body: bytes, content_type: str,
                         received: dt.datetime, as_of: str | None = None, request_key: str | None = None,
                         response: dict | None = None, response_id: str | None = None,
                         decision_id: str | None = None) -> str:
    """Store a decision with its audit event (one transaction) and return its id."""
    ctx = context(request)
    decision_id = decision_id or new_id()
    new = NewDecision(id=decision_id, channel=channel, caller=getattr(request.state, "caller", "anonymous"),
                      content_type=content_type, request_body=body, case=decided.case,
                      decision=decided.decision, policy_id=_policy_id(decided.decision, ctx.policy["id"]),
                      outcome=decided.outcome,
                      received_at=received, decided_at=utcnow(), as_of=as_of, request_key=request_key,
                      response=response, response_id=response_id, levels=ctx.kb.levels)
    entry = audit_entry(request, 201, f"Decision/{decision_id}")
    await run_in_threadpool(ctx.store.save, new, entry)
    request.state.audit = None
    return decision_id


def _policy_id(decision: dict, served: str) -> str:
    """The policy id a stored decision records (its first stage's), else the served kb's name."""
    for stage in decision.get("stages", []):
        if isinstance(stage.get("policy"), dict):
            return str(stage["policy"]["id"])
    return served


def body_kind(request: Request) -> str:
    """json or yaml, from Content-Type (415 otherwise)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media in ("application/json", "application/fhir+json", "text/json") or media.endswith("+json"):
        return "json"
    if media in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
        return "yaml"
    raise ApiError(415, "unsupported_media_type",
                   f"send the case as application/json or application/yaml, not {media or 'no Content-Type'}")


async def body_text(request: Request) -> tuple[bytes, str]:
    body = await request.body()
    return body, body.decode("utf-8", errors="surrogateescape")


def parse_date(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"{name} must be a date as YYYY-MM-DD, not {value!r}",
                       [{"path": name, "message": "expected YYYY-MM-DD"}]) from None


def parse_instant(value: str | None, name: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"{name} must be an ISO date or date-time, not {value!r}",
                       [{"path": name, "message": "expected an ISO 8601 date or date-time"}]) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment
