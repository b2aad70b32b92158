"""How many worker processes `warrant batch --jobs auto` starts: the cores actually free.

Three views of "free", the smallest wins, because on a busy machine one job deciding in this
process is never slower than workers fighting over the cores:
- the cores this process may use (its CPU affinity, and a cgroup CPU quota when there is one);
- those the 1-minute load average leaves free (slow to notice a burst of work, slow to forget it);
- those idle right now: each usable core's idle share over a short sample of /proc/stat (sees a
  burst at once). Where /proc/stat is not there, the load average alone decides.
"""
from __future__ import annotations

import math
import os
import time

SAMPLE_SECONDS = 0.25


def auto_jobs() -> int:
    """Worker processes for `--jobs auto` (at least one: then cases are decided in this process)."""
    cores = _usable_cores()
    usable = len(cores)
    quota = _cgroup_quota()
    if quota is not None:
        usable = max(1, min(usable, math.ceil(quota)))
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    free = usable - busy
    idle = _idle_cores(cores)
    if idle is not None:
        free = min(free, idle)
    return max(1, min(usable, int(free + 0.5)))


def _usable_cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _cgroup_quota() -> float | None:
    """The cgroup v2 CPU quota in cores (`cpu.max`), None when unlimited or unknown."""
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        return None if quota == "max" else max(int(quota) / int(period), 0.01)
    except (OSError, ValueError):
        return None


def _idle_cores(cores: list[int], seconds: float = SAMPLE_SECONDS) -> float | None:
    """The idle share, summed over `cores`, of a `seconds` sample of /proc/stat (None if unread)."""
    before = _cpu_times()
    if not before:
        return None
    time.sleep(seconds)
    after = _cpu_times()
    idle = 0.0
    for core in cores:
        if core not in before or core not in after:
            return None
        (idle0, total0), (idle1, total1) = before[core], after[core]
        idle += (idle1 - idle0) / (total1 - total0) if total1 > total0 else 1.0
    return idle


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per core: (idle + iowait ticks, all ticks) since boot, from /proc/stat."""
    out: dict[int, tuple[int, int]] = {}
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for line in handle:
                if not line.startswith("cpu") or line.startswith("cpu "):
                    continue
                name, *fields = line.split()
                ticks = [int(f) for f in fields[:8]]
                out[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    except (OSError, ValueError, IndexError):
        return {}
    return out
