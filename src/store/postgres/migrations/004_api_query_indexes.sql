-- 004: the indexes SQLite's migration 012 adds for the same queries (src/store/migrations/).
--
-- outbox_pending_id and outbox_failed_id: the dispatcher's poll for due deliveries and
-- GET /v1/outbox?state=failed, newest or oldest first by id, over the rows in that state only.
-- idempotency_request: retention's removal of the keys that name pruned requests.
-- grants_unrevoked_expiry: the latest expiry of an unrevoked grant, read at start.
-- (The newest audit.checkpoint event is found through events_type_seq, and the unreported
-- approvals per tenant through requests_awaiting_report, as before.)
CREATE INDEX outbox_pending_id ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_failed_id ON outbox (id) WHERE state = 'failed';
CREATE INDEX idempotency_request ON idempotency (request_id);
CREATE INDEX grants_unrevoked_expiry ON grants (expires_at) WHERE revoked_at IS NULL;
