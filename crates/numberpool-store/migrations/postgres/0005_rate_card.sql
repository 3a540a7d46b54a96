-- A provider's rate card (issue 5, SPEC §1): the monthly cost of a number by country and type.
-- Same SQL on both backends. Money is whole cents (minor units) in a BIGINT, never a float.
CREATE TABLE rate_card (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES accounts (id),
    country TEXT NOT NULL,
    number_type TEXT NOT NULL CHECK (number_type IN ('local', 'mobile', 'toll_free', 'national')),
    monthly_cost_cents BIGINT NOT NULL CHECK (monthly_cost_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (provider_id, country, number_type)
);
