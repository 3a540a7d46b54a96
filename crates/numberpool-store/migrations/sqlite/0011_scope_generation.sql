-- A counter that moves on every committed change to what an account's scope holds (R-SEC-1):
-- the accounts (their tree, names and kinds) and the Provider Exchange connections. A reader
-- that keeps something derived from a scope (the portal's account names, issue 12) keeps it
-- with the counter it read, and reads again when the counter has moved. Triggers, not the
-- writers, keep it, so no write path can forget it. SQLite runs one write transaction at a
-- time, so the row update cannot deadlock and is seen only when its transaction commits.
CREATE TABLE scope_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);

INSERT INTO scope_generation (id, n) VALUES (1, 0);

CREATE TRIGGER accounts_insert_scope AFTER INSERT ON accounts
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER accounts_update_scope AFTER UPDATE ON accounts
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER accounts_delete_scope AFTER DELETE ON accounts
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER connections_insert_scope AFTER INSERT ON exchange_connections
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER connections_update_scope AFTER UPDATE ON exchange_connections
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER connections_delete_scope AFTER DELETE ON exchange_connections
BEGIN UPDATE scope_generation SET n = n + 1 WHERE id = 1; END;
