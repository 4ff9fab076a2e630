"""ctest's `pg` fixture: one PostgreSQL server (a PgCluster) shared by the C++ tests that need
one, started by the test pg.setup and stopped by pg.cleanup (tests/CMakeLists.txt).

    pg_fixture.py start DIR [--durable]
                              starts a server that outlives this process, and writes
                              DIR/cluster_dir (where it lives) then DIR/admin_url (the URL of
                              its `postgres` database, as the superuser countersign); with
                              --durable, fsync and synchronous_commit stay on (bench/run);
    pg_fixture.py stop DIR    stops that server and removes its directory and both files.

A start that finds the server of an earlier run in DIR (a run killed before its cleanup) stops
that one first. A test reads DIR/admin_url through COUNTERSIGN_TEST_PG_FIXTURE=DIR
(tests/testing/pg_test_database.hpp). Exit status 0 on success, 1 with the reason on stderr.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pg_cluster import PgCluster, PgClusterError  # noqa: E402

ADMIN_URL = "admin_url"
CLUSTER_DIR = "cluster_dir"


def _write(path, text):
    # Whole or not at all: a reader never sees half a URL.
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)


def stop(fixture_dir):
    record = os.path.join(fixture_dir, CLUSTER_DIR)
    try:
        os.unlink(os.path.join(fixture_dir, ADMIN_URL))
    except FileNotFoundError:
        pass
    try:
        with open(record) as f:
            root = f.read().strip()
    except FileNotFoundError:
        return  # nothing started, or stopped already
    if os.path.isdir(root):
        try:
            cluster = PgCluster.attach(root)
        except PgClusterError as e:
            # Not a cluster's directory (any more): nothing of ours to stop or remove there.
            print(f"pg fixture: left {root} alone: {e}", file=sys.stderr)
        else:
            cluster.stop()
            print(f"pg fixture: stopped the server in {root}")
    os.unlink(record)


def start(fixture_dir, durable=False):
    os.makedirs(fixture_dir, exist_ok=True)
    stop(fixture_dir)
    cluster = PgCluster(durable=durable).start()  # stopped at exit until detached
    _write(os.path.join(fixture_dir, CLUSTER_DIR), cluster.root)
    _write(os.path.join(fixture_dir, ADMIN_URL), cluster.url("postgres"))
    cluster.detach()
    print(f"pg fixture: PostgreSQL at {cluster.url('postgres')}, in {cluster.root}")


def main(argv):
    durable = len(argv) == 4 and argv[1] == "start" and argv[3] == "--durable"
    if len(argv) != 3 + durable or argv[1] not in ("start", "stop"):
        print(f"usage: {argv[0]} start DIR [--durable] | stop DIR", file=sys.stderr)
        return 2
    try:
        if argv[1] == "start":
            start(os.path.abspath(argv[2]), durable)
        else:
            stop(os.path.abspath(argv[2]))
    except PgClusterError as e:
        print(f"pg fixture: {argv[1]} failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
