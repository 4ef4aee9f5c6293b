"""A loopback HTTP proxy that injects faults in front of a real model server.

Each request takes the next fault from a cycled schedule: "ok" forwards it; "500"/"429"/"503" answer
that status; "drop" closes the connection without a response; "slow" waits `slow_s` before
forwarding (longer than the client's timeout); "garbage" answers 200 with a body that is not JSON;
"hang" reads the request and sends nothing for `hang_s` (a server that accepts but never answers);
"stall" forwards the request and sends the reply's headers and first event, then nothing for `hang_s`.
"""

from __future__ import annotations

import http.client
import itertools
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, upstream: str, schedule: list[str], slow_s: float = 3.0, hang_s: float = 30.0):
        self.upstream = urlsplit(upstream)
        self._faults = itertools.cycle(schedule)
        self._lock = threading.Lock()
        self.slow_s = slow_s
        self.hang_s = hang_s
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self, None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy._handle(self, body)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a dropped connection is the point of the "drop" fault

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes | None) -> None:
        with self._lock:
            fault = next(self._faults)
            self.seen.append(fault)
        if fault in ("500", "429", "503"):
            _reply(h, int(fault), b'{"error": {"message": "injected fault"}}')
            return
        if fault == "drop":
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        if fault == "garbage":
            _reply(h, 200, b"<html>upstream exploded{{{")
            return
        if fault == "hang":
            time.sleep(self.hang_s)
            h.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.slow_s)
        self._forward(h, body, stall=fault == "stall")

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes | None, stall: bool = False) -> None:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=300)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(h.command, h.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if stall:  # the first server-sent event, then silence with the connection open
                h.wfile.write(data[: data.find(b"\n\n") + 2])
                h.wfile.flush()
                time.sleep(self.hang_s)
                h.close_connection = True
                return
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout) meanwhile
            pass
        finally:
            conn.close()


def _reply(h: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(payload)))
    h.end_headers()
    h.wfile.write(payload)
