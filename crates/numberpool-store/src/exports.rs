//! The exports tables (migration 0013): exports with their file in 1 MiB pieces, the
//! schedules that make them daily or weekly, and the notifications raised to an account with
//! their read marks per principal.

use numberpool_domain::import::{Cadence, ExportKind, ExportStatus, FileFormat};
use numberpool_domain::{AccountId, ExportId, JobId, NotificationId, ScheduleId};

use crate::rows::Arg::{Int, OptText, Text};
use crate::rows::parse;
use crate::{Reader, Result, Tx, get_by_id, on_conn, one_row};

const EXPORT_COLUMNS: &str = "id, account_id, created_by, kind, format, schedule_id, status, \
    job_id, row_count, byte_count, error, created_at, updated_at, expires_at";

/// An export as stored, without its file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRecord {
    pub id: ExportId,
    pub account_id: AccountId,
    pub created_by: String,
    pub kind: ExportKind,
    pub format: FileFormat,
    pub schedule_id: Option<ScheduleId>,
    pub status: ExportStatus,
    pub job_id: Option<JobId>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    id: String,
    account_id: String,
    created_by: String,
    kind: String,
    format: String,
    schedule_id: Option<String>,
    status: String,
    job_id: Option<String>,
    row_count: Option<i64>,
    byte_count: Option<i64>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    expires_at: Option<i64>,
}

impl ExportRow {
    fn into_domain(self) -> Result<ExportRecord> {
        Ok(ExportRecord {
            id: parse("export id", &self.id)?,
            account_id: parse("account id", &self.account_id)?,
            created_by: self.created_by,
            kind: parse("export kind", &self.kind)?,
            format: parse("export format", &self.format)?,
            schedule_id: self
                .schedule_id
                .as_deref()
                .map(|s| parse("schedule id", s))
                .transpose()?,
            status: parse("export status", &self.status)?,
            job_id: self
                .job_id
                .as_deref()
                .map(|j| parse("job id", j))
                .transpose()?,
            rows: self.row_count,
            bytes: self.byte_count,
            error: self.error,
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
        })
    }
}

const SCHEDULE_COLUMNS: &str =
    "id, account_id, created_by, kind, format, cadence, next_run_at, created_at";

/// A daily or weekly export of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSchedule {
    pub id: ScheduleId,
    pub account_id: AccountId,
    pub created_by: String,
    pub kind: ExportKind,
    pub format: FileFormat,
    pub cadence: Cadence,
    pub next_run_at: i64,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: String,
    account_id: String,
    created_by: String,
    kind: String,
    format: String,
    cadence: String,
    next_run_at: i64,
    created_at: i64,
}

impl ScheduleRow {
    fn into_domain(self) -> Result<ExportSchedule> {
        Ok(ExportSchedule {
            id: parse("schedule id", &self.id)?,
            account_id: parse("account id", &self.account_id)?,
            created_by: self.created_by,
            kind: parse("export kind", &self.kind)?,
            format: parse("export format", &self.format)?,
            cadence: parse("cadence", &self.cadence)?,
            next_run_at: self.next_run_at,
            created_at: self.created_at,
        })
    }
}

/// A notification as one principal sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: NotificationId,
    pub account_id: AccountId,
    pub kind: String,
    pub subject_id: String,
    pub message: String,
    pub created_at: i64,
    /// When this principal marked it read.
    pub read_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    account_id: String,
    kind: String,
    subject_id: String,
    message: String,
    created_at: i64,
    read_at: Option<i64>,
}

impl NotificationRow {
    fn into_domain(self) -> Result<Notification> {
        Ok(Notification {
            id: parse("notification id", &self.id)?,
            account_id: parse("account id", &self.account_id)?,
            kind: self.kind,
            subject_id: self.subject_id,
            message: self.message,
            created_at: self.created_at,
            read_at: self.read_at,
        })
    }
}

impl Reader {
    get_by_id!(get_export(ExportId) -> ExportRecord: "exports", EXPORT_COLUMNS, ExportRow::into_domain);

    /// An account's exports, newest first, at most `limit`.
    pub async fn list_exports(
        &mut self,
        account: AccountId,
        limit: i64,
    ) -> Result<Vec<ExportRecord>> {
        let sql = format!(
            "SELECT {EXPORT_COLUMNS} FROM exports WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let account = account.to_string();
        self.rows_with(&sql, &[Text(&account), Int(limit)], ExportRow::into_domain)
            .await
    }

    /// Piece `seq` of the export's file; `None` past the last one.
    pub async fn export_chunk(&mut self, id: ExportId, seq: i32) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2")
                .bind(id.to_string())
                .bind(seq)
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    get_by_id!(get_export_schedule(ScheduleId) -> ExportSchedule: "export_schedules", SCHEDULE_COLUMNS, ScheduleRow::into_domain);

    /// An account's export schedules, oldest first.
    pub async fn list_export_schedules(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<ExportSchedule>> {
        let sql = format!(
            "SELECT {SCHEDULE_COLUMNS} FROM export_schedules WHERE account_id = $1 ORDER BY id"
        );
        let account = account.to_string();
        self.rows_with(&sql, &[Text(&account)], ScheduleRow::into_domain)
            .await
    }

    /// The schedules due at `now`, at most `limit`, the longest due first.
    pub async fn due_export_schedules(
        &mut self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ExportSchedule>> {
        let sql = format!(
            "SELECT {SCHEDULE_COLUMNS} FROM export_schedules WHERE next_run_at <= $1 \
             ORDER BY next_run_at, id LIMIT $2"
        );
        self.rows_with(&sql, &[Int(now), Int(limit)], ScheduleRow::into_domain)
            .await
    }

    /// The account's notifications as `principal` sees them (with its read mark), newest
    /// first; only unread ones when `unread_only`.
    pub async fn list_notifications(
        &mut self,
        account: AccountId,
        principal: &str,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let unread = if unread_only {
            " AND r.read_at IS NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT n.id, n.account_id, n.kind, n.subject_id, n.message, n.created_at, r.read_at \
             FROM notifications n LEFT JOIN notification_reads r \
               ON r.notification_id = n.id AND r.principal = $2 \
             WHERE n.account_id = $1{unread} ORDER BY n.id DESC LIMIT $3"
        );
        let account = account.to_string();
        self.rows_with(
            &sql,
            &[Text(&account), Text(principal), Int(limit)],
            NotificationRow::into_domain,
        )
        .await
    }

    /// The account notification `id` is raised to.
    pub async fn notification_account(&mut self, id: NotificationId) -> Result<Option<AccountId>> {
        let row: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT account_id FROM notifications WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        row.map(|r| parse("account id", &r.0)).transpose()
    }

    /// How many of the account's notifications `principal` has not read.
    pub async fn unread_notifications(
        &mut self,
        account: AccountId,
        principal: &str,
    ) -> Result<i64> {
        let n: (i64,) = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM notifications n WHERE n.account_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id \
                  AND r.principal = $2)",
            )
            .bind(account.to_string())
            .bind(principal)
            .fetch_one(&mut *c)
            .await?
        });
        Ok(n.0)
    }
}

impl Tx {
    /// Stores a new export (status `queued`) with its job.
    pub async fn insert_export(&mut self, e: &ExportRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO exports ({EXPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             NULL, NULL, NULL, $9, $9, NULL)"
        );
        let (id, account) = (e.id.to_string(), e.account_id.to_string());
        let schedule = e.schedule_id.map(|s| s.to_string());
        let job = e.job_id.map(|j| j.to_string());
        self.execute(
            &sql,
            &[
                Text(&id),
                Text(&account),
                Text(&e.created_by),
                Text(e.kind.as_str()),
                Text(e.format.as_str()),
                OptText(schedule.as_deref()),
                Text(e.status.as_str()),
                OptText(job.as_deref()),
                Int(e.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    /// Moves the export from `from` to `running` (a job run again after a crash finds it
    /// `running` already, and starts over: its pieces are removed here).
    pub async fn start_export(&mut self, id: ExportId, now: i64) -> Result<()> {
        let id = id.to_string();
        self.execute(
            "DELETE FROM export_chunks WHERE export_id = $1",
            &[Text(&id)],
        )
        .await?;
        let n = self
            .execute(
                "UPDATE exports SET status = 'running', updated_at = $2 \
                 WHERE id = $1 AND status IN ('queued', 'running')",
                &[Text(&id), Int(now)],
            )
            .await?;
        one_row(n)
    }

    /// Piece `seq` of the export's file.
    pub async fn insert_export_chunk(&mut self, id: ExportId, seq: i32, data: &[u8]) -> Result<()> {
        on_conn!(self, c => {
            sqlx::query("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)")
                .bind(id.to_string())
                .bind(seq)
                .bind(data)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// A running export is ready: `rows` rows in `bytes` bytes, kept until `expires_at`.
    pub async fn finish_export(
        &mut self,
        id: ExportId,
        rows: i64,
        bytes: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let id = id.to_string();
        let n = self
            .execute(
                "UPDATE exports SET status = 'ready', row_count = $2, byte_count = $3, \
                 expires_at = $4, updated_at = $5 WHERE id = $1 AND status = 'running'",
                &[Text(&id), Int(rows), Int(bytes), Int(expires_at), Int(now)],
            )
            .await?;
        one_row(n)
    }

    /// The export failed for good with `error`; its pieces are removed. `false` when it was
    /// not queued or running.
    pub async fn fail_export(&mut self, id: ExportId, error: &str, now: i64) -> Result<bool> {
        let id = id.to_string();
        self.execute(
            "DELETE FROM export_chunks WHERE export_id = $1",
            &[Text(&id)],
        )
        .await?;
        self.execute_on_one(
            "UPDATE exports SET status = 'failed', error = $2, updated_at = $3 \
             WHERE id = $1 AND status IN ('queued', 'running')",
            &[Text(&id), Text(error), Int(now)],
        )
        .await
    }

    /// Removes the files of the ready exports expired at `now` (their records stay, as
    /// `expired`); how many.
    pub async fn expire_exports(&mut self, now: i64) -> Result<u64> {
        self.execute(
            "DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM exports \
             WHERE status = 'ready' AND expires_at <= $1)",
            &[Int(now)],
        )
        .await?;
        self.execute(
            "UPDATE exports SET status = 'expired', updated_at = $1 \
             WHERE status = 'ready' AND expires_at <= $1",
            &[Int(now)],
        )
        .await
    }

    pub async fn insert_export_schedule(&mut self, s: &ExportSchedule) -> Result<()> {
        let sql = format!(
            "INSERT INTO export_schedules ({SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8)"
        );
        let (id, account) = (s.id.to_string(), s.account_id.to_string());
        self.execute(
            &sql,
            &[
                Text(&id),
                Text(&account),
                Text(&s.created_by),
                Text(s.kind.as_str()),
                Text(s.format.as_str()),
                Text(s.cadence.as_str()),
                Int(s.next_run_at),
                Int(s.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    /// Deletes the account's schedule `id`; `false` when it has none such.
    pub async fn delete_export_schedule(
        &mut self,
        id: ScheduleId,
        account: AccountId,
    ) -> Result<bool> {
        let (id, account) = (id.to_string(), account.to_string());
        self.execute_on_one(
            "DELETE FROM export_schedules WHERE id = $1 AND account_id = $2",
            &[Text(&id), Text(&account)],
        )
        .await
    }

    /// Moves a due schedule's next run from `from` to `to`; `Conflict` when another worker
    /// moved it first (that worker queues the export).
    pub async fn advance_export_schedule(
        &mut self,
        id: ScheduleId,
        from: i64,
        to: i64,
    ) -> Result<()> {
        let id = id.to_string();
        let n = self
            .execute(
                "UPDATE export_schedules SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2",
                &[Text(&id), Int(from), Int(to)],
            )
            .await?;
        one_row(n)
    }

    pub async fn insert_notification(
        &mut self,
        account: AccountId,
        kind: &str,
        subject_id: &str,
        message: &str,
        now: i64,
    ) -> Result<NotificationId> {
        let id = NotificationId::new();
        let (sid, account) = (id.to_string(), account.to_string());
        self.execute(
            "INSERT INTO notifications (id, account_id, kind, subject_id, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Text(&sid),
                Text(&account),
                Text(kind),
                Text(subject_id),
                Text(message),
                Int(now),
            ],
        )
        .await?;
        Ok(id)
    }

    /// Marks the account's notification `id` (or, with `None`, all of them) read by
    /// `principal`; how many were marked (0 when `id` is not the account's).
    pub async fn mark_notifications_read(
        &mut self,
        account: AccountId,
        id: Option<NotificationId>,
        principal: &str,
        now: i64,
    ) -> Result<u64> {
        let (account, id) = (account.to_string(), id.map(|i| i.to_string()));
        self.execute(
            "INSERT INTO notification_reads (notification_id, principal, read_at) \
             SELECT n.id, $2, $3 FROM notifications n WHERE n.account_id = $1 \
               AND ($4 IS NULL OR n.id = $4) \
               AND NOT EXISTS (SELECT 1 FROM notification_reads r \
                 WHERE r.notification_id = n.id AND r.principal = $2)",
            &[
                Text(&account),
                Text(principal),
                Int(now),
                OptText(id.as_deref()),
            ],
        )
        .await
    }

    /// Deletes notifications created before `before`, with their read marks; how many.
    pub async fn purge_notifications(&mut self, before: i64) -> Result<u64> {
        self.execute(
            "DELETE FROM notification_reads WHERE notification_id IN \
             (SELECT id FROM notifications WHERE created_at < $1)",
            &[Int(before)],
        )
        .await?;
        self.execute(
            "DELETE FROM notifications WHERE created_at < $1",
            &[Int(before)],
        )
        .await
    }
}
