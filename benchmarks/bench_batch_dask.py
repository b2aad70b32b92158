"""CPU per case of batch workers: the local pool (`--jobs N`) against dask.distributed workers
(`--scheduler`), on the same cases in one run.

    python benchmarks/bench_batch_dask.py CASES.jsonl [--count 600] [--workers 2] [--repeat 2]

CASES is a JSON Lines stream (bench_batch.py leaves one in its work directory: `cases-N-SEED.jsonl`).
Both runs go through `engine.batch.runner.run_batch` in this process, full decisions under
`reference@1.0`. CPU is the user + system time of the worker processes alone, from psutil:
local pool workers are sampled every 50 ms while they live (they exit when the pool closes,
idle by then); dask workers (a LocalCluster, one thread each, started before the timed run,
so the run includes each worker's kb load as the pool's does) are read before and after. The
parent process reads input and writes output in both cases and is left out. The dask run is
made twice: workers as `dask worker` starts them, and workers started as the README recommends
for Warrant (`DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False`: dask's statistical profiler
samples every thread's stack 100 times a second, CPU that grows with wall time, not with cases).
All outputs are checked to be the same bytes.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class ChildCPU:
    """The CPU time of every descendant of this process (but the ones named in `skip`), sampled."""

    def __init__(self, skip: set[int], interval: float = 0.05) -> None:
        import psutil

        self.me = psutil.Process()
        self.skip = skip
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.interval = interval
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            for child in self.me.children(recursive=True):
                if child.pid in self.skip:
                    continue
                try:
                    t = child.cpu_times()
                    self.seen[child.pid] = t.user + t.system
                except psutil.Error:
                    pass
            self.stop.wait(self.interval)

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        return sum(self.seen.values())


def local_run(items: Path, jobs: int) -> tuple[float, float, bytes]:
    from engine.batch.runner import BatchOptions, run_batch

    before = _children()
    meter = ChildCPU(skip=before)
    out = io.BytesIO()
    start = time.perf_counter()
    run_batch([items], out, BatchOptions(jobs=jobs, policy="reference@1.0"))
    wall = time.perf_counter() - start
    return meter.close(), wall, out.getvalue()


def dask_run(items: Path, client, address: str) -> tuple[float, float, bytes]:
    import psutil

    from engine.batch.runner import BatchOptions, run_batch

    pids = list(client.run(os.getpid).values())
    procs = [psutil.Process(pid) for pid in pids]

    def cpu() -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in procs)

    before = cpu()
    out = io.BytesIO()
    start = time.perf_counter()
    run_batch([items], out, BatchOptions(scheduler=address, policy="reference@1.0"))
    wall = time.perf_counter() - start
    return cpu() - before, wall, out.getvalue()


def _children() -> set[int]:
    import psutil

    return {c.pid for c in psutil.Process().children(recursive=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("WARRANT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "warrant-bench-dask-kb"))
    from distributed import Client, LocalCluster

    from engine.knowledge.base import KnowledgeBase

    KnowledgeBase.load(None)  # fill the kb cache once
    work = Path(tempfile.mkdtemp(prefix="warrant-bench-dask-"))
    items = work / "cases.jsonl"
    with args.cases.open(encoding="utf-8") as src:
        items.write_text("".join(line for _, line in zip(range(args.count), src)), encoding="utf-8")
    count = sum(1 for _ in items.open(encoding="utf-8"))
    load = os.getloadavg()
    print(f"{count} cases, {args.workers} workers each; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    import dask

    results: dict[str, list[tuple[float, float]]] = {"local": [], "dask": [], "dask-noprofile": []}
    outputs = set()
    for _ in range(args.repeat):  # interleaved; a fresh pool and a fresh cluster each time
        cpu, wall, out = local_run(items, args.workers)
        results["local"].append((cpu, wall))
        outputs.add(out)
        for kind, profile in (("dask", True), ("dask-noprofile", False)):
            with dask.config.set({"distributed.worker.profile.enabled": profile}), \
                    LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                 worker_dashboard_address=None) as cluster, Client(cluster) as client:
                cpu, wall, out = dask_run(items, client, cluster.scheduler_address)
            results[kind].append((cpu, wall))
            outputs.add(out)
    per_case = {}
    for kind, runs in results.items():
        per_case[kind] = statistics.median(cpu for cpu, _ in runs) / count * 1000
        print(f"{kind:14s}: worker CPU per case median {per_case[kind]:6.2f} ms  "
              f"(runs: {', '.join(f'{cpu:.1f} s CPU / {wall:.1f} s wall' for cpu, wall in runs)})")
    for kind in ("dask", "dask-noprofile"):
        print(f"{kind} / local worker CPU per case: {per_case[kind] / per_case['local']:.2f}x  (target within 1.10x)")
    print(f"outputs identical: {len(outputs) == 1}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
