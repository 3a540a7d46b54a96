//! The event outbox: a row per recorded audit event, written by [`Tx::record`] in the event's
//! transaction, read in id order by the consumers that tell others about changes
//! (notifications, webhooks). Why the ids commit in order is in `0009_outbox.sql`.

use std::collections::BTreeSet;

use numberpool_domain::{AccountId, Action, AuditId};

use crate::audit::NewAudit;
use crate::rows::{parse, parse_opt};
use crate::{Reader, Result, Tx, on_conn};

/// One outbox row: an audit event as its consumers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The position in the outbox: a consumer keeps the last one it handled as its cursor.
    pub id: i64,
    pub audit_id: AuditId,
    pub action: Action,
    pub entity_type: String,
    pub entity_id: String,
    pub actor_account_id: Option<AccountId>,
    /// The accounts the event concerns (see `0009_outbox.sql`), sorted, without repeats.
    pub accounts: Vec<AccountId>,
    pub at: i64,
}

type OutboxRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
);

/// Snapshot fields that name an account: a number's holder, owner, customer, uploader and
/// allocator, an account's parent, a connection's provider and customer, a credential's account,
/// a reservation's pool and the account it holds numbers for.
const ACCOUNT_KEYS: &[&str] = &[
    "holder_id",
    "owner_id",
    "customer_id",
    "uploaded_by",
    "allocated_from",
    "parent_id",
    "provider_id",
    "account_id",
    "pool_id",
    "for_account_id",
];

/// The accounts `e` concerns, space-separated and sorted (the `accounts` column).
fn accounts_of(e: &NewAudit) -> String {
    let mut set: BTreeSet<AccountId> = BTreeSet::new();
    let mut add = |s: &str| {
        if let Ok(id) = s.parse::<AccountId>() {
            set.insert(id);
        }
    };
    if let Some(a) = &e.actor_account_id {
        add(a);
    }
    if e.action.entity_type() == "account" {
        add(&e.entity_id);
    }
    for snap in [&e.before, &e.after].into_iter().flatten() {
        for key in ACCOUNT_KEYS {
            if let Some(v) = snap.get(key).and_then(|v| v.as_str()) {
                add(v);
            }
        }
    }
    set.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Tx {
    /// The outbox rows of `events` (audit ids `ids`, recorded at `at`).
    pub(crate) async fn write_outbox(
        &mut self,
        ids: &[String],
        at: i64,
        events: &[NewAudit],
    ) -> Result<()> {
        let accounts: Vec<String> = events.iter().map(accounts_of).collect();
        if self.backend() == crate::Backend::Postgres {
            // Held to commit: ids are handed out in commit order (0009_outbox.sql), and every
            // row past the head read below is this transaction's.
            on_conn!(self, c => {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(OUTBOX_LOCK)
                    .execute(&mut *c)
                    .await?;
            });
        }
        let before = self.outbox_head().await?;
        crate::per_backend!(self, c =>
            sqlite: {
                // One transaction writes at a time on SQLite: the ids are in commit order already.
                for ((chunk_ids, chunk), chunk_accounts) in
                    ids.chunks(2000).zip(events.chunks(2000)).zip(accounts.chunks(2000))
                {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO outbox (audit_id, action, entity_type, entity_id, \
                         actor_account_id, accounts, at) ",
                    );
                    q.push_values(
                        chunk_ids.iter().zip(chunk).zip(chunk_accounts),
                        |mut b, ((id, e), acc)| {
                            b.push_bind(id.clone())
                                .push_bind(e.action.as_str())
                                .push_bind(e.action.entity_type())
                                .push_bind(e.entity_id.clone())
                                .push_bind(e.actor_account_id.clone())
                                .push_bind(acc.clone())
                                .push_bind(at);
                        },
                    );
                    q.build().execute(&mut *c).await?;
                }
            },
            postgres: {
                let col = |f: &dyn Fn(&NewAudit) -> Option<String>| {
                    events.iter().map(f).collect::<Vec<Option<String>>>()
                };
                sqlx::query(
                    "INSERT INTO outbox (audit_id, action, entity_type, entity_id, \
                     actor_account_id, accounts, at) \
                     SELECT a, b, c, d, e, f, $7 FROM UNNEST($1::text[], $2::text[], $3::text[], \
                     $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(a, b, c, d, e, f, n) \
                     ORDER BY n",
                )
                .bind(ids)
                .bind(col(&|e| Some(e.action.as_str().to_string())))
                .bind(col(&|e| Some(e.action.entity_type().to_string())))
                .bind(col(&|e| Some(e.entity_id.clone())))
                .bind(col(&|e| e.actor_account_id.clone()))
                .bind(&accounts)
                .bind(at)
                .execute(&mut *c)
                .await?;
            },
        );
        let named = self.index_outbox_accounts(before).await?;
        self.wake_webhooks(&named, at).await
    }

    /// The outbox's last id (0 when empty). Every row past it is this transaction's: SQLite
    /// writes one transaction at a time, and on PostgreSQL the caller holds the outbox lock.
    async fn outbox_head(&mut self) -> Result<i64> {
        let row: (Option<i64>,) = on_conn!(self, c => {
            sqlx::query_as("SELECT MAX(id) FROM outbox").fetch_one(&mut *c).await?
        });
        Ok(row.0.unwrap_or(0))
    }

    /// `outbox_accounts` for the rows past `after`: each account an event names and every
    /// ancestor of it (`0022_events.sql`). Returns those accounts, each once.
    async fn index_outbox_accounts(&mut self, after: i64) -> Result<Vec<String>> {
        let named = match self.backend() {
            crate::Backend::Sqlite => {
                "WITH RECURSIVE split(outbox_id, rest, acc) AS ( \
                 SELECT id, accounts || ' ', '' FROM outbox WHERE id > $1 \
                 UNION ALL SELECT outbox_id, substr(rest, instr(rest, ' ') + 1), \
                 substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> ''), \
                 named(outbox_id, acc) AS (SELECT outbox_id, acc FROM split WHERE acc <> ''), "
            }
            crate::Backend::Postgres => {
                "WITH RECURSIVE named(outbox_id, acc) AS ( \
                 SELECT o.id, a FROM outbox o, unnest(string_to_array(o.accounts, ' ')) AS a \
                 WHERE o.id > $1 AND a <> ''), "
            }
        };
        let sql = format!(
            "{named}up(outbox_id, id) AS (SELECT outbox_id, acc FROM named \
             UNION SELECT u.outbox_id, a.parent_id FROM up u JOIN accounts a ON a.id = u.id \
             WHERE a.parent_id IS NOT NULL) \
             INSERT INTO outbox_accounts (account_id, outbox_id) SELECT id, outbox_id FROM up WHERE true \
             ON CONFLICT DO NOTHING RETURNING account_id"
        );
        let rows: Vec<(String,)> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(after).fetch_all(&mut *c).await?
        });
        let mut accounts: Vec<String> = rows.into_iter().map(|r| r.0).collect();
        accounts.sort_unstable();
        accounts.dedup();
        Ok(accounts)
    }

    /// Wakes the delivery job of every active webhook subscription of `accounts` (the accounts
    /// this transaction's events concern): queued now, moved to now if it waits for a retry, or
    /// run again when it ends if it is running ([`Tx::wake_job`]).
    async fn wake_webhooks(&mut self, accounts: &[String], now: i64) -> Result<()> {
        for chunk in accounts.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT s.id FROM webhook_subscriptions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.state = 'active' AND a.status = 'active' AND s.account_id IN ({})",
                marks.join(", ")
            );
            let subs: Vec<(String,)> = on_conn!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for a in chunk {
                    q = q.bind(a);
                }
                q.fetch_all(&mut *c).await?
            });
            for (id,) in subs {
                self.wake_webhook_job(&id, now).await?;
            }
        }
        Ok(())
    }
}

/// The key of the PostgreSQL advisory lock that orders outbox ids ("outbox" in ASCII). The
/// number counters take the same lock before they write (migration 0025 names it in decimal,
/// 122550254464888), so that their rows are only ever written by the lock's holder; no other
/// lock in the application uses advisory locks.
pub(crate) const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78;

impl Reader {
    /// Up to `limit` outbox rows after `cursor` (an [`OutboxEvent::id`]; 0 for the start), in
    /// id order. A consumer handles them and calls again with the last id it handled.
    pub async fn outbox_after(&mut self, cursor: i64, limit: u32) -> Result<Vec<OutboxEvent>> {
        let rows: Vec<OutboxRow> = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT id, audit_id, action, entity_type, entity_id, actor_account_id, accounts, \
                 at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(cursor)
            .bind(i64::from(limit))
            .fetch_all(&mut *c)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(OutboxEvent {
                    id: r.0,
                    audit_id: parse("outbox audit id", &r.1)?,
                    action: parse("outbox action", &r.2)?,
                    entity_type: r.3,
                    entity_id: r.4,
                    actor_account_id: parse_opt("outbox actor account", r.5.as_deref())?,
                    accounts: r
                        .6
                        .split_whitespace()
                        .map(|a| parse("outbox account", a))
                        .collect::<Result<_>>()?,
                    at: r.7,
                })
            })
            .collect()
    }
}

/// One event of an account's feed: its place in the outbox, the accounts it names, and the
/// audit event itself (who, through what, before and after).
#[derive(Debug, Clone)]
pub struct FeedEvent {
    /// The outbox id: the feed's cursor.
    pub sequence: i64,
    pub accounts: Vec<AccountId>,
    pub event: crate::AuditEvent,
}

impl Reader {
    /// Up to `limit` events that concern `account`'s subtree after outbox id `after`, in
    /// outbox order; only the actions in `types`, when it is not empty.
    pub async fn events_for(
        &mut self,
        account: AccountId,
        after: i64,
        limit: u32,
        types: &[Action],
    ) -> Result<Vec<FeedEvent>> {
        let only = if types.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = types.iter().map(|a| format!("'{}'", a.as_str())).collect();
            format!(" AND o.action IN ({})", names.join(", "))
        };
        let sql = feed_sql(&format!(
            "WHERE oa.account_id = $1 AND oa.outbox_id > $2{only} ORDER BY oa.outbox_id LIMIT $3"
        ));
        let rows: Vec<FeedRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(account.to_string())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *c)
                .await?
        });
        rows.into_iter().map(feed_from_row).collect()
    }

    /// The event at outbox id `id` as `account`'s feed shows it; `None` when there is none or
    /// it does not concern `account`.
    pub async fn feed_event(&mut self, account: AccountId, id: i64) -> Result<Option<FeedEvent>> {
        let sql = feed_sql("WHERE oa.account_id = $1 AND oa.outbox_id = $2");
        let row: Option<FeedRow> = on_conn!(self, c => {
            sqlx::query_as(&sql)
                .bind(account.to_string())
                .bind(id)
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(feed_from_row).transpose()
    }
}

type FeedRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn feed_sql(condition: &str) -> String {
    let cols = crate::audit::AUDIT_COLUMNS
        .split(", ")
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT oa.outbox_id, o.accounts, {cols} FROM outbox_accounts oa \
         JOIN outbox o ON o.id = oa.outbox_id JOIN audit_events e ON e.id = o.audit_id {condition}"
    )
}

fn feed_from_row(r: FeedRow) -> Result<FeedEvent> {
    Ok(FeedEvent {
        sequence: r.0,
        accounts: r
            .1
            .split_whitespace()
            .map(|a| parse("outbox account", a))
            .collect::<Result<_>>()?,
        event: crate::audit::audit_from_row((
            r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13,
        ))?,
    })
}
