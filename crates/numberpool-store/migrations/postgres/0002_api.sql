-- Numberpool API support (PostgreSQL). The SQLite migration 0002 is the same SQL; times are Unix
-- milliseconds (BIGINT), as in 0001.

-- OAuth access tokens from the client credentials grant (SPEC §7). Tokens are opaque random
-- strings of 256 bits; only a hash of each is stored, so a copy of the database grants nothing.
-- No foreign key to api_clients: deleting or rotating a client deletes its tokens in the same
-- transaction, and every lookup joins api_clients, so a token outliving its client (one issued
-- concurrently, say) still authenticates nothing.
CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    scopes TEXT NOT NULL,                    -- space-separated, as granted
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Ending every token of a client (rotate, delete).
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);
-- The purge of expired tokens runs with every grant: the index keeps it from scanning the table.
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

-- Idempotency-Key on POSTs (SPEC §8): one row per (owner, key). While the first request runs,
-- status and body are NULL (a concurrent retry is told so); afterwards they hold the response to
-- replay. request_hash tells a retry from a different request reusing the key.
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);
-- The purge of expired keys.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The API lists an account's own clients.
CREATE INDEX api_clients_account ON api_clients (account_id);

-- The audit log list (newest first, per account subtree) reads audit_account (actor_account_id,
-- id) from 0001 backwards; it needs no new index. Nothing is added to numbers either: every
-- index there is paid by each bulk add (docs/PERFORMANCE.md), and the new list filters run
-- within the scope's rows, which numbers_holder already narrows.
