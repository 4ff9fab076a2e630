-- 007: conversations (the incident-response chat; docs/conversations.md).
--
-- One row per request of kind 'conversation'. The columns the store searches by are columns;
-- everything else about the conversation (its alert, its Slack message, its result) is one
-- JSON object in `body`, read and written whole by the engine.
CREATE TABLE conversations (
  request_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  phase TEXT NOT NULL,
  step TEXT NOT NULL,
  step_due INTEGER NOT NULL,
  body TEXT NOT NULL
);
-- A direct message from a subject is routed to their conversations in the chatting phase.
CREATE INDEX conversations_subject ON conversations (tenant, subject, phase);
-- The conversation worker asks for the work due: a step, or "deliver" (messages or the alert
-- message still to show in the chat).
CREATE INDEX conversations_due ON conversations (step_due) WHERE step <> 'none';
-- An analyst's reply in an alert's thread is routed by the thread's parent message.
CREATE INDEX conversations_thread ON conversations (tenant, json_extract(body, '$.feed_ts'));

-- The transcript: every message in or out, in order. A chat's own message id (Slack's ts) is
-- stored once per conversation, so a redelivered event adds nothing.
CREATE TABLE conversation_messages (
  request_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  at INTEGER NOT NULL,
  external_id TEXT,
  PRIMARY KEY (request_id, seq)
);
CREATE UNIQUE INDEX conversation_messages_external
  ON conversation_messages (request_id, external_id) WHERE external_id IS NOT NULL;
