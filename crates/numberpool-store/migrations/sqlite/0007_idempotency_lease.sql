-- Idempotency leases (issue 11). A reservation without a response used to count as abandoned
-- only after five minutes, so a request killed before its commit left its key answering 409 for
-- that long. Now the request holding a key keeps pushing lease_until a few seconds ahead while
-- it runs; once it lapses (the process died), the key may be taken over at once.
-- NULL: a reservation made before this column existed; it lapses five minutes after
-- created_at, as it always did. Same SQL on both backends.
ALTER TABLE idempotency_keys ADD COLUMN lease_until BIGINT;
