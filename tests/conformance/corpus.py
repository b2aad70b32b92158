"""Reading and writing the conformance corpus: one folder per case, in the manner of Soufflé's
tests/evaluation/ — the program, and its expected answers as data.

    CASE/program.dl      the program (rule language)
    CASE/PRED.csv        the complete expected answers of PRED, one row a line, values separated
                         by tabs and written as rule-language terms (`a`, `'L4-5'`, `1`, `0.5`);
                         `()` is the one row of a true proposition, an empty file an empty relation
    CASE/facts/PRED.csv  rows supplied with `add_facts` before querying (same format)
    CASE/asks.json       {"goal": [{"Var": value, ...}, ...]} answers of `ask(goal)`, in order
    CASE/error.txt       a program that must be refused: `CODE LINE:COL` (the message starts
                         with `program.dl:LINE:COL: `)
    CASE/options.json    keyword arguments of `Program.from_text` (`strict`, `citations`)
    CASE/README          optional: what the case is about

Values are parsed by Warrant's own parser, so a number and an atom can never be confused.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_BARE = re.compile(r"[a-z][A-Za-z0-9_]*\Z")


@dataclass
class Case:
    name: str
    text: str
    expect: dict[str, set[tuple]] = field(default_factory=dict)
    facts: dict[str, list[tuple]] = field(default_factory=dict)
    asks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: tuple[str, str] | None = None  # (code, "line:col")
    options: dict[str, Any] = field(default_factory=dict)


def term(value: Any) -> str:
    """A value written as a rule-language term."""
    if isinstance(value, str):
        return value if _BARE.match(value) else "'" + value.replace("'", "''") + "'"
    return repr(value)


def write_rows(path: Path, rows) -> None:
    lines = sorted("()" if row == () else "\t".join(term(v) for v in row) for row in rows)  # repeats kept
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def read_rows(path: Path) -> list[tuple]:
    """The rows of a file, in file order (repeats kept: facts may be supplied twice on purpose)."""
    from engine.language.parser import parse_text

    rows: list[tuple] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.strip() == "()":
            rows.append(())
            continue
        module = parse_text(f"row({line.replace(chr(9), ', ')}).\n", f"{path}:{number}")
        rows.append(tuple(arg.value for arg in module.clauses[0].head.args))
    return rows


def load(folder: Path) -> Case:
    case = Case(folder.name, (folder / "program.dl").read_text(encoding="utf-8"))
    for path in sorted(folder.glob("*.csv")):
        case.expect[path.stem] = set(read_rows(path))
    for path in sorted((folder / "facts").glob("*.csv")):
        case.facts[path.stem] = read_rows(path)
    if (folder / "asks.json").is_file():
        case.asks = json.loads((folder / "asks.json").read_text(encoding="utf-8"))
    if (folder / "error.txt").is_file():
        code, at = (folder / "error.txt").read_text(encoding="utf-8").split()
        case.error = (code, at)
    if (folder / "options.json").is_file():
        case.options = json.loads((folder / "options.json").read_text(encoding="utf-8"))
    return case


def cases() -> list[Case]:
    """Every case of the corpus, in name order."""
    return [load(folder) for folder in sorted(HERE.iterdir()) if (folder / "program.dl").is_file()]
