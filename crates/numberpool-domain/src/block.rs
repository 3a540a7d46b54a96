//! Number blocks (SPEC §5): a contiguous range, a start number and a size, added to a pool as
//! one unit and released as one. This module owns the range arithmetic: which numbers a block
//! holds, and why a range is refused.

use serde::Serialize;

use crate::e164::E164;
use crate::ids::{AccountId, BlockId};

/// The most numbers one block holds (the size of a provider's import, R-IMP-1).
pub const MAX_BLOCK_SIZE: u32 = 10_000;

/// A block as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberBlock {
    pub id: BlockId,
    /// The pool that added the block and holds what is left of it.
    pub account_id: AccountId,
    /// The root provider that owns its numbers.
    pub owner_id: AccountId,
    pub start: E164,
    pub size: u32,
    pub created_at: i64,
}

impl NumberBlock {
    /// The block's last number (the start when the size is 1).
    pub fn end(&self) -> String {
        offset(&self.start, self.size.saturating_sub(1)).unwrap_or_default()
    }
}

/// Where the numbers of a block are now, as the pool that added it sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BlockCounts {
    /// Free in the pool.
    pub free: u32,
    /// Allocated onwards (to a reseller, a customer or below).
    pub in_use: u32,
    /// Returned to the pool, waiting to be unbound or deleted.
    pub returned: u32,
}

/// Why a range cannot be a block; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BlockRangeError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> BlockRangeError {
    BlockRangeError {
        field,
        message: message.into(),
    }
}

/// `start` plus `k` as E.164 digits, or `None` when the sum has more digits than the start
/// (the range ran off the end of the numbering plan).
fn offset(start: &E164, k: u32) -> Option<String> {
    let digits = start.as_str().trim_start_matches('+');
    let width = digits.len();
    let n: u64 = digits.parse().ok()?;
    let sum = n.checked_add(u64::from(k))?;
    let s = format!("+{sum:0width$}");
    (s.len() == width + 1).then_some(s)
}

/// The numbers of the block that starts at `start` and holds `size`, in order. Every one must
/// be a valid number of the start's country (libphonenumber's metadata), so a range that runs
/// into another numbering area or past the plan's end is refused, naming the first number that
/// does not fit.
pub fn block_numbers(start: &E164, size: u32) -> Result<Vec<E164>, BlockRangeError> {
    if size == 0 || size > MAX_BLOCK_SIZE {
        return Err(refuse(
            "size",
            format!("a block holds 1 to {MAX_BLOCK_SIZE} numbers; {size} were asked for"),
        ));
    }
    let country = start.country();
    let mut out = Vec::with_capacity(size as usize);
    out.push(start.clone());
    for k in 1..size {
        let next = offset(start, k).ok_or_else(|| {
            refuse(
                "size",
                format!(
                    "the range from {} runs past the last number with its digit count",
                    start.as_str()
                ),
            )
        })?;
        let e = E164::parse(&next)
            .ok()
            .filter(|e| e.country() == country)
            .ok_or_else(|| {
                refuse(
                    "size",
                    format!(
                        "{next} (number {} of the block) is not a valid {} number: the range \
                         leaves the start's numbering area; make the block smaller or split it",
                        k + 1,
                        country.as_str()
                    ),
                )
            })?;
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> E164 {
        E164::parse(s).unwrap_or_else(|err| panic!("{s}: {err}"))
    }

    #[test]
    fn a_block_counts_up_from_its_start_across_a_carry() {
        let got = block_numbers(&e("+14155559998"), 4).unwrap_or_else(|err| panic!("{err}"));
        let got: Vec<&str> = got.iter().map(E164::as_str).collect();
        assert_eq!(
            got,
            [
                "+14155559998",
                "+14155559999",
                "+14155560000",
                "+14155560001"
            ]
        );
    }

    #[test]
    fn size_is_one_to_ten_thousand() {
        let start = e("+14155550100");
        for bad in [0, MAX_BLOCK_SIZE + 1] {
            let err = block_numbers(&start, bad).err();
            assert_eq!(err.map(|x| x.field), Some("size"), "{bad}");
        }
        assert_eq!(
            block_numbers(&start, 1).map(|v| v.len()).ok(),
            Some(1),
            "a block of one"
        );
        assert_eq!(
            block_numbers(&start, MAX_BLOCK_SIZE).map(|v| v.len()).ok(),
            Some(MAX_BLOCK_SIZE as usize)
        );
    }

    #[test]
    fn a_range_that_leaves_the_numbering_area_is_refused_naming_the_number() {
        // +1 415 999 9999 is the last of its area code; the next is +1 416 000 0000, which is
        // not a valid number (exchange codes do not start with 0).
        let err = block_numbers(&e("+14159999998"), 5)
            .err()
            .map(|x| x.to_string())
            .unwrap_or_default();
        assert!(err.contains("+14160000000"), "{err}");
    }

    #[test]
    fn the_end_is_the_last_number() {
        let b = NumberBlock {
            id: BlockId::new(),
            account_id: AccountId::new(),
            owner_id: AccountId::new(),
            start: e("+14155550100"),
            size: 100,
            created_at: 0,
        };
        assert_eq!(b.end(), "+14155550199");
    }
}
