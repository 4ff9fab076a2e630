-- 001_initial: countersign's PostgreSQL schema, the same tables and columns as the SQLite
-- store after its migration 009 (src/store/migrations/), so the shared SQL of src/store/sql/
-- runs on both and `countersign store copy` moves rows across unchanged.
--
-- Times are Unix milliseconds (BIGINT). Columns marked JSON hold serialised JSON as text,
-- exactly the bytes the SQLite store keeps. Text columns that are sorted or compared by range
-- use the "C" collation: ids sort by creation time byte by byte, and the audit log's type
-- prefix filter is a byte range, whatever the database's default collation is.
-- Applied once, in its own transaction, by PgStore under an advisory lock; the version is then
-- recorded in schema_migrations, which PgStore itself creates before the first migration.

CREATE TABLE requests (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  title TEXT NOT NULL,
  details TEXT NOT NULL,                -- JSON object
  arguments TEXT NOT NULL,              -- JSON object
  arguments_sha256 TEXT NOT NULL,
  requester TEXT COLLATE "C" NOT NULL,
  session TEXT COLLATE "C" NOT NULL DEFAULT '',
  status TEXT COLLATE "C" NOT NULL,
  choices TEXT NOT NULL,                -- JSON array of {id, label, style, outcome}
  approvers TEXT NOT NULL,              -- JSON array of strings
  quorum BIGINT NOT NULL,
  policy TEXT NOT NULL,
  risk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  deadline_at BIGINT NOT NULL,
  on_timeout TEXT NOT NULL,
  escalation_level BIGINT NOT NULL DEFAULT 0,
  notify TEXT NOT NULL,                 -- JSON array of strings
  callback_url TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT NOT NULL DEFAULT '',
  resolved_at BIGINT,                   -- NULL while pending
  resolved_by TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
  answer TEXT NOT NULL DEFAULT '',
  policy_reason TEXT NOT NULL DEFAULT '',
  deny_threshold BIGINT NOT NULL DEFAULT 1,
  escalate_to TEXT NOT NULL DEFAULT '[]',  -- JSON array of tiers
  tier_timeout_ms BIGINT NOT NULL DEFAULT 300000,
  receipt TEXT NOT NULL DEFAULT '',     -- compact JWS once approved
  remind_every_ms BIGINT NOT NULL DEFAULT 0,
  response_schema TEXT                  -- JSON object, NULL when the request has no form
);

-- Listing is newest first by id within a tenant, optionally narrowed by status; the other
-- filters walk the tenant's index (as in SQLite's migration 002).
CREATE INDEX requests_tenant_id ON requests (tenant, id);
CREATE INDEX requests_tenant_status_id ON requests (tenant, status, id);
CREATE INDEX requests_tenant_requester_id ON requests (tenant, requester, id);
CREATE INDEX requests_pending_deadline ON requests (deadline_at) WHERE status = 'pending';
CREATE INDEX requests_pending_requester ON requests (tenant, requester) WHERE status = 'pending';

CREATE TABLE decisions (
  id TEXT COLLATE "C" PRIMARY KEY,
  request_id TEXT COLLATE "C" NOT NULL REFERENCES requests (id),
  tenant TEXT COLLATE "C" NOT NULL,
  principal TEXT NOT NULL,
  choice TEXT NOT NULL,
  outcome TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  answer TEXT NOT NULL DEFAULT '',
  arguments TEXT,                       -- JSON object of edited arguments; NULL when unedited
  at BIGINT NOT NULL,
  response TEXT                         -- JSON object the decision filled in; NULL when none
);
CREATE INDEX decisions_request_at ON decisions (request_id, at, id);

-- The audit chain: hash = SHA-256(prev_hash || canonical event). Replicas append to it one
-- batch at a time: each write transaction first takes the advisory lock that stands for the
-- chain head (PgStore), so seq stays gapless and every prev_hash is the event before it.
CREATE TABLE events (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  tenant TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  type TEXT COLLATE "C" NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX events_tenant_seq ON events (tenant, seq);
CREATE INDEX events_request_seq ON events (request_id, seq);
CREATE INDEX events_type_seq ON events (type, seq);

CREATE TABLE principals (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  tenant TEXT COLLATE "C" NOT NULL,
  groups TEXT NOT NULL DEFAULT '[]',    -- JSON array of strings
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT                     -- NULL while valid
);
CREATE INDEX principals_tenant ON principals (tenant, created_at);

CREATE TABLE idempotency (
  tenant TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  body_sha256 TEXT NOT NULL,
  request_id TEXT NOT NULL,
  created_at BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE TABLE grants (
  id TEXT COLLATE "C" PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  scope TEXT NOT NULL,                  -- 'session' or 'tenant'
  session TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grants_lookup ON grants (tenant, action, expires_at);

-- The outbox. A replica delivering a row holds a lease on it (lease_owner until lease_until,
-- unix ms; 0 when nobody does): rows are claimed with FOR UPDATE SKIP LOCKED, so one replica
-- delivers each row, and a replica that died mid-delivery leaves a lease that runs out.
CREATE TABLE outbox (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  delivery_id TEXT NOT NULL UNIQUE,
  tenant TEXT COLLATE "C" NOT NULL,
  request_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  destination TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL,
  event TEXT NOT NULL,
  event_seq BIGINT NOT NULL DEFAULT 0,
  target TEXT COLLATE "C" NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  state TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_order ON outbox (destination, request_id, id) WHERE state = 'pending';
CREATE INDEX outbox_request ON outbox (request_id);

CREATE TABLE channel_messages (
  request_id TEXT COLLATE "C" NOT NULL,
  destination TEXT COLLATE "C" NOT NULL,
  ref TEXT NOT NULL,
  PRIMARY KEY (request_id, destination)
);

CREATE TABLE audit_checkpoint (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  verified_at BIGINT NOT NULL
);

CREATE TABLE conversations (
  request_id TEXT COLLATE "C" PRIMARY KEY,
  tenant TEXT COLLATE "C" NOT NULL,
  subject TEXT COLLATE "C" NOT NULL,
  phase TEXT COLLATE "C" NOT NULL,
  step TEXT COLLATE "C" NOT NULL,
  step_due BIGINT NOT NULL,
  body TEXT NOT NULL                    -- JSON object
);
CREATE INDEX conversations_subject ON conversations (tenant, subject, phase);
CREATE INDEX conversations_due ON conversations (step_due) WHERE step <> 'none';
CREATE INDEX conversations_thread ON conversations (tenant, (body::json ->> 'feed_ts'));

CREATE TABLE conversation_messages (
  request_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  role TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  at BIGINT NOT NULL,
  external_id TEXT,
  PRIMARY KEY (request_id, seq)
);
CREATE UNIQUE INDEX conversation_messages_external
  ON conversation_messages (request_id, external_id) WHERE external_id IS NOT NULL;
