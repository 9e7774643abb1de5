"""联机模式 online mode: the client talks to the bank's host-to-host API (银企直连) over mutual TLS
with the USB key's certificate. Stdlib only (``ssl`` and ``http.client``): the client installs
without a web stack.

Two promises. The private key never touches the disk unencrypted: ``ssl`` can load a client key
only from a file, so it gets one written PKCS#8-encrypted under a random one-time password, in a
0600 temporary file that is removed as soon as OpenSSL has read it (and on any failure). And the
server is believed only when its certificate chains to the bank root imported by 证书导入 and
names the host dialled: a wrong address or an impostor gets no file and no PIN-opened key.

Every refusal the API sends has one body (``{"code", "message": {"zh", "en"}, "field", "row"}``):
it becomes an ``ExchangeError`` that ``cli.main`` prints in both languages. A network or TLS
failure becomes ``OnlineFailure``: one bilingual line, never a traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import serialization

from payroll_client.online_errors import SERVER_ENV, OnlineFailure
from payroll_exchange import pki
from payroll_exchange.errors import ExchangeError, RowError

__all__ = ["SERVER_ENV", "Api", "OnlineFailure", "Reply", "Server", "api_refusal", "tls_context"]

API_PREFIX = "/api/h2h/v1"
SERVER_SETTING = "h2h_server"
TIMEOUT = 120  # seconds per request: an upload of the 50 MB limit over a slow line


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


# -- the server address ---------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    host: str
    port: int
    base: str  # https://host:port, for messages

    @classmethod
    def parse(cls, url: str) -> Server:
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ExchangeError("server_url", f"银企直连地址须为 https://主机:端口, 不是 {url}",
                                f"the host-to-host address must be https://host:port, not {url}")
        try:
            port = parts.port or 443
        except ValueError:
            raise ExchangeError("server_url", f"银企直连地址的端口不正确: {url}",
                                f"the port of the host-to-host address is not valid: {url}") from None
        return cls(host=parts.hostname, port=port, base=f"https://{parts.hostname}:{port}")


# -- TLS with the USB key --------------------------------------------------------------------

@contextmanager
def encrypted_key_file(identity: pki.Identity) -> Iterator[tuple[Path, Path, bytes]]:
    """(certificate file, encrypted key file, password): 0600 temporary files, removed on exit.
    The password is random per use and lives only in memory; the key file is useless without it."""
    password = secrets.token_urlsafe(32).encode("ascii")
    key_pem = identity.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(password))
    chain_pem = pki.cert_pem(identity.cert) + b"".join(
        pki.cert_pem(c) for c in identity.chain if c.subject != c.issuer)  # the root stays out: the server has it
    paths: list[Path] = []
    try:
        for suffix, data in ((".pem", chain_pem), (".key", key_pem)):
            handle, name = tempfile.mkstemp(prefix="payroll-client-", suffix=suffix)  # created 0600
            paths.append(Path(name))
            with os.fdopen(handle, "wb") as out:
                out.write(data)
        yield paths[0], paths[1], password
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def tls_context(*, identity: pki.Identity, root_pem: bytes) -> ssl.SSLContext:
    """A client context: TLS 1.2+, the bank root as the only CA, host names checked, and the USB
    key's certificate for the server to verify."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cadata=root_pem.decode("ascii"))
    with encrypted_key_file(identity) as (cert_file, key_file, password):
        context.load_cert_chain(certfile=str(cert_file), keyfile=str(key_file), password=password)
    return context


# -- requests --------------------------------------------------------------------------------

def _tls_failure(exc: ssl.SSLError, server: Server) -> OnlineFailure:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return OnlineFailure(
            f"服务器 {server.base} 的证书不是银行根证书签发的, 或与地址不符 ({exc.verify_message}): "
            "未发送任何数据。请核对银企直连地址 (--server), 或请管理员核对导入的银行根证书。",
            f"the server {server.base} has no certificate from the bank root for this address "
            f"({exc.verify_message}); nothing was sent. Check the host-to-host address (--server), or have the "
            "administrator check the imported bank root.")
    reason = (exc.reason or str(exc)).lower()
    # The gateway's verdict on our certificate arrives as an alert (unknown ca, certificate expired,
    # certificate required), or, from a server that just drops the handshake, as an EOF.
    if isinstance(exc, ssl.SSLEOFError) or any(word in reason for word in (
            "certificate", "unknown ca", "alert", "handshake", "eof")):
        return _key_refused(server, exc.reason or str(exc))
    return OnlineFailure(f"与 {server.base} 的加密连接失败 ({exc.reason or exc})。请稍后重试。",
                         f"the secure connection to {server.base} failed ({exc.reason or exc}). Try again later.")


def _key_refused(server: Server, why: str) -> OnlineFailure:
    return OnlineFailure(
        f"银行网关 {server.base} 拒绝了本机 USBKEY 的证书 ({why}): 证书可能已过期、不是银行签发的或不含客户端认证"
        "用途。请联系开户银行。",
        f"the bank's gateway {server.base} refused the USB key's certificate ({why}): it may have expired, not "
        "be issued by the bank, or lack the clientAuth usage. Contact your bank branch.")


def api_refusal(reply: Reply, server: Server) -> ExchangeError | OnlineFailure:
    """The API's one error body as the client's refusal; anything else (a gateway's HTML page) as
    a failure of the line with its status."""
    if reply.status == 400 and b"SSL certificate" in reply.body:
        # nginx (ssl_verify_client on) finishes the handshake and answers its own 400 page when the
        # client certificate does not verify: "The SSL certificate error".
        return _key_refused(server, "HTTP 400")
    try:
        body = reply.json()
        message = body["message"]
        code, zh, en = str(body["code"]), str(message["zh"]), str(message["en"])
    except (ValueError, KeyError, TypeError):
        return OnlineFailure(f"银行服务暂时不可用 (HTTP {reply.status}), 请稍后重试。",
                             f"the bank's service is not available now (HTTP {reply.status}); try again later.")
    errors = []
    if isinstance(body.get("row"), int):  # a row of the file: shown and counted like a sheet's row problem
        errors = [RowError(code=code, row=body["row"], field=body.get("field"), zh=zh, en=en)]
    return ExchangeError(code, f"银行拒绝 (HTTP {reply.status}): {zh}", f"the bank refused (HTTP {reply.status}): {en}",
                         errors=errors)


class Api:
    """One connection's worth of calls to /api/h2h/v1/ (a new TLS connection per request: the
    polls are seconds apart and a gateway may close an idle connection anyway)."""

    def __init__(self, *, server: Server, context: ssl.SSLContext) -> None:
        self.server = server
        self.context = context

    def request(self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        # Paths the API hands back (``url`` fields) already start with the prefix.
        target = (path if path.startswith(API_PREFIX) else API_PREFIX + path) + (
            f"?{urlencode(query)}" if query else "")
        sent = {"Accept": "application/json", "Accept-Language": "zh-hans", **(headers or {})}
        connection = http.client.HTTPSConnection(self.server.host, self.server.port, context=self.context,
                                                 timeout=TIMEOUT)
        try:
            connection.request(method, target, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(status=response.status, headers={k.lower(): v for k, v in response.getheaders()},
                          body=response.read())
        except ssl.SSLError as exc:
            raise _tls_failure(exc, self.server) from exc
        except (http.client.HTTPException, OSError) as exc:  # refused, reset, timed out, no such host
            raise OnlineFailure(f"无法连接银企直连地址 {self.server.base} ({exc})。请检查网络和地址 (--server)。",
                                f"cannot reach the host-to-host address {self.server.base} ({exc}). Check the "
                                "network and the address (--server).") from exc
        finally:
            connection.close()
        if reply.status >= 400:
            raise api_refusal(reply, self.server)
        return reply

    def get_json(self, path: str, **query: str) -> Any:
        return self.request("GET", path, query=query or None).json()

    def post(self, path: str, *, key: str, body: bytes = b"", content_type: str = "application/json",
             **query: str) -> Reply:
        return self.request("POST", path, query=query or None, body=body,
                            headers={"Idempotency-Key": key, "Content-Type": content_type})

    def get_bytes(self, path: str) -> bytes:
        return self.request("GET", path, headers={"Accept": "*/*"}).body
