-- Port-in orders (SPEC §5, issue 14). The numbers of an open order are on the platform as
-- `pending` with `numbers.port_order_id` set; the order keeps the list it was given, so a
-- rejected or cancelled order still says which numbers it was for. The PIN is sealed with the
-- installation's key (`pin_sealed`); `pin_hint` is all of it that is ever shown.
CREATE TABLE port_orders (
    id TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN
        ('submitted', 'pending', 'scheduled', 'completed', 'rejected', 'cancelled')),
    country TEXT NOT NULL,
    phone_numbers TEXT NOT NULL,
    carrier_name TEXT NOT NULL,
    account_number TEXT NOT NULL,
    pin_sealed TEXT NOT NULL,
    pin_hint TEXT NOT NULL,
    authorized_person TEXT NOT NULL,
    billing_address TEXT NOT NULL,
    requested_port_date TEXT NOT NULL,
    scheduled_date TEXT,
    reject_reason TEXT,
    submitted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX port_orders_pool ON port_orders (pool_id, id);
CREATE INDEX numbers_port_order ON numbers (port_order_id) WHERE port_order_id IS NOT NULL;
-- What an account's offboarding check and deactivation count (issue 14's reservations): the
-- numbers reserved for it, without a walk over the whole table.
CREATE INDEX numbers_reserved_for ON numbers (reserved_for) WHERE reserved_for IS NOT NULL;
