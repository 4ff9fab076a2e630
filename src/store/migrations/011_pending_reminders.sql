-- 011: the deadline scheduler's paged read and the reminders' start-up read.
--
-- The deadline scheduler holds only the next deadlines and reads the pending requests a page at
-- a time after a (deadline_at, id) cursor: with id in the index that is one range scan, equal
-- deadlines across a page boundary included, and no sort.
-- At start the gateway schedules the next reminder of every pending request that sends them
-- (remind_every_ms > 0); requests_pending_reminder holds only those, so that read does not
-- visit every pending request.
DROP INDEX requests_pending_deadline;
CREATE INDEX requests_pending_deadline ON requests (deadline_at, id) WHERE status = 'pending';
CREATE INDEX requests_pending_reminder ON requests (id)
  WHERE status = 'pending' AND remind_every_ms > 0;
