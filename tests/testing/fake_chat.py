"""Fake chat servers on loopback: Slack's Web API, Slack incoming webhooks and response_urls,
Microsoft Teams Workflows / connector URLs, and generic webhook receivers.

Stdlib only. One FakeChat is one ThreadingHTTPServer on 127.0.0.1, port 0. It speaks the wire
formats of docs/PROTOCOLS (the Slack and Teams sections) and records every request it gets
(method, path, headers, raw body, parsed JSON), so tests can assert exact payloads.

Recorded requests keep their query string apart from the path (`query`); PATCH is served
like POST.

Routes:
  POST /api/chat.postMessage  Slack Web API: needs `Authorization: Bearer <bot_token>` and a
  POST /api/chat.update       JSON (or application/x-www-form-urlencoded) body; answers
                              {"ok":true,"channel":C,"ts":T} (ts increasing; an update needs a
                              ts this fake handed out, else
                              {"ok":false,"error":"message_not_found"}).
  POST /api/chat.postEphemeral  channel, user, text (or blocks): {"ok":true,"message_ts":T}.
  POST /api/conversations.open  users (one user id): {"ok":true,"channel":{"id":D}}, where D
                              is dm_channel_id(user) ("D" + the user id without its first
                              letter; several users give a stable "G..." id); opening it again
                              adds "no_op":true,"already_open":true. No users (and no channel):
                              {"ok":false,"error":"invalid_arguments"}.
  POST /api/auth.test         {"ok":true,"url":"https://fake.slack.com/","team":"Fake",
                              "user":"countersign","team_id":"T0001","user_id":<bot_user_id>,
                              "bot_id":"B0001"}.
  POST /api/apps.connections.open  Socket Mode: needs `Authorization: Bearer <app_token>`
                              (xapp-...; any other token: invalid_auth); answers
                              {"ok":true,"url":"ws://127.0.0.1:P/link/?ticket=<fresh uuid>"}, a
                              URL of the FakeSocketMode (fake_slack_socket.py) given to the
                              constructor, or created on first use and stopped with this fake.
                              Each ticket is good for one connection.
  Without the right token the Web API answers {"ok":false,"error":"invalid_auth"}
  ("not_authed" with no Authorization at all).
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

Slack's side of the app: block_actions_body / block_actions_payload (a button press),
event_callback / event_callback_body (Events API wrapper), message_im_event (a direct message),
url_verification_body, and slack_headers / event_headers (the v0 signature headers).
"""

import hashlib
import hmac
import http.server
import itertools
import json
import threading
import time
import urllib.parse
import uuid

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
        self.form = None  # an application/x-www-form-urlencoded body, as a dict
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                                    keep_blank_values=True))
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
    def __init__(self, bot_token="xoxb-test-token", app_token="xapp-1-A0001-1-test-app-token",
                 bot_user_id="UBOT0001", socket_mode=None):
        """socket_mode: a started FakeSocketMode for apps.connections.open; by default one is
        created (and started) on first use, and stopped by stop()."""
        self.bot_token = bot_token
        self.app_token = app_token
        self.bot_user_id = bot_user_id
        self._cond = threading.Condition()
        self._requests = []
        self._scripts = {}
        self._next_ts = 0
        self._messages = {}  # (channel, ts) -> the last posted or updated body (args)
        self._open_dms = set()  # channel ids conversations.open has handed out
        self._socket_mode = socket_mode
        self._owns_socket_mode = False
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
        with self._cond:
            owned = self._socket_mode if self._owns_socket_mode else None
            self._owns_socket_mode = False
        if owned:
            owned.stop()

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

    @property
    def socket_mode(self):
        """The FakeSocketMode apps.connections.open hands out URLs of (created if need be)."""
        with self._cond:
            if self._socket_mode is None:
                from fake_slack_socket import FakeSocketMode
                self._socket_mode = FakeSocketMode().start()
                self._owns_socket_mode = True
            return self._socket_mode

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
        token = self.app_token if method == "apps.connections.open" else self.bot_token
        if headers.get("authorization") != "Bearer " + token:
            return slack_error("invalid_auth" if headers.get("authorization") else "not_authed")
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                args = json.loads(body) if body else {}
            except ValueError:
                return slack_error("invalid_json")
            if not isinstance(args, dict):
                return slack_error("invalid_json")
        elif content_type.startswith("application/x-www-form-urlencoded"):
            args = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                               keep_blank_values=True))
        elif body:
            return slack_error("invalid_form_data")
        else:
            args = {}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return self._chat(method, args)
        if method == "conversations.open":
            return self._conversations_open(args)
        if method == "auth.test":
            return Answer(200, {"ok": True, "url": "https://fake.slack.com/", "team": "Fake",
                                "user": "countersign", "team_id": "T0001",
                                "user_id": self.bot_user_id, "bot_id": "B0001"})
        if method == "apps.connections.open":
            return Answer(200, {"ok": True, "url": self._socket_mode_url()})
        return slack_error("unknown_method", status=404)

    def _chat(self, method, args):
        channel = args.get("channel")
        if not channel:
            return slack_error("channel_not_found")
        if method == "chat.postMessage":
            if not args.get("text") and not args.get("blocks"):
                return slack_error("no_text")
            ts = self._new_ts()
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
        # chat.postEphemeral
        if not args.get("user"):
            return slack_error("user_not_in_channel")
        if not args.get("text") and not args.get("blocks"):
            return slack_error("no_text")
        return Answer(200, {"ok": True, "message_ts": self._new_ts()})

    def _conversations_open(self, args):
        users = args.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        users = [u.strip() for u in (users or "").split(",") if u.strip()]
        if users:
            channel = dm_channel_id(users[0]) if len(users) == 1 else mpim_channel_id(users)
        elif args.get("channel"):
            channel = args["channel"]
        else:
            return slack_error("invalid_arguments")
        answer = {"ok": True, "channel": {"id": channel}}
        if channel in self._open_dms:
            answer.update(no_op=True, already_open=True)
        self._open_dms.add(channel)
        return Answer(200, answer)

    def _new_ts(self):
        self._next_ts += 1
        return f"{1700000000 + self._next_ts}.{self._next_ts:06d}"

    def _socket_mode_url(self):
        # Called with self._cond held; the socket_mode property takes it again (an RLock).
        return self.socket_mode.new_url()


def dm_channel_id(user_id):
    """The id of the direct-message channel conversations.open gives for one user."""
    return "D" + user_id[1:]


def mpim_channel_id(user_ids):
    """A stable id for a multi-person DM of these users."""
    digest = hashlib.sha1(",".join(sorted(user_ids)).encode()).hexdigest()
    return "G" + digest[:10].upper()


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


def block_actions_payload(value, user_id="U024BE7LH", username="alice", response_url="",
                          channel_id="C0123456789", message_ts="1700000001.000001",
                          action_id="approve"):
    """The block_actions interaction of a button press, as a dict (the payload of a Socket
    Mode "interactive" envelope)."""
    return {
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


def block_actions_body(value, user_id="U024BE7LH", username="alice", response_url="",
                       channel_id="C0123456789", message_ts="1700000001.000001",
                       action_id="approve"):
    """The form body Slack POSTs when someone presses a button: payload=<JSON>."""
    payload = block_actions_payload(value, user_id, username, response_url, channel_id,
                                    message_ts, action_id)
    return urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def slack_headers(secret, body, timestamp=None,
                  content_type="application/x-www-form-urlencoded"):
    """The headers Slack sends with `body`, signed at `timestamp` (default: now)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": slack_signature(secret, timestamp, body)}


# -- Slack's side of the Events API ----------------------------------------------------------
_event_ts_counter = itertools.count(1)


def _fresh_ts():
    """A message ts, unique within this process: "<unix seconds>.<counter>"."""
    return f"{int(time.time())}.{next(_event_ts_counter):06d}"


def message_im_event(user, text, channel=None, ts=None, thread_ts=None):
    """A message.im event: someone wrote `text` to the app in a direct message (channel
    defaults to dm_channel_id(user), ts to a fresh one)."""
    ts = ts or _fresh_ts()
    event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts,
             "event_ts": ts, "channel": channel or dm_channel_id(user)}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def event_callback(event, event_id=None, team_id="T0001", api_app_id="A0001",
                   event_time=None, bot_user_id="UBOT0001"):
    """The Events API wrapper of `event`, as a dict (the payload of a Socket Mode
    "events_api" envelope). event_id defaults to a fresh "Ev..." id."""
    if event_time is None:
        event_time = int(float(event.get("event_ts") or event.get("ts") or time.time()))
    return {"token": "deprecated-verification-token", "team_id": team_id,
            "api_app_id": api_app_id, "event": event, "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": event_time,
            "authorizations": [{"enterprise_id": None, "team_id": team_id,
                                "user_id": bot_user_id, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False}


def event_callback_body(event, event_id=None, team_id="T0001", api_app_id="A0001", **kwargs):
    """event_callback(...) as the JSON bytes Slack POSTs to the Request URL."""
    wrapper = event_callback(event, event_id, team_id, api_app_id, **kwargs)
    return json.dumps(wrapper, separators=(",", ":")).encode()


def url_verification_body(challenge, token="deprecated-verification-token"):
    """The JSON bytes Slack POSTs to check a Request URL; the app answers the challenge."""
    return json.dumps({"token": token, "challenge": challenge, "type": "url_verification"},
                      separators=(",", ":")).encode()


def event_headers(secret, body, timestamp=None, retry_num=None, retry_reason=None):
    """The headers of an Events API POST: JSON, signed, with X-Slack-Retry-Num and
    X-Slack-Retry-Reason when it is a retry."""
    headers = slack_headers(secret, body, timestamp, content_type="application/json")
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return headers
