"""A fast reader of the kb's own YAML files under the YAML 1.2 core schema.

ruamel's pure-Python reader took about 390 ms for the kb's YAML files, most of an uncached kb
load; libyaml (through PyYAML) reads them in about 30 ms. PyYAML resolves plain scalars by YAML
1.1 (`yes` and `on` are booleans, `012` is octal, `1:20` is sexagesimal), so this loader uses
the 1.2 core schema's resolvers instead, which ruamel's safe reader follows: the data is the
same (tests/test_yaml_readers_agree.py compares both over every kb file). Anything libyaml
refuses returns None and the caller reads the file with ruamel, whose messages say where.
"""
from __future__ import annotations

import re
from typing import Any

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^[-+]?(?:[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_LOADER: Any = None


def _loader() -> Any:
    """The loader class, built on first use (PyYAML stays off the import path)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", None)
    if base is None or not getattr(yaml, "__with_libyaml__", False):
        return None

    class Core12Loader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers: dict = {}

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            keys = [self.construct_object(key, deep=True) for key, _ in node.value]
            if len(set(map(repr, keys))) != len(keys):
                raise ValueError("duplicate key")  # ruamel reads it again and says where
            return super().construct_mapping(node, deep)

        def construct_yaml_int(self, node: Any) -> int:
            text = self.construct_scalar(node).replace("_", "")
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("+-")
            if digits.startswith("0x"):
                return sign * int(digits[2:], 16)
            if digits.startswith("0o"):
                return sign * int(digits[2:], 8)
            return sign * int(digits, 10)   # a leading zero is decimal under 1.2

    keep = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge")
    for first, resolvers in base.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in resolvers if tag in keep]
        if kept:
            Core12Loader.yaml_implicit_resolvers[first] = kept
    for tag, regexp, firsts in (("bool", _BOOL, "tTfF"), ("int", _INT, "-+0123456789"),
                                ("float", _FLOAT, "-+.0123456789"), ("null", _NULL, ["~", "n", "N", ""])):
        Core12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", regexp, list(firsts))
    Core12Loader.add_constructor("tag:yaml.org,2002:int", Core12Loader.construct_yaml_int)
    _LOADER = Core12Loader
    return _LOADER


def load_core12(text: str) -> tuple[bool, Any]:
    """(True, data) when libyaml read `text`; (False, None) when the caller must use ruamel."""
    loader = _loader()
    if loader is None or "\t" in text:
        return False, None
    import yaml

    try:
        return True, yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except Exception:  # anything libyaml refuses: ruamel reads it and says what is wrong
        return False, None
