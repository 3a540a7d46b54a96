//! Exports as jobs, their schedules, and notifications (SPEC §4, issue 13). Asking for an
//! export queues a job in the same transaction as the export's record; the job writes the file
//! page by page to a temporary file (`export_numbers`, flat memory), then keeps it in the
//! database in 1 MiB pieces with the `ready` status and a notification, in one transaction, so
//! a crash leaves either no file or the whole file. A download streams the pieces. Files are
//! kept for the operator's retention time, then removed by a periodic job. Scheduled exports
//! (daily or weekly) are queued by another periodic job as the user who scheduled them.

use std::io::{Read, Write};

use numberpool_domain::import::{Cadence, ExportKind, ExportStatus, FileFormat};
use numberpool_domain::{AccountId, ExportId, NotificationId, ScheduleId};
use numberpool_store::{ExportRecord, ExportSchedule, NewJob, Notification, StoreError, Tx};

use super::jobs::JobView;
use super::progress::Progress;
use super::{Actor, Permission, Result, Service, ServiceError};

/// The size of the pieces an export's file is kept in.
pub const EXPORT_PIECE: usize = 1 << 20;

/// How long a finished export's file is kept, unless the operator says otherwise: a week.
pub const DEFAULT_EXPORT_RETENTION_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How long a notification is kept: 90 days.
pub const NOTIFICATION_TTL_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// An export as the API, portal and CLI show it.
#[derive(Debug, Clone)]
pub struct ExportView {
    pub record: ExportRecord,
    pub job: Option<JobView>,
}

/// What a file's name is when downloaded.
pub fn export_file_name(e: &ExportRecord) -> String {
    let kind = e.kind.as_str().replace('_', "-");
    let day = time::OffsetDateTime::from_unix_timestamp(e.created_at / 1000)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default();
    format!("numbers-{kind}-{day}.{}", e.format.as_str())
}

impl Service {
    /// Queues an export of what the actor sees, as `kind` in `format`; `make_job` builds its job
    /// from the payload.
    pub async fn request_export(
        &self,
        actor: &Actor,
        kind: ExportKind,
        format: FileFormat,
        make_job: impl FnOnce(serde_json::Value) -> NewJob,
    ) -> Result<ExportView> {
        actor.require(Permission::PhoneRead)?;
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        let record = self
            .queue_export(
                &mut tx,
                me.id,
                &actor.principal_name(),
                kind,
                format,
                None,
                make_job,
            )
            .await?;
        tx.commit().await?;
        self.job_queued();
        self.export_view(record).await
    }

    /// The export's record and its job, in `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn queue_export(
        &self,
        tx: &mut Tx,
        account: AccountId,
        created_by: &str,
        kind: ExportKind,
        format: FileFormat,
        schedule: Option<ScheduleId>,
        make_job: impl FnOnce(serde_json::Value) -> NewJob,
    ) -> Result<ExportRecord> {
        let id = ExportId::new();
        let now = self.now();
        let mut job = make_job(serde_json::json!({ "export_id": id }));
        job.unique_key = Some(format!("export:{id}"));
        let job_id = tx.enqueue_job(&job, now).await?;
        let record = ExportRecord {
            id,
            account_id: account,
            created_by: created_by.to_string(),
            kind,
            format,
            schedule_id: schedule,
            status: ExportStatus::Queued,
            job_id,
            rows: None,
            bytes: None,
            error: None,
            created_at: now,
            updated_at: now,
            expires_at: None,
        };
        tx.insert_export(&record).await?;
        Ok(record)
    }

    /// The export, if it is the actor's account's (R-SEC-1: otherwise not found).
    pub async fn get_export(&self, actor: &Actor, id: ExportId) -> Result<ExportView> {
        actor.require(Permission::PhoneRead)?;
        let record = self
            .store
            .read()
            .await?
            .get_export(id)
            .await?
            .filter(|e| e.account_id == actor.account)
            .ok_or(ServiceError::NotFound("export"))?;
        self.export_view(record).await
    }

    /// The export with its job's progress.
    async fn export_view(&self, record: ExportRecord) -> Result<ExportView> {
        let job = match record.job_id {
            Some(j) => self.job_view(j).await?,
            None => None,
        };
        Ok(ExportView { record, job })
    }

    /// The actor's account's exports, newest first.
    pub async fn list_exports(&self, actor: &Actor, limit: i64) -> Result<Vec<ExportView>> {
        actor.require(Permission::PhoneRead)?;
        let records = self
            .store
            .read()
            .await?
            .list_exports(actor.account, limit.clamp(1, 200))
            .await?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let job = match (record.status, record.job_id) {
                (ExportStatus::Queued | ExportStatus::Running, Some(j)) => self.job_view(j).await?,
                _ => None,
            };
            out.push(ExportView { record, job });
        }
        Ok(out)
    }

    /// The ready export's record, to download (`Conflict` while it is not ready, and once it
    /// expired).
    pub async fn ready_export(&self, actor: &Actor, id: ExportId) -> Result<ExportRecord> {
        let v = self.get_export(actor, id).await?;
        match v.record.status {
            ExportStatus::Ready => Ok(v.record),
            ExportStatus::Queued | ExportStatus::Running => Err(ServiceError::Conflict(
                "the export is not ready yet: ask again when its status is ready".into(),
            )),
            ExportStatus::Failed => Err(ServiceError::Conflict(format!(
                "the export failed: {}",
                v.record.error.as_deref().unwrap_or("no reason recorded")
            ))),
            ExportStatus::Expired => Err(ServiceError::Conflict(
                "the export's file was removed after the retention time: export again".into(),
            )),
        }
    }

    /// Piece `seq` of a ready export's file (checked by [`Service::ready_export`] first);
    /// `None` past the last.
    pub async fn export_piece(&self, id: ExportId, seq: i32) -> Result<Option<Vec<u8>>> {
        Ok(self.store.read().await?.export_chunk(id, seq).await?)
    }

    /// The export job's body: writes the file, keeps it, raises the notification. An export
    /// already finished is left as it is (a job run again after a crash that followed its
    /// commit).
    pub async fn run_export(&self, id: ExportId, progress: &Progress) -> Result<()> {
        let record = self
            .store
            .read()
            .await?
            .get_export(id)
            .await?
            .ok_or(ServiceError::NotFound("export"))?;
        if !matches!(record.status, ExportStatus::Queued | ExportStatus::Running) {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        tx.start_export(id, self.now()).await?;
        tx.commit().await?;
        let actor = Actor::for_job(record.account_id, &record.created_by);
        // Its own name per attempt: an attempt that lost its lease and still runs never writes
        // into the next one's file.
        let staged = Staged(std::env::temp_dir().join(format!(
            "numberpool-export-{id}-{}.part",
            uuid::Uuid::now_v7()
        )));
        self.write_export(&actor, &record, &staged.0, progress)
            .await
    }

    async fn write_export(
        &self,
        actor: &Actor,
        record: &ExportRecord,
        path: &std::path::Path,
        progress: &Progress,
    ) -> Result<()> {
        let io = |e: std::io::Error| {
            ServiceError::Internal(StoreError::Corrupt(format!(
                "the export's temporary file: {e}"
            )))
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(file);
        let rows = self
            .export_numbers(actor, record.kind, record.format, &mut w, progress)
            .await?;
        w.flush().map_err(io)?;
        drop(w);
        let mut file = std::fs::File::open(path).map_err(io)?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut piece = vec![0u8; EXPORT_PIECE];
        let mut seq = 0i32;
        let mut bytes = 0i64;
        loop {
            let n = read_full(&mut file, &mut piece).map_err(io)?;
            if n == 0 {
                break;
            }
            tx.insert_export_chunk(record.id, seq, &piece[..n]).await?;
            seq += 1;
            bytes += n as i64;
            if n < EXPORT_PIECE {
                break;
            }
        }
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        tx.finish_export(
            record.id,
            rows,
            bytes,
            now.saturating_add(self.export_retention_ms),
            now,
        )
        .await?;
        let message = format!(
            "Your {} export is ready: {rows} {} ({}).",
            kind_words(record.kind),
            if rows == 1 { "number" } else { "numbers" },
            record.format.as_str().to_uppercase()
        );
        tx.record(&super::jobs::job_event(
            true,
            record.account_id,
            record.job_id,
            "export",
            &record.id.to_string(),
            serde_json::json!({ "rows": rows, "bytes": bytes }),
        ))
        .await?;
        tx.insert_notification(
            record.account_id,
            "export_ready",
            &record.id.to_string(),
            &message,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the export failed for good with `why`, and tells the account.
    pub async fn fail_export(&self, id: ExportId, why: &str) -> Result<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(record) = tx.get_export(id).await? else {
            return Ok(());
        };
        if tx.fail_export(id, why, now).await? {
            tx.record(&super::jobs::job_event(
                false,
                record.account_id,
                record.job_id,
                "export",
                &id.to_string(),
                serde_json::json!({ "reason": why }),
            ))
            .await?;
            let message = format!("Your {} export failed: {why}", kind_words(record.kind));
            tx.insert_notification(
                record.account_id,
                "export_failed",
                &id.to_string(),
                &message,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the files of exports past their retention time, and notifications older than
    /// [`NOTIFICATION_TTL_MS`]; how many files.
    pub async fn expire_exports(&self, now: i64) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.expire_exports(now).await?;
        tx.purge_notifications(now.saturating_sub(NOTIFICATION_TTL_MS))
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Schedules a daily or weekly export of what the actor sees; its first run is one period
    /// from now.
    pub async fn create_export_schedule(
        &self,
        actor: &Actor,
        kind: ExportKind,
        format: FileFormat,
        cadence: Cadence,
    ) -> Result<ExportSchedule> {
        actor.require(Permission::PhoneRead)?;
        let mut tx = self.store.begin().await?;
        let me = self.acting_account(&mut tx, actor).await?;
        let now = self.now();
        let s = ExportSchedule {
            id: ScheduleId::new(),
            account_id: me.id,
            created_by: actor.principal_name(),
            kind,
            format,
            cadence,
            next_run_at: now.saturating_add(cadence.period_ms()),
            created_at: now,
        };
        tx.insert_export_schedule(&s).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub async fn list_export_schedules(&self, actor: &Actor) -> Result<Vec<ExportSchedule>> {
        actor.require(Permission::PhoneRead)?;
        Ok(self
            .store
            .read()
            .await?
            .list_export_schedules(actor.account)
            .await?)
    }

    pub async fn delete_export_schedule(&self, actor: &Actor, id: ScheduleId) -> Result<()> {
        actor.require(Permission::PhoneRead)?;
        let mut tx = self.store.begin().await?;
        if !tx.delete_export_schedule(id, actor.account).await? {
            return Err(ServiceError::NotFound("export schedule"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues an export for every schedule due at `now` and moves each on by its cadence (from
    /// its due time, so runs keep their time of day; a schedule missed for longer than a
    /// period runs once and catches up). How many exports were queued.
    pub async fn run_due_export_schedules(
        &self,
        now: i64,
        make_job: impl Fn(serde_json::Value) -> NewJob,
    ) -> Result<usize> {
        let due = self
            .store
            .read()
            .await?
            .due_export_schedules(now, 100)
            .await?;
        let mut queued = 0;
        for s in due {
            let period = s.cadence.period_ms();
            let mut next = s.next_run_at.saturating_add(period);
            while next <= now {
                next = next.saturating_add(period);
            }
            let mut tx = self.store.begin().await?;
            match tx.advance_export_schedule(s.id, s.next_run_at, next).await {
                Ok(()) => {}
                // Another worker took this run.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
            self.queue_export(
                &mut tx,
                s.account_id,
                &s.created_by,
                s.kind,
                s.format,
                Some(s.id),
                &make_job,
            )
            .await?;
            tx.commit().await?;
            queued += 1;
        }
        if queued > 0 {
            self.job_queued();
        }
        Ok(queued)
    }

    /// The actor's account's notifications with the actor's read marks, newest first.
    pub async fn list_notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        actor.require(Permission::PhoneRead)?;
        Ok(self
            .store
            .read()
            .await?
            .list_notifications(
                actor.account,
                &actor.principal_name(),
                unread_only,
                limit.clamp(1, 200),
            )
            .await?)
    }

    /// How many of the account's notifications the actor has not read.
    pub async fn unread_notifications(&self, actor: &Actor) -> Result<i64> {
        Ok(self
            .store
            .read()
            .await?
            .unread_notifications(actor.account, &actor.principal_name())
            .await?)
    }

    /// Marks notification `id` (or, with `None`, every one) read by the actor. Another
    /// account's notification is not found.
    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        id: Option<NotificationId>,
    ) -> Result<u64> {
        actor.require(Permission::PhoneRead)?;
        let mut tx = self.store.begin().await?;
        if let Some(id) = id
            && tx.notification_account(id).await? != Some(actor.account)
        {
            return Err(ServiceError::NotFound("notification"));
        }
        let n = tx
            .mark_notifications_read(actor.account, id, &actor.principal_name(), self.now())
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The staging file of one export attempt, removed when the attempt ends however it ends
/// (returned, failed, or aborted at its timeout). Only a killed process leaves one behind, in
/// the temporary directory.
struct Staged(std::path::PathBuf);

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn kind_words(k: ExportKind) -> &'static str {
    match k {
        ExportKind::List => "numbers list",
        ExportKind::UpdateTemplate => "update template",
        ExportKind::Consolidated => "consolidated",
    }
}

/// Reads until `buf` is full or the file ends; how many bytes.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
