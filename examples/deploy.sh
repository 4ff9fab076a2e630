#!/usr/bin/env bash
# A deploy that waits for a person. `countersign exec` asks for approval of the exact command
# line and runs it only once someone approved it; a denial, an expiry or Ctrl-C runs nothing.
#
#   COUNTERSIGN_TOKEN_FILE=ci.token examples/deploy.sh v2.1
#
# countersign must be on PATH. The server is COUNTERSIGN_URL (default http://127.0.0.1:7400,
# where `make run` listens); the token, an agent's, is COUNTERSIGN_TOKEN or
# COUNTERSIGN_TOKEN_FILE. DEPLOY_APPROVAL_TIMEOUT is how long the approvers have (default 15m).
# Exit status: the deploy's own when it ran; 1 denied, 2 expired or cancelled, 3 countersign
# could not be asked, 130 interrupted while waiting (the request is cancelled).
set -euo pipefail

ref=${1:?usage: deploy.sh REF}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

exec countersign exec --action deploy_production --title "Deploy $ref to production" \
  --timeout "${DEPLOY_APPROVAL_TIMEOUT:-15m}" -- "$here/really-deploy.sh" "$ref"
