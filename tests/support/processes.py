"""Real processes for end-to-end tests: a Celery worker, a web server, the demo runner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from config.queues import queue_names

PROJECT_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout} s waiting for {what or predicate}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def process_start(*, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
    log = log_path.open("wb")
    # A session of its own, so stop() can signal the whole tree (prefork children included).
    popen = subprocess.Popen(
        argv, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name=name, popen=popen, log_path=log_path)


def celery_worker_start(*, env: dict[str, str], queue: str, log_dir: Path, timeout: float = 60) -> Process:
    node = f"test-{uuid.uuid4().hex[:8]}@%h"
    # Every queue of the run: the default one and each stage's (config/queues.py).
    argv = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queue_names(default=queue)), "-n", node,
            "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    proc = process_start(name="worker", argv=argv, env=env, log_dir=log_dir)
    proc.extra["node_prefix"] = node.split("@")[0]

    def ready() -> bool:
        if not proc.alive():
            raise RuntimeError(f"worker exited early:\n{proc.log()}")
        return " ready." in proc.log()

    wait_until(ready, timeout=timeout, what="the Celery worker to be ready")
    return proc
