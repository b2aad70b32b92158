"""The letter as PDF: printed by WeasyPrint or headless Chromium, the same bytes for the same
case (dates from the decision, not the clock), and exit 6 with an install hint without a renderer.
Skipped where no renderer or no pdftotext is installed (CI installs both)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REFERENCE

ARGS = ["--received", "2026-11-20", "--decided", "2026-12-02", "--reviewer", "Dr A. Example"]


def _renderer() -> str | None:
    from engine.errors import RendererMissing
    from engine.present.pdf import find_renderer

    try:
        return find_renderer()
    except RendererMissing:
        return None


needs_renderer = pytest.mark.skipif(_renderer() is None or shutil.which("pdftotext") is None,
                                    reason="needs a PDF renderer (WeasyPrint or Chromium) and pdftotext")


@needs_renderer
def test_pdf_renders_and_pdftotext_finds_the_headline(run_cli, tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert run_cli("report", str(REFERENCE), "--format", "pdf", "-o", str(first), *ARGS).exit_code == 0
    assert run_cli("report", str(REFERENCE), "--format", "pdf", "-o", str(second), *ARGS).exit_code == 0
    data = first.read_bytes()
    assert data.startswith(b"%PDF") and data == second.read_bytes()
    assert b"D:20261202" in data   # the PDF's dates are the decision's
    text = subprocess.run(["pdftotext", str(first), "-"], capture_output=True, text=True, check=True).stdout
    for words in ["Medical necessity determination", "Stage 1: Not medically necessary", "Dr A. Example",
                  "Documentation required before approval"]:
        assert words in text, words


def test_normalised_dates_keep_their_length():
    from engine.present.pdf import normalise

    pdf = b"%PDF-1.4\n<</CreationDate (D:20991231235959+00'00') /ModDate (D:20991231235959Z)>>\n"
    out = normalise(pdf, "2026-12-02")
    assert len(out) == len(pdf) and b"(D:20261202000000+00'00')" in out and b"(D:20261202000000Z)" in out


def test_pdf_needs_an_output_file_and_a_renderer(run_cli, monkeypatch, tmp_path):
    import importlib.util

    assert run_cli("report", str(REFERENCE), "--format", "pdf").exit_code == 2
    if importlib.util.find_spec("weasyprint") is not None:
        pytest.skip("WeasyPrint is installed: a renderer is always there")
    monkeypatch.setenv("WARRANT_PDF_RENDERER", "weasyprint")   # Chromium not allowed: none left
    out = tmp_path / "letter.pdf"
    result = run_cli("report", str(REFERENCE), "--format", "pdf", "-o", str(out))
    assert result.exit_code == 6 and "warrant[pdf]" in result.stderr and not out.exists()
