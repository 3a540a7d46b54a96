//! Every move function over a number in every state, against an expected table written out by
//! hand; then what each accepted move changes (and leaves alone).

use std::collections::BTreeMap;

use crate::lifecycle::Relation;
use crate::moves::{self, AddTarget, Allocation, CarrierContext, MoveError, Mover, UnitTarget};
use crate::tests::{account, expected_row, user};
use crate::*;

/// The world of the fixtures: provider → reseller, provider → customer → unit.
struct World {
    provider: Account,
    reseller: Account,
    customer: Account,
    unit: Account,
}

fn world() -> World {
    let provider = account(AccountKind::Provider, None);
    let reseller = account(AccountKind::Reseller, Some(&provider));
    let customer = account(AccountKind::Customer, Some(&provider));
    let unit = account(AccountKind::Unit, Some(&customer));
    World {
        provider,
        reseller,
        customer,
        unit,
    }
}

fn e164() -> E164 {
    E164::parse("+14155550100").unwrap_or_else(|e| panic!("{e}"))
}

/// The fixtures' states: each a number as the store would hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixture {
    /// Free in the provider's pool, which added it.
    Free,
    /// Free in the reseller's pool, allocated from the provider.
    FreeAtReseller,
    /// Returned to the provider's pool.
    Returned,
    /// With the customer, no assignee.
    Unassigned,
    /// With the customer, one assignee (capacity multiple).
    Assigned,
}

const FIXTURES: [Fixture; 5] = [
    Fixture::Free,
    Fixture::FreeAtReseller,
    Fixture::Returned,
    Fixture::Unassigned,
    Fixture::Assigned,
];

fn number(w: &World, f: Fixture) -> Number {
    let to = AddTarget {
        dest: Dest::Pool,
        holder: w.provider.id,
        owner: w.provider.id,
        default_voice: None,
        default_sms: None,
        carrier_names: Default::default(),
        add_event: AuditId::new(),
        now: 0,
    };
    let mut n = moves::add(e164(), NewNumber::default(), &to).unwrap_or_else(|e| panic!("{e:?}"));
    n.sip_trunk_id = Some(TrunkId::new());
    n.billing_reference = Some("bill".into());
    match f {
        Fixture::Free => {}
        Fixture::FreeAtReseller => {
            n.holder_id = w.reseller.id;
            n.allocated_from = Some(w.provider.id);
        }
        Fixture::Returned => n.position = Position::Returned,
        Fixture::Unassigned | Fixture::Assigned => {
            n.holder_id = w.customer.id;
            n.customer_id = Some(w.customer.id);
            n.allocated_from = Some(w.provider.id);
            n.position = Position::Held;
            n.display_name = Some("Front desk".into());
            n.customization.capacity = Capacity::Multiple;
            if f == Fixture::Assigned {
                n.assignees.push(user("u1"));
            }
        }
    }
    n
}

/// What a move produced: the next state, or the refusal's rule (or kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    To(NumberState),
    Unchanged,
    Refused(Rule),
    NotFound,
    Invalid,
}

fn outcome(r: Result<Number, MoveError>) -> Outcome {
    match r {
        Ok(n) => Outcome::To(NumberState::of(&n)),
        Err(MoveError::Rule(v)) => Outcome::Refused(v.rule),
        Err(MoveError::NotFound(_)) => Outcome::NotFound,
        Err(MoveError::Invalid(_)) => Outcome::Invalid,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    AllocateToCustomer,
    AllocateToReseller,
    Assign,
    Unassign,
    ToUnit,
    Release,
    Unbind,
    Delete,
    Edit,
}

const MOVES: [Move; 9] = [
    Move::AllocateToCustomer,
    Move::AllocateToReseller,
    Move::Assign,
    Move::Unassign,
    Move::ToUnit,
    Move::Release,
    Move::Unbind,
    Move::Delete,
    Move::Edit,
];

/// Each move made by the account that would be entitled to it in the usual case: the holder's
/// pool allocates, unbinds and deletes; the customer assigns, moves and releases its numbers;
/// the reseller releases its own.
fn run(w: &World, m: Move, n: &Number) -> Outcome {
    let customer = Mover::new(&w.customer, &[]);
    let trunk = Allocation {
        sip_trunk_id: Some(TrunkId::new()),
        ..Default::default()
    };
    match m {
        Move::AllocateToCustomer => outcome(moves::allocate(
            n,
            &w.provider,
            &w.customer,
            Relation::DirectChild,
            trunk,
        )),
        Move::AllocateToReseller => outcome(moves::allocate(
            n,
            &w.provider,
            &w.reseller,
            Relation::DirectChild,
            Allocation::default(),
        )),
        Move::Assign => outcome(moves::assign(n, customer, user("u2"), None)),
        Move::Unassign => outcome(moves::unassign(n, customer, None)),
        Move::ToUnit => {
            let path = [w.unit.id, w.customer.id];
            let to = UnitTarget {
                account: Some(&w.unit),
                path_to_customer: Some(&path),
                path_inactive: false,
            };
            match moves::move_to_unit(n, customer, to) {
                Ok(None) => Outcome::Unchanged,
                Ok(Some(next)) => outcome(Ok(next)),
                Err(e) => outcome(Err(e)),
            }
        }
        Move::Release => {
            let by = if n.holder_id == w.reseller.id {
                Mover::new(&w.reseller, &[])
            } else if n.holder_id == w.provider.id {
                Mover::new(&w.provider, &[])
            } else {
                customer
            };
            match moves::release_to(n, by) {
                Ok(to) => {
                    assert_eq!(to, w.provider.id, "a release goes back to the provider");
                    outcome(moves::release(n, &w.provider))
                }
                Err(e) => outcome(Err(e)),
            }
        }
        Move::Unbind => outcome(moves::unbind(n, &w.provider)),
        Move::Delete => match moves::delete(n, &w.provider) {
            Ok(()) => Outcome::To(NumberState::Absent),
            Err(e) => outcome(Err(e)),
        },
        Move::Edit => outcome(moves::edit(
            n,
            &NumberPatch {
                billing_reference: Some(Some("new".into())),
                ..Default::default()
            },
            &CarrierContext::default(),
        )),
    }
}

fn expected(m: Move, f: Fixture) -> Outcome {
    use Fixture as F;
    use Move as M;
    use NumberState as S;
    use Outcome::*;
    #[rustfmt::skip]
    let table: &[(Move, Fixture, Outcome)] = &[
        (M::AllocateToCustomer, F::Free, To(S::Unassigned)),
        // The reseller's pool holds it: not the provider's to allocate.
        (M::AllocateToCustomer, F::FreeAtReseller, Refused(Rule::Alloc1)),
        (M::AllocateToCustomer, F::Returned, Refused(Rule::Alloc1)),
        (M::AllocateToCustomer, F::Unassigned, Refused(Rule::Alloc1)),
        (M::AllocateToCustomer, F::Assigned, Refused(Rule::Alloc1)),

        (M::AllocateToReseller, F::Free, To(S::Free)),
        (M::AllocateToReseller, F::FreeAtReseller, Refused(Rule::Alloc1)),
        (M::AllocateToReseller, F::Returned, Refused(Rule::Alloc1)),
        (M::AllocateToReseller, F::Unassigned, Refused(Rule::Alloc1)),
        (M::AllocateToReseller, F::Assigned, Refused(Rule::Alloc1)),

        // Only the customer holding a number assigns it (R-MOVE-2).
        (M::Assign, F::Free, Refused(Rule::Move2)),
        (M::Assign, F::FreeAtReseller, Refused(Rule::Move2)),
        (M::Assign, F::Returned, Refused(Rule::Move2)),
        (M::Assign, F::Unassigned, To(S::Assigned)),
        (M::Assign, F::Assigned, To(S::Assigned)),

        (M::Unassign, F::Free, Refused(Rule::Move2)),
        (M::Unassign, F::FreeAtReseller, Refused(Rule::Move2)),
        (M::Unassign, F::Returned, Refused(Rule::Move2)),
        (M::Unassign, F::Unassigned, Refused(Rule::Move2)),
        (M::Unassign, F::Assigned, To(S::Unassigned)),

        (M::ToUnit, F::Free, Refused(Rule::Move2)),
        (M::ToUnit, F::FreeAtReseller, Refused(Rule::Move2)),
        (M::ToUnit, F::Returned, Refused(Rule::Move2)),
        (M::ToUnit, F::Unassigned, To(S::Unassigned)),
        (M::ToUnit, F::Assigned, To(S::Assigned)),

        // The provider added it: there is no pool above to release it to.
        (M::Release, F::Free, Refused(Rule::Move3)),
        (M::Release, F::FreeAtReseller, To(S::Returned)),
        (M::Release, F::Returned, Refused(Rule::Move3)),
        (M::Release, F::Unassigned, To(S::Returned)),
        (M::Release, F::Assigned, Refused(Rule::Move3)),

        (M::Unbind, F::Free, Refused(Rule::Move4)),
        (M::Unbind, F::FreeAtReseller, Refused(Rule::Move4)),
        (M::Unbind, F::Returned, To(S::Free)),
        (M::Unbind, F::Unassigned, Refused(Rule::Move4)),
        (M::Unbind, F::Assigned, Refused(Rule::Move4)),

        (M::Delete, F::Free, To(S::Absent)),
        // Not back in the provider's pool (R-DEL-1).
        (M::Delete, F::FreeAtReseller, Refused(Rule::Del1)),
        (M::Delete, F::Returned, To(S::Absent)),
        (M::Delete, F::Unassigned, Refused(Rule::Del1)),
        (M::Delete, F::Assigned, Refused(Rule::Del1)),

        // An edit never moves a number.
        (M::Edit, F::Free, To(S::Free)),
        (M::Edit, F::FreeAtReseller, To(S::Free)),
        (M::Edit, F::Returned, To(S::Returned)),
        (M::Edit, F::Unassigned, To(S::Unassigned)),
        (M::Edit, F::Assigned, To(S::Assigned)),
    ];
    expected_row(table, m, f)
}

#[test]
fn every_move_over_every_state_matches_the_expected_table() {
    let w = world();
    let mut cases = 0;
    for m in MOVES {
        for f in FIXTURES {
            let n = number(&w, f);
            assert_eq!(run(&w, m, &n), expected(m, f), "{m:?} on {f:?}");
            cases += 1;
        }
    }
    assert_eq!(cases, MOVES.len() * FIXTURES.len());
}

#[test]
fn every_refused_move_agrees_with_the_transition_table_where_only_the_state_decides() {
    // Where the actor is entitled, a refusal is the lifecycle table's own rule.
    let w = world();
    for f in FIXTURES {
        let n = number(&w, f);
        let state = NumberState::of(&n);
        for (m, event) in [(Move::Unbind, Event::Unbind), (Move::Delete, Event::Delete)] {
            if let Err(e) = transition(state, event) {
                assert_eq!(run(&w, m, &n), Outcome::Refused(e.rule), "{m:?} on {f:?}");
            }
        }
    }
}

#[test]
fn add_builds_the_number_for_its_target() {
    let w = world();
    let voice = CarrierId::new();
    let to = AddTarget {
        dest: Dest::Pool,
        holder: w.reseller.id,
        owner: w.provider.id,
        default_voice: Some((voice, "Carrier One".into())),
        default_sms: Some(CarrierId::new()),
        carrier_names: Default::default(),
        add_event: AuditId::new(),
        now: 42,
    };
    let n = moves::add(e164(), NewNumber::default(), &to).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(NumberState::of(&n), NumberState::Free);
    assert_eq!(
        (n.holder_id, n.uploaded_by, n.owner_id),
        (w.reseller.id, w.reseller.id, w.provider.id)
    );
    assert_eq!(
        n.voice_carrier_id,
        Some(voice),
        "voice is on by default and gets the default"
    );
    assert_eq!(n.sms_carrier_id, None, "sms is off by default: no carrier");
    assert_eq!(n.source, "BYOC - Cloud Carrier One");
    assert_eq!((n.created_at, n.add_event_id), (42, Some(to.add_event)));

    // A customer's own number (R-ACC-2): held, no provider, no carrier.
    let own = AddTarget {
        dest: Dest::Customer,
        holder: w.customer.id,
        owner: w.customer.id,
        default_voice: None,
        default_sms: None,
        ..to.clone()
    };
    let n = moves::add(e164(), NewNumber::default(), &own).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(NumberState::of(&n), NumberState::Unassigned);
    assert_eq!(
        (n.customer_id, n.source.as_str()),
        (Some(w.customer.id), "external")
    );

    // Field rules refuse with the number named.
    let bad = NewNumber {
        product: Some(Product::ContactCenter),
        customization: Some(Customization {
            capacity: Capacity::SingleContactCenter,
            ..Default::default()
        }),
        ..Default::default()
    };
    match moves::add(e164(), bad, &to) {
        Err(MoveError::Rule(v)) => {
            assert_eq!(v.rule, Rule::Cust1);
            assert!(v.message.starts_with("+14155550100: "), "{}", v.message);
        }
        other => panic!("expected R-CUST-1, got {other:?}"),
    }
    let carrier_without_capability = NewNumber {
        capabilities: Some(Capabilities::default()),
        voice_carrier_id: Some(voice),
        ..Default::default()
    };
    assert!(matches!(
        moves::add(e164(), carrier_without_capability, &to),
        Err(MoveError::Invalid(m)) if m.contains("voice_carrier_id")
    ));
}

#[test]
fn what_each_move_changes() {
    let w = world();
    // Allocate to a customer: held there, from the provider, with the trunk it was given.
    let trunk = TrunkId::new();
    let free = number(&w, Fixture::Free);
    let n = moves::allocate(
        &free,
        &w.provider,
        &w.customer,
        Relation::DirectChild,
        Allocation {
            sip_trunk_id: Some(trunk),
            billing_reference: Some("B-1".into()),
            service_info: None,
        },
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(n.holder_id, w.customer.id);
    assert_eq!(n.customer_id, Some(w.customer.id));
    assert_eq!(n.allocated_from, Some(w.provider.id));
    assert_eq!(n.sip_trunk_id, Some(trunk));
    assert_eq!(n.billing_reference.as_deref(), Some("B-1"));
    // A customer needs a trunk.
    let mut no_trunk = free.clone();
    no_trunk.sip_trunk_id = None;
    assert!(matches!(
        moves::allocate(&no_trunk, &w.provider, &w.customer, Relation::DirectChild, Allocation::default()),
        Err(MoveError::Invalid(m)) if m.contains("sip_trunk_id")
    ));
    // Nor to an account that is neither a direct child nor connected.
    assert_eq!(
        outcome(moves::allocate(
            &free,
            &w.provider,
            &w.customer,
            Relation::Other,
            Allocation::default()
        )),
        Outcome::Refused(Rule::Move1)
    );

    // Release clears what the customer set for its own use (R-SEC-1) and keeps the pool's.
    let held = number(&w, Fixture::Unassigned);
    let back = moves::release(&held, &w.provider).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(back.display_name, None);
    assert_eq!(back.customization, Customization::default());
    assert_eq!(back.customer_id, None);
    assert_eq!(back.billing_reference.as_deref(), Some("bill"));
    assert_eq!(
        back.allocated_from, None,
        "the provider added it: nothing above"
    );
    // …to an active pool only (R-OFF-1).
    let mut closed = w.provider.clone();
    closed.status = AccountStatus::Deactivated;
    assert_eq!(
        outcome(moves::release(&held, &closed)),
        Outcome::Refused(Rule::Off1)
    );

    // Unbind clears the last allocation's trunk and billing.
    let free_again = moves::unbind(&back, &w.provider).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (free_again.sip_trunk_id, free_again.billing_reference),
        (None, None)
    );

    // Assign: capacity (R-ASG-1), no duplicate, and not after a disconnect request (R-ACC-1).
    let customer = Mover::new(&w.customer, &[]);
    let mut single = held.clone();
    single.customization.capacity = Capacity::SingleUser;
    let one = moves::assign(&single, customer, user("a"), None).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        outcome(moves::assign(&one, customer, user("b"), None)),
        Outcome::Refused(Rule::Asg1)
    );
    assert_eq!(
        outcome(moves::assign(
            &held,
            customer,
            user("a"),
            Some(ExchangeStatus::DisconnectRequested)
        )),
        Outcome::Refused(Rule::Acc1)
    );
    let assigned = number(&w, Fixture::Assigned);
    assert_eq!(
        outcome(moves::assign(&assigned, customer, user("u1"), None)),
        Outcome::Invalid
    );
    // Unassign names the assignee when there are several; an unknown one is not found.
    let two =
        moves::assign(&assigned, customer, user("u2"), None).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        outcome(moves::unassign(&two, customer, None)),
        Outcome::Invalid
    );
    assert_eq!(
        outcome(moves::unassign(&two, customer, Some("nobody"))),
        Outcome::NotFound
    );
    let left = moves::unassign(&two, customer, Some("u1")).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(left.assignees, vec![user("u2")]);

    // Move to unit: in, no-op when there, refused outside the customer or into a closed unit.
    let path = [w.unit.id, w.customer.id];
    let into = |account, path_to_customer, path_inactive| UnitTarget {
        account,
        path_to_customer,
        path_inactive,
    };
    let moved = moves::move_to_unit(&held, customer, into(Some(&w.unit), Some(&path), false))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or_else(|| panic!("a move into the unit changes the holder"));
    assert_eq!(
        (moved.holder_id, moved.customer_id),
        (w.unit.id, Some(w.customer.id))
    );
    let unit_admin = Mover::new(&w.unit, &[]);
    assert!(matches!(
        moves::move_to_unit(&moved, unit_admin, into(Some(&w.unit), Some(&path), false)),
        Ok(None)
    ));
    assert!(
        matches!(moves::move_to_unit(&held, customer, into(Some(&w.unit), None, false)), Err(MoveError::Rule(v)) if v.rule == Rule::Move5)
    );
    assert!(
        matches!(moves::move_to_unit(&held, customer, into(Some(&w.unit), Some(&path), true)), Err(MoveError::Rule(v)) if v.rule == Rule::Move5)
    );
    assert!(matches!(
        moves::move_to_unit(&held, customer, into(None, None, false)),
        Err(MoveError::NotFound("account"))
    ));
}

#[test]
fn edit_settles_carriers_with_the_capabilities() {
    let w = world();
    let mut n = number(&w, Fixture::Free);
    n.capabilities = Capabilities::default();
    let default_voice = CarrierId::new();
    let ctx = CarrierContext {
        default_voice: Some(default_voice),
        default_sms: None,
        names: BTreeMap::from([(default_voice, "Carrier One".to_string())]),
    };
    // Turning voice on gives it the default, and the source names it.
    let on = NumberPatch {
        capabilities: Some(Capabilities {
            voice: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let next = moves::edit(&n, &on, &ctx).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(next.voice_carrier_id, Some(default_voice));
    assert_eq!(next.source, "BYOC - Cloud Carrier One");
    // Naming a carrier for a capability that is off is refused.
    let named_off = NumberPatch {
        sms_carrier_id: Some(Some(CarrierId::new())),
        ..Default::default()
    };
    assert!(
        matches!(moves::edit(&n, &named_off, &ctx), Err(MoveError::Invalid(m)) if m.contains("sms_carrier_id"))
    );
    // With an assignee, a change of carriers is R-CAP-1.
    let mut assigned = number(&w, Fixture::Assigned);
    assigned.capabilities = Capabilities::default();
    assert_eq!(
        outcome(moves::edit(&assigned, &on, &ctx)),
        Outcome::Refused(Rule::Cap1)
    );
}
