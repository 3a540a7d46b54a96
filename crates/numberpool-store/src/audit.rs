//! The audit log: one row per change, written in the same transaction as the change (with its
//! outbox row, see [`crate::outbox`]), and read back per entity (a number's history) or per
//! account subtree (the audit log list).

use numberpool_domain::{AccountId, Action, AuditId};
use serde::Serialize;

use crate::numbers::SCOPE_CTE;
use crate::rows::parse;
use crate::{Page, Reader, Result, Tx, on_conn};

/// A bind of a dynamically built query.
#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// Through what a change came (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Api,
    Ui,
    Import,
    Cli,
    Job,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Ui => "ui",
            Self::Import => "import",
            Self::Cli => "cli",
            Self::Job => "job",
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "api" => Ok(Self::Api),
            "ui" => Ok(Self::Ui),
            "import" => Ok(Self::Import),
            "cli" => Ok(Self::Cli),
            "job" => Ok(Self::Job),
            _ => Err(format!("unknown channel {s}")),
        }
    }
}

/// Filters for the audit log list; every one given must hold (AND).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Events at or after this time (Unix ms, inclusive).
    pub since: Option<i64>,
    /// Events before this time (Unix ms, exclusive), so that consecutive windows do not overlap.
    pub until: Option<i64>,
}

/// An event to record. Its `entity_type` is the action's ([`Action::entity_type`]).
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// `user`, `client` or `operator`.
    pub actor_type: &'static str,
    pub actor_id: String,
    pub actor_account_id: Option<String>,
    pub channel: Channel,
    pub entity_id: String,
    pub action: Action,
    pub rule: Option<&'static str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A recorded event.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: AuditId,
    /// Unix milliseconds; written as RFC 3339.
    #[serde(serialize_with = "numberpool_domain::timestamp::serialize")]
    pub at: i64,
    pub actor_type: String,
    pub actor_id: String,
    pub actor_account_id: Option<String>,
    pub channel: Channel,
    pub entity_type: String,
    pub entity_id: String,
    pub action: Action,
    pub rule: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub(crate) type AuditRow = (
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

pub(crate) const AUDIT_COLUMNS: &str = "id, at, actor_type, actor_id, actor_account_id, channel, entity_type, \
    entity_id, action, rule, before_json, after_json";

impl Reader {
    /// One event by id.
    pub async fn get_audit(&mut self, id: AuditId) -> Result<Option<AuditEvent>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE id = $1");
        let row: Option<AuditRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(&mut *c).await?
        });
        row.map(audit_from_row).transpose()
    }

    /// A number's history, oldest first: the batch event that added it, then every event about
    /// it. Works after the number is deleted too: the add event is then found through the
    /// `before` snapshot of its events.
    pub async fn number_history(
        &mut self,
        id: numberpool_domain::NumberId,
    ) -> Result<Vec<AuditEvent>> {
        let mut events = self.audit_for(&id.to_string()).await?;
        let stored = self
            .get_number(&crate::NumberLookup::Id(id))
            .await?
            .and_then(|n| n.add_event_id);
        let from_snapshot = || {
            events.iter().find_map(|e| {
                e.before
                    .as_ref()
                    .and_then(|b| b.get("add_event_id"))
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<AuditId>().ok())
            })
        };
        if let Some(add) = stored.or_else(from_snapshot)
            && let Some(e) = self.get_audit(add).await?
        {
            events.insert(0, e);
        }
        Ok(events)
    }

    /// The audit log of `scope`: events whose actor acted for `scope`'s account or one below
    /// it (the own subtree: a Provider Exchange connection shows a provider a customer's
    /// numbers, not what the customer's people did), filtered, newest first, in keyset pages
    /// (`id < before`) with the total count. The scan follows `audit_account`
    /// (actor_account_id, id) backwards.
    pub async fn list_audit(
        &mut self,
        scope: AccountId,
        filter: &AuditFilter,
        before: Option<AuditId>,
        limit: u32,
    ) -> Result<Page<AuditEvent>> {
        let mut where_sql = " WHERE e.actor_account_id IN (SELECT id FROM own)".to_string();
        let mut binds: Vec<Bind> = vec![Bind::Text(scope.to_string())];
        let mut push = |clause: &str, v: Bind, binds: &mut Vec<Bind>| {
            binds.push(v);
            where_sql.push_str(&format!(" AND {clause} ${}", binds.len()));
        };
        if let Some(v) = &filter.entity_type {
            push("e.entity_type =", Bind::Text(v.clone()), &mut binds);
        }
        if let Some(v) = &filter.entity_id {
            push("e.entity_id =", Bind::Text(v.clone()), &mut binds);
        }
        if let Some(v) = &filter.action {
            push("e.action =", Bind::Text(v.clone()), &mut binds);
        }
        if let Some(v) = filter.since {
            push("e.at >=", Bind::Int(v), &mut binds);
        }
        if let Some(v) = filter.until {
            push("e.at <", Bind::Int(v), &mut binds);
        }
        let count_sql = format!("{SCOPE_CTE} SELECT COUNT(*) FROM audit_events e{where_sql}");
        let mut page_where = where_sql.clone();
        let mut page_binds = binds.clone();
        if let Some(b) = before {
            page_binds.push(Bind::Text(b.to_string()));
            page_where.push_str(&format!(" AND e.id < ${}", page_binds.len()));
        }
        let cols = AUDIT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let page_sql = format!(
            "{SCOPE_CTE} SELECT {cols} FROM audit_events e{page_where} ORDER BY e.id DESC LIMIT {}",
            // One more than a page, to know whether another follows.
            u64::from(limit) + 1
        );
        let (total, rows): (i64, Vec<AuditRow>) = on_conn!(self, c => {
            let mut q = sqlx::query_as::<_, (i64,)>(&count_sql);
            for b in &binds {
                q = match b {
                    Bind::Text(v) => q.bind(v),
                    Bind::Int(v) => q.bind(*v),
                };
            }
            let total = q.fetch_one(&mut *c).await?.0;
            let mut q = sqlx::query_as::<_, AuditRow>(&page_sql);
            for b in &page_binds {
                q = match b {
                    Bind::Text(v) => q.bind(v),
                    Bind::Int(v) => q.bind(*v),
                };
            }
            (total, q.fetch_all(&mut *c).await?)
        });
        let mut items = rows
            .into_iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        let next_after = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(Page {
            items,
            next_after,
            total,
        })
    }

    /// Events for one entity, oldest first (a number's history).
    pub async fn audit_for(&mut self, entity_id: &str) -> Result<Vec<AuditEvent>> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity_id = $1 ORDER BY id");
        let rows: Vec<AuditRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(entity_id).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(audit_from_row).collect()
    }

    /// Every event with this action, oldest first (tests and the audit view use it).
    pub async fn audit_by_action(&mut self, action: Action) -> Result<Vec<AuditEvent>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE action = $1 ORDER BY id");
        let rows: Vec<AuditRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(action.as_str()).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(audit_from_row).collect()
    }
}

impl Tx {
    /// Records `event`: its audit row and its outbox row, in this transaction, so both commit
    /// or neither does. Record last, just before commit: on PostgreSQL the outbox row holds
    /// the outbox's ordering lock until the transaction ends (see `0009_outbox.sql`).
    pub async fn record(&mut self, event: &NewAudit) -> Result<AuditId> {
        let id = AuditId::new();
        self.record_as(id, event).await?;
        Ok(id)
    }

    /// [`Tx::record`] under an id the caller chose, so rows written in the same transaction
    /// can point at the event (as added numbers do with their batch's `add_event_id`).
    pub async fn record_as(&mut self, id: AuditId, event: &NewAudit) -> Result<()> {
        self.write_events(&[id], std::slice::from_ref(event)).await
    }

    /// [`Tx::record`] for several events at once, in order; their ids in the same order.
    pub async fn record_all(&mut self, events: &[NewAudit]) -> Result<Vec<AuditId>> {
        let ids: Vec<AuditId> = events.iter().map(|_| AuditId::new()).collect();
        self.write_events(&ids, events).await?;
        Ok(ids)
    }

    async fn write_events(&mut self, ids: &[AuditId], events: &[NewAudit]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        crate::per_backend!(self, c =>
            sqlite: insert_audit_sqlite(c, &ids, now, events).await?,
            postgres: insert_audit_pg(c, &ids, now, events).await?,
        );
        self.write_outbox(&ids, now, events).await
    }
}

pub(crate) fn audit_from_row(r: AuditRow) -> Result<AuditEvent> {
    let json = |s: Option<String>| -> Result<Option<serde_json::Value>> {
        s.map(|v| serde_json::from_str(&v).map_err(crate::rows::corrupt("audit json")))
            .transpose()
    };
    Ok(AuditEvent {
        id: parse("audit id", &r.0)?,
        at: r.1,
        actor_type: r.2,
        actor_id: r.3,
        actor_account_id: r.4,
        channel: parse("channel", &r.5)?,
        entity_type: r.6,
        entity_id: r.7,
        action: parse("audit action", &r.8)?,
        rule: r.9,
        before: json(r.10)?,
        after: json(r.11)?,
    })
}

/// SQLite: multi-row inserts, 2,000 rows (24,000 parameters) per statement.
async fn insert_audit_sqlite(
    c: &mut sqlx::SqliteConnection,
    ids: &[String],
    now: i64,
    events: &[NewAudit],
) -> sqlx::Result<()> {
    for (chunk_ids, chunk) in ids.chunks(2000).zip(events.chunks(2000)) {
        let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) "));
        q.push_values(chunk_ids.iter().zip(chunk), |mut b, (id, e)| {
            b.push_bind(id.clone())
                .push_bind(now)
                .push_bind(e.actor_type)
                .push_bind(e.actor_id.clone())
                .push_bind(e.actor_account_id.clone())
                .push_bind(e.channel.as_str())
                .push_bind(e.action.entity_type())
                .push_bind(e.entity_id.clone())
                .push_bind(e.action.as_str())
                .push_bind(e.rule)
                .push_bind(e.before.as_ref().map(|v| v.to_string()))
                .push_bind(e.after.as_ref().map(|v| v.to_string()));
        });
        q.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// PostgreSQL: one `INSERT … SELECT FROM UNNEST(arrays)` for the whole batch.
async fn insert_audit_pg(
    c: &mut sqlx::PgConnection,
    ids: &[String],
    now: i64,
    events: &[NewAudit],
) -> sqlx::Result<()> {
    let col = |f: &dyn Fn(&NewAudit) -> Option<String>| {
        events.iter().map(f).collect::<Vec<Option<String>>>()
    };
    let sql = format!(
        "INSERT INTO audit_events ({AUDIT_COLUMNS}) SELECT * FROM UNNEST($1::text[], $2::bigint[], \
         $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
         $10::text[], $11::text[], $12::text[])"
    );
    sqlx::query(&sql)
        .bind(ids)
        .bind(vec![now; events.len()])
        .bind(col(&|e| Some(e.actor_type.to_string())))
        .bind(col(&|e| Some(e.actor_id.clone())))
        .bind(col(&|e| e.actor_account_id.clone()))
        .bind(col(&|e| Some(e.channel.as_str().to_string())))
        .bind(col(&|e| Some(e.action.entity_type().to_string())))
        .bind(col(&|e| Some(e.entity_id.clone())))
        .bind(col(&|e| Some(e.action.as_str().to_string())))
        .bind(col(&|e| e.rule.map(str::to_string)))
        .bind(col(&|e| e.before.as_ref().map(|v| v.to_string())))
        .bind(col(&|e| e.after.as_ref().map(|v| v.to_string())))
        .execute(c)
        .await
        .map(|_| ())
}
