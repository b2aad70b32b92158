"""One router per channel; `engine.service.app.create_app` includes them in this order."""
from __future__ import annotations

from engine.service.routes import crd, decisions, dtr, explain, health, metrics, pas

ROUTERS = [health.router, decisions.router, explain.router, metrics.router, pas.router, crd.router,
           dtr.router]
