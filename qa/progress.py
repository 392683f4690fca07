"""Progress for long jobs: a bar on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    def update(self, done: int, **fields: Any) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def update(self, done: int, **fields: Any) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """One plain line every few seconds (logs, CI, pipes)."""

    def __init__(self, total: int, label: str, stream: TextIO = sys.stderr, every: float = 5.0):
        self.total, self.label, self.stream, self.every = total, label, stream, every
        self.started = self.last = time.monotonic()
        self.finished = False

    def update(self, done: int, **fields: Any) -> None:
        now = time.monotonic()
        final = done >= self.total and not self.finished
        if now - self.last >= self.every or final:
            self.finished = self.finished or final
            self.last = now
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            rate = done / max(now - self.started, 1e-9)
            eta = (self.total - done) / rate if rate > 0 else 0.0
            print(
                f"{self.label}: {done}/{self.total} {extra} eta {eta:.0f}s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm bar with the counts beside it and tqdm's ETA."""

    def __init__(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="article", file=sys.stderr, leave=True)

    def update(self, done: int, **fields: Any) -> None:
        self._bar.set_postfix(fields, refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def make_progress(total: int, label: str, *, quiet: bool = False) -> Progress:
    if quiet:
        return NoProgress()
    if sys.stderr.isatty():
        return BarProgress(total, label)
    return LineProgress(total, label)
