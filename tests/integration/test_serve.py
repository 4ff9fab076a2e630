"""Start-up rules: auth off only on loopback, config errors, first-start admin token."""

import os
import stat
import subprocess
import tempfile
import unittest

from harness import BIN, Server, ServerTestCase


class AuthOffTest(ServerTestCase):
    auth = False

    def test_identities_come_from_the_body(self):
        s = self.server
        self.assertFalse(os.path.exists(os.path.join(s.data_dir, "admin.token")))
        req = s.create_request(token=None, requester="deploy-bot")
        self.assertEqual(req["requester"], "deploy-bot")
        path = f"/v1/requests/{req['id']}/decisions"
        nobody = s.call("POST", path, {"choice": "approve"}, token=None)
        self.assertEqual(nobody.status, 422)
        self.assertIn("by", nobody.json["error"]["message"])
        self_approval = s.call("POST", path, {"choice": "approve", "by": "deploy-bot"},
                               token=None)
        self.assertEqual(self_approval.status, 403)
        ok = s.call("POST", path, {"choice": "approve", "by": "alice"}, token=None)
        self.assertEqual(ok.json["status"], "approved")
        self.assertEqual(ok.json["resolved_by"], ["alice"])
        self.assertIn("auth is OFF", s.read_log())


class StartupTest(unittest.TestCase):
    def run_serve(self, *args):
        with tempfile.TemporaryDirectory() as d:
            return subprocess.run([BIN, "serve", "--store", f"sqlite:{d}/cs.db", *args],
                                  capture_output=True, text=True, timeout=30)

    def test_auth_off_is_refused_off_loopback(self):
        r = self.run_serve("--listen", "0.0.0.0:0", "--auth", "off")
        self.assertEqual(r.returncode, 1)
        self.assertIn("loopback", r.stdout + r.stderr)

    def test_invalid_config_names_the_line_and_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('[server]\nlisten = "127.0.0.1:0"\nthreads = "many"\n')
        self.addCleanup(os.unlink, f.name)
        r = self.run_serve("--config", f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{f.name}:3", r.stdout + r.stderr)
        self.assertIn("server.threads", r.stdout + r.stderr)

    def test_unknown_config_key_is_refused(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('[server]\nlisten = "127.0.0.1:0"\nlisen = "oops"\n')
        self.addCleanup(os.unlink, f.name)
        r = self.run_serve("--config", f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lisen", r.stdout + r.stderr)

    def test_config_file_settings_apply_and_flags_win(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "countersign.toml")
            with open(config, "w") as f:
                f.write(f'[server]\nstore = "sqlite:{d}/from-file.db"\nauth = "off"\n'
                        'default_timeout_seconds = 42\n')
            server = Server(auth=False, data_dir=d, extra_args=["--config", config])
            # The harness passes --store, which must win over the file.
            server.start()
            try:
                self.assertTrue(os.path.exists(os.path.join(d, "countersign.db")))
                self.assertFalse(os.path.exists(os.path.join(d, "from-file.db")))
                # No flag sets the default timeout: the file's value applies.
                req = server.create_request(token=None, requester="bot")
                created = req["created_at"]
                deadline = req["deadline_at"]
                from datetime import datetime
                parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
                self.assertEqual((parse(deadline) - parse(created)).total_seconds(), 42)
            finally:
                server.stop()

    def test_first_start_writes_an_admin_token_only_the_owner_can_read(self):
        with Server() as s:
            path = os.path.join(s.data_dir, "admin.token")
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600)
            self.assertEqual(s.call("GET", "/v1/tokens").status, 200)
            self.assertIn(path, s.read_log())
            # A restart keeps the same token and does not write another.
            s.stop()
            s.start()
            self.assertEqual(s.call("GET", "/v1/tokens").status, 200)
            tokens = s.call("GET", "/v1/tokens").json["tokens"]
            self.assertEqual([t["name"] for t in tokens], ["admin"])


    def test_restart_with_no_active_admin_issues_a_new_admin_token(self):
        with Server() as s:
            old = s.admin_token
            me = [t for t in s.call("GET", "/v1/tokens").json["tokens"] if t["name"] == "admin"]
            self.assertEqual(s.call("DELETE", f"/v1/tokens/{me[0]['id']}").status, 200)
            self.assertEqual(s.call("GET", "/v1/tokens").status, 401)
            s.stop()
            s.start()
            self.assertNotEqual(s.admin_token, old)
            self.assertEqual(s.call("GET", "/v1/tokens").status, 200)
            self.assertFalse(os.path.exists(os.path.join(s.data_dir, "admin.token.new")))


if __name__ == "__main__":
    unittest.main()
