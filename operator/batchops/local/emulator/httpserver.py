"""A small threaded HTTP/1.1 server with keep-alive, running the emulator's WSGI app.

werkzeug's development server (moto's default) closes the connection after every response, so
each boto3 call pays a TCP handshake and a new thread: about 0.8 ms, ten times the emulator's
own work for a SubmitJob. This server keeps connections open (a thread per connection, as
boto3's connection pool expects) and reads every request body completely, which is what makes
keep-alive safe. Requests go to the same WSGI app; moto's app gets a standard WSGI environ.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from batchops.local.emulator.wsgi import WsgiApp

log = logging.getLogger(__name__)

IDLE_CONNECTION_TIMEOUT = 120.0
_MAX_LINE = 65536


class KeepAliveWsgiServer(ThreadingHTTPServer):
    """Serves a WSGI app over HTTP/1.1 with persistent connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: WsgiApp) -> None:
        super().__init__((host, port), _RequestHandler)
        self.app = app
        # Open client connections, so an emulated outage can cut the keep-alive ones too.
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection, then serve it in its own thread."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection and close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open client connection, as a crashed host would: clients see a reset."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its own thread
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: KeepAliveWsgiServer

    def setup(self) -> None:
        """Set up the connection's streams, with TCP_NODELAY."""
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold the body back ~40 ms on every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """Read one request and answer it.

        Replaces http.server's version, whose email-package header parsing cost more than the
        emulator's whole SubmitJob.
        """
        try:
            self._handle_one_request()
        except (TimeoutError, ConnectionError):
            self.close_connection = True  # an idle client went away or timed out

    def _handle_one_request(self) -> None:
        request_line = self.rfile.readline(_MAX_LINE)
        if not request_line:
            self.close_connection = True
            return
        self.raw_requestline = request_line
        self.requestline = request_line.decode("latin-1").rstrip("\r\n")
        parts: list[str] = self.requestline.split()
        if len(parts) != 3:
            self.request_version, self.close_connection = "HTTP/1.0", True
            self.send_error(400, "Bad request line")
            return
        self.command, self.path, self.request_version = parts
        self._headers = _read_headers(self.rfile)
        connection = self._header("connection").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if self._header("expect").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a benchmark makes thousands of requests."""

    def _serve(self) -> None:
        body = self._read_body()
        environ = self._environ(body)
        status = "500 Internal Server Error"
        headers: list[tuple[str, str]] = []

        def start_response(
            new_status: str, new_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            nonlocal status, headers
            status, headers = new_status, list(new_headers)
            return lambda data: None  # the legacy write() callable; the apps here return bodies

        try:
            chunks = self.server.app(environ, start_response)
            try:
                payload = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("the emulator app failed on %s %s", self.command, self.path)
            status, headers, payload = "500 Internal Server Error", [], b""
        self._respond(status, headers, payload)

    def _header(self, name: str) -> str:
        """A request header's value ("" when absent); `name` in lower case."""
        return ",".join(value for key, value in self._headers if key.lower() == name)

    def _read_body(self) -> bytes:
        if "chunked" in self._header("transfer-encoding").lower():
            return self._read_chunked()
        length = int(self._header("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self._header("content-type"),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self._headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue
            key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


def _read_headers(stream: Any) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while True:
        line = stream.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
