-- 002: decisions that close the loop, as SQLite's migration 010 (src/store/migrations/).
--
-- requests.reason_code: why a request left pending ('' while pending). Requests resolved before
-- this migration get the code their status and resolver imply.
-- requests.grant_options: the standing grants an approver may give with an approval (JSON
-- array of {scope, ttl_seconds}), from the policy. receipt_use: 'reusable' or 'single_use'.
-- report_within_ms: how soon an execution report is expected after an approval (0: none).
-- execution: the executor's report (JSON, NULL until reported).
-- grants.requester: whose requests a grant of scope 'requester' approves.
-- receipt_uses: one row per receipt consumed at least once (POST /v1/receipts/consume).
ALTER TABLE requests ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN grant_options TEXT NOT NULL DEFAULT '[]';
ALTER TABLE requests ADD COLUMN receipt_use TEXT NOT NULL DEFAULT 'reusable';
ALTER TABLE requests ADD COLUMN report_within_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN execution TEXT;
UPDATE requests SET reason_code = CASE
    WHEN status = 'approved' AND resolved_by LIKE '["grant:%' THEN 'approved_by_grant'
    WHEN status = 'approved' AND resolved_by LIKE '["policy:%' THEN 'approved_by_policy'
    WHEN status = 'approved' THEN 'approved'
    WHEN status = 'denied' AND resolved_by LIKE '["policy:%' THEN 'denied_by_policy'
    WHEN status = 'denied' AND resolved_by = '[]' THEN 'expired'
    WHEN status = 'denied' THEN 'denied_by_person'
    WHEN status = 'cancelled' AND resolved_by = '["' || requester || '"]'
      THEN 'cancelled_by_requester'
    WHEN status = 'cancelled' THEN 'cancelled_by_admin'
    WHEN status = 'expired' AND on_timeout = 'escalate' THEN 'escalation_exhausted'
    ELSE status END
  WHERE status <> 'pending';
-- Approved requests still owing an execution report, oldest approval first (/metrics).
CREATE INDEX requests_awaiting_report ON requests (resolved_at)
  WHERE status = 'approved' AND report_within_ms > 0 AND execution IS NULL;

ALTER TABLE grants ADD COLUMN requester TEXT NOT NULL DEFAULT '';

CREATE TABLE receipt_uses (
  jti TEXT COLLATE "C" PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL,
  uses BIGINT NOT NULL,
  max_uses BIGINT NOT NULL,
  first_at BIGINT NOT NULL,
  first_by TEXT NOT NULL,
  last_at BIGINT NOT NULL,
  last_by TEXT NOT NULL
);
CREATE INDEX receipt_uses_request ON receipt_uses (request_id);
