-- Customer self-service (issue 14): a pool holder (provider or reseller) lets the customers
-- below it or connected to it search its free numbers and take them for themselves. No row:
-- off.
CREATE TABLE self_service (
    pool_id TEXT PRIMARY KEY REFERENCES accounts (id),
    enabled BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
