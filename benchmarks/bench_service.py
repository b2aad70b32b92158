"""`warrant serve` under load and under faults, on loopback only, bounded in count and time.

    python benchmarks/bench_service.py [--requests 3000] [--seconds 60] [--clients 4] [--workers 2]
                                       [--skip-pg]

1. Reference: the same cases decided in this process, one thread, no HTTP, no database
   (what one core does alone); then one worker and one client over the same cases, which
   gives what HTTP, storing and auditing add to each decision.
2. Load (SQLite, the default store): `warrant serve --workers 2` on 127.0.0.1; --clients
   keep-alive connections post the 300 corpus cases (kb/corpus) in turn until --requests have
   been sent or --seconds have passed. Prints decisions/s, p50/p99 latency, errors, and checks
   that the stored rows equal the decisions acknowledged (201).
3. Worker killed mid-run: the same load, and one uvicorn worker process is killed (SIGKILL)
   halfway. Every acknowledged decision must be in the store, every stored decision must have
   its lines (no half-written record); requests cut off by the kill are counted as errors.
4. Database outage (PostgreSQL in a temporary directory, skipped when it is not installed or
   with --skip-pg): load against PostgreSQL, the server is stopped for 3 s and started again;
   the service answers 503 meanwhile and 201 again afterwards without a restart.

Targets (issue 14): >= 100 decisions/s with 2 workers on 2 cores, p99 <= 250 ms, 0 errors,
stored rows = requests acknowledged. The machine is shared: compare with the reference line.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "service"))


def warrant() -> str:
    return shutil.which("warrant") or str(Path(sys.executable).with_name("warrant"))


def cases() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "kb" / "corpus").glob("*.yaml"))]


def reference_rate(bodies: list[bytes], seconds: float = 10.0) -> tuple[float, float]:
    """Decisions per second in this process, one thread, no HTTP and no database; and the CPU
    milliseconds each took (which other work on the machine does not inflate as much)."""
    from engine.knowledge.base import KnowledgeBase
    from engine.service.deciding import decide_text

    kb = KnowledgeBase.load(None)
    decide_text(kb, bodies[0].decode(), "warm.yaml")
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds and done < 3 * len(bodies):
        decide_text(kb, bodies[done % len(bodies)].decode(), "case.yaml")
        done += 1
    return done / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / done


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, db: str, workers: int, port: int, log: Path) -> None:
        self.port = port
        self.log = log.open("w")
        self.proc = subprocess.Popen([warrant(), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db,
                                      "--workers", str(workers)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"warrant serve exited; see {log}")
            try:
                # one worker runs inside the serve process; more are spawned children
                if self.get("/healthz")[0] == 200 and (workers == 1 or len(self.workers()) >= workers):
                    time.sleep(1.0)  # let every worker finish warming its decision thread
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"warrant serve did not come up; see {log}")

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()

    def workers(self) -> list[int]:
        """The uvicorn worker processes (children of the serve process)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) != self.proc.pid:
                    continue
                try:  # uvicorn's workers are multiprocessing spawns; skip the resource tracker
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if b"spawn_main" in command:
                    found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Load:
    """--clients threads, each with its own keep-alive connection, until count or time runs out."""

    def __init__(self, port: int, bodies: list[bytes], total: int, seconds: float, clients: int) -> None:
        self.port, self.bodies, self.total, self.seconds, self.clients = port, bodies, total, seconds, clients
        self.lock = threading.Lock()
        self.sent = 0
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.acknowledged: list[str] = []
        self.timeline: list[tuple[float, int]] = []

    def _next(self) -> int | None:
        with self.lock:
            if self.sent >= self.total or time.perf_counter() - self.start > self.seconds:
                return None
            self.sent += 1
            return self.sent - 1

    def _client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while (n := self._next()) is not None:
            body = self.bodies[n % len(self.bodies)]
            began = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/decisions", body=body, headers={"Content-Type": "application/yaml"})
                reply = conn.getresponse()
                data = reply.read()
                status = str(reply.status)
            except (OSError, http.client.HTTPException) as exc:
                status, data = type(exc).__name__, b""
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            took = time.perf_counter() - began
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.timeline.append((began - self.start, int(status) if status.isdigit() else 0))
                if status == "201":
                    self.latencies.append(took)
                    self.acknowledged.append(json.loads(data)["id"])
        conn.close()

    def run(self) -> "Load":
        self.start = time.perf_counter()
        threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.perf_counter() - self.start
        return self

    def figures(self) -> dict:
        ok = sorted(self.latencies)
        pick = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))] * 1000 if ok else float("nan")  # noqa: E731
        return {"sent": self.sent, "acknowledged": len(self.acknowledged), "rate": len(ok) / self.elapsed,
                "p50_ms": pick(0.50), "p99_ms": pick(0.99), "errors": self.sent - len(ok),
                "statuses": dict(sorted(self.statuses.items())), "seconds": self.elapsed}


def check_store(url: str, acknowledged: list[str]) -> dict:
    from sqlalchemy import exists, func, select

    from engine.service.store import Store
    from engine.service.store.tables import decision_lines, decisions

    store = Store(url, migrate=False)
    with store.engine.connect() as conn:
        ids = {r[0] for r in conn.execute(select(decisions.c.id))}
        orphans = conn.execute(select(func.count()).select_from(decisions).where(
            ~exists().where(decision_lines.c.decision_seq == decisions.c.seq))).scalar_one()
    store.close()
    return {"stored": len(ids), "acknowledged_missing": len(set(acknowledged) - ids), "without_lines": orphans}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def phase_overhead(bodies, work: Path) -> dict:
    """One worker, one client, one pass over the cases: the mean time a request takes on the
    wire, to compare with the mean in-process decision of the same cases."""
    url = f"sqlite:///{work / 'overhead.db'}"
    server = Server(url, 1, free_port(), work / "serve-overhead.log")
    try:
        before = cpu_seconds([server.proc.pid])
        load = Load(server.port, bodies, len(bodies), 120.0, 1).run()
        cpu_ms = (cpu_seconds([server.proc.pid]) - before) * 1000 / max(1, len(load.acknowledged))
    finally:
        server.stop()
    return {"mean_ms": statistics.mean(load.latencies) * 1000, "cpu_ms": cpu_ms, **load.figures()}


def phase_load(args, bodies, work: Path) -> dict:
    url = f"sqlite:///{work / 'load.db'}"
    server = Server(url, args.workers, free_port(), work / "serve-load.log")
    try:
        pids = [server.proc.pid, *server.workers()]
        before = cpu_seconds(pids)
        load = Load(server.port, bodies, args.requests, args.seconds, args.clients).run()
        cpu_ms = (cpu_seconds(pids) - before) * 1000 / max(1, len(load.acknowledged))
    finally:
        server.stop()
    return {**load.figures(), **check_store(url, load.acknowledged), "cpu_ms": cpu_ms}


def phase_kill(args, bodies, work: Path) -> dict:
    url = f"sqlite:///{work / 'kill.db'}"
    server = Server(url, args.workers, free_port(), work / "serve-kill.log")
    load = Load(server.port, bodies, args.requests, args.seconds, args.clients)
    killed = []

    def killer() -> None:
        while load.sent < args.requests // 2 and time.perf_counter() - load.start < args.seconds / 2:
            time.sleep(0.05)
        victims = server.workers()
        if victims:
            os.kill(victims[0], signal.SIGKILL)
            killed.append(victims[0])

    try:
        load.start = time.perf_counter()
        thread = threading.Thread(target=killer)
        thread.start()
        load.run()
        thread.join()
        after = server.workers()
    finally:
        server.stop()
    return {**load.figures(), **check_store(url, load.acknowledged), "killed": killed, "workers_after": len(after)}


def phase_outage(args, bodies, work: Path) -> dict | str:
    import pg

    reason = pg.available()
    if reason:
        return f"skipped: {reason}"
    db = pg.PgServer().init()
    try:
        url = db.create_database("bench")
        server = Server(url, args.workers, free_port(), work / "serve-outage.log")
        load = Load(server.port, bodies, args.requests, min(args.seconds, 20), args.clients)
        events = []

        def outage() -> None:
            time.sleep(4)
            events.append(("stop", time.perf_counter() - load.start))
            db.stop("immediate")
            time.sleep(3)
            db.start()
            events.append(("start", time.perf_counter() - load.start))

        try:
            thread = threading.Thread(target=outage)
            load.start = time.perf_counter()
            thread.start()
            load.run()
            thread.join()
        finally:
            server.stop()
        restarted_at = events[-1][1]
        after = [s for t, s in load.timeline if t > restarted_at + 1.0]
        figures = load.figures()
        return {**figures, **check_store(url, load.acknowledged), "events": events,
                "503": figures["statuses"].get("503", 0),
                "201_after_restart": sum(1 for s in after if s == 201),
                "errors_after_restart": sum(1 for s in after if s != 201)}
    finally:
        db.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    bodies = cases()
    work = Path(tempfile.mkdtemp(prefix="warrant-bench-service-"))
    os.environ["WARRANT_DATA_DIR"] = str(work)
    print(f"load average before: {os.getloadavg()[0]:.2f}; {len(bodies)} corpus cases; work in {work}")
    ref, ref_cpu = reference_rate(bodies)
    print(f"reference: in-process decisions, 1 thread, no HTTP/DB: {ref:.0f} decisions/s "
          f"({1000 / ref:.1f} ms each, {ref_cpu:.1f} ms of CPU)")
    over = phase_overhead(bodies, work)
    print(f"one worker, one client: {over['mean_ms']:.1f} ms per request on the wire, {over['cpu_ms']:.1f} ms of "
          f"the server's CPU: HTTP + storing + audit add {over['cpu_ms'] - ref_cpu:.1f} ms of CPU to a decision "
          f"({over['cpu_ms'] / ref_cpu:.2f}x)")
    load = phase_load(args, bodies, work)
    print(f"\nload, SQLite, {args.workers} workers, {args.clients} clients: {load['rate']:.0f} decisions/s "
          f"({load['rate'] / ref:.2f}x the 1-thread reference), p50 {load['p50_ms']:.1f} ms, "
          f"p99 {load['p99_ms']:.1f} ms, errors {load['errors']}, sent {load['sent']}, "
          f"acknowledged {load['acknowledged']}, stored {load['stored']}, "
          f"acknowledged but missing {load['acknowledged_missing']}  [target: >=100/s, p99<=250 ms, 0 errors, "
          f"stored = acknowledged]")
    print(f"  CPU of the serve processes per decision: {load['cpu_ms']:.1f} ms ({load['cpu_ms'] / ref_cpu:.2f}x the "
          f"reference's {ref_cpu:.1f} ms): {args.workers} cores' worth of it is "
          f"{args.workers * 1000 / load['cpu_ms']:.0f} decisions/s when the workers have the cores to themselves")
    kill = phase_kill(args, bodies, work)
    print(f"\nworker killed mid-run (pid {kill['killed']}): sent {kill['sent']}, acknowledged {kill['acknowledged']}, "
          f"stored {kill['stored']}, acknowledged but missing {kill['acknowledged_missing']}, decisions without "
          f"lines {kill['without_lines']}, failed requests {kill['errors']} {kill['statuses']}, "
          f"workers after {kill['workers_after']}")
    if args.skip_pg:
        print("\ndatabase outage: skipped (--skip-pg)")
    else:
        out = phase_outage(args, bodies, work)
        if isinstance(out, str):
            print(f"\ndatabase outage: {out}")
        else:
            print(f"\ndatabase outage (PostgreSQL stopped {out['events'][0][1]:.1f}s..{out['events'][1][1]:.1f}s): "
                  f"503 answers {out['503']}, other failures {out['errors'] - out['503']}, "
                  f"201 after restart {out['201_after_restart']} (failures after restart "
                  f"{out['errors_after_restart']}), acknowledged {out['acknowledged']}, stored {out['stored']}, "
                  f"acknowledged but missing {out['acknowledged_missing']}, {out['statuses']}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
