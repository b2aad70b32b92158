"""A knowledge base directory: rule files, citation registry, metadata, digest and on-disk cache.

The parsed, checked and lowered program is cached by digest so that `warrant decide` never
imports the parser: a cache hit costs one checked file read and one allow-listed unpickle
(`codec.py`: only the engine's own records and dataclasses can be built, so no cache file can run code),
sealed with a per-user keyed digest and read only from a folder and file that no other user
can have written (`engine.guard.files.read_private`).
"""
from __future__ import annotations

import hashlib
import os
import pickle
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError
from engine.guard import gcpause
from engine.guard.files import read_private, write_private
from engine.guard.limits import LIMITS
from engine.knowledge.kbfiles import hash_files, read_kb_file
from engine.knowledge.interface import APPLICATION_READS, CODE_LABEL, CODE_UNIT
from engine.guard.record import field, record

CACHE_FORMAT = "warrant-kb-cache/3"
_CACHE_BYTES = 256 * 1024 * 1024
_KEY_FILE = "cache.key"
_SKIP_DIRS = {"tests", "corpus", "examples", "__pycache__", "policies"}  # policies/: overlays, per policy
_KB_SUFFIXES = {".dl", ".yaml", ".yml", ".json", ".md", ".j2"}
_ENGINE_FILES = ("language/ast.py", "errors.py", "language/parser.py", "language/fastparse.py", "language/grammar.lark",
                 "compile/lower.py", "compile/plan.py", "language/fieldpath.py", "evaluate/program.py", "knowledge/base.py",
                 "checks/__init__.py", "checks/safety.py", "checks/stratify.py",
                 "checks/arity.py", "checks/definitions.py", "checks/annotations.py",
                 "knowledge/codec.py", "knowledge/limits.py",
                 "knowledge/caseschema.py", "knowledge/schemafile.py", "knowledge/fieldcheck.py",
                 "knowledge/levels.py", "knowledge/words.py", "knowledge/wordcheck.py",
                 "knowledge/overlay.py", "knowledge/policies.py")


def bundled_kb() -> Path:
    return Path(__file__).resolve().parent.parent.parent / "kb"


def kb_files(root: Path) -> list[Path]:
    """The files that make up the policy, in sorted path order (what the digest covers).

    Rule tests, the corpus and examples are not policy: their folders are not even listed.
    Folders reached through symbolic links are not followed (a link loop cannot trap the walk),
    and a directory holding more than `LIMITS.kb_files` such files is refused."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        out += [Path(folder, name) for name in files if Path(name).suffix in _KB_SUFFIXES]
        if len(out) > LIMITS.kb_files:
            raise RuleError([Finding("kb_limit", f"the knowledge base holds more than {LIMITS.kb_files} "
                                     "rule, data and template files", Location(str(root)))])
    return sorted(out, key=lambda p: p.relative_to(root).parts)


def digest_files(root: Path, files: list[Path]) -> str:
    return hash_files(hashlib.sha256(), root, files)


def _engine_fingerprint() -> str:
    """Which engine built a cache: its format and, as for Python's own bytecode, the size and
    modification time of each source that shapes the cached program (a stat each, not a read)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256(CACHE_FORMAT.encode())
    for name in _ENGINE_FILES:
        info = os.stat(os.path.join(here, name))
        h.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("WARRANT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "warrant")
    return Path(base)


@record
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
    word_data: dict[str, Any] | None = None   # words.yaml as read when the cache was built
    policy: Any = None
    """The policy version this program is (`engine.knowledge.policies.PolicyVersion`); None: the base."""
    changes: list = field(default_factory=list)
    """What the policy's overlays change in the base (`engine.knowledge.overlay.Change`)."""
    policy_data: Any = None
    """policies.yaml as read when the cache was built (None: read it when the table is asked)."""

    @classmethod
    def load(cls, root: str | Path | None = None, *, use_cache: bool = True,
             policy: Any = None) -> "KnowledgeBase":
        """The kb at `root`; with `policy` (`ID`, `ID@VERSION` or a PolicyVersion), that policy's
        program: the base files with the overlays of its chain applied, cached by its digest."""
        root = Path(root) if root else bundled_kb()
        if not root.is_dir():
            raise RuleError([Finding("kb_missing", f"knowledge base directory not found: {root}", Location(str(root)))])
        files = kb_files(root)
        digest = digest_files(root, files)
        version, overlays = None, []
        if policy is not None:
            from engine.knowledge.policies import load_table, policy_digest

            table = load_table(root)
            version = table.get(policy) if isinstance(policy, str) else policy
            overlays = table.files(version)
            digest = policy_digest(digest, version, overlays, root)
        fingerprint = _engine_fingerprint()
        cache_file = cache_dir() / f"{digest[7:]}-{fingerprint}.kbcache"
        if use_cache:
            with gcpause.paused():  # unpickling a large table builds as many objects as parsing it
                payload = _read_cache(cache_file, digest, fingerprint)
                if payload is not None:
                    return cls._from_payload(root, digest, payload, version)
        with gcpause.paused():  # a kb table may mean hundreds of thousands of objects, none garbage
            built: dict[str, Any] = {}
            payload = cls._build(root, files, overlays, built)
            program = built["program"]
            if use_cache:
                _write_cache(cache_file, {**payload, "digest": digest, "engine": fingerprint})
            return cls._from_payload(root, digest, payload, version, program)

    @staticmethod
    def _build(root: Path, files: list[Path], overlays: list[Path] = (), built: dict | None = None) -> dict[str, Any]:
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
        if not rules:
            raise RuleError([Finding("kb_empty", "the knowledge base holds no rule files (*.dl); "
                                     "there is no policy to check or apply", Location(str(root)))])
        from engine.knowledge.limits import check_texts, check_program, kb_budget

        findings += check_texts(rules, display_root=root.parent)
        if findings:
            raise RuleError(findings)
        modules, parse_findings = parse_paths(rules, display_root=root.parent)
        findings += parse_findings
        from engine.knowledge.overlay import apply_overlays, base_replaces

        findings += base_replaces(modules)
        changes: list = []
        overlay_rules = [f for f in overlays if f.suffix == ".dl"]
        if overlay_rules:
            findings += check_texts(overlay_rules, display_root=root.parent)
            extra, extra_findings = parse_paths(overlay_rules, display_root=root.parent)
            modules, changes, overlay_findings = apply_overlays(modules, extra)
            findings += extra_findings + overlay_findings
        if findings:
            raise RuleError(findings)
        case_schema = _read_case_schema(root)
        from engine.knowledge.fieldcheck import check_case_fields

        field_findings = check_case_fields(modules, case_schema)
        try:
            program = Program(modules, citations=citations, strict=True, roots=APPLICATION_READS,
                              require_annotations=True)
        except RuleError as exc:
            raise RuleError(sorted(exc.findings + field_findings, key=_order)) from None
        if any(f.severity == "error" for f in field_findings):
            raise RuleError(sorted(program.findings + field_findings, key=_order))
        kb_budget(meta, str(meta_file.relative_to(root.parent)))
        limit_findings = check_program(program)
        if limit_findings:
            raise RuleError(limit_findings)
        from engine.knowledge.lint import contract_findings

        words, wording = _wording(root, program, [f for f in overlays if f.name == "words.yaml"])
        contract = contract_findings(program.clauses, program.decls) + wording
        if any(f.severity == "error" for f in contract):
            raise RuleError(sorted(program.findings + contract, key=_order))
        from engine.compile.plan import program_plan
        from engine.language.fieldpath import parse_field

        fields = {key: [(decl, parse_field(text)) for text in decl.fields]
                  for key, decl in program.decls.items() if decl.fields}
        if built is not None:  # the caller uses this program rather than building it again
            built["program"] = program
        program.strata  # computed once, cached with the program
        return {"format": CACHE_FORMAT, "modules": program.modules, "findings": program.findings,
                "core": program.core, "citations": citations, "meta": meta, "fields": fields, "words": words,
                "strata": program._strata, "recursive": program._recursive, "case_schema": case_schema,
                "changes": changes, "policies": _policy_data(root),
                "plan": program_plan(program.core, program._strata, program._recursive)}

    @classmethod
    def _from_payload(cls, root: Path, digest: str, payload: dict[str, Any], policy: Any = None,
                      program: Any = None) -> "KnowledgeBase":
        """The kb of a payload; `program`: the one just built from it (not built a second time)."""
        from engine.evaluate.program import Program

        if program is None:
            program = Program(payload["modules"], findings=payload["findings"], core=payload["core"])
            program._recursive, program._strata = payload["recursive"], payload["strata"]
        program._plan = payload.get("plan")  # what the backend works out before building clauses
        from engine.knowledge.limits import kb_budget

        program.budget = kb_budget(payload["meta"])
        warnings = [f for f in payload["findings"] if f.severity == "warning"]
        kb = cls(root, digest, program, payload["citations"], payload["meta"], warnings, payload["fields"],
                 payload["case_schema"], payload.get("words"), policy, payload.get("changes") or [])
        kb.policy_data = payload.get("policies")
        return kb

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @property
    def levels(self) -> Any:
        """The spinal level vocabulary of the case schema (`engine.knowledge.levels.Levels`)."""
        return self.case_schema.levels

    @cached_property
    def policy_table(self) -> Any:
        """The kb's policy table (kb/policies.yaml): `engine.knowledge.policies.PolicyTable`."""
        from engine.knowledge.policies import load_table

        return load_table(self.root, self.policy_data)

    def for_policy(self, version: Any) -> "KnowledgeBase":
        """The program of one policy version of this kb, loaded once per process (the base
        policy is this kb itself)."""
        if version.is_base and self.policy is None or self.policy == version:
            return self
        loaded = self.__dict__.setdefault("_policies", {})
        if version.key not in loaded:
            loaded[version.key] = KnowledgeBase.load(self.root, policy=version)
        return loaded[version.key]

    @cached_property
    def code_units(self) -> dict[str, str]:
        """How each code splits into lines (`code_unit/2`); the case layer checks the units."""
        return {str(code): str(unit) for code, unit in self.program.query(*CODE_UNIT)}

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
        return {str(code): str(label) for code, label in self.program.query(*CODE_LABEL)}

    @cached_property
    def domains(self):
        from engine.explain.domains import Domains

        return Domains(self.program.clauses)

    @cached_property
    def words(self):
        """The kb's clinical words (kb/words.yaml): engine.knowledge.words.Words."""
        from engine.knowledge.words import Words, static_facts

        facts = static_facts(self.program.clauses)
        if self.word_data is not None:  # read with the rules and cached under the same digest
            return Words(self.word_data, facts, str(self.root / "words.yaml"))
        return Words.load(self.root, facts)

    @cached_property
    def dependents(self):
        """Which derived predicates a set of added facts can reach (memoised for explanations)."""
        from engine.explain.hypothesis import Dependents

        return Dependents(self.program.clauses_by_head)

    @cached_property
    def reason_predicates(self) -> set[str]:
        return {key[0] for key, decl in self.program.decls.items() if decl.reason}

    @cached_property
    def reason_leads(self) -> frozenset:
        """Derived predicates whose proofs can hold a reason below their conclusion
        (engine.explain.reasons)."""
        from engine.explain.reasons import reaching

        return reaching(self.program.clauses_by_head, self.reason_predicates)

    @cached_property
    def rules_by_id(self) -> dict[str, Any]:
        return {c.meta.id: c for c in self.program.clauses if c.meta}

    @cached_property
    def noreason_rules(self) -> frozenset[str]:
        """The ids of the rules marked `%@ noreason` (as `rules_by_id` finds them)."""
        return frozenset(rule_id for rule_id, c in self.rules_by_id.items() if c.meta.noreason)


def _wording(root: Path, program: Any, extra: list[Path] = ()) -> tuple[dict[str, Any] | None, list[Finding]]:
    """words.yaml as data (cached with the program), and its findings: identifiers without words,
    requirement texts whose kb references do not resolve. A kb without words.yaml (an older
    revision, a test program) reads its identifiers humanised."""
    from engine.knowledge.wordcheck import word_findings
    from engine.knowledge.words import WORDS_FILE, Words, static_facts

    if not (root / WORDS_FILE).is_file():
        return None, []
    try:
        words = Words.load(root, static_facts(program.clauses), extra)
        used = _criteria_used(program.clauses)
        for criterion in words.data["criteria"]:
            try:
                words.requirement(criterion)
            except RuleError:
                if criterion in used:
                    raise
    except RuleError as exc:
        return None, list(exc.findings)
    return words.data, word_findings(words, program.clauses, program.decls)


def _policy_data(root: Path) -> Any:
    """kb/policies.yaml's data, to cache with the program (the decide path then imports no YAML
    reader for it): plain data only, and None when it is missing or unreadable (the table is
    then read, and its errors reported, when it is asked for)."""
    from engine.knowledge.policies import POLICIES_FILE
    from engine.knowledge.yamlio import read_yaml

    path = root / POLICIES_FILE
    if not path.is_file():
        return None
    try:
        data = read_yaml(path)
    except RuleError:
        return None
    return data if _plain(data) else None


def _plain(data: Any) -> bool:
    if isinstance(data, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_plain(v) for v in data)
    return data is None or isinstance(data, (str, int, float))


def _criteria_used(clauses: Any) -> set[Any]:
    """The criteria this program's tables list (the words of another policy's criteria may read
    constants only that policy has; they are checked when that policy is)."""
    from engine.knowledge.interface import CRITERION_LISTS

    from engine.language.tables import tables

    rows = tables(clauses).rows
    return {row[1] for key in CRITERION_LISTS for row in rows.get(key, ())}


def _read_case_schema(root: Path) -> Any:
    from engine.knowledge.caseschema import SCHEMA_FILE
    from engine.knowledge.schemafile import read_case_schema

    path = root / SCHEMA_FILE
    display = (path.relative_to(root.parent) if root.parent != root else path).as_posix()
    if not path.is_file():
        raise RuleError([Finding("case_schema", f"the knowledge base has no {SCHEMA_FILE}: it declares "
                                 "the fields a case file may hold (docs/kb-contract.md)", Location(display))])
    return read_case_schema(path, display, read_kb_file(path))


def _order(finding: Finding) -> tuple:
    loc = finding.location
    return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)


def _read_cache(path: Path, digest: str, fingerprint: str) -> dict[str, Any] | None:
    """The cached payload for this kb digest and engine, when a trusted, intact one exists."""
    from engine.knowledge import codec

    data = read_private(path, _CACHE_BYTES)
    key = read_private(path.parent / _KEY_FILE, 1024) if data is not None else None
    if data is None or not key:
        return None
    try:
        payload = codec.loads(data, key)  # (under gcpause.paused, in `load`)
    except Exception:  # a corrupt, stale or foreign cache file is rebuilt
        return None
    if (not isinstance(payload, dict) or payload.get("format") != CACHE_FORMAT
            or payload.get("digest") != digest or payload.get("engine") != fingerprint):
        return None
    return payload


def _write_cache(path: Path, payload: dict[str, Any]) -> None:
    """Store the payload as plain data; a cache that cannot be written only costs speed."""
    from engine.knowledge import codec

    key = read_private(path.parent / _KEY_FILE, 1024)
    if not key:
        key = os.urandom(32)
        if not write_private(path.parent / _KEY_FILE, key):
            return
        key = read_private(path.parent / _KEY_FILE, 1024)  # another process may have won the race
        if not key:
            return
    try:
        data = codec.dumps(payload, key)
    except (TypeError, ValueError, pickle.PicklingError, AttributeError):
        return
    write_private(path, data)
