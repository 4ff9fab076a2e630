-- 013: listing by action or session reads only the matching requests.
--
-- Migration 002 dropped these two indexes to save a B-tree insert per submit, leaving such a
-- list to walk the tenant's newest-first index and test each row. That costs nothing while
-- matches are common, but a rare action or a session among ten million requests reads the
-- whole tenant (seconds, then tens of seconds: bench/run --scale). The session index is
-- partial: requests without a session (most automated submits) pay nothing for it, and the
-- list query says `session <> ''` so SQLite can use it.
CREATE INDEX requests_tenant_action_id ON requests (tenant, action, id);
CREATE INDEX requests_tenant_session_id ON requests (tenant, session, id) WHERE session <> '';
