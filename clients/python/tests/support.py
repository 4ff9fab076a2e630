"""Helpers for the client's tests: acting as the people deciding, a misbehaving proxy.

Nothing here sleeps for time to pass: helpers poll for a condition (a request exists, a
proxy has seen N polls), as tests/integration/harness.py polls for the server's port file.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Callable, List, Optional
from urllib.parse import quote


CONDITION_TIMEOUT = 30.0  # a safety net: a condition that never comes fails the test


def wait_until(predicate: Callable[[], object], what: str,
               timeout: float = CONDITION_TIMEOUT) -> object:
    """Polls `predicate` until it returns something truthy; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling for a condition, not waiting for time to pass


def pending_request(server, token, action: str, session: Optional[str] = None):
    """The newest pending request of `action`, or None."""
    query = f"/v1/requests?status=pending&action={quote(action)}"
    if session:
        query += f"&session={quote(session)}"
    r = server.call("GET", query, token=token)
    assert r.status == 200, r
    requests = r.json["requests"]
    return requests[0] if requests else None


class Decider(threading.Thread):
    """Another person: waits for a pending request of `action` to exist, optionally for
    `ready()` too, then decides it over the API with `token`."""

    def __init__(self, server, token, action: str, choice: Optional[str] = "approve",
                 comment: Optional[str] = None, cancel: bool = False,
                 ready: Optional[Callable[[], object]] = None) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.action = server, token, action
        self.choice, self.comment, self.cancel, self.ready = choice, comment, cancel, ready
        self.request = None   # the pending request as first seen
        self.response = None  # the answer to the decision
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            self.request = wait_until(
                lambda: pending_request(self.server, self.token, self.action),
                f"a pending {self.action} request")
            if self.ready is not None:
                wait_until(self.ready, "the decider's ready condition")
            rid = self.request["id"]
            if self.cancel:
                body = {"reason": "called off"}
                self.response = self.server.call("POST", f"/v1/requests/{rid}/cancel", body,
                                                 token=self.token)
            else:
                body = {"choice": self.choice}
                if self.comment:
                    body["comment"] = self.comment
                self.response = self.server.call("POST", f"/v1/requests/{rid}/decisions",
                                                 body, token=self.token)
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self):
        self.join(CONDITION_TIMEOUT)
        assert not self.is_alive(), "the decider did not finish"
        if self.error:
            raise self.error
        assert self.response is not None and self.response.status == 200, self.response
        return self.response.json


class FlakyProxy:
    """A TCP proxy in front of the server that misbehaves on purpose, deterministically.

    Until listen() is called its port is bound but not listening, so connections are refused.
    Then the first connections follow `script` ("reset": read the request, close with a TCP
    RST; "502"/"503"/"504": answer that status), and every later one is forwarded to the
    server. `forwarded` holds the request line of each forwarded request.
    """

    def __init__(self, upstream_port: int, script=()) -> None:
        self.upstream_port = upstream_port
        self.script = list(script)
        self.forwarded: List[str] = []
        self.failed: List[str] = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def listen(self) -> None:
        self.sock.listen(64)
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    def count(self, needle: str) -> int:
        with self.lock:
            return sum(1 for line in self.forwarded if needle in line)

    def _accept_loop(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                behaviour = self.script.pop(0) if self.script else "forward"
            threading.Thread(target=self._handle, args=(conn, behaviour), daemon=True).start()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _handle(self, conn: socket.socket, behaviour: str) -> None:
        try:
            request = self._read_request(conn)
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            if behaviour == "reset":
                with self.lock:
                    self.failed.append(f"reset {line}")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if behaviour != "forward":
                with self.lock:
                    self.failed.append(f"{behaviour} {line}")
                conn.sendall(f"HTTP/1.1 {behaviour} Proxy Trouble\r\nContent-Length: 0\r\n"
                             "Connection: close\r\n\r\n".encode())
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                with self.lock:
                    self.forwarded.append(line)
                upstream.sendall(request)
                while True:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    conn.sendall(chunk)
        except OSError:
            pass
        finally:
            conn.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
