"""PDF letters: the letter's HTML (with its print stylesheet) printed by a renderer.

Two renderers, tried in order: WeasyPrint (the optional extra `pdf`: `pip install 'warrant[pdf]'`,
imported only here and only when asked) and headless Chromium when it is on PATH. Neither is
required; without both, `RendererMissing` (exit 6) says how to get one.

The same letter gives the same bytes: renderers stamp the clock into the PDF's creation and
modification dates (and some into its file identifier), so those are rewritten from the
decision's date (`--decided`; 2000-01-01 when the letter states none) with their lengths kept,
so that the cross-reference offsets stay valid.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import RendererMissing

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")
INSTALL_HINT = ("PDF letters need a renderer: install the extra (pip install 'warrant[pdf]', WeasyPrint) "
                "or put Chromium on PATH (apt-get install chromium); --format html prints from a browser too")
NO_DATE = "2000-01-01"
TIMEOUT = 120
_DATE = re.compile(rb"/(CreationDate|ModDate)\s*\((D:[^)]*)\)")
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")


def find_renderer() -> str:
    """`weasyprint` or the path of a Chromium executable; RendererMissing when neither is here."""
    if os.environ.get("WARRANT_PDF_RENDERER", "") != "chromium" and _weasyprint_available():
        return "weasyprint"
    if os.environ.get("WARRANT_PDF_RENDERER", "") == "weasyprint":
        raise RendererMissing(INSTALL_HINT)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RendererMissing(INSTALL_HINT)


def _weasyprint_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("weasyprint") is not None


def html_to_pdf(html: str, decided: str | None) -> bytes:
    """The PDF of a self-contained HTML page, with its dates taken from `decided` (YYYY-MM-DD)."""
    renderer = find_renderer()
    pdf = _weasyprint(html) if renderer == "weasyprint" else _chromium(renderer, html)
    return normalise(pdf, decided or NO_DATE)


def _weasyprint(html: str) -> bytes:
    import weasyprint  # the optional extra `pdf`

    return weasyprint.HTML(string=html, base_url=None).write_pdf()


def _chromium(executable: str, html: str) -> bytes:
    """Print with headless Chromium from a private temporary folder; no network, no profile kept."""
    from engine.errors import UsageError

    with tempfile.TemporaryDirectory(prefix="warrant-pdf-") as tmp:
        page = Path(tmp) / "letter.html"
        out = Path(tmp) / "letter.pdf"
        page.write_text(html, encoding="utf-8")
        command = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions",
                   "--no-first-run", "--no-pdf-header-footer", "--disable-background-networking",
                   f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False,
                                  env={**os.environ, "HOME": tmp})
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"Chromium could not print the letter: {type(exc).__name__}") from None
        if not out.is_file() or out.stat().st_size == 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise UsageError(f"Chromium could not print the letter: {detail[0][:200]}")
        return out.read_bytes()


def normalise(pdf: bytes, date: str) -> bytes:
    """Dates and file identifier made a function of the letter, each replaced by a string of
    the same length (so byte offsets in the cross-reference table stay right)."""
    stamp = "D:" + date.replace("-", "") + "000000"
    forms = [stamp + "+00'00'", stamp + "Z", stamp, stamp[:10]]

    def one_date(match: re.Match) -> bytes:
        old = match.group(2)
        new = next((f for f in forms if len(f) == len(old)), None)
        if new is None:
            new = (stamp + "+00'00'")[:len(old)] if len(old) < len(forms[0]) else forms[0] + " " * (len(old) - len(forms[0]))
        return match.group(0).replace(old, new.encode("ascii"))

    pdf = _DATE.sub(one_date, pdf)
    digest = hashlib.sha256(_ID.sub(b"", pdf)).hexdigest().upper().encode("ascii")

    def one_id(match: re.Match) -> bytes:
        out = match.group(0)
        for part in (match.group(1), match.group(2)):
            out = out.replace(part, (digest * 2)[:len(part)])
        return out

    return _ID.sub(one_id, pdf)
