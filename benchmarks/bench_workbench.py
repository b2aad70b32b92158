"""Workbench speed: server time of the decision page and the dashboard over 10,000 stored decisions,
and `warrant summarize` over 10,000 decisions of batch output, each beside a reference measured in
the same run.

    python benchmarks/bench_workbench.py [--count 10000] [--repeat 15]

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
sys.path.insert(0, str(ROOT))


def decide_corpus(kb) -> list[tuple[dict, dict, str]]:
    from engine.service.deciding import decide_text

    out = []
    for path in sorted((ROOT / "kb" / "corpus").glob("*.yaml")) + [ROOT / "kb" / "examples" / "reference-case.yaml"]:
        decided = decide_text(kb, path.read_text(encoding="utf-8"), str(path))
        out.append((decided.case, decided.decision, decided.outcome))
    return out


def fill_store(store, kb, decided, count: int) -> None:
    from engine.service.store.records import NewDecision, decision_row, finding_rows, line_rows
    from engine.service.store.tables import decision_lines, decisions, line_findings

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
                                  decided_at=when + dt.timedelta(milliseconds=40))
                seq = conn.execute(decisions.insert(), decision_row(new)).inserted_primary_key[0]
                conn.execute(decision_lines.insert(), line_rows(seq, decision))
                rows = finding_rows(seq, decision, kb.levels)
                if rows:
                    conn.execute(line_findings.insert(), rows)


def timed(client, url: str, repeat: int) -> list[float]:
    client.get(url)   # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return times


def show(name: str, times: list[float], target: str = "") -> None:
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    print(f"  {name:<58} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   {target}")


def bench_pages(args, kb, decided, folder: Path) -> None:
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.config import ServiceConfig
    from engine.service.store import Search, Store

    url = f"sqlite:///{folder / 'bench.db'}"
    store = Store(url)
    t0 = time.perf_counter()
    fill_store(store, kb, decided, args.count)
    print(f"stored {store.counts()['decisions']} decisions ({store.counts()['decision_lines']} lines, "
          f"{store.counts()['line_findings']} line findings) in {time.perf_counter() - t0:.1f} s")
    newest = store.search(Search(limit=1))["items"][0]["id"]
    reference = next(i["id"] for i in store.search(Search(case_id="reference", limit=1))["items"]) \
        if store.count(Search(case_id="reference")) else newest
    with TestClient(create_app(ServiceConfig(db_url=url))) as client:
        print(f"server time, in process, {args.repeat} requests each:")
        show("reference: GET /healthz", timed(client, "/healthz", args.repeat))
        show("reference: GET /api/v1/metrics (counts over all decisions)", timed(client, "/api/v1/metrics", args.repeat))
        show("reference: GET /api/v1/decisions/{id} (the JSON record)", timed(client, f"/api/v1/decisions/{newest}", args.repeat))
        show("/ui/decisions/{id} (a decision page)", timed(client, f"/ui/decisions/{newest}", args.repeat), "target < 300 ms")
        show("/ui/decisions/{id} (the reference case, 14 lines)", timed(client, f"/ui/decisions/{reference}", args.repeat),
             "target < 300 ms")
        show("/ui/decisions (list, first page, total count)", timed(client, "/ui/decisions", args.repeat))
        show(f"/ui/dashboard (all {args.count} decisions)", timed(client, "/ui/dashboard", args.repeat), "target < 1 s")
        for query in ("code=22633", "family=fusion", "criterion=instability&state=undocumented&blocked=1",
                      "since=2026-03-01&until=2026-03-31"):
            show(f"/ui/dashboard?{query}", timed(client, f"/ui/dashboard?{query}", args.repeat), "target < 1 s")
        line = "2:22633:L4-5" if reference != newest else None
        if line:
            show("/ui/decisions/{id}/line (why, why not, sets, graph)",
                 timed(client, f"/ui/decisions/{reference}/line?id={line}", max(3, args.repeat // 3)))
    store.close()


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
    args = parser.parse_args()
    from engine.knowledge.base import KnowledgeBase

    kb = KnowledgeBase.load()
    t0 = time.perf_counter()
    decided = decide_corpus(kb)
    print(f"decided the {len(decided)} corpus cases in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory(prefix="warrant-bench-") as folder:
        bench_pages(args, kb, decided, Path(folder))
        bench_summarize(args, kb, decided, Path(folder))


if __name__ == "__main__":
    main()
