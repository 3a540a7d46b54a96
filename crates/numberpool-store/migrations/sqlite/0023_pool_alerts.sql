-- Pool-exhaustion thresholds (issue 15): a provider or reseller says, per segment of its pool
-- (an E.164 prefix such as `1415`, and perhaps a number type), when it wants to hear that the
-- segment runs low: fewer than `min_free` free numbers, or out within `horizon_days` at the
-- last 30 days' pace. A daily job forecasts every threshold and raises at most one alert a
-- day each (`alerted_at`).
CREATE TABLE pool_thresholds (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES accounts (id),
    prefix TEXT NOT NULL,
    number_type TEXT,
    min_free BIGINT,
    horizon_days BIGINT NOT NULL,
    alerted_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX pool_thresholds_pool ON pool_thresholds (pool_id, id);
