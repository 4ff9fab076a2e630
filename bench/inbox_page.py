#!/usr/bin/env python3
"""How long the web inbox takes to answer with many pending requests: signs in, creates N
pending requests, then times GET /ui/ (the inbox: reads up to 500 pending requests, keeps the
ones the viewer may decide, sorts them by deadline, renders the table) and GET /ui/requests
(the first page of 50), each ROUNDS times, one after another; then the inbox's live refresh
when nothing changed (If-None-Match with the page's ETag: a bodiless 304).

    bench/inbox_page.py [N] [ROUNDS]      (defaults 500 and 50; the server is build/countersign
                                           or $COUNTERSIGN_BIN, on a fresh store in /tmp)

Prints a table: page, pending requests, p50, p95 and max in milliseconds, and the page's size.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))

import harness  # noqa: E402
from test_inbox import Browser  # noqa: E402


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    server = harness.Server()
    server.start()
    try:
        agent = server.create_token("bench-agent", "agent")
        approver = server.call("POST", "/v1/tokens", {"name": "alice", "role": "approver"}).json
        for i in range(count):
            server.create_request(token=agent, title=f"Request {i}", action="bench.action",
                                  timeout_seconds=300)
        browser = Browser(server)
        browser.sign_in(approver["token"])
        print("| page | pending | p50 ms | p95 ms | max ms | bytes |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for path in ("/ui/", "/ui/requests"):
            times = []
            size = 0
            for _ in range(rounds):
                started = time.perf_counter()
                page = browser.get(path)
                times.append((time.perf_counter() - started) * 1000)
                if page.status != 200:
                    raise SystemExit(f"{path} answered {page.status}")
                size = len(page.body.encode())
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"| `{path}` | {count} | {statistics.median(times):.1f} | {p95:.1f} | "
                  f"{times[-1]:.1f} | {size:,} |")
        etag = browser.get("/ui/").headers["ETag"]
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            page = server.call("GET", "/ui/", token=None,
                               headers=browser.headers({"If-None-Match": etag}))
            times.append((time.perf_counter() - started) * 1000)
            if page.status != 304:
                raise SystemExit(f"the unchanged inbox answered {page.status}")
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"| `/ui/` unchanged (304) | {count} | {statistics.median(times):.1f} | "
              f"{p95:.1f} | {times[-1]:.1f} | 0 |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
