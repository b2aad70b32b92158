"""Issue 17, items 1, 2 and 11: the kb and FHIR-map caches, output files, and what error
messages may quote. Every hostile file is built here, under tmp_path."""
from __future__ import annotations

import errno
import json
import os
import pickle
import stat
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / "kb"
REFERENCE = KB / "examples" / "reference-case.yaml"
BUNDLE = ROOT / "tests" / "fhir" / "fusion-met.bundle.json"
posix_only = pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="POSIX file checks")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache folder (0700) under tmp_path, in force for this test only."""
    folder = tmp_path / "home" / "cache"
    folder.mkdir(parents=True, mode=0o700)
    (tmp_path / "home").chmod(0o700)
    monkeypatch.setenv("WARRANT_CACHE_DIR", str(folder))
    return folder


def _load(**kw):
    from engine.knowledge.base import KnowledgeBase

    return KnowledgeBase.load(KB, **kw)


# ------------------------------------------------------------------------------ item 1: caches
def _evil_pickle(marker: Path) -> bytes:
    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps(Payload())


@posix_only
def test_kb_cache_is_sealed_and_its_loader_builds_only_engine_dataclasses(cache, tmp_path):
    from engine.knowledge import codec

    first = _load()
    (stored,) = cache.glob("*.kbcache")
    assert stored.read_bytes().startswith(codec.MAGIC)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    key = (cache / "cache.key").read_bytes()
    assert _load().program.clauses == first.program.clauses
    marker = tmp_path / "pwned"
    # even someone holding the key cannot make the loader call anything
    with pytest.raises(pickle.UnpicklingError, match="open is not allowed"):
        codec.loads(codec.MAGIC + codec._seal(key, _evil_pickle(marker)) + b"\n" + _evil_pickle(marker), key)
    stored.write_bytes(codec.MAGIC + codec._seal(key, _evil_pickle(marker)) + b"\n" + _evil_pickle(marker))
    assert _load().program.clauses == first.program.clauses  # refused, rebuilt
    assert not marker.exists()


@posix_only
def test_a_cache_file_without_the_right_seal_is_rebuilt(cache, tmp_path):
    kb = _load()
    stored = next(cache.glob("*.kbcache"))
    marker = tmp_path / "pwned"
    stored.write_bytes(_evil_pickle(marker))  # a bare pickle in place of the cache file
    assert _load().program.clauses == kb.program.clauses
    stored.write_bytes(_tampered_copy(stored, key=b"not the key"))
    assert _load().version == "1.0.0"
    assert not marker.exists()


def _tampered_copy(stored: Path, key: bytes | None = None) -> bytes:
    """The cache with the kb version changed, sealed with the cache's own key (or `key`): the
    same format, another program."""
    from engine.knowledge import codec

    own = (stored.parent / "cache.key").read_bytes()
    payload = codec.loads(stored.read_bytes(), own)
    payload["meta"] = {**payload["meta"], "version": "6.6.6-tampered"}
    return codec.dumps(payload, key or own)


@posix_only
def test_a_cache_folder_others_can_write_is_not_trusted(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    folder = shared / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("WARRANT_CACHE_DIR", str(folder))
    _load()
    stored = next(folder.glob("*.kbcache"))
    stored.write_bytes(_tampered_copy(stored))
    assert _load().version == "6.6.6-tampered"  # a private chain: the file is trusted as written
    shared.chmod(0o777)  # now anyone could have swapped `cache` (no sticky bit)
    assert _load().version == "1.0.0"
    shared.chmod(0o1777)  # sticky, like /tmp: others cannot rename what is ours
    assert _load().version == "6.6.6-tampered"
    folder.chmod(0o770)  # the cache folder itself group-writable
    assert _load().version == "1.0.0"


@posix_only
def test_a_cache_file_swapped_for_a_link_or_opened_to_others_is_not_read(cache, tmp_path):
    _load()
    stored = next(cache.glob("*.kbcache"))
    elsewhere = tmp_path / "elsewhere.kbcache"
    elsewhere.write_bytes(_tampered_copy(stored))
    elsewhere.chmod(0o600)
    stored.unlink()
    stored.symlink_to(elsewhere)  # a link at the cache name: never followed
    assert _load().version == "1.0.0"
    stored.unlink()
    stored.write_bytes(elsewhere.read_bytes())
    stored.chmod(0o622)  # others may write it
    assert _load().version == "1.0.0"


@posix_only
def test_a_cache_folder_reached_through_a_swapped_link_is_checked_where_it_leads(tmp_path, monkeypatch):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    planted = open_dir / "planted"
    planted.mkdir(mode=0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(planted)
    monkeypatch.setenv("WARRANT_CACHE_DIR", str(link))
    kb = _load()
    assert kb.version == "1.0.0"
    assert not list(planted.glob("*.kbcache"))  # its real parent is writable by all: nothing stored
    from engine.guard.files import read_private

    (planted / "x.json").write_text("{}")
    (planted / "x.json").chmod(0o600)
    assert read_private(link / "x.json", 1000) is None


@posix_only
def test_a_planted_fhir_map_cache_does_not_change_a_verdict(tmp_path, monkeypatch, run_cli):
    pytest.importorskip("fhir.resources")
    import hashlib

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    folder = shared / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("WARRANT_CACHE_DIR", str(folder))
    digest = hashlib.sha256((KB / "fhir-map.yaml").read_bytes()).hexdigest()
    planted = folder / f"fhir-map-{digest[:32]}.json"
    planted.write_text(json.dumps({"source_sha256": digest, "map": {"format": "warrant-fhir-map/1"}}))
    planted.chmod(0o600)
    from engine.fhir.mapping import _load

    _load.cache_clear()
    result = run_cli("decide", str(BUNDLE), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert {line["verdict"] for s in json.loads(result.stdout)["stages"] for line in s["lines"]} == {
        "medically_necessary"}
    # in a private folder a copy that does not name its source's hash is ignored too
    shared.chmod(0o755)
    planted.write_text(json.dumps({"format": "warrant-fhir-map/1"}))
    planted.chmod(0o600)
    _load.cache_clear()
    assert json.loads(run_cli("decide", str(BUNDLE), "--format", "json").stdout)["stages"][0]["lines"]


# ------------------------------------------------------------------------------ item 2: -o
@posix_only
def test_output_never_writes_through_a_link_planted_at_a_temporary_name(tmp_path, run_cli):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    victim.chmod(0o600)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for pid in {os.getpid(), os.getppid()}:  # the names the old writer used
        (out_dir / f".r.md.{pid}.tmp").symlink_to(victim)
    result = run_cli("report", str(REFERENCE), "-o", str(out_dir / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert victim.read_text() == "precious"
    assert (out_dir / "r.md").read_text().startswith("# ")
    leftovers = [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]
    assert leftovers == []


@posix_only
def test_output_refuses_devices_and_fifos(tmp_path, run_cli):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    result = run_cli("report", str(REFERENCE), "-o", str(fifo))
    assert result.exit_code == 2 and "FIFO" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if os.path.exists("/dev/full"):
        result = run_cli("export", "-o", "/dev/full")
        assert result.exit_code == 2 and "character device" in result.stderr
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_into_a_missing_or_read_only_folder_is_a_usage_error(tmp_path, run_cli, monkeypatch):
    result = run_cli("report", str(REFERENCE), "-o", str(tmp_path / "missing" / "r.md"))
    assert result.exit_code == 2 and "cannot write" in result.stderr and result.stdout == ""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = run_cli("export", "-o", str(tmp_path / "policy.pl"))
    assert result.exit_code == 2 and "Read-only file system" in result.stderr
    result = run_cli("generate", "--count", "1", "-o", str(tmp_path / "cases"))
    assert result.exit_code == 2 and "Read-only file system" in result.stderr


def test_output_keeps_the_mode_of_the_file_it_replaces_and_leaves_nothing_behind(tmp_path):
    from engine.guard.files import write_atomic

    target = tmp_path / "r.md"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]


# ------------------------------------------------------------------------------ item 11: messages
def test_a_file_that_is_not_a_case_is_never_quoted(tmp_path, run_cli):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$abcdefgh$secretsecret:19000:0:99999:7:::\n"
                      "daemon:*:19000:0:99999:7:::\nalice: hunter2-password\n")
    secret.chmod(0o600)
    result = run_cli("decide", str(secret))
    assert result.exit_code == 3 and result.stdout == ""
    assert "not a warrant-case/1 file" in result.stderr
    for fragment in ("secretsecret", "hunter2", "daemon", "19000"):
        assert fragment not in result.stderr


def test_messages_quote_at_most_a_short_escaped_excerpt(tmp_path, run_cli):
    text = REFERENCE.read_text(encoding="utf-8")
    long_key = "k\x1b]0;title\x07" + "x" * 5000
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("case_id:", f'"{long_key.encode("unicode_escape").decode()}": 1\ncase_id:', 1),
                   encoding="utf-8")
    result = run_cli("decide", str(bad))
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert all(len(line) < 600 for line in result.stderr.splitlines())
    assert "x" * 1000 not in result.stderr
