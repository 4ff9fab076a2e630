#!/usr/bin/python3
"""Fills a countersign SQLite store with a history of many requests and their audit events,
for the scale benchmark (bench/scale).

    bench/gen_scale_store.py DB --templates TEMPLATE_DB --requests 10000000 --out-dir DIR

DB is a store the server has created, holding its principals (the tokens bench/scale made:
approver-1..3 and agent-01..20) and no request. TEMPLATE_DB is another store in which one
request of each fate was made through the API by agent-01 (with a session) and decided by
approver-1: one approved, one denied, one cancelled by its requester, one expired, one still
pending. Every generated request copies the template of its fate, so each column, each
decision and each audit event has the form the server writes for it; what varies is what
varies between real requests (id, action, title, arguments and their SHA-256, requester,
session, times, deadline, approver, decision id, receipt claims).

The history: REQUESTS requests over the 90 days before now, in id (creation) order, by 20
requesters (skewed: a few do most of it) over 200 actions (skewed too), in sessions of about
20 requests per requester (one in ten without a session). The newest --pending-share of them
are pending (30-day deadlines, created over the last day); the older ones were approved (55%),
denied (15%), cancelled by their requester (15%) or expired (15%), decided 5 s to 50 min
after creation by one of three approvers, or expired at their one-hour deadline.

The audit chain: each request's events (request.created; decision.recorded and
request.resolved; request.cancelled; request.expired), in time order across requests, appended
after the store's own events with a valid hash chain (docs/api.md "Verifying the chain
yourself"), and after every 1,000 events an audit.checkpoint signed with the store's own
receipt key (receipt_key.pem beside DB), as the server's sealer writes them. Receipts of
approved requests carry the right claims but the template's signature (nothing here verifies
them; signing 5 M receipts would double the generation time).

Also written to DIR: ids.sample (up to 200,000 request ids, shuffled) and sessions.sample,
actions.sample, requesters.txt (the list filter values), and gen.json (counts, times).

The rows are one transaction, with the indexes dropped, which are built again once the rows
are committed (bench/bulk_load.py). Stdlib, plus python3-cryptography for the checkpoint signatures (without
it no checkpoint is written, and the run says so).
"""

import argparse
import base64
import hashlib
import heapq
import json
import os
import random
import sqlite3
import sys
import time

from bulk_load import bulk_load

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
CHECKPOINT_EVERY = 1000  # [server] audit_checkpoint_every's default
SAMPLE = 200_000
REQUESTERS = [f"agent-{n:02d}" for n in range(1, 21)]
APPROVERS = ["approver-1", "approver-2", "approver-3"]
ACTIONS = [f"deploy_service_{n}" for n in range(200)]
FATES = (("approved", 55), ("denied", 15), ("cancelled", 15), ("expired", 15))

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]  # 10 bits as two base32 digits


def make_id(prefix, ms, rand80):
    """The server's id format: 48-bit milliseconds and 80 random bits as 26 base32 digits (10
    for the time, with two leading zero bits, and 16 for the random part)."""
    return (prefix + PAIRS[ms >> 40] + PAIRS[(ms >> 30) & 1023] + PAIRS[(ms >> 20) & 1023]
            + PAIRS[(ms >> 10) & 1023] + PAIRS[ms & 1023]
            + "".join(PAIRS[(rand80 >> shift) & 1023] for shift in (70, 60, 50, 40, 30, 20, 10, 0)))


def canonical(value):
    """The server's canonical JSON: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class AtText:
    """RFC 3339 UTC with milliseconds, as the chain hashes `at`; cached per second."""

    def __init__(self):
        self.second, self.prefix = None, ""

    def __call__(self, ms):
        second = ms // 1000
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        return f"{self.prefix}{ms % 1000:03d}Z"


def load_templates(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    templates = {}
    for row in db.execute("SELECT * FROM requests"):
        request = dict(row)
        events = [dict(e) for e in db.execute(
            "SELECT type, actor, data FROM events WHERE request_id = ? ORDER BY seq", (row["id"],))]
        decisions = [dict(d) for d in db.execute(
            "SELECT * FROM decisions WHERE request_id = ?", (row["id"],))]
        templates[row["status"]] = {"request": request, "events": events, "decisions": decisions}
    db.close()
    missing = {"pending", "approved", "denied", "cancelled", "expired"} - templates.keys()
    if missing:
        sys.exit(f"gen_scale_store: {path} lacks a template request for {sorted(missing)}")
    return templates


def load_signer(db_path):
    """The store's receipt key, which signs audit checkpoints (EdDSA compact JWS), and the JWS
    header the server puts on what it signs (its kid: the key's RFC 7638 thumbprint); the key is
    None without python3-cryptography."""
    try:
        from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                                  load_pem_private_key)
    except ImportError:
        return None, None
    with open(os.path.join(os.path.dirname(os.path.abspath(db_path)), "receipt_key.pem"), "rb") as f:
        key = load_pem_private_key(f.read(), password=None)
    x = b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    kid = b64url(hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest())
    return key, b64url(f'{{"alg":"EdDSA","typ":"JWT","kid":"{kid}"}}'.encode())


def compile_data(template_data, fields):
    """An event's data as a function of the varying fields: the template's canonical JSON split
    around them (key order does not depend on the values), so no JSON is built per event. The
    values put in are plain ASCII strings, or lists of them, needing no escapes."""
    data = json.loads(template_data)
    marks = {}
    for key in data:
        if key in fields:
            marks[key] = f"\x01{key}\x01"
            data[key] = marks[key]
    text = canonical(data)
    parts, keys = [], []
    while True:
        positions = [(text.find(json.dumps(m)), k) for k, m in marks.items() if json.dumps(m) in text]
        if not positions:
            break
        at, key = min(positions)
        parts.append(text[:at])
        keys.append(key)
        text = text[at + len(json.dumps(marks[key])):]
    parts.append(text)

    def render(values):
        out = [parts[0]]
        for key, part in zip(keys, parts[1:]):
            value = values[key]
            out.append('"%s"' % value if isinstance(value, str) else
                       "[" + ",".join('"%s"' % v for v in value) + "]")
            out.append(part)
        return "".join(out)

    return render


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db")
    parser.add_argument("--templates", required=True)
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--pending-share", type=float, default=0.10)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.requests < 10 or not 0 < args.pending_share < 1:
        sys.exit("gen_scale_store: need --requests >= 10 and 0 < --pending-share < 1")

    templates = load_templates(args.templates)
    signer, jws_header = load_signer(args.db)
    rng = random.Random(args.seed)
    db = sqlite3.connect(args.db, isolation_level=None)
    db.row_factory = sqlite3.Row
    if db.execute("SELECT count(*) FROM requests").fetchone()[0] != 0:
        sys.exit(f"gen_scale_store: {args.db} already holds requests")
    last = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None:
        sys.exit(f"gen_scale_store: {args.db} has no audit events (let the server create it)")
    last_checkpoint = db.execute(
        "SELECT max(seq) FROM events WHERE type = 'audit.checkpoint'").fetchone()[0] or 0
    tenant = templates["pending"]["request"]["tenant"]
    tenant_json = canonical(tenant)
    template_requester = templates["pending"]["request"]["requester"]
    approved_decision = templates["approved"]["decisions"][0]
    template_approver = approved_decision["principal"]
    columns = list(templates["pending"]["request"].keys())

    # The receipt of the approved template: its header and signature are reused, its claims
    # rewritten per request (key order kept).
    _, receipt_payload, receipt_sig = templates["approved"]["request"]["receipt"].split(".")
    receipt_header = jws_header or templates["approved"]["request"]["receipt"].split(".")[0]
    receipt_claims = json.loads(base64.urlsafe_b64decode(receipt_payload + "=" * (-len(receipt_payload) % 4)))
    receipt_ttl = receipt_claims["exp"] - receipt_claims["iat"]

    now_ms = int(time.time() * 1000)
    total = args.requests
    pending_count = max(1, int(total * args.pending_share))
    resolved_count = total - pending_count
    window_start = now_ms - 90 * DAY_MS
    resolved_step = (89 * DAY_MS) / max(1, resolved_count)
    pending_start = now_ms - DAY_MS
    pending_step = (DAY_MS - 60_000) / pending_count
    fate_table = [fate for fate, weight in FATES for _ in range(weight)]
    at_text = AtText()
    sampled = set(rng.sample(range(total), min(SAMPLE, total)))
    samples, sessions_seen = [], set()
    session_counter = {name: 0 for name in REQUESTERS}

    state = {"seq": last["seq"], "prev": last["hash"], "unsigned": last["seq"] - last_checkpoint,
             "events": 0, "checkpoints": 0}
    counts = {"pending": 0, "approved": 0, "denied": 0, "cancelled": 0, "expired": 0}
    insert_request = (f"INSERT INTO requests ({','.join(chr(34) + c + chr(34) for c in columns)}) "
                      f"VALUES ({','.join('?' for _ in columns)})")
    decision_columns = list(approved_decision.keys())
    insert_decision = (f"INSERT INTO decisions ({','.join(decision_columns)}) "
                       f"VALUES ({','.join('?' for _ in decision_columns)})")
    insert_event = ("INSERT INTO events (seq, at, tenant, request_id, type, actor, data, prev_hash,"
                    " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    requests_batch, decisions_batch, events_batch = [], [], []
    later = []  # heap of (at, order, request_id, type, actor, data): events not yet due
    order = 0

    def append_event(at, request_id, type_, actor, data):
        seq = state["seq"] + 1
        # actor, request_id and type are plain ASCII (names, ids, event types): no escapes.
        text = (f'{{"actor":"{actor}","at":"{at_text(at)}","data":{data},'
                f'"request_id":"{request_id}","seq":{seq},"tenant":{tenant_json},'
                f'"type":"{type_}"}}')
        digest = hashlib.sha256((state["prev"] + text).encode()).hexdigest()
        events_batch.append((seq, at, tenant, request_id, type_, actor, data, state["prev"], digest))
        state["seq"], state["prev"] = seq, digest
        state["events"] += 1
        if type_ == "audit.checkpoint":
            state["unsigned"] = 0
            state["checkpoints"] += 1
            return
        state["unsigned"] += 1
        if signer is not None and state["unsigned"] >= CHECKPOINT_EVERY:
            payload = (f'{{"typ":"countersign.audit.checkpoint","seq":{seq},"hash":"{digest}",'
                       f'"iat":{at // 1000}}}').encode()
            header = receipt_header.encode()
            signing_input = header + b"." + b64url(payload).encode()
            jws = signing_input.decode() + "." + b64url(signer.sign(signing_input))
            append_event(at, "", "audit.checkpoint", "countersign",
                         canonical({"hash": digest, "jws": jws, "seq": seq}))

    def flush_due(until):
        while later and later[0][0] <= until:
            at, _, request_id, type_, actor, data = heapq.heappop(later)
            append_event(at, request_id, type_, actor, data)

    # Each template's row as a list in column order, changed in place per request.
    (c_id, c_action, c_title, c_arguments, c_sha, c_requester, c_session, c_created, c_deadline,
     c_resolved_at, c_resolved_by, c_receipt, c_grant_options) = (columns.index(c) for c in (
         "id", "action", "title", "arguments", "arguments_sha256", "requester", "session",
         "created_at", "deadline_at", "resolved_at", "resolved_by", "receipt", "grant_options"))
    for template in templates.values():
        template["row"] = [template["request"][c] for c in columns]
        options = [o for o in json.loads(template["request"]["grant_options"])
                   if o["scope"] != "session"]
        template["no_session_grant_options"] = json.dumps(options, separators=(",", ":"))
    d_id, d_request, d_principal, d_at = (decision_columns.index(c) for c in (
        "id", "request_id", "principal", "at"))
    for template in templates.values():
        template["decision_rows"] = [[d[c] for c in decision_columns] for d in template["decisions"]]
    varying = {"action", "arguments_sha256", "deadline_at", "requester", "session", "title",
               "decision_id", "resolved_by"}
    for template in templates.values():
        for event in template["events"]:
            event["render"] = compile_data(event["data"], varying)

    def write_batches():
        db.executemany(insert_request, requests_batch)
        db.executemany(insert_decision, decisions_batch)
        db.executemany(insert_event, events_batch)
        requests_batch.clear()
        decisions_batch.clear()
        events_batch.clear()

    def fill():
        nonlocal order
        for i in range(total):
            pending = i >= resolved_count
            if pending:
                created = int(pending_start + (i - resolved_count) * pending_step)
                fate = "pending"
            else:
                created = int(window_start + i * resolved_step)
                fate = fate_table[int(rng.random() * 100)]
            flush_due(created)
            template = templates[fate]
            requester = REQUESTERS[int(len(REQUESTERS) * rng.random() ** 2)]
            action = ACTIONS[int(len(ACTIONS) * rng.random() ** 3)]
            number = session_counter[requester]
            session_counter[requester] = number + 1
            session = "" if number % 10 == 9 else f"{requester}/run-{number // 20}"
            request_id = make_id("req_", created, rng.getrandbits(80))
            arguments = f'{{"ref":"v{i}"}}'
            arguments_sha256 = hashlib.sha256(arguments.encode()).hexdigest()
            deadline = created + (30 * DAY_MS if pending else HOUR_MS)
            approver = APPROVERS[int(rng.random() * len(APPROVERS))]
            resolved_at = None
            if fate == "expired":
                resolved_at = deadline + 8
            elif not pending:
                resolved_at = created + 5_000 + int(rng.random() * (50 * 60_000 - 5_000))
            decision_id = make_id("dec_", resolved_at, rng.getrandbits(80)) if resolved_at else ""

            row = template["row"].copy()
            title = f"Deploy build {i}"
            row[c_id], row[c_action], row[c_title], row[c_arguments] = request_id, action, title, arguments
            row[c_sha], row[c_requester], row[c_session] = arguments_sha256, requester, session
            row[c_created], row[c_deadline], row[c_resolved_at] = created, deadline, resolved_at
            if not session:
                row[c_grant_options] = template["no_session_grant_options"]
            resolver = (approver if fate == "approved" or fate == "denied" else
                        requester if fate == "cancelled" else None)
            if resolver:
                row[c_resolved_by] = f'["{resolver}"]'
            if fate == "approved":
                claims = dict(receipt_claims)
                decided = resolved_at // 1000
                claims.update(request_id=request_id, action=action,
                              arguments_sha256=arguments_sha256, approvers=[approver],
                              decided_at=decided, iat=decided, exp=decided + receipt_ttl,
                              jti="rct_%032x" % rng.getrandbits(128))
                payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
                row[c_receipt] = f"{receipt_header}.{payload}.{receipt_sig}"
            requests_batch.append(row)
            for decision in template["decision_rows"]:
                d = decision.copy()
                d[d_id], d[d_request], d[d_principal], d[d_at] = decision_id, request_id, approver, resolved_at
                decisions_batch.append(d)

            fields = {"action": action, "arguments_sha256": arguments_sha256,
                      "deadline_at": at_text(deadline), "requester": requester,
                      "session": session, "title": title, "decision_id": decision_id,
                      "resolved_by": [resolver] if resolver else []}
            for event in template["events"]:
                actor = event["actor"]
                actor = (approver if actor == template_approver else
                         requester if actor == template_requester else actor)
                data = event["render"](fields)
                if event["type"] == "request.created":
                    append_event(created, request_id, event["type"], actor, data)
                else:
                    order += 1
                    heapq.heappush(later, (resolved_at, order, request_id, event["type"], actor, data))
            counts[fate] += 1
            if i in sampled:
                samples.append(request_id)
                if session:
                    sessions_seen.add(session)
            if len(requests_batch) >= 10_000:
                write_batches()
            if i % 1_000_000 == 999_999:
                print(f"gen_scale_store: {i + 1} requests, {state['events']} events, "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        flush_due(now_ms + 365 * DAY_MS)
        write_batches()

    started = time.monotonic()
    bulk_load(db, ["requests", "decisions", "events"], fill)
    elapsed = time.monotonic() - started
    stored = db.execute("SELECT count(*) FROM requests").fetchone()[0]
    db.close()

    rng.shuffle(samples)
    os.makedirs(args.out_dir, exist_ok=True)

    def write_lines(name, lines):
        with open(os.path.join(args.out_dir, name), "w") as f:
            f.write("".join(f"{line}\n" for line in lines))

    write_lines("ids.sample", samples)
    write_lines("sessions.sample", sorted(sessions_seen))
    write_lines("actions.sample", ACTIONS[:50])
    write_lines("requesters.txt", REQUESTERS)
    summary = {"requests": stored, "counts": counts, "events": state["events"],
               "checkpoints": state["checkpoints"], "last_seq": state["seq"],
               "seconds": round(elapsed, 1), "signed_checkpoints": signer is not None}
    with open(os.path.join(args.out_dir, "gen.json"), "w") as f:
        json.dump(summary, f)
    print(f"gen_scale_store: {stored} requests ({counts['pending']} pending), "
          f"{state['events']} events ({state['checkpoints']} checkpoints) in {elapsed:.1f} s",
          file=sys.stderr)
    if signer is None:
        print("gen_scale_store: python3-cryptography is missing: no audit.checkpoint written",
              file=sys.stderr)
    if stored != total:
        sys.exit(f"gen_scale_store: expected {total} requests, stored {stored}")


if __name__ == "__main__":
    main()
