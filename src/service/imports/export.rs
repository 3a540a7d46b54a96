//! Exports (SPEC §4, issue 13): the numbers an account sees, as CSV or XLSX, written page by
//! page as they are read (keyset pages of [`PAGE`], no count), so what is held is one page
//! however many rows there are. Every cell goes through R-EXP-1's neutralising; a real E.164
//! number in the number column stays readable, and an XLSX stores every cell as text.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use numberpool_domain::import::{Column, ExportKind, FileFormat, ImportAction, neutralise_cell};
use numberpool_domain::{AccountId, Number, ViewPosition};

use super::Names;
use crate::service::progress::Progress;
use crate::service::{Actor, Permission, Result, Service, ServiceError};

/// Rows read per page.
const PAGE: u32 = 1000;

/// Where rows go.
trait RowSink {
    fn row(&mut self, cells: &[String], number_column: Option<usize>) -> Result<()>;
}

fn failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("the export could not be written: {e}"))
}

fn cell(i: usize, v: &str, number_column: Option<usize>) -> String {
    neutralise_cell(v, Some(i) == number_column).into_owned()
}

struct CsvSink<W: Write>(csv::Writer<W>);

impl<W: Write> RowSink for CsvSink<W> {
    fn row(&mut self, cells: &[String], number_column: Option<usize>) -> Result<()> {
        self.0
            .write_record(
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, v)| cell(i, v, number_column)),
            )
            .map_err(failed)
    }
}

/// One worksheet in constant memory: each row goes to a temporary file as it is written.
struct XlsxSink {
    book: rust_xlsxwriter::Workbook,
    row: u32,
    text: rust_xlsxwriter::Format,
}

impl RowSink for XlsxSink {
    fn row(&mut self, cells: &[String], number_column: Option<usize>) -> Result<()> {
        let ws = self.book.worksheet_from_index(0).map_err(failed)?;
        for (c, v) in cells.iter().enumerate() {
            let col = u16::try_from(c).map_err(failed)?;
            ws.write_string_with_format(self.row, col, cell(c, v, number_column), &self.text)
                .map_err(failed)?;
        }
        self.row += 1;
        Ok(())
    }
}

fn flag(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

impl Service {
    /// Writes the numbers the actor sees as `kind` in `format` to `out`; how many rows.
    pub async fn export_numbers(
        &self,
        actor: &Actor,
        kind: ExportKind,
        format: FileFormat,
        out: &mut (dyn Write + Send),
        progress: &Progress,
    ) -> Result<u64> {
        actor.require(Permission::PhoneRead)?;
        match format {
            FileFormat::Csv => {
                // A BOM, so that Excel reads the file as UTF-8.
                out.write_all(b"\xEF\xBB\xBF").map_err(failed)?;
                let mut sink = CsvSink(csv::Writer::from_writer(&mut *out));
                let rows = self.export_rows(actor, kind, &mut sink, progress).await?;
                sink.0.flush().map_err(failed)?;
                Ok(rows)
            }
            FileFormat::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.add_worksheet_with_constant_memory()
                    .map_err(failed)?
                    .set_name(match kind {
                        ExportKind::UpdateTemplate => "Update",
                        ExportKind::List => "Numbers",
                        ExportKind::Consolidated => "Consolidated",
                    })
                    .map_err(failed)?;
                let mut sink = XlsxSink {
                    book,
                    row: 0,
                    text: rust_xlsxwriter::Format::new().set_num_format("@"),
                };
                let rows = self.export_rows(actor, kind, &mut sink, progress).await?;
                sink.book.save_to_writer(out).map_err(failed)?;
                Ok(rows)
            }
        }
    }

    async fn export_rows(
        &self,
        actor: &Actor,
        kind: ExportKind,
        sink: &mut impl RowSink,
        progress: &Progress,
    ) -> Result<u64> {
        let mut r = self.store.read().await?;
        // Customer names and account numbers, for the kinds that show them.
        let accounts: HashMap<AccountId, (String, String)> = if kind == ExportKind::UpdateTemplate {
            HashMap::new()
        } else {
            r.list_accounts_in_scope(actor.account)
                .await?
                .into_iter()
                .map(|a| (a.id, (a.name, a.account_number)))
                .collect()
        };
        // The update template's attribute columns: every key of the provider's.
        let attribute_keys: BTreeSet<String> = if kind == ExportKind::UpdateTemplate {
            let owner = r
                .ancestors(actor.account)
                .await?
                .last()
                .copied()
                .unwrap_or(actor.account);
            r.list_attributes(owner)
                .await?
                .into_iter()
                .map(|a| a.key)
                .collect()
        } else {
            BTreeSet::new()
        };
        let header = header_of(kind, &attribute_keys);
        let number_column = header.iter().position(|h| h == "Phone Number");
        sink.row(&header, None)?;
        let mut names: HashMap<AccountId, Names> = HashMap::new();
        let mut rows = 0u64;
        // Holder by holder, each along its index: linear in the rows written on both backends
        // (one ordered scan of the whole scope made SQLite sort it again for every page).
        for (holder, whole) in r.scope_holders(actor.account).await? {
            let owner = (!whole).then_some(actor.account);
            let mut after = None;
            loop {
                let page = r.scan_held(holder, owner, after, PAGE).await?;
                for n in &page {
                    if kind == ExportKind::Consolidated && n.customer_id.is_none() {
                        continue;
                    }
                    let nm = Names::cached(&mut names, &mut r, n.owner_id).await?;
                    let cells = match kind {
                        ExportKind::UpdateTemplate => template_row(n, nm, &attribute_keys),
                        ExportKind::List => list_row(n, nm, actor.account, &accounts),
                        ExportKind::Consolidated => {
                            let (name, number) = n
                                .customer_id
                                .and_then(|c| accounts.get(&c).cloned())
                                .unwrap_or_default();
                            vec![
                                name,
                                number,
                                n.phone_number.as_str().to_string(),
                                nm.show(n.sip_trunk_id.map(|t| t.to_string())),
                                text(&n.billing_reference),
                            ]
                        }
                    };
                    sink.row(&cells, number_column)?;
                    rows += 1;
                    progress.written(1);
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => after = Some(last.id),
                    _ => break,
                }
            }
        }
        Ok(rows)
    }
}

fn header_of(kind: ExportKind, attribute_keys: &BTreeSet<String>) -> Vec<String> {
    match kind {
        ExportKind::UpdateTemplate => Column::sample(ImportAction::Update)
            .iter()
            .map(Column::header)
            .chain(
                attribute_keys
                    .iter()
                    .map(|k| Column::Attribute(k.clone()).header()),
            )
            .collect(),
        ExportKind::List => [
            "Phone Number",
            "Country",
            "Type",
            "Status",
            "Product",
            "Position",
            "Customer",
            "Assigned To",
            "SIP Trunk",
            "Billing Reference",
            "Source",
            "Added",
        ]
        .map(str::to_string)
        .to_vec(),
        ExportKind::Consolidated => [
            "Account Name",
            "Account Number",
            "Phone Number",
            "SIP Trunk",
            "Billing Reference",
        ]
        .map(str::to_string)
        .to_vec(),
    }
}

/// A number as the Update import's columns (and the provider's attributes): imported back as
/// an Update, every filled cell already holds, so nothing changes.
fn template_row(n: &Number, names: &Names, attribute_keys: &BTreeSet<String>) -> Vec<String> {
    let c = &n.customization;
    let mut cells: Vec<String> = Column::sample(ImportAction::Update)
        .iter()
        .map(|col| match col {
            Column::PhoneNumber => n.phone_number.as_str().to_string(),
            Column::Product => n.product.as_str().to_string(),
            Column::Status => n.status.as_str().to_string(),
            Column::Type => n.number_type.as_str().to_string(),
            Column::SipTrunk => names.show(n.sip_trunk_id.map(|t| t.to_string())),
            Column::BillingReference => text(&n.billing_reference),
            Column::ServiceInfo => text(&n.service_info),
            Column::Voice => flag(n.capabilities.voice),
            Column::Sms => flag(n.capabilities.sms),
            Column::Mms => flag(n.capabilities.mms),
            Column::Fax => flag(n.capabilities.fax),
            Column::VoiceCarrier => names.show(n.voice_carrier_id.map(|x| x.to_string())),
            Column::SmsCarrier => names.show(n.sms_carrier_id.map(|x| x.to_string())),
            Column::Capacity => c.capacity.as_str().to_string(),
            Column::VoiceDirection => c.voice_direction.as_str().to_string(),
            Column::Messaging => c.messaging.as_str().to_string(),
            Column::OutboundDialer => flag(c.outbound_dialer),
            Column::OutboundCliShared => flag(c.outbound_cli_shared),
            Column::CallPurpose => text(&n.call_purpose),
            Column::DisplayName => text(&n.display_name),
            Column::ProgramDuration => text(&n.program_duration),
            _ => String::new(),
        })
        .collect();
    cells.extend(
        attribute_keys
            .iter()
            .map(|k| n.attributes.get(k).cloned().unwrap_or_default()),
    );
    cells
}

/// A number as the numbers list shows it.
fn list_row(
    n: &Number,
    names: &Names,
    viewer: AccountId,
    accounts: &HashMap<AccountId, (String, String)>,
) -> Vec<String> {
    vec![
        n.phone_number.as_str().to_string(),
        n.phone_number.country().as_str(),
        n.number_type.as_str().to_string(),
        n.status.api_str().to_string(),
        n.product.as_str().to_string(),
        ViewPosition::of(n, viewer).as_str().to_string(),
        n.customer_id
            .and_then(|c| accounts.get(&c).map(|a| a.0.clone()))
            .unwrap_or_default(),
        n.assignees
            .iter()
            .map(|a| a.display_name.clone().unwrap_or_else(|| a.id.clone()))
            .collect::<Vec<_>>()
            .join(", "),
        names.show(n.sip_trunk_id.map(|t| t.to_string())),
        text(&n.billing_reference),
        n.source.clone(),
        crate::api::audit::rfc3339(n.created_at),
    ]
}
