-- A wake that finds its job running (issue 15's webhook delivery job, woken by an event that
-- commits while the job sends): the job has already read what it will read, so the wake would
-- be lost and the event would wait for the 30-second sweep. Instead the wake sets `rerun`, and
-- the end of that claim queues the job again, due at once, in place of done (Tx::end_claim). A
-- claim clears it: whatever woke the job committed before the claim, so the run reads it.
ALTER TABLE jobs ADD COLUMN rerun BOOLEAN NOT NULL DEFAULT FALSE;
