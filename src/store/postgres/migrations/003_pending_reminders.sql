-- 003: the deadline scheduler's paged read and the reminders' start-up read, as SQLite's
-- migration 011 (src/store/migrations/).
--
-- The deadline scheduler reads the pending requests a page at a time after a (deadline_at, id)
-- cursor; with id in the index that is one range scan, equal deadlines included.
-- requests_pending_reminder holds only the pending requests that send reminders, which the
-- gateway reads at start.
DROP INDEX requests_pending_deadline;
CREATE INDEX requests_pending_deadline ON requests (deadline_at, id) WHERE status = 'pending';
CREATE INDEX requests_pending_reminder ON requests (id)
  WHERE status = 'pending' AND remind_every_ms > 0;
