//! Table-driven tests for every (state, event) pair and one test per rule. The expected table
//! below is written out by hand, independently of `transition`, so that a change to either
//! shows up here.

use std::collections::BTreeMap;

use crate::lifecycle::*;
use crate::*;

use NumberState as S;

fn expected(s: NumberState, e: Event) -> Result<NumberState, Rule> {
    use Event as E;
    const P: Dest = Dest::Pool;
    const C: Dest = Dest::Customer;
    #[rustfmt::skip]
    let table: &[(NumberState, Event, Result<NumberState, Rule>)] = &[
        (S::Absent, E::Add(P), Ok(S::Free)),
        (S::Absent, E::Add(C), Ok(S::Unassigned)),
        (S::Absent, E::Allocate(P), Err(Rule::Sec1)),
        (S::Absent, E::Allocate(C), Err(Rule::Sec1)),
        (S::Absent, E::Assign, Err(Rule::Sec1)),
        (S::Absent, E::Unassign { last: true }, Err(Rule::Sec1)),
        (S::Absent, E::Unassign { last: false }, Err(Rule::Sec1)),
        (S::Absent, E::MoveToUnit, Err(Rule::Sec1)),
        (S::Absent, E::Release, Err(Rule::Sec1)),
        (S::Absent, E::Unbind, Err(Rule::Sec1)),
        (S::Absent, E::Delete, Err(Rule::Sec1)),
        (S::Absent, E::DeleteExternal, Err(Rule::Sec1)),
        (S::Absent, E::Reserve, Err(Rule::Sec1)),
        (S::Absent, E::Unreserve, Err(Rule::Sec1)),

        (S::Free, E::Add(P), Err(Rule::Num1)),
        (S::Free, E::Add(C), Err(Rule::Num1)),
        (S::Free, E::Allocate(P), Ok(S::Free)),
        (S::Free, E::Allocate(C), Ok(S::Unassigned)),
        (S::Free, E::Assign, Err(Rule::Move2)),
        (S::Free, E::Unassign { last: true }, Err(Rule::Move2)),
        (S::Free, E::Unassign { last: false }, Err(Rule::Move2)),
        (S::Free, E::MoveToUnit, Err(Rule::Move5)),
        (S::Free, E::Release, Ok(S::Returned)),
        (S::Free, E::Unbind, Err(Rule::Move4)),
        (S::Free, E::Delete, Ok(S::Absent)),
        (S::Free, E::DeleteExternal, Err(Rule::Acc2)),
        (S::Free, E::Reserve, Ok(S::Reserved)),
        (S::Free, E::Unreserve, Err(Rule::Res1)),

        (S::Reserved, E::Add(P), Err(Rule::Num1)),
        (S::Reserved, E::Add(C), Err(Rule::Num1)),
        (S::Reserved, E::Allocate(P), Ok(S::Free)),
        (S::Reserved, E::Allocate(C), Ok(S::Unassigned)),
        (S::Reserved, E::Assign, Err(Rule::Move2)),
        (S::Reserved, E::Unassign { last: true }, Err(Rule::Move2)),
        (S::Reserved, E::Unassign { last: false }, Err(Rule::Move2)),
        (S::Reserved, E::MoveToUnit, Err(Rule::Move5)),
        (S::Reserved, E::Release, Err(Rule::Res2)),
        (S::Reserved, E::Unbind, Err(Rule::Move4)),
        (S::Reserved, E::Delete, Err(Rule::Res2)),
        (S::Reserved, E::DeleteExternal, Err(Rule::Acc2)),
        (S::Reserved, E::Reserve, Err(Rule::Res1)),
        (S::Reserved, E::Unreserve, Ok(S::Free)),

        (S::Returned, E::Add(P), Err(Rule::Num1)),
        (S::Returned, E::Add(C), Err(Rule::Num1)),
        (S::Returned, E::Allocate(P), Err(Rule::Alloc1)),
        (S::Returned, E::Allocate(C), Err(Rule::Alloc1)),
        (S::Returned, E::Assign, Err(Rule::Move2)),
        (S::Returned, E::Unassign { last: true }, Err(Rule::Move2)),
        (S::Returned, E::Unassign { last: false }, Err(Rule::Move2)),
        (S::Returned, E::MoveToUnit, Err(Rule::Move5)),
        (S::Returned, E::Release, Err(Rule::Move3)),
        (S::Returned, E::Unbind, Ok(S::Free)),
        (S::Returned, E::Delete, Ok(S::Absent)),
        (S::Returned, E::DeleteExternal, Err(Rule::Acc2)),
        (S::Returned, E::Reserve, Err(Rule::Res1)),
        (S::Returned, E::Unreserve, Err(Rule::Res1)),

        (S::Unassigned, E::Add(P), Err(Rule::Num1)),
        (S::Unassigned, E::Add(C), Err(Rule::Num1)),
        (S::Unassigned, E::Allocate(P), Err(Rule::Alloc1)),
        (S::Unassigned, E::Allocate(C), Err(Rule::Alloc1)),
        (S::Unassigned, E::Assign, Ok(S::Assigned)),
        (S::Unassigned, E::Unassign { last: true }, Err(Rule::Move2)),
        (S::Unassigned, E::Unassign { last: false }, Err(Rule::Move2)),
        (S::Unassigned, E::MoveToUnit, Ok(S::Unassigned)),
        (S::Unassigned, E::Release, Ok(S::Returned)),
        (S::Unassigned, E::Unbind, Err(Rule::Move4)),
        (S::Unassigned, E::Delete, Err(Rule::Del1)),
        (S::Unassigned, E::DeleteExternal, Ok(S::Absent)),
        (S::Unassigned, E::Reserve, Err(Rule::Res1)),
        (S::Unassigned, E::Unreserve, Err(Rule::Res1)),

        (S::Assigned, E::Add(P), Err(Rule::Num1)),
        (S::Assigned, E::Add(C), Err(Rule::Num1)),
        (S::Assigned, E::Allocate(P), Err(Rule::Alloc1)),
        (S::Assigned, E::Allocate(C), Err(Rule::Alloc1)),
        (S::Assigned, E::Assign, Ok(S::Assigned)),
        (S::Assigned, E::Unassign { last: true }, Ok(S::Unassigned)),
        (S::Assigned, E::Unassign { last: false }, Ok(S::Assigned)),
        (S::Assigned, E::MoveToUnit, Ok(S::Assigned)),
        (S::Assigned, E::Release, Err(Rule::Move3)),
        (S::Assigned, E::Unbind, Err(Rule::Move4)),
        (S::Assigned, E::Delete, Err(Rule::Del1)),
        (S::Assigned, E::DeleteExternal, Err(Rule::Del1)),
        (S::Assigned, E::Reserve, Err(Rule::Res1)),
        (S::Assigned, E::Unreserve, Err(Rule::Res1)),
    ];
    expected_row(table, s, e)
}

/// The outcome `table` expects for `(a, b)`; a hand-written table has exactly one row for each.
pub(crate) fn expected_row<A, B, O>(table: &[(A, B, O)], a: A, b: B) -> O
where
    A: PartialEq + std::fmt::Debug,
    B: PartialEq + std::fmt::Debug,
    O: Copy,
{
    let hits: Vec<_> = table
        .iter()
        .filter(|(ta, tb, _)| *ta == a && *tb == b)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected table must have exactly one row for {a:?} {b:?}"
    );
    hits[0].2
}

#[test]
fn every_state_event_pair_matches_the_expected_table() {
    let mut pairs = 0;
    for s in NumberState::ALL {
        for e in Event::ALL {
            let got = transition(s, e).map_err(|err| {
                assert_eq!(err.from, s);
                assert_eq!(err.event, e);
                err.rule
            });
            assert_eq!(got, expected(s, e), "{s:?} on {e:?}");
            pairs += 1;
        }
    }
    assert_eq!(pairs, NumberState::ALL.len() * Event::ALL.len());
}

#[test]
fn states_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/STATES.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == render_states_md(),
        "docs/STATES.md differs from the transition table; run `cargo run -- states > docs/STATES.md`"
    );
}

/// An active account of `kind` under `parent`.
pub(crate) fn account(kind: AccountKind, parent: Option<&Account>) -> Account {
    Account {
        id: AccountId::new(),
        name: format!("{} co", kind.as_str()),
        account_number: "1".into(),
        kind,
        status: AccountStatus::Active,
        parent_id: parent.map(|p| p.id),
        allow_external_numbers: false,
        version: 1,
        entitlements: Default::default(),
        created_at: 0,
    }
}

/// A root account of `kind`.
fn acct(kind: AccountKind) -> Account {
    account(kind, None)
}

/// A user assignee.
pub(crate) fn user(id: &str) -> Assignee {
    Assignee {
        kind: AssigneeType::User,
        id: id.into(),
        display_name: None,
    }
}

pub(crate) fn number_held_by(holder: &Account, uploader: &Account) -> Number {
    let e = E164::parse("+14155550100").unwrap_or_else(|e| panic!("{e}"));
    Number {
        id: NumberId::new(),
        number_type: e.number_type(),
        fine_type: e.fine_type(),
        phone_number: e,
        region_state: None,
        city: None,
        product: Product::Phone,
        status: NumberStatus::Normal,
        position: if holder.kind.holds_pool() {
            Position::Free
        } else {
            Position::Held
        },
        holder_id: holder.id,
        customer_id: None,
        allocated_from: None,
        owner_id: uploader.id,
        uploaded_by: uploader.id,
        assignees: vec![],
        sip_trunk_id: None,
        billing_reference: None,
        service_info: None,
        capabilities: Capabilities::default(),
        voice_carrier_id: None,
        sms_carrier_id: None,
        customization: Customization::default(),
        call_purpose: None,
        display_name: None,
        program_duration: None,
        attributes: BTreeMap::new(),
        source: "BYOC - Cloud".into(),
        block_id: None,
        port_order_id: None,
        reservation: None,
        add_event_id: None,
        created_at: 0,
        updated_at: 0,
        version: 1,
    }
}

fn rule_of<T: std::fmt::Debug>(r: Result<T, RuleViolation>) -> Rule {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(v) => v.rule,
    }
}

#[test]
fn r_num_3_type_is_derived_unless_given() {
    let tf = E164::parse("+18005550100").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(number::initial_type(&tf, None), NumberType::TollFree);
    assert_eq!(
        number::initial_type(&tf, Some(NumberType::National)),
        NumberType::National
    );
}

#[test]
fn r_prod_1_product_changes_once_from_unallocated() {
    assert!(check_product_change(Product::Unallocated, Product::Phone).is_ok());
    assert!(check_product_change(Product::Unallocated, Product::ContactCenter).is_ok());
    assert!(check_product_change(Product::Phone, Product::Phone).is_ok());
    assert_eq!(
        rule_of(check_product_change(Product::Phone, Product::ContactCenter)),
        Rule::Prod1
    );
    assert_eq!(
        rule_of(check_product_change(
            Product::ContactCenter,
            Product::Unallocated
        )),
        Rule::Prod1
    );
}

#[test]
fn r_stat_1_pending_to_normal_only() {
    assert!(check_status_change(NumberStatus::Pending, NumberStatus::Normal).is_ok());
    assert_eq!(
        rule_of(check_status_change(
            NumberStatus::Normal,
            NumberStatus::Pending
        )),
        Rule::Stat1
    );
}

#[test]
fn r_edit_1_type_changes_only_while_pending() {
    let p = acct(AccountKind::Provider);
    let mut n = number_held_by(&p, &p);
    let patch = NumberPatch {
        number_type: Some(NumberType::Mobile),
        ..Default::default()
    };
    assert_eq!(rule_of(apply_patch(&n, &patch)), Rule::Edit1);
    n.status = NumberStatus::Pending;
    let next = apply_patch(&n, &patch).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(next.number_type, NumberType::Mobile);
    // A normal number may change its billing reference.
    n.status = NumberStatus::Normal;
    let patch = NumberPatch {
        billing_reference: Some(Some("B-1".into())),
        ..Default::default()
    };
    assert_eq!(
        apply_patch(&n, &patch).map(|x| x.billing_reference),
        Ok(Some("B-1".into()))
    );
    // ... but not go back to pending (R-STAT-1 through the patch path).
    let patch = NumberPatch {
        status: Some(NumberStatus::Pending),
        ..Default::default()
    };
    assert_eq!(rule_of(apply_patch(&n, &patch)), Rule::Stat1);
}

#[test]
fn r_cust_rules() {
    let c = Customization {
        capacity: Capacity::SingleContactCenter,
        ..Default::default()
    };
    assert_eq!(
        rule_of(check_customization(Product::ContactCenter, &c)),
        Rule::Cust1
    );
    assert!(check_customization(Product::Phone, &c).is_ok());

    let c = Customization {
        voice_direction: VoiceDirection::InboundOnly,
        outbound_dialer: true,
        ..Default::default()
    };
    assert_eq!(
        rule_of(check_customization(Product::Phone, &c)),
        Rule::Cust2
    );
    let c = Customization {
        voice_direction: VoiceDirection::OutboundOnly,
        outbound_dialer: true,
        ..Default::default()
    };
    assert!(check_customization(Product::Phone, &c).is_ok());

    let c = Customization {
        capacity: Capacity::SingleUser,
        outbound_cli_shared: true,
        ..Default::default()
    };
    assert_eq!(
        rule_of(check_customization(Product::Phone, &c)),
        Rule::Cust3
    );
    let c = Customization {
        capacity: Capacity::Multiple,
        voice_direction: VoiceDirection::InboundOnly,
        outbound_cli_shared: true,
        ..Default::default()
    };
    assert_eq!(
        rule_of(check_customization(Product::Phone, &c)),
        Rule::Cust3
    );
    let c = Customization {
        capacity: Capacity::Multiple,
        outbound_cli_shared: true,
        ..Default::default()
    };
    assert!(check_customization(Product::Phone, &c).is_ok());
}

#[test]
fn r_cap_1_carriers_change_only_unassigned() {
    let p = acct(AccountKind::Provider);
    let c = acct(AccountKind::Customer);
    let mut n = number_held_by(&c, &p);
    let patch = NumberPatch {
        voice_carrier_id: Some(Some(CarrierId::new())),
        ..Default::default()
    };
    assert!(apply_patch(&n, &patch).is_ok());
    n.assignees.push(user("u1"));
    assert_eq!(rule_of(apply_patch(&n, &patch)), Rule::Cap1);
    // Setting the carrier it already has is not a change.
    let same = NumberPatch {
        voice_carrier_id: Some(n.voice_carrier_id),
        ..Default::default()
    };
    assert!(apply_patch(&n, &same).is_ok());
}

#[test]
fn r_asg_1_capacity_bounds_assignees() {
    assert!(check_assignee_capacity(Capacity::SingleUser, 0).is_ok());
    assert_eq!(
        rule_of(check_assignee_capacity(Capacity::SingleUser, 1)),
        Rule::Asg1
    );
    assert_eq!(
        rule_of(check_assignee_capacity(Capacity::SingleContactCenter, 1)),
        Rule::Asg1
    );
    assert!(check_assignee_capacity(Capacity::Multiple, 7).is_ok());
    // Lowering capacity under several assignees is refused too.
    let p = acct(AccountKind::Provider);
    let c = acct(AccountKind::Customer);
    let mut n = number_held_by(&c, &p);
    n.customization.capacity = Capacity::Multiple;
    for i in 0..2 {
        n.assignees.push(user(&format!("u{i}")));
    }
    let patch = NumberPatch {
        customization: Some(Customization::default()),
        ..Default::default()
    };
    assert_eq!(rule_of(apply_patch(&n, &patch)), Rule::Asg1);
}

#[test]
fn r_del_1_and_2() {
    let provider = acct(AccountKind::Provider);
    let reseller = acct(AccountKind::Reseller);
    let customer = acct(AccountKind::Customer);
    // The uploader deletes its free number.
    let n = number_held_by(&provider, &provider);
    assert!(lifecycle::check_delete(&n, &provider).is_ok());
    // R-DEL-2: not the master reseller deleting the reseller's upload, nor the other way.
    let n = number_held_by(&reseller, &reseller);
    assert_eq!(rule_of(lifecycle::check_delete(&n, &provider)), Rule::Del2);
    let n = number_held_by(&provider, &provider);
    assert_eq!(rule_of(lifecycle::check_delete(&n, &reseller)), Rule::Del2);
    // R-DEL-1: with a customer, it must be released first.
    let mut n = number_held_by(&customer, &provider);
    n.allocated_from = Some(provider.id);
    assert_eq!(rule_of(lifecycle::check_delete(&n, &provider)), Rule::Del1);
    // Allocated down to a reseller's pool: still not back in the uploader's pool.
    let mut n = number_held_by(&reseller, &provider);
    n.allocated_from = Some(provider.id);
    assert_eq!(rule_of(lifecycle::check_delete(&n, &provider)), Rule::Del1);
    // Returned to the uploader: deletable.
    let mut n = number_held_by(&provider, &provider);
    n.position = Position::Returned;
    assert!(lifecycle::check_delete(&n, &provider).is_ok());
}

#[test]
fn r_acc_2_customer_deletes_own_unassigned_number() {
    let customer = acct(AccountKind::Customer);
    let mut n = number_held_by(&customer, &customer);
    assert!(lifecycle::check_delete(&n, &customer).is_ok());
    n.assignees.push(user("u"));
    assert_eq!(rule_of(lifecycle::check_delete(&n, &customer)), Rule::Del1);
}

#[test]
fn allocate_checks() {
    let provider = acct(AccountKind::Provider);
    let mut customer = acct(AccountKind::Customer);
    let unit = acct(AccountKind::Unit);
    let n = number_held_by(&provider, &provider);
    assert_eq!(
        lifecycle::check_allocate(&n, &provider, &customer, Relation::DirectChild),
        Ok(Dest::Customer)
    );
    assert_eq!(
        lifecycle::check_allocate(&n, &provider, &customer, Relation::Connected),
        Ok(Dest::Customer)
    );
    assert_eq!(
        rule_of(lifecycle::check_allocate(
            &n,
            &provider,
            &customer,
            Relation::Other
        )),
        Rule::Move1
    );
    assert_eq!(
        rule_of(lifecycle::check_allocate(
            &n,
            &provider,
            &unit,
            Relation::DirectChild
        )),
        Rule::Move1
    );
    customer.status = AccountStatus::Deactivated;
    assert_eq!(
        rule_of(lifecycle::check_allocate(
            &n,
            &provider,
            &customer,
            Relation::DirectChild
        )),
        Rule::Move1
    );
    customer.status = AccountStatus::Active;
    // R-ALLOC-1: a number already with someone else cannot be allocated again.
    let held = number_held_by(&customer, &provider);
    assert_eq!(
        rule_of(lifecycle::check_allocate(
            &held,
            &provider,
            &customer,
            Relation::DirectChild
        )),
        Rule::Alloc1
    );
    let mut returned = number_held_by(&provider, &provider);
    returned.position = Position::Returned;
    assert_eq!(
        rule_of(lifecycle::check_allocate(
            &returned,
            &provider,
            &customer,
            Relation::DirectChild
        )),
        Rule::Alloc1
    );
}

#[test]
fn release_and_unbind_checks() {
    let provider = acct(AccountKind::Provider);
    let customer = acct(AccountKind::Customer);
    let mut n = number_held_by(&customer, &provider);
    n.allocated_from = Some(provider.id);
    assert_eq!(
        lifecycle::check_release(&n, &customer, &[]),
        Ok(provider.id)
    );
    assert_eq!(
        rule_of(lifecycle::check_release(&n, &provider, &[])),
        Rule::Move3
    );
    n.assignees.push(user("u"));
    assert_eq!(
        rule_of(lifecycle::check_release(&n, &customer, &[])),
        Rule::Move3
    );
    // Nothing above to release to.
    let own = number_held_by(&provider, &provider);
    assert_eq!(
        rule_of(lifecycle::check_release(&own, &provider, &[])),
        Rule::Move3
    );
    // Unbind only when returned, only by the pool holding it.
    let mut r = number_held_by(&provider, &provider);
    assert_eq!(rule_of(lifecycle::check_unbind(&r, &provider)), Rule::Move4);
    r.position = Position::Returned;
    assert!(lifecycle::check_unbind(&r, &provider).is_ok());
    assert_eq!(rule_of(lifecycle::check_unbind(&r, &customer)), Rule::Move4);
}

#[test]
fn rule_ids_are_unique_and_round_trip() {
    for r in Rule::ALL {
        assert_eq!(Rule::from_id(r.id()), Some(r));
    }
    let mut ids: Vec<_> = Rule::ALL.iter().map(|r| r.id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), Rule::ALL.len());
}

#[test]
fn view_position_follows_the_viewer() {
    let provider = acct(AccountKind::Provider);
    let customer = acct(AccountKind::Customer);
    let unit = acct(AccountKind::Unit);
    let mut n = number_held_by(&provider, &provider);
    assert_eq!(ViewPosition::of(&n, provider.id), ViewPosition::Free);
    assert_eq!(ViewPosition::of(&n, customer.id), ViewPosition::InUse);
    n.position = Position::Returned;
    assert_eq!(ViewPosition::of(&n, provider.id), ViewPosition::Returned);
    // With a customer's unit: the unit (holder) and the customer see it alike; the pool that
    // allocated it sees it in use.
    n.position = Position::Held;
    n.holder_id = unit.id;
    n.customer_id = Some(customer.id);
    for viewer in [unit.id, customer.id] {
        assert_eq!(ViewPosition::of(&n, viewer), ViewPosition::Unassigned);
    }
    assert_eq!(ViewPosition::of(&n, provider.id), ViewPosition::InUse);
    n.assignees.push(user("u"));
    assert_eq!(ViewPosition::of(&n, customer.id), ViewPosition::Assigned);
    // Every word parses back, case-insensitively; anything else names the allowed words.
    for v in ViewPosition::ALL {
        assert_eq!(v.as_str().to_uppercase().parse::<ViewPosition>(), Ok(v));
        assert_eq!(
            serde_json::to_value(v).ok(),
            Some(serde_json::Value::String(v.as_str().into()))
        );
    }
    let e = "held"
        .parse::<ViewPosition>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with("position: 'held' is not one of free returned in_use assigned unassigned"),
        "{e}"
    );
}

#[test]
fn capabilities_are_a_list_of_names_in_json() {
    let all = Capabilities {
        voice: true,
        sms: true,
        mms: true,
        fax: true,
    };
    let some = Capabilities {
        voice: true,
        fax: true,
        ..Capabilities::default()
    };
    let json = |c: Capabilities| serde_json::to_string(&c).expect("serialises");
    assert_eq!(json(all), r#"["voice","sms","mms","fax"]"#);
    assert_eq!(json(some), r#"["voice","fax"]"#);
    assert_eq!(json(Capabilities::default()), "[]");
    let read = |s: &str| serde_json::from_str::<Capabilities>(s).map_err(|e| e.to_string());
    // Any order in; the set is what counts.
    assert_eq!(read(r#"["fax","voice"]"#), Ok(some));
    assert_eq!(read(r#"["mms","fax","sms","voice"]"#), Ok(all));
    assert_eq!(read("[]"), Ok(Capabilities::default()));
    let refused = |s: &str, says: &str| {
        let e = read(s).expect_err(s);
        assert!(e.contains(says), "{s}: {e}");
    };
    refused(r#"["voice","telex"]"#, "unknown capability `telex`");
    refused(r#"["sms","sms"]"#, "`sms` is listed twice");
    refused(
        r#"["voice","sms","mms","fax","voice"]"#,
        "each listed once at most",
    );
    refused(
        r#"{"voice":true,"sms":false,"mms":false,"fax":false}"#,
        "a list of capability names",
    );
    refused(r#"["voice",true]"#, "expected a string");
    refused(r#""voice""#, "a list of capability names");
}
