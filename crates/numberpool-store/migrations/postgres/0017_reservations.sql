-- Reservations (SPEC §5, issue 14): free numbers of a pool held for one account until a time.
-- The number carries its reservation (which, for whom, until when) so that the available
-- search hides it and a move checks it without a join; the reservation row keeps its status
-- and history. A provider sets the default time a reservation lasts.
CREATE TABLE number_reservations (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES accounts (id),
    for_account_id TEXT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'released', 'expired', 'provisioned')),
    size BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX number_reservations_pool ON number_reservations (pool_id, id);
CREATE INDEX number_reservations_for ON number_reservations (for_account_id, id);
-- What the expiry job walks: the active reservations, soonest first.
CREATE INDEX number_reservations_due ON number_reservations (expires_at) WHERE status = 'active';
ALTER TABLE numbers ADD COLUMN reservation_id TEXT;
ALTER TABLE numbers ADD COLUMN reserved_for TEXT;
ALTER TABLE numbers ADD COLUMN reserved_until BIGINT;
CREATE INDEX numbers_reservation ON numbers (reservation_id) WHERE reservation_id IS NOT NULL;
-- A provider's default reservation time (a provider without a row has the built-in default).
CREATE TABLE reservation_settings (
    provider_id TEXT PRIMARY KEY REFERENCES accounts (id),
    default_ttl_ms BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
