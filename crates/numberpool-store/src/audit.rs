//! The audit log: one row per change, written in the same transaction as the change.

use numberpool_domain::{AuditId, now_ms};
use serde::Serialize;

use crate::rows::parse;
use crate::{Result, Tx, on_conn};

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

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// `user`, `client` or `system`.
    pub actor_type: &'static str,
    pub actor_id: String,
    pub actor_account_id: Option<String>,
    pub channel: Channel,
    pub entity_type: &'static str,
    pub entity_id: String,
    pub action: &'static str,
    pub rule: Option<&'static str>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A recorded event.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: AuditId,
    pub at: i64,
    pub actor_type: String,
    pub actor_id: String,
    pub actor_account_id: Option<String>,
    pub channel: Channel,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub rule: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

type AuditRow = (
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

const AUDIT_COLUMNS: &str = "id, at, actor_type, actor_id, actor_account_id, channel, entity_type, \
    entity_id, action, rule, before_json, after_json";

impl Tx {
    pub async fn insert_audit(&mut self, events: &[NewAudit]) -> Result<()> {
        let now = now_ms();
        for chunk in events.chunks(2000) {
            on_conn!(self, c => {
                let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) "));
                q.push_values(chunk, |mut b, e| {
                    b.push_bind(AuditId::new().to_string())
                        .push_bind(now)
                        .push_bind(e.actor_type)
                        .push_bind(e.actor_id.clone())
                        .push_bind(e.actor_account_id.clone())
                        .push_bind(e.channel.as_str())
                        .push_bind(e.entity_type)
                        .push_bind(e.entity_id.clone())
                        .push_bind(e.action)
                        .push_bind(e.rule)
                        .push_bind(e.before.as_ref().map(|v| v.to_string()))
                        .push_bind(e.after.as_ref().map(|v| v.to_string()));
                });
                q.build().execute(&mut *c).await?;
            });
        }
        Ok(())
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
    pub async fn audit_by_action(&mut self, action: &str) -> Result<Vec<AuditEvent>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE action = $1 ORDER BY id");
        let rows: Vec<AuditRow> = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(action).fetch_all(&mut *c).await?
        });
        rows.into_iter().map(audit_from_row).collect()
    }
}

fn audit_from_row(r: AuditRow) -> Result<AuditEvent> {
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
        action: r.8,
        rule: r.9,
        before: json(r.10)?,
        after: json(r.11)?,
    })
}
