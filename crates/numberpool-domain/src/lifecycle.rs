//! The number lifecycle of SPEC §3: states, events, the total transition function, and the
//! authority checks (who may make which move). `docs/STATES.md` is rendered from [`transition`]
//! (through [`table`]) by [`render_states_md`], and a test keeps the committed file equal to it.
//! What a move changes on the number is in [`crate::moves`].

use serde::Serialize;

use crate::account::{Account, AccountKind, AccountStatus};
use crate::ids::AccountId;
use crate::number::{Number, Position};
use crate::rules::{Rule, RuleViolation, ensure};

/// Where a number is in its life, as the transition table sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberState {
    /// Not on the platform (never added, or deleted; history is kept).
    Absent,
    /// In a pool, available to allocate.
    Free,
    /// Free in a pool but held for one account until a time (SPEC §5): only that account gets
    /// it; at the time it is free again.
    Reserved,
    /// Released by the account below; waits in the pool for unbind or delete.
    Returned,
    /// With a customer or unit, no assignee.
    Unassigned,
    /// With a customer or unit, one or more assignees.
    Assigned,
}

/// Whether a move lands in a pool (provider/reseller) or with a customer/unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dest {
    Pool,
    Customer,
}

/// Something that happens to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Add / import / block / port-in; `Customer` is a customer's own number (R-ACC-2).
    Add(Dest),
    /// Allocate from a pool to a child pool (reseller) or a customer.
    Allocate(Dest),
    Assign,
    /// Remove one assignee; `last` says whether it was the only one.
    Unassign {
        last: bool,
    },
    MoveToUnit,
    Release,
    Unbind,
    /// Remove from the platform by the uploading pool.
    Delete,
    /// Remove a customer's own number (R-ACC-2).
    DeleteExternal,
    /// Hold a free number for an account until a time.
    Reserve,
    /// End a reservation: released early, or run out.
    Unreserve,
}

impl NumberState {
    pub const ALL: [NumberState; 6] = [
        Self::Absent,
        Self::Free,
        Self::Reserved,
        Self::Returned,
        Self::Unassigned,
        Self::Assigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Free => "free",
            Self::Reserved => "reserved",
            Self::Returned => "returned",
            Self::Unassigned => "unassigned",
            Self::Assigned => "assigned",
        }
    }

    /// The state of a stored number.
    pub fn of(number: &Number) -> Self {
        match number.position {
            Position::Free if number.reservation.is_some() => Self::Reserved,
            Position::Free => Self::Free,
            Position::Returned => Self::Returned,
            Position::Held if number.assignees.is_empty() => Self::Unassigned,
            Position::Held => Self::Assigned,
        }
    }

    /// The stored position for a present state.
    pub fn position(self) -> Option<Position> {
        match self {
            Self::Absent => None,
            Self::Free | Self::Reserved => Some(Position::Free),
            Self::Returned => Some(Position::Returned),
            Self::Unassigned | Self::Assigned => Some(Position::Held),
        }
    }
}

impl Event {
    pub const ALL: [Event; 14] = [
        Event::Add(Dest::Pool),
        Event::Add(Dest::Customer),
        Event::Allocate(Dest::Pool),
        Event::Allocate(Dest::Customer),
        Event::Assign,
        Event::Unassign { last: true },
        Event::Unassign { last: false },
        Event::MoveToUnit,
        Event::Release,
        Event::Unbind,
        Event::Delete,
        Event::DeleteExternal,
        Event::Reserve,
        Event::Unreserve,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Event::Add(Dest::Pool) => "add",
            Event::Add(Dest::Customer) => "add (customer's own, R-ACC-2)",
            Event::Allocate(Dest::Pool) => "allocate to reseller",
            Event::Allocate(Dest::Customer) => "allocate to customer",
            Event::Assign => "assign",
            Event::Unassign { last: true } => "unassign (last assignee)",
            Event::Unassign { last: false } => "unassign (others remain)",
            Event::MoveToUnit => "move to unit",
            Event::Release => "release",
            Event::Unbind => "unbind",
            Event::Delete => "delete",
            Event::DeleteExternal => "delete (customer's own)",
            Event::Reserve => "reserve",
            Event::Unreserve => "unreserve (released early, or run out)",
        }
    }
}

/// A move the table refuses: from which state, on which event, and the rule that says no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{} a number that is {}: refused by {}", .event.label(), .from.as_str(), .rule.id())]
pub struct TransitionError {
    pub from: NumberState,
    pub event: Event,
    pub rule: Rule,
}

impl TransitionError {
    pub fn violation(&self) -> RuleViolation {
        let why = match (self.event, self.from) {
            (Event::Add(_), _) => "the number already exists on the platform",
            (_, NumberState::Absent) => "the number does not exist",
            (Event::Reserve, NumberState::Reserved) => {
                "the number is reserved already; only a free number can be reserved"
            }
            (Event::Reserve, _) => "only a free number of the pool can be reserved",
            (Event::Unreserve, _) => "the number is not reserved",
            (Event::Delete | Event::DeleteExternal | Event::Release, NumberState::Reserved) => {
                "the number is reserved; release its reservation first"
            }
            (_, NumberState::Reserved) => {
                "the number is reserved; only the account it is held for can take it"
            }
            (Event::Allocate(_), _) => {
                "only a free number can be allocated; it was changed by someone else or is not free"
            }
            (Event::Unassign { .. }, NumberState::Unassigned) => "the number has no assignee",
            (Event::Assign, _) | (Event::Unassign { .. }, _) => {
                "only a number held by a customer or unit can be assigned or unassigned"
            }
            (Event::MoveToUnit, _) => "only a number held by a customer can move to a unit",
            (Event::Release, NumberState::Assigned) => {
                "a number with assignees cannot be released; unassign it first"
            }
            (Event::Release, _) => "only a number held below a pool can be released",
            (Event::Unbind, _) => "only a returned number can be unbound",
            (Event::Delete, NumberState::Unassigned | NumberState::Assigned) => {
                "a number that is with a customer cannot be deleted; release it first"
            }
            (Event::Delete, _) => "only a free or returned number can be deleted",
            (Event::DeleteExternal, NumberState::Assigned) => {
                "an assigned number cannot be deleted; unassign it first"
            }
            (Event::DeleteExternal, _) => {
                "only a customer's own number can be deleted by the customer"
            }
        };
        RuleViolation::new(self.rule, why)
    }
}

/// The transition table. Total: every (state, event) pair is matched, without a wildcard arm,
/// so a new state or event does not compile until its row is written.
pub fn transition(from: NumberState, event: Event) -> Result<NumberState, TransitionError> {
    use Event as E;
    use NumberState as S;
    let refuse = |rule| Err(TransitionError { from, event, rule });
    match (from, event) {
        (S::Absent, E::Add(Dest::Pool)) => Ok(S::Free),
        (S::Absent, E::Add(Dest::Customer)) => Ok(S::Unassigned),
        (S::Free | S::Reserved | S::Returned | S::Unassigned | S::Assigned, E::Add(_)) => {
            refuse(Rule::Num1)
        }

        // A reserved number is allocated too, but only to the account it is held for (R-RES-2,
        // checked with the target by `check_allocate`); the allocation ends the reservation.
        (S::Free | S::Reserved, E::Allocate(Dest::Pool)) => Ok(S::Free),
        (S::Free | S::Reserved, E::Allocate(Dest::Customer)) => Ok(S::Unassigned),
        (S::Returned | S::Unassigned | S::Assigned, E::Allocate(_)) => refuse(Rule::Alloc1),

        (S::Unassigned | S::Assigned, E::Assign) => Ok(S::Assigned),
        (S::Free | S::Reserved | S::Returned, E::Assign) => refuse(Rule::Move2),

        (S::Assigned, E::Unassign { last: true }) => Ok(S::Unassigned),
        (S::Assigned, E::Unassign { last: false }) => Ok(S::Assigned),
        (S::Free | S::Reserved | S::Returned | S::Unassigned, E::Unassign { .. }) => {
            refuse(Rule::Move2)
        }

        (S::Unassigned, E::MoveToUnit) => Ok(S::Unassigned),
        (S::Assigned, E::MoveToUnit) => Ok(S::Assigned),
        (S::Free | S::Reserved | S::Returned, E::MoveToUnit) => refuse(Rule::Move5),

        (S::Free | S::Unassigned, E::Release) => Ok(S::Returned),
        (S::Reserved, E::Release) => refuse(Rule::Res2),
        (S::Returned | S::Assigned, E::Release) => refuse(Rule::Move3),

        (S::Returned, E::Unbind) => Ok(S::Free),
        (S::Free | S::Reserved | S::Unassigned | S::Assigned, E::Unbind) => refuse(Rule::Move4),

        (S::Free | S::Returned, E::Delete) => Ok(S::Absent),
        (S::Reserved, E::Delete) => refuse(Rule::Res2),
        (S::Unassigned | S::Assigned, E::Delete) => refuse(Rule::Del1),

        (S::Unassigned, E::DeleteExternal) => Ok(S::Absent),
        (S::Assigned, E::DeleteExternal) => refuse(Rule::Del1),
        (S::Free | S::Reserved | S::Returned, E::DeleteExternal) => refuse(Rule::Acc2),

        (S::Free, E::Reserve) => Ok(S::Reserved),
        (S::Reserved | S::Returned | S::Unassigned | S::Assigned, E::Reserve) => refuse(Rule::Res1),

        (S::Reserved, E::Unreserve) => Ok(S::Free),
        (S::Free | S::Returned | S::Unassigned | S::Assigned, E::Unreserve) => refuse(Rule::Res1),

        (
            S::Absent,
            E::Allocate(_)
            | E::Assign
            | E::Unassign { .. }
            | E::MoveToUnit
            | E::Release
            | E::Unbind
            | E::Delete
            | E::DeleteExternal
            | E::Reserve
            | E::Unreserve,
        ) => refuse(Rule::Sec1),
    }
}

/// Every (state, event) pair with its outcome: the source of `docs/STATES.md`.
pub fn table() -> Vec<(NumberState, Event, Result<NumberState, TransitionError>)> {
    NumberState::ALL
        .iter()
        .flat_map(|&s| Event::ALL.iter().map(move |&e| (s, e, transition(s, e))))
        .collect()
}

/// Renders the transition table as the Markdown of `docs/STATES.md`.
pub fn render_states_md() -> String {
    let mut out = String::from(
        "# Number states\n\n\
         Generated from `numberpool_domain::lifecycle::transition` by \
         `cargo run -- states` (a test fails when this file and the table differ).\n\n\
         Rows are the state a number is in, columns what happens to it; a cell is the next \
         state, or the rule that refuses the move. `absent` means not on the platform (never \
         added, or deleted: its history is kept).\n\n",
    );
    out.push_str("| state \\ event |");
    for e in Event::ALL {
        out.push_str(&format!(" {} |", e.label()));
    }
    out.push_str("\n|---|");
    for _ in Event::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for s in NumberState::ALL {
        out.push_str(&format!("| **{}** |", s.as_str()));
        for e in Event::ALL {
            match transition(s, e) {
                Ok(n) => out.push_str(&format!(" → {} |", n.as_str())),
                Err(err) => out.push_str(&format!(" ✗ {} |", err.rule.id())),
            }
        }
        out.push('\n');
    }
    out.push_str(
        "\n## Rules that are Numberpool's own\n\n\
         SPEC §3 (and §1, for trunks and carriers) states these preconditions without ids; Numberpool gives them ids so \
         errors can cite them.\n\n\
         | id | rule |\n|---|---|\n\
         | R-TREE-1 | which account kind may be a child of which (SPEC §1 table) |\n\
         | R-MOVE-1 | allocation goes from a pool's free numbers to an active direct child (reseller or customer) or a connected customer |\n\
         | R-MOVE-2 | only a customer (or unit) admin holding a number assigns or unassigns it |\n\
         | R-MOVE-3 | release needs no assignees, nothing allocated below, and a pool above to return to |\n\
         | R-MOVE-4 | only the pool a number was returned to unbinds it, and only while it is returned |\n\
         | R-MOVE-5 | a number moves to a unit only within the customer holding it |\n\
         | R-PROV-1 | SIP trunks and carriers are created, changed and deleted only by the provider that owns them (its resellers read them) |\n\
         | R-PROV-2 | a SIP trunk or carrier that a number uses cannot be deleted |\n\
         | R-PROV-3 | one default carrier per kind: the first of a kind becomes it, making another the default replaces it, and it goes only as the last of its kind |\n\
         | R-ATTR-1 | an attribute key, or one of its allowed values, that numbers still carry is not removed (attribute keys are the provider's, like trunks under R-PROV-1) |\n\
         | R-OFF-1 | an account is deactivated only when no number is held by it or below it (the offboarding check lists what is left); reactivation restores it |\n\
         | R-RES-1 | only a free number of the caller's pool is reserved, and for one account at a time |\n\
         | R-RES-2 | a reserved number is hidden from every search but its account's, goes only to that account, and is neither released nor deleted while held; at its time it is free again |\n\n\
         A move from a state that another request has just changed is refused with `R-ALLOC-1` \
         (`conflict`): the store's compare-and-set on the number's version makes sure only one of \
         several racing moves wins. Moves on a number outside the caller's scope answer `not found` \
         (`R-SEC-1`).\n",
    );
    out
}

/// How the acting account relates to a target account, as the store resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The target's parent is the actor.
    DirectChild,
    /// The target is a root customer connected to the actor through Provider Exchange.
    Connected,
    /// Anything else.
    Other,
}

/// R-MOVE-1, R-ALLOC-1: may `actor` allocate `number` to `target`?
pub fn check_allocate(
    number: &Number,
    actor: &Account,
    target: &Account,
    relation: Relation,
) -> Result<Dest, RuleViolation> {
    ensure(actor.kind.holds_pool(), Rule::Move1, || {
        format!(
            "a {} account has no pool to allocate from",
            actor.kind.as_str()
        )
    })?;
    ensure(number.holder_id == actor.id, Rule::Alloc1, || {
        "the number is not in your pool; it was changed by someone else or is held below".into()
    })?;
    let into = match target.kind {
        AccountKind::Reseller => Dest::Pool,
        AccountKind::Customer => Dest::Customer,
        AccountKind::Provider | AccountKind::Unit => {
            return Err(RuleViolation::new(
                Rule::Move1,
                format!(
                    "numbers are allocated to resellers and customers, not to a {} account",
                    target.kind.as_str()
                ),
            ));
        }
    };
    let reachable = match relation {
        Relation::DirectChild => true,
        Relation::Connected => target.kind == AccountKind::Customer,
        Relation::Other => false,
    };
    ensure(reachable, Rule::Move1, || {
        "the target account is not a direct child or connected customer of the holder".into()
    })?;
    ensure(target.status == AccountStatus::Active, Rule::Move1, || {
        "the target account is deactivated".into()
    })?;
    ensure(!number.in_open_port(), Rule::Port1, || {
        "the number is being ported in; it can be allocated once its porting order completes".into()
    })?;
    ensure(
        number
            .reservation
            .is_none_or(|h| h.for_account == target.id),
        Rule::Res2,
        || "the number is reserved for another account".into(),
    )?;
    transition(NumberState::of(number), Event::Allocate(into)).map_err(|e| e.violation())?;
    Ok(into)
}

/// R-MOVE-2: the actor must be the customer the number is with (its own holding or a unit's).
pub fn check_customer_holds(
    number: &Number,
    actor: &Account,
    holder_path: &[AccountId],
) -> Result<(), RuleViolation> {
    ensure(
        !actor.kind.holds_pool()
            && (number.holder_id == actor.id || holder_path.contains(&actor.id)),
        Rule::Move2,
        || "only the customer or unit holding a number can do that".into(),
    )
}

/// R-MOVE-3: may `actor` release `number`?
pub fn check_release(
    number: &Number,
    actor: &Account,
    holder_path: &[AccountId],
) -> Result<AccountId, RuleViolation> {
    let holds = number.holder_id == actor.id
        || (!actor.kind.holds_pool() && holder_path.contains(&actor.id));
    ensure(
        holds && number.position != Position::Returned,
        Rule::Move3,
        || "only the account holding a number can release it".into(),
    )?;
    let to = number.allocated_from.ok_or_else(|| {
        RuleViolation::new(
            Rule::Move3,
            "the number was added here; there is no pool above to release it to (delete it instead)",
        )
    })?;
    transition(NumberState::of(number), Event::Release).map_err(|e| e.violation())?;
    Ok(to)
}

/// R-MOVE-4: may `actor` unbind `number`?
pub fn check_unbind(number: &Number, actor: &Account) -> Result<(), RuleViolation> {
    transition(NumberState::of(number), Event::Unbind).map_err(|e| e.violation())?;
    ensure(number.holder_id == actor.id, Rule::Move4, || {
        "only the pool the number was returned to can unbind it".into()
    })
}

/// R-DEL-1, R-DEL-2 (and R-ACC-2 for a customer's own numbers): may `actor` delete `number`?
pub fn check_delete(number: &Number, actor: &Account) -> Result<(), RuleViolation> {
    ensure(!number.in_open_port(), Rule::Port1, || {
        "the number is being ported in; cancel its porting order instead".into()
    })?;
    ensure(number.uploaded_by == actor.id, Rule::Del2, || {
        "only the account that uploaded a number can delete it".into()
    })?;
    let event = if actor.kind.holds_pool() {
        Event::Delete
    } else {
        Event::DeleteExternal
    };
    transition(NumberState::of(number), event).map_err(|e| e.violation())?;
    ensure(number.holder_id == actor.id, Rule::Del1, || {
        "the number is not back in your pool; it must be released first".into()
    })
}
