#!/usr/bin/python3
"""Fills a countersign SQLite store with many requests, for the start-up benchmark.

    bench/gen_store.py DB --rows 1000000 --pending 100000

DB must be a store the server has already created and holding exactly one request, made
through the API: that row is the template every generated row copies (so each column has
the form the server writes), and it counts as one of the pending ones. The generated store
then holds ROWS requests in time order: the newest PENDING are pending with deadlines in the
future (a week after creation), the older ones are approved, denied (each with its decision),
expired or cancelled. Audit events are not generated: start-up does not read them, and an
audit verify on this store reports the gap.

The rows are one transaction, with the indexes dropped, which are built again once the rows
are committed (bench/bulk_load.py). Stdlib only.
"""

import argparse
import os
import sqlite3
import sys
import time

from bulk_load import bulk_load

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DAY_MS = 24 * 3600 * 1000


def make_id(prefix, ms, rand):
    """The server's id format: 48-bit milliseconds and 80 random bits as 26 base32 digits."""
    value = (ms << 80) | rand
    digits = []
    for _ in range(26):
        digits.append(CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(digits))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pending", type=int, default=100_000)
    args = parser.parse_args()
    if not 1 <= args.pending <= args.rows:
        sys.exit("gen_store: need 1 <= --pending <= --rows")

    db = sqlite3.connect(args.db, isolation_level=None)
    db.row_factory = sqlite3.Row
    templates = db.execute("SELECT * FROM requests").fetchall()
    if len(templates) != 1 or templates[0]["status"] != "pending":
        sys.exit(f"gen_store: {args.db} must hold exactly one pending request (the template)")
    template = dict(templates[0])
    columns = list(template.keys())

    started = time.monotonic()
    now_ms = int(time.time() * 1000)
    generated = args.rows - 1
    pending_new = args.pending - 1
    # Resolved requests spread over the last 90 days, pending ones over the last day; all
    # strictly older than the template, so ids stay in creation order.
    resolved_count = generated - pending_new
    resolved_step = max(1, (89 * DAY_MS) // max(1, resolved_count))
    pending_step = max(1, (DAY_MS - 1000) // max(1, pending_new))
    resolved_start = now_ms - 90 * DAY_MS
    pending_start = now_ms - DAY_MS
    statuses = ("approved", "denied", "expired", "cancelled")
    rand_state = int.from_bytes(os.urandom(10), "big") >> 1

    def rows():
        nonlocal rand_state
        for i in range(generated):
            rand_state = (rand_state + 0x9E3779B97F4A7C15) % (1 << 79)
            if i < resolved_count:
                created = resolved_start + i * resolved_step
                status = statuses[i % len(statuses)]
            else:
                created = pending_start + (i - resolved_count) * pending_step
                status = "pending"
            row = dict(template)
            row["id"] = make_id("req_", created, rand_state)
            row["action"] = f"deploy_service_{i % 500}"
            row["title"] = f"Deploy build {i}"
            row["arguments"] = '{"ref":"v%d"}' % i
            row["created_at"] = created
            row["deadline_at"] = created + 7 * DAY_MS
            row["status"] = status
            row["idempotency_key"] = ""
            if status == "pending":
                row["resolved_at"] = None
                row["resolved_by"] = "[]"
            else:
                row["resolved_at"] = created + 60_000
                row["resolved_by"] = {"approved": '["bench-approver"]',
                                      "denied": '["bench-approver"]',
                                      "expired": "[]",
                                      "cancelled": '["%s"]' % template["requester"]}[status]
            yield row, rand_state

    placeholders = ",".join("?" for _ in columns)
    quoted = ",".join(f'"{c}"' for c in columns)
    insert_request = f"INSERT INTO requests ({quoted}) VALUES ({placeholders})"
    insert_decision = ("INSERT INTO decisions (id, request_id, tenant, principal, choice, outcome,"
                       " comment, at) VALUES (?, ?, ?, 'bench-approver', ?, ?, '', ?)")

    def fill():
        batch, decisions = [], []
        for row, rand in rows():
            batch.append(tuple(row[c] for c in columns))
            if row["status"] in ("approved", "denied"):
                approved = row["status"] == "approved"
                decisions.append((make_id("dec_", row["resolved_at"], rand),
                                  row["id"], row["tenant"], "approve" if approved else "deny",
                                  row["status"], row["resolved_at"]))
            if len(batch) >= 10_000:
                db.executemany(insert_request, batch)
                db.executemany(insert_decision, decisions)
                batch, decisions = [], []
        db.executemany(insert_request, batch)
        db.executemany(insert_decision, decisions)

    bulk_load(db, ["requests", "decisions"], fill)
    counts = dict(db.execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall())
    db.close()
    print(f"gen_store: {sum(counts.values())} requests ({counts.get('pending', 0)} pending) "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)
    if sum(counts.values()) != args.rows or counts.get("pending", 0) != args.pending:
        sys.exit(f"gen_store: expected {args.rows} rows with {args.pending} pending, got {counts}")


if __name__ == "__main__":
    main()
