"""`warrant serve` (the decision service) and `warrant replay` (re-decide stored requests)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from engine.cmd.common import handles_errors, kb_option, load_kb
from engine.errors import UsageError
from engine.guard.limits import LIMITS

SERVE_HINT = "pip install 'warrant[serve]'"


def _require_serve() -> None:
    try:
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the decision service needs the optional `serve` extra ({exc.name} is missing): "
                         f"{SERVE_HINT}") from None


def _db_option(func):
    return click.option("--db", "db_url", default=None, envvar="WARRANT_DB",
                        help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB "
                             "(default: SQLite in the user's data directory).")(func)


@click.command(epilog="""\b
Examples:
  warrant serve                                   # http://127.0.0.1:8080, SQLite, no tokens
  warrant serve --workers 2 --db postgresql://warrant@db/warrant --host 0.0.0.0 --token-file tokens.txt
  curl -s -X POST --data-binary @case.yaml -H 'Content-Type: application/yaml' \\
       http://127.0.0.1:8080/api/v1/decisions

\b
Without --token-file the service accepts no tokens and listens on loopback only.
See docs/service.md for the worker model, PostgreSQL and security.""")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@_db_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (one decision thread each); as many as cores.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Bearer tokens, one `name:token` per line; required to listen beyond loopback.")
@click.option("--max-body", default=LIMITS.case_bytes, show_default=True, type=click.IntRange(1, LIMITS.case_bytes),
              help="Largest request body in bytes (larger: 413); at most the case-file limit, 5 MiB.")
@click.option("--time-limit", default=10.0, show_default=True, type=click.FloatRange(0.001),
              help="Seconds a decision may take (longer: 503, nothing stored).")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="Allow browser calls from this origin (CORS is off by default).")
@kb_option
@handles_errors
def serve(host: str, port: int, db_url: str | None, workers: int, token_file: Path | None, max_body: int,
          time_limit: float, cors_origins: tuple[str, ...], kb_dir: Path | None) -> None:
    """Run the decision service: JSON API, PAS, CRD and DTR, stored decisions and metrics."""
    _require_serve()
    import logging

    import uvicorn

    from engine.service.config import ENV, ServiceConfig, Tokens, is_loopback
    from engine.service.store import Store, default_url

    if token_file is None and not is_loopback(host):
        raise UsageError(f"--host {host} is not a loopback address: give --token-file so that callers must "
                         "authenticate (without tokens the service listens on loopback only)")
    if token_file is not None:
        Tokens.read(token_file)  # fail now, before any worker starts
    kb = load_kb(kb_dir)
    url = db_url or default_url()
    store = Store(url, migrate=True)  # migrate once, here, not in every worker
    store.close()
    config = ServiceConfig(db_url=url, kb_dir=str(kb.root) if kb_dir else None,
                           token_file=str(token_file.resolve()) if token_file else None, max_body=max_body,
                           time_limit=time_limit, cors_origins=list(cors_origins), migrate=False)
    os.environ[ENV] = config.to_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("warrant.fhir").setLevel(logging.ERROR)  # import warnings name clinical resources
    where = "postgresql" if store.dialect == "postgresql" else url
    click.echo(f"warrant serve: knowledge base {kb.version} ({kb.digest[:19]}), store {where}, "
               f"{workers} worker{'s' if workers != 1 else ''}", err=True)
    if token_file is None:
        click.echo("warrant serve: no --token-file, so no authentication: listening on loopback only", err=True)
    uvicorn.run("engine.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="info", timeout_graceful_shutdown=10)


@click.command(epilog="""\b
Examples:
  warrant replay --all                         # every stored decision, against the bundled kb
  warrant replay 3f2a9c0d... --kb changed-kb/  # what a kb change does to one decision
  warrant replay --all --format json --db postgresql://warrant@db/warrant""")
@click.argument("ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Replay every stored decision.")
@_db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format (json: one object per decision, JSON Lines).")
@click.option("--changed-only", is_flag=True, help="List only the decisions that would change.")
@kb_option
@handles_errors
def replay(ids: tuple[str, ...], every: bool, db_url: str | None, fmt: str, changed_only: bool,
           kb_dir: Path | None) -> None:
    """Decide stored requests again and report every line whose verdict or basis would change."""
    _require_serve()
    from engine.service.replay import replay as run
    from engine.service.store import Store, default_url

    if bool(ids) == every:
        raise UsageError("name decision IDs or give --all (not both)")
    kb = load_kb(kb_dir)
    store = Store(db_url or default_url(), migrate=False)
    total = changed = 0
    for result in run(kb, store, None if every else list(ids)):
        total += 1
        changed += result.changed
        if changed_only and not result.changed:
            continue
        if fmt == "json":
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            click.echo(_replay_text(result, kb))
    click.echo(f"{total} replayed, {changed} would change (knowledge base {kb.version}, {kb.digest[:19]})",
               err=True)


def _replay_text(result, kb) -> str:
    head = f"{result.id}  {result.case_id}"
    if result.recorded.get("digest") and result.recorded["digest"] != kb.digest:
        head += f"  (decided with {result.recorded.get('version')} {result.recorded['digest'][:19]})"
    if result.error:
        return f"{head}\n  cannot replay: {result.error}"
    if not result.changes:
        return f"{head}\n  unchanged"
    rows = []
    for change in result.changes:
        before = change["before"] or {"verdict": "-", "basis": "-"}
        after = change["after"] or {"verdict": "-", "basis": "-"}
        rows.append(f"  {change['line']:<18} {before['verdict']} ({before['basis']}) -> "
                    f"{after['verdict']} ({after['basis']})")
    return "\n".join([head, *rows])


COMMANDS = [serve, replay]
