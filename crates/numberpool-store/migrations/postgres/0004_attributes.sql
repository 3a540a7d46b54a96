-- A provider's attribute keys with their allowed values (issue 5). Same SQL on both backends.
-- `allowed_values` is a JSON array of strings; numbers keep their values in `numbers.attributes`.
CREATE TABLE attributes (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES accounts (id),
    key TEXT NOT NULL,
    allowed_values TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (provider_id, key)
);
