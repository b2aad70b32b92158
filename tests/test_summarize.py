"""`warrant summarize` over batch output: streamed decisions, rates, add-ons apart, each line counted
once, and the static HTML report."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = sorted((ROOT / "kb" / "corpus").glob("*.yaml"))[:40] + [ROOT / "kb" / "examples" / "reference-case.yaml"]


@pytest.fixture(scope="module")
def kb():
    from engine.knowledge.base import KnowledgeBase

    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def decisions(kb):
    from engine.decide.decision import decide
    from engine.inputs import open_session

    return [decide(open_session(kb, path)) for path in CASES]


@pytest.fixture(scope="module")
def results(tmp_path_factory, decisions):
    """Batch output: one decision a line, an error record among them."""
    path = tmp_path_factory.mktemp("batch") / "results.jsonl"
    lines = [json.dumps(d) for d in decisions]
    lines.insert(3, json.dumps({"source": "broken.yaml", "case_id": None,
                                "error": {"code": "invalid_case", "messages": ["broken.yaml:1:1: no requests"]}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_batch_output_gives_the_same_figures_as_the_cases(run_cli, results):
    from_batch = json.loads(run_cli("summarize", str(results), "--format", "json").stdout)
    from_cases = json.loads(run_cli("summarize", *map(str, CASES), "--format", "json").stdout)
    for key in ("decisions", "lines", "by_code", "unmet", "undocumented", "missing", "outcomes"):
        assert from_batch[key] == from_cases[key], key
    assert from_batch["decisions"] == len(CASES)
    assert [e["source"] for e in from_batch["errors"]] == ["broken.yaml"]


def test_a_batch_file_over_the_case_size_limit_is_read(run_cli, tmp_path, decisions):
    big = tmp_path / "results.jsonl"
    with big.open("w") as out:
        for _ in range(30):    # well over the 5 MiB a case file may have
            for decision in decisions:
                out.write(json.dumps(decision) + "\n")
    assert big.stat().st_size > 5 * 1024 * 1024
    data = json.loads(run_cli("summarize", str(big), "--format", "json").stdout)
    assert data["decisions"] == 30 * len(decisions) and not data["errors"]


def test_rates_add_up_and_add_ons_are_counted_apart(decisions, kb):
    from engine.authoring.population import population

    result = population(kb, decisions)
    lines = [line for d in decisions for s in d["stages"] for line in s["lines"]]
    assert result["lines"] == len(lines)
    dependent = [ln for ln in lines if ln["basis"] == "dependent"]
    blocked = [ln for ln in lines if ln["basis"] != "dependent" and ln["verdict"] != kb.verdicts["positive"]]
    assert result["addon_lines"] == len(dependent) > 0
    assert result["blocked_lines"] == len(blocked)
    for row in result["by_code"]:
        assert sum(row["counts"].values()) == row["total"]
        assert abs(sum(row["rates"].values()) - 1) < 0.01
    # a criterion counts each blocked line once, whatever its reasons repeat
    for item in result["undocumented"]:
        expected = sum(1 for ln in blocked if any(c["criterion"] == item["key"] and c["state"] == "undocumented"
                                                  for c in ln["criteria"]))
        assert item["lines"] == expected
        assert item["rate"] == round(expected / len(blocked), 4)
    # missing documentation is each line's own (not what it inherits from its fusion)
    for item in result["missing"]:
        assert "[0]" not in item["key"] and "L4-5" not in item["key"]


def test_text_speaks_in_words_with_rates(run_cli, results):
    text = run_cli("summarize", str(results)).stdout
    assert "cannot be determined" in text and "cannot_be_determined" not in text
    assert re.search(r"\d+%", text)
    assert "add-on lines" in text


def test_html_report_is_static_and_its_bars_lead_to_the_cases(run_cli, results, tmp_path):
    out = tmp_path / "summary.html"
    run_cli("summarize", str(results), "--format", "html", "-o", str(out))
    html = out.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    for chart in ("chart-code", "chart-family", "chart-undocumented", "chart-missing"):
        assert f'id="{chart}"' in html
    anchors = re.findall(r'<a href="#(cases-\d+)"', html)
    assert anchors and all(f'id="{a}"' in html for a in anchors)
    # the first bar of 22633's "cannot be determined" lists the cases with such a line
    section = re.search(r'id="(cases-\d+)"[^>]*>\s*<h3>22633 [^<]*: cannot be determined</h3>(.*?)</section>', html, re.S)
    listed = re.findall(r"<li>([^<]+)</li>", section.group(2))
    assert listed
    decided = {json.loads(line)["case_id"]: json.loads(line) for line in results.read_text().splitlines()
               if '"stages"' in line}
    for case_id in listed:
        assert any(ln["code"] == "22633" and ln["verdict"] == "cannot_be_determined"
                   for s in decided[case_id]["stages"] for ln in s["lines"]), case_id


def test_stacked_bars_write_each_wide_part_s_share_on_it_and_name_it_in_full():
    from engine.present import charts

    rows = [{"key": "k", "label": "a label of sixty-odd characters that the old charts cut at 44",
             "total": 20, "counts": {"a": 15, "b": 4, "c": 1}}]
    segments = [("a", "first", "positive"), ("b", "second", "negative"), ("c", "third", "undetermined")]
    svg = charts.stacked("chart-x", "X", rows, segments, lambda key, seg: f"/list?{key}={seg}", with_key=False)
    inside = re.findall(r'<text[^>]*class="inside"[^>]*>([^<]+)</text>', svg)
    assert inside == ["75%", "20%"]          # the 5% part is too narrow to hold its share
    assert 'aria-label="a label of sixty-odd characters that the old charts cut at 44: third, 1 of 20 lines (5%)"' in svg
    assert "<title>a label of sixty-odd characters that the old charts cut at 44</title>" \
           "a label of sixty-odd characters that the old charts cut at 44</text>" in svg   # written in full


def test_the_html_report_says_whether_a_bar_s_case_list_is_whole(kb, decisions):
    from engine.authoring.population import population
    from engine.present.summary_html import summary_html

    whole = summary_html(population(kb, decisions, keep=50), kb)
    cut = summary_html(population(kb, decisions, keep=2), kb)
    counts = [(int(a), int(b)) for a, b in re.findall(r"<p>(\d+) lines in (\d+) cases:</p>", whole)]
    assert counts and all(cases < lines for lines, cases in counts)    # several lines of one case
    assert "the first" not in whole
    assert re.search(r"<p>\d+ lines; the first 2 cases:</p>", cut)
