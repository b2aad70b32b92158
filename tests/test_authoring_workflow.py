"""A rule author's first change, end to end, on a copy of the kb.

The author raises the translation threshold from 3 to 4 mm, runs `warrant test` to see which
rule tests now fail, then `warrant diff` to see which tests and corpus cases flip and why. Every
assertion reads only what the commands print, as the author would.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import ROOT

NEAR_THRESHOLD = re.compile(r"translation_mm: 3(\.\d+)?\b")  # documented in [3, 4): flips at 4 mm


def _copy_kb(tmp_path: Path) -> Path:
    copy = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", copy, ignore=shutil.ignore_patterns("corpus", "__pycache__"))
    constants = copy / "constants.dl"
    text = constants.read_text(encoding="utf-8")
    assert text.count("threshold(translation_mm, 3).") == 1
    constants.write_text(text.replace("threshold(translation_mm, 3).", "threshold(translation_mm, 4)."),
                         encoding="utf-8")
    return copy


def _corpus_sample() -> list[str]:
    files = sorted((ROOT / "kb" / "corpus").glob("case-*.yaml"))
    near = [p for p in files if NEAR_THRESHOLD.search(p.read_text(encoding="utf-8"))][:6]
    others = [p for p in files if p not in near][:4]
    assert near, "the corpus should document translations between 3 and 4 mm"
    return [str(p) for p in near + others]


def test_threshold_change_workflow(run_cli, tmp_path):
    new_kb = _copy_kb(tmp_path)

    # 1. warrant test: the tests that pin translation at the old threshold now fail.
    tested = run_cli("test", "--kb", str(new_kb))
    assert tested.exit_code == 5
    closing = tested.output.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, \d+ failed", closing)
    failed = set(re.findall(r"^FAIL (\S+?):", tested.output, re.M))
    near = {str(p) for p in sorted((new_kb / "tests").glob("*.yaml"))
            if NEAR_THRESHOLD.search(p.read_text(encoding="utf-8"))}
    assert failed and failed <= near
    assert closing.endswith(f", {len(failed)} failed")
    assert "instability.ruled_out" in tested.output  # the rule behind each new denial

    # 2. warrant diff: which tests and corpus cases flip, and which change is responsible.
    sample = _corpus_sample()
    diffed = run_cli("diff", "--base", str(ROOT / "kb"), "--head", str(new_kb), str(ROOT / "kb" / "tests"), *sample)
    assert diffed.exit_code == 0, diffed.output
    out = diffed.output
    assert "fact  threshold(translation_mm, 3) -> threshold(translation_mm, 4)" in out
    for path in failed:
        assert str(ROOT / "kb" / "tests" / Path(path).name) in out
    assert any(s in out for s in sample), "some corpus case near the threshold should flip"
    assert "because: fact threshold(translation_mm, 3) -> threshold(translation_mm, 4)" in out
    assert "rules only in base: verdict.met [reason], instability.translation" in out
    assert "instability.ruled_out [reason]" in out
    summary = out.split("flips by responsible change:")[1].splitlines()
    top = summary[1].split()
    assert top[1:] == ["fact", "threshold(translation_mm,", "3)", "->", "threshold(translation_mm,", "4)"] + top[7:]
    assert int(top[0]) >= len(failed)
