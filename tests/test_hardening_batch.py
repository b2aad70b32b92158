"""Issue 17, items 5, 6, 8 and 9 (and batch's share of 7 and 10): one bad record never stops a
run, resume keys on input identity, workers die with their parent, link loops are skipped."""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.batch.runner import BatchOptions, run_batch

ROOT = Path(__file__).resolve().parent.parent
KB = str(ROOT / "kb")
CORPUS = sorted((ROOT / "kb" / "corpus").glob("case-*.yaml"))
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")


def _run(paths, **options) -> list[str]:
    out = io.BytesIO()
    run_batch([str(p) for p in paths], out, BatchOptions(kb_dir=KB, **options))
    return out.getvalue().decode("utf-8").splitlines()


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


# ------------------------------------------------------------------------------ item 5
def test_a_record_that_is_not_text_is_one_error_record_and_the_run_goes_on(tmp_path, run_cli):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in CORPUS[:6]:
        shutil.copy(path, folder / path.name)
    case = json.loads(json.dumps(_case(CORPUS[0])))
    bad = json.dumps({**case, "case_id": "PLACEHOLDER"}).replace("PLACEHOLDER", "x\\ud800")
    (folder / "stream.jsonl").write_text(json.dumps(case) + "\n" + bad + "\n" + json.dumps(case) + "\n")
    out = tmp_path / "out.jsonl"
    for extra in ([], ["--resume"]):
        result = run_cli("batch", str(folder), "-o", str(out), "--kb", KB, "-q", *extra)
        assert result.exit_code == 0, result.stderr
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(records) == 9
        errors = [r for r in records if "error" in r]
        assert len(errors) == 1 and errors[0]["source"].endswith("stream.jsonl:2")
        assert "surrogate" in errors[0]["error"]["messages"][0]


def _case(path: Path) -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ item 6
def _inputs_sharing_case_ids(tmp_path: Path) -> list[Path]:
    """Two folders and a stream, in which several inputs share one case id."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i, path in enumerate(CORPUS[:24]):
        case = _case(path)
        case["case_id"] = f"shared-{i % 5}"  # five ids over 24 files, 12 in each folder
        (a if i % 2 else b).joinpath(path.name).write_text(json.dumps(case), encoding="utf-8")
    stream = tmp_path / "s.jsonl"
    stream.write_text("".join(json.dumps({**_case(p), "case_id": "shared-0"}) + "\n" for p in CORPUS[24:36]),
                      encoding="utf-8")
    return [a, b, stream]


def test_resume_keys_on_the_input_not_the_case_id(tmp_path, run_cli):
    inputs = _inputs_sharing_case_ids(tmp_path)
    clean = _run(inputs)
    assert len(clean) == 36 and not any('"error"' in line for line in clean)
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", *map(str, inputs), "-o", str(out), "--kb", KB, "-q").exit_code == 0
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:7]) + lines[7][:25])  # killed while writing line 8
    result = run_cli("batch", *map(str, inputs), "-o", str(out), "--kb", KB, "--resume")
    assert result.exit_code == 0 and "7 already done" in result.stderr
    assert out.read_text(encoding="utf-8").splitlines() == clean


def test_an_edited_input_is_decided_again_on_resume(tmp_path, run_cli):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in CORPUS[:3]:
        shutil.copy(path, folder / path.name)
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", str(folder), "-o", str(out), "--kb", KB, "-q").exit_code == 0
    edited = folder / CORPUS[1].name
    edited.write_text(edited.read_text(encoding="utf-8").replace("case_id: ", "case_id: edited-", 1),
                      encoding="utf-8")
    result = run_cli("batch", str(folder), "-o", str(out), "--kb", KB, "--resume")
    assert result.exit_code == 0 and "2 already done" in result.stderr
    ids = [json.loads(line)["case_id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == 4 and ids[-1].startswith("edited-")


@linux_only
def test_kill_and_resume_at_random_points_gives_the_clean_run(tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    inputs = _inputs_sharing_case_ids(tmp_path)
    clean = _run(inputs)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "cli", "batch", *map(str, inputs), "-o", str(out), "--kb", KB, "-q",
               "--chunk-size", "2", "--jobs", str(rng.choice([1, 2]))]
    kills = 0
    for attempt in range(8):
        args = command + (["--resume"] if attempt else [])
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            process.wait(timeout=rng.uniform(0.6, 2.5))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the batch and every worker, mid-write or not
            process.wait()
            kills += 1
            continue
        assert process.returncode == 0, f"seed {seed}"
        break
    else:
        assert subprocess.run(command + ["--resume"], cwd=ROOT, capture_output=True).returncode == 0
    assert out.read_text(encoding="utf-8").splitlines() == clean, f"seed {seed}, {kills} kills"


# ------------------------------------------------------------------------------ item 8
def _children() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    return parents


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@linux_only
def test_workers_die_when_only_the_batch_parent_is_killed(tmp_path):
    stream = tmp_path / "many.jsonl"
    case = json.dumps(_case(CORPUS[0]))
    stream.write_text((case + "\n") * 3000, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "cli", "batch", str(stream), "-o", str(tmp_path / "o.jsonl"),
                                "--kb", KB, "-q", "--jobs", "2", "--chunk-size", "4"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 3:  # forkserver and two workers
            time.sleep(0.2)
            workers = _descendants(process.pid)
        assert len(workers) >= 2, "the workers did not start"
        os.kill(process.pid, signal.SIGKILL)  # the parent only
        process.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        for pid in _descendants(process.pid) | {process.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# ------------------------------------------------------------------------------ item 9, 7, 10
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_link_loops_in_an_input_folder_are_reported_and_skipped(tmp_path, run_cli):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(CORPUS[0], folder / "a.yaml")
    shutil.copy(CORPUS[1], folder / "sub" / "b.yaml")
    (folder / "sub" / "up").symlink_to(folder)  # a loop back to the top
    (folder / "self.yaml").symlink_to(folder / "self.yaml")  # a link to itself
    result = run_cli("batch", str(folder), "--kb", KB, "-q")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    decided = [r for r in records if "error" not in r]
    errors = [r["error"]["messages"][0] for r in records if "error" in r]
    assert len(decided) == 2 and len(errors) == 2
    assert any("loop" in message and "up" in message for message in errors)
    assert any("self.yaml" in message for message in errors)


@linux_only
def test_fifos_and_devices_among_batch_inputs_are_error_records_not_hangs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(CORPUS[0], folder / "a.yaml")
    os.mkfifo(folder / "b.yaml")
    os.mkfifo(folder / "c.jsonl")
    (folder / "d.yaml").symlink_to("/dev/zero")
    result = _cli("batch", str(folder), "--kb", KB, "-q", timeout=60)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4 and sum("error" in r for r in records) == 3


def test_batch_output_in_a_missing_folder_or_on_a_fifo_is_a_usage_error(tmp_path, run_cli):
    result = run_cli("batch", str(CORPUS[0]), "-o", str(tmp_path / "missing" / "dir" / "out.jsonl"), "--kb", KB)
    assert result.exit_code == 2 and "cannot write" in result.stderr and result.stdout == ""
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.jsonl")
        result = run_cli("batch", str(CORPUS[0]), "-o", str(tmp_path / "pipe.jsonl"), "--kb", KB)
        assert result.exit_code == 2 and "FIFO" in result.stderr
