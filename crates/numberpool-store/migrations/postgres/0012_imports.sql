-- Imports (issue 13, SPEC §4). An upload is kept with its plan: the file itself (so the apply
-- job, on whichever process claims it, reads exactly the bytes that were planned, and the
-- rejected-rows file is cut from them in the uploaded format), its SHA-256, and the plan's
-- digest. Apply plans the same file again inside its write transaction and commits only when
-- the digest is the same: the inventory has not changed since the plan was shown (R-IMP-2).
--
-- `rows` is the plan's rows other than plain creates, as JSON: rejected rows with their reason,
-- updates with their before -> after, deletes. Creates are counted, and read from the file when
-- listed: a 1,000,000-row add keeps no second copy of itself.
--
-- status: planned -> applying (a job is queued) -> applied | failed (stale or refused, with
-- error). The apply's numbers and the applied status commit in one transaction (R-IMP-3).
CREATE TABLE imports (
    id TEXT PRIMARY KEY,                         -- UUIDv7
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_by TEXT NOT NULL,                    -- the principal, as audit events name it
    action TEXT NOT NULL CHECK (action IN ('add', 'update', 'delete')),
    format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file BYTEA NOT NULL,
    options TEXT NOT NULL,                       -- JSON: default country and the like
    plan_digest TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    creates BIGINT NOT NULL,
    updates BIGINT NOT NULL,
    deletes BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    rows TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'applying', 'applied', 'failed')),
    job_id TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX imports_account ON imports (account_id, id);
