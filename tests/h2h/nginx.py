"""A real nginx on loopback in front of gunicorn on a unix socket, for the host-to-host tests:
its own config, pid file, error log and temp dirs in a temp directory; ended by pid."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from payroll_exchange import pki
from tests.support.processes import PROJECT_DIR, free_port, wait_until

TEMPLATE = PROJECT_DIR / "deploy" / "nginx" / "h2h.conf.template"
NGINX = "/usr/sbin/nginx"


def server_identity(*, root: pki.Identity, now: datetime) -> tuple[bytes, bytes]:
    """nginx's own certificate for 127.0.0.1, issued by the bank root (PEM cert, PEM key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "h2h.test")]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .sign(root.key, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


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
    cert, key = server_identity(root=root, now=datetime.now(UTC))
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
