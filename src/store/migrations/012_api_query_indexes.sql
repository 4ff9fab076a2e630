-- 012: an index for every query the API runs, so none reads a table in full at scale
-- (src/store/sqlite/sqlite_query_plan_test.cpp checks each statement's plan).
--
-- outbox_pending_id: the dispatcher's poll for due deliveries (ListDueOutbox) walks the pending
-- rows in id order; without it SQLite walked the whole outbox, delivered rows included, on
-- every poll. outbox_failed_id: GET /v1/outbox?state=failed (the dead letters). Both are
-- partial, so a delivery costs no index entry once it has left the state.
CREATE INDEX outbox_pending_id ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_failed_id ON outbox (id) WHERE state = 'failed';

-- Retention's removal of the idempotency keys that name pruned requests.
CREATE INDEX idempotency_request ON idempotency (request_id);

-- The newest audit.checkpoint event (GetAuditHead): only those events are in it, so an event
-- of any other type costs nothing more to append.
CREATE INDEX events_audit_checkpoint ON events (type) WHERE type = 'audit.checkpoint';

-- The latest expiry of an unrevoked grant (read at start): the last entry of this index instead
-- of every grant ever given.
CREATE INDEX grants_unrevoked_expiry ON grants (expires_at) WHERE revoked_at IS NULL;

-- Unreported approvals per tenant (/metrics): with tenant first the GROUP BY reads this
-- partial index alone; SQLite preferred walking requests_tenant_status_id to the narrower
-- requests_awaiting_report, which nothing else reads.
DROP INDEX requests_awaiting_report;
CREATE INDEX requests_awaiting_report ON requests (tenant, resolved_at)
  WHERE status = 'approved' AND report_within_ms > 0 AND execution IS NULL;
