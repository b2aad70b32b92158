"""Golden explanations: the reference case's decision and one why-not tree, byte for byte.

A change to the kb, the explainer or the renderers that alters what a reviewer reads shows up
here as a unified diff. When the change is intended, record the new output on purpose:

    WARRANT_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py

and commit the files under tests/snapshots/ with the change. The knowledge-base digest in the
decision is replaced by a placeholder before comparing, so editing a comment in kb/ does not
count as a change of explanation.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, ROOT

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
_DIGEST = re.compile(r'"digest": "sha256:[0-9a-f]{64}"')

CASES = {
    # The reference case has no dates: the policy version is chosen as of the day of the decision
    # unless --as-of pins the day (POLICIES.md section 4), so the decision snapshot pins it.
    "reference-decision.json": ["decide", str(REFERENCE), "--format", "json", "--as-of", "2026-12-01"],
    "reference-why-not-22633-L4-5.json": ["why-not", str(REFERENCE), "22633", "--level", "L4-5", "--format", "json"],
}


def _normalise(text: str) -> str:
    text = _DIGEST.sub('"digest": "sha256:<kb digest>"', text)
    return text.replace(str(ROOT) + os.sep, "")


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshot(name, run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = [a.replace(str(ROOT) + os.sep, "") for a in CASES[name]]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    actual = _normalise(result.stdout)
    path = SNAPSHOTS / name
    if os.environ.get("WARRANT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), (f"no snapshot {path.relative_to(ROOT)}; record it with "
                            "WARRANT_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py")
    expected = path.read_bytes()
    if expected != actual.encode("utf-8"):
        diff = "".join(difflib.unified_diff(expected.decode("utf-8").splitlines(keepends=True),
                                            actual.splitlines(keepends=True),
                                            fromfile=f"{path.relative_to(ROOT)} (snapshot)",
                                            tofile=f"warrant {' '.join(args)} (now)"))
        pytest.fail(f"output differs from the snapshot:\n{diff}\n"
                    "If the change is intended: WARRANT_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py",
                    pytrace=False)
