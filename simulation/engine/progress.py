"""Progress of a run: a callback `(iterations done, total) -> None`, or a one-line bar on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Progress = Callable[[int, int], None]


def progress_callback(progress: bool | Progress) -> Progress:
    if callable(progress):
        return progress
    if progress:
        return ProgressBar()
    return lambda done, total: None


class ProgressBar:
    """A one-line bar on stderr, shown only once a run has taken more than `delay` seconds."""

    def __init__(self, delay: float = 1.0, width: int = 30) -> None:
        self.stream = sys.stderr
        self.delay = delay
        self.width = width
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        if elapsed < self.delay and not self.shown:
            return
        self.shown = True
        filled = self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r[{bar}] {done}/{total} iterations, {elapsed:.1f} s{end}")
        self.stream.flush()
