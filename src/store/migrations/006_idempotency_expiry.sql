-- 006: idempotency keys expire, and each requester's pending requests are counted from an
-- index of their own.
--
-- A key is remembered for a limited time ([limits] idempotency_ttl, 24 h by default): rows
-- older than that are removed a few at a time as new keys are written, oldest first. Rows
-- kept from before this migration take their request's creation time.
ALTER TABLE idempotency ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE idempotency
   SET created_at = COALESCE((SELECT r.created_at FROM requests r WHERE r.id = idempotency.request_id), 0);
CREATE INDEX idempotency_created ON idempotency (created_at);
-- [limits] max_pending_per_principal: one count per create, over this requester's pending
-- requests only.
CREATE INDEX requests_pending_requester ON requests (tenant, requester) WHERE status = 'pending';
