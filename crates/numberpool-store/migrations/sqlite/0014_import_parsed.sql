-- An import's file, and an add file's numbers as its plan read them, kept in pieces of 1 MiB
-- (issue 13). One blob of a million-row file made SQLite hold two more copies of it while it was
-- written (the bound value and the record), which was most of an import's memory.
--
-- part 'file': the uploaded bytes (imports.file is then empty; imports made before this keep
-- their bytes there). part 'parsed': a 16-byte record per accepted row of an add file (row
-- number, the E.164's digits, region, fine type), which the apply reads back instead of running
-- libphonenumber over the file a second time (most of a row's cost); it still plans every
-- accepted row again against the inventory inside its transaction and compares the digest, so
-- a stale plan is refused as before.
CREATE TABLE import_chunks (
    import_id TEXT NOT NULL REFERENCES imports (id),
    part TEXT NOT NULL CHECK (part IN ('file', 'parsed')),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (import_id, part, seq)
);
