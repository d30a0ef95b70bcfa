"""In AWS mode libpq itself insists on TLS: a server that answers "no TLS here" is refused by every kind of
connection instead of being talked to in plain text; in the local runtime the URL's sslmode is followed.

The server is a loopback listener that speaks just enough of the protocol (it answers libpq's SSLRequest
with 'N' and records what each client sent first): the local stack's PostgreSQL listens on a Unix socket
only, where libpq never negotiates TLS.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from hrms.backup import pgtools
from hrms.config import Settings, function_settings
from hrms.db import postgres
from hrms.errors import DependencyDown
from hrms.migrations import runner

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
STARTUP_3_0 = 196608


class NoTlsServer:
    """Answers 'N' to TLS (and GSSAPI) requests, then hangs up at the startup message."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.first_codes: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            with conn:
                while len(header := conn.recv(8, socket.MSG_WAITALL)) == 8:
                    code = struct.unpack("!I", header[4:])[0]
                    if code != GSSENC_REQUEST:
                        self.first_codes.append(code)  # before answering: the client waits for the answer
                    if code not in (SSL_REQUEST, GSSENC_REQUEST):
                        break
                    conn.sendall(b"N")
                    if code == SSL_REQUEST:
                        break

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def server() -> Iterator[NoTlsServer]:
    srv = NoTlsServer()
    yield srv
    srv.close()


@contextmanager
def running(url: str, *, in_lambda: bool) -> Iterator[None]:
    environ = {"DATABASE_URL": url, "PG_CONNECT_TIMEOUT_S": "3"}
    if in_lambda:
        environ["AWS_LAMBDA_FUNCTION_NAME"] = "hrms-test-MigrationFunction"
    token = function_settings.set(Settings.from_environ(environ))
    try:
        yield
    finally:
        function_settings.reset(token)


def test_every_connection_in_lambda_refuses_a_server_without_tls(server: NoTlsServer) -> None:
    # sslmode=disable in the URL does not turn TLS off in AWS.
    with running(f"postgresql://app:pw@localhost:{server.port}/hrms?sslmode=disable", in_lambda=True):
        with pytest.raises(psycopg.OperationalError, match="SSL was required"):
            postgres.connect()
        with pytest.raises(psycopg.OperationalError, match="SSL was required"):
            runner.status()
        with pytest.raises(DependencyDown) as refused:
            pgtools.live().connect()
    assert "SSL was required" in str(refused.value.__cause__)
    assert server.first_codes == [SSL_REQUEST] * 3


def test_locally_the_urls_sslmode_is_followed(server: NoTlsServer) -> None:
    url = f"postgresql://app:pw@localhost:{server.port}/hrms?sslmode=disable"
    with running(url, in_lambda=False), pytest.raises(psycopg.OperationalError) as plain:
        postgres.connect()
    assert "SSL" not in str(plain.value)
    assert server.first_codes == [STARTUP_3_0]  # straight to the startup message, no TLS asked for
