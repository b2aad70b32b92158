"""`warrant summarize`: what a population of decisions comes to.

Inputs are batch output (JSON Lines of decisions and error records, read one line at a time, so
any size works), case files and folders of them (decided here), or JSON Lines of cases. The
figures come from `engine.authoring.population`; this module reads the inputs and writes the
figures as text, Markdown and JSON (the HTML report is `engine.present.summary_html`).
"""
from __future__ import annotations

import json
import os
import sys
from typing import IO, Any, Iterator, Sequence

from engine.authoring.population import Population, general_field  # noqa: F401  (general_field: its old home)
from engine.cases.paths import CASE_SUFFIXES, STREAM_SUFFIXES, walk
from engine.errors import WarrantError

_MAX_LINE = 64 * 1024 * 1024


def summarize(kb, paths: Sequence[str], top: int = 15, keep: int = 50,
              stdin: IO[bytes] | None = None) -> dict[str, Any]:
    """The figures of every decision and case in `paths` (`-` reads JSON Lines from stdin)."""
    pop = Population(kb, keep)
    for item in _items(kb, paths, stdin):
        if "stages" in item:
            pop.add(item)
        else:
            pop.add_error(item)
    return with_compat_keys(pop.result(top), kb)


def with_compat_keys(result: dict[str, Any], kb) -> dict[str, Any]:
    """The keys `summarize --format json` had before rates (cases, codes, unmet_criteria,
    missing_fields), kept beside the new ones for scripts that read them."""
    verdicts = result["verdicts"]
    result["cases"] = result["decisions"]
    result["codes"] = [{"code": row["key"], "label": row["label"], "total": row["total"],
                        "counts": {verdicts[r]: n for r, n in row["counts"].items()},
                        "rates": {verdicts[r]: x for r, x in row["rates"].items()}} for row in result["by_code"]]
    result["unmet_criteria"] = [{"criterion": c["key"], "lines": c["lines"], "rate": c["rate"]} for c in result["unmet"]]
    result["missing_fields"] = [{"field": m["key"], "lines": m["lines"], "rate": m["rate"]} for m in result["missing"]]
    return result


def _items(kb, paths: Sequence[str], stdin: IO[bytes] | None) -> Iterator[dict[str, Any]]:
    for path in paths:
        if path == "-":
            yield from _stream(kb, "<stdin>", stdin or sys.stdin.buffer)
        elif os.path.isdir(path):
            for found in walk(path, CASE_SUFFIXES + STREAM_SUFFIXES):
                yield from _one(kb, found)
        else:
            yield from _one(kb, path)


def _one(kb, path: str) -> Iterator[dict[str, Any]]:
    if path.lower().endswith(STREAM_SUFFIXES):
        try:
            with open(path, "rb") as handle:
                yield from _stream(kb, path, handle)
        except OSError as exc:
            yield _error(path, "unreadable", f"{path}: cannot read ({exc.strerror or exc})")
        return
    yield _decided(kb, path, None)


def _stream(kb, source: str, handle: IO[bytes]) -> Iterator[dict[str, Any]]:
    """Each line of a JSON Lines stream: a decision or error record as it is, a case decided."""
    for number, raw in enumerate(iter(lambda: handle.readline(_MAX_LINE + 1), b""), 1):
        where = f"{source}:{number}"
        if len(raw) > _MAX_LINE:
            yield _error(where, "invalid_case", f"{where}: the line is longer than {_MAX_LINE} bytes")
            handle.readline()
            continue
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            yield _error(where, "invalid_case", f"{where}: not JSON ({exc})")
            continue
        if not isinstance(data, dict):
            yield _error(where, "invalid_case", f"{where}: a line must be a JSON object")
        elif "stages" in data:
            yield data
        elif "error" in data:       # an error record the batch run wrote: data, not a failure here
            yield {**data, "recorded": True}
        else:
            yield _decided(kb, where, raw.decode("utf-8", errors="surrogateescape"))


def _decided(kb, name: str, text: str | None) -> dict[str, Any]:
    from engine.decide.decision import decide
    from engine.inputs import open_session

    try:
        return decide(open_session(kb, name, text=text) if text is not None else open_session(kb, name))
    except WarrantError as exc:
        return {"source": name, "error": {"code": exc.code, "messages": exc.messages}}


def _error(source: str, code: str, message: str) -> dict[str, Any]:
    return {"source": source, "error": {"code": code, "messages": [message]}}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def summary_text(result: dict[str, Any]) -> str:
    from engine.guard.text import terminal

    verdicts = result["verdict_words"]
    out = [f"{result['decisions']} decisions, {result['lines']} lines, {result['admissions']} admissions"
           + (f" ({len(result['errors'])} inputs could not be decided)" if result["errors"] else ""),
           "outcomes: " + ", ".join(f"{o} {n} ({_pct(n / result['decisions']) if result['decisions'] else '0%'})"
                                    for o, n in result["outcomes"].items()), "",
           "verdicts per code (share of the code's lines):"]
    width = max([len(c["label"]) for c in result["by_code"]] + [5])
    names = [verdicts[r] for r in result["roles"]]
    columns = [max(len(v), 6) for v in names]
    out.append(f"  {'code'.ljust(9)} {'label'.ljust(width)}  "
               + "  ".join(v.rjust(w) for v, w in zip(names, columns)) + f"  {'lines':>6}")
    for row in result["by_code"]:
        cells = "  ".join(f"{row['counts'][r]} {_pct(row['rates'][r]):>4}".rjust(w)
                          for r, w in zip(result["roles"], columns))
        out.append(f"  {row['key'].ljust(9)} {row['label'].ljust(width)}  {cells}  {row['total']:>6}")
    if len(result.get("by_policy") or []) > 1:  # a population decided under several policies
        out += ["", "verdicts per policy version (share of its lines):"]
        for row in result["by_policy"]:
            cells = "  ".join(f"{row['counts'][r]} {_pct(row['rates'][r]):>4}".rjust(w)
                              for r, w in zip(result["roles"], columns))
            out.append(f"  {row['key'].ljust(9 + width + 1)}  {cells}  {row['total']:>6}")
    blocked = result["blocked_lines"]
    out += ["", f"{blocked} lines not approved on their own account; {result['addon_lines']} add-on lines "
            "held to the fusion they depend on are counted apart."]
    for key, title in (("unmet", "criteria the record contradicts"), ("undocumented", "criteria left undocumented"),
                       ("missing", "documentation most often missing")):
        out += ["", f"{title} (lines, share of the lines not approved):"]
        out += [f"  {item['lines']:6d} {_pct(item['rate']):>5}  {item['label']}" for item in result[key]] or ["  (none)"]
    for error in result["errors"]:
        out += ["", f"could not decide {terminal(str(error.get('source', '?')))}:"]
        out += [f"  {terminal(str(m))}" for m in error.get("error", {}).get("messages", [])]
    return "\n".join(out) + "\n"


def summary_markdown(result: dict[str, Any]) -> str:
    from engine.guard.text import markdown as md

    verdicts = result["verdict_words"]
    names = [verdicts[r] for r in result["roles"]]
    out = ["# Summary of decisions", "",
           f"{result['decisions']} decisions, {result['lines']} lines, {result['admissions']} admissions; "
           + ", ".join(f"{o} {n}" for o, n in result["outcomes"].items()) + ".", "",
           "## Verdicts per code", "", "| code | label | " + " | ".join(names) + " | lines |",
           "|---|---|" + "---:|" * (len(names) + 1)]
    for row in result["by_code"]:
        cells = " | ".join(f"{row['counts'][r]} ({_pct(row['rates'][r])})" for r in result["roles"])
        out.append(f"| {row['key']} | {row['label']} | {cells} | {row['total']} |")
    if len(result.get("by_policy") or []) > 1:
        out += ["", "## Verdicts per policy version", "", "| policy | " + " | ".join(names) + " | lines |",
                "|---|" + "---:|" * (len(names) + 1)]
        for row in result["by_policy"]:
            cells = " | ".join(f"{row['counts'][r]} ({_pct(row['rates'][r])})" for r in result["roles"])
            out.append(f"| {row['key']} | {cells} | {row['total']} |")
    for key, title in (("unmet", "Criteria the record contradicts"), ("undocumented", "Criteria left undocumented"),
                       ("missing", "Documentation most often missing")):
        out += ["", f"## {title}", "", "| lines | share of lines not approved | |", "|---:|---:|---|"]
        out += [f"| {item['lines']} | {_pct(item['rate'])} | {item['label']} |" for item in result[key]]
    if result["errors"]:
        out += ["", "## Inputs that could not be decided", ""] + [f"- {md(str(e.get('source', '?')))}" for e in result["errors"]]
    return "\n".join(out) + "\n"
