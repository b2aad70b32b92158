"""The workbench's tools: what-if on a stored decision, the dashboard over stored decisions, and
the comparison of policies (one case side by side; a version's impact on stored decisions)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine.errors import WarrantError
from engine.service.context import audit, begin, context, store_decision
from engine.service.errors import ApiError
from engine.service.routes.ui_pages import error_page, stored_or_page
from engine.service.store.records import utcnow
from engine.service.ui import views
from engine.service.ui.filters import Filters
from engine.service.ui.pages import render, same_origin, to_login, ui_caller

router = APIRouter(prefix="/ui", tags=["workbench"], include_in_schema=False)
IMPACT_LIMIT = 500


async def _edits(request: Request):
    from engine.service.ui.whatif import edits_from_form

    form = await request.form()
    return edits_from_form([str(v) for v in form.getlist("field")], [str(v) for v in form.getlist("value")],
                           [str(v) for v in form.getlist("unset")])


@router.post("/decisions/{decision_id}/what-if")
async def what_if(request: Request, decision_id: str) -> Response:
    from engine.service.ui.whatif import run_what_if

    stored, page = await stored_or_page(request, decision_id, "/what-if")
    if page:
        return page
    ctx = context(request)
    try:
        edits = await _edits(request)
        decided, rows = await ctx.decider.run(run_what_if, stored, edits)
    except WarrantError as exc:
        await audit(request, 422)
        return error_page(request, 422, "The change could not be decided.", exc.messages)
    await audit(request)
    words = ctx.kb.words
    names = {**views.phrases(stored.decision, words), **views.phrases(decided.decision, words)}
    return render(request, "whatif.html.j2", page="decisions", stored=stored, edits=edits, rows=rows, names=names,
                  edit_rows=[_edit_words(words, e) for e in edits],
                  words=words, roles={v: r for r, v in ctx.kb.verdicts.items()},
                  after=views.decision_view(_Shown(stored, decided), ctx.kb))


def _edit_words(words, edit) -> dict:
    import json

    try:
        phrase = words.field_phrase(edit.field)
    except Exception:  # a path the words do not know still shows as written
        phrase = edit.field
    try:    # "12 weeks", "yes": the value in the kb's words, with its unit
        value = words.value(words.field(edit.field), edit.value)
    except Exception:
        value = edit.value if isinstance(edit.value, str) else json.dumps(edit.value, ensure_ascii=False)
    return {"op": edit.op, "field": edit.field, "words": phrase, "value": value}


class _Shown:
    """A stored decision with another decision in its place (the what-if's result, not stored)."""

    def __init__(self, stored, decided) -> None:
        self.__dict__.update(stored.__dict__)
        self.decision, self.outcome = decided.decision, decided.outcome


@router.post("/decisions/{decision_id}/what-if/save")
async def save_what_if(request: Request, decision_id: str) -> Response:
    """Store the changed case as a new decision (channel `ui`) and open it."""
    import json

    from engine.service.ui.whatif import changed_document, run_what_if

    stored, page = await stored_or_page(request, decision_id, "/what-if/save")
    if page:
        return page
    if not same_origin(request):
        return error_page(request, 403, "This form must be sent from the workbench's own pages.")
    ctx = context(request)
    try:
        edits = await _edits(request)
        received = utcnow()
        decided, _rows = await ctx.decider.run(run_what_if, stored, edits)
    except WarrantError as exc:
        await audit(request, 422)
        return error_page(request, 422, "The change could not be decided.", exc.messages)
    begin(request, "create", "C", "ui")
    body = json.dumps(changed_document(stored.case, edits, ctx.kb.levels), ensure_ascii=False).encode("utf-8")
    new_id = await store_decision(request, decided, channel="ui", body=body, content_type="application/json",
                                  received=received, as_of=stored.as_of)
    return RedirectResponse(f"/ui/decisions/{new_id}", status_code=303)


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    from engine.authoring.population import Population
    from engine.present.population_view import headline, sections
    from engine.service.routes.ui_pages import choices
    from engine.service.ui.links import ListLinks

    if ui_caller(request) is None:
        return to_login(request)
    begin(request, "search", "R", "ui", "Decision?dashboard")
    ctx = context(request)
    filters = Filters.from_query(request.query_params)
    try:
        search = filters.search(ctx.kb)
    except ApiError as exc:
        return error_page(request, 422, exc.message)
    pop = Population(ctx.kb, keep=0)
    await run_in_threadpool(ctx.store.population, search, pop)
    result = pop.result(top=12)
    if len(result["over_time"]) == 1:       # one month: show its days
        from engine.service.ui.links import by_day

        result["over_time"] = by_day(await run_in_threadpool(ctx.store.received_days, search))
    await audit(request)
    return render(request, "dashboard.html.j2", page="dashboard", filters=filters, result=result,
                  headline=headline(result), sections=sections(result, ctx.kb.words, ListLinks(filters, result)),
                  choices=choices(ctx.kb, await run_in_threadpool(ctx.store.policies)))


@router.get("/compare")
async def compare(request: Request, decision: str = "", base: str = "", head: str = "") -> Response:
    if ui_caller(request) is None:
        return to_login(request)
    ctx = context(request)
    catalog = _catalog(request)
    entries = await run_in_threadpool(catalog.entries)
    wanted = [str(s) for s in request.query_params.getlist("policy")] or [e.selector for e in entries]
    side = None
    if decision:
        stored, page = await stored_or_page(request, decision, "/compare")
        if page:
            return page
        try:
            side = await ctx.decider.run(_side_by_side, catalog, wanted, stored.case)
        except WarrantError as exc:
            await audit(request, 422)
            return error_page(request, 422, "The case could not be decided under every policy.", exc.messages)
        side["stored"] = stored
        await audit(request)
    impact = await _impact(request, catalog, base, head) if base and head else None
    if isinstance(impact, Response):
        return impact
    return render(request, "compare.html.j2", page="compare", entries=entries, wanted=wanted, decision=decision,
                  side=side, impact=impact, base=base or entries[0].selector,
                  head=head or entries[-1].selector, limit=IMPACT_LIMIT, filters=Filters.from_query(request.query_params))


def _catalog(request: Request):
    from engine.service.ui.policies import Catalog

    state = request.app.state
    if getattr(state, "policy_catalog", None) is None:
        ctx = context(request)
        state.policy_catalog = Catalog(ctx.kb, ctx.config.compare_kbs)
    return state.policy_catalog


def _side_by_side(kb, catalog, selectors, case):
    from engine.service.ui.compare_view import side_by_side

    return side_by_side(catalog.decide_under(selectors, case))


async def _impact(request: Request, catalog, base: str, head: str):
    from engine.service.ui.compare_view import impact_view

    ctx = context(request)
    begin(request, "search", "R", "ui", "Decision?impact")
    filters = Filters.from_query(request.query_params)
    try:
        search = filters.search(ctx.kb, limit=IMPACT_LIMIT)
        page = await run_in_threadpool(ctx.store.search, search)
        cases = []
        for item in page["items"]:
            stored = await run_in_threadpool(ctx.store.get, item["id"])
            cases.append((stored.id, stored.case))
        result = await ctx.decider.run(lambda kb: catalog.impact(base, head, cases), time_limit=600)
    except (WarrantError, ApiError) as exc:
        await audit(request, 422)
        return error_page(request, 422, "The policies could not be compared.",
                          getattr(exc, "messages", None) or [getattr(exc, "message", str(exc))])
    await audit(request)
    return impact_view(result, len(cases), bool(page["next_cursor"]))
