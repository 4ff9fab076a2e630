"""Starts the real countersign binary on a loopback port and talks HTTP to it.

Stdlib only. Each Server gets its own temporary data directory; the bound port comes from the
file the server writes with --port-file once it is listening, so no test ever sleeps.
"""

import http.client
import json
import os
import re
import resource
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse

BIN = os.environ.get("COUNTERSIGN_BIN", os.path.join(os.path.dirname(__file__), "..", "..",
                                                      "build", "countersign"))
START_TIMEOUT = 30.0



def make_certificates(prefix, names=("server", "other")):
    """A temporary directory with a self-signed certificate for 127.0.0.1 and localhost per
    name: (directory, {name: (cert_file, key_file)}). The caller removes the directory."""
    directory = tempfile.mkdtemp(prefix=prefix)
    certs = {}
    for name in names:
        cert = os.path.join(directory, name + ".crt")
        key = os.path.join(directory, name + ".key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        certs[name] = (cert, key)
    return directory, certs


def poll(check, what, bound=30):
    """Calls check() until it returns something truthy, and returns that; fails after `bound`
    seconds (a guard against a hang: it polls the server for a state, not time passing)."""
    deadline = time.monotonic() + bound
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {bound}s: {what}")
        time.sleep(0.02)


def metrics(server):
    """The server's /metrics as {"name{labels}": value}."""
    r = server.call("GET", "/metrics", token=None)
    assert r.status == 200, r
    values = {}
    for line in r.body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class Server:
    """One countersign process. Use as a context manager or call start()/stop().

    tls=(cert_file, key_file) serves HTTPS with that pair; calls then trust cert_file. A test
    that turns TLS on some other way (config file, environment) sets ca_file instead.
    """

    def __init__(self, auth=True, data_dir=None, extra_args=(), env=None, tls=None,
                 open_files=None, store=None, binary=None):
        """open_files: the server process's RLIMIT_NOFILE (soft and hard), when set.
        store: the --store value (a postgres:// URL for a replica); default: a SQLite file in
        the data directory.
        binary: the countersign executable to run (one unpacked from the .deb); default BIN."""
        self.binary = binary or BIN
        self.store = store
        self.auth = auth
        self.open_files = open_files
        self.tls = tls
        self.ca_file = tls[0] if tls else None
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="countersign-it-")
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.port = None
        self.admin_token = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [self.binary, "serve", "--listen", "127.0.0.1:0",
                "--store", self.store or "sqlite:" + os.path.join(self.data_dir, "countersign.db"),
                "--port-file", port_file, "--auth", "on" if self.auth else "off"]
        if self.store:
            args += ["--data-dir", self.data_dir]  # not beside a database file
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        args += self.extra_args
        env = dict(os.environ)
        env.update(self.env or {})
        self.log = open(self.log_path, "ab")
        limit = None
        if self.open_files:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=limit)
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("countersign exited during start-up:\n" + self.read_log())
            if time.monotonic() > deadline:
                raise RuntimeError("countersign did not start:\n" + self.read_log())
            time.sleep(0.01)  # polling for the process to come up, not waiting for time
        with open(port_file) as f:
            self.port = int(f.read().strip())
        token_file = os.path.join(self.data_dir, "admin.token")
        if self.auth and os.path.exists(token_file):
            with open(token_file) as f:
                self.admin_token = f.read().strip()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Never leave a hung server behind to load the machine for the next tests.
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"the server did not stop within {timeout}s of {signal.Signals(sig).name}; "
                    "killed it")
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    @property
    def url(self):
        scheme = "https" if self.ca_file else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- HTTP --------------------------------------------------------------------------------
    def connection(self, timeout=70):
        if self.ca_file:
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(self, method, path, body=None, token="admin", headers=None, raw=None,
             content_type="application/json", conn=None):
        """One HTTP exchange. token="admin" uses the admin token, None sends no header."""
        hdrs = dict(headers or {})
        if token == "admin":
            token = self.admin_token
        if token:
            hdrs["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            hdrs.setdefault("Content-Type", content_type)
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, dict(resp.getheaders()), resp.read().decode())
        finally:
            if own:
                conn.close()

    def create_token(self, name, role, tenant=None, groups=()):
        body = {"name": name, "role": role, "groups": list(groups)}
        if tenant:
            body["tenant"] = tenant
        r = self.call("POST", "/v1/tokens", body)
        if r.status != 201:
            raise AssertionError(f"token create failed: {r}")
        return r.json["token"]

    def get_request(self, request_id, token="admin"):
        """The request as GET /v1/requests/{id} shows it; anything but 200 fails the test."""
        r = self.call("GET", f"/v1/requests/{request_id}", token=token)
        if r.status != 200:
            raise AssertionError(f"reading {request_id} failed: {r}")
        return r.json

    def audit(self, request_id, token="admin"):
        """The request's audit events, oldest first; anything but 200 fails the test."""
        r = self.call("GET", f"/v1/audit?request={request_id}&limit=1000", token=token)
        if r.status != 200:
            raise AssertionError(f"reading the audit of {request_id} failed: {r}")
        return r.json["events"]

    def post_link_form(self, path, fields, origin=None):
        """Opens the one-click link at `path` (its cookie and csrf field) and posts `fields`
        (a dict or a list of pairs) with them, as a browser would, from `origin` (the server's
        public_url; default its own URL); returns the response."""
        page = self.call("GET", path, token=None)
        if page.status != 200:
            raise AssertionError(f"opening the link {path} failed: {page}")
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        csrf = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', page.body).group(1)
        pairs = [("csrf", csrf)] + list(fields.items() if isinstance(fields, dict) else fields)
        return self.call("POST", path, token=None,
                         headers={"Cookie": cookie, "Origin": origin or self.url},
                         raw=urllib.parse.urlencode(pairs).encode(),
                         content_type="application/x-www-form-urlencoded")

    def create_request(self, token="admin", **fields):
        body = {"action": "deploy_production", "title": "Deploy v2.0"}
        body.update(fields)
        r = self.call("POST", "/v1/requests", body, token=token)
        if r.status not in (200, 201):
            raise AssertionError(f"create failed: {r}")
        return r.json


class ServerTestCase(unittest.TestCase):
    """A test case with one fresh server (auth on) per test."""

    auth = True
    extra_args = ()
    tls = None  # (cert_file, key_file) to serve HTTPS

    def setUp(self):
        self.server = Server(auth=self.auth, extra_args=self.extra_args, tls=self.tls)
        self.server.start()
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        result = getattr(self._outcome, "result", None)
        failed = result is not None and any(
            test is self for test, _ in result.errors + result.failures)
        if failed:
            print(self.server.read_log()[-4000:])
        self.server.cleanup()
