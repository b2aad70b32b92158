"""Bundle detection by content, and a clear exit-3 message when the FHIR extra is missing.

These tests run whether or not fhir.resources is installed.
"""
from __future__ import annotations

import builtins
import json

from tests.conftest import REFERENCE, ROOT

BUNDLE = ROOT / "tests" / "fhir" / "fusion-met.bundle.json"


def test_detection_is_by_content(tmp_path):
    from engine.fhir.detect import sniff

    assert sniff(BUNDLE).is_fhir
    assert not sniff(REFERENCE).is_fhir
    renamed = tmp_path / "request.yaml"  # the name does not matter, the content does
    renamed.write_text(BUNDLE.read_text())
    assert sniff(renamed).is_fhir
    as_json = tmp_path / "case.json"
    as_json.write_text(json.dumps({"format": "warrant-case/1", "case_id": "x",
                                   "requests": [{"stage": 1, "procedures": [{"code": "22633"}]}]}))
    assert not sniff(as_json).is_fhir


def test_missing_extra_fails_with_exit_3_and_the_install_hint(run_cli, monkeypatch):
    real_import = builtins.__import__

    def no_fhir(name, *args, **kwargs):
        if name == "fhir" or name.startswith("fhir."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fhir)
    for args in (("decide", str(BUNDLE)), ("import", "fhir", str(BUNDLE))):
        result = run_cli(*args)
        assert result.exit_code == 3, result.stderr
        assert "pip install 'warrant[fhir]'" in result.stderr
        assert "Traceback" not in result.stderr
    # a case file still decides without the extra
    assert run_cli("decide", str(REFERENCE)).exit_code == 0
