"""A real nginx on loopback in front of gunicorn on a unix socket, for the host-to-host tests:
its own config, pid file, error log and temp dirs in a temp directory; ended by pid."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template

from apps.h2h.tls import server_certificate_issue
from payroll_exchange import pki
from tests.support.processes import PROJECT_DIR, free_port, wait_until

TEMPLATE = PROJECT_DIR / "deploy" / "nginx" / "h2h.conf.template"
NGINX = "/usr/sbin/nginx"


@dataclass
class Nginx:
    pid: int
    url: str
    ca_file: Path
    directory: Path

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGQUIT)
        except ProcessLookupError:
            return

        def gone() -> bool:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            return False

        wait_until(gone, timeout=15, what="nginx to stop")


def nginx_start(*, directory: Path, root: pki.Identity, app_socket: Path, max_body: int) -> Nginx:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tmp").mkdir(exist_ok=True)
    cert, key = server_certificate_issue(root=root, names=["127.0.0.1"], now=datetime.now(UTC))
    (directory / "server.pem").write_bytes(cert)
    (directory / "server.key").write_bytes(key)
    (directory / "server.key").chmod(0o600)
    ca_file = directory / "bank-root.pem"
    ca_file.write_bytes(pki.cert_pem(root.cert))
    port = free_port()
    conf = Template(TEMPLATE.read_text()).substitute(
        PID_FILE=directory / "nginx.pid", ERROR_LOG=directory / "error.log", ACCESS_LOG=directory / "access.log",
        DAEMON="on", TEMP_DIR=directory / "tmp", MAX_BODY=str(max_body), APP_SOCKET=app_socket,
        LISTEN=f"127.0.0.1:{port}", SERVER_CERT=directory / "server.pem", SERVER_KEY=directory / "server.key",
        CLIENT_CA=ca_file,
    )
    conf_path = directory / "nginx.conf"
    conf_path.write_text(conf)
    # The suite runs as root (CI): workers stay root so they reach the temp dirs and the socket.
    subprocess.run([NGINX, "-c", str(conf_path), "-p", str(directory), "-g", "user root;"], check=True,
                   capture_output=True)
    pid_file = directory / "nginx.pid"
    wait_until(pid_file.exists, timeout=10, what="nginx's pid file")
    return Nginx(pid=int(pid_file.read_text().strip()), url=f"https://127.0.0.1:{port}", ca_file=ca_file,
                 directory=directory)
