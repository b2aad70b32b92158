"""The progress meter `warrant batch` draws on stderr while it works (the batch runner only
reports how many cases each finished chunk held)."""
from __future__ import annotations

import sys
import time
from typing import IO, Callable


def progress_meter(total: int | None):
    """tqdm's bar when it is installed, else a one-line text meter; both have update/close."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextMeter(total)
    return tqdm(total=total, unit="case", file=sys.stderr, dynamic_ncols=True, smoothing=0.05, mininterval=0.25)


class _TextMeter:
    """A one-line stderr meter: count, rate and ETA, redrawn at most four times a second."""

    def __init__(self, total: int | None, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.start = self.last = clock()
        self.done = 0

    def update(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= 0.25:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        if self.total:
            eta = (self.total - self.done) / rate if rate else 0.0
            text = (f"{self.done}/{self.total} cases ({100 * self.done / self.total:.0f}%)  {rate:.0f} cases/s  "
                    f"ETA {_clock(eta)}")
        else:
            text = f"{self.done} cases  {rate:.0f} cases/s  {_clock(elapsed)}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self._draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
