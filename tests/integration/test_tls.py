"""HTTPS: the smoke subset over TLS with a throwaway self-signed certificate, and TLS start-up.

The certificates are made at test time with the openssl command-line tool (Debian's openssl
package) in a temporary directory, valid for 127.0.0.1 and localhost.
"""

import http.client
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

import harness
from harness import BIN, Server, ServerTestCase

CERTS = {}  # name -> (cert_file, key_file), made once by setUpModule
_cert_dir = None


def setUpModule():
    global _cert_dir
    _cert_dir, made = harness.make_certificates("countersign-tls-")
    CERTS.update(made)


def tearDownModule():
    shutil.rmtree(_cert_dir, ignore_errors=True)


def waiters(server):
    for line in server.call("GET", "/metrics", token=None).body.splitlines():
        if line.startswith("countersign_waiters "):
            return int(line.split()[1])
    raise AssertionError("no countersign_waiters metric")


class TlsTestCase(ServerTestCase):
    def setUp(self):
        self.tls = CERTS["server"]
        super().setUp()


class HttpsSmokeTest(TlsTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")

    def test_healthz_answers_over_https_and_the_log_says_https(self):
        r = self.server.call("GET", "/healthz", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertIn(f"countersign listening on https://127.0.0.1:{self.server.port}",
                      self.server.read_log())
        self.assertTrue(self.server.url.startswith("https://"))

    def test_request_is_created_and_a_long_poll_is_woken_by_the_decision(self):
        req = self.server.create_request(token=self.agent)
        self.assertEqual(req["status"], "pending")
        answers = queue.Queue()
        thread = threading.Thread(target=lambda: answers.put(self.server.call(
            "GET", f"/v1/requests/{req['id']}/wait?timeout=60", token=self.agent)), daemon=True)
        thread.start()
        # The waiter is registered once the server counts it; poll that state, do not sleep.
        while waiters(self.server) < 1:
            pass
        decided = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                   {"choice": "approve", "comment": "over TLS"},
                                   token=self.alice)
        self.assertEqual(decided.status, 200, decided)
        answer = answers.get(timeout=30)
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.json["status"], "approved")
        self.assertEqual(answer.json["decisions"][0]["comment"], "over TLS")

    def test_a_long_poll_whose_client_leaves_is_freed_at_once(self):
        req = self.server.create_request(token=self.agent)
        conn = self.server.connection()
        conn.request("GET", f"/v1/requests/{req['id']}/wait?timeout=60",
                     headers={"Authorization": "Bearer " + self.agent})
        while waiters(self.server) < 1:
            pass
        conn.close()
        # Long before the 60 s timeout: the waiter is gone, and the request stays pending.
        deadline = time.monotonic() + 20
        while waiters(self.server) > 0:
            self.assertLess(time.monotonic(), deadline, "the waiter was not freed")
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")
        # The server carries on over TLS.
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_missing_token_is_401(self):
        r = self.server.call("GET", "/v1/requests", token=None)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json["error"]["code"], "unauthorized")

    def test_two_mebibyte_body_is_413_and_the_server_carries_on(self):
        big = json.dumps({"action": "a", "title": "t", "details": {"x": "y" * (2 << 20)}})
        r = self.server.call("POST", "/v1/requests", raw=big.encode(), token=self.agent)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json["error"]["code"], "too_large")
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_malformed_json_is_400(self):
        r = self.server.call("POST", "/v1/requests", raw=b'{"action": "x", ', token=self.agent)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["error"]["code"], "malformed")

    def test_keep_alive_serves_several_requests_on_one_tls_connection(self):
        conn = self.server.connection()
        self.addCleanup(conn.close)
        for _ in range(3):
            self.assertEqual(self.server.call("GET", "/healthz", token=None, conn=conn).status,
                             200)
        created = self.server.call("POST", "/v1/requests", {"action": "a", "title": "t"},
                                   token=self.agent, conn=conn)
        self.assertEqual(created.status, 201, created)

    def test_an_answer_that_closes_the_connection_ends_it_with_close_notify(self):
        # A ragged close (no close_notify) raises SSLEOFError here instead of reading b"".
        context = ssl.create_default_context(cafile=self.server.ca_file)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1",
                                     suppress_ragged_eofs=False) as tls:
                tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                            "Connection: close\r\n\r\n".encode())
                received = b""
                while chunk := tls.recv(65536):
                    received += chunk
        self.assertTrue(received.startswith(b"HTTP/1.1 200 OK\r\n"), received[:200])
        self.assertIn(b"\r\nConnection: close\r\n", received)

    def test_tls_1_2_clients_are_served(self):
        context = ssl.create_default_context(cafile=self.server.ca_file)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=30,
                                           context=context)
        self.addCleanup(conn.close)
        self.assertEqual(self.server.call("GET", "/healthz", token=None, conn=conn).status, 200)
        self.assertEqual(conn.sock.version(), "TLSv1.2")

    def test_tls_1_1_is_refused(self):
        context = ssl.create_default_context(cafile=self.server.ca_file)
        # Let this client offer TLS 1.1 at all, so the refusal is the server's.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_plain_http_to_the_tls_port_fails_and_the_server_carries_on(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            reply = b""
            try:
                while chunk := sock.recv(4096):  # the server closes: no hang
                    reply += chunk
            except ConnectionResetError:
                pass
        self.assertFalse(reply.startswith(b"HTTP/"), reply)
        self.assertIsNone(self.server.proc.poll())
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_a_client_that_distrusts_the_certificate_fails_and_the_server_carries_on(self):
        context = ssl.create_default_context(cafile=CERTS["other"][0])
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.assertEqual(self.server.call("GET", "/healthz", token=None).status, 200)

    def test_sigterm_closes_idle_tls_connections_and_exits_cleanly(self):
        conn = self.server.connection()
        self.addCleanup(conn.close)
        self.assertEqual(self.server.call("GET", "/healthz", token=None, conn=conn).status, 200)
        self.assertEqual(self.server.stop(), 0)
        self.assertIn("stopped cleanly", self.server.read_log())


class TlsStartupTest(unittest.TestCase):
    def run_serve(self, *args, env=None):
        with tempfile.TemporaryDirectory() as d:
            return subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0",
                                   "--store", f"sqlite:{d}/cs.db", *args],
                                  capture_output=True, text=True, timeout=30,
                                  env=dict(os.environ, **(env or {})))

    def test_missing_key_file_exits_1_naming_the_file(self):
        missing = os.path.join(_cert_dir, "missing.key")
        r = self.run_serve("--tls-cert", CERTS["server"][0], "--tls-key", missing)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"cannot load the TLS private key from {missing}", r.stdout + r.stderr)

    def test_certificate_that_is_not_pem_exits_1_naming_the_file(self):
        r = self.run_serve("--tls-cert", CERTS["server"][1], "--tls-key", CERTS["server"][1])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(f"cannot load the TLS certificate chain from {CERTS['server'][1]}",
                      r.stdout + r.stderr)

    def test_key_of_another_certificate_exits_1(self):
        r = self.run_serve("--tls-cert", CERTS["server"][0], "--tls-key", CERTS["other"][1])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("does not match the certificate", r.stdout + r.stderr)

    def test_certificate_without_key_is_refused(self):
        r = self.run_serve("--tls-cert", CERTS["server"][0])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("configuration error: tls_cert is set but tls_key is not",
                      r.stdout + r.stderr)

    def test_key_without_certificate_from_the_environment_is_refused(self):
        r = self.run_serve(env={"COUNTERSIGN_TLS_KEY": CERTS["server"][1]})
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("configuration error: tls_key is set but tls_cert is not",
                      r.stdout + r.stderr)

    def test_config_file_keys_serve_https(self):
        cert, key = CERTS["server"]
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "countersign.toml")
            with open(config, "w") as f:
                f.write(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
            server = Server(data_dir=d, extra_args=["--config", config])
            server.ca_file = cert
            with server:
                self.assertEqual(server.call("GET", "/healthz", token=None).status, 200)
                self.assertIn("listening on https://", server.read_log())


if __name__ == "__main__":
    unittest.main()
