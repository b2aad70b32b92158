"""The workbench's pages over stored decisions: the list (filters, pages, upload), one decision
(the determination in clinical words and its audit trail) and one line's drill-down."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine.errors import CaseError, UsageError, WarrantError
from engine.service.context import audit, begin, context, store_decision
from engine.service.errors import ApiError
from engine.service.store.records import utcnow
from engine.service.ui import views
from engine.service.ui.filters import PAGE, Filters
from engine.service.ui.pages import COOKIE, render, same_origin, static, to_login, ui_caller

router = APIRouter(prefix="/ui", tags=["workbench"], include_in_schema=False)


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/ui/decisions", status_code=303)


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    return static(name)


@router.get("/login")
async def login_form(request: Request, next: str = "/ui/decisions") -> Response:
    return render(request, "login.html.j2", page="login", next=next if next.startswith("/ui/") else "/ui/decisions",
                  error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token, target = str(form.get("token", "")), str(form.get("next", "/ui/decisions"))
    ctx = context(request)
    if ctx.tokens and (not token or ctx.tokens.caller(token) is None):
        return render(request, "login.html.j2", 401, page="login", next=target, error="That token is not valid.")
    response = RedirectResponse(target if target.startswith("/ui/") else "/ui/decisions", status_code=303)
    if ctx.tokens:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/ui",
                            secure=request.url.scheme == "https")
    return response


def error_page(request: Request, status: int, message: str, findings: list[str] | None = None) -> Response:
    return render(request, "error.html.j2", status, page="", message=message, findings=findings or [])


@router.get("/decisions")
async def decisions(request: Request) -> Response:
    if ui_caller(request) is None:
        return to_login(request)
    begin(request, "search", "R", "ui", "Decision?search")
    ctx = context(request)
    filters = Filters.from_query(request.query_params)
    try:
        search = filters.search(ctx.kb)
    except ApiError as exc:
        return error_page(request, 422, exc.message)
    page = await run_in_threadpool(ctx.store.search, search)
    total = await run_in_threadpool(ctx.store.count, search)
    codes = await run_in_threadpool(ctx.store.line_codes, [item["id"] for item in page["items"]])
    family_of = views.families(ctx.kb)
    asked = {i: views.procedures(c, ctx.kb, family_of) for i, c in codes.items()}
    await audit(request)
    return render(request, "decisions.html.j2", page="decisions", filters=filters, items=page["items"], total=total,
                  asked=asked,
                  next_query=filters.query(cursor=page["next_cursor"]) if page["next_cursor"] else None,
                  choices=choices(ctx.kb, await run_in_threadpool(ctx.store.policies)), page_size=PAGE, uploaded=request.query_params.get("uploaded"))


def choices(kb, policies: list[str] = ()) -> dict[str, list[tuple[str, str]]]:
    """What the filter menus offer, in words: policies stored under, codes with their labels,
    verdicts, bases, families, outcomes."""
    words = kb.words
    family_of = views.families(kb)
    fams = sorted(set(family_of.values()))
    from engine.present.population_view import OUTCOME_WORDS

    return {"policy": [(p, p.replace("@", " ", 1)) for p in policies],
            "code": [(c, f"{c} {kb.code_labels.get(c, '')}".strip()) for c in sorted(family_of)],
            "verdict": [(v, words.verdict(v)) for v in kb.verdicts.values()],
            "basis": [(b, words.basis(b)) for b in sorted(kb.words.data.get("bases", {}))],
            "family": [(f, words.family(f)) for f in fams],
            "outcome": list(OUTCOME_WORDS.items())}


@router.post("/decisions")
async def upload(request: Request) -> Response:
    """Decide uploaded case files, JSON Lines of cases, or FHIR bundles, and store each decision."""
    if ui_caller(request) is None:
        return to_login(request)
    if not same_origin(request):
        return error_page(request, 403, "This form must be sent from the workbench's own pages.")
    form = await request.form()
    stored, problems = [], []
    for upload in form.getlist("files"):
        if not hasattr(upload, "read"):
            continue
        data = await upload.read()
        for name, text in _documents(upload.filename or "upload", data):
            begin(request, "create", "C", "ui")
            try:
                received = utcnow()
                decided = await context(request).decider.run(_decide, text, name)
                stored.append(await store_decision(request, decided, channel="ui", body=text.encode("utf-8", "surrogateescape"),
                                                   content_type=_media(name), received=received))
            except WarrantError as exc:
                await audit(request, 422)
                problems += [f"{name}: {m}" for m in exc.messages[:5]]
    if problems or not stored:
        return error_page(request, 422, f"{len(stored)} decided and stored; these could not be decided:",
                          problems or ["no file was chosen"])
    if len(stored) == 1:
        return RedirectResponse(f"/ui/decisions/{stored[0]}", status_code=303)
    return RedirectResponse(f"/ui/decisions?uploaded={len(stored)}", status_code=303)


def _decide(kb, text: str, name: str):
    from engine.service.deciding import decide_text

    return decide_text(kb, text, name)


def _documents(filename: str, data: bytes):
    text = data.decode("utf-8", errors="surrogateescape")
    if filename.lower().endswith((".jsonl", ".ndjson")):
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield f"{filename}:{number}.json", line
    else:
        yield filename if filename.lower().endswith((".yaml", ".yml", ".json")) else filename + ".yaml", text


def _media(name: str) -> str:
    return "application/json" if name.lower().endswith(".json") else "application/yaml"


async def stored_or_page(request: Request, decision_id: str, what: str):
    """The stored decision, or the page to answer with instead (sign in, not found, other kb)."""
    if ui_caller(request) is None:
        return None, to_login(request)
    begin(request, "read", "R", "ui", f"Decision/{decision_id}{what}")
    ctx = context(request)
    stored = await run_in_threadpool(ctx.store.get, decision_id)
    if stored is None:
        await audit(request, 404)
        return None, error_page(request, 404, f"There is no stored decision {decision_id}.")
    return stored, None


@router.get("/decisions/{decision_id}")
async def decision(request: Request, decision_id: str) -> Response:
    stored, page = await stored_or_page(request, decision_id, "")
    if page:
        return page
    ctx = context(request)
    view = views.decision_view(stored, ctx.kb)
    await audit(request)
    return render(request, "decision.html.j2", page="decisions", d=view, same_kb=ctx.knows(stored.policy["digest"]))


@router.get("/decisions/{decision_id}/line")
async def line(request: Request, decision_id: str, id: str) -> Response:
    stored, page = await stored_or_page(request, decision_id, f"/line/{id}")
    if page:
        return page
    ctx = context(request)
    if not ctx.knows(stored.policy["digest"]):
        await audit(request, 409)
        return error_page(request, 409, "This decision was made with another version of the policy; "
                          "`warrant replay` shows what the current one would decide.")
    try:
        detail = await ctx.decider.run(views.line_detail, stored, id)
    except (UsageError, CaseError) as exc:
        await audit(request, 404)
        return error_page(request, 404, exc.messages[0] if exc.messages else str(exc))
    await audit(request)
    return render(request, "line.html.j2", page="decisions", d=views.decision_view(stored, ctx.kb), x=detail)
