"""Loading the cached kb: the sealed, allow-listed cache against a plain `pickle.loads`.

    python benchmarks/bench_kb_cache.py [--runs N]

The kb cache (engine/knowledge/codec.py) checks an HMAC over its bytes and unpickles through an
allow-list of the engine's dataclasses, so no cache file can run code; a plain `pickle.loads`
of the same bytes (what the cache did before) is the reference. Prints the median and minimum of
N loads of each (same process, interleaved, so machine load affects both alike) and the ratio.
"""
from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    os.environ["WARRANT_CACHE_DIR"] = tempfile.mkdtemp()
    from engine.knowledge import codec
    from engine.knowledge.base import KnowledgeBase, bundled_kb, kb_files

    root = bundled_kb()
    payload = KnowledgeBase._build(root, kb_files(root))
    key = os.urandom(32)
    sealed = codec.dumps(payload, key)
    as_pickle = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    assert codec.loads(sealed, key)["modules"] == payload["modules"]
    ours, reference = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        codec.loads(sealed, key)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        pickle.loads(as_pickle)
        reference.append(time.perf_counter() - start)
    for name, values, size in (("pickle.loads (reference)", reference, len(as_pickle)),
                               ("codec.loads (sealed, allow-list)", ours, len(sealed))):
        print(f"{name:34s} median {statistics.median(values) * 1000:6.1f} ms   min {min(values) * 1000:6.1f} ms"
              f"   {size} bytes")
    print(f"ratio (median): {statistics.median(ours) / statistics.median(reference):.2f}x   "
          f"ratio (min): {min(ours) / min(reference):.2f}x")


if __name__ == "__main__":
    main()
