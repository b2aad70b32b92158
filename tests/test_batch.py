"""`warrant batch` and engine.batch.runner: order, error records, resume, streams, bounded work in
flight, and the dask path on a LocalCluster."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.batch.items import identity
from engine.batch.resume import Done
from engine.batch.runner import BatchOptions, decide_partition, iter_items, read_done, run_batch
from engine.errors import RuleError, UsageError

ROOT = Path(__file__).resolve().parent.parent
KB = str(ROOT / "kb")
NAMES = ["fusion-met", "no-policy", "decompression-met", "si-joint-bilateral-met", "osteotomy-dependent",
         "conservative-red-flags", "exploration-unmet"]


def _case_texts() -> list[str]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    out = []
    for name in NAMES:
        case = yaml.load((ROOT / "kb" / "tests" / f"{name}.yaml").read_text(encoding="utf-8"))["case"]
        out.append(json.dumps(case))
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _case_texts()


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory, texts) -> Path:
    """Seven good cases with three bad lines among them (unknown key, not JSON, not an object)."""
    bad_case = json.loads(texts[0])
    bad_case.update(case_id="t-bad-key", bogus_key=1)
    lines = texts[:2] + [json.dumps(bad_case), "{not json", ""] + texts[2:5] + ["[1, 2]"] + texts[5:]
    path = tmp_path_factory.mktemp("batch") / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def expected(jsonl) -> list[str]:
    """The reference output: every item decided one by one in this process."""
    out = io.BytesIO()
    run_batch([jsonl], out, BatchOptions(kb_dir=KB))
    return out.getvalue().decode("utf-8").splitlines()


def _ids(lines: list[str]) -> list[str | None]:
    return [json.loads(line)["case_id"] for line in lines]


def test_each_item_gives_one_line_in_input_order_with_error_records(expected, texts):
    ids = [json.loads(t)["case_id"] for t in texts]
    assert _ids(expected) == ids[:2] + ["t-bad-key", None] + ids[2:5] + [None] + ids[5:]
    errors = [json.loads(line) for line in expected if json.loads(line).get("error")]
    assert [(e["source"].rsplit(":", 1)[1], e["error"]["code"]) for e in errors] == [
        ("3", "invalid_case"), ("4", "invalid_case"), ("9", "invalid_case")]
    assert list(errors[0]) == ["source", "case_id", "error"]
    unknown, not_json, not_object = (e["error"]["messages"] for e in errors)
    assert len(unknown) == 1 and "bogus_key" in unknown[0] and unknown[0].startswith(errors[0]["source"] + ":")
    assert "not valid JSON" in not_json[0] and "one case object" in not_object[0]
    first = json.loads(expected[0])
    assert list(first) == ["case_id", "knowledge_base", "stages", "documentation_requests", "citations"]
    assert "explanation" not in first["stages"][0]["lines"][0]


def test_the_same_bytes_as_decide_and_whatever_the_jobs(jsonl, expected, texts, tmp_path, run_cli):
    from engine.decide.decision import decide
    from engine.knowledge.base import KnowledgeBase
    from engine.inputs import open_session

    kb = KnowledgeBase.load(KB)
    alone = decide(open_session(kb, "one.json", text=texts[0]))
    assert json.loads(expected[0]) == alone
    out = tmp_path / "two.jsonl"
    result = run_cli("batch", str(jsonl), "--jobs", "2", "--chunk-size", "1", "-o", str(out), "--kb", KB)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert "10 cases: 7 decided, 3 error records" in result.stderr


def test_stdin_and_directories(jsonl, expected, texts, tmp_path, run_cli):
    result = run_cli("batch", "-", "--quiet", "--kb", KB, input=jsonl.read_text(encoding="utf-8"))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [line.replace(str(jsonl), "<stdin>") for line in expected]
    assert result.stderr == ""
    folder = tmp_path / "cases"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.json").write_text(texts[1], encoding="utf-8")
    (folder / "a.yaml").write_text(texts[0], encoding="utf-8")
    (folder / "sub" / "c.jsonl").write_text(texts[2] + "\n", encoding="utf-8")
    (folder / "sub" / "d.yml").write_text("format: warrant-case/1\ncase_id: t-d\nrequests: 7\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a case", encoding="utf-8")
    (folder / ".hidden.json").write_text("{}", encoding="utf-8")
    result = run_cli("batch", str(folder), "--kb", KB, "-q")
    lines = result.stdout.splitlines()
    assert _ids(lines) == [json.loads(t)["case_id"] for t in texts[:3]] + ["t-d"]
    error = json.loads(lines[3])
    assert error["source"] == str(folder / "sub" / "d.yml") and error["error"]["code"] == "invalid_case"
    assert error["error"]["messages"][0].startswith(f"{folder / 'sub' / 'd.yml'}:3:")


def test_an_unexpected_failure_is_a_record_and_the_run_goes_on(jsonl, monkeypatch):
    import engine.decide.decision

    real = engine.decide.decision.decide

    def flaky(session, **kw):
        if session.case_id == "t-no-policy":
            raise ZeroDivisionError("boom")
        return real(session, **kw)

    monkeypatch.setattr(engine.decide.decision, "decide", flaky)
    out = io.BytesIO()
    stats = run_batch([jsonl], out, BatchOptions(kb_dir=KB))
    records = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    failed = [r for r in records if r.get("error", {}).get("code") == "internal"]
    assert failed == [{"source": f"{jsonl}:2", "case_id": "t-no-policy",
                       "error": {"code": "internal", "messages": ["ZeroDivisionError: boom"]}}]
    assert (stats.cases, stats.decided, stats.errors) == (10, 6, 4)


def test_resume_skips_what_is_written_and_drops_a_cut_line(jsonl, expected, tmp_path, run_cli):
    out = tmp_path / "results.jsonl"
    assert run_cli("batch", str(jsonl), "-o", str(out), "--kb", KB, "-q").exit_code == 0
    assert (tmp_path / "results.jsonl.progress").is_file()
    partial = "\n".join(expected[:5]) + "\n" + expected[5][: len(expected[5]) // 2]
    out.write_text(partial, encoding="utf-8")  # as a run killed while writing line 6 leaves it
    result = run_cli("batch", str(jsonl), "-o", str(out), "--resume", "--kb", KB, "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert "5 already done" in result.stderr
    again = run_cli("batch", str(jsonl), "-o", str(out), "--resume", "--kb", KB)
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert "0 decided, 0 error records, 10 already done" in again.stderr


def test_resume_refuses_another_kb_and_needs_an_output(jsonl, expected, tmp_path, run_cli):
    out = tmp_path / "other.jsonl"
    assert run_cli("batch", str(jsonl), "-o", str(out), "--kb", KB, "-q").exit_code == 0
    other = out.read_text(encoding="utf-8").replace('"digest":"sha256:', '"digest":"sha256:00')
    out.write_text(other, encoding="utf-8")
    result = run_cli("batch", str(jsonl), "-o", str(out), "--resume", "--kb", KB)
    assert result.exit_code == 2 and "another knowledge base" in result.stderr
    orphan = tmp_path / "orphan.jsonl"  # an output without its progress journal
    orphan.write_text(expected[0] + "\n", encoding="utf-8")
    result = run_cli("batch", str(jsonl), "-o", str(orphan), "--resume", "--kb", KB)
    assert result.exit_code == 2 and "orphan.jsonl.progress" in result.stderr
    assert run_cli("batch", str(jsonl), "--resume").exit_code == 2
    assert run_cli("batch", str(tmp_path / "missing.jsonl")).exit_code == 2


def test_read_done_keeps_only_inputs_whose_lines_are_whole(jsonl, tmp_path, run_cli):
    out = tmp_path / "r.jsonl"
    assert run_cli("batch", str(jsonl), "-o", str(out), "--kb", KB, "-q").exit_code == 0
    done, end, _ = read_done(out)
    assert end == out.stat().st_size and done.lines == 10 and len(done.digests) == 1
    assert (f"{jsonl}:1", identity(next(iter_items([jsonl])))[1]) in done.inputs
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:3]) + lines[3][:10])
    done, end, _ = read_done(out)
    assert done.lines == 3 and end == len(b"".join(lines[:3]))


class _Watched:
    """Counts the items the batch has pulled from its input, and what it had pulled whenever
    it wrote output: the gap is the work in flight."""

    def __init__(self, items):
        self.items = items
        self.pulled = 0
        self.gaps: list[int] = []
        self.written = 0

    def __iter__(self):
        for item in self.items:
            self.pulled += 1
            yield item

    def write(self, data: bytes) -> None:
        self.written += data.count(b"\n")
        self.gaps.append(self.pulled - self.written)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("jobs", [1, 2])
def test_work_in_flight_is_bounded(texts, jobs):
    items = [("<mem>", texts[i % len(texts)], i + 1, None) for i in range(40)]
    watched = _Watched(items)
    stats = run_batch([], watched, BatchOptions(kb_dir=KB, jobs=jobs, chunk_size=2, in_flight=3),
                      items=iter(watched))
    assert stats.cases == 40 and watched.written == 40
    assert stats.max_in_flight == 3
    # never more than the chunks in flight (3 x 2) plus the chunk being cut ahead of output
    assert max(watched.gaps) <= 3 * 2 + 2


def test_completion_order_gives_the_same_lines(jsonl, expected):
    out = io.BytesIO()
    run_batch([jsonl], out, BatchOptions(kb_dir=KB, jobs=2, chunk_size=1, order="completion"))
    assert sorted(out.getvalue().decode().splitlines()) == sorted(expected)


def test_explain_adds_proofs(texts):
    plain, explained = (json.loads(decide_partition(KB, [("x.jsonl", texts[0], 1, None)], explain=e)[0])
                        for e in (False, True))
    for line in (ln for stage in explained["stages"] for ln in stage["lines"]):
        assert line.pop("explanation")["id"] == line["proof"]
    assert explained == plain


def test_a_worker_refuses_a_kb_with_another_digest(texts):
    with pytest.raises(RuleError, match="digest"):
        decide_partition(KB, [("x.jsonl", texts[0], 1, None)], digest="sha256:" + "0" * 64)


def test_items_are_read_lazily(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n\xff\n')
    items = list(iter_items([path]))
    assert items[0] == (str(path), '{"a": 1}', 1, None)
    assert items[1][2] == 3 and "not UTF-8" in items[1][3]


def test_text_meter_shows_rate_and_eta():
    now = [0.0]
    stream = io.StringIO()
    from engine.cmd.progress import _TextMeter

    meter = _TextMeter(100, stream, clock=lambda: now[0])
    now[0] = 2.0
    meter.update(50)
    meter.close()
    assert "50/100 cases (50%)  25 cases/s  ETA 00:02" in stream.getvalue()


def test_dask_local_cluster(jsonl, expected, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        out = io.BytesIO()
        stats = run_batch([jsonl], out, BatchOptions(kb_dir=KB, chunk_size=2,
                                                     scheduler=cluster.scheduler_address))
        assert out.getvalue().decode().splitlines() == expected
        assert stats.decided == 7 and stats.errors == 3
        # resume through the cluster: inputs already done are not sent
        done = Done(inputs={identity(item) for item in list(iter_items([jsonl]))[:6]})
        out = io.BytesIO()
        stats = run_batch([jsonl], out, BatchOptions(kb_dir=KB, chunk_size=3, scheduler=cluster.scheduler_address),
                          done=done)
        assert out.getvalue().decode().splitlines() == expected[6:]
        assert stats.skipped == 6
        # case files are read here and travel with the tasks
        folder = tmp_path / "files"
        folder.mkdir()
        (folder / "a.json").write_text(jsonl.read_text(encoding="utf-8").splitlines()[0], encoding="utf-8")
        (folder / "b.yaml").write_bytes(b"format: warrant-case/1\ncase_id: t-\xff\n")
        out = io.BytesIO()
        run_batch([folder], out, BatchOptions(kb_dir=KB, scheduler=cluster.scheduler_address))
        first, second = out.getvalue().decode().splitlines()
        assert json.loads(first) == json.loads(expected[0])
        assert "not UTF-8" in json.loads(second)["error"]["messages"][0]


def test_dask_missing_is_a_usage_error(monkeypatch, jsonl):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(UsageError, match="dask"):
        run_batch([jsonl], io.BytesIO(), BatchOptions(kb_dir=KB, scheduler="tcp://127.0.0.1:1"))


@pytest.mark.parametrize("usable, load, jobs", [(2, 0.1, 2), (2, 0.9, 1), (2, 1.7, 1), (8, 3.2, 5), (4, 9.0, 1)])
def test_jobs_auto_counts_the_cores_the_load_leaves_free(monkeypatch, usable, load, jobs):
    import os

    from engine.batch import cores, runner

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(usable)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(cores, "_cgroup_quota", lambda: None)
    monkeypatch.setattr(cores, "_idle_cores", lambda usable: None)  # no /proc/stat: the load average decides
    assert runner.auto_jobs() == jobs


@pytest.mark.parametrize("usable, load, idle, quota, jobs", [
    (2, 0.0, 0.3, None, 1),   # a burst the load average has not seen yet
    (2, 0.0, 1.9, None, 2),
    (2, 1.8, 2.0, None, 1),   # idle this instant, busy for the last minute
    (8, 0.0, 8.0, 2.5, 3),    # a cgroup quota of 2.5 cores
    (4, 0.0, 0.0, None, 1),
])
def test_jobs_auto_counts_the_cores_idle_now(monkeypatch, usable, load, idle, quota, jobs):
    import os

    from engine.batch import cores

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(usable)), raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(cores, "_cgroup_quota", lambda: quota)
    monkeypatch.setattr(cores, "_idle_cores", lambda usable: idle)
    assert cores.auto_jobs() == jobs


def test_idle_cores_reads_proc_stat_per_usable_core(monkeypatch):
    from engine.batch import cores

    real = cores._cpu_times()  # this machine's (empty where there is no /proc/stat)
    assert not real or set(real) >= set(cores._usable_cores())
    samples = iter([{0: (100, 1000), 1: (100, 1000), 2: (0, 0)}, {0: (190, 1100), 1: (110, 1100), 2: (0, 0)}])
    monkeypatch.setattr(cores, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(cores.time, "sleep", lambda seconds: None)
    assert cores._idle_cores([0, 1]) == pytest.approx(1.0)


def test_jobs_auto_gives_the_same_bytes(jsonl, expected, tmp_path, run_cli):
    out = tmp_path / "auto.jsonl"
    run_cli("batch", str(jsonl), "--jobs", "auto", "-o", str(out), "--kb", KB, "-q")
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert run_cli("batch", str(jsonl), "--jobs", "many", "--kb", KB).exit_code == 2


def test_a_dask_partition_settles_its_kb_once(texts, monkeypatch):
    """Dask workers freeze the loaded kb out of the collector's way, as local workers do."""
    from engine.batch import runner

    settled = []
    monkeypatch.setattr(runner, "_settle", settled.append)
    monkeypatch.setattr(runner, "_SETTLED", set())
    items = [("a.yaml", texts[0], 1, None)]
    decide_partition(KB, items, settle=True)
    decide_partition(KB, items, settle=True)
    decide_partition(KB, items)
    assert len(settled) == 1
