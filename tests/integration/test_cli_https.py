"""The `countersign` client over HTTPS and through an HTTP proxy, against a real server.

The server runs with --tls-cert/--tls-key and a throwaway self-signed certificate for
127.0.0.1 (made with the openssl command-line tool, like test_tls.py). The CLI must verify it:
with --cacert or COUNTERSIGN_CA_FILE it works, without them it fails with a certificate
error. Proxies come from libcurl's environment variables; LoopbackProxy below is a forward
proxy on a loopback port (absolute-URI requests and CONNECT tunnels) that records what it
relays, so a test sees whether the CLI went through it.
"""

import http.client
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness

CLI_TIMEOUT = 120  # seconds; a safety net so a hung CLI fails the test instead of the run
RELEASE_TIMEOUT = 60  # seconds StreamingUpstream holds its result back at most
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                   "ALL_PROXY", "no_proxy", "NO_PROXY")

CERTS = {}  # name -> (cert_file, key_file), made once by setUpModule
_cert_dir = None


def setUpModule():
    global _cert_dir
    _cert_dir, made = harness.make_certificates("countersign-cli-https-")
    CERTS.update(made)


def tearDownModule():
    shutil.rmtree(_cert_dir, ignore_errors=True)


def clean_env():
    """The caller's environment without COUNTERSIGN_* and proxy variables."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("COUNTERSIGN_") and k not in PROXY_VARIABLES}


def run_cli(args, env):
    return subprocess.run([harness.BIN] + list(args), env=env, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)


class LoopbackProxy:
    """A forward HTTP proxy on 127.0.0.1: relays `METHOD http://host:port/path` requests and
    CONNECT tunnels, and records each request line it relayed in `requests`."""

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._relay(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def seen(self):
        with self._lock:
            return list(self.requests)

    def _relay(self, client):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        with self._lock:
            self.requests.append(f"{method} {target}")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)), timeout=30)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            # http://host:port/path -> /path, on a connection of its own to host:port.
            authority, _, path = target.split("://", 1)[1].partition("/")
            host, port = authority.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)), timeout=30)
            fields = [line for line in lines[1:]
                      if not line.lower().startswith("proxy-connection:")]
            request = f"{method} /{path} {version}\r\n" + "".join(f + "\r\n" for f in fields)
            upstream.sendall(request.encode("latin-1") + b"\r\n")
        if rest:
            upstream.sendall(rest)
        back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
        back.start()
        self._pipe(client, upstream)
        back.join(timeout=CLI_TIMEOUT)
        upstream.close()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class CliOverHttpsTest(harness.ServerTestCase):
    tls = None  # set in setUp, once setUpModule made the certificate

    def setUp(self):
        self.tls = CERTS["server"]
        self.ca_file = CERTS["server"][0]
        super().setUp()

    def env(self, ca_file_env=None, **extra):
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = self.server.admin_token
        if ca_file_env:
            env["COUNTERSIGN_CA_FILE"] = ca_file_env
        env.update(extra)
        return env

    def request(self, env, *extra):
        """`request --json` with `extra` options; returns the request it created."""
        r = run_cli(["request", "--action", "deploy_production", "--title", "over https",
                     "--json"] + list(extra), env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_request_get_and_ls_work_with_cacert(self):
        env = self.env()
        created = self.request(env, "--cacert", self.ca_file)
        self.assertEqual(created["status"], "pending")
        self.assertTrue(self.server.url.startswith("https://127.0.0.1:"))
        r = run_cli(["get", created["id"], "--cacert", self.ca_file, "--json"], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["id"], created["id"])
        r = run_cli(["ls", "--url", self.server.url, "--cacert", self.ca_file], clean_env()
                    | {"COUNTERSIGN_TOKEN": self.server.admin_token})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(created["id"], r.stdout)

    def test_request_wait_hears_the_decision_over_https(self):
        alice = self.server.create_token("alice", "approver")
        proc = subprocess.Popen(
            [harness.BIN, "request", "--action", "deploy_production", "--title", "held",
             "--wait", "--cacert", self.ca_file], env=self.env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        request_id = None
        deadline = time.monotonic() + 30
        while request_id is None and time.monotonic() < deadline:
            r = self.server.call("GET", "/v1/requests?status=pending&limit=100")
            self.assertEqual(r.status, 200, r)
            request_id = next((q["id"] for q in r.json["requests"] if q["title"] == "held"), None)
            if proc.poll() is not None:
                self.fail(f"the CLI exited early: {proc.returncode} {proc.communicate()}")
            time.sleep(0.01)  # polling for the CLI's request to appear, not waiting for time
        self.assertIsNotNone(request_id, "the CLI's request never appeared")
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": "approve"}, token=alice)
        self.assertEqual(r.status, 200, r)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn(request_id + " approved by alice", out)

    def test_without_a_ca_the_self_signed_certificate_is_refused_with_exit_3(self):
        for args in (["ls"], ["get", "req_x"], ["request", "--action", "a", "--title", "t"]):
            with self.subTest(args=args):
                r = run_cli(args, self.env())
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn("cannot reach countersign at " + self.server.url, r.stderr)
                self.assertIn("certificate", r.stderr)
        self.assertEqual(self.server.call("GET", "/v1/requests").json["requests"], [])

    def test_a_ca_that_did_not_sign_the_certificate_is_refused(self):
        r = run_cli(["ls", "--cacert", CERTS["other"][0]], self.env())
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot reach countersign at " + self.server.url, r.stderr)
        self.assertIn("certificate", r.stderr)

    def test_countersign_ca_file_is_the_default_and_cacert_overrides_it(self):
        created = self.request(self.env(ca_file_env=self.ca_file))
        self.assertEqual(created["status"], "pending")
        r = run_cli(["ls", "--cacert", CERTS["other"][0]], self.env(ca_file_env=self.ca_file))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("certificate", r.stderr)

    def test_an_unreadable_ca_file_is_named(self):
        missing = os.path.join(_cert_dir, "missing.crt")
        for env, args in ((self.env(), ["ls", "--cacert", missing]),
                          (self.env(ca_file_env=missing), ["ls"])):
            with self.subTest(args=args):
                r = run_cli(args, env)
                self.assertEqual(r.returncode, 3, r.stderr)
                self.assertIn("cannot read CA file " + missing, r.stderr)

    def test_receipt_verify_fetches_the_keys_over_https(self):
        r = run_cli(["receipt", "verify", "not-a-receipt", "--cacert", self.ca_file], self.env())
        # The keys were fetched (else exit 3 naming the server): the receipt itself is invalid.
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("cannot reach", r.stderr)

    def test_https_proxy_carries_the_calls_through_a_connect_tunnel(self):
        proxy = LoopbackProxy()
        self.addCleanup(proxy.close)
        env = self.env(HTTPS_PROXY=proxy.url)
        created = self.request(env, "--cacert", self.ca_file)
        r = run_cli(["get", created["id"], "--cacert", self.ca_file], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        authority = f"127.0.0.1:{self.server.port}"
        self.assertEqual(proxy.seen(), [f"CONNECT {authority}", f"CONNECT {authority}"])

    def test_no_proxy_bypasses_the_https_proxy(self):
        proxy = LoopbackProxy()
        self.addCleanup(proxy.close)
        for no_proxy in ("NO_PROXY", "no_proxy"):
            with self.subTest(no_proxy=no_proxy):
                env = self.env(HTTPS_PROXY=proxy.url, **{no_proxy: "127.0.0.1"})
                self.request(env, "--cacert", self.ca_file)
        self.assertEqual(proxy.seen(), [])


class StreamingUpstream:
    """An MCP server over Streamable HTTP on https://127.0.0.1 with the `other` certificate:
    it answers initialize with an event stream, a log notification first and the result only
    once `release` is set, so a reader proves each event came through as it arrived."""

    def __init__(self):
        self.release = threading.Event()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if "id" not in message:  # notifications/initialized
                    self.send_response(202)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Mcp-Session-Id", "upstream-session")
                self.send_header("Connection", "close")
                self.end_headers()
                log = {"jsonrpc": "2.0", "method": "notifications/message",
                       "params": {"level": "info", "data": "starting"}}
                self.wfile.write(f"data: {json.dumps(log)}\n\n".encode())
                self.wfile.flush()
                # Not released: the first event never reached the reader on its own.
                name = "upstream" if upstream.release.wait(RELEASE_TIMEOUT) else "not released"
                result = {"jsonrpc": "2.0", "id": message["id"], "result": {
                    "protocolVersion": "2025-06-18", "capabilities": {},
                    "serverInfo": {"name": name, "version": "1"}}}
                self.wfile.write(f"data: {json.dumps(result)}\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*CERTS["other"])
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/mcp"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


class McpProxyHttpsUpstreamTest(harness.ServerTestCase):
    """`mcp proxy --upstream-url https://...`: the upstream's event stream, read over TLS
    piece by piece (HttpExchange::ReadSome), reaches the agent event by event."""

    def setUp(self):
        self.tls = CERTS["server"]
        super().setUp()
        self.upstream = StreamingUpstream()
        self.addCleanup(self.upstream.close)

    def start_proxy(self, *extra):
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_CA_FILE"] = CERTS["server"][0]
        env["COUNTERSIGN_TOKEN"] = self.server.create_token("agent", "agent")
        proc = subprocess.Popen(
            [harness.BIN, "mcp", "proxy", "--upstream-url", self.upstream.url, "--listen",
             "127.0.0.1:0", "--gate", "delete_*"] + list(extra),
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Its log goes on after the line looked for: read it all, so the proxy never blocks
        # on a full pipe.
        drain = threading.Thread(target=proc.stderr.read, daemon=True)

        def stop():
            proc.kill()
            proc.wait()
            if drain.ident is not None:  # started
                drain.join(timeout=CLI_TIMEOUT)
            proc.stderr.close()

        self.addCleanup(stop)
        for line in proc.stderr:
            if "mcp proxy listening on http://" in line:
                drain.start()
                return line.rsplit("http://", 1)[1].strip().split("/", 1)[0]
        self.fail(f"the proxy did not start: exit {proc.wait()}")

    def initialize(self, address):
        host, port = address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=CLI_TIMEOUT)
        self.addCleanup(conn.close)
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}}
        conn.request("POST", "/mcp", body=json.dumps(body), headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
        return conn.getresponse()

    @staticmethod
    def next_event(response):
        """The data of the next event on `response`'s stream."""
        data = []
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                return json.loads("\n".join(data))
        raise AssertionError("the stream ended")

    def test_the_upstreams_events_arrive_one_by_one_over_https(self):
        response = self.initialize(self.start_proxy("--upstream-cacert", CERTS["other"][0]))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type").split(";")[0], "text/event-stream")
        self.assertEqual(response.getheader("Mcp-Session-Id"), "upstream-session")
        # The upstream holds its result back until the first event has come through.
        self.assertEqual(self.next_event(response)["method"], "notifications/message")
        self.upstream.release.set()
        self.assertEqual(self.next_event(response)["result"]["serverInfo"]["name"], "upstream")

    def test_upstream_cacert_goes_with_upstream_url(self):
        r = run_cli(["mcp", "proxy", "--upstream-cacert", CERTS["other"][0], "--", "true"],
                    clean_env())
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("--upstream-cacert goes with --upstream-url", r.stderr)

    def test_an_upstream_certificate_outside_the_trusted_cas_is_a_502(self):
        self.upstream.release.set()
        response = self.initialize(self.start_proxy())  # the system's CAs: `other` is unknown
        self.assertEqual(response.status, 502)
        error = json.loads(response.read())["error"]
        self.assertIn("cannot reach the upstream MCP server at " + self.upstream.url,
                      error["message"])
        self.assertIn("certificate", error["message"])


class CliThroughHttpProxyTest(harness.ServerTestCase):
    """A plain http:// server, reached through http_proxy."""

    def env(self, **extra):
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = self.server.admin_token
        env.update(extra)
        return env

    def test_http_proxy_relays_absolute_uri_requests(self):
        proxy = LoopbackProxy()
        self.addCleanup(proxy.close)
        env = self.env(http_proxy=proxy.url)
        r = run_cli(["request", "--action", "a", "--title", "t", "-q"], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        request_id = r.stdout.strip()
        r = run_cli(["get", request_id], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(proxy.seen(), [f"POST {self.server.url}/v1/requests",
                                        f"GET {self.server.url}/v1/requests/{request_id}"])

    def test_no_proxy_bypasses_the_http_proxy(self):
        proxy = LoopbackProxy()
        self.addCleanup(proxy.close)
        r = run_cli(["ls"], self.env(http_proxy=proxy.url, NO_PROXY="127.0.0.1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(proxy.seen(), [])

    def test_upper_case_http_proxy_is_ignored_as_by_curl(self):
        proxy = LoopbackProxy()
        self.addCleanup(proxy.close)
        r = run_cli(["ls"], self.env(HTTP_PROXY=proxy.url))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(proxy.seen(), [])

    def test_an_unreachable_proxy_is_reported_as_unreachable(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        r = run_cli(["ls"], self.env(http_proxy=f"http://127.0.0.1:{closed}"))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot reach countersign at " + self.server.url, r.stderr)


if __name__ == "__main__":
    unittest.main()
