"""The progress bar a command shows on a terminal while a long step runs."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """A one-line bar on a terminal; nothing when the output is a file or a pipe."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.active = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.perf_counter()
        self.message = ""  # the last words said; steps speak only now and then

    def __call__(self, fraction: float, message: str) -> None:
        if not self.active:
            return
        if message:
            self.message = message
        filled = int(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {elapsed:5.0f}s {self.message[:50]:<50}")
        self.stream.flush()

    def close(self) -> None:
        if self.active:
            self.stream.write("\n")


def _run_with_bar(step, *args, **kwargs):
    bar = ProgressBar()
    try:
        return step(*args, progress=bar, **kwargs)
    finally:
        bar.close()
