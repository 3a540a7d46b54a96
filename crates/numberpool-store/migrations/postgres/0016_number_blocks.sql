-- Number blocks (SPEC §5, issue 14): a contiguous range added to a pool as one unit. Its numbers
-- point at it through numbers.block_id; its counts are read from them. A released block's row
-- goes with its numbers: the audit log keeps its history.
CREATE TABLE number_blocks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    owner_id TEXT NOT NULL REFERENCES accounts (id),
    start_number TEXT NOT NULL,
    country TEXT NOT NULL,
    fine_type TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size BETWEEN 1 AND 10000),
    created_at BIGINT NOT NULL
);
CREATE INDEX number_blocks_account ON number_blocks (account_id, id);
-- Only block numbers carry a block: a partial index keeps other adds from paying for it.
CREATE INDEX numbers_block ON numbers (block_id) WHERE block_id IS NOT NULL;
