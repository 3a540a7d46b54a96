//! Number blocks (SPEC §5): a pool adds a contiguous range as one unit, through the same
//! planner and commit as any add (so every field rule, R-NUM-1 and the default carriers hold),
//! lists its blocks with where their numbers are now, and releases a block as a unit: every
//! number still on the platform is deleted, and only when none of them is with a customer or
//! below the pool (R-DEL-1).

use numberpool_domain::moves;
use numberpool_domain::{
    Action, BlockCounts, BlockId, Dest, E164, NewNumber, NumberBlock, NumberType, Rule,
    RuleViolation, block_numbers,
};
use numberpool_store::{Lock, StoreError};
use serde::Serialize;

use super::AddNumber;
use crate::service::progress::Progress;
use crate::service::{Actor, Permission, Result, Service, ServiceError};

/// A number block as the pool that added it sees it: the API's, the CLI's and the portal's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlockView {
    pub id: BlockId,
    pub start_number: String,
    pub end_number: String,
    pub size: u32,
    /// ISO 3166 alpha-2.
    pub country: String,
    /// The start number's type.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: NumberType,
    /// Free in the caller's pool.
    pub free: u32,
    /// Allocated onwards: with a reseller, a customer or below.
    pub in_use: u32,
    /// Returned to the caller's pool, waiting to be unbound or deleted.
    pub returned: u32,
    /// Deleted one by one since the block was added.
    pub removed: u32,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

impl BlockView {
    fn of(b: &NumberBlock, c: BlockCounts) -> BlockView {
        BlockView {
            id: b.id,
            start_number: b.start.as_str().to_string(),
            end_number: b.end(),
            size: b.size,
            country: b.start.country().as_str(),
            number_type: b.start.number_type(),
            free: c.free,
            in_use: c.in_use,
            returned: c.returned,
            removed: b.size.saturating_sub(c.free + c.in_use + c.returned),
            created_at: b.created_at,
        }
    }
}

fn block_not_found() -> ServiceError {
    ServiceError::NotFound("number block")
}

impl Service {
    /// Adds the `size` numbers from `start` to the actor's pool as one block, each with
    /// `fields`; all of them or none. A range that leaves the start's numbering area, or holds
    /// a number already on the platform, is refused naming the number.
    pub async fn create_block(
        &self,
        actor: &Actor,
        start: E164,
        size: u32,
        fields: NewNumber,
    ) -> Result<BlockView> {
        actor.require(Permission::NumberWrite)?;
        let range =
            block_numbers(&start, size).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let (mut tx, me, above) = self.open_add(actor).await?;
        let mut to = self.add_target(&mut tx, &me, &above).await?;
        if to.dest != Dest::Pool {
            return Err(RuleViolation::new(
                Rule::Acc2,
                "number blocks go into a provider's or reseller's pool; a customer adds its own \
                 numbers one by one or in a file",
            )
            .into());
        }
        if !fields.attributes.is_empty() {
            // As an add: an attribute's removal (R-ATTR-1) waits for this block.
            tx.get_account_locked(to.owner, Lock::Share).await?;
        }
        let rows = range
            .into_iter()
            .map(|phone_number| AddNumber {
                phone_number,
                fields: fields.clone(),
            })
            .collect();
        let mut plan = self.plan_rows(&mut tx, &mut to, rows, true).await?;
        if let Some(refused) = plan.first_refusal() {
            return Err(refused.error);
        }
        let block = NumberBlock {
            id: BlockId::new(),
            account_id: me.id,
            owner_id: to.owner,
            start,
            size,
            created_at: self.now(),
        };
        for n in &mut plan.numbers {
            n.block_id = Some(block.id);
        }
        tx.insert_block(&block).await?;
        self.commit_add(
            &mut tx,
            actor,
            &me,
            to.add_event,
            &mut plan.numbers,
            &Progress::none(),
        )
        .await?;
        tx.record(&actor.event(
            Action::BlockCreate,
            block.id.to_string(),
            Some(Rule::Num1),
            None,
            Some(block_snapshot(&block)),
        ))
        .await?;
        tx.commit().await?;
        Ok(BlockView::of(
            &block,
            BlockCounts {
                free: size,
                ..BlockCounts::default()
            },
        ))
    }

    /// The blocks the actor's account added, oldest first, each with where its numbers are.
    pub async fn list_blocks(&self, actor: &Actor) -> Result<Vec<BlockView>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        let blocks = r.list_blocks(me.id).await?;
        let mut counts = r.block_counts(me.id).await?;
        Ok(blocks
            .into_iter()
            .map(|b| BlockView::of(&b, counts.remove(&b.id).unwrap_or_default()))
            .collect())
    }

    /// One block of the actor's account.
    pub async fn get_block(&self, actor: &Actor, id: BlockId) -> Result<BlockView> {
        self.list_blocks(actor)
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(block_not_found)
    }

    /// Releases a block as a unit: deletes every number of it still on the platform, each with
    /// its own audit event, then the block. Refused whole (R-DEL-1) while any of them is with a
    /// customer or below the pool. Answers how many numbers went.
    pub async fn release_block(&self, actor: &Actor, id: BlockId) -> Result<usize> {
        actor.require(Permission::NumberWrite)?;
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        let block = tx
            .get_block(id)
            .await?
            .filter(|b| b.account_id == me.id)
            .ok_or_else(block_not_found)?;
        let now = self.now();
        // A reservation whose time has come holds nothing (the job may not have been by).
        let members: Vec<_> = tx
            .block_members(id)
            .await?
            .into_iter()
            .map(|n| n.lapsed_at(now))
            .collect();
        // Refused whole, naming the first number in the way and the rule that keeps it.
        let refusals: Vec<(&str, numberpool_domain::moves::MoveError)> = members
            .iter()
            .filter_map(|n| {
                moves::delete(n, &me)
                    .err()
                    .map(|e| (n.phone_number.as_str(), e))
            })
            .collect();
        if let Some((first, _)) = refusals.first() {
            let reserved = members.iter().filter(|n| n.reservation.is_some()).count();
            let ported = members.iter().filter(|n| n.in_open_port()).count();
            let (rule, what) = if reserved > 0 {
                (
                    Rule::Res2,
                    format!(
                        "{reserved} of the block's numbers are reserved; release their reservations first"
                    ),
                )
            } else if ported > 0 {
                (
                    Rule::Port1,
                    format!("{ported} of the block's numbers are being ported in"),
                )
            } else {
                (
                    Rule::Del1,
                    format!(
                        "{} of the block's numbers are with a customer or below this pool; have \
                         them released back to the pool first",
                        refusals.len()
                    ),
                )
            };
            return Err(RuleViolation::new(
                rule,
                format!("{what} (the first in the way is {first}): nothing was released"),
            )
            .into());
        }
        for n in &members {
            // A number allocated since it was read loses this compare-and-set: the block is
            // not released, and nothing of it is.
            super::delete_recorded(&mut tx, actor, n, |e| match e {
                StoreError::Conflict => ServiceError::Conflict(format!(
                    "{} changed while the block was being released; nothing was released, \
                     try again",
                    n.phone_number
                )),
                other => other.into(),
            })
            .await?;
        }
        tx.delete_block(id).await?;
        let mut before = block_snapshot(&block);
        before["numbers_released"] = serde_json::json!(members.len());
        tx.record(&actor.event(
            Action::BlockRelease,
            id.to_string(),
            Some(Rule::Del1),
            Some(before),
            None,
        ))
        .await?;
        tx.commit().await?;
        Ok(members.len())
    }
}

fn block_snapshot(b: &NumberBlock) -> serde_json::Value {
    serde_json::json!({
        "start_number": b.start.as_str(),
        "end_number": b.end(),
        "size": b.size,
        "account_id": b.account_id,
    })
}
