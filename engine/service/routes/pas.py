"""PAS endpoints: `POST /fhir/Claim/$submit`, `POST /fhir/Claim/$inquire`,
`GET /fhir/ClaimResponse/{id}` (FHIR JSON in and out; errors as OperationOutcome)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from engine.service import pas
from engine.service.context import audit, begin, body_text, caller, context, json_response, store_decision
from engine.service.errors import ApiError
from engine.service.store.records import utcnow

router = APIRouter(prefix="/fhir", tags=["PAS"])


@router.post("/Claim/$submit")
async def submit(request: Request, who: str = Depends(caller)):
    received = utcnow()
    begin(request, "operation", "C", "pas", "Claim/$submit")
    body, text = await body_text(request)
    decided, answer, key = await context(request).decider.run(pas.submit, text)
    response = pas.claim_response(answer) or {}
    await store_decision(request, decided, channel="pas", body=body,
                         content_type=request.headers.get("content-type", "application/fhir+json"),
                         received=received, request_key=key, response=answer, response_id=response.get("id"))
    return json_response(answer, fhir=True)


@router.post("/Claim/$inquire")
async def inquire(request: Request, who: str = Depends(caller)):
    begin(request, "operation", "R", "pas", "Claim/$inquire")
    _, text = await body_text(request)
    key = pas.inquiry_key(text)
    stored = await run_in_threadpool(context(request).store.find_by_request_key, "pas", key)
    if stored is None or stored.response is None:
        raise ApiError(404, "not_found", "no prior-authorization request with this Claim identifier was submitted")
    await audit(request, entity=f"Decision/{stored.id}")
    return json_response(stored.response, fhir=True)


@router.get("/ClaimResponse/{response_id}")
async def read_claim_response(request: Request, response_id: str, who: str = Depends(caller)):
    begin(request, "read", "R", "pas", f"ClaimResponse/{response_id}")
    stored = await run_in_threadpool(context(request).store.find_by_response_id, response_id)
    resource = pas.claim_response(stored.response) if stored is not None and stored.response else None
    if resource is None:
        raise ApiError(404, "not_found", f"no ClaimResponse {response_id}")
    await audit(request, entity=f"Decision/{stored.id}")
    return json_response(resource, fhir=True)
