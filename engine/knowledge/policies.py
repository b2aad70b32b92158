"""The policy table (kb/policies.yaml): which policies a kb ships, their versions, the date each
takes effect, which policy each extends and the overlay files that state what differs.

Selection is data too: the table names the case fields that carry a case's own policy and the
dates that choose a version (POLICIES.md §4), so no case field name is written in Python. A kb
without a policy table is one policy, its own, in force from any date.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError
from engine.guard.record import field, record
from engine.knowledge.kbfiles import hash_files

POLICIES_FILE = "policies.yaml"
FORMAT = "warrant-policies/1"
OVERLAY_DIR = "policies"
"""Folder of the kb holding the overlays; its files belong to the policies that name them."""
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_FIRST = dt.date(1, 1, 1)


@record(frozen=True)
class PolicyVersion:
    """One version of one policy: the row of the table, with its overlay chain resolved."""

    id: str
    version: str
    effective_from: dt.date
    extends: str | None = None
    files: tuple[str, ...] = ()
    title: str = ""
    chain: tuple[str, ...] = ()
    """Overlay folders or files from the root policy down to this one, in the order they apply."""

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def is_base(self) -> bool:
        return not self.chain

    def row(self) -> str:
        """The row as one canonical line (it enters the policy digest)."""
        return f"{self.key} {self.effective_from.isoformat()} {self.extends or '-'} {' '.join(self.chain)}"


@record
class PolicyTable:
    """Every policy version of a kb, and how a case picks one."""

    root: Path
    versions: list[PolicyVersion]
    default: str
    policy_field: str | None = None
    stage_date_field: str | None = None
    case_date_field: str | None = None
    source: str = POLICIES_FILE
    locs: dict[str, Location] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return sorted({v.id for v in self.versions})

    def of(self, policy_id: str) -> list[PolicyVersion]:
        return sorted((v for v in self.versions if v.id == policy_id), key=lambda v: v.effective_from)

    def get(self, spec: str) -> PolicyVersion:
        """`ID@VERSION` exactly, or `ID` as its newest version; PolicyChoiceError otherwise."""
        policy_id, _, version = spec.partition("@")
        versions = self.of(policy_id)
        if not versions:
            raise PolicyChoiceError(f"unknown policy {policy_id!r}; this kb has {', '.join(self.ids)}")
        if not version:
            return versions[-1]
        for candidate in versions:
            if candidate.version == version:
                return candidate
        raise PolicyChoiceError(f"policy {policy_id!r} has no version {version!r}; it has "
                                f"{', '.join(v.version for v in versions)}")

    def choose(self, policy_id: str, as_of: dt.date) -> PolicyVersion:
        """The newest version of `policy_id` in effect on `as_of` (POLICIES.md §4)."""
        versions = self.of(policy_id)
        if not versions:
            raise PolicyChoiceError(f"unknown policy {policy_id!r}; this kb has {', '.join(self.ids)}")
        valid = [v for v in versions if v.effective_from <= as_of]
        if not valid:
            raise PolicyChoiceError(f"{as_of.isoformat()} is before policy {policy_id!r} took effect "
                                    f"({versions[0].effective_from.isoformat()}, version {versions[0].version})")
        return valid[-1]

    def files(self, version: PolicyVersion) -> list[Path]:
        """The overlay files of a version's chain, in the order they apply."""
        out: list[Path] = []
        for name in version.chain:
            path = self.root / name
            found = sorted(path.rglob("*")) if path.is_dir() else [path]
            out += [p for p in found if p.is_file() and p.suffix in (".dl", ".yaml")]
        return out


class PolicyChoiceError(Exception):
    """A policy that cannot be chosen; the caller anchors the message to the case (exit 3)."""


def parse_date(value: Any) -> dt.date | None:
    """A full ISO date (YYYY-MM-DD), from YAML (a date) or text; None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if re.match(r"^\d{4}-\d{2}-\d{2}$", str(value)) else None
    except ValueError:
        return None


def load_table(root: Path, data: Any = None) -> PolicyTable:
    """The kb's policy table; a kb without one is a single policy named after kb.yaml. `data`:
    policies.yaml as already read (the kb cache keeps it), else the file is read."""
    path = root / POLICIES_FILE
    if not path.is_file():
        from engine.knowledge.yamlio import read_yaml

        meta = (read_yaml(root / "kb.yaml") or {}) if (root / "kb.yaml").is_file() else {}
        name = str(meta.get("policy_id") or "reference")
        return PolicyTable(root, [PolicyVersion(name, str(meta.get("version", "0")), _FIRST)], name)
    return _read_table(root, path, data)


def _read_table(root: Path, path: Path, data: Any = None) -> PolicyTable:
    display = f"{root.name}/{POLICIES_FILE}"
    if data is None:
        from engine.knowledge.yamlio import read_yaml

        data = read_yaml(path) or {}
    problems: list[Finding] = []

    def bad(message: str, line: int = 0) -> None:
        problems.append(Finding("policy_table", message, Location(display, line, 1 if line else 0)))

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuleError([Finding("policy_table", f"{POLICIES_FILE} must be a mapping with format: {FORMAT}",
                                 Location(display))])
    rows = data.get("policies")
    if not isinstance(rows, list) or not rows:
        raise RuleError([Finding("policy_table", "policies: must list at least one policy version",
                                 Location(display))])
    lines = _row_lines(path)
    raw: list[PolicyVersion] = []
    for index, row in enumerate(rows):
        line = lines[index] if index < len(lines) else 0
        version = _row(row, bad, line)
        if version is not None:
            raw.append(version)
    keys = [v.key for v in raw]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        bad(f"policy version {key} is listed twice")
    by_key = {v.key: v for v in raw}
    versions = [_chained(v, by_key, bad, lines[i] if i < len(lines) else 0) for i, v in enumerate(raw)]
    selection = data.get("selection") or {}
    default = str(data.get("default") or "")
    if default not in {v.id for v in versions}:
        bad(f"default: names no policy of the table ({default!r})")
    for version, line in zip(versions, lines):
        for name in version.files:
            if not (root / name).exists():
                bad(f"{version.key}: overlay {name!r} does not exist", line)
            elif not (root / name).resolve().is_relative_to((root / OVERLAY_DIR).resolve()):
                bad(f"{version.key}: overlay {name!r} must lie under {OVERLAY_DIR}/", line)
    if problems:
        raise RuleError(problems)
    return PolicyTable(root, versions, default, selection.get("policy"), selection.get("stage_date"),
                       selection.get("case_date"), display,
                       {v.key: Location(display, line, 1) for v, line in zip(versions, lines)})


def _row(row: Any, bad, line: int) -> PolicyVersion | None:
    if not isinstance(row, dict):
        bad("each policy row is a mapping (id, version, effective_from, extends, files)", line)
        return None
    policy_id, version = str(row.get("id", "")), str(row.get("version", ""))
    when = parse_date(row.get("effective_from"))
    if not _ID.match(policy_id) or not _VERSION.match(version) or when is None:
        bad("a policy row needs id (lower case), version (1.0) and effective_from (YYYY-MM-DD)", line)
        return None
    files = row.get("files") or []
    if not isinstance(files, list):
        bad(f"{policy_id}@{version}: files is a list of overlay folders or files", line)
        files = []
    extends = row.get("extends")
    return PolicyVersion(policy_id, version, when, str(extends) if extends else None,
                         tuple(str(f) for f in files), str(row.get("title") or ""))


def _chained(version: PolicyVersion, by_key: dict[str, PolicyVersion], bad, line: int) -> PolicyVersion:
    """The version with the overlays of every policy it extends, base first (no cycles)."""
    chain: list[str] = []
    seen = {version.key}
    current: PolicyVersion | None = version
    while current is not None:
        chain[:0] = list(current.files)
        parent = current.extends
        if parent is None:
            break
        if parent not in by_key:
            bad(f"{version.key} extends {parent}, which the table does not list (write ID@VERSION)", line)
            break
        if parent in seen:
            bad(f"{version.key}: extends goes round in a circle through {parent}", line)
            break
        seen.add(parent)
        current = by_key[parent]
    return PolicyVersion(version.id, version.version, version.effective_from, version.extends,
                         version.files, version.title, tuple(chain))


def _row_lines(path: Path) -> list[int]:
    """The line of each `- id:` row of the table, for messages."""
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(r"^\s*-\s+id:", text):
            lines.append(number)
    return lines


def version_digest(table: PolicyTable, base_digest: str, version: PolicyVersion) -> str:
    """The digest `KnowledgeBase.load(root, policy=version)` gets, without loading it."""
    return policy_digest(base_digest, version, table.files(version), table.root)


def policy_digest(base_digest: str, version: PolicyVersion, files: list[Path], root: Path) -> str:
    """What a decision under `version` was made with: the base files' digest, the version's row
    and its overlay files' bytes. The base policy's digest is the base files' digest itself."""
    if version.is_base:
        return base_digest
    return hash_files(hashlib.sha256(base_digest.encode() + b"\0" + version.row().encode() + b"\0"), root, files)
