-- 009: outbox leases, so the outbox has the same columns in both stores.
--
-- A PostgreSQL store shared by several replicas leases each row to the replica delivering it
-- (lease_owner until lease_until, unix ms). One SQLite process delivers alone and leaves the
-- lease empty; the columns are here so the shared SQL (src/store/sql/) and `countersign store
-- copy` see one outbox.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
