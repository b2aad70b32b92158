"""Page templates of the static reports and the workbench (package data, autoescaped).

These lay out pages; every word about a case comes from the kb (kb/words.yaml) through the
values they are given. `environment(*more)` adds template folders (the workbench's own) in
front of this one, so its pages can include the shared chart partial."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent


def first_upper(text) -> str:
    """A sentence's first letter in capitals and the rest as written (Jinja's `capitalize`
    lowers the rest: "L4-5" would read "l4-5")."""
    text = str(text)
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=8)
def environment(*more: str):
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

    loader = ChoiceLoader([FileSystemLoader(m) for m in more] + [FileSystemLoader(str(HERE))])
    env = Environment(loader=loader, autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x: f"{100 * float(x):.0f}%"
    env.filters["first_upper"] = first_upper
    env.filters["as_yaml"] = lambda v: json.dumps(v, ensure_ascii=False)  # JSON is YAML: the what-if reads it back
    return env
