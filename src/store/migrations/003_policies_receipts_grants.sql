-- 003: what a request keeps of the policy that matched it, its receipt, and grants.
--
-- A request keeps its own copy of the policy's rules (deny threshold, escalation tiers), so a
-- config reload never changes the rules of a request already asked.
ALTER TABLE requests ADD COLUMN policy_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN deny_threshold INTEGER NOT NULL DEFAULT 1;
ALTER TABLE requests ADD COLUMN escalate_to TEXT NOT NULL DEFAULT '[]';  -- JSON array of tiers
ALTER TABLE requests ADD COLUMN tier_timeout_ms INTEGER NOT NULL DEFAULT 300000;
ALTER TABLE requests ADD COLUMN receipt TEXT NOT NULL DEFAULT '';  -- compact JWS once approved
ALTER TABLE requests ADD COLUMN remind_every_ms INTEGER NOT NULL DEFAULT 0;  -- 0: no reminders

-- A standing "don't ask again" for one action, in one session or a whole tenant.
CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  action TEXT NOT NULL,
  scope TEXT NOT NULL,                  -- 'session' or 'tenant'
  session TEXT NOT NULL DEFAULT '',     -- for scope 'session'
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  request_id TEXT NOT NULL DEFAULT ''   -- the decision that created it, if any
);
CREATE INDEX grants_lookup ON grants (tenant, action, expires_at);
