-- The pace of a pool threshold's segment as the daily forecast (or the threshold's creation)
-- last measured it: the numbers allocated out of it in the 30 days before `pace_at`. The
-- dashboard and the API read it instead of scanning the audit log on every view; the free
-- count beside it is read live (an index range).
ALTER TABLE pool_thresholds ADD COLUMN taken_30d BIGINT;
ALTER TABLE pool_thresholds ADD COLUMN pace_at BIGINT;
