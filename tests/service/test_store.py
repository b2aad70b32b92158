"""The decision store, the same tests on SQLite and on PostgreSQL: migrations, append-only
records, searches, metrics, audit events."""
from __future__ import annotations

import datetime as dt
import json

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from engine.service.store import AuditEntry, NewDecision, Search, StoreUnavailable  # noqa: E402


def _decision(kb, path):
    from engine.service.deciding import decide_text

    return decide_text(kb, path.read_text(encoding="utf-8"), str(path))


@pytest.fixture(scope="module")
def decided(kb):
    from conftest import FHIR, ROOT

    return {"reference": _decision(kb, ROOT / "kb" / "examples" / "reference-case.yaml"),
            "fusion": _decision(kb, FHIR / "fusion-met.yaml"),
            "si": _decision(kb, FHIR / "si-joint-bilateral-met.yaml")}


def _save(store, decided, ident, *, when=None, channel="api", key=None, policy="warrant-lumbar-surgery",
          levels=None):
    when = when or dt.datetime(2026, 3, 1, 12, 0, 0)
    new = NewDecision(id=ident, channel=channel, caller="tester", content_type="application/yaml",
                      request_body=f"body of {ident}".encode(), case=decided.case, decision=decided.decision,
                      policy_id=policy, outcome=decided.outcome, received_at=when,
                      decided_at=when + dt.timedelta(milliseconds=40), request_key=key, levels=levels)
    audit = AuditEntry(subtype="create", action="C", agent="tester", source="127.0.0.1", channel=channel,
                       http_status=201, entity=f"Decision/{ident}")
    return store.save(new, audit)


def test_migrations_reach_head_and_match_the_table_definitions(store):
    from sqlalchemy import inspect

    from engine.service.store.migrate import head
    from engine.service.store.tables import metadata

    assert store.schema_revision() == head()
    inspector = inspect(store.engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys())
    store.migrate()  # a second run changes nothing
    assert store.schema_revision() == head()


def test_a_decision_round_trips_whole(store, decided):
    _save(store, decided["reference"], "a" * 32)
    stored = store.get("a" * 32)
    assert stored.decision == decided["reference"].decision
    assert stored.case == json.loads(json.dumps(decided["reference"].case))
    assert stored.request_body == b"body of " + b"a" * 32
    import hashlib

    assert stored.request_sha256 == hashlib.sha256(stored.request_body).hexdigest()
    policy = decided["reference"].decision["stages"][0]["policy"]   # the policy version that decided
    assert stored.policy == {"id": "warrant-lumbar-surgery", "version": policy["version"], "digest": policy["digest"]}
    assert stored.outcome == "pended" and stored.channel == "api" and stored.caller == "tester"
    lines = store.lines("a" * 32)
    expected = [f"{s['stage']}:{ln['code']}:{ln['level'] or ln['side'] or '-'}"
                for s in decided["reference"].decision["stages"] for ln in s["lines"]]
    assert [r["line_id"] for r in lines if r["kind"] == "line"] == expected
    assert [r["line_id"] for r in lines if r["kind"] == "admission"] == ["1:admission:-", "2:admission:-"]
    assert store.get("b" * 32) is None


def test_records_are_append_only(store, decided):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _save(store, decided["fusion"], "c" * 32)
    for statement in ("UPDATE decisions SET outcome = 'denied'", "DELETE FROM decisions",
                      "UPDATE decision_lines SET verdict = 'x'", "DELETE FROM decision_lines",
                      "DELETE FROM audit_events", "UPDATE audit_events SET agent = 'x'",
                      "UPDATE decision_facts SET outcome = 'denied'", "DELETE FROM decision_facts",
                      "UPDATE line_findings SET state = 'met'", "DELETE FROM line_findings"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.engine.begin() as conn:
                conn.execute(text(statement))
    assert store.get("c" * 32).outcome == decided["fusion"].outcome


def test_a_failed_save_leaves_nothing_half_written(store, decided):
    from sqlalchemy.exc import IntegrityError

    _save(store, decided["fusion"], "d" * 32)
    with pytest.raises(IntegrityError):  # the same id again: the lines and audit row must not stay
        _save(store, decided["si"], "d" * 32)
    counts = store.counts()
    assert counts["decisions"] == 1 and counts["audit_events"] == 1
    assert counts["decision_lines"] == len(store.lines("d" * 32))


def test_search_filters_and_pages(store, decided):
    for i, name in enumerate(["reference", "fusion", "si", "fusion"]):
        _save(store, decided[name], f"{i:032d}", when=dt.datetime(2026, 1 + i, 5, 9, 0))
    every = store.search(Search(limit=10))["items"]
    assert [d["id"] for d in every] == [f"{i:032d}" for i in (3, 2, 1, 0)]  # newest first
    assert {d["id"] for d in store.search(Search(code="27280"))["items"]} == {f"{2:032d}", f"{0:032d}"}
    fused = store.search(Search(code="22633", verdict="medically_necessary"))["items"]
    assert {d["id"] for d in fused} == {f"{1:032d}", f"{3:032d}"}
    assert [d["id"] for d in store.search(Search(basis="levels_not_specified"))["items"]] == [f"{0:032d}"]
    assert store.search(Search(policy="warrant-lumbar-surgery@0.0.0"))["items"] == []
    assert len(store.search(Search(policy="warrant-lumbar-surgery"))["items"]) == 4
    assert len(store.search(Search(since=dt.datetime(2026, 3, 1)))["items"]) == 2
    first = store.search(Search(limit=3))
    second = store.search(Search(limit=3, cursor=int(first["next_cursor"])))
    assert [d["id"] for d in first["items"] + second["items"]] == [d["id"] for d in every]
    assert second["next_cursor"] is None


def test_metrics_count_outcomes_codes_policies_months_and_times(store, decided):
    for i, name in enumerate(["reference", "fusion", "si", "fusion"]):
        _save(store, decided[name], f"{i:032d}", when=dt.datetime(2026, 1 + i // 2, 5, 9, 0))
    m = store.metrics()
    outcomes = [decided[n].outcome for n in ["reference", "fusion", "si", "fusion"]]
    assert m["total"] == 4
    for outcome in ("approved", "denied", "pended", "partial"):
        assert m[outcome] == outcomes.count(outcome)
    assert m["by_code"]["22633"]["medically_necessary"] == 2
    # counted by the policy version that decided (the fusion case was received after reference 1.1 took effect)
    assert sum(v["total"] for v in m["by_policy"].values()) == 4
    assert m["by_policy"]["warrant-lumbar-surgery@" + decided["si"].decision["stages"][0]["policy"]["version"]]["total"] >= 1
    assert set(m["by_policy"]) == {"warrant-lumbar-surgery@1.0", "warrant-lumbar-surgery@1.1"}
    assert {k: v["total"] for k, v in m["by_month"].items()} == {"2026-01": 2, "2026-02": 2}
    timing = m["time_to_decision"]
    assert timing["median_ms"] == pytest.approx(40.0) and timing["mean_ms"] == pytest.approx(40.0)
    assert timing["within_72_hours"] == 1.0 and timing["within_7_days"] == 1.0
    window = store.metrics(since=dt.datetime(2026, 2, 1))
    assert window["total"] == 2
    assert store.metrics(since=dt.datetime(2030, 1, 1))["time_to_decision"]["median_ms"] is None


def _figures(store, kb, search):
    from engine.authoring.population import Population

    pop = Population(kb, keep=0)
    store.population(search, pop)
    return pop.result(top=50)


FIGURES = ("decisions", "lines", "admissions", "blocked_lines", "addon_lines", "outcomes", "by_code",
           "by_family", "unmet", "undocumented", "missing", "over_time")


@pytest.mark.parametrize("name, search", [
    ("everything", {}),
    ("one family: most decisions, counted by scanning", {"codes": ("22633", "22612")}),
    ("one case: few decisions, counted by looking them up", {"case_id": "reference"}),
    ("one criterion undocumented on a blocked line", {"criterion": "instability", "state": "undocumented",
                                                       "blocked": True}),
    ("a filter every decision passes", {"policy": "warrant-lumbar-surgery"}),
    ("nothing", {"case_id": "no such case"})])
def test_dashboard_counts_are_those_of_the_decisions_a_filter_selects(store, decided, kb, name, search):
    from engine.authoring.population import Population

    names = ["reference", "fusion", "si", "fusion", "si", "reference", "si", "si", "si", "si", "si"]
    for i, which in enumerate(names):
        _save(store, decided[which], f"{i:032d}", when=dt.datetime(2026, 1 + i % 3, 5, 9, 0), levels=kb.levels)
    search = Search(positive=kb.verdicts["positive"], limit=100, **search)
    chosen = [store.get(d["id"]) for d in store.search(search)["items"]]
    pop = Population(kb, keep=0)
    for stored in chosen:
        pop.add(stored.decision, when=stored.received_at.strftime("%Y-%m"))
    expected = pop.result(top=50)
    seen = _figures(store, kb, search)
    assert seen["decisions"] == len(chosen)
    for key in FIGURES:
        assert seen[key] == expected[key], (name, key)


def test_dashboard_counts_lines_by_the_policy_each_decision_was_stored_under(store, decided, kb):
    from collections import Counter

    from engine.authoring.population import population

    _save(store, decided["reference"], "1" * 32, policy="policy-a")
    _save(store, decided["fusion"], "2" * 32, policy="policy-b")
    _save(store, decided["si"], "3" * 32, policy="policy-b")
    # each decision is counted under its stored policy and the version that decided it (the fusion
    # case was received after reference 1.1 took effect, the others before)
    stored = {"1": ("policy-a", "reference"), "2": ("policy-b", "fusion"), "3": ("policy-b", "si")}
    keys = {i: f"{p}@{store.get(i * 32).policy['version']}" for i, (p, _) in stored.items()}
    seen = {row["key"]: Counter(row["counts"]) for row in _figures(store, kb, Search())["by_policy"]}
    expected: dict[str, Counter] = {}
    for i, (_, name) in stored.items():
        alone = population(kb, [decided[name].decision], top=50, keep=0)["by_policy"]
        expected[keys[i]] = expected.get(keys[i], Counter()) + sum((Counter(row["counts"]) for row in alone), Counter())
    assert seen == expected
    assert len(set(keys.values())) == 3


def test_audit_events_are_fhir_audit_events(store, decided):
    pytest.importorskip("fhir.resources")
    from engine.fhir.models import validate_resource

    _save(store, decided["fusion"], "e" * 32)
    store.audit(AuditEntry(subtype="read", action="R", agent="reader", source="127.0.0.1", channel="api",
                           http_status=404, entity="Decision/nothing"))
    events = store.audit_events(limit=10)["items"]
    assert [(e["action"], e["outcome"], e["agent"][0]["who"]["display"]) for e in events] == [
        ("R", "4", "reader"), ("C", "0", "tester")]
    for event in events:
        assert validate_resource(event) == []


def test_find_by_request_key_gives_the_newest(store, decided):
    _save(store, decided["fusion"], "f" * 32, channel="pas", key="sys|1")
    _save(store, decided["si"], "g" * 32, channel="pas", key="sys|1")
    assert store.find_by_request_key("pas", "sys|1").id == "g" * 32
    assert store.find_by_request_key("api", "sys|1") is None


def test_an_unreachable_database_is_store_unavailable(tmp_path):
    from engine.service.store import Store

    store = Store("postgresql://nobody@127.0.0.1:9/nothing", migrate=False)
    with pytest.raises(StoreUnavailable):
        store.ping()
