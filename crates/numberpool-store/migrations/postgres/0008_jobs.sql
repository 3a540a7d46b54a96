-- Background jobs (PostgreSQL). The SQLite migration 0008 is the same SQL; times are Unix milliseconds
-- (BIGINT), as everywhere in this schema. (0007 belongs to another change; sqlx applies by
-- version, so the gap is harmless.)
--
-- A job is a row: workers claim it (state queued -> running, attempts + 1, a lease), run it,
-- and mark it done, queued again for a later retry, or failed after max_attempts. A worker that
-- dies leaves its job running with a lease that runs out; another worker then claims it again.
-- Bodies are idempotent, so a second run after a lost lease is harmless.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,                     -- UUIDv7
    queue TEXT NOT NULL,                     -- a worker task per queue: a slow queue never
                                             -- starves a fast one
    kind TEXT NOT NULL,                      -- what to run; a worker claims only kinds it knows
    payload TEXT NOT NULL,                   -- JSON, the job's input
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- At most one queued or running job per key (see jobs_unique_active): how periodic jobs
    -- stay single when several workers schedule them.
    unique_key TEXT,
    attempts INTEGER NOT NULL,               -- claims so far; also the fencing token that
                                             -- stops a worker whose lease ran out from
                                             -- finishing a job someone else took over
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_after BIGINT NOT NULL,               -- not claimed before this time
    lease_until BIGINT,                      -- while running: the claim ends at this time
    last_error TEXT,
    progress TEXT,                           -- JSON the job reports while it runs, or NULL
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The claim: per queue, the oldest due queued job or a running one whose lease ran out. Only
-- unfinished jobs are indexed, so finished history costs the claim nothing.
CREATE INDEX jobs_claim ON jobs (queue, run_after) WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX jobs_unique_active ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running');
-- The purge of old finished jobs.
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE state IN ('done', 'failed');
