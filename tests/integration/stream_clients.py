"""Stdlib clients for the live streams: Server-Sent Events (GET /v1/events) and WebSocket
(GET /v1/ws), over plain sockets so a test controls buffering, timeouts and TLS.

Both read with a socket timeout that only bounds a broken test; no test waits for time.
"""

import base64
import hashlib
import json
import os
import socket
import ssl
import struct

IO_TIMEOUT = 30.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class StreamRefused(Exception):
    """The server answered the stream request with an ordinary (error) response."""

    def __init__(self, status, headers, body):
        super().__init__(f"{status}: {body[:300]!r}")
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None


def _connect(server, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        # Before connect(), so the window the server sees is small from the first segment.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(IO_TIMEOUT)
    sock.connect(("127.0.0.1", server.port))
    if server.ca_file:
        context = ssl.create_default_context(cafile=server.ca_file)
        sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
    return sock


class _Connection:
    def __init__(self, server, path, token, headers, rcvbuf=None):
        if token == "admin":
            token = server.admin_token
        self.sock = _connect(server, rcvbuf)
        self.buffer = b""
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.status, self.headers = self._read_head()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the stream")
        self.buffer += chunk

    def _read_head(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def refuse(self):
        """Reads the body of an ordinary response and raises StreamRefused with it."""
        length = int(self.headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body = self.buffer[:length].decode()
        self.close()
        raise StreamRefused(self.status, self.headers, body)

    def read_to_eof(self):
        """Reads until the server closes; returns everything read. Resets count as a close."""
        data = self.buffer
        self.buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return data
                data += chunk
        except (ConnectionResetError, ssl.SSLError):
            return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SseClient(_Connection):
    """GET /v1/events...; next_event() returns {"id", "event", "data"} (data parsed as JSON),
    skipping comments (heartbeats)."""

    def __init__(self, server, path="/v1/events", token="admin", headers=None, rcvbuf=None):
        super().__init__(server, path, token, headers, rcvbuf)
        if self.status != 200:
            self.refuse()
        self.comments = 0

    def next_event(self):
        while True:
            while b"\n\n" not in self.buffer:
                self._fill()
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            event = {}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                event[name] = value[1:] if value.startswith(" ") else value
            if not event:
                self.comments += 1
                continue
            if "data" in event:
                event["data"] = json.loads(event["data"])
            return event

    def events_until(self, predicate):
        """Reads events up to and including the first for which predicate(event) is true."""
        out = []
        while True:
            event = self.next_event()
            out.append(event)
            if predicate(event):
                return out


class WsClient(_Connection):
    """GET /v1/ws...: a WebSocket client. next_message() returns the next text message parsed
    as JSON (answering pings); a close frame raises WsClosed."""

    def __init__(self, server, path="/v1/ws", token="admin", headers=None, rcvbuf=None):
        key = base64.b64encode(os.urandom(16)).decode()
        all_headers = {"Upgrade": "websocket", "Connection": "Upgrade",
                       "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
        all_headers.update(headers or {})
        super().__init__(server, path, token, all_headers, rcvbuf)
        if self.status != 101:
            self.refuse()
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != expected:
            raise AssertionError(f"bad Sec-WebSocket-Accept: {self.headers}")
        self.closed = None
        self.sent_close = False

    def _take(self, n):
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _frame(self):
        first, second = self._take(2)
        fin, opcode = first & 0x80, first & 0x0F
        if second & 0x80:
            raise AssertionError("the server masked a frame")
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return bool(fin), opcode, self._take(length)

    def send_frame(self, opcode, payload=b""):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def next_message(self):
        message = b""
        while True:
            fin, opcode, payload = self._frame()
            if opcode == 0x9:  # ping
                self.send_frame(0xA, payload)
                continue
            if opcode == 0xA:  # pong
                continue
            if opcode == 0x8:  # close
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode())
                if not self.sent_close:
                    # Completes the closing handshake, as RFC 6455 asks.
                    self.send_frame(0x8, payload[:2])
                    self.sent_close = True
                raise WsClosed(*self.closed)
            message += payload
            if fin:
                return json.loads(message)

    def messages_until(self, predicate):
        out = []
        while True:
            message = self.next_message()
            out.append(message)
            if predicate(message):
                return out

    def close_handshake(self, code=1000):
        """Sends a close frame and reads until the server's; returns its (code, reason)."""
        self.send_frame(0x8, struct.pack("!H", code))
        self.sent_close = True
        try:
            while True:
                self.next_message()
        except WsClosed as closed:
            return closed.code, closed.reason
        finally:
            self.close()


class WsClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"WebSocket closed: {code} {reason!r}")
        self.code = code
        self.reason = reason
