"""No clinical vocabulary in Python: the kb's case schema is the only place case fields are named.

Every field name of kb/case-schema.yaml that is not a warrant-case/1 contract field (the fixed
names application code reads: format, case_id, requests, stage, ...) is searched for in engine/
and cli.py, outside comments and docstrings:
- in string literals, as the whole string or as one step of a path-like string (`patient.sex`,
  `imaging[]`, `si_joint.{side}`);
- as an identifier, when the name is compound (`red_flags`, `facet_resection_percent`), or as an
  attribute (`case.patient`).
A handful of names are also ordinary words of other vocabularies Python must use (FHIR element
names such as `patient`, `outcome`, `modality`, `id`, `date`; the decision's `level`; Python's
`date.year`; level helpers such as `segments()`; comparison sides `left`/`right`); those are
listed in AMBIGUOUS with the reason, and checked only as steps of path-like strings.
"""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from engine.knowledge.caseschema import CONTRACT
from engine.knowledge.schemafile import read_case_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = read_case_schema(ROOT / "kb" / "case-schema.yaml", "kb/case-schema.yaml")
CONTRACT_NAMES = {path[-1] for path in CONTRACT}
CLINICAL = SCHEMA.clinical_names - CONTRACT_NAMES

# Clinical field names that are also words of a vocabulary Python has to speak.
AMBIGUOUS = {
    "id": "FHIR resource ids, rule ids, line ids",
    "date": "FHIR dates and Python's datetime.date",
    "year": "Python's date.year",
    "level": "a line's level in the decision and the line entries (kb contract)",
    "left": "the left operand of a comparison in the rule language",
    "right": "the right operand of a comparison in the rule language",
    "segments": "the segments a spinal level covers (Level.segments())",
    "patient": "FHIR Claim.patient and ClaimResponse.patient",
    "outcome": "FHIR Procedure.outcome and ClaimResponse.outcome",
    "modality": "FHIR ImagingStudy.modality",
    "finding": "Warrant's own Finding (a checker or validator message)",
    "summary": "the `summarize` command and corpus summaries",
    "received": "the service store's time a request was received (a column, not the case field)",
    "policy": "the policy table (kb/policies.yaml), --policy and the decision's per-stage policy record",
}
_PATH_SPLIT = re.compile(r"[.\[\]{}]+")


def _python_files() -> list[Path]:
    return [ROOT / "cli.py"] + sorted((ROOT / "engine").rglob("*.py"))


def _string_value(token: str) -> str | None:
    """The text of a plain string literal (f-strings and bytes are read as written)."""
    prefix = re.match(r"^[A-Za-z]*", token).group(0).lower()
    body = token[len(prefix):]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    if "b" in prefix or len(body) < 2 * len(quote):
        return None
    text = body[len(quote):-len(quote)]
    if "f" in prefix:  # the literal parts of an f-string; the code in braces is not text
        text = re.sub(r"\{[^{}]*\}", " ", text)
    return text


def _hits(path: Path) -> list[str]:
    found: list[str] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    previous = None
    for token in tokens:
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            if token.type != tokenize.COMMENT:
                previous = token if token.type != tokenize.NL else previous
            continue
        where = f"{path.relative_to(ROOT)}:{token.start[0]}"
        docstring = token.type == tokenize.STRING and (
            previous is None or previous.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT))
        if token.type == tokenize.STRING and not docstring:
            text = (_string_value(token.string) or "").strip()
            if text and not re.search(r"\s", text):
                steps = [s for s in _PATH_SPLIT.split(text) if s]
                path_like = len(steps) > 1 or any(c in text for c in ".[{")
                for step in steps:
                    if step in CLINICAL and (path_like or step not in AMBIGUOUS):
                        found.append(f"{where}: {token.string} names the case field {step}")
        elif token.type == tokenize.NAME and token.string in CLINICAL and token.string not in AMBIGUOUS:
            attribute = previous is not None and previous.string == "."
            if "_" in token.string or attribute:
                found.append(f"{where}: identifier {token.string} is a case field")
        previous = token
    return found


def test_the_schema_has_clinical_names_to_look_for():
    assert {"red_flags", "translation_mm", "facet_resection_percent", "pain_below_l5"} <= CLINICAL
    assert not CLINICAL & CONTRACT_NAMES
    assert set(AMBIGUOUS) <= SCHEMA.clinical_names  # every exemption is a real field name


def test_no_case_field_is_named_in_python():
    hits = [hit for path in _python_files() for hit in _hits(path)]
    assert hits == [], "\n".join(hits)


def test_the_search_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""A docstring naming red_flags is fine."""\n'
                      'x = {"red_flags": []}  # a comment naming translation_mm is fine\n'
                      'y = "imaging[].segments.{S}.translation_mm"\n'
                      'z = case.patient\n'
                      'facet_resection_percent = 3\n'
                      'w = "patient"\n', encoding="utf-8")
    hits = [h.split(": ", 1)[1] for h in _hits_of(sample)]
    assert hits == ['"red_flags" names the case field red_flags',
                    '"imaging[].segments.{S}.translation_mm" names the case field imaging',
                    '"imaging[].segments.{S}.translation_mm" names the case field segments',
                    '"imaging[].segments.{S}.translation_mm" names the case field translation_mm',
                    'identifier facet_resection_percent is a case field']


def _hits_of(path: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return _hits(path)
    finally:
        ROOT = saved
