"""A fake Slack Socket Mode server on loopback: a real WebSocket server (RFC 6455), by hand.

Stdlib only (socket + threading). One FakeSocketMode listens on 127.0.0.1, port 0, and speaks
the wire format of docs/PROTOCOLS-AGENTS (Slack, Socket Mode):

  Handshake   GET /link/?ticket=T with Upgrade: websocket, Sec-WebSocket-Version: 13 and a
              Sec-WebSocket-Key; answered 101 with Sec-WebSocket-Accept. T must come from
              new_url() (FakeChat's POST /api/apps.connections.open calls it) and must not
              have been used before: a ticket is good for one connection. An unknown or used
              ticket is refused with 403, a malformed upgrade with 400; refusals are recorded.
  hello       sent first on every connection: {"type":"hello","num_connections":N,
              "debug_info":{...},"connection_info":{"app_id":"A0001"}}.
  envelopes   send_envelope(type, payload, ...) sends {"type","envelope_id","payload",
              "accepts_response_payload"} (plus "retry_attempt" and "retry_reason" for
              events_api). The client acks with a text frame {"envelope_id":id[,"payload":...]};
              wait_for_ack(id) returns it.
  disconnect  send_disconnect(reason) sends {"type":"disconnect","reason":...}; the fake then
              keeps that connection open until the client closes it, so a test can check that
              the client connected anew before closing the old connection (every Connection
              records connected_at and closed_at).
  silence     go_silent() makes a connection stop answering pings and stop sending anything,
              while the TCP connection stays open: the client's stale-socket detection must
              notice.
  frames      text frames (possibly fragmented), ping (answered with pong), pong and close (a
              client's close is echoed, then the TCP connection is closed). Client frames must
              be masked (else close 1002); server frames are not masked. Payload lengths of 7,
              16 and 64 bits are read and written. Every frame received is recorded.

Also: send_json / send_frame (anything, e.g. a server ping or a fragmented message), close()
(a closing handshake), drop() (a lost socket, no close frame), close_all(), stop(); inspection
with connections(), open_connections(), acks(), refusals(), and waits with
wait_for_connections(n), wait_for_ack(id), wait_for_close(connection), wait_for_frame(pred).

Times (connected_at, closed_at, received_at...) are time.monotonic() values, comparable with
each other. Waiting methods block on a condition variable until what they wait for has
happened, or fail with AssertionError after a generous timeout: no test sleeps for a fixed
time. Thread-safe.
"""

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import urllib.parse
import uuid

DEFAULT_TIMEOUT = 30.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_PAYLOAD = 64 * 1024 * 1024  # a bigger frame from a client closes its connection (1009)
HANDSHAKE_TIMEOUT = 10.0

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class Frame:
    """One frame received from a client (payload unmasked)."""

    def __init__(self, opcode, fin, payload):
        self.opcode = opcode
        self.fin = fin
        self.payload = payload  # bytes
        self.received_at = time.monotonic()

    def __repr__(self):
        return f"Frame(op={self.opcode:#x}, fin={self.fin}, {self.payload[:120]!r})"


class Ack:
    """An acknowledgement: a text message {"envelope_id": id[, "payload": {...}]}."""

    def __init__(self, message, connection):
        self.json = message  # the whole parsed message
        self.envelope_id = message.get("envelope_id")
        self.payload = message.get("payload")  # None when the ack carries none
        self.connection = connection
        self.received_at = time.monotonic()

    def __repr__(self):
        return f"Ack({self.envelope_id!r}, payload={self.payload!r}, conn={self.connection.index})"


class Refusal:
    """A handshake the fake refused."""

    def __init__(self, path, ticket, status, reason):
        self.path = path
        self.ticket = ticket
        self.status = status
        self.reason = reason
        self.at = time.monotonic()

    def __repr__(self):
        return f"Refusal({self.status} {self.path!r}: {self.reason})"


class Connection:
    """One accepted WebSocket connection and what happened on it."""

    def __init__(self, index, sock, path, ticket):
        self.index = index  # 0 for the first connection accepted, then 1, 2...
        self.path = path
        self.ticket = ticket
        self.connected_at = time.monotonic()
        self.closed_at = None  # set once the TCP connection is closed
        # Who ended it: "client" (its close frame started the closing handshake), "server"
        # (close(), close_all(), drop(), stop()), "eof" (the client closed TCP without a close
        # frame) or "error" (a protocol error, see close_code and close_reason).
        self.closed_by = None
        self.close_code = None  # from the client's close frame, if it sent one
        self.close_reason = None
        self.silent = False
        self.disconnect_sent_at = None
        self.frames = []  # Frame objects received, in order
        self.messages = []  # complete text messages received, parsed as JSON (or the str)
        self.sent = []  # text messages sent, parsed
        self._sock = sock
        self._pending = b""
        self._send_lock = threading.Lock()
        self._close_sent = False

    @property
    def open(self):
        return self.closed_at is None

    def __repr__(self):
        state = "open" if self.open else f"closed by {self.closed_by} ({self.close_code})"
        return f"Connection({self.index}, ticket={self.ticket!r}, {state})"


def encode_frame(opcode, payload=b"", fin=True, mask=None):
    """One frame: unmasked (as a server sends) unless a 4-byte mask is given."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask:
        return header + mask + _apply_mask(payload, mask)
    return header + payload


def _apply_mask(data, mask):
    # XOR with the 4-byte mask repeated, as one big integer operation (fast for big payloads).
    repeated = (mask * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(data), "big")


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


class _ProtocolError(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _Closed(Exception):
    """The peer closed the TCP connection."""


class FakeSocketMode:
    def __init__(self, app_id="A0001"):
        self.app_id = app_id
        self._cond = threading.Condition()
        self._tickets = {}  # ticket -> True once used
        self._connections = []
        self._refusals = []
        self._acks = []
        self._listener = None
        self._thread = None
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops listening and drops every connection (no close frames)."""
        with self._cond:
            if self._stopping or self._listener is None:
                return
            self._stopping = True
            connections = list(self._connections)
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self._listener.close()
        for connection in connections:
            self._drop(connection, "server")
        self._thread.join(DEFAULT_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._listener.getsockname()[1]

    def new_url(self):
        """A fresh connection URL whose ticket is good for one connection."""
        ticket = str(uuid.uuid4())
        with self._cond:
            self._tickets[ticket] = False
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"

    # -- sending -----------------------------------------------------------------------------
    def send_envelope(self, type, payload, envelope_id=None, retry_attempt=0, retry_reason="",
                      accepts_response_payload=False, connection=None):
        """Sends an envelope on `connection` (default: the newest open one, waiting for one if
        there is none yet); returns its envelope_id. On a silent connection nothing is sent."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": type,
                    "accepts_response_payload": accepts_response_payload}
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self.send_json(envelope, connection)
        return envelope_id

    def send_disconnect(self, reason="refresh_requested", connection=None):
        """Sends a disconnect message; the connection stays open until the client closes it.
        Returns the connection."""
        connection = self._target(connection)
        self.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}},
                       connection)
        with self._cond:
            connection.disconnect_sent_at = time.monotonic()
        return connection

    def go_silent(self, connection=None):
        """From now on `connection` (default: the newest open one) answers no ping and sends
        nothing, but stays open. Returns the connection."""
        connection = self._target(connection)
        with self._cond:
            connection.silent = True
        return connection

    def send_json(self, message, connection=None):
        """Sends any JSON message as one text frame."""
        connection = self._target(connection)
        text = json.dumps(message, separators=(",", ":"))
        if self._send(connection, OP_TEXT, text.encode()):
            with self._cond:
                connection.sent.append(message)

    def send_frame(self, opcode, payload=b"", fin=True, connection=None):
        """Sends one raw (unmasked) frame: for fragmentation or a server ping."""
        self._send(self._target(connection), opcode, payload, fin)

    def close(self, connection=None, code=1000, reason=""):
        """Starts the closing handshake on `connection`: sends a close frame; the fake closes
        the TCP connection once the client answers with its own close frame."""
        connection = self._target(connection)
        payload = struct.pack("!H", code) + reason.encode()
        self._send(connection, OP_CLOSE, payload, force=True)

    def drop(self, connection=None):
        """Closes the TCP connection abruptly, without a close frame (a lost socket)."""
        self._drop(self._target(connection), "server")

    def close_all(self, code=1001, timeout=None):
        """Starts the closing handshake on every open connection (close frames); each closes
        once its client answers with its own close frame. With a timeout, waits that long for
        all of them, then drops whatever is left. Returns the connections."""
        with self._cond:
            connections = [c for c in self._connections if c.open]
        for connection in connections:
            self._send(connection, OP_CLOSE, struct.pack("!H", code), force=True)
        if timeout is not None:
            deadline = time.monotonic() + timeout
            with self._cond:
                while any(c.open for c in connections):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            for connection in connections:
                self._drop(connection, "server")
        return connections

    # -- inspection and waiting --------------------------------------------------------------
    def connections(self):
        """Every connection accepted so far, oldest first."""
        with self._cond:
            return list(self._connections)

    def open_connections(self):
        with self._cond:
            return sum(1 for c in self._connections if c.open)

    def refusals(self):
        with self._cond:
            return list(self._refusals)

    def acks(self):
        """Every ack received, in order (Ack objects with received_at)."""
        with self._cond:
            return list(self._acks)

    def wait_for_connections(self, count, timeout=DEFAULT_TIMEOUT):
        """The connections once at least `count` have been accepted (in all, open or not)."""
        return self._wait(lambda: list(self._connections) if len(self._connections) >= count
                          else None,
                          lambda: f"{count} connection(s), got {len(self._connections)}",
                          timeout)

    def wait_for_ack(self, envelope_id, timeout=DEFAULT_TIMEOUT):
        """The Ack for `envelope_id` once the client has sent it."""
        def found():
            return next((a for a in self._acks if a.envelope_id == envelope_id), None)
        return self._wait(found, lambda: f"an ack of {envelope_id!r}; acks: {self._acks!r}",
                          timeout)

    def wait_for_close(self, connection, timeout=DEFAULT_TIMEOUT):
        """Returns `connection` once its TCP connection is closed."""
        return self._wait(lambda: connection if not connection.open else None,
                          lambda: f"{connection!r} to close", timeout)

    def wait_for_frame(self, predicate, connection=None, timeout=DEFAULT_TIMEOUT):
        """The first frame received (on `connection`, or any) for which predicate(frame) is
        true, e.g. lambda f: f.opcode == OP_PING."""
        def found():
            for c in self._connections if connection is None else [connection]:
                for frame in c.frames:
                    if predicate(frame):
                        return frame
            return None
        return self._wait(found, lambda: "a matching frame", timeout)

    def _wait(self, find, describe, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = find()
                if result is not None:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {describe()} within {timeout} s")
                self._cond.wait(left)

    # -- connections -------------------------------------------------------------------------
    def _target(self, connection):
        """`connection` itself, the connection with that index, or the newest open one."""
        with self._cond:
            if isinstance(connection, Connection):
                return connection
            if isinstance(connection, int):
                return self._connections[connection]
        return self._wait(lambda: next((c for c in reversed(self._connections) if c.open),
                                       None),
                          lambda: "an open connection", DEFAULT_TIMEOUT)

    def _send(self, connection, opcode, payload, fin=True, force=False):
        """Writes one frame unless the connection is silent (or closed); True if written."""
        with connection._send_lock:
            with self._cond:
                if not connection.open or (connection.silent and not force):
                    return False
                if opcode == OP_CLOSE:
                    if connection._close_sent:
                        return False
                    connection._close_sent = True
            try:
                connection._sock.sendall(encode_frame(opcode, payload, fin))
                return True
            except OSError:
                return False

    def _drop(self, connection, closed_by, code=None, reason=None):
        with self._cond:
            if connection.closed_at is not None:
                return
            connection.closed_at = time.monotonic()
            connection.closed_by = closed_by
            if code is not None:
                connection.close_code = code
                connection.close_reason = reason
            self._cond.notify_all()
        try:
            connection._sock.shutdown(socket.SHUT_RDWR)  # wakes its reader thread
        except OSError:
            pass
        connection._sock.close()

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return  # stopped
            with self._cond:
                if self._stopping:
                    sock.close()
                    return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        connection = self._handshake(sock)
        if connection is None:
            return
        try:
            self._read_loop(connection)
        except _ProtocolError as error:
            self._send(connection, OP_CLOSE,
                       struct.pack("!H", error.code) + error.reason.encode()[:100], force=True)
            self._drop(connection, "error", error.code, error.reason)
        except (_Closed, OSError):
            self._drop(connection, "eof")

    def _handshake(self, sock):
        """Reads the upgrade request; answers 101 and hello (returns the Connection) or an
        error status (returns None)."""
        sock.settimeout(HANDSHAKE_TIMEOUT)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk or len(data) > 65536:
                    sock.close()
                    return None
                data += chunk
        except OSError:
            sock.close()
            return None
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        target = parts[1] if len(parts) == 3 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        split = urllib.parse.urlsplit(target)
        ticket = urllib.parse.parse_qs(split.query).get("ticket", [None])[0]

        def refuse(status, reason):
            with self._cond:
                self._refusals.append(Refusal(target, ticket, status, reason))
                self._cond.notify_all()
            body = json.dumps({"ok": False, "error": reason}).encode()
            text = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}[status]
            try:
                sock.sendall(f"HTTP/1.1 {status} {text}\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                             .encode() + body)
            except OSError:
                pass
            sock.close()
            return None

        key = headers.get("sec-websocket-key", "")
        if parts[0] != "GET" or split.path not in ("/link/", "/link"):
            return refuse(404, "not_found")
        if (headers.get("upgrade", "").lower() != "websocket"
                or "upgrade" not in headers.get("connection", "").lower()
                or headers.get("sec-websocket-version") != "13"
                or len(_b64decode(key)) != 16):
            return refuse(400, "bad_upgrade")
        with self._cond:
            if self._stopping:
                sock.close()
                return None
            if ticket not in self._tickets:
                return refuse(403, "invalid_ticket")
            if self._tickets[ticket]:
                return refuse(403, "ticket_already_used")
            self._tickets[ticket] = True
            connection = Connection(len(self._connections), sock, target, ticket)
            # Bytes the client sent right after its request start its first frame.
            connection._pending = data.split(b"\r\n\r\n", 1)[1]
            hello = {"type": "hello",
                     "num_connections": sum(1 for c in self._connections if c.open) + 1,
                     "debug_info": {"host": "fake", "build_number": 1,
                                    "approximate_connection_time": 3600},
                     "connection_info": {"app_id": self.app_id}}
            connection.sent.append(hello)
            # Counted from now on (before the client can see hello); the send lock, taken
            # before the state lock is released, keeps anything else from going out first.
            connection._send_lock.acquire()
            self._connections.append(connection)
            self._cond.notify_all()
        response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n")
        try:
            sock.settimeout(None)
            sock.sendall(response.encode()
                         + encode_frame(OP_TEXT, json.dumps(hello, separators=(",", ":"))
                                        .encode()))
        except OSError:
            connection._send_lock.release()
            self._drop(connection, "eof")
            return None
        connection._send_lock.release()
        return connection

    def _read_loop(self, connection):
        reader = _Reader(connection._sock, connection._pending)
        fragments = None  # the payloads of a fragmented text message in progress
        while True:
            frame = reader.frame()
            with self._cond:
                connection.frames.append(frame)
                self._cond.notify_all()
            if frame.opcode == OP_PING:
                self._send(connection, OP_PONG, frame.payload)
            elif frame.opcode == OP_PONG:
                pass
            elif frame.opcode == OP_CLOSE:
                code, reason = None, ""
                if len(frame.payload) >= 2:
                    code = struct.unpack("!H", frame.payload[:2])[0]
                    reason = frame.payload[2:].decode("utf-8", "replace")
                with self._cond:
                    by = "server" if connection._close_sent else "client"
                self._send(connection, OP_CLOSE, frame.payload[:2])  # echoes (unless silent)
                self._drop(connection, by, code, reason)
                return
            elif frame.opcode in (OP_TEXT, OP_BINARY):
                if fragments is not None:
                    raise _ProtocolError(1002, "new message inside a fragmented one")
                if frame.fin:
                    self._message(connection, frame.opcode, frame.payload)
                else:
                    fragments = (frame.opcode, [frame.payload])
            elif frame.opcode == OP_CONTINUATION:
                if fragments is None:
                    raise _ProtocolError(1002, "continuation without a message")
                fragments[1].append(frame.payload)
                if frame.fin:
                    self._message(connection, fragments[0], b"".join(fragments[1]))
                    fragments = None

    def _message(self, connection, opcode, payload):
        if opcode == OP_BINARY:
            raise _ProtocolError(1003, "binary messages are not expected")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise _ProtocolError(1007, "invalid UTF-8") from None
        try:
            message = json.loads(text)
        except ValueError:
            message = text
        with self._cond:
            connection.messages.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                self._acks.append(Ack(message, connection))
            self._cond.notify_all()


class _Reader:
    """Reads client frames from a socket."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.buffer = bytearray(pending)

    def take(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise _Closed()
            self.buffer += chunk
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def frame(self):
        first, second = self.take(2)
        fin, opcode = bool(first & 0x80), first & 0x0F
        if first & 0x70:
            raise _ProtocolError(1002, "reserved bits set without an extension")
        if opcode not in (OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
            raise _ProtocolError(1002, f"unknown opcode {opcode:#x}")
        if not second & 0x80:
            raise _ProtocolError(1002, "client frames must be masked")
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.take(8))[0]
        if opcode >= OP_CLOSE and (length > 125 or not fin):
            raise _ProtocolError(1002, "bad control frame")
        if length > MAX_PAYLOAD:
            raise _ProtocolError(1009, "frame too big")
        mask = self.take(4)
        return Frame(opcode, fin, _apply_mask(self.take(length), mask))


def _b64decode(value):
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""
