-- 002: fewer B-trees to update per submit.
--
-- Every secondary index on requests is one more B-tree insert (and page write) for each new
-- request, on the single writer thread. Listing by action or session walks the tenant's
-- newest-first index and filters, which is cheap for the page sizes the API serves; the
-- deadline index only ever serves pending requests, so it becomes partial and stays small.
DROP INDEX requests_tenant_action_id;
DROP INDEX requests_tenant_session_id;
DROP INDEX requests_status_deadline;
CREATE INDEX requests_pending_deadline ON requests (deadline_at) WHERE status = 'pending';
