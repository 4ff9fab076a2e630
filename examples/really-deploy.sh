#!/usr/bin/env bash
# Stands in for the real deploy that examples/deploy.sh gates. `countersign exec` starts it
# only once approved, with the signed receipt in COUNTERSIGN_RECEIPT and the request's id in
# COUNTERSIGN_REQUEST_ID. Checking the receipt here means the deploy refuses to run without a
# person's approval of this action even when someone starts it by hand.
set -euo pipefail

ref=${1:?usage: really-deploy.sh REF}
countersign receipt verify "${COUNTERSIGN_RECEIPT:?not started by countersign exec}" \
  --action deploy_production
echo "deploying $ref (approved in $COUNTERSIGN_REQUEST_ID)"
