"""Every file the engine reads at run time ships with a non-editable `pip install .`: each
non-Python file under engine/ matches a `package_data` pattern of setup.cfg."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_data_files_are_package_data():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    # setuptools reads this option line by line, each line `package = patterns`: a pattern on a
    # continuation line of its own is silently dropped
    patterns = []
    for line in ("engine = " + config["options.package_data"]["engine"]).splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "engine":
            patterns += [p.strip() for p in value.split(",") if p.strip()]
    engine = ROOT / "engine"
    files = [p.relative_to(engine).as_posix() for p in engine.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert files
    missing = [f for f in files if not any(_glob_match(f, pattern) for pattern in patterns)]
    assert not missing, f"not in setup.cfg package_data: {missing}"


def _glob_match(path: str, pattern: str) -> bool:
    """setuptools' glob: `*` stays within one folder (unlike fnmatch's), `**/` spans folders."""
    regex = ""
    for part in re.split(r"(\*\*/|\*|\?)", pattern):
        regex += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
    return re.fullmatch(regex, path) is not None


def test_the_glob_keeps_a_star_within_one_folder():
    assert not _glob_match("language/grammar.lark", "*.lark")
    assert _glob_match("language/grammar.lark", "language/*.lark")
    assert _glob_match("policies/strict/1.0/strict.dl", "**/*.dl")
