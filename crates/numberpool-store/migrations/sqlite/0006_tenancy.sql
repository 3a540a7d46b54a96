-- Tenancy (issue 5): R-ACC-3 entitlements on customer accounts, and the index the Provider
-- Exchange and offboarding checks count by. Same SQL on both backends.
-- NULL is "no limit" (an account created before entitlements existed keeps working); a number
-- consumes a licence while it is with the customer, so usage is counted, never stored.
ALTER TABLE accounts ADD COLUMN toll_free_licences BIGINT CHECK (toll_free_licences >= 0);
ALTER TABLE accounts ADD COLUMN contact_center_licences BIGINT CHECK (contact_center_licences >= 0);
-- "The provider's numbers with this customer" (R-ACC-1) and the customers list's counts.
CREATE INDEX numbers_customer_owner ON numbers (customer_id, owner_id) WHERE customer_id IS NOT NULL;
