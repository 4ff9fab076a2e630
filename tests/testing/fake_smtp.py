"""A real SMTP server on loopback for the email channel's tests: Debian's python3-aiosmtpd,
started by the test on 127.0.0.1, port 0 (the port the kernel picked is read back).

SmtpSink records every message it accepts (envelope sender, recipients, raw bytes, and the
message parsed with the stdlib `email` package, policy.default) and every DATA it answers.
Options:
  tls_context  an ssl.SSLContext: the server offers STARTTLS (and requires it before MAIL);
               without one it does not offer STARTTLS at all.
  auth         (username, password): the server offers AUTH PLAIN/LOGIN (after STARTTLS when
               TLS is on) and requires it.
Scripted answers: script("451 4.3.0 Try again later", ...) queues replies to DATA, used (and
removed) in order before the normal "250 OK"; a message answered with a script is not
recorded as accepted but is counted in `answered`.

Waiting: wait_for(count) blocks on a condition variable until that many messages were
accepted (or fails after a generous timeout): no test sleeps for a fixed time. Thread-safe.
"""

import email
import email.policy
import logging
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DEFAULT_TIMEOUT = 30.0

# aiosmtpd 1.4 logs a deprecation warning of its own on every AUTH; it says nothing about us.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage())


class Received:
    """One message the sink accepted."""

    def __init__(self, mail_from, rcpt_tos, data):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data  # bytes, as received (dot-unstuffed)
        self.message = email.message_from_bytes(data, policy=email.policy.default)

    def part(self, content_type):
        """The decoded text of the message's part of `content_type` ("text/plain", ...)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        return None

    def __repr__(self):
        return f"Received({self.mail_from} -> {self.rcpt_tos}, {self.message['Subject']!r})"


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        return self.sink._on_data(envelope)


class _LoopbackController(Controller):
    """Controller that may bind port 0: the real port is read back before the readiness probe."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    def __init__(self, tls_context=None, auth=None):
        self._cond = threading.Condition()
        self._accepted = []
        self._answers = []  # DATA replies, in order
        self._script = []
        kwargs = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if auth is not None:
            user, password = auth

            def authenticator(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword) and data.login.decode() == user and
                      data.password.decode() == password)
                return AuthResult(success=ok)

            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=tls_context is not None)
        self._controller = _LoopbackController(_Handler(self), hostname="127.0.0.1", port=0,
                                               **kwargs)

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    @property
    def port(self):
        return self._controller.port

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def script(self, *replies):
        with self._cond:
            self._script.extend(replies)

    def _on_data(self, envelope):
        with self._cond:
            if self._script:
                reply = self._script.pop(0)
            else:
                reply = "250 OK"
                self._accepted.append(Received(envelope.mail_from, envelope.rcpt_tos,
                                               envelope.original_content or envelope.content))
            self._answers.append(reply)
            self._cond.notify_all()
            return reply

    @property
    def answered(self):
        """Every DATA reply so far, in order."""
        with self._cond:
            return list(self._answers)

    def messages(self, to=None):
        with self._cond:
            return [m for m in self._accepted if to is None or to in m.rcpt_tos]

    def wait_for(self, count, to=None, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self._accepted if to is None or to in m.rcpt_tos]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} messages to {to or 'anyone'}, got {got}; "
                        f"answers so far: {self._answers}")
                self._cond.wait(left)

    def wait_answers(self, count, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._answers) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} DATA answers, got {self._answers}")
                self._cond.wait(left)
            return list(self._answers)
