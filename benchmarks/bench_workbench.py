"""Workbench speed: server time of the decision page and the dashboard over 10,000 stored decisions,
and `warrant summarize` over 10,000 decisions of batch output, each beside a reference measured in
the same run.

    python benchmarks/bench_workbench.py [--count 10000] [--repeat 15] [--against /work/main]

Each checkout's pages are served by a subprocess of its own code over its own store, filled the
same way; with `--against DIR` (another checkout, e.g. main) the two are timed in turns, a few
requests each, so that both see the same load on a shared machine, and printed side by side.

The 300 corpus cases are decided once and stored `--count` times in all (new ids, case ids and
receipt times spread over twelve months) straight through the store's own row functions, in
batches; the pages are then requested in process (Starlette's TestClient: the server's time,
without a network). Targets (issue 15): a decision page under 300 ms, the dashboard over 10,000
stored decisions under 1 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "--root" in sys.argv:     # measuring another checkout's code (see --against)
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))


def decide_corpus(kb) -> list[tuple[dict, dict, str]]:
    from engine.service.deciding import decide_text

    out = []
    for path in sorted((ROOT / "kb" / "corpus").glob("*.yaml")) + [ROOT / "kb" / "examples" / "reference-case.yaml"]:
        decided = decide_text(kb, path.read_text(encoding="utf-8"), str(path))
        out.append((decided.case, decided.decision, decided.outcome))
    return out


def fill_store(store, kb, decided, count: int) -> None:
    from engine.service.store.records import NewDecision

    insert = _inserter()

    start = dt.datetime(2026, 1, 1)
    batch = 500     # the store's own row functions, many decisions a transaction (Store.save is one each)
    for first in range(0, count, batch):
        with store.engine.begin() as conn:
            for n in range(first, min(first + batch, count)):
                case, decision, outcome = decided[n % len(decided)]
                decision = {**decision, "case_id": f"{decision['case_id']}-{n:05d}"}
                when = start + dt.timedelta(minutes=n * 52)   # ~12 months for 10,000
                new = NewDecision(id=uuid.uuid4().hex, channel="api", caller="bench", content_type="application/json",
                                  request_body=json.dumps(case).encode(), case=case, decision=decision,
                                  policy_id=str(kb.meta.get("name")), outcome=outcome, received_at=when,
                                  decided_at=when + dt.timedelta(milliseconds=40), levels=kb.levels)
                insert(conn, new)


def _inserter():
    """The store's own function that writes a decision's rows (or, in a checkout older than
    `insert_decision`, the row functions it used then)."""
    from engine.service.store import records

    if hasattr(records, "insert_decision"):
        return records.insert_decision
    from engine.service.store.tables import decision_lines, decisions, line_findings

    def insert(conn, new) -> None:
        seq = conn.execute(decisions.insert(), records.decision_row(new)).inserted_primary_key[0]
        conn.execute(decision_lines.insert(), records.line_rows(seq, new.decision))
        rows = records.finding_rows(seq, new.decision, new.levels)
        if rows:
            conn.execute(line_findings.insert(), rows)
    return insert


def timed(client, url: str, repeat: int) -> list[float]:
    client.get(url)   # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return times


DASHBOARD_FILTERS = (("one code", "code=22633"), ("one family", "family=fusion"),
                     ("one criterion undocumented", "criterion=instability&state=undocumented&blocked=1"),
                     ("one policy", "policy={policy}"), ("one month", "since=2026-03-01&until=2026-03-31"))


def prepare_pages(args, kb, decided, folder: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """Fill a store; its URL and the pages to time: [(name, path, target)]."""
    from engine.service.store import Search, Store

    url = f"sqlite:///{folder / 'bench.db'}"
    store = Store(url)
    t0 = time.perf_counter()
    fill_store(store, kb, decided, args.count)
    counts = store.counts()
    print(f"{ROOT}: stored {counts['decisions']} decisions ({counts['decision_lines']} lines, "
          f"{counts['line_findings']} line findings) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    newest = store.search(Search(limit=1))["items"][0]["id"]
    reference = next(i["id"] for i in store.search(Search(case_id="reference", limit=1))["items"])
    store.close()
    pages = [("reference: GET /healthz", "/healthz", ""),
             ("reference: GET /api/v1/metrics (counts over all decisions)", "/api/v1/metrics", ""),
             ("reference: GET /api/v1/decisions/{id} (the JSON record)", f"/api/v1/decisions/{newest}", ""),
             ("/ui/decisions/{id} (a decision page)", f"/ui/decisions/{newest}", "< 300 ms"),
             ("/ui/decisions/{id} (the reference case, 14 lines)", f"/ui/decisions/{reference}", "< 300 ms"),
             ("/ui/decisions (list, first page)", "/ui/decisions", ""),
             ("/ui/decisions?family=fusion (list, filtered)", "/ui/decisions?family=fusion", ""),
             (f"/ui/dashboard (all {args.count} decisions)", "/ui/dashboard", "< 1 s")]
    policy = str(kb.meta.get("name"))
    pages += [(f"/ui/dashboard, {name}", "/ui/dashboard?" + query.format(policy=policy), "< 1 s")
              for name, query in DASHBOARD_FILTERS]
    pages.append(("/ui/decisions/{id}/line (why, why not, sets, graph)",
                  f"/ui/decisions/{reference}/line?id=2:22633:L4-5", ""))
    return url, pages


def serve_pages(args, kb, decided) -> None:
    """Worker mode: fill a store, print the pages' names, then time the page each stdin line
    names ("INDEX REPEAT") and answer with the times as JSON, until stdin ends."""
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.config import ServiceConfig

    with tempfile.TemporaryDirectory(prefix="warrant-bench-") as folder:
        url, pages = prepare_pages(args, kb, decided, Path(folder))
        with TestClient(create_app(ServiceConfig(db_url=url))) as client:
            print(json.dumps([[name, target] for name, _path, target in pages]), flush=True)
            for line in sys.stdin:
                index, repeat = (int(x) for x in line.split())
                print(json.dumps(timed(client, pages[index][1], repeat)), flush=True)


class Worker:
    """A `serve_pages` subprocess running one checkout's code."""

    def __init__(self, root: Path, count: int) -> None:
        import subprocess

        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--root", str(root), "--serve-pages",
             "--count", str(count)], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def pages(self) -> list[list[str]]:
        return json.loads(self._line())

    def time(self, index: int, repeat: int) -> list[float]:
        self.process.stdin.write(f"{index} {repeat}\n")
        self.process.stdin.flush()
        return json.loads(self._line())

    def _line(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the benchmark worker for {self.root} stopped (its error is above)")
        return line

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def measure_pages(args) -> tuple[list[dict], list[dict] | None]:
    """Each page's times with this tree's code and, with `--against`, that checkout's, measured
    in turns (a few requests to one, then as many to the other, three times) so that both see
    the same machine load."""
    workers = [Worker(ROOT, args.count)] + ([Worker(Path(args.against).resolve(), args.count)] if args.against else [])
    names = [w.pages() for w in workers][0]
    results: list[list[dict]] = [[] for _ in workers]
    for index, (name, target) in enumerate(names):
        slow = name.startswith("/ui/decisions/{id}/line")
        rounds, each = (1, max(3, args.repeat // 3)) if slow else (3, max(1, args.repeat // 3))
        times: list[list[float]] = [[] for _ in workers]
        for _ in range(rounds):
            for n, worker in enumerate(workers):
                times[n] += worker.time(index, each)
        for n in range(len(workers)):
            results[n].append({"name": name, "target": target, "times": times[n]})
    for worker in workers:
        worker.close()
    return results[0], (results[1] if args.against else None)


def _figure(times: list[float] | None) -> str:
    if not times:
        return f"{'-':>22}"
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    return f"{statistics.median(times):8.1f} (p95 {p95:6.1f})"


def show_pages(ours: list[dict], theirs: list[dict] | None, against: str | None) -> None:
    """A table of median (p95) server times, the other checkout's beside this tree's."""
    print(f"server time in ms, in process, median (p95), {len(ours[0]['times'])} requests each:")
    other = {p["name"]: p["times"] for p in theirs or []}
    head = f"  {'page':<62} {'this tree':>22}"
    if theirs is not None:
        head += f" {against or 'other':>22}  speed-up"
    print(head + "   target")
    for page in ours:
        row = f"  {page['name']:<62} {_figure(page['times'])}"
        if theirs is not None:
            mine, before = statistics.median(page["times"]), other.get(page["name"])
            ratio = f"{statistics.median(before) / mine:6.1f}x" if before else "      "
            row += f" {_figure(before)}  {ratio}"
        print(row + f"   {page['target']}")


def bench_summarize(args, kb, decided, folder: Path) -> None:
    from engine.authoring.summary import summarize
    from engine.present.summary_html import summary_html

    path = folder / "results.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(args.count):
            out.write(json.dumps(decided[n % len(decided)][1], separators=(",", ":")) + "\n")
    size = path.stat().st_size / 1e6
    t0 = time.perf_counter()
    with path.open("rb") as handle:
        parsed = sum(1 for line in handle if json.loads(line))
    reference = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = summarize(kb, [str(path)], keep=50)
    figures = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = summary_html(result, kb)
    page = time.perf_counter() - t0
    print(f"warrant summarize over {parsed} decisions of batch output ({size:.0f} MB, streamed):")
    print(f"  reference: json.loads of every line        {reference:6.2f} s")
    print(f"  figures (rates, criteria, missing)          {figures:6.2f} s   ({figures / reference:.2f}x the reference)")
    print(f"  --format html ({len(html) / 1e3:.0f} kB page)                 {page:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", help="another checkout (e.g. /work/main) whose page times to print beside")
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--serve-pages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from engine.knowledge.base import KnowledgeBase

    kb = KnowledgeBase.load()
    t0 = time.perf_counter()
    decided = decide_corpus(kb)
    if args.serve_pages:
        serve_pages(args, kb, decided)
        return
    print(f"decided the {len(decided)} corpus cases in {time.perf_counter() - t0:.1f} s")
    ours, theirs = measure_pages(args)
    show_pages(ours, theirs, args.against)
    with tempfile.TemporaryDirectory(prefix="warrant-bench-") as folder:
        bench_summarize(args, kb, decided, Path(folder))


if __name__ == "__main__":
    main()
