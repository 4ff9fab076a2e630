#!/usr/bin/python3
"""Prints bench/run's table: the median of every figure's runs, with the DESIGN.md ratios.

    bench/table.py RESULTS META [NOTES]

RESULTS holds "key<TAB>value" lines, one per figure per run (the same key once per run).
META holds "key<TAB>text" lines describing the machine and the load. NOTES, if given, holds
lines printed under the table (errors, short runs, anything a reader must know). Stdlib only.
"""

import statistics
import sys

# The targets of DESIGN.md "Performance targets".
SUBMIT_VS_PEER = 25.0      # durable submit >= 25x the Hermes peer
READ_VS_NGINX = 0.5        # status read >= 50% of nginx's constant
WAKE_P99_MS = 1.0          # decision -> waiter woken, p99 < 1 ms at 1,000 waiters
WAITERS_EXTRA_MIB = 64.0   # 10,000 open waiters cost < 64 MiB more RSS
WAITERS_EXTRA_MIB_ISSUE20 = 32.0  # issue 20's tighter target for the same figure
STARTUP_SECONDS = 2.0      # start-up with 1,000,000 stored requests < 2 s
VERIFY_EVENTS_PER_S = 1e6  # a full audit verify checks >= 1,000,000 events/s
STARTUP_PENDING_BYTES = 150.0  # memory per pending request < 150 B, with 1,000,000 pending

# bench/run --store postgres|both: the key infix of each PostgreSQL set-up, and its label.
POSTGRES_SETUPS = (("pg1", "postgres, 1 replica"), ("pg2", "postgres, 2 replicas"))
WAKE_POSTGRES_SETUPS = (("wake_pg1", "postgres, 1 replica"),
                        ("wake_pg2", "postgres, 2 replicas: B waits, A decides"))


def load(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, value = line.partition("\t")
            values.setdefault(key, []).append(value)
    return values


class Figures:
    def __init__(self, results):
        self.results = results

    def median(self, key):
        values = self.results.get(key)
        if not values:
            return None
        return statistics.median(float(v) for v in values)


def num(value, unit="", digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def ms(value):
    if value is None:
        return "—"
    return f"{value:,.2f} ms" if value < 100 else f"{value:,.0f} ms"


def verdict(met):
    return "—" if met is None else ("met" if met else "NOT MET")


def vs_sqlite(value, sqlite):
    """The ratio of a PostgreSQL figure to the SQLite figure of the same run."""
    return "—" if value is None or not sqlite else f"{value / sqlite:.2f}× SQLite"


def main():
    results = Figures(load(sys.argv[1]))
    meta = {k: v[-1] for k, v in load(sys.argv[2]).items()}
    notes = []
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            notes = [line.rstrip("\n") for line in f if line.strip()]

    rows = []  # (figure, countersign, hermes, nginx, ratio, target, verdict)

    def throughput(name):
        return (results.median(f"{name}.cs.rps"), results.median(f"{name}.hermes.rps"),
                results.median(f"{name}.cs.p99_ms"), results.median(f"{name}.hermes.p99_ms"))

    # countersign on PostgreSQL, under the SQLite rows of the same figure.
    def postgres_rows(name, title):
        sqlite_rps = results.median(f"{name}.cs.rps")
        sqlite_p99 = results.median(f"{name}.cs.p99_ms")
        for key, setup in POSTGRES_SETUPS:
            rps, p99 = results.median(f"{name}.{key}.rps"), results.median(f"{name}.{key}.p99_ms")
            if rps is None:
                continue
            rows.append((f"  {title} ({setup}), req/s", num(rps), "—", "—",
                         vs_sqlite(rps, sqlite_rps), "", ""))
            rows.append((f"  {title} ({setup}), p99", ms(p99), "—", "—",
                         vs_sqlite(p99, sqlite_p99), "", ""))

    # Server CPU per operation: the server process's own user+system time over the wrk run
    # divided by the requests wrk completed (bench/run's run_wrk_cpu); lower is better, so the
    # ratio below 1 is countersign spending less than the other server.
    def cpu_row(name, title):
        cs, peer, nginx = (results.median(f"{name}.{server}.cpu_us_per_op")
                           for server in ("cs", "hermes", "nginx"))
        if cs is None and peer is None:
            return
        ratios = []
        if cs and peer:
            ratios.append(f"{cs / peer:.2f}× Hermes")
        if cs and nginx:
            ratios.append(f"{cs / nginx:.1f}× nginx")
        rows.append((f"CPU per {title}, µs", num(cs, digits=1), num(peer, digits=1),
                     num(nginx, digits=1), ", ".join(ratios) or "—", "", ""))
        # Where the rest of the two cores went during the same runs: wrk's own CPU time per
        # request, and the share of the machine left idle.
        loads = [results.median(f"{name}.{server}.load_cpu_us_per_op")
                 for server in ("cs", "hermes", "nginx")]
        if any(v is not None for v in loads):
            rows.append((f"  wrk's CPU per {title}, µs", *(num(v, digits=1) for v in loads),
                         "", "", ""))
        idles = [results.median(f"{name}.{server}.idle_pct") for server in ("cs", "hermes", "nginx")]
        if any(v is not None for v in idles):
            rows.append((f"  machine idle during {title}",
                         *("—" if v is None else f"{v:.0f}%" for v in idles), "", "", ""))

    cs, peer, cs_p99, peer_p99 = throughput("submit")
    if cs is not None or peer is not None:
        ratio = cs / peer if cs and peer else None
        rows.append(("durable submit, req/s", num(cs), num(peer), "—",
                     "—" if ratio is None else f"{ratio:.1f}× Hermes",
                     f"≥ {SUBMIT_VS_PEER:.0f}× Hermes",
                     verdict(None if ratio is None else ratio >= SUBMIT_VS_PEER)
                     + ("" if ratio is None else f" ({ratio / SUBMIT_VS_PEER:.0%} of target)")))
        rows.append(("durable submit, p99", ms(cs_p99), ms(peer_p99), "—", "", "", ""))
    cpu_row("submit", "submit")
    postgres_rows("submit", "submit")

    cs, peer, cs_p99, peer_p99 = throughput("decide")
    if cs is not None or peer is not None:
        ratio = cs / peer if cs and peer else None
        rows.append(("decide, req/s", num(cs), num(peer), "—",
                     "—" if ratio is None else f"{ratio:.1f}× Hermes", "(no target)", ""))
        rows.append(("decide, p99", ms(cs_p99), ms(peer_p99), "—", "", "", ""))
    cpu_row("decide", "decide")
    postgres_rows("decide", "decide")

    cs, peer, nginx = (results.median("read.cs.rps"), results.median("read.hermes.rps"),
                       results.median("read.nginx.rps"))
    if cs is not None or nginx is not None:
        ratio = cs / nginx if cs and nginx else None
        rows.append(("status read, req/s", num(cs), num(peer), num(nginx),
                     "—" if ratio is None else f"{ratio:.2f}× nginx",
                     f"≥ {READ_VS_NGINX:.2f}× nginx",
                     verdict(None if ratio is None else ratio >= READ_VS_NGINX)
                     + ("" if ratio is None else f" ({ratio / READ_VS_NGINX:.0%} of target)")))
        rows.append(("status read, p99", ms(results.median("read.cs.p99_ms")),
                     ms(results.median("read.hermes.p99_ms")),
                     ms(results.median("read.nginx.p99_ms")), "", "", ""))
    cpu_row("read", "status read")
    postgres_rows("read", "read")

    p99 = results.median("wake.p99_us")
    if p99 is not None:
        count = int(results.median("wake.waiters"))
        p50, peak = results.median("wake.p50_us"), results.median("wake.max_us")
        p99_ms = p99 / 1000
        first = results.median("wake.waiter_first")
        if first:
            notes.append(f"wake: in a median run {first:.0f} of {count:,} waiters were answered "
                         "before the decide response arrived; those count as 0")
        rows.append((f"wake, {count:,} waiters: p50 / p99 / max",
                     f"{p50 / 1000:.3f} / {p99_ms:.3f} / {peak / 1000:.3f} ms",
                     "(polls only)", "—", f"p99 {p99_ms / WAKE_P99_MS:.2f}× limit",
                     f"p99 < {WAKE_P99_MS:.0f} ms", verdict(p99_ms < WAKE_P99_MS)))
        sent50, sent99 = results.median("wake.sent_p50_us"), results.median("wake.sent_p99_us")
        if sent99 is not None:
            rows.append(("  decide sent → waiter answered: p50 / p99",
                         f"{sent50 / 1000:.3f} / {sent99 / 1000:.3f} ms", "", "", "", "", ""))
    # The long-poll on PostgreSQL: one replica, then the decision on another replica than the
    # waiter's (heard through the database's notification), with the ratio of p99 to SQLite's.
    for prefix, setup in WAKE_POSTGRES_SETUPS:
        p99 = results.median(f"{prefix}.p99_us")
        if p99 is None:
            continue
        count = int(results.median(f"{prefix}.waiters"))
        p50, peak = results.median(f"{prefix}.p50_us"), results.median(f"{prefix}.max_us")
        rows.append((f"  wake ({setup}), {count:,} waiters",
                     f"{p50 / 1000:.3f} / {p99 / 1000:.3f} / {peak / 1000:.3f} ms", "", "",
                     "p99 " + vs_sqlite(p99, results.median("wake.p99_us")), "", ""))
        sent50 = results.median(f"{prefix}.sent_p50_us")
        sent99 = results.median(f"{prefix}.sent_p99_us")
        rows.append(("    decide sent → waiter answered: p50 / p99",
                     f"{sent50 / 1000:.3f} / {sent99 / 1000:.3f} ms", "", "",
                     "p99 " + vs_sqlite(sent99, results.median("wake.sent_p99_us")), "", ""))
        first = results.median(f"{prefix}.waiter_first")
        if first:
            notes.append(f"wake ({setup}): in a median run {first:.0f} of {count:,} waiters were "
                         "answered before the decide response arrived; those count as 0")
    # The same through the live streams: the request.resolved event instead of the long-poll's
    # answer (no target of their own; the long-poll's limit is shown for comparison).
    for prefix, name in (("wake_sse", "SSE /v1/events"), ("wake_ws", "WebSocket /v1/ws")):
        p99 = results.median(f"{prefix}.p99_us")
        if p99 is None:
            continue
        count = int(results.median(f"{prefix}.waiters"))
        p50, peak = results.median(f"{prefix}.p50_us"), results.median(f"{prefix}.max_us")
        rows.append((f"  wake via {name}, {count:,} streams",
                     f"{p50 / 1000:.3f} / {p99 / 1000:.3f} / {peak / 1000:.3f} ms", "", "",
                     f"p99 {p99 / 1000 / WAKE_P99_MS:.2f}× limit", "", ""))
        first = results.median(f"{prefix}.waiter_first")
        if first:
            notes.append(f"wake via {name}: in a median run {first:.0f} of {count:,} streams had "
                         "the event before the decide response arrived; those count as 0")

    extra = results.median("waiters.extra_mib")
    if extra is not None:
        count = int(results.median("waiters.count"))
        per = results.median("waiters.bytes_per_waiter")
        rows.append((f"{count:,} open waiters, extra RSS",
                     f"{extra:.1f} MiB ({per:,.0f} B/waiter)", "—", "—",
                     f"{extra / WAITERS_EXTRA_MIB:.2f}× limit", f"< {WAITERS_EXTRA_MIB:.0f} MiB",
                     verdict(extra < WAITERS_EXTRA_MIB)))
        rows.append(("  against issue 20's target", "", "", "",
                     f"{extra / WAITERS_EXTRA_MIB_ISSUE20:.2f}× limit",
                     f"< {WAITERS_EXTRA_MIB_ISSUE20:.0f} MiB",
                     verdict(extra < WAITERS_EXTRA_MIB_ISSUE20)))
        pss = results.median("waiters.pss_extra_mib")
        if pss is not None:
            # What the process holds, each page once: RSS counts a page of the store file once
            # per SQLite connection that maps it.
            rows.append(("  extra PSS (each page counted once)", f"{pss:.1f} MiB", "", "",
                         f"{pss / WAITERS_EXTRA_MIB_ISSUE20:.2f}× limit",
                         f"< {WAITERS_EXTRA_MIB_ISSUE20:.0f} MiB",
                         verdict(pss < WAITERS_EXTRA_MIB_ISSUE20)))
            notes.append("open waiters: PSS (smaps_rollup) counts each page the server holds once; "
                         "RSS counts a page of the store file once per SQLite connection that "
                         "has it mapped, so reads spread over the connections add to RSS and not "
                         "to the memory used")
        anon = results.median("waiters.anon_extra_mib")
        if anon is not None:
            rows.append(("  of which anonymous memory (heap)", f"{anon:.1f} MiB", "", "",
                         f"{anon / WAITERS_EXTRA_MIB_ISSUE20:.2f}× issue 20's limit", "", ""))
            if pss is None:  # else the PSS note says it
                notes.append("open waiters: the rest of the extra RSS is the store file's pages, "
                             "mapped by each reader connection (the kernel's page cache, counted "
                             "once per mapping that touched them)")
        cold = results.median("waiters.cold_extra_mib")
        if cold is not None:
            rows.append(("  the same, counted before the rows were read", f"{cold:.1f} MiB", "", "",
                         f"{cold / WAITERS_EXTRA_MIB:.2f}× limit", "", ""))
            notes.append("open waiters: the extra RSS is counted after each request was read "
                         "once (store pages cached, as any status read leaves them); the second "
                         "row adds those caches")

    seconds = results.median("startup.seconds")
    if seconds is not None:
        rows_count = int(results.median("startup.rows"))
        pending = int(results.median("startup.pending"))
        rows.append((f"start-up, {rows_count:,} rows ({pending:,} pending)", f"{seconds:.2f} s",
                     "—", "—", f"{seconds / STARTUP_SECONDS:.2f}× limit",
                     f"< {STARTUP_SECONDS:.0f} s", verdict(seconds < STARTUP_SECONDS)))
        if "startup_db" in meta:
            rows.append(("  store file", meta["startup_db"], "—", "—", "", "", ""))
        rss = results.median("startup.rss_mib")
        if rss is not None:
            rows.append(("  RSS once ready", f"{rss:.1f} MiB", "—", "—", "", "", ""))
        # (RSS once ready - a fresh server's RSS on an empty store) / pending, run by run.
        per_pending = results.median("startup.bytes_per_pending")
        if per_pending is not None:
            rows.append(("  memory per pending request", f"{per_pending:.0f} B", "—", "—",
                         f"{per_pending / STARTUP_PENDING_BYTES:.2f}× limit",
                         f"< {STARTUP_PENDING_BYTES:.0f} B",
                         verdict(per_pending < STARTUP_PENDING_BYTES)))

    # The full audit verify, then the incremental ones: their time follows the new events.
    per_s = results.median("verify.full.events_per_s")
    if per_s is not None:
        events = int(results.median("verify.full.events"))
        rows.append((f"audit verify, full, {events:,} events",
                     f"{per_s:,.0f} events/s ({results.median('verify.full.seconds'):.2f} s)",
                     "—", "—", f"{per_s / VERIFY_EVENTS_PER_S:.2f}× target",
                     f"≥ {VERIFY_EVENTS_PER_S:,.0f} events/s",
                     verdict(per_s >= VERIFY_EVENTS_PER_S)))
        first = None
        for n in sorted(int(k[len("verify.new"):-len(".seconds")]) for k in results.results
                        if k.startswith("verify.new") and k.endswith(".seconds")):
            seconds = results.median(f"verify.new{n}.seconds")
            checked = results.median(f"verify.new{n}.events")
            ratio = "" if first is None else (
                f"{seconds / first[0]:.1f}× the time for {checked / first[1]:.1f}× the events")
            first = first or (seconds, checked)
            rows.append((f"  incremental, after {n:,} new requests",
                         f"{seconds * 1000:,.1f} ms ({checked:,.0f} events checked)", "—", "—",
                         ratio, "", ""))

    idle = results.median("idle.cs.rss_mib")
    if idle is not None:
        rows.append(("idle RSS after start", f"{idle:.1f} MiB",
                     num(results.median("idle.hermes.rss_mib"), " MiB", 1), "—", "", "", ""))

    header = ("figure", "countersign", "Hermes (peer)", "nginx const", "ratio", "target", "verdict")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    print(f"countersign bench/run — {meta.get('date', '?')}, {meta.get('server', '?')}")
    print(f"machine: {meta.get('machine', '?')}")
    print(f"disk:    {meta.get('disk', '?')}")
    print(f"load:    {meta.get('load', '?')}")
    if "postgres" in meta:
        print(f"         {meta['postgres']}")
    print(f"         every figure is the median of {meta.get('runs', '?')} run(s)")
    print()
    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    if notes:
        print()
        print("notes:")
        for n in notes:
            print(f"  - {n}")


if __name__ == "__main__":
    main()
