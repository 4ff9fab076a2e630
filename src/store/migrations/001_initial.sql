-- 001_initial: the first schema of countersign's SQLite store.
--
-- Times are Unix milliseconds (INTEGER). Columns marked JSON hold the serialised value the
-- comment names. Applied once, in its own transaction, by SqliteStore::Open; the version
-- (the file name's number) is then recorded in schema_migrations.

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  action TEXT NOT NULL,
  title TEXT NOT NULL,
  details TEXT NOT NULL,                -- JSON object
  arguments TEXT NOT NULL,              -- JSON object
  arguments_sha256 TEXT NOT NULL,
  requester TEXT NOT NULL,
  session TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  choices TEXT NOT NULL,                -- JSON array of {id, label, style, outcome}
  approvers TEXT NOT NULL,              -- JSON array of strings
  quorum INTEGER NOT NULL,
  policy TEXT NOT NULL,
  risk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  on_timeout TEXT NOT NULL,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  notify TEXT NOT NULL,                 -- JSON array of strings
  callback_url TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT NOT NULL DEFAULT '',
  resolved_at INTEGER,                  -- NULL while pending
  resolved_by TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  answer TEXT NOT NULL DEFAULT ''
);

-- Listing is newest first by id (ids sort by creation time) within a tenant, optionally
-- narrowed by one field; each index ends in id so the order comes from the index.
CREATE INDEX requests_tenant_id ON requests (tenant, id);
CREATE INDEX requests_tenant_status_id ON requests (tenant, status, id);
CREATE INDEX requests_tenant_action_id ON requests (tenant, action, id);
CREATE INDEX requests_tenant_requester_id ON requests (tenant, requester, id);
CREATE INDEX requests_tenant_session_id ON requests (tenant, session, id);
-- Pending deadlines at start-up, and counts by status.
CREATE INDEX requests_status_deadline ON requests (status, deadline_at);

CREATE TABLE decisions (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests (id),
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  choice TEXT NOT NULL,
  outcome TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  answer TEXT NOT NULL DEFAULT '',
  arguments TEXT,                       -- JSON object of edited arguments; NULL when unedited
  at INTEGER NOT NULL
);

CREATE INDEX decisions_request_at ON decisions (request_id, at, id);

-- The audit chain: hash = SHA-256(prev_hash || canonical event); data is the canonical JSON
-- of the event's data object, so re-parsing it yields the object that was hashed.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

CREATE INDEX events_tenant_seq ON events (tenant, seq);
CREATE INDEX events_request_seq ON events (request_id, seq);

CREATE TABLE principals (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  tenant TEXT NOT NULL,
  groups TEXT NOT NULL DEFAULT '[]',    -- JSON array of strings
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER                    -- NULL while valid
);

CREATE INDEX principals_tenant ON principals (tenant, created_at);

CREATE TABLE idempotency (
  tenant TEXT NOT NULL,
  key TEXT NOT NULL,
  body_sha256 TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
