-- Events (issue 15): the feed of the events that concern an account, and webhooks.
--
-- `outbox_accounts` indexes the outbox by account: a row for each account an event names (the
-- outbox's `accounts`) and for each of that account's ancestors, so that an account's feed is
-- one range of (account_id, outbox_id) whatever the depth of the tree under it (R-SEC-1: an
-- account sees what concerns its own subtree). Written with the outbox row, in its transaction.
CREATE TABLE outbox_accounts (
    account_id TEXT NOT NULL,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (account_id, outbox_id)
) WITHOUT ROWID;

-- The outbox rows written before this migration, each named account and its ancestors.
WITH RECURSIVE split(outbox_id, rest, acc) AS (
    SELECT id, accounts || ' ', '' FROM outbox
    UNION ALL
    SELECT outbox_id, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1)
    FROM split WHERE rest <> ''
),
up(outbox_id, id) AS (
    SELECT outbox_id, acc FROM split WHERE acc <> ''
    UNION
    SELECT u.outbox_id, a.parent_id FROM up u JOIN accounts a ON a.id = u.id
    WHERE a.parent_id IS NOT NULL
)
INSERT OR IGNORE INTO outbox_accounts (account_id, outbox_id) SELECT id, outbox_id FROM up;

-- A webhook subscription: an account's URL for the event types it names. Its secret signs every
-- delivery and is kept sealed with the installation's key (src/service/sealed.rs). `cursor` is
-- the outbox id up to which the account's events were turned into deliveries.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,               -- space-separated actions, or '*' for every one
    description TEXT NOT NULL,
    secret TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    disabled_reason TEXT,
    cursor BIGINT NOT NULL,
    failing_since BIGINT,                    -- the first failed attempt of the current failures
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id, id);

-- One event to send to one subscription. A replay is a new delivery of the same event (same
-- `event_id`). Pending deliveries go out one at a time per subscription in outbox order, so
-- the events of one number arrive in the order they happened.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,                     -- UUIDv7
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    event_id TEXT NOT NULL,                  -- the audit event's id
    replay BOOLEAN NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, outbox_id, id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at)
    WHERE state <> 'pending';

-- Every attempt: when, what came back (NULL: no answer) and how long it took.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt INTEGER NOT NULL,
    at BIGINT NOT NULL,
    status INTEGER,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
