-- Numberpool core schema (SQLite). The PostgreSQL migration of the same number creates the same
-- tables with the same column names and meanings; the SQL the store runs is shared by both.
-- Times are Unix milliseconds (BIGINT) on both backends so that they compare and sort identically.
-- Ids are UUIDv7 text: time-ordered, so `ORDER BY id` is creation order for keyset pages.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    account_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('provider', 'reseller', 'customer', 'unit')),
    status TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    parent_id TEXT REFERENCES accounts (id),
    allow_external_numbers BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX accounts_parent ON accounts (parent_id);

-- Provider Exchange: a root customer grants a provider access; one row per pair.
CREATE TABLE exchange_connections (
    provider_id TEXT NOT NULL REFERENCES accounts (id),
    customer_id TEXT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL CHECK (status IN ('connected', 'disconnect_requested', 'deactivated')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (provider_id, customer_id)
);
CREATE INDEX exchange_customer ON exchange_connections (customer_id);

CREATE TABLE sip_trunks (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (provider_id, name)
);

CREATE TABLE carriers (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('voice', 'sms')),
    name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (provider_id, kind, name)
);

-- One row per number: "my numbers" is a query over holder_id, never a copy per account.
-- The account columns (holder, customer, allocated_from, owner, uploaded_by) carry no foreign
-- keys: accounts are never deleted (only deactivated) and every write reads the account in the
-- same transaction through the service layer. On PostgreSQL the three row-level FK triggers
-- made a 10,000-number add cost 434 ms instead of 183 ms (measured), past the bulk-add budget.
CREATE TABLE numbers (
    id TEXT PRIMARY KEY,
    e164 TEXT NOT NULL UNIQUE,               -- R-NUM-1: unique across the platform
    country TEXT NOT NULL,
    number_type TEXT NOT NULL,
    fine_type TEXT NOT NULL,
    region_state TEXT,
    city TEXT,
    product TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'normal')),
    position TEXT NOT NULL CHECK (position IN ('free', 'returned', 'held')),
    holder_id TEXT NOT NULL,
    customer_id TEXT,
    allocated_from TEXT,
    owner_id TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    assignees TEXT NOT NULL DEFAULT '[]',    -- JSON array; assignee_count mirrors its length
    assignee_count BIGINT NOT NULL DEFAULT 0,
    sip_trunk_id TEXT REFERENCES sip_trunks (id),
    billing_reference TEXT,
    service_info TEXT,
    cap_voice BOOLEAN NOT NULL,
    cap_sms BOOLEAN NOT NULL,
    cap_mms BOOLEAN NOT NULL,
    cap_fax BOOLEAN NOT NULL,
    voice_carrier_id TEXT REFERENCES carriers (id),
    sms_carrier_id TEXT REFERENCES carriers (id),
    capacity TEXT NOT NULL,
    voice_direction TEXT NOT NULL,
    messaging TEXT NOT NULL,
    outbound_dialer BOOLEAN NOT NULL,
    outbound_cli_shared BOOLEAN NOT NULL,
    call_purpose TEXT,
    display_name TEXT,
    program_duration TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',   -- JSON object of attribute key -> value
    source TEXT NOT NULL,
    block_id TEXT,
    port_order_id TEXT,
    add_event_id TEXT,                       -- the audit event of its add (one per batch)
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL                  -- compare-and-set guard and ETag
);
CREATE INDEX numbers_holder ON numbers (holder_id, id);
-- Pool numbers have no customer: a partial index keeps bulk adds from paying for it.
CREATE INDEX numbers_customer ON numbers (customer_id, id) WHERE customer_id IS NOT NULL;

-- The audit log: every change, who, through what, when, before and after (JSON text).
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_account_id TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('api', 'ui', 'import', 'cli', 'job')),
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    rule TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_entity ON audit_events (entity_id, id);
CREATE INDEX audit_account ON audit_events (actor_account_id, id);

-- API clients (OAuth client credentials). The secret is stored as an argon2 hash only.
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Portal users. The password is stored as an argon2 hash only.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at BIGINT NOT NULL
);
