//! R-ALLOC-1 under contention: many moves of one number at once, through one Application on
//! SQLite and two Applications sharing the database on PostgreSQL (two servers, one database).
//! Exactly one move wins, every loser is told why, the number ends where the winner put it,
//! and the audit log holds the winning move only. No sleeps and no timing: a barrier releases
//! all tasks together, and only outcomes are asserted.
//!
//! What the losers see differs by backend, and each race asserts it exactly:
//! - SQLite: `Store::begin` is `BEGIN IMMEDIATE`, so write transactions run one after another
//!   and every loser reads the winner's committed state. Its refusal is the domain check on
//!   that state: allocate → `conflict` R-ALLOC-1 (not free), release → `not_found` (the number
//!   left the customer's scope), unbind → `rule_violation` R-MOVE-4 (already free), delete →
//!   `not_found` (gone). A lost compare-and-set never happens there.
//! - PostgreSQL (read committed): a loser that read the number before the winner committed
//!   loses the compare-and-set on its version (`conflict` R-ALLOC-1); one that read it after
//!   gets the same domain refusal as on SQLite. Which of the two each loser gets depends on
//!   scheduling, so the test asserts the set of codes, not the split.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use numberpool::service::{Actor, Service, ServiceError};
use numberpool::startup::Application;
use numberpool_domain::{Account, AccountKind, Number, Position, TrunkId};
use numberpool_store::testing::TestDb;
use numberpool_store::{AuditEvent, Store};

use crate::fixture::*;

/// Concurrent moves per race.
const RACERS: usize = 64;
/// Races per case, each on a fresh number: a lost update that needs an unlucky interleaving
/// gets several chances to show.
const ROUNDS: u32 = 5;

type Outcome = Result<Number, ServiceError>;

struct Arena {
    apps: Vec<Application>,
    postgres: bool,
    provider: Account,
    /// 64 customers, children of the provider: one allocation target per racer.
    customers: Vec<Account>,
    trunk: TrunkId,
}

impl Arena {
    async fn new(db: &TestDb) -> Arena {
        let apps = applications(db).await;
        assert_eq!(apps.len(), if is_postgres(db) { 2 } else { 1 });
        let svc = apps[0].service();
        let provider = account(svc, "Racing provider", AccountKind::Provider, None, false).await;
        let mut customers = Vec::with_capacity(RACERS);
        for i in 0..RACERS {
            let name = format!("Racing customer {i:02}");
            customers
                .push(account(svc, &name, AccountKind::Customer, Some(&provider), false).await);
        }
        let trunk = trunk(svc.store(), &provider, "race-trunk").await;
        Arena {
            postgres: is_postgres(db),
            apps,
            provider,
            customers,
            trunk,
        }
    }

    fn service(&self) -> &Service {
        self.apps[0].service()
    }

    fn store(&self) -> &Store {
        self.service().store()
    }

    fn p(&self) -> Actor {
        as_(&self.provider)
    }

    /// A fresh free number in the provider's pool, added through the first instance.
    async fn free(&self, i: u32) -> Number {
        let mut v = self
            .service()
            .add_numbers(&self.p(), vec![add(&e164(i))])
            .await
            .must("add");
        v.pop().must("added")
    }

    /// A fresh number held by `customers[c]`.
    async fn held(&self, i: u32, c: usize) -> Number {
        let n = self.free(i).await;
        self.service()
            .allocate(
                &self.p(),
                &by_id(&n),
                self.customers[c].id,
                with_trunk(self.trunk),
            )
            .await
            .must("allocate")
    }

    /// A fresh number released back to the provider (`returned`).
    async fn returned(&self, i: u32, c: usize) -> Number {
        let n = self.held(i, c).await;
        self.service()
            .release(&as_(&self.customers[c]), &by_id(&n))
            .await
            .must("release")
    }

    /// Runs `RACERS` moves at once, racer `i` through instance `i % instances`, and returns
    /// their outcomes in racer order.
    async fn race<F, Fut>(&self, mv: F) -> Vec<Outcome>
    where
        F: Fn(usize, Service) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let mut tasks = Vec::with_capacity(RACERS);
        for i in 0..RACERS {
            let svc = self.apps[i % self.apps.len()].service().clone();
            let go = mv(i, svc);
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                go.await
            }));
        }
        let mut out = Vec::with_capacity(RACERS);
        for t in tasks {
            out.push(t.await.must("racer task"));
        }
        out
    }

    async fn audit(&self, action: Action, n: &Number) -> Vec<AuditEvent> {
        let mut r = self.store().read().await.must("read");
        let all = r.audit_by_action(action).await.must("audit_by_action");
        let id = n.id.to_string();
        all.into_iter().filter(|e| e.entity_id == id).collect()
    }

    async fn close(self) {
        for app in &self.apps {
            app.service().store().close().await;
        }
    }
}

/// The code and rule of a loser, with how it lost: `cas` for a lost compare-and-set, `check`
/// for a domain refusal of the state the winner left, `scope` for not found.
fn how(e: &ServiceError) -> (&'static str, Option<&'static str>, &'static str) {
    let how = match e {
        ServiceError::Conflict(_) => "cas",
        ServiceError::Rule(_) => "check",
        ServiceError::NotFound(_) => "scope",
        _ => "other",
    };
    (e.code(), e.rule(), how)
}

type Tally = BTreeMap<(&'static str, Option<&'static str>, &'static str), usize>;

/// Exactly one winner: its index and number, and a tally of the losers' refusals.
#[track_caller]
fn one_winner(what: &str, results: Vec<Outcome>) -> (usize, Number, Tally) {
    let mut winners = Vec::new();
    let mut tally = Tally::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(n) => winners.push((i, n)),
            Err(e) => *tally.entry(how(&e)).or_default() += 1,
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "{what}: exactly one of {RACERS} must win; winners {:?}, losers {tally:?}",
        winners.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    let (i, n) = winners.remove(0);
    assert_eq!(tally.values().sum::<usize>(), RACERS - 1);
    (i, n, tally)
}

/// Asserts every loser's (code, rule) is one of `allowed`.
#[track_caller]
fn losers_only(what: &str, tally: &Tally, allowed: &[(&str, Option<&str>)]) {
    for (code, rule, _) in tally.keys() {
        assert!(
            allowed.contains(&(*code, *rule)),
            "{what}: unexpected loser refusal {code} {rule:?}; all: {tally:?}"
        );
    }
}

const CONFLICT: (&str, Option<&str>) = ("conflict", Some("R-ALLOC-1"));
const NOT_FOUND: (&str, Option<&str>) = ("not_found", Some("R-SEC-1"));
const MOVE_4: (&str, Option<&str>) = ("rule_violation", Some("R-MOVE-4"));
const DEL_1: (&str, Option<&str>) = ("rule_violation", Some("R-DEL-1"));

/// Prints the losers' refusals (visible with `--nocapture`): the report of what each backend
/// answered.
fn report(arena: &Arena, what: &str, round: u32, tally: &Tally) {
    let backend = if arena.postgres { "postgres" } else { "sqlite" };
    eprintln!("[{backend}] {what} round {round}: losers {tally:?}");
}

/// 64 allocations of one free number to 64 different customers.
async fn allocate_race(db: &TestDb) {
    let a = Arena::new(db).await;
    for round in 0..ROUNDS {
        let n = a.free(800 + round).await;
        let results = a
            .race(|i, svc| {
                let (actor, lookup) = (a.p(), by_id(&n));
                let (target, opts) = (a.customers[i].id, with_trunk(a.trunk));
                async move { svc.allocate(&actor, &lookup, target, opts).await }
            })
            .await;
        let (w, won, tally) = one_winner("allocate", results);
        report(&a, "allocate", round, &tally);
        // Every loser is a `conflict` (R-ALLOC-1) on both backends, however it lost.
        losers_only("allocate", &tally, &[CONFLICT]);
        if !a.postgres {
            assert_eq!(tally.keys().map(|k| k.2).collect::<Vec<_>>(), ["check"]);
        }
        let winner = &a.customers[w];
        let now = a.service().get_number(&a.p(), &by_id(&n)).await.must("get");
        assert_eq!(now, won, "the stored number is the winner's write");
        assert_eq!(
            (now.holder_id, now.customer_id, now.position, now.version),
            (winner.id, Some(winner.id), Position::Held, n.version + 1)
        );
        // The winner, and only the winner, sees it.
        for (i, c) in a.customers.iter().enumerate() {
            let seen = a.service().get_number(&as_(c), &by_id(&n)).await;
            assert_eq!(seen.is_ok(), i == w, "customer {i} after the race");
        }
        let events = a.audit(Action::NumberAllocate, &n).await;
        assert_eq!(events.len(), 1, "one allocate event for {}", n.phone_number);
        let after = events[0].after.as_ref().must("after");
        assert_eq!(after["holder_id"], winner.id.to_string());
        assert_eq!(after["customer_id"], winner.id.to_string());
        assert_eq!(
            actions(&audit_for(a.store(), &n.id.to_string()).await),
            [Action::NumberAdd, Action::NumberAllocate]
        );
    }
    let mut r = a.store().read().await.must("read");
    let all = r
        .audit_by_action(Action::NumberAllocate)
        .await
        .must("audit");
    assert_eq!(all.len(), ROUNDS as usize, "one allocate event per round");
    drop(r);
    a.close().await;
}

/// 64 releases of one held number by its customer.
async fn release_race(db: &TestDb) {
    let a = Arena::new(db).await;
    for round in 0..ROUNDS {
        let c = &a.customers[round as usize];
        let n = a.held(810 + round, round as usize).await;
        let results = a
            .race(|_, svc| {
                let (actor, lookup) = (as_(c), by_e164(&n));
                async move { svc.release(&actor, &lookup).await }
            })
            .await;
        let (_, won, tally) = one_winner("release", results);
        report(&a, "release", round, &tally);
        if a.postgres {
            // Lost compare-and-set, or read after the winner: no longer the customer's.
            losers_only("release", &tally, &[CONFLICT, NOT_FOUND]);
        } else {
            // Serialised writers: every loser finds the number gone from its scope.
            losers_only("release", &tally, &[NOT_FOUND]);
        }
        let now = a.service().get_number(&a.p(), &by_id(&n)).await.must("get");
        assert_eq!(now, won);
        assert_eq!(
            (now.holder_id, now.customer_id, now.position, now.version),
            (a.provider.id, None, Position::Returned, n.version + 1)
        );
        hidden(
            a.service().get_number(&as_(c), &by_id(&n)).await,
            "the customer after release",
        );
        let events = a.audit(Action::NumberRelease, &n).await;
        assert_eq!(events.len(), 1, "one release event");
        assert_eq!(events[0].actor_account_id, Some(c.id.to_string()));
        assert_eq!(
            actions(&audit_for(a.store(), &n.id.to_string()).await),
            [
                Action::NumberAdd,
                Action::NumberAllocate,
                Action::NumberRelease
            ]
        );
    }
    a.close().await;
}

/// 64 unbinds of one returned number by the provider.
async fn unbind_race(db: &TestDb) {
    let a = Arena::new(db).await;
    for round in 0..ROUNDS {
        let n = a.returned(820 + round, round as usize).await;
        let results = a
            .race(|_, svc| {
                let (actor, lookup) = (a.p(), by_id(&n));
                async move { svc.unbind(&actor, &lookup).await }
            })
            .await;
        let (_, won, tally) = one_winner("unbind", results);
        report(&a, "unbind", round, &tally);
        if a.postgres {
            // Lost compare-and-set, or read the number already free (R-MOVE-4).
            losers_only("unbind", &tally, &[CONFLICT, MOVE_4]);
        } else {
            losers_only("unbind", &tally, &[MOVE_4]);
        }
        let now = a.service().get_number(&a.p(), &by_id(&n)).await.must("get");
        assert_eq!(now, won);
        assert_eq!(
            (now.holder_id, now.position, now.sip_trunk_id, now.version),
            (a.provider.id, Position::Free, None, n.version + 1)
        );
        assert_eq!(
            a.audit(Action::NumberUnbind, &n).await.len(),
            1,
            "one unbind event"
        );
        assert_eq!(
            actions(&audit_for(a.store(), &n.id.to_string()).await),
            [
                Action::NumberAdd,
                Action::NumberAllocate,
                Action::NumberRelease,
                Action::NumberUnbind
            ]
        );
    }
    a.close().await;
}

/// 64 deletes of one number by the provider: free in even rounds, returned in odd ones.
async fn delete_race(db: &TestDb) {
    let a = Arena::new(db).await;
    for round in 0..ROUNDS {
        let returned = round % 2 == 1;
        let n = if returned {
            a.returned(830 + round, round as usize).await
        } else {
            a.free(830 + round).await
        };
        let results = a
            .race(|i, svc| {
                // Half by id, half by E.164: both name the same row.
                let (actor, lookup) = (a.p(), if i % 4 < 2 { by_id(&n) } else { by_e164(&n) });
                async move { svc.delete_number(&actor, &lookup, None).await }
            })
            .await;
        let (_, won, tally) = one_winner("delete", results);
        report(&a, "delete", round, &tally);
        if a.postgres {
            // Lost compare-and-set (the row changed or vanished under it), or not there.
            losers_only("delete", &tally, &[CONFLICT, NOT_FOUND]);
        } else {
            losers_only("delete", &tally, &[NOT_FOUND]);
        }
        assert_eq!(won.id, n.id);
        hidden(
            a.service().get_number(&a.p(), &by_id(&n)).await,
            "after delete",
        );
        let events = a.audit(Action::NumberDelete, &n).await;
        assert_eq!(events.len(), 1, "one delete event");
        assert_eq!(
            events[0].before.as_ref().must("before")["version"],
            serde_json::json!(n.version)
        );
        let history = audit_for(a.store(), &n.id.to_string()).await;
        let expect: &[Action] = if returned {
            &[
                Action::NumberAdd,
                Action::NumberAllocate,
                Action::NumberRelease,
                Action::NumberDelete,
            ]
        } else {
            &[Action::NumberAdd, Action::NumberDelete]
        };
        assert_eq!(actions(&history), expect);
        // The number can be added again: nothing of it is left in the numbers table.
        let again = a.free(830 + round).await;
        assert_ne!(again.id, n.id);
    }
    a.close().await;
}

/// Allocations and deletes of one free number at once: one move in all wins.
async fn allocate_delete_race(db: &TestDb) {
    let a = Arena::new(db).await;
    let (mut allocated, mut deleted) = (0, 0);
    for round in 0..ROUNDS {
        let n = a.free(840 + round).await;
        // Racer i allocates when (i / 2) is even, else deletes: both kinds on both instances.
        let allocates = |i: usize| (i / 2).is_multiple_of(2);
        let results = a
            .race(|i, svc| {
                let (actor, lookup) = (a.p(), by_id(&n));
                let (target, opts) = (a.customers[i].id, with_trunk(a.trunk));
                let alloc = allocates(i);
                async move {
                    if alloc {
                        svc.allocate(&actor, &lookup, target, opts).await
                    } else {
                        svc.delete_number(&actor, &lookup, None).await
                    }
                }
            })
            .await;
        let mut by_kind: [Tally; 2] = [Tally::new(), Tally::new()];
        for (i, r) in results.iter().enumerate() {
            if let Err(e) = r {
                *by_kind[usize::from(!allocates(i))]
                    .entry(how(e))
                    .or_default() += 1;
            }
        }
        let (w, won, tally) = one_winner("allocate vs delete", results);
        report(&a, "allocate vs delete", round, &tally);
        let [alloc_losers, delete_losers] = &by_kind;
        let now = a.service().get_number(&a.p(), &by_id(&n)).await;
        if allocates(w) {
            allocated += 1;
            let now = now.must("allocated number");
            assert_eq!(now, won);
            assert_eq!(now.holder_id, a.customers[w].id);
            // Other allocations: not free any more; deletes: it is with a customer (R-DEL-1).
            losers_only("allocate vs delete: allocations", alloc_losers, &[CONFLICT]);
            if a.postgres {
                losers_only(
                    "allocate vs delete: deletes",
                    delete_losers,
                    &[CONFLICT, DEL_1],
                );
            } else {
                losers_only("allocate vs delete: deletes", delete_losers, &[DEL_1]);
            }
            assert!(a.audit(Action::NumberDelete, &n).await.is_empty());
            assert_eq!(a.audit(Action::NumberAllocate, &n).await.len(), 1);
        } else {
            deleted += 1;
            hidden(now, "deleted number");
            if a.postgres {
                losers_only("allocate vs delete", &tally, &[CONFLICT, NOT_FOUND]);
            } else {
                losers_only("allocate vs delete", &tally, &[NOT_FOUND]);
            }
            assert!(a.audit(Action::NumberAllocate, &n).await.is_empty());
            assert_eq!(a.audit(Action::NumberDelete, &n).await.len(), 1);
        }
    }
    eprintln!("allocate vs delete: allocate won {allocated}, delete won {deleted}");
    a.close().await;
}

numberpool_store::backend_tests!(
    allocate_race,
    release_race,
    unbind_race,
    delete_race,
    allocate_delete_race
);
