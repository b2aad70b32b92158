"""Request-body limit and a privacy-safe access log, as plain ASGI middleware (cheap per request).

Bodies over the limit get 413 before any of them reaches a route: a declared Content-Length
over the limit is refused without reading, a chunked body is read up to the limit and no
further. The access log records method, route path (never the query string, which can name
codes or lines), status, duration and caller, and no body.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from engine.service.errors import dumps

log = logging.getLogger("warrant.service")


class BodyLimit:
    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_body
            except ValueError:
                too_big = False
            if too_big:
                return await self._refuse(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await self._refuse(send)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        body = dumps({"error": {"code": "payload_too_large",
                                "message": f"the request body exceeds {self.max_body} bytes"}})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """The access log, and the last line of defence: an exception no handler took is logged by
    its type alone (its message could quote a request) and answered with 500 `internal`, so
    that no traceback reaches the server log or the caller."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [0]

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - answered, and logged without its message
            log.error("unexpected failure on %s %s: %s", scope["method"], scope["path"], type(exc).__name__)
            if not status[0]:
                status[0] = 500
                body = dumps({"error": {"code": "internal", "message": "unexpected failure; see the server log"}})
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        finally:
            state = scope.get("state") or {}
            log.info("%s %s %d %.1fms %s", scope["method"], scope["path"], status[0],
                     (time.perf_counter() - start) * 1000, state.get("caller", "-"))
