//! Number blocks as rows (SPEC §5): the block itself, its numbers (through `numbers.block_id`)
//! and where they are now, counted per block in one query.

use std::collections::HashMap;

use numberpool_domain::{AccountId, BlockCounts, BlockId, E164, Number, NumberBlock};

use crate::rows::Arg::{Int, Text};
use crate::rows::{NUMBER_COLUMNS, NumberRow, corrupt, parse};
use crate::{Reader, Result, StoreError, Tx, get_by_id};

const COLUMNS: &str =
    "id, account_id, owner_id, start_number, country, fine_type, size, created_at";

#[derive(sqlx::FromRow)]
struct BlockRow {
    id: String,
    account_id: String,
    owner_id: String,
    start_number: String,
    country: String,
    fine_type: String,
    size: i64,
    created_at: i64,
}

impl BlockRow {
    fn into_domain(self) -> Result<NumberBlock> {
        Ok(NumberBlock {
            id: parse("block id", &self.id)?,
            account_id: parse("account id", &self.account_id)?,
            owner_id: parse("account id", &self.owner_id)?,
            start: E164::from_stored(&self.start_number, &self.country, &self.fine_type)
                .map_err(corrupt("block start number"))?,
            size: u32::try_from(self.size).map_err(corrupt("block size"))?,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CountRow {
    block_id: String,
    free: i64,
    returned: i64,
    in_use: i64,
}

fn count(what: &str, n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|e| StoreError::Corrupt(format!("block {what} count: {e}")))
}

impl Reader {
    get_by_id!(get_block(BlockId) -> NumberBlock: "number_blocks", COLUMNS, BlockRow::into_domain);

    /// The blocks `account` added, oldest first.
    pub async fn list_blocks(&mut self, account: AccountId) -> Result<Vec<NumberBlock>> {
        let sql = format!("SELECT {COLUMNS} FROM number_blocks WHERE account_id = $1 ORDER BY id");
        self.rows_by(&sql, &account.to_string(), BlockRow::into_domain)
            .await
    }

    /// Where the numbers of `account`'s blocks are now, as `account` sees them: free or
    /// returned in its pool, or in use below it. A block none of whose numbers is left has no
    /// entry.
    pub async fn block_counts(
        &mut self,
        account: AccountId,
    ) -> Result<HashMap<BlockId, BlockCounts>> {
        let sql = "SELECT block_id, \
             SUM(CASE WHEN holder_id = $1 AND position = 'free' THEN 1 ELSE 0 END) AS free, \
             SUM(CASE WHEN holder_id = $1 AND position = 'returned' THEN 1 ELSE 0 END) AS returned, \
             SUM(CASE WHEN holder_id = $1 AND position <> 'held' THEN 0 ELSE 1 END) AS in_use \
             FROM numbers WHERE block_id IN (SELECT id FROM number_blocks WHERE account_id = $1) \
             GROUP BY block_id";
        let rows: Vec<CountRow> = self.rows_by(sql, &account.to_string(), Ok).await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    parse("block id", &r.block_id)?,
                    BlockCounts {
                        free: count("free", r.free)?,
                        in_use: count("in use", r.in_use)?,
                        returned: count("returned", r.returned)?,
                    },
                ))
            })
            .collect()
    }

    /// The numbers of a block still on the platform, in E.164 order.
    pub async fn block_members(&mut self, block: BlockId) -> Result<Vec<Number>> {
        let sql = format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE block_id = $1 ORDER BY e164");
        self.rows_by(&sql, &block.to_string(), NumberRow::into_domain)
            .await
    }
}

impl Tx {
    /// Records a block. Its numbers are inserted by the caller, pointing at it.
    pub async fn insert_block(&mut self, b: &NumberBlock) -> Result<()> {
        let (id, account, owner) = (
            b.id.to_string(),
            b.account_id.to_string(),
            b.owner_id.to_string(),
        );
        let country = b.start.country().as_str();
        self.execute(
            "INSERT INTO number_blocks \
             (id, account_id, owner_id, start_number, country, fine_type, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Text(&id),
                Text(&account),
                Text(&owner),
                Text(b.start.as_str()),
                Text(&country),
                Text(b.start.fine_type().as_str()),
                Int(i64::from(b.size)),
                Int(b.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    /// Removes a block's row once its numbers are gone; `Conflict` if it was already removed.
    pub async fn delete_block(&mut self, block: BlockId) -> Result<()> {
        let gone = self
            .execute_on_one(
                "DELETE FROM number_blocks WHERE id = $1",
                &[Text(&block.to_string())],
            )
            .await?;
        if gone {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }
}
