"""Safe YAML for Warrant's own files: reading kb data (no tags, no object construction) and
writing case files (generated or imported) that the case loader reads back unchanged."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError


def dump_yaml(data: Any, header: str = "") -> str:
    """Block-style YAML for plain data, `header` lines first (each already a `# ` comment).
    Strings that would read back as something else (`"22633"`, `"yes"`) are quoted."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.width = 130
    yaml.representer.sort_base_mapping_type_on_output = False
    stream = io.StringIO()
    yaml.dump(data, stream)
    return header + stream.getvalue()


def read_yaml(path: Path) -> Any:
    """A kb YAML file's data: libyaml under the YAML 1.2 core schema (`yamlcore`), and ruamel,
    imported only then, for what libyaml refuses (its messages say where)."""
    from engine.guard.files import read_regular
    from engine.guard.limits import LIMITS

    from engine.knowledge.yamlcore import load_core12

    try:
        text = read_regular(path, LIMITS.kb_file_bytes, "kb file").decode("utf-8")
        read, data = load_core12(text)
        return data if read else _read_ruamel(path, text)
    except RecursionError:
        raise RuleError([Finding("syntax", f"cannot read {path.name}: nested too deeply",
                                 Location(str(path)))]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def _read_ruamel(path: Path, text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: BaseException) -> RuleError:
    mark = getattr(exc, "problem_mark", None)
    loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
    reason = getattr(exc, "problem", None) or getattr(exc, "strerror", None) or exc
    return RuleError([Finding("syntax", f"cannot read {path.name}: {reason}", loc)])
