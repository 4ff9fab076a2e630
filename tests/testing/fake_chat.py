"""Fake chat servers on loopback: Slack's Web API, Slack incoming webhooks and response_urls,
Microsoft Teams Workflows / connector URLs, and generic webhook receivers.

Stdlib only. One FakeChat is one ThreadingHTTPServer on 127.0.0.1, port 0. It speaks the wire
formats of docs/PROTOCOLS (the Slack and Teams sections) and records every request it gets
(method, path, headers, raw body, parsed JSON), so tests can assert exact payloads.

Recorded requests keep their query string apart from the path (`query`); PATCH is served
like POST.

Routes:
  POST /api/chat.postMessage  Slack Web API: needs `Authorization: Bearer <bot_token>` and a
  POST /api/chat.update       JSON body; answers {"ok":true,"channel":C,"ts":T} (ts increasing;
                              an update needs a ts this fake handed out, else
                              {"ok":false,"error":"message_not_found"}).
  POST /services/...          Slack incoming webhook: answers 200 "ok".
  POST /response/...          Slack response_url: answers 200 {"ok":true}.
  POST /teams/...             Teams Workflows webhook: answers 202 with no body.
  POST /connector/...         legacy Teams connector: answers 200 "1".
  anything else               a generic webhook receiver: answers 200 with no body.

Scripted answers: script(path, answer, ...) queues answers for one path, used (and removed) in
order before the route's own answer, e.g. two 500s then the normal answer, a 429 with
Retry-After, or {"ok":false,"error":"channel_not_found"}. Scripted requests are recorded too.

Waiting: wait_for(count, path=...) blocks on a condition variable until that many matching
requests have arrived (or fails after a generous timeout): no test sleeps for a fixed time.
Thread-safe.
"""

import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse

DEFAULT_TIMEOUT = 30.0


class Recorded:
    """One request the fake received."""

    def __init__(self, method, path, headers, body, answer, query=""):
        self.method = method
        self.path = path
        self.query = query  # the raw query string, without "?"
        self.headers = headers  # names lower-cased
        self.body = body  # bytes, exactly as received
        self.json = _json_or_none(body)
        self.answer_status = answer.status
        self.answer_json = _json_or_none(answer.body)  # what the fake answered, when JSON

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"Recorded({self.method} {self.path} -> {self.answer_status}, {self.body[:200]!r})"


class Answer:
    """A scripted answer: status, body (bytes, str or a JSON-able value) and headers."""

    def __init__(self, status=200, body=b"", headers=None):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        if isinstance(body, str):
            body = body.encode()
        self.body = body
        self.headers = dict(headers or {})


def slack_error(error, status=200, retry_after=None):
    """The Web API's failure answer: HTTP 200 {"ok":false,"error":...} (429 for ratelimited)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Answer(status, {"ok": False, "error": error}, headers)


class FakeChat:
    def __init__(self, bot_token="xoxb-test-token"):
        self.bot_token = bot_token
        self._cond = threading.Condition()
        self._requests = []
        self._scripts = {}
        self._next_ts = 0
        self._messages = {}  # (channel, ts) -> the last posted or updated JSON body
        self._server = None
        self._thread = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

            def do_PATCH(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base(self):
        return self.url + "/api"

    # -- scripting and inspection ------------------------------------------------------------
    def script(self, path, *answers):
        """Queues answers for `path`, used before the route's own answer."""
        with self._cond:
            self._scripts.setdefault(path, []).extend(answers)

    def requests(self, path=None, prefix=None):
        with self._cond:
            return [r for r in self._requests if _matches(r, path, prefix)]

    def wait_for(self, count, path=None, prefix=None, timeout=DEFAULT_TIMEOUT):
        """The matching requests once at least `count` have arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self._requests if _matches(r, path, prefix)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} request(s) to {path or prefix or 'any path'} within "
                        f"{timeout} s, got {len(found)}: {self._requests!r}")
                self._cond.wait(left)

    def wait_until(self, predicate, path=None, prefix=None, timeout=DEFAULT_TIMEOUT):
        """The first matching request for which predicate(recorded) is true, once one has
        arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self._requests:
                    if _matches(r, path, prefix) and predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no matching request to {path or prefix or 'any path'} within "
                        f"{timeout} s: {self._requests!r}")
                self._cond.wait(left)

    def message(self, channel, ts):
        """The Slack message (channel, ts) as last posted or updated, or None."""
        with self._cond:
            return self._messages.get((channel, ts))

    # -- serving -----------------------------------------------------------------------------
    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(handler.path)
        path, query = split.path, split.query
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._cond:
            queue = self._scripts.get(path)
            answer = queue.pop(0) if queue else None
            if answer is None:
                answer = self._route(handler.command, path, headers, body, query)
            self._requests.append(Recorded(handler.command, path, headers, body, answer, query))
            self._cond.notify_all()
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)

    def _route(self, method, path, headers, body, query=""):
        """The route's own answer. Called with the lock held. Sibling fakes (fake_telegram,
        fake_discord) override it."""
        if path.startswith("/api/"):
            return self._slack_api(path[len("/api/"):], headers, body)
        if path.startswith("/services/"):
            return Answer(200, "ok", {"Content-Type": "text/html"})
        if path.startswith("/response/"):
            return Answer(200, {"ok": True})
        if path.startswith("/teams/"):
            return Answer(202)
        if path.startswith("/connector/"):
            return Answer(200, "1", {"Content-Type": "text/plain"})
        return Answer(200)

    def _slack_api(self, method, headers, body):
        if headers.get("authorization") != "Bearer " + self.bot_token:
            return slack_error("invalid_auth" if headers.get("authorization") else "not_authed")
        if not headers.get("content-type", "").startswith("application/json"):
            return slack_error("invalid_form_data")
        try:
            args = json.loads(body)
        except ValueError:
            return slack_error("invalid_json")
        channel = args.get("channel")
        if not channel:
            return slack_error("channel_not_found")
        if method == "chat.postMessage":
            if not args.get("text") and not args.get("blocks"):
                return slack_error("no_text")
            self._next_ts += 1
            ts = f"{1700000000 + self._next_ts}.{self._next_ts:06d}"
            if not args.get("thread_ts"):
                self._messages[(channel, ts)] = args
            return Answer(200, {"ok": True, "channel": channel, "ts": ts,
                                "message": {"text": args.get("text", ""), "ts": ts}})
        if method == "chat.update":
            ts = args.get("ts")
            if (channel, ts) not in self._messages:
                return slack_error("message_not_found")
            self._messages[(channel, ts)] = args
            return Answer(200, {"ok": True, "channel": channel, "ts": ts,
                                "text": args.get("text", "")})
        return slack_error("unknown_method", status=404)


def _json_or_none(data):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _matches(recorded, path, prefix):
    if path is not None and recorded.path != path:
        return False
    if prefix is not None and not recorded.path.startswith(prefix):
        return False
    return True


# -- Slack's side of interactivity -----------------------------------------------------------
def slack_signature(secret, timestamp, body):
    """X-Slack-Signature for `body` sent at `timestamp`: v0=hex(HMAC-SHA256("v0:ts:body"))."""
    if isinstance(body, str):
        body = body.encode()
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def block_actions_body(value, user_id="U024BE7LH", username="alice", response_url="",
                       channel_id="C0123456789", message_ts="1700000001.000001",
                       action_id="approve"):
    """The form body Slack POSTs when someone presses a button: payload=<JSON>."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": username, "name": username, "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                      "is_ephemeral": False},
        "trigger_id": "1.2.3",
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": channel_id, "name": "ops"},
        "message": {"type": "message", "ts": message_ts, "text": "..."},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "countersign", "value": value,
                     "type": "button", "action_ts": "1700000002.000002",
                     "text": {"type": "plain_text", "text": action_id, "emoji": True}}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def slack_headers(secret, body, timestamp=None):
    """The headers Slack sends with `body`, signed at `timestamp` (default: now)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": slack_signature(secret, timestamp, body)}
