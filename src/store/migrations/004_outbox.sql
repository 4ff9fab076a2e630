-- 004: the outbox (every notification and webhook, written with the change that causes it)
-- and the chat messages a request was announced in (so later changes can edit them).
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  request_id TEXT NOT NULL DEFAULT '',
  destination TEXT NOT NULL,             -- a [[channel]] name, "webhook:NAME" or "callback"
  kind TEXT NOT NULL,                    -- "post", "update", "remind", "respond", "event"
  event TEXT NOT NULL,
  event_seq INTEGER NOT NULL DEFAULT 0,
  target TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', -- 'pending', 'delivered', 'failed'
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,      -- unix ms
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_order ON outbox (destination, request_id, id) WHERE state = 'pending';
CREATE INDEX outbox_request ON outbox (request_id);

CREATE TABLE channel_messages (
  request_id TEXT NOT NULL,
  destination TEXT NOT NULL,
  ref TEXT NOT NULL,                     -- what the channel's post returned, e.g. Slack's ts
  PRIMARY KEY (request_id, destination)
);
