"""Real receivers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP server for Slack and
webhook payloads that can be told to fail."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "alerts"
SMTP_PASSWORD = "s3cret-pa55"  # noqa: S105 - a test server's password
SLACK_SECRET = "T0000/B0000/XXXXsecretTOKEN"  # noqa: S105 - a fake webhook token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    received_at: float
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None
        return str(part.get_content())


@dataclass
class SmtpServer:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def subjects(self, containing: str = "") -> list[str]:
        return [m.subject for m in self.mails if containing in m.subject]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server.mails.append(Mail(time.time(), message))
        return "250 OK"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cert.pem doubles as the trusted CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def smtp_server(
    tls_files: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SmtpServer]:
    """A real SMTP server that requires STARTTLS and then a login.

    The client trusts the test certificate through SSL_CERT_FILE, which
    ``ssl.create_default_context()`` honours: no test-only switch in the product code.
    """
    cert_file, key_file = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)
    server = SmtpServer("127.0.0.1", free_port())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    def authenticate(
        _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            server.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    controller = Controller(
        _Handler(server),
        hostname=server.host,
        port=server.port,
        authenticator=authenticate,
        auth_required=True,
        tls_context=context,
        require_starttls=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class Request:
    path: str
    body: Any
    received_at: float
    status: int


class HttpReceiver:
    """Records every POST; ``fail(path, n)`` answers the next n POSTs to ``path`` with 500."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with receiver._lock:
                    left = receiver._failures.get(self.path, 0)
                    status = 500 if left > 0 else 200
                    if left > 0:
                        receiver._failures[self.path] = left - 1
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw
                    receiver.requests.append(Request(self.path, body, time.time(), status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, times: int) -> None:
        with self._lock:
            self._failures[path] = times

    def delivered(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.status == 200]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


SLACK_PATH = f"/slack/services/{SLACK_SECRET}"
WEBHOOK_PATH = "/hook"
