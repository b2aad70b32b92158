"""Open whatever a user hands a command as a case: a case file, a rule test that embeds one
under `case:`, or a FHIR prior-authorization bundle (recognised by its content).

This sits above both the case layer and the FHIR layer, so neither needs to know the other.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.decide.session import CaseSession
    from engine.knowledge.base import KnowledgeBase


def open_session(kb: "KnowledgeBase", path: str | os.PathLike[str], text: str | None = None, *,
                 policy: str | None = None, as_of: Any = None) -> "CaseSession":
    """A session for the input at `path` (or `text`, named `path`), under the policy version
    each stage is decided by (`--policy`, `--as-of`, the case's own fields: POLICIES.md
    section 4); raises CaseError (exit 3)."""
    return _open(kb, path, text).with_policies(policy, as_of)


def _open(kb: "KnowledgeBase", path: str | os.PathLike[str], text: str | None) -> "CaseSession":
    from engine.cases.loader import case_position, load_case
    from engine.decide.session import CaseSession
    from engine.fhir.detect import sniff

    given = sniff(path, text)  # reads the input once; FHIR JSON is recognised by its content
    name = os.fspath(path)
    if given.is_fhir:
        from engine.fhir import open_bundle

        case, lines, imported = open_bundle(kb, given)
        return CaseSession.from_case(kb, case, name, lines=lines, imported=imported)
    case = load_case(name, kb, text=given.text, at=case_position(given.text))
    return CaseSession.from_case(kb, case, name)
