-- An add file's numbers as its plan read them (issue 13): one line per accepted row,
-- "row<TAB>E.164<TAB>region<TAB>fine type". The apply reads these back instead of running
-- libphonenumber over the file a second time (most of a row's cost); it still plans every
-- accepted row again against the inventory inside its transaction and compares the digest, so
-- a stale plan is refused as before. NULL for update and delete files, which re-plan whole.
ALTER TABLE imports ADD COLUMN parsed BLOB;
