"""`warrant summarize`: what a corpus of cases comes to.

Verdict counts per code (admissions counted as `admission`), and, among the lines that were
denied or could not be determined, the criteria most often unmet and the documentation most
often missing. Missing fields are counted both as written (`imaging[].segments.L4-5.translation_mm`)
and in general form (`imaging[].segments.*.translation_mm`, `requests[].procedures[].levels`),
so that the same gap at different levels or in different requests adds up.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from engine.errors import WarrantError
from engine.knowledge.interface import CRITERION_UNMET as UNMET

_INDEX = re.compile(r"\[\d+\]")


def general_field(path: str, levels: Any) -> str:
    """`requests[1].procedures[2].levels` → `requests[].procedures[].levels`; level keys (in the
    vocabulary `levels`, the kb's) → `*`."""
    parts = []
    for part in _INDEX.sub("[]", path).split("."):
        try:
            levels.parse(part)
            parts.append("*")
        except (ValueError, TypeError):
            parts.append(part)
    return ".".join(parts)


def summarize(kb, paths: Sequence[Path], top: int = 15) -> dict[str, Any]:
    from engine.decide.outcomes import determinations
    from engine.inputs import open_session

    per_code: dict[str, Counter] = {}
    unmet: Counter = Counter()
    unmet_codes: dict[str, Counter] = {}
    missing: Counter = Counter()
    missing_general: Counter = Counter()
    bases: Counter = Counter()
    errors = []
    lines = 0
    for path in paths:
        try:
            session = open_session(kb, path)
            records = determinations(session, missing=True)
        except WarrantError as exc:
            errors.append({"source": str(path), "error": {"code": exc.code, "messages": exc.messages}})
            continue
        unmet_rows = {}
        for line_id, criterion in session.derived.get(UNMET, ()):
            unmet_rows.setdefault(line_id, []).append(str(criterion))
        for key, record in records.items():
            if record["kind"] == "stage":
                continue
            per_code.setdefault(record["code"], Counter())[record["verdict"]] += 1
            if record["kind"] != "line":
                continue
            lines += 1
            if record["verdict"] == kb.verdicts["positive"]:
                continue
            bases[f"{record['verdict']} ({record['basis']})"] += 1
            for criterion in sorted(set(unmet_rows.get(key, []))):
                unmet[criterion] += 1
                unmet_codes.setdefault(criterion, Counter())[record["code"]] += 1
            own = [f for f in record.get("missing", []) if f not in record.get("inherited", [])]
            for item in set(own):
                missing[item] += 1
            for item in {general_field(f, kb.levels) for f in own}:
                missing_general[item] += 1
    labels = kb.code_labels
    order = [kb.verdicts[role] for role in ("positive", "negative", "undetermined")]
    unknown = str(kb.meta.get("unknown_code_label", ""))
    codes = [{"code": code, "label": labels.get(code, "" if code == "admission" else unknown),
              "counts": {v: counts.get(v, 0) for v in order}, "total": sum(counts.values())}
             for code, counts in sorted(per_code.items(), key=lambda kv: (kv[0] == "admission", kv[0]))]
    return {
        "cases": len(paths) - len(errors), "lines": lines, "verdicts": order, "codes": codes,
        "not_approved_by_basis": [{"basis": b, "lines": n} for b, n in bases.most_common()],
        "unmet_criteria": [{"criterion": c, "lines": n, "codes": dict(unmet_codes[c].most_common())}
                           for c, n in unmet.most_common(top)],
        "missing_fields": [{"field": f, "lines": n} for f, n in missing_general.most_common(top)],
        "missing_fields_exact": [{"field": f, "lines": n} for f, n in missing.most_common(top)],
        "errors": errors,
    }


def summary_text(result: dict[str, Any]) -> str:
    out = [f"{result['cases']} cases, {result['lines']} lines"
           + (f" ({len(result['errors'])} cases could not be read)" if result["errors"] else ""), "",
           "verdicts per code:"]
    width = max([len(c["label"]) for c in result["codes"]] + [5])
    columns = [max(len(v), 6) for v in result["verdicts"]]
    out.append(f"  {'code'.ljust(9)} {'label'.ljust(width)}  "
               + "  ".join(v.rjust(w) for v, w in zip(result["verdicts"], columns)) + f"  {'total':>6}")
    for item in result["codes"]:
        counts = "  ".join(str(item["counts"][v]).rjust(w) for v, w in zip(result["verdicts"], columns))
        out.append(f"  {item['code'].ljust(9)} {item['label'].ljust(width)}  {counts}  {item['total']:>6}")
    if result["not_approved_by_basis"]:
        out += ["", "lines not approved, by basis:"]
        out += [f"  {b['lines']:6d}  {b['basis']}" for b in result["not_approved_by_basis"]]
    out += ["", "most frequent unmet criteria (denied or undetermined lines):"]
    if not result["unmet_criteria"]:
        out.append("  (none)")
    for item in result["unmet_criteria"]:
        codes = ", ".join(f"{c}: {n}" for c, n in list(item["codes"].items())[:6])
        out.append(f"  {item['lines']:6d}  {item['criterion']}   [{codes}]")
    out += ["", "most frequent missing documentation (denied or undetermined lines):"]
    if not result["missing_fields"]:
        out.append("  (none)")
    out += [f"  {item['lines']:6d}  {item['field']}" for item in result["missing_fields"]]
    for error in result["errors"]:
        out += ["", f"could not read {error['source']}:"] + [f"  {m}" for m in error["error"]["messages"]]
    return "\n".join(out) + "\n"


def summary_markdown(result: dict[str, Any]) -> str:
    out = ["# Corpus summary", "", f"{result['cases']} cases, {result['lines']} lines.", "",
           "## Verdicts per code", "", "| code | label | " + " | ".join(result["verdicts"]) + " | total |",
           "|---|---|" + "---:|" * (len(result["verdicts"]) + 1)]
    for item in result["codes"]:
        counts = " | ".join(str(item["counts"][v]) for v in result["verdicts"])
        out.append(f"| {item['code']} | {item['label']} | {counts} | {item['total']} |")
    out += ["", "## Most frequent unmet criteria", "", "| lines | criterion | codes |", "|---:|---|---|"]
    for item in result["unmet_criteria"]:
        codes = ", ".join(f"{c}: {n}" for c, n in item["codes"].items())
        out.append(f"| {item['lines']} | {item['criterion']} | {codes} |")
    out += ["", "## Most frequent missing documentation", "", "| lines | field |", "|---:|---|"]
    out += [f"| {item['lines']} | `{item['field']}` |" for item in result["missing_fields"]]
    if result["errors"]:
        out += ["", "## Cases that could not be read", ""] + [f"- {e['source']}" for e in result["errors"]]
    return "\n".join(out) + "\n"
