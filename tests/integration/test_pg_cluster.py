"""The real PostgreSQL the tests start (tests/testing/pg_cluster.py) and ctest's pg fixture
(tests/testing/pg_fixture.py): databases answering over psql, an outage and its end, a crash,
and nothing left running or on disk afterwards, even when the test process dies.

Label pg (ctest -L pg): Debian's postgresql-15 must be installed (scripts/install-deps.sh).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

TESTING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing")
sys.path.insert(0, TESTING)

from pg_cluster import PgCluster, PgClusterError  # noqa: E402


def psql(url, sql):
    """psql's answer to `sql` on `url` (unaligned, tuples only), or raises with its error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    result = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url,
                             "-c", sql], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, env=env, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"psql {url} -c {sql!r}: {result.stderr}")
    return result.stdout.strip()


def psql_fails(url):
    """The error psql gives for `SELECT 1` on `url`, or None when it answered."""
    try:
        psql(url, "SELECT 1")
    except AssertionError as e:
        return str(e)
    return None


def processes_under(path):
    """Live processes working under `path` or naming it on their command line."""
    path = os.path.realpath(path)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd").removesuffix(" (deleted)")
        except OSError:
            cwd = ""
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdline = ""
        if cwd == path or cwd.startswith(path + "/") or path in cmdline:
            found.append(f"{entry}: {cmdline}")
    return found


class PgClusterTest(unittest.TestCase):
    def assert_gone(self, root, port):
        # Not "nothing listens on the port": tests run in parallel, and another server may be
        # given a port the moment it is free. The cluster's own processes are what must be gone.
        self.assertFalse(os.path.exists(root), f"{root} is left on disk")
        self.assertEqual(processes_under(root), [], "processes of the cluster are left")

    def test_databases_outage_and_stop(self):
        pg = PgCluster()
        pg.start()
        root, port = pg.root, pg.port
        try:
            self.assertTrue(pg.processes(), "no server process found in the data directory")
            if os.geteuid() == 0:
                # initdb refuses root: the server runs as an unprivileged account.
                self.assertNotEqual(os.stat(pg.data_dir).st_uid, 0)

            first = pg.create_database()
            second = pg.create_database("cs_second")
            self.assertEqual(second, f"postgresql://countersign@127.0.0.1:{port}/cs_second")
            self.assertRegex(first,
                             rf"^postgresql://countersign@127\.0\.0\.1:{port}/cs_[0-9a-f]{{16}}$")
            self.assertNotEqual(first, second)
            for url in (first, second):
                self.assertEqual(psql(url, "SELECT current_database()"), url.rsplit("/", 1)[1])
            self.assertEqual(psql(first, "SHOW fsync"), "off")
            self.assertEqual(psql(first, "SHOW max_connections"), "200")
            psql(first, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before the outage')")

            pg.pause()
            self.assertEqual(pg.processes(), [])
            self.assertIsNotNone(psql_fails(first), "the paused server still answers")

            pg.resume()
            self.assertEqual(pg.port, port)
            self.assertEqual(psql(first, "SELECT v FROM kept"), "before the outage")
            self.assertEqual(psql(second, "SELECT 1"), "1")

            pg.kill()
            self.assertEqual(pg.processes(), [])
            self.assertIsNotNone(psql_fails(first), "the killed server still answers")
            pg.resume()  # crash recovery
            self.assertEqual(psql(first, "SELECT v FROM kept"), "before the outage")
        finally:
            pg.stop()
        self.assert_gone(root, port)
        pg.stop()  # a second stop does nothing

    def test_refusals_say_why_and_change_nothing(self):
        with PgCluster() as pg:
            with self.assertRaises(ValueError):
                pg.create_database('x"; DROP DATABASE postgres; --')
            names = psql(pg.url(), "SELECT string_agg(datname, ',' ORDER BY datname) "
                                   "FROM pg_database")
            self.assertEqual(names, "postgres,template0,template1")

            with self.assertRaises(PgClusterError) as caught:
                pg.psql("SELECT * FROM no_such_table")
            self.assertIn("no_such_table", str(caught.exception))
            self.assertIn("tail of", str(caught.exception))  # the server log's tail
            self.assertIn("ERROR:", str(caught.exception))

            pg.pause()
            with self.assertRaises(PgClusterError) as caught:
                pg.create_database()
            self.assertIn("not running", str(caught.exception))

            # The port taken during an outage: resume says so, and starts nothing.
            with socket.socket() as squatter:
                # The stopped server closed its connections first, so their ends may still sit
                # in TIME_WAIT on this port; that is no listener, and must not stop the squat.
                squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                squatter.bind(("127.0.0.1", pg.port))
                squatter.listen()
                with self.assertRaises(PgClusterError) as caught:
                    pg.resume()
                self.assertIn(f"port {pg.port} was taken", str(caught.exception))
                self.assertEqual(pg.processes(), [])
            pg.resume()
            self.assertEqual(psql(pg.url(), "SELECT 1"), "1")
            with self.assertRaises(PgClusterError):
                pg.resume()  # already running

    def test_a_dying_test_process_leaves_nothing_running(self):
        # A process starts a cluster and then exits without stopping it, or is terminated.
        for ending in ("sys.exit(3)", "os.kill(os.getpid(), signal.SIGTERM)"):
            with self.subTest(ending=ending):
                script = ("import os, signal, sys\n"
                          f"sys.path.insert(0, {TESTING!r})\n"
                          "from pg_cluster import PgCluster\n"
                          "pg = PgCluster().start()\n"
                          "print(pg.root, pg.port, flush=True)\n"
                          f"{ending}\n"
                          "sys.stdin.read()\n")  # never reached: blocks if it were
                result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                        text=True, timeout=120, stdin=subprocess.PIPE)
                self.assertNotEqual(result.returncode, 0, result.stderr)
                root, port = result.stdout.split()
                self.assert_gone(root, int(port))

    def test_ctest_fixture_starts_and_stops_a_shared_server(self):
        fixture = os.path.join(TESTING, "pg_fixture.py")
        with tempfile.TemporaryDirectory(prefix="countersign-pg-fixture-") as fixture_dir:
            def run(verb):
                result = subprocess.run([sys.executable, fixture, verb, fixture_dir],
                                        capture_output=True, text=True, timeout=180)
                self.assertEqual(result.returncode, 0, result.stderr)

            run("start")
            with open(os.path.join(fixture_dir, "admin_url")) as f:
                admin_url = f.read().strip()
            with open(os.path.join(fixture_dir, "cluster_dir")) as f:
                root = f.read().strip()
            # The server outlived the process that started it.
            self.assertRegex(admin_url, r"^postgresql://countersign@127\.0\.0\.1:\d+/postgres$")
            self.assertEqual(psql(admin_url, "SELECT current_user"), "countersign")

            run("start")  # a second start replaces the first server
            with open(os.path.join(fixture_dir, "cluster_dir")) as f:
                self.assertNotEqual(f.read().strip(), root)
            self.assert_gone(root, int(admin_url.rsplit(":", 1)[1].split("/")[0]))
            with open(os.path.join(fixture_dir, "admin_url")) as f:
                admin_url = f.read().strip()
            with open(os.path.join(fixture_dir, "cluster_dir")) as f:
                root = f.read().strip()

            run("stop")
            self.assertEqual(sorted(os.listdir(fixture_dir)), [])
            self.assert_gone(root, int(admin_url.rsplit(":", 1)[1].split("/")[0]))
            run("stop")  # nothing to stop


if __name__ == "__main__":
    unittest.main()
