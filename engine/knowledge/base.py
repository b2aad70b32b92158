"""A knowledge base directory: rule files, citation registry, metadata, digest and on-disk cache.

The parsed, checked and lowered program is cached by digest so that `warrant decide` never
imports the parser: a cache hit costs one file read and one unpickle.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError

CACHE_FORMAT = "warrant-kb-cache/1"
_SKIP_DIRS = {"tests", "corpus", "examples", "__pycache__"}
_KB_SUFFIXES = {".dl", ".yaml", ".yml", ".json", ".md", ".j2"}
_ENGINE_FILES = ("language/ast.py", "errors.py", "language/parser.py", "language/grammar.lark",
                 "compile/lower.py", "language/fieldpath.py", "evaluate/program.py", "knowledge/base.py",
                 "checks/__init__.py", "checks/safety.py", "checks/stratify.py",
                 "checks/arity.py", "checks/definitions.py", "checks/annotations.py",
                 "knowledge/caseschema.py", "knowledge/schemafile.py", "knowledge/fieldcheck.py",
                 "knowledge/levels.py")
INTERFACE = ("kb_version", "code_unit", "code_label", "line_verdict", "stage_verdict", "admission_verdict",
             "admission_supported_days", "doc_request", "criterion_met")


def bundled_kb() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "kb"


def kb_files(root: Path) -> list[Path]:
    """The files that make up the policy, in sorted path order (what the digest covers).

    Rule tests, the corpus and examples are not policy: their folders are not even listed."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        out += [Path(folder, name) for name in files if Path(name).suffix in _KB_SUFFIXES]
    return sorted(out, key=lambda p: p.relative_to(root).parts)


def digest_files(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def _engine_fingerprint() -> str:
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(CACHE_FORMAT.encode())
    for name in _ENGINE_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("WARRANT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "warrant")
    return Path(base)


@dataclass
class KnowledgeBase:
    """A loaded, checked knowledge base. Build with `KnowledgeBase.load(path)`."""

    root: Path
    digest: str
    program: Any
    citations: dict[str, dict[str, str]]
    meta: dict[str, Any]
    warnings: list[Finding] = field(default_factory=list)
    fields: dict[tuple[str, int], list] = field(default_factory=dict)
    case_schema: Any = None
    """The case format (kb/case-schema.yaml) as `engine.knowledge.caseschema.CaseSchema`."""

    @classmethod
    def load(cls, root: str | Path | None = None, *, use_cache: bool = True) -> "KnowledgeBase":
        root = Path(root) if root else bundled_kb()
        if not root.is_dir():
            raise RuleError([Finding("kb_missing", f"knowledge base directory not found: {root}", Location(str(root)))])
        files = kb_files(root)
        digest = digest_files(root, files)
        cache_file = cache_dir() / f"{digest[7:]}-{_engine_fingerprint()}.pickle"
        if use_cache and _trusted(cache_file):
            try:
                with cache_file.open("rb") as fh:
                    payload = pickle.load(fh)
                if payload.get("format") == CACHE_FORMAT:
                    return cls._from_payload(root, digest, payload)
            except Exception:  # a corrupt or stale cache file is rebuilt
                pass
        payload = cls._build(root, files)
        if use_cache:
            _write_atomic(cache_file, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        return cls._from_payload(root, digest, payload)

    @staticmethod
    def _build(root: Path, files: list[Path]) -> dict[str, Any]:
        from engine.evaluate.program import Program, parse_paths
        from engine.knowledge.yamlio import read_yaml

        findings: list[Finding] = []
        citations: dict[str, dict[str, str]] = {}
        cite_file = root / "citations.yaml"
        if cite_file.is_file():
            for entry in read_yaml(cite_file) or []:
                if isinstance(entry, dict) and "id" in entry:
                    citations[str(entry["id"])] = {k: str(v) for k, v in entry.items()}
        meta_file = root / "kb.yaml"
        meta = (read_yaml(meta_file) or {}) if meta_file.is_file() else {}
        rules = [f for f in files if f.suffix == ".dl"]
        modules, parse_findings = parse_paths(rules, display_root=root.parent)
        findings += parse_findings
        if findings:
            raise RuleError(findings)
        case_schema = _read_case_schema(root)
        from engine.knowledge.fieldcheck import check_case_fields

        field_findings = check_case_fields(modules, case_schema)
        try:
            program = Program(modules, citations=citations, strict=True, roots=INTERFACE,
                              require_annotations=True)
        except RuleError as exc:
            raise RuleError(_in_order(exc.findings + field_findings)) from None
        if any(f.severity == "error" for f in field_findings):
            raise RuleError(_in_order(program.findings + field_findings))
        from engine.language.fieldpath import parse_field

        fields = {key: [(decl, parse_field(text)) for text in decl.fields]
                  for key, decl in program.decls.items() if decl.fields}
        program.strata  # computed once, cached with the program
        return {"format": CACHE_FORMAT, "modules": program.modules, "findings": program.findings,
                "core": program.core, "citations": citations, "meta": meta, "fields": fields,
                "strata": program._strata, "recursive": program._recursive, "case_schema": case_schema}

    @classmethod
    def _from_payload(cls, root: Path, digest: str, payload: dict[str, Any]) -> "KnowledgeBase":
        from engine.evaluate.program import Program

        program = Program(payload["modules"], findings=payload["findings"], core=payload["core"])
        program._recursive, program._strata = payload["recursive"], payload["strata"]
        warnings = [f for f in payload["findings"] if f.severity == "warning"]
        return cls(root, digest, program, payload["citations"], payload["meta"], warnings, payload["fields"],
                   payload["case_schema"])

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @property
    def levels(self) -> Any:
        """The spinal level vocabulary of the case schema (`engine.knowledge.levels.Levels`)."""
        return self.case_schema.levels

    @cached_property
    def code_units(self) -> dict[str, str]:
        """How each code splits into lines (`code_unit/2`); the case layer checks the units."""
        return {str(code): str(unit) for code, unit in self.program.query("code_unit")}

    @cached_property
    def verdicts(self) -> dict[str, str]:
        """The kb's verdict vocabulary by role (kb.yaml `verdicts`): positive, negative, undetermined."""
        declared = self.meta.get("verdicts") or {}
        missing = [role for role in ("positive", "negative", "undetermined") if role not in declared]
        if missing:
            raise RuleError([Finding("kb_contract", f"kb.yaml declares no verdict for {', '.join(missing)} "
                                     "(verdicts: {positive: ..., negative: ..., undetermined: ...})",
                                     Location(str(self.root / "kb.yaml")))])
        return {role: str(declared[role]) for role in ("positive", "negative", "undetermined")}

    @cached_property
    def code_labels(self) -> dict[str, str]:
        return {str(code): str(label) for code, label in self.program.query("code_label")}

    @cached_property
    def domains(self):
        from engine.explain.domains import Domains

        return Domains(self.program.clauses)

    @cached_property
    def reason_predicates(self) -> set[str]:
        return {key[0] for key, decl in self.program.decls.items() if decl.reason}

    @cached_property
    def rules_by_id(self) -> dict[str, Any]:
        return {c.meta.id: c for c in self.program.clauses if c.meta}


def _read_case_schema(root: Path) -> Any:
    from engine.knowledge.caseschema import SCHEMA_FILE
    from engine.knowledge.schemafile import read_case_schema

    path = root / SCHEMA_FILE
    display = (path.relative_to(root.parent) if root.parent != root else path).as_posix()
    if not path.is_file():
        raise RuleError([Finding("case_schema", f"the knowledge base has no {SCHEMA_FILE}: it declares "
                                 "the fields a case file may hold (docs/kb-contract.md)", Location(display))])
    return read_case_schema(path, display)


def _in_order(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.location.file, f.location.line, f.location.column)
                  if f.location else ("", 0, 0))


def _trusted(path: Path) -> bool:
    """Unpickling runs code, so a cache file is read only when this user wrote it and nobody else
    can have changed it (owned by us, in a directory owned by us, neither writable by others)."""
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError:
        return False
    uid = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return all(s.st_uid == uid and not (s.st_mode & 0o022) for s in (info, folder))


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs speed
