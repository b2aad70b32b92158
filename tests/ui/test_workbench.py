"""The workbench in a real browser: Debian's chromium driven by Playwright against `warrant serve`
on loopback with a temporary database. Skipped without chromium, Playwright or the serve extra."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.harness import ROOT, chromium

pytest.importorskip("fastapi", reason="the serve extra is not installed")
pytest.importorskip("multipart", reason="the serve extra is not installed")
pytest.importorskip("playwright", reason="the ui-test extra is not installed")
if chromium() is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from tests.ui.harness import browser_page, serving, strict_kb  # noqa: E402

STRICTER = ("care_threshold(conservative_care_fusion, duration_weeks, 12)",
            "care_threshold(conservative_care_fusion, duration_weeks, 24)")


def case_text(name: str) -> str:
    import yaml

    return yaml.safe_dump(yaml.safe_load((ROOT / "kb" / "tests" / name).read_text())["case"], sort_keys=False)


def undocumented_care() -> str:
    """The approved single-level fusion with its conservative care left undocumented."""
    import yaml

    case = yaml.safe_load(case_text("fusion-met.yaml"))
    case["case_id"] = "t-care-undocumented"
    del case["conservative_care"]
    return yaml.safe_dump(case, sort_keys=False)


@pytest.fixture(scope="module")
def workbench(tmp_path_factory):
    changed = strict_kb(tmp_path_factory.mktemp("kb"), *STRICTER)
    with serving(["--compare-kb", str(changed)]) as server:
        ids = {"met": server.post_case(case_text("fusion-met.yaml")),
               "pending": server.post_case(undocumented_care())}
        for path in sorted((ROOT / "kb" / "corpus").glob("*.yaml"))[:24]:
            server.post_case(path.read_text())
        server.ids = ids
        yield server


@pytest.fixture
def page():
    with browser_page() as page:
        yield page


def test_list_decision_why_not_minimal_set_changes_the_verdict(workbench, page):
    page.goto(workbench.url + "/ui/decisions?case=t-care")
    page.get_by_role("link", name="t-care-undocumented").click()
    row = page.locator("tr[data-line='1:22633:L4-5']")
    assert "cannot be determined" in row.inner_text()
    row.get_by_role("link", name=re.compile("Why and why not")).click()
    assert page.locator("#line-verdict").inner_text() == "cannot be determined"
    assert page.get_by_role("heading", name="Why not medically necessary?").is_visible()
    assert "failed conservative care" in page.locator("ul.standing").inner_text().lower()
    page.get_by_role("button", name="Apply this set and decide again").first.click()
    changed = page.locator("#changes tr[data-line='1:22633:L4-5']")
    assert "changed" in (changed.get_attribute("class") or "")
    assert changed.locator(".after").inner_text() == "medically necessary"
    page.get_by_role("button", name="Save as a new decision").click()
    assert page.locator("tr[data-line='1:22633:L4-5'] .verdict").first.inner_text() == "medically necessary"
    assert re.search(r"/ui/decisions/[0-9a-f]{32}$", page.url) and workbench.ids["pending"] not in page.url


def test_dashboard_draws_charts_and_a_bar_lists_its_cases(workbench, page):
    page.goto(workbench.url + "/ui/dashboard")
    for chart in ("chart-code", "chart-family", "chart-undocumented", "chart-missing", "chart-time"):
        assert page.locator(f"svg#{chart} rect").count() > 0, chart
    bar = page.locator("svg#chart-code a[data-key='22633|undetermined']")
    name = bar.get_attribute("aria-label")
    expected = int(re.search(r", (\d+) of \d+ lines", name).group(1))
    bar.click()
    assert "/ui/decisions?" in page.url and "code=22633" in page.url
    listed = page.locator("tbody tr td:first-child a").all_inner_texts()
    assert "t-care-undocumented" in listed and "t-fusion-met" not in listed
    assert 0 < len(listed) <= expected
    for case_id in listed:    # every case listed has such a line
        page.get_by_role("link", name=case_id, exact=True).click()
        verdicts = page.locator("tr[data-line^='1:22633:'], tr[data-line^='2:22633:']").all_inner_texts()
        assert any("cannot be determined" in v for v in verdicts), case_id
        page.go_back()


def test_compare_shows_the_criterion_that_differs(workbench, page):
    page.goto(workbench.url + f"/ui/compare?decision={workbench.ids['met']}")
    offered = page.locator("input[name=policy]:checked").count()
    assert offered >= 2 and page.locator("#side-by-side thead th").count() == 1 + offered
    rows = page.locator("#criteria-differ tbody tr").all_inner_texts()
    care = [text for text in rows if "failed conservative care" in text and "24 weeks" in text]
    assert care, rows                     # the --compare-kb version asks 24 weeks where the kb asks 12
    assert "12 weeks" in care[0] and "not met" in care[0] and "\tmet" in care[0].replace("\n", "\t")


def test_pages_are_keyboard_reachable_and_labelled(workbench, page):
    page.goto(workbench.url + "/ui/decisions")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    unlabeled = page.evaluate("""Array.from(document.querySelectorAll('input:not([type=hidden]), select'))
        .filter(e => !e.labels || e.labels.length === 0).length""")
    assert unlabeled == 0
    page.goto(workbench.url + "/ui/dashboard")
    names = page.evaluate("Array.from(document.querySelectorAll('svg a')).map(a => a.getAttribute('aria-label'))")
    assert names and all(names)


def test_pages_load_nothing_from_other_hosts(workbench, page):
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    for url in ("/ui/decisions", f"/ui/decisions/{workbench.ids['met']}", "/ui/dashboard",
                f"/ui/decisions/{workbench.ids['pending']}/line?id=1:22633:L4-5"):
        page.goto(workbench.url + url)
    assert hosts == {f"127.0.0.1:{workbench.port}"}


def test_try_a_value_puts_the_requested_field_into_the_what_if_form(workbench, page):
    page.goto(workbench.url + f"/ui/decisions/{workbench.ids['pending']}")
    button = page.locator("button[data-field]").first
    field = button.get_attribute("data-field")
    assert button.get_attribute("aria-label").startswith("Try a value for ")
    button.click()
    assert page.get_by_label("Field 1", exact=True).input_value() == field
    assert page.evaluate("document.activeElement.id") == "value-0"     # ready for the value
    page.get_by_role("button", name="Another field").click()
    assert page.get_by_label("Field 3", exact=True).count() == 1         # added rows are numbered too


def test_the_graph_is_named_and_reachable_by_keyboard(workbench, page):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed: the line page links to the graph instead")
    page.goto(workbench.url + f"/ui/decisions/{workbench.ids['pending']}/line?id=1:22633:L4-5")
    page.get_by_role("group", name="The graph (scrolls sideways)").focus()
    assert page.evaluate("document.activeElement.classList.contains('graph')")
    assert page.get_by_role("link", name="open it on a page of its own").get_attribute("href").startswith(
        f"/api/v1/decisions/{workbench.ids['pending']}/graph?line=1%3A22633%3AL4-5&format=html&why_not=")
