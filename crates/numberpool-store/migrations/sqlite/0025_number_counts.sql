-- Per-holder number counts (issue 16): how many numbers each holder has, by everything a list
-- filter or the inventory groups on. `total_records` and the inventory counts become a sum over
-- the accounts in scope instead of a count over the numbers table.
--
-- A number's key: its holder and owner, its customer ('' for none, so the key can be a
-- primary key), its stored position, whether it has an assignee, its status, product, type and
-- country. The groups are few per holder, so the table stays small whatever the inventory.
--
-- Written in the transaction that changes the numbers, so every committed state is counted
-- exactly: the bulk insert of numbers adds its grouped counts itself (Tx::insert_numbers; a trigger row by row cost 8 µs a number, 85 ms on a
-- 10,000-number add), and the triggers below follow every update and delete, which come one
-- number at a time. SQLite writes one transaction at a time, so the counter rows cannot
-- be contended. `numberpool check` compares the table with a full count.
CREATE TABLE number_counts (
    holder_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    position TEXT NOT NULL,
    assigned INTEGER NOT NULL,
    status TEXT NOT NULL,
    product TEXT NOT NULL,
    number_type TEXT NOT NULL,
    country TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (holder_id, owner_id, customer_id, position, assigned, status, product,
        number_type, country)
) WITHOUT ROWID;

-- A customer filter (the list's `customer_id`) sums that customer's groups.
CREATE INDEX number_counts_customer ON number_counts (customer_id);

INSERT INTO number_counts
SELECT holder_id, owner_id, COALESCE(customer_id, ''), position,
    CASE WHEN assignee_count > 0 THEN 1 ELSE 0 END, status, product, number_type, country,
    COUNT(*)
FROM numbers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

CREATE TRIGGER number_counts_update AFTER UPDATE OF holder_id, owner_id, customer_id, position,
    assignee_count, status, product, number_type, country ON numbers
WHEN OLD.holder_id IS NOT NEW.holder_id OR OLD.owner_id IS NOT NEW.owner_id
    OR OLD.customer_id IS NOT NEW.customer_id OR OLD.position IS NOT NEW.position
    OR (OLD.assignee_count > 0) IS NOT (NEW.assignee_count > 0) OR OLD.status IS NOT NEW.status
    OR OLD.product IS NOT NEW.product OR OLD.number_type IS NOT NEW.number_type
    OR OLD.country IS NOT NEW.country
BEGIN
    INSERT INTO number_counts VALUES (OLD.holder_id, OLD.owner_id, COALESCE(OLD.customer_id, ''),
        OLD.position, CASE WHEN OLD.assignee_count > 0 THEN 1 ELSE 0 END, OLD.status,
        OLD.product, OLD.number_type, OLD.country, -1)
    ON CONFLICT DO UPDATE SET n = n - 1;
    INSERT INTO number_counts VALUES (NEW.holder_id, NEW.owner_id, COALESCE(NEW.customer_id, ''),
        NEW.position, CASE WHEN NEW.assignee_count > 0 THEN 1 ELSE 0 END, NEW.status,
        NEW.product, NEW.number_type, NEW.country, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER number_counts_delete AFTER DELETE ON numbers
BEGIN
    INSERT INTO number_counts VALUES (OLD.holder_id, OLD.owner_id, COALESCE(OLD.customer_id, ''),
        OLD.position, CASE WHEN OLD.assignee_count > 0 THEN 1 ELSE 0 END, OLD.status,
        OLD.product, OLD.number_type, OLD.country, -1)
    ON CONFLICT DO UPDATE SET n = n - 1;
END;
