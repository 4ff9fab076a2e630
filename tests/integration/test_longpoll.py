"""Long-poll waits: woken by the decision, by the deadline, and by shutdown."""

import queue
import threading
import unittest

from harness import Server, ServerTestCase


def waiters(server):
    for line in server.call("GET", "/metrics", token=None).body.splitlines():
        if line.startswith("countersign_waiters "):
            return int(line.split()[1])
    raise AssertionError("no countersign_waiters metric")


def wait_in_background(server, rid, token, timeout=60):
    answers = queue.Queue()

    def run():
        answers.put(server.call("GET", f"/v1/requests/{rid}/wait?timeout={timeout}",
                                token=token))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # The waiter is registered once the server counts it; poll that state, do not sleep.
    while waiters(server) < 1:
        pass
    return answers


class LongPollTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.agent = self.server.create_token("ci-bot", "agent")
        self.alice = self.server.create_token("alice", "approver")

    def test_waiter_is_answered_by_the_decision_with_the_resolved_request(self):
        req = self.server.create_request(token=self.agent)
        answers = wait_in_background(self.server, req["id"], self.agent)
        decided = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                   {"choice": "approve", "comment": "go"}, token=self.alice)
        self.assertEqual(decided.status, 200)
        # The server queues the waiter's answer before the decider's, so by now it is sent.
        answer = answers.get(timeout=30)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.json["status"], "approved")
        self.assertEqual(answer.json["decisions"][0]["comment"], "go")
        self.assertEqual(waiters(self.server), 0)

    def test_a_connection_goes_on_serving_after_its_long_poll_and_can_wait_again(self):
        # Over plain TCP a waiting long-poll's connection is parked (its request loop ends and
        # a smaller coroutine answers); the same connection must then serve on, twice over.
        conn = self.server.connection()
        try:
            for round_ in range(2):
                req = self.server.create_request(token=self.agent)
                answers = queue.Queue()
                thread = threading.Thread(target=lambda: answers.put(self.server.call(
                    "GET", f"/v1/requests/{req['id']}/wait?timeout=60", token=self.agent,
                    conn=conn)), daemon=True)
                thread.start()
                while waiters(self.server) < 1:
                    pass
                if round_ == 0:
                    port = conn.sock.getsockname()[1]
                self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                                 {"choice": "approve"}, token=self.alice)
                answer = answers.get(timeout=30)
                thread.join()
                self.assertEqual(answer.status, 200, answer)
                self.assertEqual(answer.json["status"], "approved")
                health = self.server.call("GET", "/healthz", token=None, conn=conn)
                self.assertEqual(health.status, 200, health)
                # Still the one connection: nothing was reconnected behind our back.
                self.assertEqual(conn.sock.getsockname()[1], port)
        finally:
            conn.close()

    def test_many_waiters_on_one_request_are_all_woken(self):
        req = self.server.create_request(token=self.agent)
        answers = queue.Queue()
        threads = [threading.Thread(target=lambda: answers.put(self.server.call(
            "GET", f"/v1/requests/{req['id']}/wait?timeout=60", token=self.agent)))
            for _ in range(20)]
        for t in threads:
            t.start()
        while waiters(self.server) < 20:
            pass
        self.server.call("POST", f"/v1/requests/{req['id']}/decisions", {"choice": "deny"},
                         token=self.alice)
        statuses = [answers.get(timeout=30).json["status"] for _ in range(20)]
        self.assertEqual(statuses, ["denied"] * 20)

    def test_resolved_request_answers_at_once_and_timeout_zero_does_not_wait(self):
        req = self.server.create_request(token=self.agent)
        r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=0", token=self.agent)
        self.assertEqual(r.json["status"], "pending")
        self.server.call("POST", f"/v1/requests/{req['id']}/cancel", {}, token=self.agent)
        r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=60",
                             token=self.agent)
        self.assertEqual(r.json["status"], "cancelled")

    def test_bad_timeout_is_400(self):
        req = self.server.create_request(token=self.agent)
        r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=soon",
                             token=self.agent)
        self.assertEqual(r.status, 400)

    def test_deadline_wakes_the_waiter_with_expired(self):
        req = self.server.create_request(token=self.agent, timeout_seconds=1)
        r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=60",
                             token=self.agent)
        self.assertEqual(r.json["status"], "expired")


class ShutdownTest(unittest.TestCase):
    def test_sigterm_answers_waiting_long_polls_with_the_current_state(self):
        server = Server()
        server.start()
        self.addCleanup(server.cleanup)
        req = server.create_request()
        answers = wait_in_background(server, req["id"], "admin")
        self.assertEqual(server.stop(), 0)
        answer = answers.get(timeout=30)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.json["status"], "pending")
        self.assertIn("stopped cleanly", server.read_log())


if __name__ == "__main__":
    unittest.main()
