"""`warrant serve`: the decision service (optional extra `serve`: FastAPI, uvicorn, SQLAlchemy,
Alembic, psycopg). Nothing here is imported by `warrant decide`.

- `app.create_app(config)`: the ASGI app, one router per channel (`routes/`).
- `store.Store`: append-only decision records, lines and audit events (SQLite or PostgreSQL).
- `decider.Decider`: the worker's one decision thread and the per-request time limit.
- `pas`, `crd`, `dtr`, `orders`: the Da Vinci channels; `explaining`: why, why-not, graphs, reports.
- `replay`: re-decide stored requests and report what a knowledge-base change would change.
"""
