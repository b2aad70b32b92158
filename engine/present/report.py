"""Written determinations (`warrant report`): the letter of engine/present/letter.py, rendered.

The content comes from the determinations (themselves built from proofs); the words and layout
come from the kb (`report.yaml`, `templates/report.*.j2`), rendered with Jinja2 in a budgeted
sandbox. Markdown and HTML are rendered here; PDF is the HTML printed by a renderer
(engine/present/pdf.py).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from engine.errors import Finding, Location, RuleError
from engine.knowledge.base import KnowledgeBase
from engine.present.reportwords import report_words

FORMATS = ("markdown", "html", "pdf")
TEMPLATES = {"markdown": "report.md.j2", "html": "report.html.j2"}
AUDIT_MARK = "<!-- audit -->"
"""Where the letter's body ends and its audit appendix begins, in both Markdown and HTML
(the length of a letter is measured on its body)."""


def render_report(session, fmt: str = "markdown", options: Any = None) -> str | bytes:
    """The letter for one case in `fmt` (markdown, html: text; pdf: bytes)."""
    from engine.present.letter import letter_context

    context = letter_context(session, options)
    if fmt == "pdf":
        from engine.present.pdf import html_to_pdf

        html = render_context(session.kb, context, "html")
        return html_to_pdf(html, context["header"]["decided_on"])
    return render_context(session.kb, context, fmt)


_ENVIRONMENTS = threading.local()
"""Each thread's sandboxes, by kb root, digest and format: a template is compiled once."""


def _environment(kb: KnowledgeBase, fmt: str) -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined

    from engine.guard.text import markdown_code, terminal
    from engine.present.sandbox import BoundedEnvironment

    cache = _ENVIRONMENTS.__dict__.setdefault("envs", {})
    key = (str(kb.root), kb.digest, fmt)
    env = cache.get(key)
    if env is None:
        templates = Path(kb.root) / "templates"
        env = BoundedEnvironment(loader=FileSystemLoader(str(templates)), autoescape=(fmt == "html"),
                                 undefined=StrictUndefined, keep_trailing_newline=True,
                                 trim_blocks=False, lstrip_blocks=False)
        env.add_filter("sentence", lambda text: text[:1].upper() + text[1:] if text else text)
        env.add_filter("code", markdown_code if fmt == "markdown" else terminal)
        env.add_filter("nobreak", (lambda text: text) if fmt == "markdown" else _nobreak(kb))
        cache[key] = env
    return env


def render_context(kb: KnowledgeBase, context: dict[str, Any], fmt: str) -> str:
    from jinja2.exceptions import TemplateError

    from engine.guard.text import markdown, terminal

    name = TEMPLATES[fmt]
    templates = Path(kb.root) / "templates"
    letter = _escaped(context, markdown if fmt == "markdown" else terminal)
    try:
        env = _environment(kb, fmt)
        template = env.get_template(name)
        text = env.render(template, letter=letter, words=_escaped(report_words(kb), terminal))
    except (TemplateError, OSError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None) or 0
        raise RuleError([Finding("template", f"report template error: {exc}",
                                 Location(str(templates / name), line))]) from None
    return text.rstrip("\n") + "\n"


def _escaped(value: Any, escape: Callable[[Any], str], key: str = "") -> Any:
    """Every text of the letter escaped for its output, except the audit appendix and the case
    id, which the templates show as code (the `code` filter)."""
    if isinstance(value, dict):
        return {k: v if k in ("audit", "case_id") else _escaped(v, escape, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v, escape, key) for v in value]
    if isinstance(value, str):
        return escape(value)
    return value


def _nobreak(kb: KnowledgeBase) -> Callable[[Any], Any]:
    """An HTML filter that keeps each spinal level of the kb's vocabulary on one line (a level
    such as L2-3 must not wrap at its hyphen), the rest escaped as usual."""
    import re

    from markupsafe import Markup, escape

    levels = kb.levels
    names = sorted({levels.segment_name(i) for i in range(len(levels.vertebrae) - 1)}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])") if names else None

    def keep(text: Any) -> Any:
        safe = str(escape(text))
        return Markup(pattern.sub(r'<span class="nw">\1</span>', safe) if pattern else safe)
    return keep


def body_of(text: str) -> str:
    """The letter before its audit appendix."""
    return text.split(AUDIT_MARK, 1)[0]
