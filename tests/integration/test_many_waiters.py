"""Many concurrent long-polls, each on its own pending request, all answered correctly.

The scale path of the waiter hub: N clients wait on N pending requests at once, half of the
requests are approved and half denied, and every waiter must get exactly one answer carrying
its own request in its final state. N is 1,000 (so `make test` stays fast);
COUNTERSIGN_TEST_WAITERS=10000 runs the full count of the performance issue.

The connections are held with non-blocking sockets and one selector, not a thread each. The
test raises its own open-file limit (up to the hard limit) before it starts the server, which
inherits it. Registration is confirmed through GET /metrics (countersign_waiters), never by
sleeping; nothing here is timed.
"""

import errno
import json
import os
import resource
import selectors
import shutil
import socket
import tempfile
import time
import unittest

from harness import Server

WAITERS = int(os.environ.get("COUNTERSIGN_TEST_WAITERS", "1000"))
CLIENTS = 32        # parallel connections that create and decide
CONNECT_BATCH = 500  # waiters connecting at once (stays under the listen backlog)
STALL_SECONDS = 300  # a hang guard, not a timing assertion: no progress at all this long


class Connection:
    """One non-blocking keep-alive HTTP/1.1 connection; one request in flight at a time.

    `send()` queues a request; when its response is complete `on_response(status, body)`
    is called. Answers are expected with Content-Length (the server always sends it).
    """

    def __init__(self, selector, port):
        self.selector = selector
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = self.sock.connect_ex(("127.0.0.1", port))
        if code not in (0, errno.EINPROGRESS):
            raise OSError(code, os.strerror(code))
        self.outgoing = b""
        self.incoming = b""
        self.on_response = None
        self.closed = False
        selector.register(self.sock, selectors.EVENT_WRITE, self)

    def send(self, method, path, token, body=None, on_response=None):
        assert self.on_response is None, "one request at a time"
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.outgoing += head.encode() + b"\r\n" + data
        self.on_response = on_response
        self.selector.modify(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    @property
    def sent(self):
        return not self.outgoing

    def handle(self, mask):
        if mask & selectors.EVENT_WRITE:
            error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, "connect: " + os.strerror(error))
            if self.outgoing:
                written = self.sock.send(self.outgoing)
                self.outgoing = self.outgoing[written:]
            if not self.outgoing:
                self.selector.modify(self.sock, selectors.EVENT_READ, self)
        if mask & selectors.EVENT_READ:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.close()
                if self.on_response is not None:
                    raise AssertionError("the server closed a connection with a request in flight")
                return
            self.incoming += chunk
            self._parse()

    def _parse(self):
        end = self.incoming.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = self.incoming[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise AssertionError(f"answer without Content-Length: {lines}")
        length = int(headers["content-length"])
        if len(self.incoming) < end + 4 + length:
            return
        body = self.incoming[end + 4:end + 4 + length].decode()
        self.incoming = self.incoming[end + 4 + length:]
        callback, self.on_response = self.on_response, None
        if callback is None:
            raise AssertionError(f"an answer nobody asked for: {status} {body[:200]}")
        callback(status, body)
        if self.incoming:
            self._parse()

    def close(self):
        if not self.closed:
            self.closed = True
            self.selector.unregister(self.sock)
            self.sock.close()


class ManyWaitersTest(unittest.TestCase):
    def dir_for_config(self):
        d = tempfile.mkdtemp(prefix="countersign-waiters-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def setUp(self):
        # The server and this process each hold one socket per waiter.
        needed = WAITERS + CLIENTS + 256
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            if hard != resource.RLIM_INFINITY and hard < needed:
                self.skipTest(f"{WAITERS} waiters need {needed} open files; "
                              f"the hard limit is {hard}")
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        # One agent makes every request: past the default per-principal rate and pending cap.
        config = os.path.join(self.dir_for_config(), "countersign.toml")
        with open(config, "w") as f:
            f.write('[limits]\nrate_per_principal = "0"\nmax_pending_per_principal = 0\n')
        self.server = Server(extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self._stop_server)
        self.selector = selectors.DefaultSelector()
        self.addCleanup(self.selector.close)
        self.connections = []
        self.addCleanup(self._close_connections)
        self.agent = self.server.create_token("waiting-agent", "agent")
        self.approver = self.server.create_token("approver", "approver")
        self.metrics = self.server.connection()
        self.addCleanup(self.metrics.close)

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-4000:])
        self.server.cleanup()

    def _close_connections(self):
        for c in self.connections:
            c.close()

    def connect(self):
        c = Connection(self.selector, self.server.port)
        self.connections.append(c)
        return c

    def pump(self, done, what):
        """Serves every connection until done() holds."""
        idle = 0.0
        while not done():
            events = self.selector.select(timeout=1.0)
            idle = 0.0 if events else idle + 1.0
            if idle >= STALL_SECONDS:
                self.fail(f"no activity on any connection while {what}")
            for key, mask in events:
                key.data.handle(mask)

    def waiters_gauge(self):
        self.metrics.request("GET", "/metrics")
        text = self.metrics.getresponse().read().decode()
        for line in text.splitlines():
            if line.startswith("countersign_waiters "):
                return int(line.split()[1])
        self.fail("GET /metrics has no countersign_waiters")

    def await_waiters_gauge(self, target, what):
        """Polls countersign_waiters until it equals target, serving the sockets meanwhile
        (an early answer must not go unread)."""
        last, changed_at = None, time.monotonic()
        while (value := self.waiters_gauge()) != target:
            if value != last:
                last, changed_at = value, time.monotonic()
            elif time.monotonic() - changed_at > STALL_SECONDS:
                self.fail(f"countersign_waiters stuck at {value} while {what} (want {target})")
            for key, mask in self.selector.select(timeout=0.01):
                key.data.handle(mask)

    def run_in_parallel(self, count, start):
        """Runs start(connection, i, finished) for i in range(count) over CLIENTS connections;
        start must call finished() from its response callback."""
        pool = [self.connect() for _ in range(min(CLIENTS, count))]
        state = {"next": 0, "done": 0}

        def launch(connection):
            if state["next"] < count:
                i = state["next"]
                state["next"] += 1
                start(connection, i, lambda: finish(connection))

        def finish(connection):
            state["done"] += 1
            launch(connection)

        for connection in pool:
            launch(connection)
        self.pump(lambda: state["done"] == count, f"running {count} calls")
        for connection in pool:
            connection.close()

    def test_every_waiter_gets_its_own_request_in_its_final_state(self):
        n = WAITERS
        ids = [None] * n

        def create(connection, i, finished):
            def created(status, body):
                self.assertEqual(status, 201, body)
                ids[i] = json.loads(body)["id"]
                finished()
            connection.send("POST", "/v1/requests", self.agent,
                            {"action": "scale_test", "title": f"request {i}",
                             "timeout_seconds": 3600}, created)

        self.run_in_parallel(n, create)
        self.assertEqual(len(set(ids)), n)

        # One long-poll per request, each on its own connection. A "pending" answer (the
        # server's 60 s wait ran out) is followed by another wait, as a client would do.
        answers = [None] * n
        waiters = [None] * n

        def wait(i):
            def answered(status, body):
                self.assertEqual(status, 200, body)
                request = json.loads(body)
                self.assertEqual(request["id"], ids[i], "a waiter got another request's answer")
                if request["status"] == "pending":
                    wait(i)
                else:
                    self.assertIsNone(answers[i], "a waiter was answered twice")
                    answers[i] = request
            waiters[i].send("GET", f"/v1/requests/{ids[i]}/wait?timeout=60", self.agent,
                            on_response=answered)

        for first in range(0, n, CONNECT_BATCH):
            batch = range(first, min(n, first + CONNECT_BATCH))
            for i in batch:
                waiters[i] = self.connect()
                wait(i)
            self.pump(lambda: all(waiters[i].sent for i in batch), "connecting waiters")

        # Registered once the server counts them.
        self.await_waiters_gauge(n, "registering the waiters")
        self.assertEqual([a for a in answers if a is not None], [],
                         "a waiter was answered before its request was decided")

        # Decide: even-numbered requests approved, odd-numbered denied.
        expected = ["approved" if i % 2 == 0 else "denied" for i in range(n)]

        def decide(connection, i, finished):
            def decided(status, body):
                self.assertEqual(status, 200, body)
                self.assertEqual(json.loads(body)["status"], expected[i], body)
                finished()
            choice = "approve" if expected[i] == "approved" else "deny"
            connection.send("POST", f"/v1/requests/{ids[i]}/decisions", self.approver,
                            {"choice": choice, "comment": f"decision {i}"}, decided)

        self.run_in_parallel(n, decide)
        self.pump(lambda: all(a is not None for a in answers), "waiting for the waiters' answers")

        for i, answer in enumerate(answers):
            self.assertEqual(answer["id"], ids[i])
            self.assertEqual(answer["status"], expected[i], f"waiter {i}")
            self.assertEqual([d["comment"] for d in answer["decisions"]], [f"decision {i}"])
        # The hub holds nothing once everyone is answered.
        self.await_waiters_gauge(0, "forgetting the answered waiters")


if __name__ == "__main__":
    unittest.main()
