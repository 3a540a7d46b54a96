//! Exports (SPEC §4, issue 13): the numbers an account sees, as CSV or XLSX, written page by
//! page as they are read (keyset pages of [`PAGE`], no count), so what is held is one page
//! however many rows there are. Every cell goes through R-EXP-1's neutralising; a real E.164
//! number in the number column stays readable, and an XLSX stores every cell as text.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use numberpool_domain::import::{Column, ExportKind, FileFormat, ImportAction, neutralise_cell};
use numberpool_domain::{AccountId, Number, NumberId, NumberListing, ViewPosition};
use numberpool_store::RawPage;

use super::Names;
use crate::service::progress::Progress;
use crate::service::{Actor, Permission, Result, Service, ServiceError};

/// Rows read per page.
const PAGE: u32 = 1000;

/// A row's cells: most are borrowed from the number or are fixed words.
type Cells<'a> = Vec<Cow<'a, str>>;

/// Where rows go.
trait RowSink {
    fn row(&mut self, cells: &[Cow<'_, str>], number_column: Option<usize>) -> Result<()>;
}

fn failed(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!("the export could not be written: {e}"))
}

/// A cell as written (R-EXP-1). The number column holds a stored number's E.164, valid by its
/// type, so it is written as it is without libphonenumber parsing it again (which was most of
/// an export's cost); every other cell is neutralised.
fn cell<'c>(i: usize, v: &'c str, number_column: Option<usize>) -> Cow<'c, str> {
    if Some(i) == number_column {
        Cow::Borrowed(v)
    } else {
        neutralise_cell(v, false)
    }
}

struct CsvSink<W: Write>(csv::Writer<W>);

impl<W: Write> RowSink for CsvSink<W> {
    fn row(&mut self, cells: &[Cow<'_, str>], number_column: Option<usize>) -> Result<()> {
        for (i, v) in cells.iter().enumerate() {
            self.0
                .write_field(cell(i, v, number_column).as_bytes())
                .map_err(failed)?;
        }
        self.0.write_record(None::<&[u8]>).map_err(failed)
    }
}

/// One worksheet in constant memory: each row goes to a temporary file as it is written.
struct XlsxSink {
    book: rust_xlsxwriter::Workbook,
    row: u32,
    text: rust_xlsxwriter::Format,
}

impl RowSink for XlsxSink {
    fn row(&mut self, cells: &[Cow<'_, str>], number_column: Option<usize>) -> Result<()> {
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

fn flag(b: bool) -> Cow<'static, str> {
    Cow::Borrowed(if b { "TRUE" } else { "FALSE" })
}

fn text(v: &Option<String>) -> Cow<'_, str> {
    Cow::Borrowed(v.as_deref().unwrap_or(""))
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
        let header: Cells = header.iter().map(|h| Cow::Borrowed(h.as_str())).collect();
        sink.row(&header, None)?;
        let mut names: HashMap<AccountId, Names> = HashMap::new();
        let mut rows = 0u64;
        // Pages are read by a task of their own, a page or two ahead of the one being decoded
        // and written here: the database works on the next page while this one is decoded
        // (on a multi-threaded runtime, on two cores at once).
        let (pages, mut next_page) = tokio::sync::mpsc::channel::<Result<Page>>(2);
        let mut reader = self.store.read_for_scan().await?;
        let scope = actor.account;
        // The list and consolidated kinds read only the columns they write.
        let whole = kind == ExportKind::UpdateTemplate;
        // The whole table in id order when the scope holds much of it, else holder by holder
        // along its index (see `Reader::scope_is_much_of_table`); both are linear in the rows
        // read, and neither sorts (one ordered scan of the scope along the holder index made
        // SQLite sort it again for every page).
        let walks: Vec<(AccountId, Option<AccountId>, bool)> =
            if reader.scope_is_much_of_table(scope).await? {
                vec![(scope, None, true)]
            } else {
                r.scope_holders(scope)
                    .await?
                    .into_iter()
                    .map(|(holder, all)| (holder, (!all).then_some(scope), false))
                    .collect()
            };
        let walker = tokio::spawn(async move {
            let mut r = reader;
            for (from, owner, everything) in walks {
                let mut after = None;
                loop {
                    let page = match (whole, everything) {
                        (true, true) => r.scan_scope(from, after, PAGE).await.map(Page::Whole),
                        (false, true) => r
                            .scan_scope_listings(from, after, PAGE)
                            .await
                            .map(Page::Listing),
                        (true, false) => {
                            r.scan_held(from, owner, after, PAGE).await.map(Page::Whole)
                        }
                        (false, false) => r
                            .scan_held_listings(from, owner, after, PAGE)
                            .await
                            .map(Page::Listing),
                    }
                    .map_err(ServiceError::from);
                    let (last, full) = match &page {
                        Ok(p) => (p.last(), p.len() == PAGE as usize),
                        Err(_) => (None, false),
                    };
                    let failed = page.is_err();
                    if pages.send(page).await.is_err() || failed {
                        return;
                    }
                    match last {
                        Some(last) if full => after = Some(last),
                        _ => break,
                    }
                }
            }
        });
        let walker = AbortOnDrop(Some(walker));
        while let Some(page) = next_page.recv().await {
            match page? {
                Page::Whole(page) => {
                    for n in &page.decode()? {
                        let nm = Names::cached(&mut names, &mut r, n.owner_id).await?;
                        sink.row(&template_row(n, nm, &attribute_keys), number_column)?;
                        rows += 1;
                        progress.written(1);
                    }
                }
                Page::Listing(page) => {
                    for n in &page.decode()? {
                        if kind == ExportKind::Consolidated && n.customer_id.is_none() {
                            continue;
                        }
                        let nm = Names::cached(&mut names, &mut r, n.owner_id).await?;
                        let cells = if kind == ExportKind::Consolidated {
                            consolidated_row(n, nm, &accounts)
                        } else {
                            list_row(n, nm, actor.account, &accounts)
                        };
                        sink.row(&cells, number_column)?;
                        rows += 1;
                        progress.written(1);
                    }
                }
            }
        }
        // The pages ended: because the walk did, not because its task died half way.
        walker.finish().await?;
        Ok(rows)
    }
}

/// A page as the walker read it: whole numbers for the update template, listings otherwise.
enum Page {
    Whole(RawPage<Number>),
    Listing(RawPage<NumberListing>),
}

impl Page {
    fn len(&self) -> usize {
        match self {
            Page::Whole(p) => p.len(),
            Page::Listing(p) => p.len(),
        }
    }

    fn last(&self) -> Option<NumberId> {
        match self {
            Page::Whole(p) => p.last(),
            Page::Listing(p) => p.last(),
        }
    }
}

/// The page reader's task, stopped if the export ends early (an error, a dropped job).
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    async fn finish(mut self) -> Result<()> {
        match self.0.take() {
            Some(task) => task.await.map_err(|e| {
                ServiceError::Internal(numberpool_store::StoreError::Corrupt(format!(
                    "the export's page reader stopped: {e}"
                )))
            }),
            None => Ok(()),
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
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
fn template_row<'a>(
    n: &'a Number,
    names: &'a Names,
    attribute_keys: &BTreeSet<String>,
) -> Cells<'a> {
    let c = &n.customization;
    let word = Cow::Borrowed;
    let mut cells: Cells = Column::sample(ImportAction::Update)
        .iter()
        .map(|col| match col {
            Column::PhoneNumber => word(n.phone_number.as_str()),
            Column::Product => word(n.product.as_str()),
            Column::Status => word(n.status.as_str()),
            Column::Type => word(n.number_type.as_str()),
            Column::SipTrunk => names.show_ref(n.sip_trunk_id.map(|t| t.as_uuid())),
            Column::BillingReference => text(&n.billing_reference),
            Column::ServiceInfo => text(&n.service_info),
            Column::Voice => flag(n.capabilities.voice),
            Column::Sms => flag(n.capabilities.sms),
            Column::Mms => flag(n.capabilities.mms),
            Column::Fax => flag(n.capabilities.fax),
            Column::VoiceCarrier => names.show_ref(n.voice_carrier_id.map(|x| x.as_uuid())),
            Column::SmsCarrier => names.show_ref(n.sms_carrier_id.map(|x| x.as_uuid())),
            Column::Capacity => word(c.capacity.as_str()),
            Column::VoiceDirection => word(c.voice_direction.as_str()),
            Column::Messaging => word(c.messaging.as_str()),
            Column::OutboundDialer => flag(c.outbound_dialer),
            Column::OutboundCliShared => flag(c.outbound_cli_shared),
            Column::CallPurpose => text(&n.call_purpose),
            Column::DisplayName => text(&n.display_name),
            Column::ProgramDuration => text(&n.program_duration),
            _ => word(""),
        })
        .collect();
    cells.extend(
        attribute_keys
            .iter()
            .map(|k| word(n.attributes.get(k).map_or("", String::as_str))),
    );
    cells
}

/// A customer's number as the consolidated export shows it.
fn consolidated_row<'a>(
    n: &'a NumberListing,
    names: &'a Names,
    accounts: &'a HashMap<AccountId, (String, String)>,
) -> Cells<'a> {
    let (name, number) = n
        .customer_id
        .and_then(|c| accounts.get(&c))
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .unwrap_or_default();
    vec![
        Cow::Borrowed(name),
        Cow::Borrowed(number),
        Cow::Borrowed(n.phone_number.as_str()),
        names.show_ref(n.sip_trunk_id.map(|t| t.as_uuid())),
        text(&n.billing_reference),
    ]
}

/// A number as the numbers list shows it.
fn list_row<'a>(
    n: &'a NumberListing,
    names: &'a Names,
    viewer: AccountId,
    accounts: &'a HashMap<AccountId, (String, String)>,
) -> Cells<'a> {
    let word = Cow::Borrowed;
    vec![
        word(n.phone_number.as_str()),
        Cow::Owned(n.phone_number.country().as_str()),
        word(n.number_type.as_str()),
        word(n.status.api_str()),
        word(n.product.as_str()),
        word(ViewPosition::of_listing(n, viewer).as_str()),
        word(
            n.customer_id
                .and_then(|c| accounts.get(&c))
                .map_or("", |a| a.0.as_str()),
        ),
        match n.assignees.as_slice() {
            [] => word(""),
            list => Cow::Owned(
                list.iter()
                    .map(|a| a.display_name.as_deref().unwrap_or(&a.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        },
        names.show_ref(n.sip_trunk_id.map(|t| t.as_uuid())),
        text(&n.billing_reference),
        word(n.source.as_str()),
        Cow::Owned(crate::api::audit::rfc3339(n.created_at)),
    ]
}
