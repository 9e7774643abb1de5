"""Debian's PgBouncer (/usr/sbin/pgbouncer) on a loopback port of its own, in transaction mode, in
front of the local PostgreSQL: for tests/faults/test_pgbouncer.py and benchmarks/bench_scale.py.

Its config lives in a temporary directory; ``auth_type = any`` with the server user forced in
[databases]: on loopback only, as the local PostgreSQL trusts loopback already.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.processes import Process, free_port, process_start, wait_until

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user (postgres, nobody) for pgbouncer -u")


@dataclass
class PgBouncer:
    server_host: str = "127.0.0.1"
    server_port: int = 5432
    server_user: str = "postgres"
    pool_size: int = 4
    port: int = field(default_factory=free_port)
    process: Process | None = None
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgbouncer-")))

    def url(self, dbname: str) -> str:
        return f"postgres://{self.server_user}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={self.server_host} port={self.server_port} user={self.server_user}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir = {self.directory}\n"
            "auth_type = any\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
            "max_client_conn = 200\nstats_period = 1\n"
            f"admin_users = {self.server_user}\nstats_users = {self.server_user}\n"
            # Django and psycopg send these in the startup packet; PgBouncer must not refuse them.
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.directory / 'pgbouncer.log'}\n",
            encoding="utf-8",
        )
        argv = [PGBOUNCER, str(ini)]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root (containers, some CI machines): it switches to an
            # unprivileged user (-u), which must be able to write its log and socket here.
            user = _unprivileged_user()
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            os.chown(ini, user.pw_uid, user.pw_gid)
            argv[1:1] = ["-u", user.pw_name]
        self.process = process_start(name="pgbouncer", argv=argv, env={}, log_dir=self.directory)
        wait_until(self.answers, timeout=20, what=f"pgbouncer on port {self.port}")

    def answers(self) -> bool:
        if self.process is None or not self.process.alive():
            raise RuntimeError(f"pgbouncer exited:\n{self.process.log() if self.process else ''}")
        try:
            with psycopg.connect(self.url("pgbouncer"), autocommit=True, connect_timeout=1) as conn:
                conn.execute("SHOW VERSION")
            return True
        except psycopg.OperationalError:
            return False

    def stats(self, dbname: str) -> dict[str, int]:
        """PgBouncer's own counters for one database (SHOW STATS): proof that traffic went through it."""
        with psycopg.connect(self.url("pgbouncer"), autocommit=True) as conn:
            cursor = conn.execute("SHOW STATS")
            names = [c.name for c in cursor.description]
            for row in cursor.fetchall():
                record = dict(zip(names, row, strict=True))
                if record["database"] == dbname:
                    return {k: int(v) for k, v in record.items() if k != "database"}
        return {}

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
