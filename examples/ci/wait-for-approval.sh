#!/usr/bin/env bash
# Holds a CI job until a person approves it in countersign, then exits 0; any other outcome
# fails the job. github-actions.yml and gitlab-ci.yml call it; copy it into your repository as
# ci/wait-for-approval.sh.
#
#   ci/wait-for-approval.sh ACTION TITLE
#
# Environment (CI variables):
#   COUNTERSIGN_URL     the server, e.g. https://approvals.example.com
#   COUNTERSIGN_TOKEN   an agent token (a masked secret):
#                       countersign token create --name ci --role agent
#   APPROVERS           who may decide, e.g. "group:sre alice" (default: the server's policy)
#   APPROVAL_TIMEOUT    how long they have, e.g. 30m (default: the server's policy)
#
# The request's details link back to the pipeline, the commit and who started it, from
# GitHub's or GitLab's own variables. A retried job (a new attempt) asks again; the same
# attempt asking twice (a runner restarted) gets the same request back.
#
# Exit status, as `countersign request --wait`'s: 0 approved, 1 denied, 2 expired or
# cancelled, 3 countersign could not be asked (bad token, server unreachable).
set -euo pipefail

action=${1:?usage: wait-for-approval.sh ACTION TITLE}
title=${2:?usage: wait-for-approval.sh ACTION TITLE}

args=(--action "$action" --title "$title" --wait)
if [ -n "${GITHUB_RUN_ID:-}" ]; then
  args+=(--detail "pipeline=${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"
    --detail "commit=${GITHUB_SHA}" --detail "ref=${GITHUB_REF_NAME}"
    --detail "started_by=${GITHUB_ACTOR}"
    --idempotency-key
    "github-${GITHUB_REPOSITORY}-${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT:-1}-${action}")
elif [ -n "${GITLAB_CI:-}" ]; then
  args+=(--detail "pipeline=${CI_PIPELINE_URL}" --detail "commit=${CI_COMMIT_SHA}"
    --detail "ref=${CI_COMMIT_REF_NAME}" --detail "started_by=${GITLAB_USER_LOGIN}"
    --idempotency-key "gitlab-${CI_PROJECT_PATH}-${CI_JOB_ID}-${action}")
fi
for approver in ${APPROVERS:-}; do
  args+=(--approver "$approver")
done
if [ -n "${APPROVAL_TIMEOUT:-}" ]; then
  args+=(--timeout "$APPROVAL_TIMEOUT")
fi

exec countersign request "${args[@]}"
