//! `numberpool import`: plan a CSV or XLSX file as an account, show the plan (counts and every
//! rejected row with its reason), and apply it unless `--dry-run`; or apply a plan made
//! earlier with `--apply PLAN`. The rejected rows can be written to a file to fix and import
//! again.

use std::path::PathBuf;

use clap::Args;
use numberpool_domain::import::{ImportAction, ImportStatus};
use numberpool_domain::{Country, ImportId};

use super::progress::Shown;
use super::{acting, parse_id, service_err};
use crate::jobs::{JobKind, Outcome, Worker, WorkerOptions};
use crate::service::progress::Progress;
use crate::service::{Actor, AddOptions, ImportRequest, ImportView, RowOutcome, Service};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "apply"])))]
pub struct ImportArgs {
    /// The account importing (its pool, or itself as a customer with external numbers).
    #[arg(long)]
    account: String,
    /// The CSV or XLSX file.
    file: Option<PathBuf>,
    /// add, update or delete: what every row does [default: add]
    #[arg(long, default_value = "add")]
    action: String,
    /// Plan the file and stop: nothing is written. Apply it later with --apply.
    #[arg(long, conflicts_with = "apply")]
    dry_run: bool,
    /// Apply a plan made earlier (its id, as a dry run printed it).
    #[arg(long, value_name = "PLAN")]
    apply: Option<String>,
    /// Country of numbers written without + when the file has no Country Code column
    /// (ISO 3166 alpha-2).
    #[arg(long)]
    default_country: Option<String>,
    /// An add file's voice carrier (by name) for rows with voice on that name none, in place
    /// of the provider's default (seed 003's upload form).
    #[arg(long, value_name = "NAME")]
    voice_carrier: Option<String>,
    /// An add file's SMS carrier profile (by name) for rows with SMS on that name none.
    #[arg(long, value_name = "NAME")]
    sms_carrier: Option<String>,
    /// Allocate an add file's numbers, as they go in, to this account (a direct sub account or
    /// a connected customer; seed 003's "Enterprises and Resellers").
    #[arg(long, value_name = "ACCOUNT")]
    target: Option<String>,
    /// Write the rejected rows (the file's columns and a reason column) to this file.
    #[arg(long, value_name = "PATH")]
    rejected_out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn print_plan(v: &ImportView) -> anyhow::Result<()> {
    let r = &v.record;
    let c = &r.counts;
    outln!(
        "import {} ({}, {}): {} row(s): {} to create, {} to update ({} unchanged), {} to delete, {} rejected; status {}",
        r.id,
        r.action,
        r.file_name,
        c.total,
        c.creates,
        c.updates,
        c.unchanged,
        c.deletes,
        c.rejected,
        r.status
    );
    for row in v.rows.iter().filter(|r| r.outcome == RowOutcome::Update) {
        let what = row
            .changes
            .iter()
            .map(|c| format!("{}: {:?} -> {:?}", c.field, c.before, c.after))
            .collect::<Vec<_>>()
            .join("; ");
        outln!("  row {}: {} update: {what}", row.row, row.phone_number);
    }
    for row in v.rows.iter().filter(|r| r.outcome == RowOutcome::Reject) {
        outln!(
            "  row {}: {} rejected: {}{}: {}",
            row.row,
            row.phone_number,
            row.reason.as_deref().unwrap_or(""),
            row.rule
                .as_deref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default(),
            row.message.as_deref().unwrap_or("")
        );
    }
    if let Some(e) = &r.error {
        outln!("  not applied: {e}");
    }
    Ok(())
}

fn emit(v: &ImportView, json: bool) -> anyhow::Result<()> {
    if json {
        let body = crate::api::imports::ImportBody::from(v.clone());
        outln!("{}", serde_json::to_string(&body)?);
        Ok(())
    } else {
        print_plan(v)
    }
}

/// Queues the import's apply as a job and runs it here, showing its progress (on standard
/// error, when `show`); if a server's worker took the job first, follows it there. The import
/// as it ended; a failed one is an error with its reason.
async fn apply(
    service: &Service,
    actor: &Actor,
    id: ImportId,
    show: bool,
) -> anyhow::Result<ImportView> {
    let queued = crate::jobs::request_import_apply(service, actor, id)
        .await
        .map_err(service_err)?;
    if let Some(job) = queued
        .record
        .job_id
        .filter(|_| queued.record.status == ImportStatus::Applying)
    {
        let worker = Worker::new(service.clone(), WorkerOptions::default());
        let start =
            |w: Worker| tokio::spawn(async move { w.run_job(job, JobKind::ImportApply).await });
        let mut run = start(worker.clone());
        // While another worker has the job, this one asks for it again now and then: if that
        // worker died (or this command was stopped and run again within the lease), the job
        // is taken up here once its lease ends, not left waiting for a server.
        let mut retake = tokio::time::interval(std::time::Duration::from_secs(1));
        retake.tick().await;
        let mut shown = show.then(|| Shown::new("import"));
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        // Until this process's run ends, then (if another worker had the job) until the job
        // is finished wherever it runs.
        let mut ours = true;
        let mut following = false;
        loop {
            tokio::select! {
                joined = &mut run, if ours => {
                    ours = false;
                    match joined.map_err(|e| anyhow::anyhow!("the apply stopped: {e}"))? {
                        Ok(Some(Outcome::Retry { error, .. })) => anyhow::bail!(
                            "the apply failed and is queued to be tried again by a worker \
                             (numberpool serve or numberpool worker): {error}"
                        ),
                        Ok(None | Some(Outcome::LostLease { .. })) => {
                            if show && !following {
                                eprintln!("the apply runs on another worker; following it");
                            }
                            following = true;
                        }
                        Ok(Some(Outcome::Done { .. } | Outcome::Failed { .. })) => {}
                        Err(e) => return Err(service_err(e)),
                    }
                }
                _ = tick.tick() => {}
                _ = retake.tick(), if !ours => {
                    run = start(worker.clone());
                    ours = true;
                }
            }
            let Some(j) = service.job_view(job).await.map_err(service_err)? else {
                break;
            };
            if let Some(s) = shown.as_mut() {
                s.show(&j.progress);
            }
            if !ours && j.state.is_final() {
                break;
            }
        }
        if let Some(s) = shown {
            s.finish();
        }
    }
    let v = service.get_import(actor, id).await.map_err(service_err)?;
    if v.record.status == ImportStatus::Failed {
        anyhow::bail!(
            "not applied: {}",
            v.record.error.as_deref().unwrap_or("the apply failed")
        );
    }
    Ok(v)
}

pub async fn run(service: &Service, args: ImportArgs) -> anyhow::Result<()> {
    let actor = acting(service, &args.account).await?;
    let view = match (&args.file, &args.apply) {
        (_, Some(plan)) => {
            let id: ImportId = parse_id("--apply", plan)?;
            apply(service, &actor, id, !args.json).await?
        }
        (Some(path), None) => {
            let action: ImportAction = args
                .action
                .parse()
                .map_err(|e| anyhow::anyhow!("--action: {e}"))?;
            let default_country = args
                .default_country
                .as_deref()
                .map(Country::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--default-country: {e}"))?;
            let bytes = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let req = ImportRequest {
                action,
                file_name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "import".into()),
                default_country,
                add: AddOptions {
                    voice_carrier: args.voice_carrier.clone(),
                    sms_carrier: args.sms_carrier.clone(),
                    target: args
                        .target
                        .as_deref()
                        .map(|t| parse_id("--target", t))
                        .transpose()?,
                },
            };
            let plan = service
                .plan_import(&actor, &req, bytes)
                .await
                .map_err(service_err)?;
            if args.dry_run {
                if !args.json {
                    print_plan(&plan)?;
                    outln!(
                        "dry run: nothing written. Apply this plan with: numberpool import --account {} --apply {}",
                        args.account,
                        plan.record.id
                    );
                }
                plan
            } else {
                if !args.json {
                    print_plan(&plan)?;
                }
                apply(service, &actor, plan.record.id, !args.json).await?
            }
        }
        (None, None) => anyhow::bail!("give a FILE to import, or --apply PLAN"),
    };
    if let Some(out) = &args.rejected_out {
        let (_, _, data) = service
            .rejected_rows_file(&actor, view.record.id)
            .await
            .map_err(service_err)?;
        std::fs::write(out, data)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    }
    if args.json {
        emit(&view, true)?;
    } else if view.record.status == ImportStatus::Applied {
        let c = &view.record.counts;
        outln!(
            "applied: {} created, {} updated, {} deleted; {} row(s) rejected{}",
            c.creates,
            c.updates,
            c.deletes,
            c.rejected,
            args.rejected_out
                .as_ref()
                .map(|p| format!(" (written to {})", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The account whose numbers are exported (what it sees).
    #[arg(long)]
    account: String,
    /// list (the numbers as the list shows them), update-template (the Update import's
    /// columns, filled: imported back unchanged it changes nothing) or consolidated (numbers
    /// with customers, with the customer's name and account number) [default: list]
    #[arg(long, default_value = "list")]
    kind: String,
    /// csv or xlsx [default: csv]
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write; `-` writes a CSV to standard output.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
}

pub async fn export(service: &Service, args: ExportArgs) -> anyhow::Result<()> {
    let actor = acting(service, &args.account).await?;
    let kind: numberpool_domain::import::ExportKind = args
        .kind
        .replace('-', "_")
        .parse()
        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let format: numberpool_domain::import::FileFormat = args
        .format
        .parse()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    if args.out.as_os_str() == "-" {
        if format == numberpool_domain::import::FileFormat::Xlsx {
            anyhow::bail!("--out: an XLSX goes to a file, not to standard output");
        }
        let mut stdout = std::io::BufWriter::new(std::io::stdout());
        service
            .export_numbers(&actor, kind, format, &mut stdout, &Progress::none())
            .await
            .map_err(service_err)?;
        std::io::Write::flush(&mut stdout)?;
        return Ok(());
    }
    // Written beside the target and renamed into place, so a failed export leaves no half file.
    let tmp = args.out.with_extension("partial");
    let file = std::fs::File::create(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let progress = Progress::none();
    let watch = {
        let progress = progress.clone();
        let mut shown = Shown::new("export");
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
            loop {
                tick.tick().await;
                shown.show(&progress.snapshot());
            }
        })
    };
    progress.set_phase(crate::service::progress::Phase::Writing);
    let written = service
        .export_numbers(&actor, kind, format, &mut w, &progress)
        .await;
    watch.abort();
    let rows = match written {
        Ok(rows) => rows,
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(&tmp);
            return Err(service_err(e));
        }
    };
    std::io::Write::flush(&mut w)?;
    drop(w);
    std::fs::rename(&tmp, &args.out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.out.display()))?;
    outln!("{rows} number(s) written to {}", args.out.display());
    Ok(())
}
