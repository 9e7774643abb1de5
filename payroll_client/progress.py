"""A progress bar on stderr for work that takes more than a second.

The slow steps (reading a 100,000-row sheet, checking, signing) run inside payroll_exchange,
which reports no per-row progress; so the bar counts the steps of a job and a ticker thread
keeps the elapsed time moving while a step runs. Nothing is drawn for work under a second,
and nothing at all when stderr is not a terminal unless PAYROLL_CLIENT_PROGRESS=1.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

SHOW_AFTER = 1.0
WIDTH = 24


class Progress:
    def __init__(self, *, steps: list[str], stream: TextIO | None = None, force: bool | None = None) -> None:
        self.steps = steps
        self.stream = stream or sys.stderr
        if force is None:
            force = os.environ.get("PAYROLL_CLIENT_PROGRESS") == "1" or self.stream.isatty()
        self.enabled = force
        self.index = 0
        self.started = time.monotonic()
        self.drawn = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._paused = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.drawn:
            if exc_type is None:
                self.index = len(self.steps)
                self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def step(self, *, name: str) -> None:
        """Mark the start of the named step (one of ``steps``)."""
        with self._lock:
            if name in self.steps:
                self.index = self.steps.index(name)
        if self.drawn:
            self._draw()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop drawing while the user types (a reviewer's name, a PIN): the bar would
        overwrite the prompt."""
        with self._lock:
            self._paused = True
            if self.drawn:
                self.stream.write("\n")
                self.stream.flush()
        paused_at = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._paused = False
                # Time spent typing is not work: the bar still appears only for slow work.
                self.started += time.monotonic() - paused_at

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            if time.monotonic() - self.started >= SHOW_AFTER:
                self._draw()

    def _draw(self) -> None:
        with self._lock:
            if self._paused:
                return
            done = self.index
            total = len(self.steps)
            label = self.steps[min(done, total - 1)] if done < total else "完成 done"
            filled = int(WIDTH * done / total)
            bar = "#" * filled + "-" * (WIDTH - filled)
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r[{bar}] {done}/{total} {label} {elapsed:5.1f}s")
            self.stream.flush()
            self.drawn = True
