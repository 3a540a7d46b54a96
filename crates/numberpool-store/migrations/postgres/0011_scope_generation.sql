-- A counter that moves on every committed change to what an account's scope holds (R-SEC-1):
-- the accounts (their tree, names and kinds) and the Provider Exchange connections. A reader
-- that keeps something derived from a scope (the portal's account names, issue 12) keeps it
-- with the counter it read, and reads again when the counter has moved. Triggers, not the
-- writers, keep it, so no write path can forget it.
--
-- The triggers are deferred to commit. The counter's row is then the last lock a writing
-- transaction takes, so it cannot close a deadlock with the account row locks taken earlier
-- (R-PROV-3's `lock_account`, allocations' share locks), and it is held only while committing.
-- A reader sees the new value only once the change is committed, so whatever it reads after
-- the counter is at least as new.
CREATE TABLE scope_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);

INSERT INTO scope_generation (id, n) VALUES (1, 0);

CREATE FUNCTION bump_scope_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scope_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER accounts_scope AFTER INSERT OR UPDATE OR DELETE ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_scope_generation();
CREATE CONSTRAINT TRIGGER connections_scope AFTER INSERT OR UPDATE OR DELETE ON exchange_connections
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_scope_generation();
