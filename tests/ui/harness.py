"""A workbench to drive: `warrant serve` on loopback with a temporary SQLite store, and Debian's
chromium under Playwright (no browser download: Playwright is given the chromium on PATH)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`warrant serve` in a subprocess; stops with the context."""

    def __init__(self, folder: Path, extra: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = f"sqlite:///{folder / 'workbench.db'}"
        env = {**os.environ, "WARRANT_DATA_DIR": str(folder), "WARRANT_CACHE_DIR": str(folder / "cache")}
        self.log = open(folder / "serve.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "serve", "--port",
                                         str(self.port), "--db", self.db, *(extra or [])],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("warrant serve stopped: " + (folder / "serve.log").read_text()[-2000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("warrant serve did not answer within 60 s")

    def post_case(self, text: str, kind: str = "yaml") -> str:
        answer = httpx.post(self.url + "/api/v1/decisions", content=text.encode(),
                            headers={"Content-Type": f"application/{kind}"}, timeout=60)
        answer.raise_for_status()
        return answer.json()["id"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@contextlib.contextmanager
def serving(extra: list[str] | None = None) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="warrant-ui-") as folder:
        server = Server(Path(folder), extra)
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def browser_page(width: int = 1280, height: int = 900):
    """A fresh chromium profile and one page."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="warrant-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=chromium(), headless=True,
                                                       args=CHROMIUM_ARGS, viewport={"width": width, "height": height})
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def strict_kb(folder: Path, old: str, new: str) -> Path:
    """A copy of the bundled kb with one text replaced in constants.dl (a policy change)."""
    target = folder / "kb-changed"
    shutil.copytree(ROOT / "kb", target, ignore=shutil.ignore_patterns("corpus", "tests", "__pycache__"))
    constants = target / "constants.dl"
    text = constants.read_text(encoding="utf-8")
    assert old in text, old
    constants.write_text(text.replace(old, new), encoding="utf-8")
    return target
