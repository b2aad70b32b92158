"""Safe YAML reading for the knowledge base's own data files (no tags, no object construction)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError


def read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)
    try:
        return yaml.load(path.read_text(encoding="utf-8"))
    except (YAMLError, OSError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        raise RuleError([Finding("syntax", f"cannot read {path.name}: {getattr(exc, 'problem', None) or exc}",
                                 loc)]) from None
