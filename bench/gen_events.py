#!/usr/bin/python3
"""Appends audit events with a valid hash chain to a countersign SQLite store, for the audit
verify benchmark (bench/verify_stall).

    bench/gen_events.py DB --events 1000000

DB must be a store the server has already created (stop the server first) and holding at
least one request, made through the API: the newest request is the template the events
belong to. Each generated event is a "request.reminded" event of that request from "system",
with the data the server writes for one (approvers, deadline_at, notify), so the store then
holds EVENTS more events than before and `GET /v1/audit/verify` reports them all as checked.

The chain is the one docs/api.md "Verifying the chain yourself" describes: an event's hash is
SHA-256 of the previous event's hash followed by the canonical JSON of its seven fields (keys
in byte order, no spaces, `at` as RFC 3339 UTC with milliseconds); `data` is stored as the
canonical JSON that was hashed. Timestamps are one millisecond apart, ending now, never before
the last existing event.

The rows are one transaction, with the events indexes dropped, which are built again once the
rows are committed (bench/bulk_load.py). Stdlib only.
"""

import argparse
import datetime
import hashlib
import json
import sqlite3
import sys
import time

from bulk_load import bulk_load

GENESIS = "0" * 64


def canonical(value):
    """The server's canonical JSON: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def at_text(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db")
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.events < 1:
        sys.exit("gen_events: need --events >= 1")

    db = sqlite3.connect(args.db, isolation_level=None)
    db.row_factory = sqlite3.Row
    template = db.execute("SELECT * FROM requests ORDER BY id DESC LIMIT 1").fetchone()
    if template is None:
        sys.exit(f"gen_events: {args.db} holds no request (create one through the API first)")
    last = db.execute("SELECT seq, at, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev, last_at = (last["seq"], last["hash"], last["at"]) if last else (0, GENESIS, 0)
    before = db.execute("SELECT count(*) FROM events").fetchone()[0]

    data = canonical({"approvers": json.loads(template["approvers"]),
                      "deadline_at": at_text(template["deadline_at"]),
                      "notify": json.loads(template["notify"])})
    tenant, request_id = template["tenant"], template["id"]
    # The canonical event around its two varying fields (seq and at), keys in byte order.
    head = '{"actor":"system","at":"'
    middle = f'","data":{data},"request_id":{canonical(request_id)},"seq":'
    tail = f',"tenant":{canonical(tenant)},"type":"request.reminded"}}'

    started = time.monotonic()
    now_ms = int(time.time() * 1000)
    total_bytes = 0

    def rows():
        nonlocal seq, prev, total_bytes
        at_cache = (None, "")
        for i in range(args.events):
            at = max(last_at, now_ms - args.events + 1 + i)
            if at_cache[0] != at:
                at_cache = (at, at_text(at))
            seq += 1
            text = f"{head}{at_cache[1]}{middle}{seq}{tail}"
            total_bytes += len(text)
            digest = hashlib.sha256((prev + text).encode()).hexdigest()
            yield (seq, at, tenant, request_id, "request.reminded", "system", data, prev, digest)
            prev = digest

    def fill():
        insert = ("INSERT INTO events (seq, at, tenant, request_id, type, actor, data, prev_hash,"
                  " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        generated = rows()
        while True:
            batch = [row for _, row in zip(range(10_000), generated)]
            if not batch:
                break
            db.executemany(insert, batch)

    bulk_load(db, ["events"], fill)
    after = db.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    print(f"gen_events: {after} events ({after - before} new, last seq {seq}, "
          f"{total_bytes / args.events:.0f} bytes hashed each) "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)
    if after - before != args.events:
        sys.exit(f"gen_events: expected {args.events} new events, got {after - before}")


if __name__ == "__main__":
    main()
