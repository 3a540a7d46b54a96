-- The available search's `contains` index (issue 14): a trigram index over every number's
-- digits (the E.164 without its `+`), which `substr(e164, 2) LIKE '%…%'` uses when the
-- pattern has three digits in a row. `pg_trgm` ships with PostgreSQL and is a trusted
-- extension (13 and later): the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX numbers_digits_trgm ON numbers USING gin (substr(e164, 2) gin_trgm_ops);
-- A pool's free numbers in E.164 order: the available search without a pattern (or with one
-- no index helps) reads the first of them and stops, instead of sorting the whole pool.
CREATE INDEX numbers_free ON numbers (holder_id, e164) WHERE position = 'free' AND status = 'normal';
