"""A real PostgreSQL server for the tests: Debian's postgresql-15, initdb'd into a temporary
directory, listening on a free loopback port, stopped and removed at the end. Nothing needs to
run beforehand.

Stdlib only. initdb and postgres refuse to run as root, so when this process is root (as the
tests are here and in CI) every server-side command (initdb, pg_ctl) runs through `runuser -u`
(or `setpriv`) as the `postgres` system user that Debian's package creates, else as `nobody`;
the temporary directory is given to that user. As a normal user, everything runs directly.

    with PgCluster() as pg:
        url = pg.create_database()   # postgresql://countersign@127.0.0.1:PORT/cs_<hex>
        pg.pause()                   # fast shutdown: an outage
        pg.resume()                  # the same port and data again

Layout of the temporary directory (under $TMPDIR): `data/` (the cluster, superuser
`countersign`, trust authentication, locale C, UTF8), `socket/` (its unix socket), `server.log`
and `pg_cluster.json` (what `PgCluster.attach` reads back). The server is tuned for tests:
fsync, synchronous_commit and full_page_writes off, 200 connections. PgCluster(durable=True)
leaves all three on instead (PostgreSQL's defaults), for the benchmark: a commit is then on
disk before it is acknowledged, as countersign's SQLite store does.

Stopping: stop() shuts the server down (fast), kills whatever of it is left and removes the
directory. Every cluster still running when the process exits, or on SIGTERM, is stopped too,
unless detach() was called (tests/testing/pg_fixture.py hands a cluster to a later process).
The server's processes are found by their working directory, the data directory, so a killed
test never leaves one running. Errors raise PgClusterError, saying what failed, with the
command's output and the tail of the server log.

Not thread-safe: one thread drives a cluster.
"""

import atexit
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SUPERUSER = "countersign"
DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
STATE_FILE = "pg_cluster.json"
START_TIMEOUT = 60  # seconds for pg_ctl start/stop and for the server to answer
PORT_ATTEMPTS = 5  # a port found free may be taken before the server binds it
LOG_TAIL_LINES = 40
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SOCKET_PATH_MAX = 107  # sun_path, less its terminating NUL


class PgClusterError(RuntimeError):
    """A cluster could not be started, stopped or used; the message says why."""


class _PortTaken(PgClusterError):
    pass


_live = set()  # clusters to stop at exit
_hooks_installed = False


def _stop_all():
    for cluster in list(_live):
        try:
            cluster.stop()
        except Exception as e:  # noqa: BLE001 - at exit, stop the others whatever happens
            print(f"pg_cluster: stopping {cluster.root}: {e}", flush=True)


def _on_sigterm(signum, frame):
    _stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_hooks():
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    # Only when nobody else handles SIGTERM (and only the main thread may set handlers).
    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:
        pass


def _find_bindir():
    bindir = os.environ.get("COUNTERSIGN_PG_BINDIR")
    if bindir:
        return bindir
    if os.path.exists(os.path.join(DEFAULT_BINDIR, "initdb")):
        return DEFAULT_BINDIR
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise PgClusterError(f"PostgreSQL not found: no initdb in {DEFAULT_BINDIR} or on PATH "
                         "(install postgresql-15: scripts/install-deps.sh), or set "
                         "COUNTERSIGN_PG_BINDIR")


def _unprivileged_user():
    """The account the server runs as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PgClusterError("running as root, and neither a postgres nor a nobody user exists to "
                         "run PostgreSQL as (initdb refuses root)")


def _child_env():
    # PGHOST, PGPORT, PGOPTIONS and the like must not steer the test server's tools elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] != b"Z"


class PgCluster:
    """One PostgreSQL server. Use as a context manager, or call start() and stop()."""

    def __init__(self, base_dir=None, bindir=None, durable=False):
        """base_dir: where the temporary directory goes (default: $TMPDIR or /tmp).
        durable: fsync, synchronous_commit and full_page_writes on (default: off, for tests)."""
        self.base_dir = base_dir
        self.bindir = bindir
        self.durable = durable
        self.root = None
        self.port = None
        self.running = False
        self._user = None  # pwd entry of the account the server runs as, or None

    # --- paths -----------------------------------------------------------------------------

    @property
    def data_dir(self):
        return os.path.join(self.root, "data")

    @property
    def socket_dir(self):
        return os.path.join(self.root, "socket")

    @property
    def log_file(self):
        return os.path.join(self.root, "server.log")

    def url(self, dbname="postgres"):
        """The URL of database `dbname` on this server, as the superuser countersign."""
        self._require_started()
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    # --- life cycle ------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """initdb into a new temporary directory and start the server on a free port."""
        if self.root is not None:
            raise PgClusterError(f"cluster already started in {self.root}")
        self.bindir = self.bindir or _find_bindir()
        self._user = _unprivileged_user()
        base = self.base_dir or tempfile.gettempdir()
        self.root = tempfile.mkdtemp(prefix="countersign-pg-", dir=base)
        _install_hooks()
        _live.add(self)
        try:
            self._prepare_directory()
            self._initdb()
            self._configure()
            for attempt in range(PORT_ATTEMPTS):
                self.port = _free_port()
                try:
                    self._start_server()
                    break
                except _PortTaken:
                    if attempt == PORT_ATTEMPTS - 1:
                        raise
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Fast shutdown, kill what is left, remove the directory. Safe to call twice."""
        if self.root is None:
            return
        try:
            if self.running:
                self.running = False
                try:
                    result = self._pg_ctl("stop", "-m", "fast")
                    if result.returncode != 0:
                        print(f"pg_cluster: pg_ctl stop failed, killing the server:\n"
                              f"{result.stdout}", flush=True)
                except subprocess.TimeoutExpired:
                    print("pg_cluster: pg_ctl stop hung, killing the server", flush=True)
            self._kill_processes()
        finally:
            _live.discard(self)
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self.running = False

    def pause(self):
        """Stops the server (fast shutdown), keeping its data and port for resume()."""
        self._require_running()
        result = self._pg_ctl("stop", "-m", "fast")
        self.running = False
        if result.returncode != 0:
            self._kill_processes()
            raise self._error("pg_ctl stop (pause) failed", result.stdout)

    def resume(self):
        """Starts the server again, after pause() or kill(), on the same port and data."""
        self._require_started()
        if self.running:
            raise PgClusterError("resume: the server is already running")
        try:
            self._start_server()
        except _PortTaken as e:
            raise PgClusterError(f"resume: port {self.port} was taken while the server was "
                                 f"down\n{e}") from None

    def kill(self):
        """Kills the server and all its processes with SIGKILL, as a crash would."""
        self._require_started()
        self._kill_processes()
        self.running = False

    def detach(self):
        """Leaves the server running when this process exits (see attach)."""
        _live.discard(self)

    @classmethod
    def attach(cls, root):
        """The cluster that start() made in `root`, possibly in another process."""
        try:
            with open(os.path.join(root, STATE_FILE)) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            raise PgClusterError(f"{root} holds no cluster: {e}") from None
        cluster = cls(bindir=state["bindir"])
        cluster.root = root
        cluster.port = state["port"]
        cluster._user = pwd.getpwnam(state["user"]) if state["user"] else None
        cluster.running = bool(cluster.processes())
        return cluster

    # --- using it --------------------------------------------------------------------------

    def create_database(self, name=None):
        """Creates database `name` (default: cs_<random hex>) and returns its URL."""
        name = name or "cs_" + secrets.token_hex(8)
        if not _DB_NAME.match(name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits and _ only, "
                             "at most 63")
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql, dbname="postgres"):
        """Runs `sql` with psql on database `dbname` and returns its output (unaligned, tuples
        only: one line a row, columns separated by |)."""
        self._require_running()
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = "psql"
        result = subprocess.run(
            [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname),
             "-c", sql],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_child_env(), timeout=START_TIMEOUT)
        if result.returncode != 0:
            raise self._error(f"psql on {dbname} failed: {sql}", result.stderr)
        return result.stdout

    def processes(self):
        """The pids of the server's processes: those working in its data directory."""
        if self.root is None:
            return []
        data_dir = os.path.realpath(self.data_dir)
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd.removesuffix(" (deleted)") == data_dir and _alive(int(entry)):
                pids.append(int(entry))
        return pids

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            with open(self.log_file, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"(no server log: {e})\n"

    # --- internals -------------------------------------------------------------------------

    def _require_started(self):
        if self.root is None:
            raise PgClusterError("the cluster is not started")

    def _require_running(self):
        self._require_started()
        if not self.running:
            raise PgClusterError("the server is not running (paused or killed)")

    def _error(self, what, output=""):
        return PgClusterError(f"{what}\n{output.rstrip()}\n--- tail of {self.log_file} ---\n"
                              f"{self.log_tail()}")

    def _as_user(self, argv):
        if self._user is None:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", self._user.pw_name, "--"] + argv
        return ["setpriv", f"--reuid={self._user.pw_uid}", f"--regid={self._user.pw_gid}",
                "--init-groups", "--"] + argv

    def _run(self, argv, timeout=START_TIMEOUT + 30):
        return subprocess.run(self._as_user(argv), cwd=self.root, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=_child_env(), timeout=timeout)

    def _prepare_directory(self):
        socket_path = os.path.join(self.socket_dir, ".s.PGSQL.65535")
        if len(socket_path.encode()) > _SOCKET_PATH_MAX:
            raise PgClusterError(f"{self.root} is too long a path for a unix socket; set "
                                 "TMPDIR to a shorter directory")
        if "'" in self.root:
            raise PgClusterError(f"{self.root}: a quote in the path cannot go in the config")
        os.mkdir(self.socket_dir, 0o700)
        if self._user is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
            check = self._run(["test", "-w", self.root])
            if check.returncode != 0:
                raise PgClusterError(f"user {self._user.pw_name} cannot reach {self.root}: set "
                                     "TMPDIR to a directory every user can enter (such as /tmp)")

    def _initdb(self):
        result = self._run([os.path.join(self.bindir, "initdb"), "-D", self.data_dir,
                            "-U", SUPERUSER, "--auth=trust", "--locale=C", "-E", "UTF8",
                            "--no-sync", "--no-instructions"])
        if result.returncode != 0:
            raise self._error("initdb failed", result.stdout)

    def _configure(self):
        # Appended to the file initdb wrote (which keeps its owner); the port goes on the
        # command line, so a retry on another port needs no edit.
        durability = "on" if self.durable else "off"
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as f:
            f.write("\n# tests/testing/pg_cluster.py: a throwaway server for the tests\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{self.socket_dir}'\n"
                    f"fsync = {durability}\n"
                    f"synchronous_commit = {durability}\n"
                    f"full_page_writes = {durability}\n"
                    "max_connections = 200\n")

    def _pg_ctl(self, *args):
        return self._run([os.path.join(self.bindir, "pg_ctl"), *args, "-D", self.data_dir,
                          "-w", "-t", str(START_TIMEOUT)])

    def _start_server(self):
        log_start = os.path.getsize(self.log_file) if os.path.exists(self.log_file) else 0
        result = self._pg_ctl("start", "-l", self.log_file, "-o", f"-p {self.port}")
        if result.returncode != 0:
            # A timed-out pg_ctl leaves the postmaster running.
            self._kill_processes()
            try:
                with open(self.log_file, errors="replace") as f:
                    f.seek(log_start)
                    this_start = f.read()
            except OSError:
                this_start = ""
            if "could not bind IPv4 address" in this_start or "Address already in use" in \
                    this_start:
                raise _PortTaken(f"port {self.port} is in use")
            raise self._error(f"pg_ctl start on port {self.port} failed", result.stdout)
        self.running = True
        self._wait_ready()

    def _wait_ready(self):
        pg_isready = os.path.join(self.bindir, "pg_isready")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            result = subprocess.run(
                [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
                 "-d", "postgres", "-t", "5"], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=_child_env(), timeout=30)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline or not self.processes():
                raise self._error(f"the server on port {self.port} never answered pg_isready",
                                  result.stdout)
            time.sleep(0.05)  # pg_ctl -w said it is up: this is at most a few rounds

    def _kill_processes(self):
        """SIGKILLs the postmaster, then every process left in the data directory, and waits
        until none is left."""
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                postmaster = int(f.readline().strip() or 0)
        except (OSError, ValueError):
            postmaster = 0
        # The postmaster first, so that it restarts no child; only if it is this cluster's.
        pids = self.processes()
        if postmaster in pids:
            os.kill(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT
        while pids:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if time.monotonic() > deadline:
                raise PgClusterError(f"processes {pids} of {self.data_dir} survive SIGKILL")
            time.sleep(0.01)  # SIGKILL is delivered asynchronously
            pids = self.processes()
        # Until its parent reaps it, a killed postmaster is a zombie, which the next start's
        # check of the lock files takes for a running server. Nothing of it runs any more.
        lock_files = [os.path.join(self.data_dir, "postmaster.pid")]
        if os.path.isdir(self.socket_dir):
            lock_files += [os.path.join(self.socket_dir, name)
                           for name in os.listdir(self.socket_dir) if name.endswith(".lock")]
        for path in lock_files:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def _write_state(self):
        state = {"port": self.port, "bindir": self.bindir,
                 "user": self._user.pw_name if self._user else None}
        with open(os.path.join(self.root, STATE_FILE), "w") as f:
            json.dump(state, f)
