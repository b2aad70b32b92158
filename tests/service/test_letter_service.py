"""The service's report endpoint gives the determination letter: Markdown, HTML and PDF, dated
by the stored record, the same bytes on every request."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT, yaml_post

REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


def _renderer() -> str | None:
    from engine.errors import RendererMissing
    from engine.present.pdf import find_renderer

    try:
        return find_renderer()
    except RendererMissing:
        return None


def test_the_letter_is_dated_by_the_stored_record(client):
    where = yaml_post(client, REFERENCE).headers["location"]
    record = client.get(where).json()
    markdown = client.get(where + "/report", params={"reviewer": "Dr A. Example"})
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    text = markdown.text
    assert f"| Received | {record['received'][:10]} |" in text
    assert f"| Decided | {record['decided'][:10]} |" in text
    assert "| Physician reviewer | Dr A. Example |" in text
    assert f"{record['policy']['id']}, version {record['policy']['version']}" in text
    assert text.split("<!-- audit -->")[0].count("Not medically necessary") >= 1
    assert client.get(where + "/report", params={"reviewer": "Dr A. Example"}).text == text
    html = client.get(where + "/report", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "@media print" in html.text


@pytest.mark.skipif(_renderer() is None, reason="no PDF renderer (WeasyPrint or Chromium) here")
def test_the_letter_as_pdf(client):
    where = yaml_post(client, REFERENCE).headers["location"]
    first = client.get(where + "/report", params={"format": "pdf"})
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf" and first.content.startswith(b"%PDF")
    assert client.get(where + "/report", params={"format": "pdf"}).content == first.content
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=first.content, capture_output=True, check=True).stdout
        assert b"Medical necessity determination" in text and b"Stage 1" in text


def test_pdf_without_a_renderer_is_501_with_the_install_hint(client, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("weasyprint") is not None:
        pytest.skip("WeasyPrint is installed: a renderer is always there")
    monkeypatch.setenv("WARRANT_PDF_RENDERER", "weasyprint")   # Chromium not allowed: none left
    where = yaml_post(client, REFERENCE).headers["location"]
    answer = client.get(where + "/report", params={"format": "pdf"})
    assert answer.status_code == 501
    assert answer.json()["error"]["code"] == "renderer_missing" and "warrant[pdf]" in answer.json()["error"]["message"]
    assert client.get(where + "/report", params={"format": "doc"}).status_code == 422


def test_the_workbench_groups_procedures_as_the_letter_does(client):
    where = yaml_post(client, REFERENCE).headers["location"]
    page = client.get("/ui/decisions/" + where.rsplit("/", 1)[1])
    assert page.status_code == 200
    assert "<h4>Lumbar fusion (22633 at L4-5 and 22634 at L5-S1) with instrumentation (22843)</h4>" in page.text
    assert "<h4>Lumbar fusion (22558 at L2-3 and 22585 at L3-4) with interbody device (22853 at L2-3 and L3-4)</h4>" \
        in page.text
