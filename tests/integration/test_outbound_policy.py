"""callback_url and every other outbound call pass one policy (issue 14, item 2).

Against the real binary: a callback_url naming an internal address in any spelling is refused
with 422 when the request is created; a name that only resolves to one is refused when the
server connects (no call is made; the outbox row fails for good); a receiver's error body is
never stored in the outbox or the audit log. The receiver is tests/testing/fake_chat.py on
loopback, allowed explicitly where a test needs it to be reached.
"""

import ipaddress
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import Answer, FakeChat  # noqa: E402

SECRET_BODY = b"internal-service-secret: db_password=hunter2"


def internal_name():
    """A host name (not localhost) that resolves only to internal addresses, or None."""
    for name in (socket.gethostname(), "ip6-localhost", "ip6-loopback"):
        try:
            infos = socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)
        except OSError:
            continue
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
        if addresses and all(a.is_loopback or a.is_private for a in addresses):
            return name
    return None


class OutboundPolicyTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeChat().start()
        self.addCleanup(self.fake.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-outbound-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, outbound=""):
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(f"""
{outbound}

[outbox]
max_attempts = 3
retry_base = "50ms"
retry_max = "200ms"
""")
        server = Server(data_dir=os.path.join(self.dir, "data"), extra_args=["--config", config])
        os.makedirs(server.data_dir, exist_ok=True)
        server.start()
        self.addCleanup(server.cleanup)
        return server

    def create(self, server, url):
        return server.call("POST", "/v1/requests",
                           {"action": "deploy", "title": "Deploy", "callback_url": url})

    def wait_rows(self, server, predicate, **params):
        deadline = time.monotonic() + 30
        query = "&".join(f"{k}={v}" for k, v in params.items())
        while True:
            r = server.call("GET", "/v1/outbox?" + query)
            self.assertEqual(r.status, 200, r)
            if predicate(r.json["outbox"]):
                return r.json["outbox"]
            if time.monotonic() > deadline:
                self.fail(f"outbox never reached the expected state: {r.json}")
            time.sleep(0.02)  # polling the server's state, not waiting for time to pass

    def test_internal_destinations_are_refused_when_the_request_is_created(self):
        server = self.start()
        port = self.fake.url.rsplit(":", 1)[1]
        refused = [
            f"http://127.0.0.1:{port}/cb",  # plain http
            f"https://127.0.0.1:{port}/cb", "https://127.1/", "https://2130706433/",
            "https://0x7f000001/", "https://017700000001/", "https://0.0.0.0/",
            "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/",
            "https://172.16.0.1/", "https://192.168.1.1/", "https://100.64.0.1/",
            "https://224.0.0.1/", "https://255.255.255.255/", "https://[::1]/", "https://[::]/",
            "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://[fe80::1]/",
            "https://[fd00::1]/", "https://[64:ff9b::a9fe:a9fe]/", "https://[2002:7f00:1::]/",
            "https://localhost/", "https://api.localhost/", "https://metadata.google.internal/",
            "https://user:pass@hooks.example.com/cb", "https://user@hooks.example.com/cb",
            "ftp://hooks.example.com/",
        ]
        for url in refused:
            with self.subTest(url=url):
                r = self.create(server, url)
                self.assertEqual(r.status, 422, r)
                self.assertIn("callback_url", r.json["error"]["message"])
        # A public https destination is fine (nothing is called until the request resolves).
        self.assertEqual(self.create(server, "https://hooks.example.com/cb").status, 201)

    def test_a_name_resolving_to_an_internal_address_is_refused_at_connect_time(self):
        name = internal_name()
        if name is None:
            self.skipTest("no host name here resolves to an internal address")
        server = self.start('[outbound]\nallow_http = true')
        port = self.fake.url.rsplit(":", 1)[1]
        r = self.create(server, f"http://{name}:{port}/agent/callback")
        self.assertEqual(r.status, 201, r)
        req = r.json
        r = server.call("POST", f"/v1/requests/{req['id']}/cancel", {})
        self.assertEqual(r.status, 200, r)
        [row] = self.wait_rows(server, lambda rows: rows and rows[0]["state"] == "failed",
                               request=req["id"])
        self.assertEqual(row["attempts"], 1)  # refused for good, not retried
        self.assertIn("refused by the outbound policy", row["last_error"])
        self.assertEqual(self.fake.requests(path="/agent/callback"), [])

    def test_the_receivers_error_body_is_never_stored(self):
        self.fake.script("/agent/callback", Answer(404, SECRET_BODY))
        server = self.start('[outbound]\nallow = ["127.0.0.1/32"]')
        req = self.create(server, f"{self.fake.url}/agent/callback").json
        r = server.call("POST", f"/v1/requests/{req['id']}/cancel", {})
        self.assertEqual(r.status, 200, r)
        [row] = self.wait_rows(server, lambda rows: rows and rows[0]["state"] == "failed",
                               request=req["id"])
        self.assertEqual(row["last_error"], "HTTP 404")
        self.assertEqual(len(self.fake.requests(path="/agent/callback")), 1)
        events = server.audit(req["id"])
        failed = [e for e in events if e["type"] == "notification.failed"]
        self.assertEqual(len(failed), 1, events)
        self.assertNotIn("hunter2", str(events))
        self.assertNotIn("hunter2", server.call("GET", f"/v1/outbox?request={req['id']}").body)

    def test_an_allow_list_entry_must_be_a_host_an_address_or_a_cidr(self):
        with self.assertRaises(RuntimeError) as raised:
            self.start('[outbound]\nallow = ["10.0.0.0/33"]')
        self.assertIn("outbound.allow", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
