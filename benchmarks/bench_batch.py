"""`warrant batch` throughput and memory on generated cases, with 1 and 2 jobs.

    python benchmarks/bench_batch.py [--count 10000] [--seed 1] [--repeat 3] [--work DIR]
    python benchmarks/bench_batch.py --count 1000 --busy 2 --jobs 1,2,auto --inputs jsonl

Generates the cases once (`warrant generate`, kept in --work for later runs), converts them into
one JSON Lines stream (the same cases, untimed), then times `warrant batch` as a whole process
over the stream and over the directory of YAML files, with --jobs 1 and --jobs 2, and prints
medians. Peak memory is the largest total resident size of the `warrant` process tree (sampled
with psutil when it is installed; otherwise the largest single process from getrusage). Flat
memory shows as the tree's resident size late in the run against early in the run.
Check `uptime` first: the figures mean something only on an otherwise idle machine.

`--busy N` makes the machine busy in a bounded way for every timed run: N processes that burn
one core each are started a second before the run and stopped after it (each also stops by
itself after --busy-seconds), so `--jobs auto` (which picks from the cores free at its start)
can be compared with `--jobs 1` and `--jobs 2` under the same load. Each run's summary line
says how many worker processes auto chose.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def warrant() -> str:
    return shutil.which("warrant") or str(Path(sys.executable).with_name("warrant"))


def generate(work: Path, count: int, seed: int) -> Path:
    folder = work / f"cases-{count}-{seed}"
    if not folder.is_dir() or len(list(folder.glob("*.yaml"))) != count:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {count} cases into {folder} ...", file=sys.stderr)
        subprocess.run([warrant(), "generate", "--count", str(count), "--seed", str(seed), "-o", str(folder)],
                       check=True)
    return folder


def to_jsonl(folder: Path) -> Path:
    """The same cases as one stream: each file read by Warrant's own case reader, as JSON."""
    from engine.cases.source import parse, read_text

    target = folder.with_suffix(".jsonl")
    if target.is_file():
        return target
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for path in sorted(folder.glob("*.yaml")):
            data = parse(str(path), read_text(str(path), None)).data
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
    os.replace(tmp, target)
    return target


class TreeMemory:
    """Samples the summed resident size of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        start = time.perf_counter()
        while not self.stop.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
                total = 0
                for proc in procs:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        pass
                self.samples.append((time.perf_counter() - start, total))
            except psutil.Error:
                break
            self.stop.wait(self.interval)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


BURN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


class Burners:
    """N processes burning one core each, for at most `seconds` (they stop by themselves)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-c", BURN.format(seconds=seconds)]) for _ in range(count)]
        if count:
            time.sleep(1.0)  # running before warrant starts

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait()


def run_once(cmd: list[str]) -> dict:
    try:
        import psutil  # noqa: F401
    except ImportError:
        psutil = None
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    meter = TreeMemory(proc.pid) if psutil else None
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    summary = err.decode("utf-8", "replace").strip().splitlines()
    result = {"wall": wall, "workers": summary[-1].rpartition(", ")[2].rstrip(")") if summary else "?"}
    if meter:
        meter.close()
        sizes = [s for _, s in meter.samples]
        result["peak_tree_mb"] = max(sizes) / 2**20 if sizes else float("nan")
        # resident size a quarter of the way in against the last quarter: growth means a leak
        n = len(sizes)
        if n >= 8:
            result["rss_q1_mb"] = statistics.median(sizes[n // 4: n // 2]) / 2**20  # 2nd quarter
            result["rss_q4_mb"] = statistics.median(sizes[3 * n // 4:]) / 2**20
    result["max_process_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", default="1,2", help="comma-separated job counts")
    parser.add_argument("--inputs", default="jsonl,yaml", help="comma-separated input kinds: jsonl, yaml (default: both)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "warrant-bench")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N core-burning processes running during every timed run")
    parser.add_argument("--busy-seconds", type=float, default=900.0, help="the most a burner runs")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WARRANT_CACHE_DIR", str(args.work / "kb-cache"))
    folder = generate(args.work, args.count, args.seed)
    stream = to_jsonl(folder)
    inputs = {"jsonl": stream, "yaml": folder}
    load = os.getloadavg()
    print(f"{args.count} cases; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{os.cpu_count()} CPUs")
    subprocess.run([warrant(), "check"], check=True, capture_output=True, cwd=ROOT)  # warm the kb cache
    outputs: dict[tuple[str, str], bytes] = {}
    configs = [(kind, jobs) for kind in args.inputs.split(",") for jobs in args.jobs.split(",")]
    results: dict[tuple[str, str], list[dict]] = {c: [] for c in configs}
    loads = []
    for _ in range(args.repeat):  # interleaved, so a change in machine load touches every configuration
        for kind, jobs in configs:
            out = args.work / f"out-{kind}-{jobs}.jsonl"
            cmd = [warrant(), "batch", str(inputs[kind]), "--jobs", str(jobs), "-o", str(out)]
            burners = Burners(args.busy, args.busy_seconds)
            try:
                run = run_once(cmd)
            finally:
                burners.stop()
            run["load"] = os.getloadavg()[0]
            loads.append(run["load"])
            results[(kind, jobs)].append(run)
            outputs[(kind, jobs)] = out.read_bytes()
            print(f"  {kind:5s} --jobs {jobs}: {run['wall']:6.1f} s, {run['workers']} (1-min load after: {run['load']:.2f})",
                  file=sys.stderr, flush=True)
    rows = []
    for (kind, jobs), runs in results.items():
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        row = {"input": kind, "jobs": jobs, "median_s": med, "cases_per_s": args.count / med,
               "walls": walls, "peak_tree_mb": max(r.get("peak_tree_mb", 0) for r in runs),
               "rss_q1_mb": statistics.median(r.get("rss_q1_mb", 0) for r in runs),
               "rss_q4_mb": statistics.median(r.get("rss_q4_mb", 0) for r in runs),
               "max_process_mb": max(r["max_process_mb"] for r in runs)}
        rows.append(row)
        print(f"{kind:5s} --jobs {jobs:4s}: median {med:6.1f} s  {row['cases_per_s']:6.1f} cases/s  "
              f"(runs {', '.join(f'{w:.1f}' for w in walls)} s)  peak tree RSS {row['peak_tree_mb']:.0f} MB  "
              f"RSS 2nd/4th quarter {row['rss_q1_mb']:.0f}/{row['rss_q4_mb']:.0f} MB")
    for kind in args.inputs.split(","):
        same = {outputs[(k, j)] for k, j in outputs if k == kind}
        print(f"{kind}: outputs identical across jobs: {len(same) == 1}")
        lines = next(iter(same)).splitlines()
        errors = sum(1 for line in lines if line.startswith(b'{"source":'))
        print(f"{kind}: {len(lines)} lines, {errors} error records")
    by = {(r["input"], r["jobs"]): r for r in rows}
    busy = f" with {args.busy} burners" if args.busy else ""
    for kind in args.inputs.split(","):
        for jobs in args.jobs.split(","):
            if jobs != "1" and (kind, "1") in by:
                print(f"{kind}: throughput --jobs {jobs} / --jobs 1{busy}: "
                      f"{by[(kind, '1')]['median_s'] / by[(kind, jobs)]['median_s']:.2f}x"
                      + (f" (auto chose: {', '.join(r['workers'] for r in results[(kind, jobs)])})" if jobs == "auto" else ""))
    load = os.getloadavg()
    print(f"1-min load after each run: median {statistics.median(loads):.2f}, max {max(loads):.2f}; "
          f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    (args.work / "bench_batch.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
