"""Worker processes die with the batch process that started them.

A worker pool's processes are children of the forkserver (or of the parent under spawn), not
necessarily of the batch process itself, and a worker busy with a chunk does not notice that
nobody will read its answer. So each worker:
- asks Linux to kill it when the process that forked it exits (`PR_SET_PDEATHSIG`; the
  forkserver exits when the batch process does), and
- watches the batch process itself from a daemon thread (`pidfd_open` where the kernel has it,
  else polling), exiting at once when it is gone.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """Tie this process's life to process `parent` (call once, early, in the worker)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not _alive(parent):
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="warrant-lifeline", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(parent: int) -> None:
    try:
        fd = os.pidfd_open(parent)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        import select

        select.select([fd], [], [])  # readable once the process has exited
        os._exit(1)
    while _alive(parent) and os.getppid() != 1:
        time.sleep(0.5)
    os._exit(1)
