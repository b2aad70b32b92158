"""Rendering workbench pages: the template environment (the workbench's templates in front of
the shared report templates, so pages include the same chart partial as the static report),
the static files, and sign-in with a token for browsers."""
from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from engine.service.context import context

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = {"workbench.css": (Path(__file__).parents[2] / "present" / "templates" / "workbench.css", "text/css"),
          "workbench.js": (HERE / "static" / "workbench.js", "text/javascript")}
COOKIE = "warrant_token"
NAV = [("decisions", "/ui/decisions", "Decisions"), ("dashboard", "/ui/dashboard", "Dashboard"),
       ("compare", "/ui/compare", "Compare")]
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Cache-Control": "no-store"}


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    from engine.present.templates import environment

    from engine.present.population_view import OUTCOME_WORDS

    env = environment(str(TEMPLATES))
    ctx = context(request)
    values.setdefault("filter_words", _filter_words(values.get("filters"), ctx.kb.words))
    html = env.get_template(template).render(nav=NAV, kb={"name": ctx.policy["id"], "version": ctx.kb.version,
                                                          "digest": ctx.kb.digest},
                                             outcome_words=OUTCOME_WORDS, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _filter_words(filters, words) -> dict[str, str]:
    """The criterion, state and field a filter names, in words (for the sentence above a list)."""
    if filters is None:
        return {}
    return {"criterion": words.criterion(filters.criterion) if filters.criterion else "",
            "state": words.state(filters.state) if filters.state else "",
            "missing": words.field_phrase(filters.missing) if filters.missing else ""}


def static(name: str) -> Response:
    if name not in STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    path, media = STATIC[name]
    return Response(path.read_bytes(), media_type=media + "; charset=utf-8",
                    headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})


def ui_caller(request: Request) -> str | None:
    """The caller's name: `anonymous` without tokens; else from a bearer token or the sign-in
    cookie; None when neither is valid (the page then sends the browser to sign in)."""
    ctx = context(request)
    if not ctx.tokens:
        request.state.caller = "anonymous"
        return "anonymous"
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
    name = ctx.tokens.caller(token) if token else None
    if name is not None:
        request.state.caller = name
    return name


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse("/ui/login?next=" + _quote(request.url.path), status_code=303)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path if path.startswith("/ui/") else "/ui/decisions", safe="/")


def same_origin(request: Request) -> bool:
    """A form POST must come from this site's own pages (the sign-in cookie is SameSite=Strict
    too; this also covers browsers without it)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return hmac.compare_digest(origin.split("://", 1)[-1], host)
