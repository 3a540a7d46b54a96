-- Per-holder number counts (issue 16): how many numbers each holder has, by everything a list
-- filter or the inventory groups on. `total_records` and the inventory counts become a sum over
-- the accounts in scope instead of a count over the numbers table.
--
-- A number's key: its holder and owner, its customer ('' for none, so the key can be a
-- primary key), its stored position, whether it has an assignee, its status, product, type and
-- country. The groups are few per holder, so the table stays small whatever the inventory.
--
-- Written in the transaction that changes the numbers, so every committed state is counted
-- exactly: the bulk insert of numbers adds its grouped counts itself (Tx::insert_numbers),
-- and the triggers below follow every update and delete, which come one number at a time.
--
-- Concurrent writers must not queue on a hot counter row (every allocation from one pool
-- takes one from the same provider row). So the triggers are deferred to commit, and both
-- they and the insert's count first take the outbox's advisory lock (outbox.rs, OUTBOX_LOCK),
-- which every transaction that records an event already holds from its event to its commit.
-- Counter rows are then only ever locked by the one transaction holding that lock: two
-- writers can never deadlock on the counters, and they wait for each other only as long as
-- the upserts take at commit. Inside an open transaction its own updates and deletes reach the counts at
-- its commit (SQLite's triggers run at once); nothing reads counts inside a write.
-- `numberpool check` compares the table with a full count.

-- No number may change between the count below and the triggers: a writer committing in
-- between would be neither counted nor followed. Held to the end of the migration.
LOCK TABLE numbers IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE number_counts (
    holder_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    position TEXT NOT NULL,
    assigned SMALLINT NOT NULL,
    status TEXT NOT NULL,
    product TEXT NOT NULL,
    number_type TEXT NOT NULL,
    country TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (holder_id, owner_id, customer_id, position, assigned, status, product,
        number_type, country)
);

-- A customer filter (the list's `customer_id`) sums that customer's groups.
CREATE INDEX number_counts_customer ON number_counts (customer_id);

INSERT INTO number_counts
SELECT holder_id, owner_id, COALESCE(customer_id, ''), position,
    CASE WHEN assignee_count > 0 THEN 1 ELSE 0 END, status, product, number_type, country,
    COUNT(*)
FROM numbers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

CREATE FUNCTION number_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(122550254464888);
    INSERT INTO number_counts VALUES (OLD.holder_id, OLD.owner_id, COALESCE(OLD.customer_id, ''),
        OLD.position, CASE WHEN OLD.assignee_count > 0 THEN 1 ELSE 0 END, OLD.status,
        OLD.product, OLD.number_type, OLD.country, -1)
    ON CONFLICT (holder_id, owner_id, customer_id, position, assigned, status, product,
        number_type, country) DO UPDATE SET n = number_counts.n - 1;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO number_counts VALUES (NEW.holder_id, NEW.owner_id,
            COALESCE(NEW.customer_id, ''), NEW.position,
            CASE WHEN NEW.assignee_count > 0 THEN 1 ELSE 0 END, NEW.status, NEW.product,
            NEW.number_type, NEW.country, 1)
        ON CONFLICT (holder_id, owner_id, customer_id, position, assigned, status, product,
            number_type, country) DO UPDATE SET n = number_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER number_counts_update AFTER UPDATE ON numbers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.holder_id IS DISTINCT FROM NEW.holder_id OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
    OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
    OR OLD.position IS DISTINCT FROM NEW.position
    OR (OLD.assignee_count > 0) IS DISTINCT FROM (NEW.assignee_count > 0)
    OR OLD.status IS DISTINCT FROM NEW.status OR OLD.product IS DISTINCT FROM NEW.product
    OR OLD.number_type IS DISTINCT FROM NEW.number_type
    OR OLD.country IS DISTINCT FROM NEW.country)
EXECUTE FUNCTION number_counts_follow();

CREATE CONSTRAINT TRIGGER number_counts_delete AFTER DELETE ON numbers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
EXECUTE FUNCTION number_counts_follow();
