"""CRD over CDS Hooks: `GET /cds-services` (discovery) and `POST /cds-services/warrant-{hook}`."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from engine.service import crd
from engine.service.context import begin, body_text, caller, context, json_response, new_id, store_decision
from engine.service.errors import ApiError
from engine.service.store.records import utcnow

router = APIRouter(prefix="/cds-services", tags=["CRD"])


@router.get("")
async def discovery(request: Request):
    from engine.fhir.mapping import load_map

    return json_response(crd.services(load_map(context(request).kb.root).crd))


@router.post("/{service_id}")
async def hook(request: Request, service_id: str, who: str = Depends(caller)):
    received = utcnow()
    name = service_id.removeprefix("warrant-")
    if not service_id.startswith("warrant-") or name not in crd.HOOKS:
        raise ApiError(404, "not_found", f"no CDS service {service_id}; GET /cds-services lists them")
    begin(request, "operation", "C", "crd", f"cds-services/{service_id}")
    body, text = await body_text(request)
    decision_id = new_id()
    ctx = context(request)
    decided, answer, instance = await ctx.decider.run(crd.decide_hook, name, text, decision_id,
                                                      ctx.config.base_url)
    await store_decision(request, decided, channel="crd", body=body, content_type="application/json",
                         received=received, request_key=instance, response=answer, decision_id=decision_id)
    return json_response(answer)
