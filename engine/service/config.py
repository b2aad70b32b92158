"""How a service is configured, and the bearer tokens it accepts.

The configuration travels to uvicorn's worker processes as JSON in an environment variable
(`WARRANT_SERVICE_CONFIG`); the token file is read by each worker itself, so no token is ever
put into the environment.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.guard.limits import LIMITS
from engine.errors import UsageError

ENV = "WARRANT_SERVICE_CONFIG"
MIB = 1024 * 1024
MIN_TOKEN = 16


@dataclass
class ServiceConfig:
    db_url: str | None = None          # default: SQLite in the user's data directory
    kb_dir: str | None = None
    token_file: str | None = None      # `name:token` per line; without it, loopback only
    max_body: int = LIMITS.case_bytes  # the shared limit of a case or bundle (5 MiB)
    time_limit: float = 10.0           # seconds a decision may take before 503
    cors_origins: list[str] = field(default_factory=list)
    migrate: bool = True               # the `serve` command migrates once before the workers start
    base_url: str = "http://warrant.example/fhir"   # canonical base of the FHIR resources written

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> "ServiceConfig":
        raw = os.environ.get(ENV)
        return cls(**json.loads(raw)) if raw else cls()


class Tokens:
    """Bearer tokens by name, compared in constant time."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self._pairs = [(name, token.encode()) for name, token in pairs.items()]

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def caller(self, token: str) -> str | None:
        given = token.encode()
        found = None
        for name, secret in self._pairs:  # no early exit: every token is compared
            if hmac.compare_digest(given, secret):
                found = name
        return found

    @classmethod
    def read(cls, path: str | Path) -> "Tokens":
        """Read `name:token` lines (blank lines and `#` comments allowed); a bad line is a usage
        error naming file and line, and never echoes a token."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the token file ({exc.strerror or exc})") from None
        pairs: dict[str, str] = {}
        seen: set[str] = set()
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            name, token = name.strip(), token.strip()
            where = f"{path}:{number}"
            if not sep or not name or not token:
                raise UsageError(f"{where}: expected `name:token`")
            if len(token) < MIN_TOKEN:
                raise UsageError(f"{where}: the token of {name!r} is shorter than {MIN_TOKEN} characters")
            if name in pairs or token in seen:
                raise UsageError(f"{where}: {name!r} repeats a name or a token of an earlier line")
            pairs[name] = token
            seen.add(token)
        if not pairs:
            raise UsageError(f"{path}: the token file names no token")
        return cls(pairs)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
