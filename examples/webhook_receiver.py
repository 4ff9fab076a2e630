#!/usr/bin/env python3
"""A receiver for countersign's signed webhooks, on the Python standard library alone.

    WEBHOOK_SECRET=whsec-... python3 examples/webhook_receiver.py --port 8080

Point a `[[webhook]]` subscription of the server's config file at it (docs/configuration.md):

    [outbound]
    allow = ["127.0.0.1/32"]      # a receiver on loopback over plain http (docs/api.md)

    [[webhook]]
    name = "example"
    url = "http://127.0.0.1:8080/countersign"
    secret = "env:WEBHOOK_SECRET"

A POST is handled only when it is signed with the shared secret (docs/api.md, webhooks and
callbacks): `X-Countersign-Signature` is "sha256=" and the hex HMAC-SHA256 of the
`X-Countersign-Timestamp` value, a ".", and the raw body, and the timestamp (Unix seconds) is
within 5 minutes of this host's clock, so a captured delivery cannot be replayed later. Anything
else is answered 401 and not handled; countersign does not retry a 401.

Delivery is at least once: the same delivery may come again (same `X-Countersign-Delivery`,
same body). It is acknowledged again and not handled twice.

Prints `listening on http://HOST:PORT` first, then one line per event it handles:
`request.resolved req_... approved`.
"""

import argparse
import collections
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

MAX_AGE_SECONDS = 300  # how far the timestamp may be from this host's clock, either way
MAX_BODY = 1024 * 1024  # countersign's own body limit
SEEN_DELIVERIES = 10000  # remembered delivery ids, oldest forgotten first


def check_signature(secret, timestamp, body, signature, now):
    """None when the delivery is authentic and fresh, else why it is not."""
    if not timestamp or not signature:
        return "missing X-Countersign-Timestamp or X-Countersign-Signature"
    if not timestamp.isdigit():
        return "X-Countersign-Timestamp is not a number of seconds"
    sent_at = int(timestamp)
    if abs(now - sent_at) > MAX_AGE_SECONDS:
        return f"timestamp {sent_at} is more than {MAX_AGE_SECONDS} s from now ({int(now)})"
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "the signature does not match"
    return None


def handle_event(event):
    """What this receiver does with an authentic event: here, print it. Put your own work here
    (open a ticket, post to a chat, start a pipeline)."""
    request = event.get("request") or {}
    print(event.get("event"), request.get("id", "-"), request.get("status", "-"), flush=True)


class Receiver(http.server.BaseHTTPRequestHandler):
    secret = b""
    seen = collections.OrderedDict()
    seen_lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.answer(413, "body too large")
        body = self.rfile.read(length)
        problem = check_signature(self.secret, self.headers.get("X-Countersign-Timestamp"), body,
                                  self.headers.get("X-Countersign-Signature"), time.time())
        if problem:
            print(f"refused: {problem}", file=sys.stderr, flush=True)
            return self.answer(401, problem)
        delivery = self.headers.get("X-Countersign-Delivery", "")
        with self.seen_lock:
            again = delivery in self.seen
            self.seen[delivery] = True
            while len(self.seen) > SEEN_DELIVERIES:
                self.seen.popitem(last=False)
        if not again:
            handle_event(json.loads(body))
        self.answer(204)

    def answer(self, status, text=""):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # one line per event on stdout is the log


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0: any free port")
    options = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        parser.error("set WEBHOOK_SECRET to the [[webhook]] subscription's secret")
    Receiver.secret = secret.encode()
    server = http.server.ThreadingHTTPServer((options.host, options.port), Receiver)
    print(f"listening on http://{options.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
