-- 005: SQLite's migration 013 (src/store/migrations/) for PostgreSQL: listing by action or
-- session reads only the matching requests, newest first; the session index is partial, and
-- the list query says `session <> ''` so the planner can use it.
CREATE INDEX requests_tenant_action_id ON requests (tenant, action, id);
CREATE INDEX requests_tenant_session_id ON requests (tenant, session, id) WHERE session <> '';
