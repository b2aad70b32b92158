"""`warrant batch --verdicts-only`: each line is the full decision with the proof-made parts left
out (same keys, same order, same verdicts), error records unchanged, any number of jobs."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.batch.runner import BatchOptions, run_batch

ROOT = Path(__file__).resolve().parent.parent
KB = str(ROOT / "kb")
KEPT_LINE = ("code", "label", "level", "side", "verdict", "basis")
KEPT_ADMISSION = ("verdict", "basis", "requested_days", "supported_days")


def _cases() -> list[str]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    out = []
    for path in sorted((ROOT / "kb" / "tests").glob("*.yaml"))[:24]:
        case = yaml.load(path.read_text(encoding="utf-8")).get("case")
        if isinstance(case, dict):
            out.append(case)
    two = next(c for c in out if len(c.get("requests", [])) > 1)
    mixed = json.loads(json.dumps(two))  # stages decided by different policy versions
    mixed["case_id"] = "t-mixed-versions"
    for request, day in zip(mixed["requests"], ["2027-03-01", "2026-08-01"]):
        request["date_of_service"] = day
    return [json.dumps(c) for c in out + [mixed]]


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    lines = _cases() + ["{not json", "[1, 2]"]
    path = tmp_path_factory.mktemp("verdicts") / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _strip(decision: dict) -> dict:
    """What a verdict-only line keeps of a full decision."""
    if "error" in decision:
        return decision
    stages = []
    for stage in decision["stages"]:
        kept = {k: stage[k] for k in ("stage", "verdict", "policy") if k in stage}
        if "admission" in stage:
            kept["admission"] = {k: stage["admission"][k] for k in KEPT_ADMISSION}
        kept["lines"] = [{k: line[k] for k in KEPT_LINE} for line in stage["lines"]]
        stages.append(kept)
    return {"case_id": decision["case_id"], "knowledge_base": decision["knowledge_base"], "stages": stages}


def _run(stream: Path, **options) -> list[str]:
    out = io.BytesIO()
    run_batch([stream], out, BatchOptions(kb_dir=KB, **options))
    return out.getvalue().decode("utf-8").splitlines()


def test_verdicts_only_is_the_decision_without_its_proofs(stream):
    full = _run(stream)
    only = _run(stream, verdicts_only=True)
    assert len(full) == len(only)
    for whole, short in zip(full, only):
        assert short == json.dumps(_strip(json.loads(whole)), ensure_ascii=False, separators=(",", ":"))
    mixed = next(json.loads(line) for line in only if "t-mixed-versions" in line)
    assert len({stage["policy"]["version"] for stage in mixed["stages"]}) == 2
    assert sum('"error"' in line for line in only) == 2
    assert not any("reasons" in line or "documentation_requests" in line for line in only)


def test_verdicts_only_same_bytes_with_two_jobs_and_a_pinned_policy(stream):
    one = _run(stream, verdicts_only=True, policy="reference@1.0")
    assert _run(stream, verdicts_only=True, policy="reference@1.0", jobs=2, chunk_size=3) == one
    versions = {s["policy"]["version"] for line in one if "stages" in line for s in json.loads(line)["stages"]}
    assert versions == {"1.0"}


def test_verdicts_only_on_the_command_line(stream, tmp_path, run_cli):
    out = tmp_path / "v.jsonl"
    result = run_cli("batch", str(stream), "--verdicts-only", "-o", str(out), "--kb", KB, "-q")
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines() == _run(stream, verdicts_only=True)
    clash = run_cli("batch", str(stream), "--verdicts-only", "--explain", "--kb", KB)
    assert clash.exit_code == 2 and "--verdicts-only" in clash.output


def test_resume_keeps_one_shape(stream, tmp_path, run_cli):
    """A resumed run appends lines of the shape the output already holds, never the other."""
    out = tmp_path / "r.jsonl"
    assert run_cli("batch", str(stream), "--verdicts-only", "-o", str(out), "--kb", KB, "-q").exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    progress = tmp_path / "r.jsonl.progress"
    kept = progress.read_text(encoding="utf-8").splitlines()[:3]
    progress.write_text("".join(k + "\n" for k in kept), encoding="utf-8")  # as if killed after three inputs
    mixed = run_cli("batch", str(stream), "-o", str(out), "--kb", KB, "-q", "--resume")
    assert mixed.exit_code == 2 and "--verdicts-only" in mixed.output
    again = run_cli("batch", str(stream), "--verdicts-only", "-o", str(out), "--kb", KB, "-q", "--resume")
    assert again.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines() == lines
