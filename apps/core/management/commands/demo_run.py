"""Run the whole demo on one machine: web server, Celery worker and beat. Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from payroll_exchange.clock import BUSINESS_TZ, ENV_VAR, business_now, clock_write


def clock_now_text() -> str:
    return f"{business_now().astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M} Asia/Shanghai"


def _first_working_day(start):
    # The demo starts on a bank working day so the kiosk is open; the holiday table is the
    # authority once seeded, weekends are enough to choose a start.
    day = start
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class Command(BaseCommand):
    help = "Migrate, seed the demo bank and run web server + worker + beat until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        demo_dir = settings.VAR_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        env = os.environ.copy()
        if not env.get(ENV_VAR):
            clock_path = demo_dir / "clock.txt"
            if not clock_path.exists():
                today = datetime.now(tz=BUSINESS_TZ).date()
                clock_write(clock_path, datetime.combine(_first_working_day(today), dtime(10, 0), BUSINESS_TZ))
            env[ENV_VAR] = f"file:{clock_path}"
            os.environ[ENV_VAR] = env[ENV_VAR]
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.base"))

        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo_seed", stdout=self.stdout)

        python = sys.executable
        log_dir = settings.VAR_DIR / "log"
        log_dir.mkdir(exist_ok=True)
        commands = {
            "web": [python, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{host}:{port}",
                    "--workers", "2", "--timeout", "120", "--access-logfile", "-"],
            "worker": [python, "-m", "celery", "-A", "config", "worker", "--concurrency", "1",
                       "--loglevel", "INFO", "-n", "demo-worker@%h"],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                     "--pidfile=", "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }
        children: dict[str, subprocess.Popen] = {}
        for name, argv in commands.items():
            log = (log_dir / f"{name}.log").open("ab")
            children[name] = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
                argv, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

        self.stdout.write(self.style.SUCCESS(f"Kiosk 企业自助平台:  http://{host}:{port}/"))
        self.stdout.write(f"Back office 后台:   http://{host}:{port}/admin/")
        self.stdout.write(f"Demo files 演示文件: {demo_dir}")
        # Every process that acts on the demo (clock_set, celery call, the client) must read the same
        # clock: the README's second terminal exports exactly this line.
        self.stdout.write(f"Business clock 业务时钟: export {ENV_VAR}={env[ENV_VAR]}   (now {clock_now_text()})")
        self.stdout.write(f"Logs 日志:          {log_dir}")
        self.stdout.write("Processes: " + ", ".join(f"{n}={p.pid}" for n, p in children.items()))
        self.stdout.write("Press Ctrl-C to stop 按 Ctrl-C 停止.")
        self.stdout.flush()

        stopping = False

        def _stop(signum, frame):  # noqa: ARG001
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        exit_code = 0
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; see {log_dir / (name + '.log')}")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.stdout.write("stopped 已停止")
        if exit_code:
            sys.exit(exit_code)

