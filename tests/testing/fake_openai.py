"""A fake OpenAI-compatible Chat Completions server on loopback.

Stdlib only. One FakeOpenAI is one ThreadingHTTPServer on 127.0.0.1, port 0. It speaks the
wire format of docs/PROTOCOLS-AGENTS (OpenAI-compatible Chat Completions) and records every
request (path, headers, raw body, parsed JSON), so tests can assert the exact prompts sent.

Routes:
  POST .../chat/completions  any path ending so, e.g. /v1/chat/completions or a base path like
                             /openai/v1/chat/completions. When an api_key is configured it needs
                             `Authorization: Bearer <api_key>`, else 401 with error code
                             "invalid_api_key". The body must be a JSON object with "model" and
                             a non-empty "messages" list, else 400 (invalid_request_error).
                             Answers {"id","object":"chat.completion","created","model",
                             "choices":[{"index":0,"message":{"role":"assistant","content",
                             "refusal":null},"logprobs":null,"finish_reason"}],"usage":{...}};
                             with "stream":true the same content comes as Server-Sent Events
                             (chat.completion.chunk objects, then "data: [DONE]").
  GET  .../models            {"object":"list","data":[{"id":<model>,...}]}.
  anything else              404 {"error":{...,"type":"invalid_request_error"}}.
  Errors are {"error":{"message","type","param","code"}}.

Scripted answers, used in order, one per request that passed the checks above:
  reply(content, finish_reason="stop")   choices[0].message.content = content.
  reply_json(obj)                        reply(json.dumps(obj)).
  fail(status, body=None, headers=None)  an error answer; 429 defaults to Retry-After: 1 and
                                         code "rate_limit_exceeded", 5xx to a server_error.
  hang()                                 no answer at all: the connection stays open until the
                                         client gives up (recorded as abandoned_at) or the fake
                                         stops.
  Each takes when=predicate(body): such an answer goes to the first request whose parsed body
  satisfies it, ahead of any answer without a predicate (system_contains(text) and
  messages_contain(text) make predicates). An empty script answers default_content ("ok"), or
  500 when strict=True.

Waiting: wait_for(count) blocks on a condition variable until that many requests have arrived
(or fails after a generous timeout): no test sleeps for a fixed time. Thread-safe.
"""

import http.server
import itertools
import json
import select
import socket
import threading
import time
import urllib.parse

DEFAULT_TIMEOUT = 30.0


def openai_error(message, type="invalid_request_error", code=None, param=None):
    """The error body: {"error":{"message","type","param","code"}}."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


class Recorded:
    """One request the fake received."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers  # names lower-cased
        self.body = body  # bytes, exactly as received
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None
        self.received_at = time.monotonic()
        # "reply", "fail", "hang", "default" (empty script), "stream", "models", "auth" or
        # "invalid" (bad path or body)
        self.answer_kind = None
        self.answer_status = None  # None while hanging, and after
        self.answer_json = None
        self.abandoned_at = None  # a hung request: when the client closed the connection

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def messages(self):
        return (self.json or {}).get("messages") or []

    @property
    def system(self):
        """The text of the system and developer messages, joined by newlines."""
        return system_text(self.json or {})

    @property
    def user(self):
        """The text of the last user message ("" if none)."""
        texts = [_text(m.get("content")) for m in self.messages
                 if isinstance(m, dict) and m.get("role") == "user"]
        return texts[-1] if texts else ""

    def __repr__(self):
        return f"Recorded({self.method} {self.path} -> {self.answer_status}, {self.body[:200]!r})"


class _Scripted:
    def __init__(self, kind, when, status=200, body=None, headers=None, content=None,
                 finish_reason="stop", refusal=None):
        self.kind = kind  # "reply", "fail" or "hang"
        self.when = when
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content = content
        self.finish_reason = finish_reason
        self.refusal = refusal


def _text(content):
    """A message's content as text: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def system_text(body):
    messages = body.get("messages") if isinstance(body, dict) else None
    return "\n".join(_text(m.get("content")) for m in messages or []
                     if isinstance(m, dict) and m.get("role") in ("system", "developer"))


def system_contains(text):
    """A predicate: the system (or developer) messages contain `text`."""
    return lambda body: text in system_text(body)


def messages_contain(text):
    """A predicate: some message contains `text`."""
    return lambda body: any(text in _text(m.get("content"))
                            for m in body.get("messages") or [] if isinstance(m, dict))


class FakeOpenAI:
    def __init__(self, api_key="sk-test-key", model="gpt-fake", default_content="ok",
                 strict=False):
        """api_key=None accepts any (or no) Authorization."""
        self.api_key = api_key
        self.model = model
        self.default_content = default_content
        self.strict = strict
        self._cond = threading.Condition()
        self._requests = []
        self._script = []
        self._ids = itertools.count(1)
        self._server = None
        self._thread = None
        self._wake_r, self._wake_w = None, None  # wakes hung requests on stop()
        self._hanging = 0  # requests in hang() right now

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._wake_r, self._wake_w = socket.socketpair()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a hung request must not hold up stop()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._wake_w.send(b"x")
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._wait(lambda: True if self._hanging == 0 else None, "hung requests to end",
                       DEFAULT_TIMEOUT)
            self._wake_r.close()
            self._wake_w.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self):
        """The base URL a client is configured with: <url>/v1."""
        return self.url + "/v1"

    # -- scripting ---------------------------------------------------------------------------
    def reply(self, content, finish_reason="stop", when=None, refusal=None):
        """Queues an answer whose choices[0].message.content is `content`."""
        self._queue(_Scripted("reply", when, content=content, finish_reason=finish_reason,
                              refusal=refusal))

    def reply_json(self, obj, when=None, **kwargs):
        self.reply(json.dumps(obj), when=when, **kwargs)

    def fail(self, status, body=None, headers=None, when=None):
        """Queues an error answer. body: a dict (JSON), str or bytes; by default an OpenAI error
        fitting the status. headers default to Retry-After: 1 for 429."""
        if body is None:
            body = _default_error(status)
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        self._queue(_Scripted("fail", when, status=status, body=body, headers=headers))

    def hang(self, when=None):
        """Queues a request that gets no answer until the client gives up."""
        self._queue(_Scripted("hang", when))

    def _queue(self, scripted):
        with self._cond:
            self._script.append(scripted)

    def pending(self):
        """How many scripted answers are still queued."""
        with self._cond:
            return len(self._script)

    # -- inspection --------------------------------------------------------------------------
    def requests(self):
        with self._cond:
            return list(self._requests)

    def wait_for(self, count, timeout=DEFAULT_TIMEOUT):
        """The requests once at least `count` have arrived; AssertionError on timeout."""
        return self._wait(lambda: list(self._requests) if len(self._requests) >= count
                          else None, f"{count} request(s)", timeout)

    def wait_until(self, predicate, timeout=DEFAULT_TIMEOUT):
        """The first recorded request for which predicate(recorded) is true."""
        return self._wait(lambda: next((r for r in self._requests if predicate(r)), None),
                          "a matching request", timeout)

    def wait_abandoned(self, recorded, timeout=DEFAULT_TIMEOUT):
        """`recorded` (a hung request) once its client has closed the connection."""
        return self._wait(lambda: recorded if recorded.abandoned_at is not None else None,
                          "the client to give up", timeout)

    def _wait(self, find, description, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = find()
                if result is not None:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {description} within {timeout} s; "
                                         f"requests: {self._requests!r}")
                self._cond.wait(left)

    # -- serving -----------------------------------------------------------------------------
    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(handler.path).path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        recorded = Recorded(handler.command, path, headers, body)
        with self._cond:
            status, answer, extra, kind = self._answer(recorded)
            recorded.answer_kind = kind
            if kind != "hang":
                recorded.answer_status = status
                recorded.answer_json = answer if isinstance(answer, (dict, list)) else None
            self._requests.append(recorded)
            self._cond.notify_all()
        if kind == "hang":
            self._hang(handler, recorded)
            return
        if kind == "stream":
            self._stream(handler, answer)
            return
        if isinstance(answer, (dict, list)):
            answer = json.dumps(answer)
            extra = {"Content-Type": "application/json", **extra}
        if isinstance(answer, str):
            answer = answer.encode()
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def _answer(self, recorded):
        """(status, body, headers, kind) for `recorded`. Called with the lock held."""
        path = recorded.path.rstrip("/")
        if recorded.method == "GET" and path.endswith("/models"):
            return 200, {"object": "list", "data": [{"id": self.model, "object": "model",
                                                      "created": 1700000000,
                                                      "owned_by": "fake"}]}, {}, "models"
        if recorded.method != "POST" or not path.endswith("/chat/completions"):
            return 404, openai_error(f"Invalid URL ({recorded.method} {recorded.path})"), {}, \
                "invalid"
        if self.api_key is not None and \
                recorded.header("authorization") != "Bearer " + self.api_key:
            given = recorded.header("authorization") or ""
            message = ("You didn't provide an API key." if not given else
                       f"Incorrect API key provided: {given[len('Bearer '):][:8]}***.")
            return 401, openai_error(message, code="invalid_api_key"), {}, "auth"
        body = recorded.json
        if not isinstance(body, dict):
            return 400, openai_error("We could not parse the JSON body of your request."), {}, \
                "invalid"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return 400, openai_error("you must provide a model parameter", param="model"), {}, \
                "invalid"
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, openai_error("'messages' must be a non-empty array",
                                     param="messages"), {}, "invalid"
        scripted = self._take(body)
        if scripted is None:
            if self.strict:
                return 500, openai_error("FakeOpenAI: no scripted answer left",
                                         type="server_error"), {}, "default"
            scripted = _Scripted("default", None, content=self.default_content)
        if scripted.kind == "hang":
            return None, None, {}, "hang"
        if scripted.kind == "fail":
            return scripted.status, scripted.body, scripted.headers, "fail"
        completion = self._completion(body, scripted)
        if body.get("stream"):
            return 200, completion, {}, "stream"
        return 200, completion, {}, scripted.kind

    def _take(self, body):
        """The first queued answer whose predicate holds for `body`, else the first without a
        predicate (removed from the queue); None when there is none."""
        chosen = None
        for scripted in self._script:
            if scripted.when is not None and _holds(scripted.when, body):
                chosen = scripted
                break
        if chosen is None:
            chosen = next((s for s in self._script if s.when is None), None)
        if chosen is not None:
            self._script.remove(chosen)
        return chosen

    def _completion(self, body, scripted):
        content = scripted.content
        prompt_tokens = sum(_tokens(_text(m.get("content"))) for m in body["messages"]
                            if isinstance(m, dict))
        completion_tokens = _tokens(content or "")
        return {"id": f"chatcmpl-fake{next(self._ids):06d}", "object": "chat.completion",
                "created": int(time.time()), "model": body["model"],
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0,
                             "message": {"role": "assistant", "content": content,
                                         "refusal": scripted.refusal},
                             "logprobs": None, "finish_reason": scripted.finish_reason}],
                "usage": {"prompt_tokens": prompt_tokens,
                          "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}}

    def _stream(self, handler, completion):
        """The completion as Server-Sent Events: a role chunk, a content chunk, a finish chunk
        and [DONE]; the connection closes after."""
        choice = completion["choices"][0]
        base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
        deltas = [({"role": "assistant", "content": ""}, None),
                  ({"content": choice["message"]["content"] or ""}, None),
                  ({}, choice["finish_reason"])]
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for delta, finish in deltas:
            chunk = dict(base, object="chat.completion.chunk",
                         choices=[{"index": 0, "delta": delta, "logprobs": None,
                                   "finish_reason": finish}])
            handler.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        handler.wfile.write(b"data: [DONE]\n\n")

    def _hang(self, handler, recorded):
        """Answers nothing; returns once the client closes the connection or the fake stops."""
        sock = handler.connection
        handler.close_connection = True
        with self._cond:
            self._hanging += 1
        try:
            while True:
                readable, _, _ = select.select([sock, self._wake_r], [], [])
                if self._wake_r in readable:
                    return  # stopping: the server closes the connection
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    with self._cond:
                        recorded.abandoned_at = time.monotonic()
                    return
        finally:
            with self._cond:
                self._hanging -= 1
                self._cond.notify_all()


def _holds(predicate, body):
    try:
        return bool(predicate(body))
    except Exception:  # a predicate that does not fit this body does not match it
        return False


def _tokens(text):
    return max(1, len(text) // 4) if text else 0


def _default_error(status):
    if status == 429:
        return openai_error("Rate limit reached for requests. Please try again in 1s.",
                            type="requests", code="rate_limit_exceeded")
    if status == 401:
        return openai_error("Incorrect API key provided.", code="invalid_api_key")
    if status >= 500:
        return openai_error("The server had an error while processing your request.",
                            type="server_error")
    return openai_error(f"Error {status}")
