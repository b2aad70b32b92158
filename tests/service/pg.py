"""A throwaway PostgreSQL server for tests and benchmarks: `initdb` and `pg_ctl` in a temporary
directory, listening on 127.0.0.1 and a private socket directory, trust authentication.

The binaries come from PATH or Debian's /usr/lib/postgresql/*/bin. PostgreSQL refuses to run
as root, so under root the server runs as the `postgres` user (runuser). `available()` says
whether any of this can work here; callers skip when it cannot.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return ["__none__"]
    return [runuser, "-u", "postgres", "--"] if runuser else ["__none__"]


def available() -> str | None:
    """None when a server can be started here, else why not."""
    if not (pg_bin("initdb") and pg_bin("pg_ctl")):
        return "PostgreSQL's initdb/pg_ctl are not installed"
    if _run_as() == ["__none__"]:
        return "running as root without a postgres user to run PostgreSQL as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'warrant[serve]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="warrant-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.prefix = _run_as()
        if self.prefix:
            os.chmod(self.dir, 0o777)
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # run from the server's own directory: the postgres user may not enter the checkout
        return subprocess.run([*self.prefix, *args], check=check, capture_output=True, text=True, timeout=120,
                              cwd=self.dir)

    def init(self) -> "PgServer":
        self._run(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "warrant", "--no-sync",
                  "-E", "UTF8", "--locale=C")
        return self.start()

    def start(self) -> "PgServer":
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=on -c full_page_writes=off -c max_connections=100")
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w",
                  "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://warrant@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(check, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False
