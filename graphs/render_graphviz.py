"""SVG and PNG through Graphviz: the pygraphviz wheel when importable, else `dot` on PATH.

Neither present raises `RendererMissing` (exit code 6) naming both ways to get one.
"""
from __future__ import annotations

import shutil
import subprocess

from engine.errors import RendererMissing, WarrantError

GRAPHVIZ_FORMATS = ("svg", "png")

MISSING_MESSAGE = ("the {fmt} format needs Graphviz, and neither the pygraphviz module nor a `dot` program "
                   "on PATH was found: install the extra with `pip install 'warrant[graphviz]'` or install "
                   "Graphviz (e.g. `apt-get install graphviz`, `brew install graphviz`); the dot, html, "
                   "mermaid and json formats need neither")


def _pygraphviz():
    try:
        import pygraphviz  # type: ignore[import-not-found]
    except ImportError:
        return None
    return pygraphviz


def backend() -> str | None:
    """'pygraphviz', the path of `dot`, or None when Graphviz cannot be had."""
    if _pygraphviz() is not None:
        return "pygraphviz"
    return shutil.which("dot")


def available() -> bool:
    return backend() is not None


def render(dot_text: str, fmt: str) -> bytes:
    """Lay out and draw DOT text as `svg` or `png` bytes."""
    if fmt not in GRAPHVIZ_FORMATS:
        raise ValueError(f"Graphviz renders {', '.join(GRAPHVIZ_FORMATS)}, not {fmt}")
    pgv = _pygraphviz()
    if pgv is not None:
        graph = pgv.AGraph(string=dot_text)
        return graph.draw(format=fmt, prog="dot")
    dot = shutil.which("dot")
    if dot is None:
        raise RendererMissing(MISSING_MESSAGE.format(fmt=fmt.upper()))
    done = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WarrantError(f"Graphviz `dot` failed (exit {done.returncode}): "
                           f"{detail[-1] if detail else 'no message'}", code="renderer_failed")
    return done.stdout


def require(fmt: str) -> None:
    """Raise `RendererMissing` now, before any work, when `fmt` needs Graphviz and none is there."""
    if fmt in GRAPHVIZ_FORMATS and not available():
        raise RendererMissing(MISSING_MESSAGE.format(fmt=fmt.upper()))
