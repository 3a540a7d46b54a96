//! Imports (SPEC §4, issue 13): an uploaded CSV or XLSX becomes a stored **plan** (every row
//! accepted as a create or delete, or rejected with a reason code, R-IMP-2) and nothing else;
//! *apply* plans the same bytes again inside its write transaction and commits the accepted
//! rows, all at once (R-IMP-3), only when the plan is still the one that was shown: its digest
//! covers every row's outcome and the version of every number it touches, so a change to the
//! inventory since makes the apply refuse instead of committing a stale diff.
//!
//! - `file.rs`: bytes to rows of text cells (CSV, XLSX).
//! - here: limits (R-IMP-1), the plan per action, the digest, apply.

mod add_file;
mod export;
mod file;

use std::collections::{HashMap, HashSet};

use numberpool_domain::import::{
    self, AddRow, FileFormat, Header, ImportAction, ImportRow, ImportStatus, Reason, ReasonCode,
    RowDefaults,
};
use numberpool_domain::moves;
use numberpool_domain::{
    Account, AccountId, Action, CarrierKind, Country, ImportId, Number, NumberPatch, Rule,
};
use numberpool_store::{Channel, ImportCounts, ImportRecord, NewJob, Reader, Tx};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use file::{Table, format_of};

use super::numbers::{AddNumber, chain_deactivated};
use super::progress::{Phase, Progress};
use super::{Actor, Permission, Result, Service, ServiceError, snapshot};

/// R-IMP-1's limits, set by the operator: a pool's import (provider or reseller) holds at most
/// `pool_rows` rows, a customer's or unit's at most `sub_account_rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    pub pool_rows: usize,
    pub sub_account_rows: usize,
}

impl Default for ImportLimits {
    /// SPEC §4: fewer than 10,000 rows; a sub account's at most 200.
    fn default() -> Self {
        ImportLimits {
            pool_rows: 9_999,
            sub_account_rows: 200,
        }
    }
}

/// What an upload asks for besides its bytes.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub action: ImportAction,
    pub file_name: String,
    /// The country of numbers written without `+` when the file has no Country Code column.
    pub default_country: Option<Country>,
    /// What an add file's upload form settles for all its rows (seed 003).
    pub add: AddOptions,
}

/// Seed 003's upload form for an add file: the voice carrier and SMS carrier profile (by name)
/// its numbers get where a capability is on and the row names none, in place of the provider's
/// defaults; and the account ("Enterprises and Resellers": a direct child or a connected
/// customer) its numbers are allocated to as they go in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AddOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AccountId>,
}

/// What a row of the plan does. (Named `ImportRowOutcome` in the API document: the batch
/// add's `RowOutcome` is another thing.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ImportRowOutcome)]
pub enum RowOutcome {
    Create,
    Update,
    /// An update row that changes nothing (every cell it fills already holds).
    Unchanged,
    Delete,
    Reject,
}

/// One field an update row changes, before and after, as the plan shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ImportFieldChange)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One row of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ImportPlanRow)]
pub struct PlanRow {
    /// The row's number as a spreadsheet shows it: the header is row 1.
    pub row: usize,
    /// E.164 when the cell parsed; otherwise the cell as given.
    pub phone_number: String,
    pub outcome: RowOutcome,
    /// A rejected row's reason code (`unknown_trunk`, `already_exists`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rule the reason enforces, where one does (`R-NUM-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// An update's changes, field by field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

impl PlanRow {
    fn rejected(row: usize, phone: String, r: &Reason) -> Self {
        PlanRow {
            row,
            phone_number: phone,
            outcome: RowOutcome::Reject,
            reason: Some(r.code.as_str().to_string()),
            rule: r.rule.map(|x| x.id().to_string()),
            message: Some(r.message.clone()),
            changes: vec![],
        }
    }

    fn accepted(row: usize, phone: &str, outcome: RowOutcome) -> Self {
        PlanRow {
            row,
            phone_number: phone.to_string(),
            outcome,
            reason: None,
            rule: None,
            message: None,
            changes: vec![],
        }
    }
}

/// An import as the API, CLI and portal show it.
#[derive(Debug, Clone)]
pub struct ImportView {
    pub record: ImportRecord,
    /// The apply's job, once one is queued.
    pub job: Option<super::jobs::JobView>,
    /// The plan's rows other than creates (rejects, deletes), in file order.
    pub rows: Vec<PlanRow>,
}

/// A planned file: every data row's outcome, in file order, and what apply would write.
struct Planned {
    rows: Vec<PlanRow>,
    digest: String,
    work: Work,
}

enum Work {
    /// Each number as read and as it becomes.
    Update(Vec<(Number, Number)>),
    Delete(Vec<Number>),
    /// A customer's delete file: each number as read and as released to its pool.
    Release(Vec<(Number, Number)>),
}

/// A file-level refusal (unreadable, a bad header, too many rows) as the service's error.
fn file_refused(r: Reason) -> ServiceError {
    ServiceError::FileRefused(r)
}

/// A row's service refusal as the reason a plan row carries.
fn reason_of(e: &ServiceError) -> Reason {
    match e {
        ServiceError::NumberAlreadyExists(m) if m.contains("given twice") => Reason::new(
            ReasonCode::DuplicateInFile,
            "the number is on an earlier row of this file",
        ),
        ServiceError::NumberAlreadyExists(_) => Reason::new(
            ReasonCode::AlreadyExists,
            "the number is already on the platform",
        ),
        ServiceError::NotFound("SIP trunk") => Reason::new(
            ReasonCode::UnknownTrunk,
            "the SIP trunk is not one of the provider's",
        ),
        ServiceError::NotFound(what) if what.contains("carrier") => Reason::new(
            ReasonCode::UnknownCarrier,
            format!("the {what} is not one of the provider's"),
        ),
        ServiceError::NotFound(_) => {
            Reason::new(ReasonCode::NotFound, "no such number in your inventory")
        }
        ServiceError::Rule(v) => Reason::rule(v.rule, v.message.clone()),
        ServiceError::Invalid(m) if m.starts_with("attributes:") => {
            Reason::new(ReasonCode::InvalidAttribute, m.clone())
        }
        other => Reason::new(ReasonCode::InvalidValue, other.to_string()),
    }
}

/// A rejected row's phone cell as given, for the plan (at most 40 characters).
fn cell_shown(header: &Header, row: &[String]) -> String {
    header
        .cell(row, &import::Column::PhoneNumber)
        .unwrap_or("")
        .chars()
        .take(40)
        .collect()
}

impl Service {
    /// R-IMP-1's limit for the actor's account.
    fn import_limit(&self, me: &Account) -> usize {
        if me.kind.holds_pool() {
            self.import_limits.pool_rows
        } else {
            self.import_limits.sub_account_rows
        }
    }

    /// Reads `bytes` for `req.action`, plans every row against the inventory as it is now,
    /// and keeps the file with its plan (nothing else is written: this is the dry run).
    pub async fn plan_import(
        &self,
        actor: &Actor,
        req: &ImportRequest,
        bytes: Vec<u8>,
    ) -> Result<ImportView> {
        actor.require(Permission::NumberWrite)?;
        if req.action != ImportAction::Add && req.add != AddOptions::default() {
            return Err(ServiceError::Invalid(
                "voice_carrier, sms_carrier, target: these settle an add file's numbers; an \
                 update or delete file takes none of them"
                    .into(),
            ));
        }
        let mut src = file::open(&bytes, req.action).map_err(file_refused)?;
        let header = Header::match_cells(req.action, &src.header).map_err(file_refused)?;
        let defaults = RowDefaults {
            country: req.default_country,
        };
        let mut r = self.store.read().await?;
        let me = self.acting_account(&mut r, actor).await?;
        let total = file::count_rows(&src, &bytes).map_err(file_refused)?;
        let limit = self.import_limit(&me);
        if total == 0 {
            return Err(file_refused(Reason::new(
                ReasonCode::EmptyFile,
                "the file has a header row and no rows under it",
            )));
        }
        if total > limit {
            return Err(file_refused(Reason::new(
                ReasonCode::TooManyRows,
                format!(
                    "the file has {total} rows; an import holds at most {limit} (R-IMP-1): split it"
                ),
            )));
        }
        if r.deactivated_in_chain(me.id).await? {
            return Err(chain_deactivated());
        }
        let above = r.ancestors(me.id).await?;
        let format = src.format;
        let (counts, kept, digest, parsed) = if req.action == ImportAction::Add {
            let pass = add_file::Pass::Plan(&mut r, total);
            let plan = self
                .add_file_pass(
                    pass,
                    actor,
                    &req.add,
                    &me,
                    &above,
                    &mut add_file::FileRows::of(src),
                    header,
                    defaults,
                    &Progress::none(),
                )
                .await?
                .ok_or(ServiceError::Conflict("the plan could not be made".into()))?;
            (plan.counts, plan.rejected, plan.digest, Some(plan.parsed))
        } else {
            let rows = src.next_slice(usize::MAX).map_err(file_refused)?;
            drop(src);
            let parsed = parse_rows(&header, &rows, &defaults, &Progress::none());
            let planned = if req.action == ImportAction::Delete {
                self.plan_deletes(&mut r, &me, parsed).await?
            } else {
                // An edit's checks take the locks a write takes (R-ATTR-1's share lock,
                // R-ACC-3's count), so the dry run of an update plans in a write transaction
                // it then drops.
                drop(r);
                let mut tx = self.store.begin().await?;
                let planned = self.plan_updates(&mut tx, &me, parsed).await?;
                drop(tx);
                planned
            };
            let count =
                |o: RowOutcome| planned.rows.iter().filter(|p| p.outcome == o).count() as i64;
            let counts = ImportCounts {
                total: planned.rows.len() as i64,
                creates: count(RowOutcome::Create),
                updates: count(RowOutcome::Update),
                deletes: count(RowOutcome::Delete),
                unchanged: count(RowOutcome::Unchanged),
                rejected: count(RowOutcome::Reject),
            };
            let kept: Vec<PlanRow> = planned
                .rows
                .into_iter()
                .filter(|p| p.outcome != RowOutcome::Create)
                .collect();
            (counts, kept, planned.digest, None)
        };
        // An add CSV is kept in pieces cut at record boundaries, so that its apply reads it a
        // piece at a time (`add_file::FileRows`); other files are read whole.
        let cuts = match (req.action, format) {
            (ImportAction::Add, FileFormat::Csv) => file::record_cuts(&bytes, add_file::FILE_PIECE),
            _ => None,
        };
        let now = self.now();
        let record = ImportRecord {
            id: ImportId::new(),
            account_id: me.id,
            created_by: actor.principal_name(),
            action: req.action,
            format,
            file_name: req.file_name.chars().take(200).collect(),
            file_sha256: super::credentials::hex(&Sha256::digest(&bytes)),
            options: serde_json::json!({
                "default_country": req.default_country.map(|c| c.as_str()),
                "add": req.add,
                "file_pieces": cuts.is_some().then_some(add_file::RECORD_PIECES),
            }),
            plan_digest: digest,
            counts,
            rows: serde_json::to_value(&kept).unwrap_or_default(),
            status: ImportStatus::Planned,
            job_id: None,
            error: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        // Stored in a task of its own, which a request dropped midway does not stop: storing
        // lowers its connection's page cache and puts it back after (`Tx::insert_import`), and
        // a connection must not go back to the pool with the small cache.
        let store = self.store.clone();
        let stored = record.clone();
        let storing = tokio::spawn(async move {
            let mut tx = store.begin().await?;
            tx.insert_import(&stored, &bytes, cuts.as_deref(), parsed.as_deref())
                .await?;
            tx.commit().await
        });
        match storing.await {
            Ok(stored) => stored?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels the task.
            Err(_) => return Err(ServiceError::Busy("the server is shutting down")),
        }
        Ok(ImportView {
            record,
            job: None,
            rows: kept,
        })
    }

    /// The import, if it is the actor's account's (R-SEC-1: otherwise not found).
    pub async fn get_import(&self, actor: &Actor, id: ImportId) -> Result<ImportView> {
        actor.require(Permission::NumberRead)?;
        let mut view = self.own_import(actor, id).await?;
        if let Some(job) = view.record.job_id {
            view.job = self.job_view(job).await?;
        }
        Ok(view)
    }

    /// The import if it is the actor's account's, whatever the actor may do with it (the
    /// caller checks that).
    async fn own_import(&self, actor: &Actor, id: ImportId) -> Result<ImportView> {
        let mut r = self.store.read().await?;
        own_import_on(&mut r, actor, id).await
    }

    /// The actor's account's imports, newest first.
    pub async fn list_imports(&self, actor: &Actor, limit: i64) -> Result<Vec<ImportRecord>> {
        actor.require(Permission::NumberRead)?;
        let mut r = self.store.read().await?;
        Ok(r.list_imports(actor.account, limit.clamp(1, 200)).await?)
    }

    /// The import's file as uploaded (for the rejected-rows file).
    pub async fn import_file(&self, actor: &Actor, id: ImportId) -> Result<(ImportView, Vec<u8>)> {
        actor.require(Permission::NumberRead)?;
        self.own_import_file(actor, id).await
    }

    async fn own_import_file(&self, actor: &Actor, id: ImportId) -> Result<(ImportView, Vec<u8>)> {
        // The record and its bytes on one connection.
        let mut r = self.store.read().await?;
        let view = own_import_on(&mut r, actor, id).await?;
        let bytes = r
            .import_file(id)
            .await?
            .ok_or(ServiceError::NotFound("import"))?;
        Ok((view, bytes))
    }

    /// Commits exactly the accepted rows of the import's plan now, in this task (see
    /// [`Service::apply_planned`]); the API, portal and CLI queue it as a job instead
    /// ([`Service::request_apply`]).
    pub async fn apply_import(&self, actor: &Actor, id: ImportId) -> Result<ImportView> {
        actor.require(Permission::NumberWrite)?;
        let view = self.own_import(actor, id).await?;
        self.apply_planned(actor, view, &Progress::none()).await
    }

    /// Queues the import's apply as a job (`make_job` builds it from its payload): in one
    /// transaction the import goes from `planned` to `applying` and names the job, so an apply
    /// is queued once however often it is asked for. An import already applying or applied
    /// answers as it is; a failed one refuses (its plan is stale: upload again).
    pub async fn request_apply(
        &self,
        actor: &Actor,
        id: ImportId,
        make_job: impl FnOnce(serde_json::Value) -> NewJob,
    ) -> Result<ImportView> {
        actor.require(Permission::NumberWrite)?;
        let mut view = self.own_import(actor, id).await?;
        match view.record.status {
            ImportStatus::Applied | ImportStatus::Applying => {
                if let Some(job) = view.record.job_id {
                    view.job = self.job_view(job).await?;
                }
                return Ok(view);
            }
            ImportStatus::Failed => {
                return Err(stale(
                    view.record.error.as_deref().unwrap_or("the apply failed"),
                ));
            }
            ImportStatus::Planned => {}
        }
        let mut job = make_job(serde_json::json!({
            "import_id": id,
            "principal": actor.principal_name(),
        }));
        job.unique_key = Some(format!("import:{id}"));
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(job_id) = tx.enqueue_job(&job, now).await? else {
            // A concurrent request queued it first: answer as that one did.
            drop(tx);
            let mut view = self.own_import(actor, id).await?;
            if let Some(job) = view.record.job_id {
                view.job = self.job_view(job).await?;
            }
            return Ok(view);
        };
        let rec = &view.record;
        tx.set_import_status_cas(
            id,
            rec.version,
            ImportStatus::Planned,
            ImportStatus::Applying,
            None,
            Some(job_id),
            now,
        )
        .await?;
        tx.commit().await?;
        self.job_queued();
        view.record.status = ImportStatus::Applying;
        view.record.job_id = Some(job_id);
        view.record.version += 1;
        view.record.updated_at = now;
        view.job = self.job_view(job_id).await?;
        Ok(view)
    }

    /// The apply job's body: applies import `id` as `principal` (who asked for it), ticking
    /// `progress`. An applied import is left as it is, so a job run again after a crash that
    /// followed its commit does nothing.
    pub async fn run_import_apply(
        &self,
        id: ImportId,
        principal: &str,
        progress: &Progress,
    ) -> Result<ImportView> {
        let mut r = self.store.read().await?;
        let record = r
            .get_import(id)
            .await?
            .ok_or(ServiceError::NotFound("import"))?;
        drop(r);
        let actor = Actor::for_job(record.account_id, principal);
        let rows = serde_json::from_value(record.rows.clone()).unwrap_or_default();
        let view = ImportView {
            record,
            job: None,
            rows,
        };
        self.apply_planned(&actor, view, progress).await
    }

    /// Marks an import `failed` with `why` when its apply job failed for good (its attempts
    /// ran out), unless it was applied meanwhile.
    pub async fn fail_import(&self, id: ImportId, why: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(rec) = tx.get_import(id).await? else {
            return Ok(());
        };
        if matches!(rec.status, ImportStatus::Planned | ImportStatus::Applying) {
            tx.set_import_status_cas(
                id,
                rec.version,
                rec.status,
                ImportStatus::Failed,
                Some(why),
                None,
                self.now(),
            )
            .await?;
            tx.record(&super::jobs::job_event(
                false,
                rec.account_id,
                rec.job_id,
                "import_apply",
                &id.to_string(),
                serde_json::json!({ "reason": why }),
            ))
            .await?;
            tx.insert_notification(
                rec.account_id,
                "import_failed",
                &id.to_string(),
                &format!("Your import of {} failed: {why}", rec.file_name),
                self.now(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Commits exactly the accepted rows of the import's plan, in one transaction with the
    /// import's `applied` status (R-IMP-3). Applying an applied import changes nothing and
    /// answers as the first apply did. If the inventory changed since the plan (its digest
    /// differs when planned again), nothing is written, the import is `failed` with the reason,
    /// and the answer asks for a new plan.
    async fn apply_planned(
        &self,
        actor: &Actor,
        view: ImportView,
        progress: &Progress,
    ) -> Result<ImportView> {
        let rec = &view.record;
        let id = rec.id;
        match rec.status {
            ImportStatus::Applied => return Ok(view),
            ImportStatus::Failed => {
                return Err(stale(rec.error.as_deref().unwrap_or("the apply failed")));
            }
            ImportStatus::Planned | ImportStatus::Applying => {}
        }
        progress.set_phase(Phase::Planning);
        let mut src = {
            let mut r = self.store.read().await?;
            add_file::FileRows::open(&mut r, rec).await?
        };
        let header = Header::match_cells(rec.action, src.header()).map_err(file_refused)?;
        let defaults = RowDefaults {
            country: rec
                .options
                .get("default_country")
                .and_then(|c| c.as_str())
                .and_then(|c| Country::parse(c).ok()),
        };
        progress.set_total(u64::try_from(rec.counts.total).unwrap_or(0));
        let mut actor = actor.clone();
        actor.channel = Channel::Import;
        let stale_why = "the inventory changed since this plan was made (a number in the file was \
                         added, changed or removed elsewhere); nothing was applied: upload the \
                         file again for a new plan";
        if rec.action == ImportAction::Add {
            // An add file is planned again and written a slice at a time (`add_file`).
            let mut r = self.store.read().await?;
            let kept = !r
                .import_pieces(id, numberpool_store::ImportPart::Parsed)
                .await?
                .is_empty();
            drop(r);
            if !kept {
                let why = "this plan was made by an earlier version and cannot be applied: \
                           upload the file again for a new plan";
                self.fail_import(id, why).await?;
                return Err(stale(why));
            }
            let (mut tx, me, above) = self.open_add(&actor).await?;
            progress.set_phase(Phase::Writing);
            let form: AddOptions = rec
                .options
                .get("add")
                .and_then(|f| serde_json::from_value(f.clone()).ok())
                .unwrap_or_default();
            let pass = add_file::Pass::Apply {
                tx: &mut tx,
                import: id,
            };
            let done = self
                .add_file_pass(
                    pass, &actor, &form, &me, &above, &mut src, header, defaults, progress,
                )
                .await?;
            if done.is_none_or(|p| p.digest != rec.plan_digest) {
                drop(tx);
                self.fail_import(id, stale_why).await?;
                return Err(stale(stale_why));
            }
            return self.finish_apply(tx, view, progress).await;
        }
        let rows = src.all_rows()?;
        drop(src);
        let (mut tx, me, _) = self.open_add_or_write(&actor, rec.action).await?;
        let parsed = parse_rows(&header, &rows, &defaults, progress);
        let planned = match rec.action {
            ImportAction::Delete => self.plan_deletes(&mut tx, &me, parsed).await?,
            _ => self.plan_updates(&mut tx, &me, parsed).await?,
        };
        if planned.digest != rec.plan_digest {
            drop(tx);
            self.fail_import(id, stale_why).await?;
            return Err(stale(stale_why));
        }
        progress.set_phase(Phase::Writing);
        match planned.work {
            Work::Update(pairs) => {
                let now = self.now();
                for (before, mut next) in pairs {
                    next.updated_at = now;
                    let stored = tx.update_number_cas(&next).await?;
                    tx.record(&actor.event(
                        Action::NumberUpdate,
                        before.id.to_string(),
                        Some(Rule::Edit1),
                        snapshot(&before),
                        snapshot(&stored),
                    ))
                    .await?;
                    progress.written(1);
                }
            }
            Work::Release(pairs) => {
                let now = self.now();
                // The pools stay active until the commit (R-OFF-1): share-locked and checked.
                let pools: HashSet<AccountId> =
                    pairs.iter().map(|(_, next)| next.holder_id).collect();
                for pool in pools {
                    let p = tx
                        .get_account_locked(pool, numberpool_store::Lock::Share)
                        .await?
                        .ok_or(ServiceError::NotFound("account"))?;
                    if p.status != numberpool_domain::AccountStatus::Active {
                        return Err(ServiceError::Rule(numberpool_domain::RuleViolation::new(
                            Rule::Off1,
                            "the pool a number would return to is deactivated",
                        )));
                    }
                }
                for (before, mut next) in pairs {
                    next.updated_at = now;
                    let stored = tx.update_number_cas(&next).await?;
                    tx.record(&actor.event(
                        Action::NumberRelease,
                        before.id.to_string(),
                        Some(Rule::Move3),
                        snapshot(&before),
                        snapshot(&stored),
                    ))
                    .await?;
                    progress.written(1);
                }
            }
            Work::Delete(numbers) => {
                for n in &numbers {
                    crate::service::numbers::delete_recorded(&mut tx, &actor, n, Into::into)
                        .await?;
                    progress.written(1);
                }
            }
        }
        self.finish_apply(tx, view, progress).await
    }

    /// Marks the import applied in the apply's transaction and commits it (R-IMP-3).
    async fn finish_apply(
        &self,
        mut tx: Tx,
        mut view: ImportView,
        progress: &Progress,
    ) -> Result<ImportView> {
        let now = self.now();
        let rec = &view.record;
        tx.set_import_status_cas(
            rec.id,
            rec.version,
            rec.status,
            ImportStatus::Applied,
            None,
            None,
            now,
        )
        .await?;
        let c = &rec.counts;
        tx.record(&super::jobs::job_event(
            true,
            rec.account_id,
            rec.job_id,
            "import_apply",
            &rec.id.to_string(),
            serde_json::json!({
                "creates": c.creates,
                "updates": c.updates,
                "deletes": c.deletes,
                "rejected": c.rejected,
            }),
        ))
        .await?;
        tx.insert_notification(
            rec.account_id,
            "import_applied",
            &rec.id.to_string(),
            &format!(
                "Your import of {} is applied: {} added, {} updated, {} deleted, {} rejected.",
                rec.file_name, c.creates, c.updates, c.deletes, c.rejected
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        progress.set_phase(Phase::Finished);
        view.record.status = ImportStatus::Applied;
        view.record.version += 1;
        view.record.updated_at = now;
        Ok(view)
    }

    /// The write transaction an apply runs in: an add's (the chain share-locked and active,
    /// R-OFF-1) or a plain one with the acting account.
    async fn open_add_or_write(
        &self,
        actor: &Actor,
        action: ImportAction,
    ) -> Result<(Tx, Account, Vec<AccountId>)> {
        match action {
            ImportAction::Add => self.open_add(actor).await,
            ImportAction::Update | ImportAction::Delete => {
                let mut tx = self.store.begin().await?;
                let me = self.acting_account(&mut tx, actor).await?;
                let above = tx.ancestors(me.id).await?;
                Ok((tx, me, above))
            }
        }
    }

    /// Each update row against its number: the cells that differ make the patch (a row that
    /// changes nothing is `unchanged`), and the patch goes through every check of an edit
    /// (`checked_edit`), so a file edits exactly as the API does.
    async fn plan_updates(
        &self,
        tx: &mut Tx,
        me: &Account,
        parsed: Vec<Parsed>,
    ) -> Result<Planned> {
        let found = numbers_named(tx, me, &parsed).await?;
        let mut names: HashMap<AccountId, Names> = HashMap::new();
        let mut out = Vec::with_capacity(parsed.len());
        let mut pairs = Vec::new();
        let mut hasher = Sha256::new();
        for (no, phone, row) in parsed {
            let n = match row {
                Err(reason) => {
                    out.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
                Ok(_) if !found.contains_key(&phone) => {
                    let reason = reason_of(&ServiceError::NotFound("number"));
                    out.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
                Ok(ImportRow::Update(_, u)) => (found[&phone].clone(), u),
                Ok(_) => {
                    let reason = Reason::new(ReasonCode::InvalidValue, "not an update row");
                    out.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
            };
            let (n, u) = n;
            let owner_names = Names::cached(&mut names, tx, n.owner_id).await?;
            let patch = match patch_of(&n, &u, owner_names) {
                Ok(p) => p,
                Err(reason) => {
                    out.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
            };
            hasher.update(format!("{no}\t{}\t{}\t{}\n", phone, n.id, n.version));
            if patch == NumberPatch::default() {
                out.push(PlanRow::accepted(no, &phone, RowOutcome::Unchanged));
                continue;
            }
            match self.checked_edit(tx, &n, &patch).await {
                Ok(next) => {
                    let mut row = PlanRow::accepted(no, &phone, RowOutcome::Update);
                    row.changes = changes(&n, &next, owner_names);
                    hasher.update(serde_json::to_vec(&row.changes).unwrap_or_default());
                    out.push(row);
                    pairs.push((n, next));
                }
                Err(e) => out.push(PlanRow::rejected(no, phone, &reason_of(&e))),
            }
        }
        digest_rows(&mut hasher, &out);
        Ok(Planned {
            rows: out,
            digest: super::credentials::hex(&hasher.finalize()),
            work: Work::Update(pairs),
        })
    }

    async fn plan_deletes(
        &self,
        r: &mut Reader,
        me: &Account,
        parsed: Vec<Parsed>,
    ) -> Result<Planned> {
        let found = numbers_named(r, me, &parsed).await?;
        let mut out = Vec::with_capacity(parsed.len());
        let mut numbers = Vec::new();
        let mut releases = Vec::new();
        let mut hasher = Sha256::new();
        // Seed 004: for a customer or unit, deleting a number is releasing it to the pool it
        // came from (R-MOVE-3); a pool deletes it from the inventory (R-DEL-1, R-DEL-2).
        let release = !me.kind.holds_pool();
        let mut pools: HashMap<AccountId, Account> = HashMap::new();
        for (no, phone, row) in parsed {
            let n = match row.and_then(|_| {
                found
                    .get(&phone)
                    .cloned()
                    .ok_or_else(|| reason_of(&ServiceError::NotFound("number")))
            }) {
                Ok(n) => n,
                Err(reason) => {
                    out.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
            };
            let decided = if release {
                self.release_of(r, me, &n, &mut pools).await?
            } else {
                moves::delete(&n, me)
                    .map(|()| None)
                    .map_err(|e| reason_of(&ServiceError::from(e)))
            };
            match decided.map(|next| (n, next)) {
                Ok((n, next)) => {
                    hasher.update(format!(
                        "{no}\t{}\t{}\t{}\n",
                        n.phone_number.as_str(),
                        n.id,
                        n.version
                    ));
                    out.push(PlanRow::accepted(no, &phone, RowOutcome::Delete));
                    match next {
                        Some(next) => releases.push((n, next)),
                        None => numbers.push(n),
                    }
                }
                Err(reason) => out.push(PlanRow::rejected(no, phone, &reason)),
            }
        }
        digest_rows(&mut hasher, &out);
        Ok(Planned {
            rows: out,
            digest: super::credentials::hex(&hasher.finalize()),
            work: if release {
                Work::Release(releases)
            } else {
                Work::Delete(numbers)
            },
        })
    }

    /// What releasing `n` makes of it, as `me` (a customer or unit), or why it cannot be.
    async fn release_of(
        &self,
        r: &mut Reader,
        me: &Account,
        n: &Number,
        pools: &mut HashMap<AccountId, Account>,
    ) -> Result<std::result::Result<Option<Number>, Reason>> {
        let path = if n.holder_id == me.id {
            vec![]
        } else {
            r.ancestors(n.holder_id).await?
        };
        let to = match moves::release_to(n, moves::Mover::new(me, &path)) {
            Ok(to) => to,
            Err(e) => return Ok(Err(reason_of(&ServiceError::from(e)))),
        };
        if let std::collections::hash_map::Entry::Vacant(e) = pools.entry(to) {
            let pool = r
                .get_account(to)
                .await?
                .ok_or(ServiceError::NotFound("account"))?;
            e.insert(pool);
        }
        Ok(moves::release(n, &pools[&to])
            .map(Some)
            .map_err(|e| reason_of(&ServiceError::from(e))))
    }
}

/// A data row as parsed: its row number, its phone number (E.164, or the cell as given when it
/// did not parse), and the row or why not.
type Parsed = (usize, String, std::result::Result<ImportRow, Reason>);

/// Each row parsed, and a number given on an earlier row refused (R-NUM-1).
fn parse_rows(
    header: &Header,
    rows: &[(usize, Vec<String>)],
    defaults: &RowDefaults,
    progress: &Progress,
) -> Vec<Parsed> {
    let mut seen = HashSet::with_capacity(rows.len());
    rows.iter()
        .map(|(no, cells)| {
            progress.planned(1);
            (no, cells)
        })
        .map(
            |(no, cells)| match import::parse_row(header, cells, defaults) {
                Ok(row) => {
                    let e = row.phone_number().as_str().to_string();
                    if seen.insert(e.clone()) {
                        (*no, e, Ok(row))
                    } else {
                        (
                            *no,
                            e,
                            Err(Reason::new(
                                ReasonCode::DuplicateInFile,
                                "the number is on an earlier row of this file",
                            )),
                        )
                    }
                }
                Err(reason) => (*no, cell_shown(header, cells), Err(reason)),
            },
        )
        .collect()
}

/// The import on `r`, if it is the actor's account's (R-SEC-1: otherwise not found).
async fn own_import_on(r: &mut Reader, actor: &Actor, id: ImportId) -> Result<ImportView> {
    let record = r
        .get_import(id)
        .await?
        .filter(|i| i.account_id == actor.account)
        .ok_or(ServiceError::NotFound("import"))?;
    let rows = serde_json::from_value(record.rows.clone()).unwrap_or_default();
    Ok(ImportView {
        record,
        job: None,
        rows,
    })
}

/// The numbers the parsed rows name that `me` may see (R-SEC-1), by E.164: one query per 900.
async fn numbers_named(
    r: &mut Reader,
    me: &Account,
    parsed: &[Parsed],
) -> Result<HashMap<String, Number>> {
    let wanted: Vec<&str> = parsed
        .iter()
        .filter(|(_, _, row)| row.is_ok())
        .map(|(_, e, _)| e.as_str())
        .collect();
    Ok(r.numbers_in_scope_by_e164(me.id, &wanted)
        .await?
        .into_iter()
        .map(|n| (n.phone_number.as_str().to_string(), n))
        .collect())
}

/// Every row's number, outcome and reason into the digest.
fn digest_rows(hasher: &mut Sha256, rows: &[PlanRow]) {
    for p in rows {
        hasher.update(format!(
            "{}\t{}\t{:?}\t{}\n",
            p.row,
            p.phone_number,
            p.outcome,
            p.reason.as_deref().unwrap_or("")
        ));
    }
}

/// A provider's SIP trunks and carriers by name (lower case) and by id.
#[derive(Default)]
struct Names {
    trunks: HashMap<String, numberpool_domain::TrunkId>,
    carriers: HashMap<(CarrierKind, String), numberpool_domain::CarrierId>,
    /// Trunk and carrier names by id, for showing an id.
    shown: HashMap<uuid::Uuid, String>,
}

impl Names {
    /// `owner`'s names from `cache`, read on first use.
    async fn cached<'m>(
        cache: &'m mut HashMap<AccountId, Names>,
        r: &mut Reader,
        owner: AccountId,
    ) -> Result<&'m Names> {
        Ok(match cache.entry(owner) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(Names::of(r, owner).await?),
        })
    }

    async fn of(r: &mut Reader, owner: AccountId) -> Result<Names> {
        let mut shown = HashMap::new();
        let trunks = r
            .list_trunks(owner)
            .await?
            .into_iter()
            .map(|t| {
                shown.insert(t.id.as_uuid(), t.name.clone());
                (t.name.to_lowercase(), t.id)
            })
            .collect();
        let carriers = r
            .list_carriers(owner, None)
            .await?
            .into_iter()
            .map(|c| {
                shown.insert(c.id.as_uuid(), c.name.clone());
                ((c.kind, c.name.to_lowercase()), c.id)
            })
            .collect();
        Ok(Names {
            trunks,
            carriers,
            shown,
        })
    }

    fn trunk(&self, name: &str) -> std::result::Result<numberpool_domain::TrunkId, Reason> {
        self.trunks
            .get(&name.to_lowercase())
            .copied()
            .ok_or_else(|| {
                Reason::new(
                    ReasonCode::UnknownTrunk,
                    format!("SIP Trunk: {name:?} is not a SIP trunk of the provider"),
                )
            })
    }

    fn carrier(
        &self,
        kind: CarrierKind,
        name: &str,
    ) -> std::result::Result<numberpool_domain::CarrierId, Reason> {
        self.carriers
            .get(&(kind, name.to_lowercase()))
            .copied()
            .ok_or_else(|| {
                Reason::new(
                    ReasonCode::UnknownCarrier,
                    format!(
                        "{}: {name:?} is not a {} carrier of the provider",
                        match kind {
                            CarrierKind::Voice => "Voice Carrier",
                            CarrierKind::Sms => "SMS Carrier",
                        },
                        kind.as_str()
                    ),
                )
            })
    }

    /// An id as its name, where it names a trunk or carrier.
    fn show(&self, id: Option<uuid::Uuid>) -> String {
        self.show_ref(id).into_owned()
    }

    /// [`Names::show`] without copying a name that is known.
    fn show_ref(&self, id: Option<uuid::Uuid>) -> std::borrow::Cow<'_, str> {
        match id {
            None => std::borrow::Cow::Borrowed(""),
            Some(i) => match self.shown.get(&i) {
                Some(name) => std::borrow::Cow::Borrowed(name.as_str()),
                None => std::borrow::Cow::Owned(i.to_string()),
            },
        }
    }
}

/// The patch an update row makes of `n`: each filled cell that differs from the number.
fn patch_of(
    n: &Number,
    u: &import::UpdateRow,
    names: &Names,
) -> std::result::Result<NumberPatch, Reason> {
    fn differs<T: PartialEq + Clone>(now: &T, given: Option<&T>) -> Option<T> {
        given.filter(|g| *g != now).cloned()
    }
    fn text(now: &Option<String>, given: &Option<String>) -> Option<Option<String>> {
        given
            .as_ref()
            .filter(|g| now.as_ref() != Some(*g))
            .map(|g| Some(g.clone()))
    }
    let trunk = u.sip_trunk.as_deref().map(|t| names.trunk(t)).transpose()?;
    let voice = u
        .voice_carrier
        .as_deref()
        .map(|c| names.carrier(CarrierKind::Voice, c))
        .transpose()?;
    let sms = u
        .sms_carrier
        .as_deref()
        .map(|c| names.carrier(CarrierKind::Sms, c))
        .transpose()?;
    let capabilities = u.capabilities_over(n.capabilities);
    let customization = u.customization_over(n.customization);
    let mut attributes = n.attributes.clone();
    attributes.extend(u.attributes.clone());
    Ok(NumberPatch {
        product: differs(&n.product, u.product.as_ref()),
        status: differs(&n.status, u.status.as_ref()),
        number_type: differs(&n.number_type, u.number_type.as_ref()),
        sip_trunk_id: trunk.filter(|t| n.sip_trunk_id != Some(*t)).map(Some),
        billing_reference: text(&n.billing_reference, &u.billing_reference),
        service_info: text(&n.service_info, &u.service_info),
        capabilities: (capabilities != n.capabilities).then_some(capabilities),
        voice_carrier_id: voice.filter(|c| n.voice_carrier_id != Some(*c)).map(Some),
        sms_carrier_id: sms.filter(|c| n.sms_carrier_id != Some(*c)).map(Some),
        customization: (customization != n.customization).then_some(customization),
        call_purpose: text(&n.call_purpose, &u.call_purpose),
        display_name: text(&n.display_name, &u.display_name),
        program_duration: text(&n.program_duration, &u.program_duration),
        attributes: (attributes != n.attributes).then_some(attributes),
    })
}

/// A number's editable fields as the plan shows them, in a fixed order.
fn shown(n: &Number, names: &Names) -> [(&'static str, String); 14] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: Option<uuid::Uuid>| names.show(v);
    let c = &n.capabilities;
    let flags = [
        ("voice", c.voice),
        ("sms", c.sms),
        ("mms", c.mms),
        ("fax", c.fax),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(n, _)| *n)
    .collect::<Vec<_>>()
    .join(", ");
    let k = &n.customization;
    let custom = format!(
        "{}, {}, messaging {}, dialer {}, CLI shared {}",
        k.capacity, k.voice_direction, k.messaging, k.outbound_dialer, k.outbound_cli_shared
    );
    let attrs = n
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    [
        ("product", n.product.to_string()),
        ("status", n.status.as_str().to_string()),
        ("type", n.number_type.to_string()),
        ("sip_trunk", id(n.sip_trunk_id.map(|t| t.as_uuid()))),
        ("billing_reference", opt(&n.billing_reference)),
        ("service_info", opt(&n.service_info)),
        ("capabilities", flags),
        ("voice_carrier", id(n.voice_carrier_id.map(|c| c.as_uuid()))),
        ("sms_carrier", id(n.sms_carrier_id.map(|c| c.as_uuid()))),
        ("customization", custom),
        ("call_purpose", opt(&n.call_purpose)),
        ("display_name", opt(&n.display_name)),
        ("program_duration", opt(&n.program_duration)),
        ("attributes", attrs),
    ]
}

/// The fields `before` and `after` differ in, as the plan shows them.
fn changes(before: &Number, after: &Number, names: &Names) -> Vec<FieldChange> {
    shown(before, names)
        .into_iter()
        .zip(shown(after, names))
        .filter(|((_, b), (_, a))| b != a)
        .map(|((field, before), (_, after))| FieldChange {
            field: field.to_string(),
            before,
            after,
        })
        .collect()
}

/// An add row with its trunk and carriers named by the provider's ids.
fn resolve_names(a: AddRow, names: &Names) -> std::result::Result<AddNumber, Reason> {
    let mut fields = a.fields;
    if let Some(name) = &a.sip_trunk {
        fields.sip_trunk_id = Some(names.trunk(name)?);
    }
    if let Some(name) = &a.voice_carrier {
        fields.voice_carrier_id = Some(names.carrier(CarrierKind::Voice, name)?);
    }
    if let Some(name) = &a.sms_carrier {
        fields.sms_carrier_id = Some(names.carrier(CarrierKind::Sms, name)?);
    }
    Ok(AddNumber {
        phone_number: a.phone_number,
        fields,
    })
}

/// An example row of `action`'s sample file, cell for cell with [`import::Column::sample`].
fn sample_row(c: &import::Column) -> &'static str {
    use import::Column::*;
    match c {
        // A number no fixture or demo holds, so the sample plans as a create as it is.
        PhoneNumber => "+12125550142",
        Product => "phone",
        Status => "normal",
        Type => "",
        State => "CA",
        City => "San Francisco",
        SipTrunk => "",
        BillingReference => "PO-1001",
        ServiceInfo => "",
        Voice => "TRUE",
        Sms => "FALSE",
        Mms => "FALSE",
        Fax => "FALSE",
        VoiceCarrier | SmsCarrier => "",
        Capacity => "single_user",
        VoiceDirection => "both",
        Messaging => "none",
        OutboundDialer | OutboundCliShared => "FALSE",
        CallPurpose => "Main line",
        DisplayName => "Front desk",
        ProgramDuration | CountryCode | Attribute(_) | Reason => "",
    }
}

/// The sample file of `action` in `format`: every column the action takes, one example row.
pub fn import_sample(action: ImportAction, format: FileFormat) -> Result<Vec<u8>> {
    let columns = import::Column::sample(action);
    let header: Vec<String> = columns.iter().map(import::Column::header).collect();
    let row: Vec<String> = columns.iter().map(|c| sample_row(c).to_string()).collect();
    file::write(format, b',', action.title(), &header, &[row], Some(0))
        .map_err(|e| ServiceError::Invalid(format!("sample: {e}")))
}

impl Service {
    /// The import's rejected rows as a file in the uploaded format: the uploaded header with a
    /// `reason` column (in place of one the file had) and each rejected row's cells as they
    /// were uploaded, with `code: message`. Fixed and uploaded again it imports as it is: the
    /// `reason` column is read past. The name says which import it came from.
    pub async fn rejected_rows_file(
        &self,
        actor: &Actor,
        id: ImportId,
    ) -> Result<(FileFormat, String, Vec<u8>)> {
        let (view, bytes) = self.import_file(actor, id).await?;
        let rec = &view.record;
        let table = file::read(&bytes, rec.action).map_err(file_refused)?;
        let reason_at = table
            .header
            .iter()
            .position(|h| import::Column::from_header(h) == Some(import::Column::Reason));
        let mut header = table.header.clone();
        let at = match reason_at {
            Some(i) => i,
            None => {
                header.push("reason".into());
                header.len() - 1
            }
        };
        let number_column = table
            .header
            .iter()
            .position(|h| import::Column::from_header(h) == Some(import::Column::PhoneNumber));
        let rows: Vec<Vec<String>> = view
            .rows
            .iter()
            .filter(|r| r.outcome == RowOutcome::Reject)
            .filter_map(|r| {
                let mut cells = table.rows.get(r.row.checked_sub(2)?)?.clone();
                cells.resize(header.len(), String::new());
                cells[at] = format!(
                    "{}: {}",
                    r.reason.as_deref().unwrap_or(""),
                    r.message.as_deref().unwrap_or("")
                );
                Some(cells)
            })
            .collect();
        let data = file::write(
            rec.format,
            table.delimiter,
            rec.action.title(),
            &header,
            &rows,
            number_column,
        )
        .map_err(|e| ServiceError::Invalid(format!("rejected rows: {e}")))?;
        let stem = rec
            .file_name
            .rsplit_once('.')
            .map_or(rec.file_name.as_str(), |(s, _)| s);
        let name = format!("{stem}-rejected.{}", rec.format.as_str());
        Ok((rec.format, name, data))
    }
}

/// The answer to an apply whose plan no longer holds.
fn stale(why: &str) -> ServiceError {
    ServiceError::PreconditionFailed(why.to_string())
}

/// The format of a stored import, for a caller choosing the rejected-rows file's type.
pub fn content_type(f: FileFormat) -> &'static str {
    match f {
        FileFormat::Csv => "text/csv; charset=utf-8",
        FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}
