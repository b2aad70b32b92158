"""Screenshots of every workbench page for docs/ and the README:
`python -m tests.ui.screenshots docs/` (needs chromium and the `ui-test` extra)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.ui.harness import ROOT, browser_page, serving, strict_kb
from tests.ui.test_workbench import undocumented_care


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        changed = strict_kb(Path(folder), "care_threshold(conservative_care_fusion, duration_weeks, 12)",
                            "care_threshold(conservative_care_fusion, duration_weeks, 24)")
        with serving(["--compare-kb", str(changed)]) as server:
            for path in sorted((ROOT / "kb" / "corpus").glob("*.yaml"))[:120]:
                server.post_case(path.read_text())
            reference = server.post_case((ROOT / "kb" / "examples" / "reference-case.yaml").read_text())
            met = server.post_case(_case_text("fusion-met.yaml"))
            pending = server.post_case(undocumented_care())
            with browser_page(1280, 900) as page:
                shots = [("decisions", "/ui/decisions"), ("decision", f"/ui/decisions/{reference}"),
                         ("why-not", f"/ui/decisions/{pending}/line?id=1:22633:L4-5"),
                         ("dashboard", "/ui/dashboard"), ("compare", f"/ui/compare?decision={met}")]
                for name, url in shots:
                    page.goto(server.url + url)
                    page.screenshot(path=str(out / f"workbench-{name}.png"), full_page=name not in ("decision", "decisions"))
                page.goto(server.url + f"/ui/decisions/{pending}/line?id=1:22633:L4-5")
                page.get_by_role("button", name="Apply this set and decide again").first.click()
                page.screenshot(path=str(out / "workbench-what-if.png"), full_page=True)


def _case_text(name: str) -> str:
    import yaml

    return yaml.safe_dump(yaml.safe_load((ROOT / "kb" / "tests" / name).read_text())["case"], sort_keys=False)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
