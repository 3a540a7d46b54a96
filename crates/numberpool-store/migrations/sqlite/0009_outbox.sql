-- The outbox: one row per recorded audit event, written in the same transaction as the event
-- (Tx::record), for later readers (notifications, webhooks) that follow it with a cursor.
--
-- `id` orders the rows: AUTOINCREMENT never reuses an id, and SQLite runs one write
-- transaction at a time (BEGIN IMMEDIATE), so ids commit in increasing order and a reader
-- that resumes after the last id it saw misses nothing.
--
-- The columns are what a reader needs to decide whom to tell without reading the audit row:
-- what happened (action, entity), who did it (actor_account_id) and `accounts`, the accounts
-- the event concerns (the actor's, the record's own for an account event, and every account
-- its before/after snapshots name as holder, owner, customer, uploader, parent or account),
-- space-separated and sorted. The snapshots themselves stay in audit_events (join on audit_id)
-- so that a 10,000-number add, one event, stays one small row here.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_id TEXT NOT NULL REFERENCES audit_events (id),
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    actor_account_id TEXT,
    accounts TEXT NOT NULL,
    at BIGINT NOT NULL
);
