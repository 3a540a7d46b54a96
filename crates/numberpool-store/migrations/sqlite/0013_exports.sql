-- Exports, their schedules, and in-app notifications (issue 13, SPEC §4).
--
-- An export is made by a job: the file is written page by page to a temporary file, then kept
-- here in pieces of 1 MiB (export_chunks), so a download streams it one piece at a time, any
-- process of a deployment can serve it, and a backup holds it. status: queued -> running ->
-- ready | failed; a ready export's pieces are removed when it expires (retention, set by the
-- operator) and the record stays as expired.
CREATE TABLE exports (
    id TEXT PRIMARY KEY,                         -- UUIDv7
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_by TEXT NOT NULL,                    -- the principal, as audit events name it
    kind TEXT NOT NULL CHECK (kind IN ('list', 'update_template', 'consolidated')),
    format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    schedule_id TEXT,                            -- the schedule that made it, if one did
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    job_id TEXT,
    row_count BIGINT,
    byte_count BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT                            -- set when ready
);

CREATE INDEX exports_account ON exports (account_id, id);
CREATE INDEX exports_expiry ON exports (expires_at) WHERE status = 'ready';

CREATE TABLE export_chunks (
    export_id TEXT NOT NULL REFERENCES exports (id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (export_id, seq)
);

-- Seed 000's automated exports: each due schedule queues an export as the account's user who
-- made it, and moves next_run_at on by its cadence, in one transaction.
CREATE TABLE export_schedules (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_by TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('list', 'update_template', 'consolidated')),
    format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    cadence TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly')),
    next_run_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX export_schedules_account ON export_schedules (account_id, id);
CREATE INDEX export_schedules_due ON export_schedules (next_run_at);

-- A notification is raised to an account (every user and client of it sees it); whether it is
-- read is kept per principal.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL,                          -- export_ready, export_failed
    subject_id TEXT NOT NULL,                    -- the export or import it is about
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX notifications_account ON notifications (account_id, id);

CREATE TABLE notification_reads (
    notification_id TEXT NOT NULL REFERENCES notifications (id),
    principal TEXT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (notification_id, principal)
);
