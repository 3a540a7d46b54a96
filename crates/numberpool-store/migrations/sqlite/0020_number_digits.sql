-- The available search's `contains` index (issue 14): every number's digits as trigrams in an
-- FTS5 table (contentless: the digits stay in `numbers`; `detail=none`: the search checks
-- each candidate with its LIKE, so positions are not kept; `columnsize=0`: no row of sizes per
-- number, which a bulk add would otherwise write). Its rowid is the number's digits padded
-- with zeros to fifteen, times sixteen, plus their count: unique per number and in the numbers'
-- E.164 order, so a search reads candidates in the order it answers in and stops at its
-- quantity. The store turns a rowid back into its E.164 (`available.rs`).
--
-- The bulk insert (`bulk.rs`) adds each batch's rows in one statement: a trigger per row costs
-- a million-row add about a second more (docs/PERFORMANCE.md). A number's E.164 never changes,
-- so a delete is all else the index follows; a contentless table forgets a row when told the
-- values it was given.
CREATE VIRTUAL TABLE number_digits USING fts5 (
    digits,
    tokenize = 'trigram case_sensitive 1',
    detail = 'none',
    content = '',
    columnsize = 0
);
INSERT INTO number_digits (rowid, digits)
SELECT CAST(substr(e164, 2) || substr('000000000000000', 1, 16 - length(e164)) AS INTEGER) * 16
       + (length(e164) - 1),
       substr(e164, 2)
FROM numbers;
CREATE TRIGGER numbers_digits_delete AFTER DELETE ON numbers BEGIN
    INSERT INTO number_digits (number_digits, rowid, digits) VALUES (
        'delete',
        CAST(substr(old.e164, 2) || substr('000000000000000', 1, 16 - length(old.e164)) AS INTEGER)
            * 16 + (length(old.e164) - 1),
        substr(old.e164, 2));
END;
-- A pool's free numbers in E.164 order: the available search without a pattern (or with one
-- no index helps) reads the first of them and stops, instead of sorting the whole pool.
CREATE INDEX numbers_free ON numbers (holder_id, e164) WHERE position = 'free' AND status = 'normal';
