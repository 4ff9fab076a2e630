-- 005: how far the audit chain has been verified, so a later verification hashes only the
-- events after it. One row at most (id is always 1); no row means nothing verified yet.
CREATE TABLE audit_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,                  -- the last verified event (0: none)
  hash TEXT NOT NULL,                    -- that event's hash ('' when seq is 0)
  verified_at INTEGER NOT NULL           -- unix ms
);
