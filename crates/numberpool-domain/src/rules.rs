//! Rule ids (SPEC `R-…`, plus the few Numberpool adds for §3's table) and the error a broken
//! rule produces. Every refusal in the domain names one of these.

use serde::Serialize;

/// A rule of the specification. The id string is stable: tests, API errors and docs cite it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Rule {
    /// E.164 unique across the platform.
    Num1,
    /// E.164 only, validated.
    Num2,
    /// Type given only at add time; computed when absent.
    Num3,
    /// `unallocated` may become `phone`/`contact_center` once, then never changes.
    Prod1,
    /// `pending` → `normal` only.
    Stat1,
    /// Which fields may change in which status.
    Edit1,
    /// No `single_contact_center` capacity on a contact-center product.
    Cust1,
    /// Outbound dialer needs an outbound voice direction.
    Cust2,
    /// Shared outbound CLI needs capacity `multiple` and an outbound direction.
    Cust3,
    /// Carriers change only while unassigned.
    Cap1,
    /// Capacity bounds the number of assignees.
    Asg1,
    /// A number with a customer cannot be deleted.
    Del1,
    /// Only the uploading account deletes.
    Del2,
    /// One holder, never past capacity: a move from a stale state is a conflict.
    Alloc1,
    /// Tenant isolation.
    Sec1,
    /// Provider Exchange disconnect/deactivate preconditions.
    Acc1,
    /// Customer's own (external) numbers.
    Acc2,
    /// Entitlement licences.
    Acc3,
    /// Numberpool: which account kind may sit under which (SPEC §1 table).
    Tree1,
    /// Numberpool: allocation goes from a pool's free numbers to an active direct child or
    /// connected customer (SPEC §3 "allocate").
    Move1,
    /// Numberpool: only a customer (or unit) holding a number assigns or unassigns it (SPEC §3).
    Move2,
    /// Numberpool: release needs no assignees and a pool above to return to (SPEC §3 "release").
    Move3,
    /// Numberpool: only the pool a number was returned to unbinds it, and only while `returned`.
    Move4,
    /// Numberpool: a number moves to a unit only inside the customer holding it.
    Move5,
    /// Numberpool: SIP trunks and carriers are managed by the provider that owns them (SPEC §1).
    Prov1,
    /// Numberpool: a SIP trunk or carrier that a number uses cannot be deleted.
    Prov2,
    /// Numberpool: exactly one default carrier of each kind a provider has (SPEC §1).
    Prov3,
    /// Numberpool: an attribute value (or key) that numbers still carry is not removed.
    Attr1,
    /// Numberpool: an account is deactivated only when no number is held in its subtree.
    Off1,
    /// SPEC §4: an import holds fewer than 10,000 rows (a sub account's at most 200).
    Imp1,
    /// SPEC §4: every row is accepted or rejected with a reason; apply commits exactly the plan.
    Imp2,
    /// SPEC §4: an import's accepted rows are committed atomically.
    Imp3,
    /// SPEC §4: exported cells that a spreadsheet would run as a formula are neutralised.
    Exp1,
    /// SPEC §5: only a free number of the caller's pool is reserved, for one account at a time.
    Res1,
    /// SPEC §5: a reserved number goes only to the account it is held for, and is neither
    /// deleted nor released while it is held.
    Res2,
    /// SPEC §5: a porting order moves submitted → pending → scheduled → completed, or to
    /// rejected or cancelled while open; its numbers stay pending (not moved, not deleted)
    /// until it completes.
    Port1,
    /// SPEC §5: each number of an order is valid E.164, not on the platform, not in another
    /// open order, and of the order's one country.
    Port2,
}

impl Rule {
    pub const ALL: [Rule; 37] = [
        Rule::Num1,
        Rule::Num2,
        Rule::Num3,
        Rule::Prod1,
        Rule::Stat1,
        Rule::Edit1,
        Rule::Cust1,
        Rule::Cust2,
        Rule::Cust3,
        Rule::Cap1,
        Rule::Asg1,
        Rule::Del1,
        Rule::Del2,
        Rule::Alloc1,
        Rule::Sec1,
        Rule::Acc1,
        Rule::Acc2,
        Rule::Acc3,
        Rule::Tree1,
        Rule::Move1,
        Rule::Move2,
        Rule::Move3,
        Rule::Move4,
        Rule::Move5,
        Rule::Prov1,
        Rule::Prov2,
        Rule::Prov3,
        Rule::Attr1,
        Rule::Off1,
        Rule::Imp1,
        Rule::Imp2,
        Rule::Imp3,
        Rule::Exp1,
        Rule::Res1,
        Rule::Res2,
        Rule::Port1,
        Rule::Port2,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Num1 => "R-NUM-1",
            Rule::Num2 => "R-NUM-2",
            Rule::Num3 => "R-NUM-3",
            Rule::Prod1 => "R-PROD-1",
            Rule::Stat1 => "R-STAT-1",
            Rule::Edit1 => "R-EDIT-1",
            Rule::Cust1 => "R-CUST-1",
            Rule::Cust2 => "R-CUST-2",
            Rule::Cust3 => "R-CUST-3",
            Rule::Cap1 => "R-CAP-1",
            Rule::Asg1 => "R-ASG-1",
            Rule::Del1 => "R-DEL-1",
            Rule::Del2 => "R-DEL-2",
            Rule::Alloc1 => "R-ALLOC-1",
            Rule::Sec1 => "R-SEC-1",
            Rule::Acc1 => "R-ACC-1",
            Rule::Acc2 => "R-ACC-2",
            Rule::Acc3 => "R-ACC-3",
            Rule::Tree1 => "R-TREE-1",
            Rule::Move1 => "R-MOVE-1",
            Rule::Move2 => "R-MOVE-2",
            Rule::Move3 => "R-MOVE-3",
            Rule::Move4 => "R-MOVE-4",
            Rule::Move5 => "R-MOVE-5",
            Rule::Prov1 => "R-PROV-1",
            Rule::Prov2 => "R-PROV-2",
            Rule::Prov3 => "R-PROV-3",
            Rule::Attr1 => "R-ATTR-1",
            Rule::Off1 => "R-OFF-1",
            Rule::Imp1 => "R-IMP-1",
            Rule::Imp2 => "R-IMP-2",
            Rule::Imp3 => "R-IMP-3",
            Rule::Exp1 => "R-EXP-1",
            Rule::Res1 => "R-RES-1",
            Rule::Res2 => "R-RES-2",
            Rule::Port1 => "R-PORT-1",
            Rule::Port2 => "R-PORT-2",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A refusal: which rule, and a sentence a provider's admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({rule})")]
pub struct RuleViolation {
    pub rule: Rule,
    pub message: String,
}

impl RuleViolation {
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }
}

/// Shorthand for a check that returns a violation when `ok` is false.
pub(crate) fn ensure(
    ok: bool,
    rule: Rule,
    message: impl FnOnce() -> String,
) -> Result<(), RuleViolation> {
    if ok {
        Ok(())
    } else {
        Err(RuleViolation::new(rule, message()))
    }
}
