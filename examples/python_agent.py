#!/usr/bin/env python3
"""An agent's tool that runs only once a person approved the call, with the Python client's
@requires_approval (clients/python/README.md).

    export PYTHONPATH=clients/python COUNTERSIGN_TOKEN_FILE=ci.token
    python3 examples/python_agent.py users

The server is COUNTERSIGN_URL (default http://127.0.0.1:7400, where `make run` listens); the
token, an agent's, is COUNTERSIGN_TOKEN or COUNTERSIGN_TOKEN_FILE. The call waits until someone
decides: `countersign approve req_...` or the web inbox. Exit status, as the CLI's: 0 the table
was dropped, 1 denied, 2 expired or cancelled, 3 countersign could not be asked.
"""

import sys

from countersign import (ApprovalCancelled, ApprovalDenied, ApprovalTimedOut, CountersignError,
                         current_approval, requires_approval)


# The arguments of each call (table, env) are what the approvers see and what the signed
# receipt approves; the function runs only with exactly those.
@requires_approval(action="db.drop_table", reason_template="Drop table {table} in {env}",
                   timeout=900)
def drop_table(table, env="staging", *, countersign_receipt=None):
    # The real work goes here. Hand the receipt to whatever executes it, which can check it
    # against the server's GET /v1/keys (countersign.verify_receipt, or
    # `countersign receipt verify`).
    approval = current_approval()
    print(f"dropping table {table} in {env} (approved in {approval.request_id}, "
          f"receipt {countersign_receipt[:16]}...)", flush=True)
    return {"success": True, "table": table}


def main(argv):
    table = argv[1] if len(argv) > 1 else "users"
    print(f"asking to drop table {table} in prod; waiting for a decision...", flush=True)
    try:
        result = drop_table(table, env="prod")
    except ApprovalDenied as e:
        print(f"not dropped: {e}", file=sys.stderr)
        return 1
    except (ApprovalTimedOut, ApprovalCancelled) as e:
        print(f"not dropped: {e}", file=sys.stderr)
        return 2
    except CountersignError as e:
        print(f"cannot ask countersign: {e}", file=sys.stderr)
        return 3
    print(f"done: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
