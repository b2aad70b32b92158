"""DTR: `POST /fhir/Questionnaire/$questionnaire-package` and `POST /fhir/Questionnaire/$next-question`."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from engine.service import crd, dtr
from engine.service.context import (
    audit,
    begin,
    body_text,
    caller,
    context,
    json_response,
    new_id,
    store_decision,
)
from engine.service.errors import ApiError
from engine.service.store.records import utcnow

router = APIRouter(prefix="/fhir/Questionnaire", tags=["DTR"])


async def _stored(request: Request, decision_id: str):
    stored = await run_in_threadpool(context(request).store.get, decision_id)
    if stored is None:
        raise ApiError(404, "not_found", f"no decision {decision_id}")
    return stored


@router.post("/$questionnaire-package")
async def questionnaire_package(request: Request, who: str = Depends(caller)):
    received = utcnow()
    ctx = context(request)
    base = ctx.config.base_url
    begin(request, "operation", "R", "dtr", "Questionnaire/$questionnaire-package")
    body, text = await body_text(request)
    params = dtr.package_parameters(text)
    today = dt.date.today().isoformat()
    if params["context"]:
        begin(request, "operation", "R", "dtr", f"Decision/{params['context']}")
        stored = await _stored(request, params["context"])
        decision, decision_id = stored.decision, stored.id
        await audit(request)
    else:
        begin(request, "operation", "C", "dtr", "Questionnaire/$questionnaire-package")
        decision_id = new_id()
        decided, _ = await ctx.decider.run(crd.decide_orders, params["orders"], params["others"], None,
                                           decision_id, f"{base}/identifier/dtr")
        decision = decided.decision
        await store_decision(request, decided, channel="dtr", body=body, content_type="application/fhir+json",
                             received=received, request_key=decision_id, decision_id=decision_id)
    found = await run_in_threadpool(dtr.questionnaires, decision, decision_id, base, today, ctx.kb.root)
    return json_response(await run_in_threadpool(dtr.package, found), fhir=True)


@router.post("/$next-question")
async def next_question(request: Request, who: str = Depends(caller)):
    received = utcnow()
    ctx = context(request)
    begin(request, "operation", "C", "dtr", "Questionnaire/$next-question")
    body, text = await body_text(request)
    qr = dtr.response_of(text)
    decision_id = dtr.decision_id_of(qr)
    stored = await _stored(request, decision_id)
    decided, answer = await ctx.decider.run(dtr.next_question, qr, stored.case, decision_id, ctx.config.base_url,
                                            dt.date.today().isoformat())
    await store_decision(request, decided, channel="dtr", body=body, content_type="application/fhir+json",
                         received=received, request_key=decision_id)
    return json_response(answer, fhir=True)
