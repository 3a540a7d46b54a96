//! The store conformance suite: every case runs, unchanged, on SQLite and on PostgreSQL (each on
//! its own throwaway database), so the two backends cannot drift apart. PostgreSQL comes from
//! `NUMBERPOOL_TEST_PG_URL` (see `numberpool_store::testing`).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use numberpool_domain::{
    Account, AccountId, AccountKind, AccountStatus, Action, Assignee, AssigneeType, AuditId,
    Capabilities, Capacity, CarrierId, Customization, E164, FineType, JobId, JobState, Messaging,
    Number, NumberId, NumberSort, NumberStatus, NumberType, Position, Product, Relation, TrunkId,
    ViewPosition, VoiceDirection, now_ms,
};
use numberpool_store::testing::TestDb;
use numberpool_store::{
    AuditFilter, Backend, Channel, ExchangeStatus, IdemRecord, InventoryCounts, Job, JobRetry,
    NewAccount, NewAudit, NewJob, NewToken, NumberCursor, NumberFilter, NumberLookup, OutboxEvent,
    PreparedNumbers, Store, StoreError, StoreOptions, TokenGrant,
};
use serde_json::json;

numberpool_store::backend_tests!(
    migrate_is_idempotent_and_ping,
    account_round_trip_and_numbers,
    ancestors_are_nearest_first,
    scope_and_relation,
    scope_generation_moves_on_committed_scope_changes,
    number_round_trips_every_field,
    existing_number_rejects_the_whole_insert,
    a_prepared_batch_goes_in_as_insert_numbers_does,
    batch_insert_and_lookups,
    update_and_delete_are_compare_and_set,
    list_numbers_scope_filters_and_paging,
    unparsable_rows_are_corrupt,
    audit_many_events,
    credentials,
    dropped_transaction_leaves_nothing,
    list_filters_and_inventory,
    tokens_and_client_management,
    idempotency_keys,
    idempotency_leases,
    audit_log_list,
    attribute_rows_and_number_filter,
    rate_card_rows,
    jobs_queue,
    jobs_concurrent_claims_take_each_job_once,
    jobs_woken_while_running_run_again,
    record_writes_audit_and_outbox,
    rolled_back_record_writes_neither,
    outbox_ids_follow_commit_order,
    unknown_action_is_corrupt,
);

#[path = "conformance/outbox.rs"]
mod outbox;
use outbox::{
    outbox_ids_follow_commit_order, record_writes_audit_and_outbox,
    rolled_back_record_writes_neither, unknown_action_is_corrupt,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Every table of the schema.
const TABLES: [&str; 15] = [
    "accounts",
    "number_counts",
    "attributes",
    "rate_card",
    "exchange_connections",
    "sip_trunks",
    "carriers",
    "numbers",
    "audit_events",
    "outbox",
    "api_clients",
    "users",
    "oauth_tokens",
    "idempotency_keys",
    "jobs",
];

fn backend_of(db: &TestDb) -> Backend {
    if db.url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// A raw connection pool on the test database, for what the store's API deliberately cannot do
/// (counting rows behind its back, writing unparsable values).
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn open(db: &TestDb) -> Raw {
        match backend_of(db) {
            Backend::Sqlite => Raw::Sqlite(
                sqlx::SqlitePool::connect(&db.url)
                    .await
                    .expect("raw sqlite pool"),
            ),
            Backend::Postgres => Raw::Postgres(
                sqlx::PgPool::connect(&db.url)
                    .await
                    .expect("raw postgres pool"),
            ),
        }
    }

    async fn exec(&self, sql: &str, binds: &[&str]) -> Result<u64, sqlx::Error> {
        match self {
            Raw::Sqlite(p) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                Ok(q.execute(p).await?.rows_affected())
            }
            Raw::Postgres(p) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                Ok(q.execute(p).await?.rows_affected())
            }
        }
    }

    /// Executes one statement that must change exactly one row.
    async fn exec_one(&self, sql: &str, binds: &[&str]) {
        let n = self
            .exec(sql, binds)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(n, 1, "{sql} changed {n} rows");
    }

    async fn scalar(&self, sql: &str) -> i64 {
        match self {
            Raw::Sqlite(p) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(p).await,
            Raw::Postgres(p) => sqlx::query_as::<_, (i64,)>(sql).fetch_one(p).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .0
    }

    async fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table}")).await
    }

    async fn close(self) {
        match self {
            Raw::Sqlite(p) => p.close().await,
            Raw::Postgres(p) => p.close().await,
        }
    }
}

fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap_or_else(|e| panic!("test number {s}: {e}"))
}

/// `count` valid numbers `{prefix}{suffix}` with `width`-digit suffixes counting up from 0.
fn valid_numbers(prefix: &str, width: usize, count: usize) -> Vec<E164> {
    let out: Vec<E164> = (0..10u64.pow(width as u32))
        .filter_map(|i| E164::parse(&format!("{prefix}{i:0width$}")).ok())
        .take(count)
        .collect();
    assert_eq!(out.len(), count, "not enough valid numbers under {prefix}");
    out
}

fn new_account(name: &str, kind: AccountKind, parent: Option<AccountId>) -> NewAccount {
    NewAccount {
        name: name.to_string(),
        kind,
        parent_id: parent,
        allow_external_numbers: false,
    }
}

async fn add_account(
    store: &Store,
    name: &str,
    kind: AccountKind,
    parent: Option<AccountId>,
) -> Account {
    let mut tx = store.begin().await.expect("begin");
    let account = tx
        .insert_account(&new_account(name, kind, parent))
        .await
        .expect("insert account");
    tx.commit().await.expect("commit");
    account
}

/// A number with every optional field empty and every other field at its plainest.
fn plain_number(phone: E164, holder: AccountId, owner: AccountId) -> Number {
    Number {
        id: NumberId::new(),
        number_type: phone.number_type(),
        fine_type: phone.fine_type(),
        phone_number: phone,
        region_state: None,
        city: None,
        product: Product::Unallocated,
        status: NumberStatus::Normal,
        position: Position::Free,
        holder_id: holder,
        customer_id: None,
        allocated_from: None,
        owner_id: owner,
        uploaded_by: owner,
        assignees: Vec::new(),
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
        source: "api".to_string(),
        block_id: None,
        port_order_id: None,
        reservation: None,
        add_event_id: None,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
        version: 1,
    }
}

async fn insert_numbers(store: &Store, numbers: &[Number]) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_numbers(numbers).await.expect("insert numbers");
    tx.commit().await.expect("commit");
}

async fn get_by_id(store: &Store, id: NumberId) -> Option<Number> {
    let mut rd = store.read().await.expect("read");
    rd.get_number(&NumberLookup::Id(id))
        .await
        .expect("get number")
}

async fn get_by_e164(store: &Store, e: &E164) -> Option<Number> {
    let mut rd = store.read().await.expect("read");
    rd.get_number(&NumberLookup::E164(e.clone()))
        .await
        .expect("get number")
}

/// A small tree with what a fully populated number refers to:
/// provider → reseller → sub-reseller → customer → unit, a trunk and four carriers.
struct World {
    provider: Account,
    reseller: Account,
    sub_reseller: Account,
    customer: Account,
    unit: Account,
    trunk: TrunkId,
    trunk2: TrunkId,
    voice: CarrierId,
    sms: CarrierId,
    voice2: CarrierId,
    sms2: CarrierId,
}

async fn world(store: &Store) -> World {
    let provider = add_account(store, "Provider", AccountKind::Provider, None).await;
    let reseller = add_account(store, "Reseller", AccountKind::Reseller, Some(provider.id)).await;
    let sub_reseller = add_account(
        store,
        "Sub-reseller",
        AccountKind::Reseller,
        Some(reseller.id),
    )
    .await;
    let customer = add_account(
        store,
        "Customer",
        AccountKind::Customer,
        Some(sub_reseller.id),
    )
    .await;
    let unit = add_account(store, "Unit", AccountKind::Unit, Some(customer.id)).await;
    let mut tx = store.begin().await.expect("begin");
    let trunk = tx
        .insert_trunk(provider.id, "trunk-a", "us-east")
        .await
        .expect("trunk");
    let trunk2 = tx
        .insert_trunk(provider.id, "trunk-b", "eu-west")
        .await
        .expect("trunk");
    let voice = tx
        .insert_carrier(provider.id, "voice", "Voice One", true)
        .await
        .expect("carrier");
    let sms = tx
        .insert_carrier(provider.id, "sms", "SMS One", true)
        .await
        .expect("carrier");
    let voice2 = tx
        .insert_carrier(provider.id, "voice", "Voice Two", false)
        .await
        .expect("carrier");
    let sms2 = tx
        .insert_carrier(provider.id, "sms", "SMS Two", false)
        .await
        .expect("carrier");
    tx.commit().await.expect("commit");
    World {
        provider,
        reseller,
        sub_reseller,
        customer,
        unit,
        trunk,
        trunk2,
        voice,
        sms,
        voice2,
        sms2,
    }
}

/// A number with a non-default value in every field, all references distinct and existing.
fn full_number(w: &World, phone: E164) -> Number {
    Number {
        id: NumberId::new(),
        // Neither the derived type nor the derived fine type: the stored values must win.
        number_type: NumberType::TollFree,
        fine_type: FineType::Voip,
        phone_number: phone,
        region_state: Some("CA".to_string()),
        city: Some("San Francisco – Mission".to_string()),
        product: Product::ContactCenter,
        status: NumberStatus::Pending,
        position: Position::Held,
        holder_id: w.unit.id,
        customer_id: Some(w.customer.id),
        allocated_from: Some(w.sub_reseller.id),
        owner_id: w.provider.id,
        uploaded_by: w.reseller.id,
        assignees: vec![
            Assignee {
                kind: AssigneeType::User,
                id: "user-42".to_string(),
                display_name: Some("Ada \"Countess\" Lovelace".to_string()),
            },
            Assignee {
                kind: AssigneeType::CallQueue,
                id: "queue-7".to_string(),
                display_name: None,
            },
        ],
        sip_trunk_id: Some(w.trunk),
        billing_reference: Some("BR-0042".to_string()),
        service_info: Some("line 1\tline 'quoted', ü".to_string()),
        capabilities: Capabilities {
            voice: true,
            sms: true,
            mms: true,
            fax: true,
        },
        voice_carrier_id: Some(w.voice),
        sms_carrier_id: Some(w.sms),
        customization: Customization {
            capacity: Capacity::Multiple,
            voice_direction: VoiceDirection::OutboundOnly,
            messaging: Messaging::SmsMms,
            outbound_dialer: true,
            outbound_cli_shared: true,
        },
        call_purpose: Some("sales".to_string()),
        display_name: Some("Front desk".to_string()),
        program_duration: Some("P30D".to_string()),
        attributes: BTreeMap::from([
            ("cost_center".to_string(), "42".to_string()),
            ("note".to_string(), "a, \"b\" & 'c' {}".to_string()),
        ]),
        source: "import".to_string(),
        block_id: Some(numberpool_domain::BlockId::new()),
        port_order_id: Some(numberpool_domain::PortOrderId::new()),
        // An added number holds no reservation (the bulk insert leaves its columns out); the
        // update path writes one, below.
        reservation: None,
        add_event_id: Some(AuditId::new()),
        created_at: 1_700_000_000_123,
        updated_at: 1_700_000_555_456,
        version: 7,
    }
}

/// Walks every page of a list, checking the page invariants; returns the items in page order.
async fn walk_pages(
    store: &Store,
    scope: AccountId,
    filter: &NumberFilter,
    limit: u32,
    expected_total: usize,
) -> Vec<Number> {
    let mut out: Vec<Number> = Vec::new();
    let mut after: Option<NumberCursor> = None;
    let mut pages = 0;
    loop {
        let mut rd = store.read().await.expect("read");
        let page = rd
            .list_numbers(scope, filter, after.clone(), limit)
            .await
            .expect("list numbers");
        pages += 1;
        assert!(pages <= expected_total + 1, "paging does not end");
        assert_eq!(
            page.total, expected_total as i64,
            "total of {filter:?} on page {pages}"
        );
        assert!(page.items.len() <= limit as usize, "page larger than limit");
        out.extend(page.items.iter().cloned());
        match page.next_after {
            Some(next) => {
                assert_eq!(
                    page.items.len(),
                    limit as usize,
                    "a page before the last is full"
                );
                // The cursor names the page's last number by the key of the order.
                let by_e164 = matches!(
                    filter.sort,
                    NumberSort::PhoneNumber | NumberSort::PhoneNumberDesc
                );
                assert_eq!(
                    page.items.last().map(|n| if by_e164 {
                        n.phone_number.as_str().to_string()
                    } else {
                        n.id.to_string()
                    }),
                    Some(next.clone()),
                    "next_after is the last number of the page"
                );
                after = Some(next.parse().expect("next_after is a cursor"));
            }
            None => break,
        }
    }
    let want_pages = expected_total.div_ceil(limit as usize).max(1);
    assert_eq!(pages, want_pages, "pages of {filter:?} at limit {limit}");
    out
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

async fn migrate_is_idempotent_and_ping(db: &TestDb) {
    let backend = backend_of(db);
    let store = db.store().await; // migrated once
    assert_eq!(store.backend(), backend);
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    // Another process starting up on the same database migrates again.
    let other = Store::connect(&db.url, &StoreOptions::default())
        .await
        .expect("connect");
    other.migrate().await.expect("migrate from a second store");
    store.ping().await.expect("ping");
    other.ping().await.expect("ping");

    let raw = Raw::open(db).await;
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let files = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
        .expect("migrations dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert!(files > 0);
    assert_eq!(
        raw.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await,
        files as i64,
        "each migration is recorded once"
    );
    for table in TABLES {
        assert_eq!(raw.count(table).await, 0, "{table} starts empty");
    }
    raw.close().await;

    let tx = store.begin().await.expect("begin");
    assert_eq!(tx.backend(), backend);
    drop(tx);
    let rd = store.read().await.expect("read");
    assert_eq!(rd.backend(), backend);
    drop(rd);

    // Ping says so when the database cannot answer.
    other.close().await;
    assert!(other.ping().await.is_err(), "ping on a closed store");
    store.ping().await.expect("the first store is unaffected");
    store.close().await;
}

async fn account_round_trip_and_numbers(db: &TestDb) {
    let store = db.store().await;
    let before = now_ms();
    let mut tx = store.begin().await.expect("begin");
    let provider = tx
        .insert_account(&new_account("Acme Telecom", AccountKind::Provider, None))
        .await
        .expect("insert provider");
    let customer = tx
        .insert_account(&NewAccount {
            name: "Globex – Zürich ☎".to_string(),
            kind: AccountKind::Customer,
            parent_id: Some(provider.id),
            allow_external_numbers: true,
        })
        .await
        .expect("insert customer");
    // Visible inside its own transaction before commit.
    assert_eq!(
        tx.get_account(customer.id).await.expect("get"),
        Some(customer.clone())
    );
    tx.commit().await.expect("commit");
    let after = now_ms();

    // What insert returns describes what was asked for.
    assert_eq!(provider.name, "Acme Telecom");
    assert_eq!(provider.kind, AccountKind::Provider);
    assert_eq!(provider.status, AccountStatus::Active);
    assert_eq!(provider.parent_id, None);
    assert!(!provider.allow_external_numbers);
    assert_eq!(customer.name, "Globex – Zürich ☎");
    assert_eq!(customer.kind, AccountKind::Customer);
    assert_eq!(customer.parent_id, Some(provider.id));
    assert!(customer.allow_external_numbers);
    for a in [&provider, &customer] {
        assert!(
            (before..=after).contains(&a.created_at),
            "created_at is now"
        );
    }
    assert_ne!(provider.id, customer.id);

    // And reading it back gives every field as inserted.
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.get_account(provider.id).await.expect("get"),
        Some(provider.clone())
    );
    assert_eq!(
        rd.get_account(customer.id).await.expect("get"),
        Some(customer.clone())
    );
    assert_eq!(rd.get_account(AccountId::new()).await.expect("get"), None);
    assert_eq!(
        rd.find_account_by_name("Globex – Zürich ☎")
            .await
            .expect("find"),
        Some(customer.clone())
    );
    assert_eq!(rd.find_account_by_name("Globex").await.expect("find"), None);
    drop(rd);

    // Account numbers: 8 digits, no leading zero, unique.
    let mut tx = store.begin().await.expect("begin");
    let mut many = vec![provider.clone(), customer.clone()];
    for i in 0..200 {
        many.push(
            tx.insert_account(&new_account(
                &format!("Customer {i}"),
                AccountKind::Customer,
                Some(provider.id),
            ))
            .await
            .expect("insert"),
        );
    }
    tx.commit().await.expect("commit");
    let mut seen = HashSet::new();
    for a in &many {
        assert_eq!(a.account_number.len(), 8, "{}", a.account_number);
        assert!(
            a.account_number.bytes().all(|b| b.is_ascii_digit()),
            "{}",
            a.account_number
        );
        assert!(!a.account_number.starts_with('0'), "{}", a.account_number);
        assert!(
            seen.insert(a.account_number.clone()),
            "account number {} given twice",
            a.account_number
        );
    }
    // The database itself refuses a duplicate account number.
    let raw = Raw::open(db).await;
    let dup = raw
        .exec(
            "UPDATE accounts SET account_number = $1 WHERE id = $2",
            &[&provider.account_number, &customer.id.to_string()],
        )
        .await;
    assert!(
        dup.is_err(),
        "a duplicate account number must be refused: {dup:?}"
    );
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.get_account(customer.id)
            .await
            .expect("get")
            .map(|a| a.account_number),
        Some(customer.account_number.clone())
    );
    drop(rd);

    // Status compare-and-set.
    let mut tx = store.begin().await.expect("begin");
    tx.set_account_status_cas(customer.id, customer.version, AccountStatus::Deactivated)
        .await
        .expect("set status");
    assert!(
        matches!(
            tx.set_account_status_cas(customer.id, customer.version, AccountStatus::Deactivated)
                .await,
            Err(StoreError::Conflict)
        ),
        "stale version"
    );
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.get_account(customer.id)
            .await
            .expect("get")
            .map(|a| a.status),
        Some(AccountStatus::Deactivated)
    );
    drop(rd);
    raw.close().await;
}

async fn ancestors_are_nearest_first(db: &TestDb) {
    let store = db.store().await;
    let provider = add_account(&store, "P", AccountKind::Provider, None).await;
    let reseller = add_account(&store, "R", AccountKind::Reseller, Some(provider.id)).await;
    let customer = add_account(&store, "C", AccountKind::Customer, Some(reseller.id)).await;
    let unit = add_account(&store, "U", AccountKind::Unit, Some(customer.id)).await;
    let sub_unit = add_account(&store, "SU", AccountKind::Unit, Some(unit.id)).await;
    // A sibling branch must not show up.
    let _other = add_account(&store, "C2", AccountKind::Customer, Some(provider.id)).await;

    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.ancestors(sub_unit.id).await.expect("ancestors"),
        vec![unit.id, customer.id, reseller.id, provider.id]
    );
    assert_eq!(
        rd.ancestors(unit.id).await.expect("ancestors"),
        vec![customer.id, reseller.id, provider.id]
    );
    assert_eq!(
        rd.ancestors(customer.id).await.expect("ancestors"),
        vec![reseller.id, provider.id]
    );
    assert_eq!(
        rd.ancestors(reseller.id).await.expect("ancestors"),
        vec![provider.id]
    );
    assert_eq!(
        rd.ancestors(provider.id).await.expect("ancestors"),
        Vec::<AccountId>::new()
    );
    assert_eq!(
        rd.ancestors(AccountId::new()).await.expect("ancestors"),
        Vec::<AccountId>::new()
    );
}

/// The `scope_generation` counter moves on every committed change to accounts or connections
/// (its triggers), and not for an uncommitted one or for writes to other tables.
async fn scope_generation_moves_on_committed_scope_changes(db: &TestDb) {
    let store = db.store().await;
    let generation = || async {
        let mut rd = store.read().await.expect("read");
        rd.scope_generation().await.expect("generation")
    };
    let g0 = generation().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let g1 = generation().await;
    assert!(g1 > g0, "an account insert moves it: {g0} -> {g1}");

    // A rolled-back rename leaves it where it was; a committed one moves it.
    let mut renamed = p.clone();
    renamed.name = "P renamed".into();
    let mut tx = store.begin().await.expect("begin");
    tx.update_account_cas(&renamed).await.expect("rename");
    drop(tx);
    assert_eq!(
        generation().await,
        g1,
        "a rolled-back change does not move it"
    );
    let mut tx = store.begin().await.expect("begin");
    let renamed = tx.update_account_cas(&renamed).await.expect("rename");
    tx.commit().await.expect("commit");
    let g2 = generation().await;
    assert!(g2 > g1, "a committed rename moves it");

    let mut tx = store.begin().await.expect("begin");
    tx.set_account_status_cas(p.id, renamed.version, AccountStatus::Deactivated)
        .await
        .expect("status");
    tx.commit().await.expect("commit");
    let g3 = generation().await;
    assert!(g3 > g2, "a status change moves it");

    // Connections: insert and status change.
    let x = add_account(&store, "X", AccountKind::Customer, None).await;
    let g4 = generation().await;
    let mut tx = store.begin().await.expect("begin");
    tx.insert_connection(p.id, x.id).await.expect("connect");
    tx.commit().await.expect("commit");
    let g5 = generation().await;
    assert!(g5 > g4, "a connection moves it");
    let mut tx = store.begin().await.expect("begin");
    tx.set_connection_status_cas(
        p.id,
        x.id,
        ExchangeStatus::Connected,
        ExchangeStatus::DisconnectRequested,
    )
    .await
    .expect("connection status");
    tx.commit().await.expect("commit");
    let g6 = generation().await;
    assert!(g6 > g5, "a connection's status change moves it");

    // A number written to another table leaves it.
    let mut tx = store.begin().await.expect("begin");
    tx.insert_numbers(&[plain_number(e164("+14155550100"), p.id, p.id)])
        .await
        .expect("number");
    tx.commit().await.expect("commit");
    assert_eq!(generation().await, g6, "numbers are not part of a scope");
}

async fn scope_and_relation(db: &TestDb) {
    let store = db.store().await;
    let p1 = add_account(&store, "P1", AccountKind::Provider, None).await;
    let r1 = add_account(&store, "R1", AccountKind::Reseller, Some(p1.id)).await;
    let c1 = add_account(&store, "C1", AccountKind::Customer, Some(r1.id)).await;
    let u1 = add_account(&store, "U1", AccountKind::Unit, Some(c1.id)).await;
    let c2 = add_account(&store, "C2", AccountKind::Customer, Some(p1.id)).await;
    // A root customer that connects to P1 through Provider Exchange, with a unit.
    let x = add_account(&store, "X", AccountKind::Customer, None).await;
    let xu = add_account(&store, "XU", AccountKind::Unit, Some(x.id)).await;
    // An unrelated tenant, and a root customer nobody is connected to.
    let p2 = add_account(&store, "P2", AccountKind::Provider, None).await;
    let c3 = add_account(&store, "C3", AccountKind::Customer, Some(p2.id)).await;
    let y = add_account(&store, "Y", AccountKind::Customer, None).await;

    let mut tx = store.begin().await.expect("begin");
    let conn = tx.insert_connection(p1.id, x.id).await.expect("connect");
    assert_eq!(conn.status, ExchangeStatus::Connected);
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    let dup = tx.insert_connection(p1.id, x.id).await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate(_))),
        "second connection of a pair: {dup:?}"
    );
    drop(tx);

    // `relation` (below) share-locks the connection row: a write transaction's method.
    let mut rd = store.begin().await.expect("begin");
    assert_eq!(
        rd.get_connection(p1.id, x.id).await.expect("connection"),
        Some(conn.clone())
    );
    assert_eq!(
        rd.get_connection(p2.id, x.id).await.expect("connection"),
        None
    );

    let ids = |v: Vec<Account>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let sorted = |mut v: Vec<AccountId>| {
        v.sort_by_key(|a| a.to_string());
        v
    };
    let in_p1 = rd.list_accounts_in_scope(p1.id).await.expect("scope");
    // Whole accounts come back, not just ids.
    assert_eq!(in_p1.iter().find(|a| a.id == x.id), Some(&x));
    assert_eq!(
        ids(in_p1),
        sorted(vec![p1.id, r1.id, c1.id, u1.id, c2.id, x.id, xu.id]),
        "a provider sees its subtree and its connected customers, in id order"
    );
    assert_eq!(
        ids(rd.list_accounts_in_scope(r1.id).await.expect("scope")),
        sorted(vec![r1.id, c1.id, u1.id])
    );
    assert_eq!(
        ids(rd.list_accounts_in_scope(p2.id).await.expect("scope")),
        sorted(vec![p2.id, c3.id])
    );
    assert_eq!(
        ids(rd.list_accounts_in_scope(x.id).await.expect("scope")),
        sorted(vec![x.id, xu.id]),
        "a connection does not give the customer its provider"
    );
    assert_eq!(
        ids(rd
            .list_accounts_in_scope(AccountId::new())
            .await
            .expect("scope")),
        Vec::<AccountId>::new()
    );
    // The narrow read (id, name, kind) gives exactly the scope's accounts of the kinds asked,
    // for every viewer of the fixture (R-SEC-1: nothing outside it).
    for scope in [
        p1.id,
        r1.id,
        c1.id,
        u1.id,
        x.id,
        p2.id,
        y.id,
        AccountId::new(),
    ] {
        let whole = rd.list_accounts_in_scope(scope).await.expect("scope");
        for kinds in [
            vec![AccountKind::Customer, AccountKind::Unit],
            vec![AccountKind::Customer],
            AccountKind::ALL.to_vec(),
            vec![],
        ] {
            let narrow = rd
                .account_names_in_scope(scope, &kinds)
                .await
                .expect("names");
            let want: Vec<(AccountId, String, AccountKind)> = whole
                .iter()
                .filter(|a| kinds.contains(&a.kind))
                .map(|a| (a.id, a.name.clone(), a.kind))
                .collect();
            let got: Vec<(AccountId, String, AccountKind)> =
                narrow.into_iter().map(|a| (a.id, a.name, a.kind)).collect();
            assert_eq!(got, want, "names in scope of {scope}, kinds {kinds:?}");
        }
    }

    // Walking up from the account agrees with the scope's own lists, for every pair.
    let everyone = [
        p1.id, r1.id, c1.id, u1.id, x.id, xu.id, p2.id, c2.id, c3.id, y.id,
    ];
    for scope in everyone {
        let whole = ids(rd.list_accounts_in_scope(scope).await.expect("scope"));
        let own = rd.subtree_ids(scope).await.expect("subtree");
        for account in everyone {
            assert_eq!(
                rd.in_scope(scope, account).await.expect("in_scope"),
                whole.contains(&account),
                "in_scope({scope}, {account}) against the scope's list"
            );
            assert_eq!(
                rd.in_own_subtree(scope, account)
                    .await
                    .expect("in_own_subtree"),
                own.contains(&account),
                "in_own_subtree({scope}, {account}) against the subtree"
            );
            for (connected, within) in [(true, &whole), (false, &own)] {
                let got = rd
                    .get_account_within(scope, account, connected)
                    .await
                    .expect("within");
                assert_eq!(
                    got.map(|a| a.id),
                    within.contains(&account).then_some(account),
                    "get_account_within({scope}, {account}, {connected})"
                );
            }
        }
    }
    for (scope, account, want) in [
        (p1.id, p1.id, true),
        (p1.id, u1.id, true),
        (p1.id, x.id, true),
        (p1.id, xu.id, true),
        (p1.id, c3.id, false),
        (p1.id, y.id, false),
        (p1.id, p2.id, false),
        (c1.id, p1.id, false),
        (u1.id, c1.id, false),
        (c1.id, u1.id, true),
        (p2.id, x.id, false),
        (p2.id, c1.id, false),
        (x.id, p1.id, false),
    ] {
        assert_eq!(
            rd.in_scope(scope, account).await.expect("in_scope"),
            want,
            "in_scope({scope}, {account})"
        );
    }

    for (actor, target, want) in [
        (&p1, &r1, Relation::DirectChild),
        (&p1, &c2, Relation::DirectChild),
        (&r1, &c1, Relation::DirectChild),
        (&c1, &u1, Relation::DirectChild),
        (&p1, &x, Relation::Connected),
        (&p1, &c1, Relation::Other),
        (&p1, &u1, Relation::Other),
        (&p1, &xu, Relation::Other),
        (&p1, &y, Relation::Other),
        (&p1, &c3, Relation::Other),
        (&p2, &x, Relation::Other),
        (&r1, &x, Relation::Other),
        (&u1, &c1, Relation::Other),
    ] {
        assert_eq!(
            rd.relation(actor, target).await.expect("relation"),
            want,
            "relation({} → {})",
            actor.name,
            target.name
        );
    }
    drop(rd);

    // A deactivated connection neither scopes nor relates.
    let raw = Raw::open(db).await;
    raw.exec_one(
        "UPDATE exchange_connections SET status = 'deactivated' WHERE provider_id = $1 AND customer_id = $2",
        &[&p1.id.to_string(), &x.id.to_string()],
    )
    .await;
    raw.close().await;
    // `relation` share-locks the connection row: a write transaction's method.
    let mut rd = store.begin().await.expect("begin");
    assert_eq!(
        rd.get_connection(p1.id, x.id)
            .await
            .expect("connection")
            .map(|c| c.status),
        Some(ExchangeStatus::Deactivated)
    );
    assert!(!rd.in_scope(p1.id, x.id).await.expect("in_scope"));
    assert!(!rd.in_scope(p1.id, xu.id).await.expect("in_scope"));
    assert_eq!(
        ids(rd.list_accounts_in_scope(p1.id).await.expect("scope")),
        sorted(vec![p1.id, r1.id, c1.id, u1.id, c2.id])
    );
    assert_eq!(
        rd.relation(&p1, &x).await.expect("relation"),
        Relation::Other
    );
}

async fn number_round_trips_every_field(db: &TestDb) {
    let store = db.store().await;
    let w = world(&store).await;
    let full = full_number(&w, e164("+14155550123"));
    let plain = plain_number(e164("+442071838750"), w.provider.id, w.provider.id);
    // A second full number with the booleans and enums in another pattern, so that a swapped
    // column cannot hide behind equal values.
    let mut mixed = full_number(&w, e164("+447400123456"));
    mixed.capabilities = Capabilities {
        voice: true,
        sms: false,
        mms: true,
        fax: false,
    };
    mixed.customization = Customization {
        capacity: Capacity::SingleContactCenter,
        voice_direction: VoiceDirection::InboundOnly,
        messaging: Messaging::Sms,
        outbound_dialer: false,
        outbound_cli_shared: true,
    };
    mixed.product = Product::Phone;
    mixed.position = Position::Returned;
    mixed.status = NumberStatus::Normal;
    mixed.holder_id = w.reseller.id;
    mixed.customer_id = None;
    mixed.allocated_from = Some(w.provider.id);
    mixed.owner_id = w.reseller.id;
    mixed.uploaded_by = w.provider.id;
    mixed.sip_trunk_id = Some(w.trunk2);
    mixed.voice_carrier_id = Some(w.voice2);
    mixed.sms_carrier_id = None;
    mixed.assignees = vec![Assignee {
        kind: AssigneeType::ZoomRoom,
        id: "room-1".to_string(),
        display_name: None,
    }];
    mixed.version = 1;

    insert_numbers(&store, &[full.clone(), plain.clone(), mixed.clone()]).await;

    for n in [&full, &plain, &mixed] {
        assert_eq!(get_by_id(&store, n.id).await.as_ref(), Some(n), "by id");
        assert_eq!(
            get_by_e164(&store, &n.phone_number).await.as_ref(),
            Some(n),
            "by E.164"
        );
    }
    assert_eq!(get_by_id(&store, NumberId::new()).await, None);
    assert_eq!(get_by_e164(&store, &e164("+14155550124")).await, None);

    // The list path parses the same row the same way.
    let mut rd = store.read().await.expect("read");
    let page = rd
        .list_numbers(w.provider.id, &NumberFilter::default(), None, 10)
        .await
        .expect("list");
    let mut want = vec![full.clone(), plain.clone(), mixed.clone()];
    want.sort_by_key(|n| n.id.to_string());
    assert_eq!(page.items, want);
    assert_eq!(page.total, 3);
    assert_eq!(page.next_after, None);

    // Lookups parse ids and E.164 forms alike.
    assert!(matches!(
        NumberLookup::parse(&full.id.to_string()),
        Some(NumberLookup::Id(id)) if id == full.id
    ));
    assert!(matches!(
        NumberLookup::parse("+1 415 555 0123"),
        Some(NumberLookup::E164(e)) if e == full.phone_number
    ));
    assert!(NumberLookup::parse("not a number").is_none());

    // Text in E.164's own form is looked up as written, and parsed only when nothing is
    // stored under it: `+44 0…` (a national prefix after the country code) is in that form
    // but stored as `+44 …`; a number not stored, or not valid, is not found either way.
    assert!(matches!(
        NumberLookup::deferred("+14155550123"),
        Some(NumberLookup::Written(t)) if t == "+14155550123"
    ));
    assert!(matches!(
        NumberLookup::deferred("+1 415 555 0123"),
        Some(NumberLookup::E164(e)) if e == full.phone_number
    ));
    assert!(matches!(
        NumberLookup::deferred(&full.id.to_string()),
        Some(NumberLookup::Id(id)) if id == full.id
    ));
    assert!(NumberLookup::deferred("not a number").is_none());
    assert!(NumberLookup::deferred("+0123456789").is_none());
    for (text, want) in [
        ("+14155550123", Some(&full)),
        ("+442071838750", Some(&plain)),
        ("+4402071838750", Some(&plain)),
        ("+12125550100", None),
        ("+33012345678", None),
    ] {
        let lookup = NumberLookup::deferred(text).expect("in E.164's form");
        assert!(matches!(lookup, NumberLookup::Written(_)), "{text}");
        assert_eq!(
            rd.get_number(&lookup).await.expect("get").as_ref(),
            want,
            "{text}"
        );
        assert_eq!(
            rd.get_number_in_scope(w.provider.id, &lookup)
                .await
                .expect("get")
                .as_ref(),
            want,
            "{text} in the provider's scope"
        );
    }

    // Trunks and carriers are found again.
    assert_eq!(
        rd.trunk_provider(w.trunk).await.expect("trunk"),
        Some(w.provider.id)
    );
    assert_eq!(
        rd.trunk_provider(TrunkId::new()).await.expect("trunk"),
        None
    );
    assert_eq!(
        rd.find_trunk_by_name(w.provider.id, "trunk-b")
            .await
            .expect("trunk"),
        Some(w.trunk2)
    );
    assert_eq!(
        rd.find_trunk_by_name(w.reseller.id, "trunk-b")
            .await
            .expect("trunk"),
        None
    );
    assert_eq!(
        rd.default_carrier(w.provider.id, "voice")
            .await
            .expect("carrier"),
        Some((w.voice, "Voice One".to_string()))
    );
    assert_eq!(
        rd.default_carrier(w.provider.id, "sms")
            .await
            .expect("carrier"),
        Some((w.sms, "SMS One".to_string()))
    );
    assert_eq!(
        rd.default_carrier(w.reseller.id, "sms")
            .await
            .expect("carrier"),
        None
    );
    drop(rd);

    // A reference to something that does not exist is refused by the foreign keys.
    let mut dangling = plain_number(e164("+14155550125"), w.provider.id, w.provider.id);
    dangling.sip_trunk_id = Some(TrunkId::new());
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_numbers(&[dangling]).await;
    assert!(
        matches!(res, Err(StoreError::Db(_))),
        "dangling trunk: {res:?}"
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_trunk(w.provider.id, "trunk-a", "elsewhere").await;
    assert!(
        matches!(res, Err(StoreError::Duplicate(_))),
        "duplicate trunk name: {res:?}"
    );
    drop(tx);
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("numbers").await, 3);
    assert_eq!(raw.count("sip_trunks").await, 2);
    raw.close().await;
}

async fn existing_number_rejects_the_whole_insert(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let first = plain_number(e164("+14155550100"), p.id, p.id);
    insert_numbers(&store, std::slice::from_ref(&first)).await;
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("numbers").await, 1);

    // A batch that contains an existing number: the error names it, and nothing stays.
    let fresh = plain_number(e164("+14155550101"), p.id, p.id);
    let again = plain_number(e164("+14155550100"), p.id, p.id);
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_numbers(&[fresh.clone(), again.clone()]).await;
    match &res {
        Err(StoreError::NumberAlreadyExists(e)) => assert_eq!(e, "+14155550100"),
        other => panic!("expected NumberAlreadyExists, got {other:?}"),
    }
    drop(tx);
    assert_eq!(raw.count("numbers").await, 1);
    assert_eq!(get_by_id(&store, fresh.id).await, None);
    assert_eq!(get_by_e164(&store, &fresh.phone_number).await, None);
    assert_eq!(get_by_id(&store, again.id).await, None);
    assert_eq!(get_by_id(&store, first.id).await, Some(first.clone()));

    // A number inserted earlier in the same transaction counts as existing too; the earlier
    // insert goes when the transaction is dropped.
    let mut tx = store.begin().await.expect("begin");
    tx.insert_numbers(std::slice::from_ref(&fresh))
        .await
        .expect("insert");
    let twin = plain_number(e164("+14155550101"), p.id, p.id);
    let res = tx.insert_numbers(&[twin]).await;
    assert!(
        matches!(&res, Err(StoreError::NumberAlreadyExists(e)) if e == "+14155550101"),
        "{res:?}"
    );
    drop(tx);
    assert_eq!(raw.count("numbers").await, 1);
    assert_eq!(get_by_id(&store, fresh.id).await, None);

    // The same number twice in one batch: also NumberAlreadyExists, also nothing left.
    let a = plain_number(e164("+14155550102"), p.id, p.id);
    let b = plain_number(e164("+14155550102"), p.id, p.id);
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_numbers(&[a.clone(), b]).await;
    assert!(
        matches!(res, Err(StoreError::NumberAlreadyExists(_))),
        "duplicate within a batch: {res:?}"
    );
    drop(tx);
    assert_eq!(raw.count("numbers").await, 1);
    assert_eq!(get_by_id(&store, a.id).await, None);

    // The same number id twice is refused as well (not silently merged).
    let mut c = plain_number(e164("+14155550103"), p.id, p.id);
    c.id = first.id;
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_numbers(&[c]).await;
    assert!(res.is_err(), "duplicate id: {res:?}");
    drop(tx);
    assert_eq!(raw.count("numbers").await, 1);
    assert_eq!(get_by_id(&store, first.id).await, Some(first));

    // After all that, the store still takes writes.
    insert_numbers(&store, std::slice::from_ref(&fresh)).await;
    assert_eq!(raw.count("numbers").await, 2);
    raw.close().await;
}

/// `Tx::insert_prepared`: a batch built beforehand goes in whole, found by id, by E.164 and by
/// the available search's digits, and is refused whole as `insert_numbers` refuses.
async fn a_prepared_batch_goes_in_as_insert_numbers_does(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let numbers: Vec<Number> = ["+14155550100", "+14155550101", "+442079460000"]
        .iter()
        .map(|e| plain_number(e164(e), p.id, p.id))
        .collect();
    let batch = PreparedNumbers::of(store.backend(), numbers.clone()).expect("prepare");
    assert_eq!(batch.numbers(), numbers.as_slice());
    let mut tx = store.begin().await.expect("begin");
    tx.insert_prepared(&batch).await.expect("insert");
    tx.commit().await.expect("commit");
    for n in &numbers {
        assert_eq!(get_by_id(&store, n.id).await.as_ref(), Some(n), "by id");
        assert_eq!(get_by_e164(&store, &n.phone_number).await.as_ref(), Some(n));
    }
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("numbers").await, 3);
    // SQLite's search index is a contentless trigram table: asked by what it finds.
    let digits = "number_digits WHERE number_digits MATCH '\"550\" AND \"501\" AND \"010\"'";
    if backend_of(db) == Backend::Sqlite {
        assert_eq!(
            raw.count(digits).await,
            2,
            "the search index finds the batch"
        );
    }

    // A batch with a number that exists: named, and nothing of the batch stays.
    let fresh = plain_number(e164("+14155550102"), p.id, p.id);
    let again = plain_number(e164("+14155550101"), p.id, p.id);
    let batch = PreparedNumbers::of(store.backend(), vec![fresh.clone(), again]).expect("prepare");
    let mut tx = store.begin().await.expect("begin");
    let res = tx.insert_prepared(&batch).await;
    assert!(
        matches!(&res, Err(StoreError::NumberAlreadyExists(e)) if e == "+14155550101"),
        "{res:?}"
    );
    // The transaction still takes writes after the refused batch (its savepoint).
    let other = if store.backend() == Backend::Sqlite {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    // A batch made ready for the other backend is built again for this one.
    let batch = PreparedNumbers::of(other, vec![fresh.clone()]).expect("prepare");
    tx.insert_prepared(&batch).await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(get_by_id(&store, fresh.id).await, Some(fresh));
    assert_eq!(raw.count("numbers").await, 4);
    if backend_of(db) == Backend::Sqlite {
        assert_eq!(raw.count(digits).await, 3);
    }
    raw.close().await;
}

async fn batch_insert_and_lookups(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let phones = valid_numbers("+1415555", 4, 1_200);
    let numbers: Vec<Number> = phones
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut n = plain_number(e.clone(), p.id, p.id);
            n.billing_reference = Some(format!("B{i}"));
            n
        })
        .collect();
    let raw = Raw::open(db).await;

    let mut tx = store.begin().await.expect("begin");
    tx.insert_numbers(&numbers).await.expect("insert 1,200");
    // Inside the transaction all are there; outside, none yet.
    let e164s: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(
        tx.existing_e164s(&e164s).await.expect("existing").len(),
        1_200
    );
    assert_eq!(
        raw.count("numbers").await,
        0,
        "uncommitted rows are invisible"
    );
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("numbers").await, 1_200);

    let mut rd = store.read().await.expect("read");
    // Existence checks span several lookup chunks and report exactly the known numbers.
    let mut query: Vec<&str> = e164s.clone();
    query.extend(["+14155559998", "+12125550100", "+442071838750"]);
    let found: BTreeSet<String> = rd
        .existing_e164s(&query)
        .await
        .expect("existing")
        .into_iter()
        .collect();
    let want: BTreeSet<String> = e164s.iter().map(|s| s.to_string()).collect();
    assert_eq!(found.len(), 1_200);
    assert_eq!(found, want);
    assert_eq!(
        rd.existing_e164s(&["+12125550100"])
            .await
            .expect("existing"),
        Vec::<String>::new()
    );
    assert_eq!(
        rd.existing_e164s(&[]).await.expect("existing"),
        Vec::<String>::new()
    );

    // Every row arrived whole: first, last, and across the chunk boundary.
    for i in [0, 1, 499, 500, 501, 999, 1_000, 1_199] {
        let n = &numbers[i];
        assert_eq!(
            rd.get_number(&NumberLookup::Id(n.id)).await.expect("get"),
            Some(n.clone())
        );
        assert_eq!(
            rd.get_number(&NumberLookup::E164(n.phone_number.clone()))
                .await
                .expect("get"),
            Some(n.clone())
        );
    }
    let page = rd
        .list_numbers(p.id, &NumberFilter::default(), None, 2_000)
        .await
        .expect("list");
    assert_eq!(page.total, 1_200);
    let mut want_all = numbers.clone();
    want_all.sort_by_key(|n| n.id.to_string());
    assert_eq!(page.items, want_all);
    drop(rd);

    // An empty batch is a no-op.
    let mut tx = store.begin().await.expect("begin");
    tx.insert_numbers(&[]).await.expect("empty insert");
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("numbers").await, 1_200);
    raw.close().await;
}

async fn update_and_delete_are_compare_and_set(db: &TestDb) {
    let store = db.store().await;
    let w = world(&store).await;
    let original = full_number(&w, e164("+14155550123"));
    let bystander = plain_number(e164("+14155550124"), w.provider.id, w.provider.id);
    insert_numbers(&store, &[original.clone(), bystander.clone()]).await;
    let current = get_by_id(&store, original.id).await.expect("stored");
    assert_eq!(current.version, 7);

    // Change every field the update writes.
    let mut next = current.clone();
    next.number_type = NumberType::Local;
    next.region_state = None;
    next.city = Some("Oakland".to_string());
    next.product = Product::Phone;
    next.status = NumberStatus::Normal;
    next.position = Position::Free;
    next.holder_id = w.reseller.id;
    next.customer_id = None;
    next.allocated_from = Some(w.provider.id);
    next.assignees = vec![Assignee {
        kind: AssigneeType::CommonArea,
        id: "lobby".to_string(),
        display_name: Some("Lobby".to_string()),
    }];
    next.sip_trunk_id = Some(w.trunk2);
    next.billing_reference = None;
    next.service_info = Some("changed".to_string());
    next.capabilities = Capabilities {
        voice: false,
        sms: true,
        mms: false,
        fax: true,
    };
    next.voice_carrier_id = Some(w.voice2);
    next.sms_carrier_id = Some(w.sms2);
    next.customization = Customization {
        capacity: Capacity::SingleUser,
        voice_direction: VoiceDirection::None,
        messaging: Messaging::None,
        outbound_dialer: false,
        outbound_cli_shared: false,
    };
    next.call_purpose = None;
    next.display_name = Some("Reception".to_string());
    next.program_duration = None;
    next.attributes = BTreeMap::from([("k".to_string(), "v2".to_string())]);
    // The reservation columns are written by updates only, and read back whole.
    next.reservation = Some(numberpool_domain::Held {
        reservation_id: numberpool_domain::ReservationId::new(),
        for_account: AccountId::new(),
        until: 1_900_000_000_000,
    });
    next.updated_at = current.updated_at + 1_000;

    let mut tx = store.begin().await.expect("begin");
    let stored = tx.update_number_cas(&next).await.expect("update");
    tx.commit().await.expect("commit");
    assert_eq!(stored.version, current.version + 1, "the version is bumped");
    let mut want = next.clone();
    want.version = current.version + 1;
    assert_eq!(stored, want);
    assert_eq!(get_by_id(&store, original.id).await, Some(want.clone()));

    // A second writer that read the old version loses and changes nothing.
    let mut stale = current.clone();
    stale.billing_reference = Some("stale".to_string());
    stale.updated_at += 5_000;
    let mut tx = store.begin().await.expect("begin");
    let res = tx.update_number_cas(&stale).await;
    assert!(
        matches!(res, Err(StoreError::Conflict)),
        "stale update: {res:?}"
    );
    tx.commit().await.expect("commit");
    assert_eq!(get_by_id(&store, original.id).await, Some(want.clone()));
    // A version from the future loses too.
    let mut future = want.clone();
    future.version += 1;
    let mut tx = store.begin().await.expect("begin");
    let res = tx.update_number_cas(&future).await;
    assert!(
        matches!(res, Err(StoreError::Conflict)),
        "future version: {res:?}"
    );
    drop(tx);

    // The current version wins again, and so on.
    let mut again = want.clone();
    again.display_name = None;
    let mut tx = store.begin().await.expect("begin");
    let stored2 = tx.update_number_cas(&again).await.expect("second update");
    tx.commit().await.expect("commit");
    assert_eq!(stored2.version, want.version + 1);
    assert_eq!(get_by_id(&store, original.id).await, Some(stored2.clone()));
    // An update that is not committed does not stick.
    let mut tx = store.begin().await.expect("begin");
    let mut dropped = stored2.clone();
    dropped.city = Some("Nowhere".to_string());
    tx.update_number_cas(&dropped).await.expect("update");
    drop(tx);
    assert_eq!(get_by_id(&store, original.id).await, Some(stored2.clone()));
    // Updating a number that does not exist is a conflict, not an insert.
    let mut ghost = stored2.clone();
    ghost.id = NumberId::new();
    let mut tx = store.begin().await.expect("begin");
    let res = tx.update_number_cas(&ghost).await;
    assert!(
        matches!(res, Err(StoreError::Conflict)),
        "missing number: {res:?}"
    );
    drop(tx);

    // Delete: a stale version is a conflict and leaves the number; the current one removes it.
    let mut tx = store.begin().await.expect("begin");
    let res = tx.delete_number_cas(original.id, want.version).await;
    assert!(
        matches!(res, Err(StoreError::Conflict)),
        "stale delete: {res:?}"
    );
    tx.commit().await.expect("commit");
    assert_eq!(get_by_id(&store, original.id).await, Some(stored2.clone()));
    let mut tx = store.begin().await.expect("begin");
    tx.delete_number_cas(original.id, stored2.version)
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    assert_eq!(get_by_id(&store, original.id).await, None);
    assert_eq!(get_by_e164(&store, &original.phone_number).await, None);
    let mut tx = store.begin().await.expect("begin");
    let res = tx.delete_number_cas(original.id, stored2.version).await;
    assert!(
        matches!(res, Err(StoreError::Conflict)),
        "delete of a deleted number: {res:?}"
    );
    drop(tx);
    // The other number was never touched.
    assert_eq!(get_by_id(&store, bystander.id).await, Some(bystander));
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("numbers").await, 1);
    raw.close().await;
}

async fn list_numbers_scope_filters_and_paging(db: &TestDb) {
    let store = db.store().await;
    let p1 = add_account(&store, "P1", AccountKind::Provider, None).await;
    let r1 = add_account(&store, "R1", AccountKind::Reseller, Some(p1.id)).await;
    let c1 = add_account(&store, "C1", AccountKind::Customer, Some(p1.id)).await;
    let u1 = add_account(&store, "U1", AccountKind::Unit, Some(c1.id)).await;
    let x = add_account(&store, "X", AccountKind::Customer, None).await;
    let p2 = add_account(&store, "P2", AccountKind::Provider, None).await;
    let c2 = add_account(&store, "C2", AccountKind::Customer, Some(p2.id)).await;
    let mut tx = store.begin().await.expect("begin");
    tx.insert_connection(p1.id, x.id).await.expect("connect");
    tx.commit().await.expect("commit");

    let mut sf = valid_numbers("+1415555", 4, 40).into_iter();
    let mut ny = valid_numbers("+1212555", 4, 40).into_iter();
    let mut uk = valid_numbers("+4474001234", 2, 10).into_iter();
    // (holder, owner, how many, positions to cycle through)
    let groups: [(&Account, &Account, usize, &[Position]); 8] = [
        (&p1, &p1, 13, &[Position::Free, Position::Returned]),
        (&r1, &p1, 6, &[Position::Free, Position::Returned]),
        (&c1, &p1, 7, &[Position::Held]),
        (&u1, &p1, 5, &[Position::Held]),
        // The connected customer's own numbers, and the ones P1 allocated to it.
        (&x, &x, 4, &[Position::Held]),
        (&x, &p1, 3, &[Position::Held]),
        (&p2, &p2, 9, &[Position::Free, Position::Returned]),
        (&c2, &p2, 4, &[Position::Held]),
    ];
    let mut all: Vec<Number> = Vec::new();
    let mut i = 0usize;
    for (holder, owner, count, positions) in groups {
        for k in 0..count {
            let phone = match i % 5 {
                0 | 2 => sf.next(),
                1 | 3 => ny.next(),
                _ => uk.next(),
            }
            .expect("enough numbers");
            let mut n = plain_number(phone, holder.id, owner.id);
            n.position = positions[k % positions.len()];
            n.number_type = NumberType::ALL[i % NumberType::ALL.len()];
            if n.position == Position::Held {
                n.customer_id = Some(holder.id);
            }
            all.push(n);
            i += 1;
        }
    }
    // Insert in an order unrelated to id order, in two transactions.
    let mut shuffled = all.clone();
    shuffled.reverse();
    let (a, b) = shuffled.split_at(20);
    insert_numbers(&store, b).await;
    insert_numbers(&store, a).await;
    all.sort_by_key(|n| n.id.to_string());

    // (scope, accounts in its own subtree, connected accounts whose numbers it sees only
    // when it owns them)
    let scopes: [(&Account, Vec<AccountId>, Vec<AccountId>); 5] = [
        (&p1, vec![p1.id, r1.id, c1.id, u1.id], vec![x.id]),
        (&c1, vec![c1.id, u1.id], vec![]),
        (&u1, vec![u1.id], vec![]),
        (&p2, vec![p2.id, c2.id], vec![]),
        (&x, vec![x.id], vec![]),
    ];
    let filters: Vec<NumberFilter> = vec![
        NumberFilter::default(),
        NumberFilter {
            position: Some(Position::Free),
            ..Default::default()
        },
        NumberFilter {
            position: Some(Position::Returned),
            ..Default::default()
        },
        NumberFilter {
            position: Some(Position::Held),
            ..Default::default()
        },
        NumberFilter {
            number_type: Some(NumberType::Mobile),
            ..Default::default()
        },
        NumberFilter {
            number_type: Some(NumberType::TollFree),
            ..Default::default()
        },
        NumberFilter {
            holder: Some(c1.id),
            ..Default::default()
        },
        NumberFilter {
            holder: Some(u1.id),
            ..Default::default()
        },
        // Another tenant's account as holder: never widens the scope.
        NumberFilter {
            holder: Some(c2.id),
            ..Default::default()
        },
        NumberFilter {
            e164_prefix: Some("+1212".to_string()),
            ..Default::default()
        },
        // The '+' may be left out.
        NumberFilter {
            e164_prefix: Some("1212".to_string()),
            ..Default::default()
        },
        NumberFilter {
            e164_prefix: Some("+44".to_string()),
            ..Default::default()
        },
        NumberFilter {
            e164_prefix: Some("+1415555000".to_string()),
            ..Default::default()
        },
        // LIKE metacharacters are not wildcards.
        NumberFilter {
            e164_prefix: Some("+1_1".to_string()),
            ..Default::default()
        },
        NumberFilter {
            e164_prefix: Some("+%".to_string()),
            ..Default::default()
        },
        NumberFilter {
            position: Some(Position::Free),
            number_type: Some(NumberType::Local),
            e164_prefix: Some("+1".to_string()),
            holder: Some(p1.id),
            ..Default::default()
        },
    ];
    let matches = |n: &Number,
                   scope: AccountId,
                   own: &[AccountId],
                   conn: &[AccountId],
                   f: &NumberFilter|
     -> bool {
        (own.contains(&n.holder_id) || (conn.contains(&n.holder_id) && n.owner_id == scope))
            && f.position.is_none_or(|p| n.position == p)
            && f.number_type.is_none_or(|t| n.number_type == t)
            && f.holder.is_none_or(|h| n.holder_id == h)
            && f.e164_prefix.as_deref().is_none_or(|p| {
                // Digits only; the leading '+' is implied.
                let digits: String = p.chars().filter(char::is_ascii_digit).collect();
                n.phone_number.as_str().starts_with(&format!("+{digits}"))
            })
    };

    let mut nonempty = 0;
    for (scope, own, conn) in &scopes {
        for f in &filters {
            let want: Vec<Number> = all
                .iter()
                .filter(|n| matches(n, scope.id, own, conn, f))
                .cloned()
                .collect();
            if !want.is_empty() {
                nonempty += 1;
            }
            // Every other order, at two page sizes: the same numbers, in that order.
            for sort in [
                NumberSort::AddedDesc,
                NumberSort::PhoneNumber,
                NumberSort::PhoneNumberDesc,
            ] {
                let mut want = want.clone();
                match sort {
                    NumberSort::Added => want.sort_by_key(|n| n.id),
                    NumberSort::AddedDesc => want.sort_by_key(|n| std::cmp::Reverse(n.id)),
                    NumberSort::PhoneNumber => {
                        want.sort_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()))
                    }
                    NumberSort::PhoneNumberDesc => {
                        want.sort_by(|a, b| b.phone_number.as_str().cmp(a.phone_number.as_str()))
                    }
                }
                let sorted = NumberFilter { sort, ..f.clone() };
                for limit in [3u32, 100] {
                    let got = walk_pages(&store, scope.id, &sorted, limit, want.len()).await;
                    assert_eq!(
                        got.iter().map(|n| n.id).collect::<Vec<_>>(),
                        want.iter().map(|n| n.id).collect::<Vec<_>>(),
                        "scope {} filter {sorted:?} limit {limit}",
                        scope.name
                    );
                }
            }
            for limit in [1u32, 4, 7, 100] {
                let got = walk_pages(&store, scope.id, f, limit, want.len()).await;
                assert_eq!(
                    got.iter().map(|n| n.id).collect::<Vec<_>>(),
                    want.iter().map(|n| n.id).collect::<Vec<_>>(),
                    "scope {} filter {f:?} limit {limit}",
                    scope.name
                );
                assert_eq!(got, want);
            }
            // A page exactly as large as the set is the last page.
            if !want.is_empty() {
                let mut rd = store.read().await.expect("read");
                let page = rd
                    .list_numbers(scope.id, f, None, want.len() as u32)
                    .await
                    .expect("list");
                assert_eq!(page.items.len(), want.len());
                assert_eq!(page.next_after, None);
            }
        }
    }
    assert!(nonempty >= 40, "the fixture exercises the filters");

    // Spot checks on the fixture itself, so that the comparisons above are not vacuous.
    let mut rd = store.read().await.expect("read");
    let p1_all = rd
        .list_numbers(p1.id, &NumberFilter::default(), None, 1_000)
        .await
        .expect("list");
    // Its own subtree's numbers and the three it allocated to X, not X's own four.
    assert_eq!(p1_all.total, 13 + 6 + 7 + 5 + 3);
    assert!(p1_all.items.iter().all(|n| n.owner_id == p1.id));
    let p2_all = rd
        .list_numbers(p2.id, &NumberFilter::default(), None, 1_000)
        .await
        .expect("list");
    assert_eq!(p2_all.total, 9 + 4);
    assert!(p2_all.items.iter().all(|n| n.owner_id == p2.id));
    let unknown = rd
        .list_numbers(AccountId::new(), &NumberFilter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!((unknown.total, unknown.items.len()), (0, 0));
    // The largest limit does not overflow.
    let huge = rd
        .list_numbers(p1.id, &NumberFilter::default(), None, u32::MAX)
        .await
        .expect("list");
    assert_eq!(huge.items.len(), 34);
    assert_eq!(huge.next_after, None);
    // Paging from the middle: `after` an id that is no longer there still continues in order.
    let middle = p1_all.items[10].id;
    let rest = rd
        .list_numbers(p1.id, &NumberFilter::default(), Some(middle.into()), 1_000)
        .await
        .expect("list");
    assert_eq!(rest.items, p1_all.items[11..].to_vec());
    assert_eq!(rest.total, 34, "total ignores the page position");
    // In E.164 order the cursor is the E.164 form, so it too survives the number's deletion;
    // an id cursor (a token from the other order) goes on after that number's E.164 form.
    let by_e164 = NumberFilter {
        sort: NumberSort::PhoneNumber,
        ..Default::default()
    };
    let mut e164_all = p1_all.items.clone();
    e164_all.sort_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()));
    // Not the number the id order's check deletes below.
    let k = if e164_all[10].id == middle { 12 } else { 10 };
    let e164_middle = e164_all[k].clone();
    let from_id = rd
        .list_numbers(p1.id, &by_e164, Some(e164_middle.id.into()), 1_000)
        .await
        .expect("list");
    assert_eq!(from_id.items, e164_all[k + 1..].to_vec());
    drop(rd);
    let mut tx = store.begin().await.expect("begin");
    tx.delete_number_cas(middle, 1).await.expect("delete");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let rest = rd
        .list_numbers(p1.id, &NumberFilter::default(), Some(middle.into()), 1_000)
        .await
        .expect("list");
    assert_eq!(rest.items, p1_all.items[11..].to_vec());
    assert_eq!(rest.total, 33);
    drop(rd);
    let mut tx = store.begin().await.expect("begin");
    tx.delete_number_cas(e164_middle.id, e164_middle.version)
        .await
        .expect("delete");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let rest = rd
        .list_numbers(
            p1.id,
            &by_e164,
            Some(NumberCursor::E164(e164_middle.phone_number.clone())),
            1_000,
        )
        .await
        .expect("list");
    let want: Vec<Number> = e164_all[k + 1..]
        .iter()
        .filter(|n| n.id != middle)
        .cloned()
        .collect();
    assert_eq!(rest.items, want);
}

async fn unparsable_rows_are_corrupt(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    // One number per way of breaking a row; lookups by id and by E.164 both say Corrupt.
    let breakages: [(&str, bool); 13] = [
        ("product = 'bogus'", true),
        // A word that SQLite's JSON must escape: read as any other damaged word.
        ("capacity = 'quo\"ted'", true),
        ("number_type = 'bogus'", true),
        ("fine_type = 'bogus'", true),
        ("capacity = 'bogus'", true),
        ("voice_direction = 'sideways'", true),
        ("messaging = 'pigeon'", true),
        ("assignees = 'not json'", true),
        ("assignee_count = 3", true),
        ("attributes = '[1, 2]'", true),
        ("country = 'FR'", true),
        // These break the key that one of the lookups uses; the other lookup sees Corrupt.
        ("e164 = 'garbage'", false),
        ("id = 'not-a-uuid'", false),
    ];
    let phones = valid_numbers("+1415555", 4, breakages.len() + 1);
    let numbers: Vec<Number> = phones
        .iter()
        .map(|e| plain_number(e.clone(), p.id, p.id))
        .collect();
    insert_numbers(&store, &numbers).await;
    let healthy = numbers[breakages.len()].clone();

    // Before: all parse.
    let mut rd = store.read().await.expect("read");
    let page = rd
        .list_numbers(p.id, &NumberFilter::default(), None, 100)
        .await
        .expect("list before corruption");
    assert_eq!(page.items.len(), numbers.len());
    drop(rd);

    let raw = Raw::open(db).await;
    for ((set, _), n) in breakages.iter().zip(&numbers) {
        raw.exec_one(
            &format!("UPDATE numbers SET {set} WHERE id = $1"),
            &[&n.id.to_string()],
        )
        .await;
    }
    let mut rd = store.read().await.expect("read");
    for ((set, both), n) in breakages.iter().zip(&numbers) {
        let by_id = rd.get_number(&NumberLookup::Id(n.id)).await;
        let by_e164 = rd
            .get_number(&NumberLookup::E164(n.phone_number.clone()))
            .await;
        if set.starts_with("e164") {
            assert!(
                matches!(by_id, Err(StoreError::Corrupt(_))),
                "{set}: {by_id:?}"
            );
            assert!(matches!(by_e164, Ok(None)), "{set}: {by_e164:?}");
        } else if set.starts_with("id") {
            assert!(matches!(by_id, Ok(None)), "{set}: {by_id:?}");
            assert!(
                matches!(by_e164, Err(StoreError::Corrupt(_))),
                "{set}: {by_e164:?}"
            );
        } else {
            assert!(*both);
            assert!(
                matches!(by_id, Err(StoreError::Corrupt(_))),
                "{set}: {by_id:?}"
            );
            assert!(
                matches!(by_e164, Err(StoreError::Corrupt(_))),
                "{set}: {by_e164:?}"
            );
        }
    }
    // Outside the caller's scope a damaged row is not found, as any other row there is (the
    // scope is checked before the row is decoded), the escaped word included.
    drop(rd);
    let other = add_account(&store, "Other", AccountKind::Provider, None).await;
    let mut rd = store.read().await.expect("read");
    for ((set, _), n) in breakages.iter().zip(&numbers) {
        for lookup in [
            NumberLookup::Id(n.id),
            NumberLookup::E164(n.phone_number.clone()),
        ] {
            let got = rd.get_number_in_scope(other.id, &lookup).await;
            assert!(matches!(got, Ok(None)), "{set} {lookup:?}: {got:?}");
        }
    }
    // Corruption is per row: a sound row still reads.
    assert_eq!(
        rd.get_number(&NumberLookup::Id(healthy.id))
            .await
            .expect("healthy row"),
        Some(healthy.clone())
    );
    // A list that meets a corrupt row says so rather than skipping it.
    let res = rd
        .list_numbers(p.id, &NumberFilter::default(), None, 100)
        .await;
    assert!(
        matches!(res, Err(StoreError::Corrupt(_))),
        "list: {:?}",
        res.map(|p| p.total)
    );
    // …but a filtered list that does not reach a corrupt row works.
    let res = rd
        .list_numbers(
            p.id,
            &NumberFilter {
                e164_prefix: Some(healthy.phone_number.as_str().to_string()),
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .expect("list of the healthy row");
    assert_eq!(res.items, vec![healthy]);
    drop(rd);

    // Accounts.
    let victim = add_account(&store, "Victim", AccountKind::Customer, None).await;
    raw.exec_one(
        "UPDATE accounts SET id = 'not-a-uuid' WHERE id = $1",
        &[&victim.id.to_string()],
    )
    .await;
    let mut rd = store.read().await.expect("read");
    let res = rd.find_account_by_name("Victim").await;
    assert!(
        matches!(res, Err(StoreError::Corrupt(_))),
        "account: {res:?}"
    );
    assert_eq!(rd.get_account(p.id).await.expect("get"), Some(p.clone()));
    drop(rd);

    // Audit events.
    let mut tx = store.begin().await.expect("begin");
    tx.record(&NewAudit {
        actor_type: "system",
        actor_id: "job".to_string(),
        actor_account_id: None,
        channel: Channel::Job,
        entity_id: "entity-corrupt".to_string(),
        action: Action::NumberUpdate,
        rule: None,
        before: Some(json!({"a": 1})),
        after: None,
    })
    .await
    .expect("audit");
    tx.commit().await.expect("commit");
    raw.exec_one(
        "UPDATE audit_events SET before_json = '{oops' WHERE entity_id = $1",
        &["entity-corrupt"],
    )
    .await;
    let mut rd = store.read().await.expect("read");
    let res = rd.audit_for("entity-corrupt").await;
    assert!(matches!(res, Err(StoreError::Corrupt(_))), "audit: {res:?}");
    drop(rd);

    // Users and API clients.
    let mut tx = store.begin().await.expect("begin");
    tx.insert_user(p.id, "u@example.com", "hash", "admin")
        .await
        .expect("user");
    tx.insert_client("client-x", p.id, "hash", &["numbers:read".to_string()])
        .await
        .expect("client");
    tx.commit().await.expect("commit");
    raw.exec_one(
        "UPDATE users SET id = 'nope' WHERE email = $1",
        &["u@example.com"],
    )
    .await;
    raw.exec_one(
        "UPDATE api_clients SET id = 'nope' WHERE client_id = $1",
        &["client-x"],
    )
    .await;
    let mut rd = store.read().await.expect("read");
    let res = rd.get_user_by_email("u@example.com").await;
    assert!(matches!(res, Err(StoreError::Corrupt(_))), "user: {res:?}");
    let res = rd.get_client("client-x").await;
    assert!(
        matches!(res, Err(StoreError::Corrupt(_))),
        "client: {res:?}"
    );
    drop(rd);
    raw.close().await;
}

fn audit_event(i: usize, account: AccountId) -> NewAudit {
    const CHANNELS: [Channel; 5] = [
        Channel::Api,
        Channel::Ui,
        Channel::Import,
        Channel::Cli,
        Channel::Job,
    ];
    const ACTIONS: [Action; 4] = [
        Action::NumberAdd,
        Action::NumberAllocate,
        Action::NumberRelease,
        Action::AccountUpdate,
    ];
    NewAudit {
        actor_type: if i.is_multiple_of(3) {
            "user"
        } else {
            "system"
        },
        actor_id: format!("actor-{i}"),
        actor_account_id: i.is_multiple_of(2).then(|| account.to_string()),
        channel: CHANNELS[i % CHANNELS.len()],
        entity_id: format!("entity-{}", i % 10),
        action: ACTIONS[i % ACTIONS.len()],
        rule: i.is_multiple_of(7).then_some("R-MOVE-1"),
        before: (i % 2 == 1).then(|| {
            json!({
                "seq": i,
                "nested": {"list": [1, "two", null, 3.5, false], "s": "quote \" ' \\ ü ☎"},
                "empty": {},
            })
        }),
        after: Some(json!({"seq": i, "flag": true, "big": 9_007_199_254_740_991_i64})),
    }
}

fn same_event(got: &numberpool_store::AuditEvent, want: &NewAudit) -> bool {
    got.actor_type == want.actor_type
        && got.actor_id == want.actor_id
        && got.actor_account_id == want.actor_account_id
        && got.channel == want.channel
        && got.entity_type == want.action.entity_type()
        && got.entity_id == want.entity_id
        && got.action == want.action
        && got.rule.as_deref() == want.rule
        && got.before == want.before
        && got.after == want.after
}

async fn audit_many_events(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let events: Vec<NewAudit> = (0..2_500).map(|i| audit_event(i, p.id)).collect();
    let start = now_ms();
    let mut tx = store.begin().await.expect("begin");
    tx.record_all(&events).await.expect("insert 2,500 events");
    tx.commit().await.expect("commit");
    let end = now_ms();
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("audit_events").await, 2_500);

    let mut rd = store.read().await.expect("read");
    for entity in [3usize, 9] {
        let got = rd
            .audit_for(&format!("entity-{entity}"))
            .await
            .expect("audit_for");
        let want: Vec<&NewAudit> = events
            .iter()
            .filter(|e| e.entity_id == format!("entity-{entity}"))
            .collect();
        assert_eq!(got.len(), 250);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(same_event(g, w), "entity-{entity}: {g:?} vs {w:?}");
            assert!((start..=end).contains(&g.at), "at is the insert time");
        }
        // Oldest first: the ids are increasing and the sequence follows insertion.
        assert!(got.windows(2).all(|p| p[0].id < p[1].id));
        let seqs: Vec<i64> = got
            .iter()
            .filter_map(|e| e.after.as_ref()?.get("seq")?.as_i64())
            .collect();
        assert_eq!(
            seqs,
            (0..2_500)
                .filter(|i| i % 10 == entity)
                .map(|i| i as i64)
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(
        rd.audit_for("entity-none").await.expect("audit_for").len(),
        0
    );

    let allocations = rd
        .audit_by_action(Action::NumberAllocate)
        .await
        .expect("by action");
    let want: Vec<&NewAudit> = events
        .iter()
        .filter(|e| e.action == Action::NumberAllocate)
        .collect();
    assert_eq!(allocations.len(), 625);
    assert_eq!(allocations.len(), want.len());
    for (g, w) in allocations.iter().zip(&want) {
        assert!(same_event(g, w), "allocate: {g:?} vs {w:?}");
    }
    assert_eq!(
        rd.audit_by_action(Action::UserPasswordReset)
            .await
            .expect("by action")
            .len(),
        0
    );
    drop(rd);

    // Later events come after earlier ones; events of a dropped transaction never appear.
    let mut later = audit_event(3, p.id);
    later.after = Some(json!({"seq": 100_000}));
    let mut tx = store.begin().await.expect("begin");
    tx.record(&later).await.expect("audit");
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    let mut lost = audit_event(3, p.id);
    lost.after = Some(json!({"seq": 200_000}));
    tx.record(&lost).await.expect("audit");
    drop(tx);
    let mut rd = store.read().await.expect("read");
    let got = rd.audit_for("entity-3").await.expect("audit_for");
    assert_eq!(got.len(), 251);
    assert!(same_event(&got[250], &later));
    assert_eq!(raw.count("audit_events").await, 2_501);
    raw.close().await;
}

async fn credentials(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let c = add_account(&store, "C", AccountKind::Customer, Some(p.id)).await;
    let scopes = vec!["numbers:read".to_string(), "numbers:write".to_string()];

    let mut tx = store.begin().await.expect("begin");
    let client = tx
        .insert_client("np_client_1", p.id, "$argon2id$secret", &scopes)
        .await
        .expect("client");
    let user = tx
        .insert_user(c.id, "ada@example.com", "$argon2id$pw1", "owner")
        .await
        .expect("user");
    let viewer = tx
        .insert_user(p.id, "bob@example.com", "$argon2id$pw2", "viewer")
        .await
        .expect("user");
    tx.commit().await.expect("commit");

    let mut rd = store.read().await.expect("read");
    let got = rd
        .get_client("np_client_1")
        .await
        .expect("get client")
        .expect("client exists");
    assert_eq!(got.id, client.id);
    assert_eq!(got.client_id, "np_client_1");
    assert_eq!(got.account_id, p.id);
    assert_eq!(got.secret_hash, "$argon2id$secret");
    assert_eq!(got.scopes, scopes);
    assert!(rd.get_client("np_client_2").await.expect("get").is_none());

    let got = rd
        .get_user_by_email("ada@example.com")
        .await
        .expect("get user")
        .expect("user exists");
    assert_eq!(got.id, user.id);
    assert_eq!(got.account_id, c.id);
    assert_eq!(got.email, "ada@example.com");
    assert_eq!(got.password_hash, "$argon2id$pw1");
    assert_eq!(got.role, "owner");
    let got = rd
        .get_user_by_email("bob@example.com")
        .await
        .expect("get user")
        .expect("user exists");
    assert_eq!(
        (got.id, got.account_id, got.role.as_str()),
        (viewer.id, p.id, "viewer")
    );
    assert!(
        rd.get_user_by_email("nobody@example.com")
            .await
            .expect("get")
            .is_none()
    );
    drop(rd);

    // A session comes with its account's name, kind and whether it has a parent (the portal's
    // layout needs no second read of the account); an expired one is not found.
    let mut tx = store.begin().await.expect("begin");
    for (hash, user) in [("h-ada", user.id), ("h-bob", viewer.id)] {
        tx.insert_session(&numberpool_store::NewSession {
            id_hash: hash.to_string(),
            user_id: user,
            csrf_token: format!("csrf-{hash}"),
            created_at: 1,
            expires_at: 1_000,
        })
        .await
        .expect("session");
    }
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let s = rd
        .get_session("h-ada", 999)
        .await
        .expect("get session")
        .expect("live session");
    assert_eq!(
        (
            s.user_id,
            s.account_id,
            s.account_name.as_str(),
            s.account_kind.as_str(),
            s.has_parent,
            s.role.as_str(),
            s.csrf_token.as_str(),
        ),
        (user.id, c.id, "C", "customer", true, "owner", "csrf-h-ada")
    );
    let s = rd
        .get_session("h-bob", 999)
        .await
        .expect("get session")
        .expect("live session");
    assert_eq!(
        (
            s.account_name.as_str(),
            s.account_kind.as_str(),
            s.has_parent
        ),
        ("P", "provider", false)
    );
    assert!(rd.get_session("h-bob", 1_000).await.expect("get").is_none());
    assert!(rd.get_session("h-none", 999).await.expect("get").is_none());
    drop(rd);

    // Duplicates are `Duplicate`, and leave the original alone.
    let mut tx = store.begin().await.expect("begin");
    let res = tx
        .insert_user(p.id, "ada@example.com", "$argon2id$other", "admin")
        .await;
    assert!(
        matches!(res, Err(StoreError::Duplicate(_))),
        "duplicate email: {res:?}"
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let res = tx
        .insert_client("np_client_1", c.id, "$argon2id$other", &[])
        .await;
    assert!(
        matches!(res, Err(StoreError::Duplicate(_))),
        "duplicate client id: {res:?}"
    );
    drop(tx);
    // A role outside the schema's set is refused.
    let mut tx = store.begin().await.expect("begin");
    let res = tx
        .insert_user(p.id, "eve@example.com", "$argon2id$x", "superuser")
        .await;
    assert!(res.is_err(), "unknown role: {res:?}");
    drop(tx);

    // Password change.
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.set_user_password("ada@example.com", "$argon2id$pw3")
            .await
            .expect("set password")
    );
    assert!(
        !tx.set_user_password("nobody@example.com", "$argon2id$pw3")
            .await
            .expect("set password"),
        "no such user"
    );
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let got = rd
        .get_user_by_email("ada@example.com")
        .await
        .expect("get")
        .expect("user");
    assert_eq!(got.password_hash, "$argon2id$pw3");
    assert_eq!(got.id, user.id);
    let other = rd
        .get_user_by_email("bob@example.com")
        .await
        .expect("get")
        .expect("user");
    assert_eq!(
        other.password_hash, "$argon2id$pw2",
        "only that user changed"
    );
    assert!(
        rd.get_user_by_email("eve@example.com")
            .await
            .expect("get")
            .is_none()
    );
    drop(rd);
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("users").await, 2);
    assert_eq!(raw.count("api_clients").await, 1);
    raw.close().await;
}

async fn dropped_transaction_leaves_nothing(db: &TestDb) {
    let store = db.store().await;
    let raw = Raw::open(db).await;
    let phones = valid_numbers("+1212555", 4, 1_200);

    let mut tx = store.begin().await.expect("begin");
    let p = tx
        .insert_account(&new_account("P", AccountKind::Provider, None))
        .await
        .expect("account");
    let x = tx
        .insert_account(&new_account("X", AccountKind::Customer, None))
        .await
        .expect("account");
    tx.insert_connection(p.id, x.id).await.expect("connection");
    let trunk = tx.insert_trunk(p.id, "t", "r").await.expect("trunk");
    let carrier = tx
        .insert_carrier(p.id, "voice", "v", true)
        .await
        .expect("carrier");
    let numbers: Vec<Number> = phones
        .iter()
        .map(|e| {
            let mut n = plain_number(e.clone(), p.id, p.id);
            n.sip_trunk_id = Some(trunk);
            n.voice_carrier_id = Some(carrier);
            n
        })
        .collect();
    tx.insert_numbers(&numbers).await.expect("numbers");
    tx.record_all(&(0..10).map(|i| audit_event(i, p.id)).collect::<Vec<_>>())
        .await
        .expect("audit");
    tx.insert_client("c", p.id, "h", &[]).await.expect("client");
    tx.insert_user(p.id, "a@example.com", "h", "owner")
        .await
        .expect("user");
    tx.insert_token(&NewToken {
        token_hash: "th".into(),
        client_id: "c".into(),
        account_id: p.id,
        scopes: String::new(),
        created_at: 1,
        expires_at: i64::MAX,
    })
    .await
    .expect("token");
    assert!(tx.idem_reserve("o", "k", "h", 1, 0).await.expect("reserve"));
    // All of it is there inside the transaction…
    assert_eq!(tx.get_account(p.id).await.expect("get"), Some(p.clone()));
    let page = tx
        .list_numbers(p.id, &NumberFilter::default(), None, 1)
        .await
        .expect("list");
    assert_eq!(page.total, 1_200);
    assert_eq!(tx.audit_for("entity-1").await.expect("audit").len(), 1);
    // …and none of it outside.
    let mut rd = store.read().await.expect("read");
    assert_eq!(rd.get_account(p.id).await.expect("get"), None);
    drop(rd);
    for table in TABLES {
        assert_eq!(raw.count(table).await, 0, "{table} before the drop");
    }
    drop(tx);

    for table in TABLES {
        assert_eq!(raw.count(table).await, 0, "{table} after the drop");
    }
    let mut rd = store.read().await.expect("read");
    assert_eq!(rd.get_account(p.id).await.expect("get"), None);
    assert_eq!(
        rd.get_number(&NumberLookup::Id(numbers[0].id))
            .await
            .expect("get"),
        None
    );
    assert!(
        rd.existing_e164s(&[numbers[0].phone_number.as_str()])
            .await
            .expect("existing")
            .is_empty()
    );
    assert!(
        rd.get_user_by_email("a@example.com")
            .await
            .expect("get")
            .is_none()
    );
    drop(rd);

    // The write lock went with the transaction: the same writes succeed right away.
    let mut tx = store
        .begin()
        .await
        .expect("begin after a dropped transaction");
    let p = tx
        .insert_account(&new_account("P", AccountKind::Provider, None))
        .await
        .expect("account");
    let numbers: Vec<Number> = phones
        .iter()
        .map(|e| plain_number(e.clone(), p.id, p.id))
        .collect();
    tx.insert_numbers(&numbers).await.expect("numbers");
    tx.insert_user(p.id, "a@example.com", "h", "owner")
        .await
        .expect("user");
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("accounts").await, 1);
    assert_eq!(raw.count("numbers").await, 1_200);
    assert_eq!(raw.count("users").await, 1);
    raw.close().await;
}

// ---------------------------------------------------------------------------------------------
// List filters added for the API, the inventory, tokens, idempotency keys, the audit log list
// ---------------------------------------------------------------------------------------------

/// What `filter` keeps of a number visible to `scope`, written independently of the SQL; the
/// view position comes from the domain's `ViewPosition::of`, which the SQL must agree with.
fn keeps(n: &Number, scope: AccountId, f: &NumberFilter) -> bool {
    let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    f.position.is_none_or(|p| n.position == p)
        && f.number_type.is_none_or(|t| n.number_type == t)
        && f.holder.is_none_or(|h| n.holder_id == h)
        && f.e164_prefix.as_deref().is_none_or(|p| {
            n.phone_number
                .as_str()
                .starts_with(&format!("+{}", digits(p)))
        })
        && f.status.is_none_or(|s| n.status == s)
        && f.product.is_none_or(|p| n.product == p)
        && f.country
            .as_deref()
            .is_none_or(|c| n.phone_number.country().as_str() == c.trim().to_uppercase())
        && f.customer.is_none_or(|c| n.customer_id == Some(c))
        && f.assigned
            .is_none_or(|assigned| assigned != n.assignees.is_empty())
        && f.e164_contains
            .as_deref()
            .is_none_or(|d| n.phone_number.as_str().contains(&digits(d)))
        && f.view_position
            .is_none_or(|v| ViewPosition::of(n, scope) == v)
}

/// The inventory of `numbers` as `scope` sees them, counted in Rust.
fn count_inventory(numbers: &[&Number], scope: AccountId) -> InventoryCounts {
    let mut out = InventoryCounts {
        total: numbers.len() as i64,
        by_position: ViewPosition::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect(),
        by_status: [("active".to_string(), 0), ("pending".to_string(), 0)].into(),
        by_product: Product::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect(),
        by_type: NumberType::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), 0))
            .collect(),
        by_country: BTreeMap::new(),
    };
    for n in numbers {
        let bump =
            |m: &mut BTreeMap<String, i64>, k: &str| *m.entry(k.to_string()).or_default() += 1;
        bump(&mut out.by_position, ViewPosition::of(n, scope).as_str());
        bump(
            &mut out.by_status,
            match n.status {
                NumberStatus::Normal => "active",
                NumberStatus::Pending => "pending",
            },
        );
        bump(&mut out.by_product, n.product.as_str());
        bump(&mut out.by_type, n.number_type.as_str());
        bump(&mut out.by_country, &n.phone_number.country().as_str());
    }
    out
}

async fn list_filters_and_inventory(db: &TestDb) {
    use AccountKind::{Customer, Provider, Reseller, Unit};
    use Position::{Free, Held, Returned};
    let store = db.store().await;
    let p1 = add_account(&store, "P1", Provider, None).await;
    let r1 = add_account(&store, "R1", Reseller, Some(p1.id)).await;
    let rc = add_account(&store, "RC", Customer, Some(r1.id)).await;
    let ru = add_account(&store, "RU", Unit, Some(rc.id)).await;
    let c1 = add_account(&store, "C1", Customer, Some(p1.id)).await;
    let u1 = add_account(&store, "U1", Unit, Some(c1.id)).await;
    let x = add_account(&store, "X", Customer, None).await;
    let p2 = add_account(&store, "P2", Provider, None).await;
    let c2 = add_account(&store, "C2", Customer, Some(p2.id)).await;
    let mut tx = store.begin().await.expect("begin");
    tx.insert_connection(p1.id, x.id).await.expect("connect");
    tx.commit().await.expect("commit");

    let mut us = valid_numbers("+1415555", 4, 60).into_iter();
    let mut gb = valid_numbers("+4474001234", 2, 30).into_iter();
    // (holder, customer, owner, how many, positions to cycle through)
    type Group<'a> = (
        &'a Account,
        Option<&'a Account>,
        &'a Account,
        usize,
        &'a [Position],
    );
    let groups: [Group<'_>; 10] = [
        (&p1, None, &p1, 8, &[Free, Returned]),
        (&r1, None, &p1, 6, &[Free, Returned]),
        (&rc, Some(&rc), &p1, 6, &[Held]),
        (&ru, Some(&rc), &p1, 5, &[Held]),
        (&c1, Some(&c1), &p1, 7, &[Held]),
        (&u1, Some(&c1), &p1, 5, &[Held]),
        // The connected customer's own numbers, and the ones P1 allocated to it.
        (&x, Some(&x), &x, 4, &[Held]),
        (&x, Some(&x), &p1, 4, &[Held]),
        (&p2, None, &p2, 5, &[Free, Returned]),
        (&c2, Some(&c2), &p2, 4, &[Held]),
    ];
    let mut all: Vec<Number> = Vec::new();
    let mut i = 0usize;
    for (holder, customer, owner, count, positions) in groups {
        for k in 0..count {
            let phone = if i % 3 == 2 { gb.next() } else { us.next() }.expect("enough numbers");
            let mut n = plain_number(phone, holder.id, owner.id);
            n.position = positions[k % positions.len()];
            n.customer_id = customer.map(|c| c.id);
            n.number_type = NumberType::ALL[i % NumberType::ALL.len()];
            n.product = Product::ALL[(i / 2) % Product::ALL.len()];
            n.status = if i % 4 == 1 {
                NumberStatus::Pending
            } else {
                NumberStatus::Normal
            };
            if n.position == Held {
                for a in 0..(i / 3) % 3 {
                    n.assignees.push(Assignee {
                        kind: AssigneeType::User,
                        id: format!("user-{i}-{a}"),
                        display_name: None,
                    });
                }
            }
            all.push(n);
            i += 1;
        }
    }
    insert_numbers(&store, &all).await;
    all.sort_by_key(|n| n.id.to_string());

    let scopes: [(&Account, Vec<AccountId>, Vec<AccountId>); 7] = [
        (
            &p1,
            vec![p1.id, r1.id, rc.id, ru.id, c1.id, u1.id],
            vec![x.id],
        ),
        (&r1, vec![r1.id, rc.id, ru.id], vec![]),
        (&rc, vec![rc.id, ru.id], vec![]),
        (&c1, vec![c1.id, u1.id], vec![]),
        (&u1, vec![u1.id], vec![]),
        (&x, vec![x.id], vec![]),
        (&p2, vec![p2.id, c2.id], vec![]),
    ];
    let f = NumberFilter::default;
    let mut filters: Vec<NumberFilter> = vec![
        f(),
        NumberFilter {
            status: Some(NumberStatus::Pending),
            ..f()
        },
        NumberFilter {
            status: Some(NumberStatus::Normal),
            ..f()
        },
        // Upper-cased before comparing; an absent country matches nothing.
        NumberFilter {
            country: Some("US".into()),
            ..f()
        },
        NumberFilter {
            country: Some(" gb ".into()),
            ..f()
        },
        NumberFilter {
            country: Some("FR".into()),
            ..f()
        },
        NumberFilter {
            customer: Some(c1.id),
            ..f()
        },
        NumberFilter {
            customer: Some(rc.id),
            ..f()
        },
        NumberFilter {
            customer: Some(x.id),
            ..f()
        },
        // Another tenant's customer: never widens the scope.
        NumberFilter {
            customer: Some(c2.id),
            ..f()
        },
        NumberFilter {
            assigned: Some(true),
            ..f()
        },
        NumberFilter {
            assigned: Some(false),
            ..f()
        },
        NumberFilter {
            e164_contains: Some("5550".into()),
            ..f()
        },
        NumberFilter {
            e164_contains: Some("4001234".into()),
            ..f()
        },
        // Only digits reach the pattern: punctuation is dropped, metacharacters are no wildcards.
        NumberFilter {
            e164_contains: Some("+1 (415)".into()),
            ..f()
        },
        NumberFilter {
            e164_contains: Some("_%".into()),
            ..f()
        },
        NumberFilter {
            view_position: Some(ViewPosition::Assigned),
            product: Some(Product::Phone),
            country: Some("US".into()),
            ..f()
        },
        NumberFilter {
            status: Some(NumberStatus::Pending),
            assigned: Some(false),
            e164_contains: Some("55".into()),
            ..f()
        },
        NumberFilter {
            position: Some(Held),
            view_position: Some(ViewPosition::InUse),
            customer: Some(c1.id),
            ..f()
        },
        NumberFilter {
            holder: Some(u1.id),
            assigned: Some(true),
            status: Some(NumberStatus::Normal),
            ..f()
        },
    ];
    for p in Product::ALL {
        filters.push(NumberFilter {
            product: Some(p),
            ..f()
        });
    }
    for v in ViewPosition::ALL {
        filters.push(NumberFilter {
            view_position: Some(v),
            ..f()
        });
    }

    let nonempty = compare_lists_and_inventory(&store, &all, &scopes, &filters).await;
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.check_counts().await.expect("check"),
        vec![],
        "counters after the adds"
    );
    drop(rd);
    // Every filter but the absent country finds something somewhere, so none is vacuous.
    for (k, filter) in filters.iter().enumerate() {
        let absent = filter.country.as_deref() == Some("FR");
        assert_eq!(nonempty[k], !absent, "{filter:?} finds something");
    }

    // Spot checks on the fixture: P1 sees every view position; its inventory adds up.
    let mut rd = store.read().await.expect("read");
    let inv = rd
        .inventory(p1.id, &NumberFilter::default())
        .await
        .expect("inventory");
    assert_eq!(inv.total, 8 + 6 + 6 + 5 + 7 + 5 + 4);
    for m in [
        &inv.by_position,
        &inv.by_status,
        &inv.by_product,
        &inv.by_type,
        &inv.by_country,
    ] {
        assert_eq!(m.values().sum::<i64>(), inv.total, "{m:?}");
    }
    assert_eq!(inv.by_position["in_use"], 6 + 6 + 5 + 7 + 5 + 4);
    assert_eq!(inv.by_position["free"] + inv.by_position["returned"], 8);
    assert_eq!(inv.by_position["assigned"], 0);
    let inv = rd
        .inventory(c1.id, &NumberFilter::default())
        .await
        .expect("inventory");
    assert_eq!(inv.total, 12);
    assert!(inv.by_position["assigned"] > 0 && inv.by_position["unassigned"] > 0);
    assert_eq!(
        inv.by_position["in_use"], 0,
        "a customer sees its units' numbers"
    );
    assert_eq!(
        inv.by_country.keys().collect::<Vec<_>>(),
        vec!["GB", "US"],
        "countries as stored"
    );
    let none = rd
        .inventory(AccountId::new(), &NumberFilter::default())
        .await
        .expect("inventory");
    assert_eq!(none, count_inventory(&[], AccountId::new()));
    let json = serde_json::to_value(&inv).expect("serialize");
    assert_eq!(
        json["by_status"]["active"].as_i64(),
        Some(inv.by_status["active"])
    );
    drop(rd);

    // Moves and deletes keep the per-holder counts exact (the triggers of migration 0025):
    // the same lists and inventories again, and the check finds nothing.
    let mut tx = store.begin().await.expect("begin");
    let mut changed = 0;
    for n in all.iter_mut() {
        let mut next = n.clone();
        if n.holder_id == p1.id && n.position == Free && changed < 3 {
            // An allocation, one of them straight to a user.
            next.position = Held;
            next.holder_id = c1.id;
            next.customer_id = Some(c1.id);
            if changed == 0 {
                next.assignees.push(Assignee {
                    kind: AssigneeType::User,
                    id: "user-moved".into(),
                    display_name: None,
                });
            }
            changed += 1;
        } else if n.holder_id == rc.id && n.status == NumberStatus::Normal {
            next.status = NumberStatus::Pending;
        } else if n.holder_id == u1.id && !n.assignees.is_empty() {
            // Unassigned: one fewer with an assignee.
            next.assignees.clear();
        } else if n.holder_id == ru.id {
            next.product = Product::ALL[(Product::ALL
                .iter()
                .position(|p| *p == n.product)
                .unwrap_or(0)
                + 1)
                % Product::ALL.len()];
        } else {
            continue;
        }
        *n = tx.update_number_cas(&next).await.expect("update");
    }
    assert_eq!(changed, 3);
    let gone: Vec<usize> = [x.id, p2.id]
        .iter()
        .filter_map(|h| all.iter().position(|n| n.holder_id == *h))
        .collect();
    for k in &gone {
        tx.delete_number_cas(all[*k].id, all[*k].version)
            .await
            .expect("delete");
    }
    tx.commit().await.expect("commit");
    let mut k = 0;
    all.retain(|_| {
        k += 1;
        !gone.contains(&(k - 1))
    });
    compare_lists_and_inventory(&store, &all, &scopes, &filters).await;
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.check_counts().await.expect("check"),
        vec![],
        "counters after moves"
    );
    drop(rd);

    // A counter that drifted (here by hand) is found, and rebuilt from the numbers.
    let raw = Raw::open(db).await;
    let drifted = raw
        .exec(
            "UPDATE number_counts SET n = n + 5 WHERE holder_id = $1 AND position = 'held' \
             AND assigned = 1",
            &[&c1.id.to_string()],
        )
        .await
        .expect("drift");
    assert!(drifted > 0);
    let mut rd = store.read().await.expect("read");
    let drift = rd.check_counts().await.expect("check");
    assert_eq!(drift.len() as u64, drifted, "{drift:?}");
    assert!(drift.iter().all(|d| d.stored == d.counted + 5), "{drift:?}");
    drop(rd);
    let mut tx = store.begin().await.expect("begin");
    tx.rebuild_counts().await.expect("rebuild");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    assert_eq!(rd.check_counts().await.expect("check"), vec![], "rebuilt");
}

/// Walks every filter's list at two page sizes and reads its inventory, as each scope, and
/// compares both with what `all` says the scope sees; whether each filter found anything.
async fn compare_lists_and_inventory(
    store: &Store,
    all: &[Number],
    scopes: &[(&Account, Vec<AccountId>, Vec<AccountId>)],
    filters: &[NumberFilter],
) -> Vec<bool> {
    let mut nonempty = vec![false; filters.len()];
    for (scope, own, conn) in scopes {
        let visible: Vec<&Number> = all
            .iter()
            .filter(|n| {
                own.contains(&n.holder_id)
                    || (conn.contains(&n.holder_id) && n.owner_id == scope.id)
            })
            .collect();
        // One number at a time (walking up from its holder) agrees with the lists.
        let mut rd = store.read().await.expect("read");
        for n in all {
            let seen = visible.iter().any(|v| v.id == n.id);
            for lookup in [
                NumberLookup::Id(n.id),
                NumberLookup::E164(n.phone_number.clone()),
                NumberLookup::Written(n.phone_number.as_str().to_string()),
            ] {
                let got = rd
                    .get_number_in_scope(scope.id, &lookup)
                    .await
                    .expect("get");
                assert_eq!(
                    got.map(|g| g.id),
                    seen.then_some(n.id),
                    "{} {lookup:?}",
                    scope.name
                );
            }
            assert_eq!(
                rd.number_in_scope(scope.id, n.id).await.expect("in scope"),
                seen,
                "{} {}",
                scope.name,
                n.phone_number
            );
        }
        drop(rd);
        for (k, filter) in filters.iter().enumerate() {
            let want: Vec<&Number> = visible
                .iter()
                .copied()
                .filter(|n| keeps(n, scope.id, filter))
                .collect();
            nonempty[k] |= !want.is_empty();
            for limit in [4u32, 1_000] {
                let got = walk_pages(store, scope.id, filter, limit, want.len()).await;
                assert_eq!(
                    got.iter().map(|n| n.id).collect::<Vec<_>>(),
                    want.iter().map(|n| n.id).collect::<Vec<_>>(),
                    "scope {} filter {filter:?} limit {limit}",
                    scope.name
                );
            }
            let mut rd = store.read().await.expect("read");
            let inventory = rd.inventory(scope.id, filter).await.expect("inventory");
            assert_eq!(
                inventory,
                count_inventory(&want, scope.id),
                "inventory of {} with {filter:?}",
                scope.name
            );
        }
    }
    nonempty
}

async fn tokens_and_client_management(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let c = add_account(&store, "C", AccountKind::Customer, Some(p.id)).await;
    let now = now_ms();
    let token = |hash: &str, client: &str, account: AccountId, expires_at: i64| NewToken {
        token_hash: hash.to_string(),
        client_id: client.to_string(),
        account_id: account,
        scopes: "phone:read:admin phone:write:admin".to_string(),
        created_at: now - 10,
        expires_at,
    };
    let before = now_ms();
    let mut tx = store.begin().await.expect("begin");
    let a = tx
        .insert_client("np_a", p.id, "hash-a", &["phone:read:admin".into()])
        .await
        .expect("client");
    let b = tx
        .insert_client("np_b", p.id, "hash-b", &[])
        .await
        .expect("client");
    let cc = tx
        .insert_client("np_c", c.id, "hash-c", &[])
        .await
        .expect("client");
    tx.insert_token(&token("ta1", "np_a", p.id, now + 60_000))
        .await
        .expect("token");
    tx.insert_token(&token("ta2", "np_a", p.id, now - 1))
        .await
        .expect("token");
    tx.insert_token(&token("tb", "np_b", p.id, now + 60_000))
        .await
        .expect("token");
    tx.insert_token(&token("tc", "np_c", c.id, now + 60_000))
        .await
        .expect("token");
    tx.insert_token(&token("tc-old", "np_c", c.id, now - 5))
        .await
        .expect("token");
    tx.commit().await.expect("commit");
    let after = now_ms();

    let mut rd = store.read().await.expect("read");
    let grant = rd.get_token("ta1", now).await.expect("get token");
    assert_eq!(
        grant,
        Some(TokenGrant {
            client_id: "np_a".into(),
            account_id: p.id,
            scopes: "phone:read:admin phone:write:admin".into(),
            expires_at: now + 60_000,
            has_parent: false,
        })
    );
    // Expired, at its expiry instant, or unknown: nothing.
    assert_eq!(rd.get_token("ta2", now).await.expect("get"), None);
    assert_eq!(rd.get_token("ta1", now + 60_000).await.expect("get"), None);
    assert!(
        rd.get_token("ta1", now + 59_999)
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(rd.get_token("nope", now).await.expect("get"), None);

    // Clients of one account, oldest first, with their creation time.
    let listed = rd.list_clients(p.id).await.expect("list clients");
    assert_eq!(
        listed
            .iter()
            .map(|x| x.client_id.as_str())
            .collect::<Vec<_>>(),
        vec!["np_a", "np_b"]
    );
    assert_eq!(listed[0].id, a.id);
    assert_eq!(listed[0].scopes, vec!["phone:read:admin".to_string()]);
    assert!(
        listed
            .iter()
            .all(|x| (before..=after).contains(&x.created_at))
    );
    assert_eq!(listed[0].created_at, a.created_at);
    let listed = rd.list_clients(c.id).await.expect("list clients");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, cc.id);
    assert!(
        rd.list_clients(AccountId::new())
            .await
            .expect("list")
            .is_empty()
    );
    let got = rd.get_client("np_b").await.expect("get").expect("client");
    assert_eq!((got.id, got.created_at), (b.id, b.created_at));
    drop(rd);

    // A token hash is unique.
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.insert_token(&token("ta1", "np_b", p.id, now + 1))
            .await
            .is_err()
    );
    drop(tx);

    // New secret; the row lock check sees only the current one.
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.hold_client_secret("np_a", "hash-a").await.expect("hold"));
    assert!(tx.set_client_secret("np_a", "hash-a2").await.expect("set"));
    assert!(!tx.set_client_secret("np_none", "x").await.expect("set"));
    assert!(!tx.hold_client_secret("np_a", "hash-a").await.expect("hold"));
    assert!(
        tx.hold_client_secret("np_a", "hash-a2")
            .await
            .expect("hold")
    );
    assert!(
        !tx.hold_client_secret("np_none", "hash-a2")
            .await
            .expect("hold")
    );
    // Ending a client's tokens: both of A's, the expired one too; B's stay.
    assert_eq!(tx.delete_tokens_of_client("np_a").await.expect("delete"), 2);
    assert_eq!(tx.delete_tokens_of_client("np_a").await.expect("delete"), 0);
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.get_client("np_a")
            .await
            .expect("get")
            .map(|x| x.secret_hash),
        Some("hash-a2".to_string())
    );
    assert_eq!(rd.get_token("ta1", now).await.expect("get"), None);
    assert!(rd.get_token("tb", now).await.expect("get").is_some());
    drop(rd);

    // Purge: only what has expired.
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("oauth_tokens").await, 3);
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.purge_expired_tokens(now).await.expect("purge"), 1);
    assert_eq!(tx.purge_expired_tokens(now).await.expect("purge"), 0);
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("oauth_tokens").await, 2);

    // A deleted client's token authenticates nothing, even with its row left behind.
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.delete_client("np_b").await.expect("delete client"));
    assert!(!tx.delete_client("np_b").await.expect("delete client"));
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("oauth_tokens").await, 2);
    let mut rd = store.read().await.expect("read");
    assert_eq!(rd.get_token("tb", now).await.expect("get"), None);
    assert_eq!(
        rd.get_client("np_b").await.expect("get").map(|x| x.id),
        None
    );
    assert!(rd.get_token("tc", now).await.expect("get").is_some());
    assert_eq!(raw.count("api_clients").await, 2);
    raw.close().await;
}

async fn idempotency_keys(db: &TestDb) {
    let store = db.store().await;
    let raw = Raw::open(db).await;
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.idem_reserve("o1", "k1", "h1", 1_000, 0)
            .await
            .expect("reserve")
    );
    // A live key is taken, for any request.
    assert!(
        !tx.idem_reserve("o1", "k1", "h1", 1_001, 0)
            .await
            .expect("reserve")
    );
    assert!(
        !tx.idem_reserve("o1", "k1", "h9", 1_001, 0)
            .await
            .expect("reserve")
    );
    // Keys are per owner.
    assert!(
        tx.idem_reserve("o2", "k1", "h2", 1_002, 0)
            .await
            .expect("reserve")
    );
    tx.commit().await.expect("commit");

    let mut rd = store.read().await.expect("read");
    let in_progress = IdemRecord {
        request_hash: "h1".into(),
        status: None,
        body: None,
        created_at: 1_000,
    };
    assert_eq!(
        rd.idem_get("o1", "k1", 0).await.expect("get"),
        Some(in_progress.clone())
    );
    assert_eq!(
        rd.idem_get("o1", "k1", 1_000).await.expect("get"),
        Some(in_progress),
        "not_before is inclusive"
    );
    assert_eq!(
        rd.idem_get("o1", "k1", 1_001).await.expect("get"),
        None,
        "expired"
    );
    assert_eq!(rd.idem_get("o1", "k2", 0).await.expect("get"), None);
    drop(rd);

    // Completed: the response to replay; a release no longer removes it.
    let body = r#"{"id":"x","note":"ü \" '"}"#;
    let mut tx = store.begin().await.expect("begin");
    tx.idem_complete("o1", "k1", 201, body)
        .await
        .expect("complete");
    tx.idem_release("o1", "k1").await.expect("release");
    // In progress: a release removes it, and the key can be taken again.
    tx.idem_release("o2", "k1").await.expect("release");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.idem_get("o1", "k1", 0).await.expect("get"),
        Some(IdemRecord {
            request_hash: "h1".into(),
            status: Some(201),
            body: Some(body.into()),
            created_at: 1_000,
        })
    );
    assert_eq!(rd.idem_get("o2", "k1", 0).await.expect("get"), None);
    drop(rd);

    // An expired row gives way to a new reservation.
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.idem_reserve("o2", "k1", "h3", 2_000, 0)
            .await
            .expect("reserve")
    );
    assert!(
        tx.idem_reserve("o1", "k1", "h4", 5_000, 1_001)
            .await
            .expect("reserve over an expired row")
    );
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    assert_eq!(
        rd.idem_get("o1", "k1", 0).await.expect("get"),
        Some(IdemRecord {
            request_hash: "h4".into(),
            status: None,
            body: None,
            created_at: 5_000,
        })
    );
    drop(rd);
    assert_eq!(raw.count("idempotency_keys").await, 2);
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(tx.idem_purge(4_000).await.expect("purge"), 1);
    tx.commit().await.expect("commit");
    assert_eq!(raw.count("idempotency_keys").await, 1);

    // Racing reservations of one key, each in its own transaction: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.expect("begin");
            let won = tx
                .idem_reserve("racer", "k", &format!("h{i}"), 9_000, 0)
                .await
                .expect("reserve");
            tx.commit().await.expect("commit");
            won
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.expect("task") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    raw.close().await;
}

/// Walks every page of an audit list, checking the page invariants; returns the ids in order.
async fn walk_audit(
    store: &Store,
    scope: AccountId,
    filter: &AuditFilter,
    limit: u32,
    expected_total: usize,
) -> Vec<AuditId> {
    let mut out = Vec::new();
    let mut before: Option<AuditId> = None;
    let mut pages = 0;
    loop {
        let mut rd = store.read().await.expect("read");
        let page = rd
            .list_audit(scope, filter, before, limit)
            .await
            .expect("list audit");
        pages += 1;
        assert!(pages <= expected_total + 1, "paging does not end");
        assert_eq!(page.total, expected_total as i64, "total of {filter:?}");
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items.iter().map(|e| e.id));
        match page.next_after {
            Some(next) => {
                assert_eq!(
                    page.items.len(),
                    limit as usize,
                    "a page before the last is full"
                );
                assert_eq!(
                    page.items.last().map(|e| e.id.to_string()),
                    Some(next.clone())
                );
                before = Some(next.parse().expect("an audit id"));
            }
            None => break,
        }
    }
    assert_eq!(pages, expected_total.div_ceil(limit as usize).max(1));
    out
}

async fn audit_log_list(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "P", AccountKind::Provider, None).await;
    let r = add_account(&store, "R", AccountKind::Reseller, Some(p.id)).await;
    let c = add_account(&store, "C", AccountKind::Customer, Some(r.id)).await;
    let x = add_account(&store, "X", AccountKind::Customer, None).await;
    let p2 = add_account(&store, "P2", AccountKind::Provider, None).await;
    let mut tx = store.begin().await.expect("begin");
    tx.insert_connection(p.id, x.id).await.expect("connect");
    tx.commit().await.expect("commit");

    // Actors from each account (and none: the operator), entities, actions and times varied.
    let actors: [Option<AccountId>; 6] = [
        Some(p.id),
        Some(r.id),
        Some(c.id),
        Some(x.id),
        Some(p2.id),
        None,
    ];
    let mut events: Vec<(AuditId, NewAudit, i64)> = Vec::new();
    let mut tx = store.begin().await.expect("begin");
    for i in 0..60usize {
        let mut e = audit_event(i, p.id);
        e.actor_account_id = actors[i % actors.len()].map(|a| a.to_string());
        let id = AuditId::new();
        tx.record_as(id, &e).await.expect("audit");
        events.push((id, e, 1_000 + (i as i64) * 10));
    }
    tx.commit().await.expect("commit");
    // Distinct times, one per event, so that time windows are exact.
    let raw = Raw::open(db).await;
    for (id, _, at) in &events {
        raw.exec_one(
            &format!("UPDATE audit_events SET at = {at} WHERE id = $1"),
            &[&id.to_string()],
        )
        .await;
    }
    raw.close().await;

    let scopes: [(&Account, Vec<AccountId>); 5] = [
        (&p, vec![p.id, r.id, c.id]),
        (&r, vec![r.id, c.id]),
        (&c, vec![c.id]),
        (&x, vec![x.id]),
        (&p2, vec![p2.id]),
    ];
    let f = AuditFilter::default;
    let filters = vec![
        f(),
        AuditFilter {
            entity_type: Some("account".into()),
            ..f()
        },
        AuditFilter {
            entity_id: Some("entity-3".into()),
            ..f()
        },
        AuditFilter {
            action: Some("number.allocate".into()),
            ..f()
        },
        AuditFilter {
            since: Some(1_200),
            ..f()
        },
        AuditFilter {
            until: Some(1_200),
            ..f()
        },
        AuditFilter {
            since: Some(1_100),
            until: Some(1_300),
            action: Some("number.add".into()),
            ..f()
        },
        AuditFilter {
            action: Some("nothing".into()),
            ..f()
        },
    ];
    let mut nonempty = 0;
    for (scope, own) in &scopes {
        for filter in &filters {
            let mut want: Vec<AuditId> = events
                .iter()
                .filter(|(_, e, at)| {
                    e.actor_account_id
                        .as_deref()
                        .is_some_and(|a| own.iter().any(|o| o.to_string() == a))
                        && filter
                            .entity_type
                            .as_deref()
                            .is_none_or(|v| e.action.entity_type() == v)
                        && filter.entity_id.as_deref().is_none_or(|v| e.entity_id == v)
                        && filter
                            .action
                            .as_deref()
                            .is_none_or(|v| e.action.as_str() == v)
                        && filter.since.is_none_or(|v| *at >= v)
                        && filter.until.is_none_or(|v| *at < v)
                })
                .map(|(id, _, _)| *id)
                .collect();
            want.sort();
            want.reverse();
            if !want.is_empty() {
                nonempty += 1;
            }
            for limit in [1u32, 3, 100] {
                let got = walk_audit(&store, scope.id, filter, limit, want.len()).await;
                assert_eq!(
                    got, want,
                    "scope {} filter {filter:?} limit {limit}",
                    scope.name
                );
            }
        }
    }
    assert!(
        nonempty >= 15,
        "the fixture exercises the filters ({nonempty})"
    );

    // Events come back whole, and serialise with their JSON snapshots as JSON.
    let mut rd = store.read().await.expect("read");
    let page = rd
        .list_audit(c.id, &AuditFilter::default(), None, 100)
        .await
        .expect("list");
    assert_eq!(page.total, 10);
    for got in &page.items {
        let (_, want, at) = events
            .iter()
            .find(|(id, _, _)| *id == got.id)
            .expect("ours");
        assert!(same_event(got, want));
        assert_eq!(got.at, *at);
    }
    let json = serde_json::to_value(&page.items[0]).expect("serialize");
    // Written as every interface writes a time (SPEC §8.1).
    assert_eq!(
        json["at"].as_str(),
        Some(numberpool_domain::timestamp::rfc3339(page.items[0].at).as_str())
    );
    assert!(json["after"].is_object());
    assert_eq!(
        json["id"].as_str(),
        Some(page.items[0].id.to_string().as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// Attribute keys and the `attribute` number filter (issue 5)
// ---------------------------------------------------------------------------------------------

/// Attribute rows round-trip (unique key per provider, compare-and-set, delete), and the
/// `attribute` filter matches one key with exactly one value on both backends: case-sensitive,
/// with quotes, backslashes and LIKE wildcards taken literally, never across keys or inside
/// another value.
async fn attribute_rows_and_number_filter(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "Provider", AccountKind::Provider, None).await;
    let other = add_account(&store, "Other", AccountKind::Provider, None).await;

    let mut tx = store.begin().await.expect("begin");
    let id = tx
        .insert_attribute(p.id, "region", &["emea".into(), "a\"b".into()])
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    // A failed statement ends a PostgreSQL transaction: the duplicate gets its own.
    let mut tx = store.begin().await.expect("begin");
    assert!(matches!(
        tx.insert_attribute(p.id, "region", &["x".into()]).await,
        Err(StoreError::Duplicate(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    tx.insert_attribute(other.id, "region", &["x".into()])
        .await
        .expect("another provider may use the key");
    let a = tx.get_attribute(id).await.expect("get").expect("found");
    assert_eq!(
        a.allowed_values,
        vec!["emea".to_string(), "a\"b".to_string()]
    );
    let mut next = a.clone();
    next.allowed_values.push("apac".into());
    let stored = tx.update_attribute_cas(&next).await.expect("cas");
    assert_eq!(stored.version, 2);
    assert!(matches!(
        tx.update_attribute_cas(&next).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(tx.list_attributes(p.id).await.expect("list").len(), 1);
    tx.commit().await.expect("commit");

    let tagged = |i: usize, pairs: &[(&str, &str)]| {
        let mut n = plain_number(e164(&format!("+1415555{i:04}")), p.id, p.id);
        n.attributes = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        n
    };
    let numbers = vec![
        tagged(1, &[("region", "emea")]),
        tagged(2, &[("region", "Emea")]),
        tagged(3, &[("region", "a\"b"), ("tier", "gold")]),
        tagged(4, &[("region", "50%_off")]),
        tagged(5, &[("region", "back\\slash")]),
        tagged(6, &[("note", "\"region\":\"emea\"")]),
        tagged(7, &[]),
        tagged(8, &[("subregion", "emea")]),
    ];
    insert_numbers(&store, &numbers).await;
    let cases: [(&str, &str, &[usize]); 10] = [
        ("region", "emea", &[0]),
        ("region", "Emea", &[1]),
        ("region", "EMEA", &[]),
        ("region", "a\"b", &[2]),
        ("tier", "gold", &[2]),
        ("region", "50%_off", &[3]),
        ("region", "50%%off", &[]),
        ("region", "back\\slash", &[4]),
        ("region", "em", &[]),
        ("note", "\"region\":\"emea\"", &[5]),
    ];
    let mut rd = store.read().await.expect("read");
    for (k, v, want) in cases {
        let filter = NumberFilter {
            attribute: Some((k.to_string(), v.to_string())),
            ..Default::default()
        };
        let page = rd
            .list_numbers(p.id, &filter, None, 100)
            .await
            .expect("list");
        let got: BTreeSet<NumberId> = page.items.iter().map(|n| n.id).collect();
        let want: BTreeSet<NumberId> = want.iter().map(|&i| numbers[i].id).collect();
        assert_eq!(got, want, "attribute {k}:{v}");
        assert_eq!(page.total, want.len() as i64, "total of {k}:{v}");
    }
    drop(rd);

    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.attribute_value_in_use(p.id, "region", "a\"b")
            .await
            .expect("in use")
    );
    assert!(
        !tx.attribute_value_in_use(p.id, "region", "apac")
            .await
            .expect("in use")
    );
    assert!(
        !tx.attribute_value_in_use(other.id, "region", "emea")
            .await
            .expect("in use")
    );
    assert!(tx.attribute_key_in_use(p.id, "tier").await.expect("in use"));
    assert!(
        !tx.attribute_key_in_use(p.id, "colour")
            .await
            .expect("in use")
    );
    tx.delete_attribute(id, 2).await.expect("delete");
    assert_eq!(tx.get_attribute(id).await.expect("get"), None);
    tx.commit().await.expect("commit");
}

// ---------------------------------------------------------------------------------------------
// Rate card (issue 5)
// ---------------------------------------------------------------------------------------------

/// Rate card rows round-trip (one per provider, country and type; compare-and-set; delete), the
/// list filters by country and type, and the schema refuses a negative cost or an unknown type.
async fn rate_card_rows(db: &TestDb) {
    let store = db.store().await;
    let p = add_account(&store, "Provider", AccountKind::Provider, None).await;
    let other = add_account(&store, "Other", AccountKind::Provider, None).await;

    let mut tx = store.begin().await.expect("begin");
    let id = tx
        .insert_rate(p.id, "US", NumberType::Local, 100, "USD")
        .await
        .expect("insert");
    tx.insert_rate(p.id, "US", NumberType::TollFree, 0, "USD")
        .await
        .expect("another type");
    tx.insert_rate(p.id, "GB", NumberType::Local, 250, "GBP")
        .await
        .expect("another country");
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    assert!(matches!(
        tx.insert_rate(p.id, "US", NumberType::Local, 5, "USD")
            .await,
        Err(StoreError::Duplicate("rate"))
    ));
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    tx.insert_rate(other.id, "US", NumberType::Local, 100, "USD")
        .await
        .expect("another provider may price the same");
    let r = tx.get_rate(id).await.expect("get").expect("found");
    assert_eq!(
        (
            r.country.as_str(),
            r.number_type,
            r.monthly_cost_cents,
            r.currency.as_str()
        ),
        ("US", NumberType::Local, 100, "USD")
    );
    let count = |v: Vec<numberpool_domain::Rate>| v.len();
    assert_eq!(
        count(tx.list_rates(p.id, None, None).await.expect("list")),
        3
    );
    assert_eq!(
        count(tx.list_rates(p.id, Some("US"), None).await.expect("list")),
        2
    );
    assert_eq!(
        count(
            tx.list_rates(p.id, None, Some(NumberType::Local))
                .await
                .expect("list")
        ),
        2
    );
    assert_eq!(
        count(
            tx.list_rates(p.id, Some("GB"), Some(NumberType::TollFree))
                .await
                .expect("list")
        ),
        0
    );
    let mut next = r.clone();
    next.monthly_cost_cents = 75;
    next.currency = "EUR".into();
    let stored = tx.update_rate_cas(&next).await.expect("cas");
    assert_eq!(stored.version, 2);
    assert!(matches!(
        tx.update_rate_cas(&next).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(tx.get_rate(id).await.expect("get"), Some(stored));
    assert!(matches!(
        tx.delete_rate(id, 1).await,
        Err(StoreError::Conflict)
    ));
    tx.delete_rate(id, 2).await.expect("delete");
    assert_eq!(tx.get_rate(id).await.expect("get"), None);
    tx.commit().await.expect("commit");

    let raw = Raw::open(db).await;
    let pid = p.id.to_string();
    for (ty, cents) in [("local", "-1"), ("fixed", "1")] {
        let sql = format!(
            "INSERT INTO rate_card (id, provider_id, country, number_type, monthly_cost_cents, \
             created_at) VALUES ('x-{ty}', $1, 'FR', '{ty}', {cents}, 0)"
        );
        assert!(raw.exec(&sql, &[&pid]).await.is_err(), "{ty} {cents}");
    }
    raw.close().await;
}

// ---------------------------------------------------------------------------------------------
// Jobs (migration 0008)
// ---------------------------------------------------------------------------------------------

fn new_job(queue: &str, kind: &str, run_after: i64) -> NewJob {
    NewJob {
        queue: queue.into(),
        kind: kind.into(),
        payload: json!({"n": 1, "s": "ü"}),
        unique_key: None,
        max_attempts: 3,
        run_after,
    }
}

async fn enqueue(store: &Store, job: &NewJob, now: i64) -> Option<JobId> {
    let mut tx = store.begin().await.expect("begin");
    let id = tx.enqueue_job(job, now).await.expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

async fn claim(store: &Store, queue: &str, kinds: &[&str], now: i64, lease: i64) -> Option<Job> {
    let mut tx = store.begin().await.expect("begin");
    let job = tx.claim_job(queue, kinds, now, lease).await.expect("claim");
    tx.commit().await.expect("commit");
    job
}

async fn wake(store: &Store, job: &NewJob, now: i64) {
    let mut tx = store.begin().await.expect("begin");
    tx.wake_job(job, now).await.expect("wake");
    tx.commit().await.expect("commit");
}

/// A wake reaches a job of its key in every state: none (queued now), queued for later (due
/// now), running (queued again when the claim ends, whichever way it ends short of failing for
/// good), and a claim clears an earlier wake (the run reads what the wake's commit wrote).
async fn jobs_woken_while_running_run_again(db: &TestDb) {
    let store = db.store().await;
    let t = 1_700_000_000_000;
    let mut job = new_job("w", "deliver", t);
    job.unique_key = Some("deliver:1".into());
    let state = |id: JobId| {
        let store = store.clone();
        async move {
            let mut rd = store.read().await.expect("read");
            let j = rd.get_job(id).await.expect("get").expect("stored");
            (j.state, j.run_after)
        }
    };

    wake(&store, &job, t).await;
    let running = claim(&store, "w", &["deliver"], t, 1_000)
        .await
        .expect("a wake with nothing unfinished queues the job");
    let id = running.id;
    // The event that wakes it commits while it runs: it is not queued twice, and the end of
    // this claim queues it again instead of marking it done.
    wake(&store, &job, t + 5).await;
    assert!(
        enqueue(&store, &job, t + 5).await.is_none(),
        "still one unfinished job per key"
    );
    let mut tx = store.begin().await.expect("begin");
    tx.complete_job(id, 1, t + 10).await.expect("complete");
    tx.commit().await.expect("commit");
    assert_eq!(
        state(id).await,
        (JobState::Queued, t + 10),
        "runs again now"
    );

    // Claimed again: the claim clears the wake, so this run ends done.
    let again = claim(&store, "w", &["deliver"], t + 10, 1_000)
        .await
        .expect("claim again");
    assert_eq!((again.id, again.attempts), (id, 2));
    let mut tx = store.begin().await.expect("begin");
    tx.complete_job(id, 2, t + 20).await.expect("complete");
    tx.commit().await.expect("commit");
    assert_eq!(state(id).await.0, JobState::Done);

    // A run that asks to wait (a delivery's retry) and is woken meanwhile runs now.
    wake(&store, &job, t + 30).await;
    let waiting = claim(&store, "w", &["deliver"], t + 30, 1_000)
        .await
        .expect("claim");
    wake(&store, &job, t + 35).await;
    let mut tx = store.begin().await.expect("begin");
    tx.fail_job(waiting.id, 1, "later", JobRetry::At(t + 60_000), t + 40)
        .await
        .expect("retry later");
    tx.commit().await.expect("commit");
    assert_eq!(state(waiting.id).await, (JobState::Queued, t + 40));

    // Queued for later and woken: due now; not woken: it keeps its time.
    let second = claim(&store, "w", &["deliver"], t + 40, 1_000)
        .await
        .expect("claim");
    let mut tx = store.begin().await.expect("begin");
    tx.fail_job(second.id, 2, "later", JobRetry::At(t + 60_000), t + 50)
        .await
        .expect("retry later");
    tx.commit().await.expect("commit");
    assert_eq!(state(second.id).await, (JobState::Queued, t + 60_000));
    wake(&store, &job, t + 55).await;
    assert_eq!(state(second.id).await, (JobState::Queued, t + 55));

    // Failing for good is final, woken or not.
    let last = claim(&store, "w", &["deliver"], t + 55, 1_000)
        .await
        .expect("claim");
    wake(&store, &job, t + 56).await;
    let mut tx = store.begin().await.expect("begin");
    tx.fail_job(last.id, 3, "boom", JobRetry::Never, t + 57)
        .await
        .expect("fail");
    tx.commit().await.expect("commit");
    assert_eq!(state(last.id).await.0, JobState::Failed);
}

async fn jobs_queue(db: &TestDb) {
    let store = db.store().await;
    let t = 1_000_000;
    let a = enqueue(&store, &new_job("q1", "k1", t - 10), t)
        .await
        .expect("a");
    let b = enqueue(&store, &new_job("q1", "k2", t - 5), t)
        .await
        .expect("b");
    let c = enqueue(&store, &new_job("q2", "k1", t), t)
        .await
        .expect("c");
    let later = enqueue(&store, &new_job("q1", "k1", t + 1_000), t)
        .await
        .expect("later");

    let mut rd = store.read().await.expect("read");
    let stored = rd.get_job(a).await.expect("get").expect("a stored");
    drop(rd);
    assert_eq!(
        (
            stored.state,
            stored.attempts,
            stored.max_attempts,
            stored.run_after
        ),
        (JobState::Queued, 0, 3, t - 10)
    );
    assert_eq!(
        stored.payload,
        json!({"n": 1, "s": "ü"}),
        "payload round trip"
    );
    assert_eq!(
        (stored.lease_until, stored.last_error, stored.progress),
        (None, None, None)
    );

    // A claim takes the due job of the queue and kinds asked for, oldest first.
    let got = claim(&store, "q1", &["k1"], t, 60_000)
        .await
        .expect("claims a");
    assert_eq!(got.id, a);
    assert_eq!(
        (got.state, got.attempts, got.lease_until, got.updated_at),
        (JobState::Running, 1, Some(t + 60_000), t)
    );
    assert_eq!(
        claim(&store, "q1", &["k1"], t, 60_000).await,
        None,
        "later is not due"
    );
    assert_eq!(
        claim(&store, "q1", &[], t, 60_000).await,
        None,
        "no kinds, no claim"
    );
    assert_eq!(
        claim(&store, "q3", &["k1", "k2"], t, 60_000).await,
        None,
        "other queue"
    );
    let got_b = claim(&store, "q1", &["k1", "k2"], t, 60_000)
        .await
        .expect("claims b");
    assert_eq!(got_b.id, b);

    // Finishing is fenced by the claim's attempts.
    let mut tx = store.begin().await.expect("begin");
    assert!(matches!(
        tx.complete_job(a, 2, t + 1).await,
        Err(StoreError::Conflict)
    ));
    tx.complete_job(a, 1, t + 1).await.expect("complete");
    assert!(
        matches!(
            tx.complete_job(a, 1, t + 2).await,
            Err(StoreError::Conflict)
        ),
        "twice"
    );
    tx.set_job_progress(b, 1, &json!({"done": 5}), t + 1)
        .await
        .expect("progress");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let done = rd.get_job(a).await.expect("get").expect("a");
    assert_eq!(
        (done.state, done.lease_until, done.updated_at),
        (JobState::Done, None, t + 1)
    );
    let running_b = rd.get_job(b).await.expect("get").expect("b");
    assert_eq!(running_b.progress, Some(json!({"done": 5})));
    drop(rd);

    // A lease that runs out lets another worker claim the job again; the first claim is then
    // fenced off from renewing or finishing it.
    let first = claim(&store, "q2", &["k1"], t, 100)
        .await
        .expect("claims c");
    assert_eq!((first.id, first.attempts), (c, 1));
    assert_eq!(
        claim(&store, "q2", &["k1"], t + 100, 100).await,
        None,
        "lease still holds"
    );
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.renew_job_lease(c, 1, t + 150, t + 50)
            .await
            .expect("renew")
    );
    tx.commit().await.expect("commit");
    assert_eq!(
        claim(&store, "q2", &["k1"], t + 120, 100).await,
        None,
        "renewed lease holds"
    );
    let second = claim(&store, "q2", &["k1"], t + 151, 100)
        .await
        .expect("claimed again");
    assert_eq!((second.id, second.attempts), (c, 2));
    let mut tx = store.begin().await.expect("begin");
    assert!(
        !tx.renew_job_lease(c, 1, t + 500, t + 152)
            .await
            .expect("renew"),
        "stale claim"
    );
    assert!(matches!(
        tx.complete_job(c, 1, t + 152).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        tx.fail_job(c, 1, "stale", JobRetry::Never, t + 152).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        tx.set_job_progress(c, 1, &json!(1), t + 152).await,
        Err(StoreError::Conflict)
    ));
    assert!(
        tx.renew_job_lease(c, 2, t + 500, t + 152)
            .await
            .expect("renew")
    );

    // A failed attempt is queued again for later, or failed for good.
    let long = "e".repeat(5_000);
    tx.fail_job(c, 2, &long, JobRetry::At(t + 1_000), t + 160)
        .await
        .expect("fail");
    tx.fail_job(b, 1, "boom", JobRetry::Never, t + 160)
        .await
        .expect("fail b");
    tx.commit().await.expect("commit");
    let mut rd = store.read().await.expect("read");
    let retried = rd.get_job(c).await.expect("get").expect("c");
    assert_eq!(
        (
            retried.state,
            retried.run_after,
            retried.lease_until,
            retried.attempts
        ),
        (JobState::Queued, t + 1_000, None, 2)
    );
    assert_eq!(
        retried.last_error.as_deref().map(str::len),
        Some(2_000),
        "error truncated"
    );
    let failed = rd.get_job(b).await.expect("get").expect("b");
    assert_eq!(
        (failed.state, failed.last_error.as_deref()),
        (JobState::Failed, Some("boom"))
    );
    drop(rd);
    assert_eq!(
        claim(&store, "q2", &["k1"], t + 999, 100).await,
        None,
        "backoff holds"
    );
    let third = claim(&store, "q2", &["k1"], t + 1_000, 100)
        .await
        .expect("retry");
    assert_eq!((third.id, third.attempts), (c, 3));
    assert_eq!(
        claim(&store, "q1", &["k2"], t + 10_000, 100).await,
        None,
        "failed is final"
    );

    // A unique key admits one unfinished job at a time.
    let mut periodic = new_job("q1", "tick", t);
    periodic.unique_key = Some("tick".into());
    let p1 = enqueue(&store, &periodic, t).await.expect("first tick");
    assert_eq!(
        enqueue(&store, &periodic, t).await,
        None,
        "queued one blocks"
    );
    let running = claim(&store, "q1", &["tick"], t, 100)
        .await
        .expect("claim tick");
    assert_eq!(running.unique_key.as_deref(), Some("tick"));
    assert_eq!(
        enqueue(&store, &periodic, t).await,
        None,
        "running one blocks"
    );
    let mut tx = store.begin().await.expect("begin");
    tx.complete_job(p1, 1, t + 1).await.expect("complete");
    let p2 = tx
        .enqueue_job(&periodic, t + 1)
        .await
        .expect("enqueue")
        .expect("after done");
    tx.commit().await.expect("commit");
    assert_ne!(p1, p2);

    let mut rd = store.read().await.expect("read");
    let ticks = rd.list_jobs("tick", 10).await.expect("list");
    assert_eq!(
        ticks.iter().map(|j| (j.id, j.state)).collect::<Vec<_>>(),
        [(p1, JobState::Done), (p2, JobState::Queued)]
    );
    drop(rd);

    // The purge removes finished jobs older than the cut, nothing else.
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        tx.purge_finished_jobs(t + 1).await.expect("purge"),
        0,
        "a finished at t+1"
    );
    assert_eq!(
        tx.purge_finished_jobs(t + 1_000_000).await.expect("purge"),
        3,
        "a, b, p1"
    );
    tx.commit().await.expect("commit");
    let raw = Raw::open(db).await;
    assert_eq!(raw.count("jobs").await, 3, "c, later, p2 remain");
    // The stored state is one of four, whatever writes it.
    let id = later.to_string();
    assert!(
        raw.exec("UPDATE jobs SET state = 'paused' WHERE id = $1", &[&id])
            .await
            .is_err()
    );
    raw.exec_one("UPDATE jobs SET payload = 'not json' WHERE id = $1", &[&id])
        .await;
    raw.close().await;
    let mut rd = store.read().await.expect("read");
    assert!(matches!(
        rd.get_job(later).await,
        Err(StoreError::Corrupt(_))
    ));
}

async fn jobs_concurrent_claims_take_each_job_once(db: &TestDb) {
    let store = db.store().await;
    let t = now_ms();
    let mut tx = store.begin().await.expect("begin");
    for _ in 0..60 {
        tx.enqueue_job(&new_job("q", "k", t - 1), t)
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = claim(&store, "q", &["k"], t, 60_000).await {
                let mut tx = store.begin().await.expect("begin");
                tx.complete_job(job.id, job.attempts, t)
                    .await
                    .expect("complete");
                tx.commit().await.expect("commit");
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let distinct: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every job claimed once");
    assert_eq!(distinct.len(), 60, "no job claimed twice");
}

/// A reservation's lease (issue 11): renewed only while in progress, taken over only once it
/// has lapsed, and a reservation from before leases lapses five minutes after it was made.
async fn idempotency_leases(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.idem_reserve("o", "k", "h", 1_000, 0)
            .await
            .expect("reserve")
    );
    assert!(tx.idem_lease("o", "k", 7_000).await.expect("lease"));
    assert!(!tx.idem_lease("o", "other", 7_000).await.expect("lease"));
    // Live at 6,999: not taken over; lapsed at 7,001: taken over, once.
    assert!(
        !tx.idem_take_over_lapsed("o", "k", 6_999)
            .await
            .expect("take")
    );
    assert!(tx.idem_lease("o", "k", 9_000).await.expect("renew"));
    assert!(
        !tx.idem_take_over_lapsed("o", "k", 8_999)
            .await
            .expect("take")
    );
    assert!(
        tx.idem_take_over_lapsed("o", "k", 9_001)
            .await
            .expect("take")
    );
    assert!(
        !tx.idem_take_over_lapsed("o", "k", 9_001)
            .await
            .expect("take")
    );
    assert!(
        tx.idem_reserve("o", "k", "h", 9_001, 0)
            .await
            .expect("reserve again")
    );
    // A completed record is neither renewed nor taken over.
    tx.idem_complete("o", "k", 201, "{}")
        .await
        .expect("complete");
    assert!(!tx.idem_lease("o", "k", 20_000).await.expect("lease"));
    assert!(
        !tx.idem_take_over_lapsed("o", "k", i64::MAX)
            .await
            .expect("take")
    );
    // Without a lease (made before the column existed): five minutes after created_at.
    assert!(
        tx.idem_reserve("o", "old", "h", 1_000, 0)
            .await
            .expect("reserve")
    );
    assert!(
        !tx.idem_take_over_lapsed("o", "old", 300_999)
            .await
            .expect("take")
    );
    assert!(
        tx.idem_take_over_lapsed("o", "old", 301_001)
            .await
            .expect("take")
    );
    tx.commit().await.expect("commit");
}
