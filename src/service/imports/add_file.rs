//! An add file planned and applied a slice of rows at a time, so that a file of a million rows
//! (the row limit raised by the operator) costs about what its inserts cost and is never held
//! as a million rows in memory (issue 13's benchmarks, docs/PERFORMANCE.md).
//!
//! - **Plan** (the upload, a dry run): every row is parsed (libphonenumber, on every core),
//!   checked against the earlier rows of the file and against the inventory (one query per
//!   slice), and either accepted as a create or rejected with its reason. The accepted rows'
//!   numbers are kept with the plan as *parsed* records (row, E.164, region, fine type).
//! - **Apply** (inside the write transaction): only the accepted rows are read again, their
//!   numbers from the parsed records instead of libphonenumber, and planned again against the
//!   inventory and the provider's settings as they are now. Every accepted row feeds the digest
//!   the plan made; any row refused now, a number added elsewhere since (the unique index
//!   objects to the insert), or a different digest at the end refuses the whole apply as stale.
//!   Each slice goes in with one audit event for its numbers.

use std::collections::HashSet;
use std::sync::Arc;

use numberpool_domain::import::{
    self, Header, ImportAction, ImportRow, Reason, ReasonCode, RowDefaults,
};
use numberpool_domain::lifecycle::Relation;
use numberpool_domain::moves::{self, AddTarget, Allocation};
use numberpool_domain::{
    Account, AccountId, Action, AuditId, CarrierKind, E164, EntitlementUse, Entitlements,
    ExchangeStatus, FineType, ImportId, Number, NumberType, Product, Rule,
};
use numberpool_store::{
    Backend, ImportCounts, ImportPart, ImportRecord, Lock, PreparedNumbers, Reader, StoreError, Tx,
};
use sha2::{Digest, Sha256};

use super::file::{self, Rows};
use super::{AddOptions, Names, PlanRow, cell_shown, reason_of, resolve_names};
use crate::service::accounts::Reach;
use crate::service::numbers::AddNumber;
use crate::service::numbers::{FactsAsk, PlanFacts, add_event_body, plan_with};
use crate::service::progress::Progress;
use crate::service::{Actor, Result, Service, ServiceError, snapshot};

/// Rows read, parsed and planned at a time; also the rows of one insert and one audit event.
const SLICE: usize = 10_000;

/// What a plan pass over an add file made of it.
pub(super) struct AddFilePlan {
    pub counts: ImportCounts,
    /// The rejected rows, in file order.
    pub rejected: Vec<PlanRow>,
    pub digest: String,
    /// The accepted rows' numbers as parsed (see the module's comment).
    pub parsed: Vec<u8>,
}

/// About how large the pieces an add CSV is kept in are: each is cut at the first record
/// boundary after this many bytes ([`file::record_cuts`]).
pub(super) const FILE_PIECE: usize = 1 << 20;

/// `options.file_pieces` of an import whose file is kept in pieces cut at record boundaries.
pub(super) const RECORD_PIECES: &str = "records";

/// A file's rows for a pass. The plan reads the upload in memory; the apply reads the kept
/// file, a piece at a time when its pieces were cut at record boundaries (an add CSV: what is
/// held is one piece, where a million-row file read back whole was 20 MB), else whole.
pub(super) struct FileRows<'a> {
    rows: Rows<'a>,
    /// The file's header row (a later piece's rows have none of their own).
    header: Vec<String>,
    /// The pieces still to read, and the import they belong to.
    rest: Option<(ImportId, std::vec::IntoIter<(i32, i64)>)>,
}

impl<'a> FileRows<'a> {
    /// Rows of a file in memory.
    pub fn of(rows: Rows<'a>) -> Self {
        FileRows {
            header: rows.header.clone(),
            rows,
            rest: None,
        }
    }
}

impl FileRows<'static> {
    /// The kept file of import `rec`, its header read.
    pub async fn open(r: &mut Reader, rec: &ImportRecord) -> Result<Self> {
        let pieced = rec.action == ImportAction::Add
            && rec.options.get("file_pieces").and_then(|v| v.as_str()) == Some(RECORD_PIECES);
        if pieced {
            let mut pieces = r.import_pieces(rec.id, ImportPart::File).await?.into_iter();
            let (seq, _) = pieces
                .next()
                .ok_or_else(|| kept_piece("it has no pieces"))?;
            let first = r.import_piece(rec.id, ImportPart::File, seq).await?;
            // The plan read the whole file: a piece that does not read now is damage.
            let rows = file::open_first_piece(first).map_err(|e| kept_piece(&e.message))?;
            return Ok(FileRows {
                header: rows.header.clone(),
                rows,
                rest: Some((rec.id, pieces)),
            });
        }
        let bytes = r
            .import_file(rec.id)
            .await?
            .ok_or(ServiceError::NotFound("import"))?;
        Ok(FileRows::of(
            file::open_owned(bytes, rec.action).map_err(ServiceError::FileRefused)?,
        ))
    }
}

impl FileRows<'_> {
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Up to `n` of the next rows that are not blank, with their row numbers (empty at the
    /// end), reading the next pieces on `r` as the rows reach them.
    pub async fn next_slice(
        &mut self,
        r: &mut Reader,
        n: usize,
    ) -> Result<Vec<(usize, Vec<String>)>> {
        let mut out = self.rows.next_slice(n).map_err(ServiceError::FileRefused)?;
        while out.len() < n {
            let Some((import, pieces)) = &mut self.rest else {
                break;
            };
            let Some((seq, _)) = pieces.next() else {
                break;
            };
            let piece = r.import_piece(*import, ImportPart::File, seq).await?;
            self.rows =
                file::open_next_piece(piece, self.rows.delimiter, self.rows.next_row_number())
                    .map_err(|e| kept_piece(&e.message))?;
            let more = self
                .rows
                .next_slice(n - out.len())
                .map_err(|e| kept_piece(&e.message))?;
            out.extend(more);
        }
        Ok(out)
    }

    /// Every row of a file kept whole (an update or delete file).
    pub fn all_rows(&mut self) -> Result<Vec<(usize, Vec<String>)>> {
        if self.rest.is_some() {
            return Err(ServiceError::Internal(StoreError::Corrupt(
                "an import kept in pieces was read as a whole file".into(),
            )));
        }
        self.rows
            .next_slice(usize::MAX)
            .map_err(ServiceError::FileRefused)
    }
}

/// A kept file's piece that does not read as it did when the plan read the whole file.
fn kept_piece(why: &str) -> ServiceError {
    ServiceError::Internal(StoreError::Corrupt(format!(
        "an import's kept file cannot be read back: {why}"
    )))
}

/// The connection a pass runs on: a read snapshot for the plan, the write transaction for the
/// apply.
pub(super) enum Pass<'a> {
    /// The plan, and how many rows the file has (what its vectors are sized for).
    Plan(&'a mut Reader, usize),
    Apply {
        tx: &'a mut Tx,
        /// The import whose plan's parsed records are read back.
        import: ImportId,
    },
}

impl Pass<'_> {
    fn reader(&mut self) -> &mut Reader {
        match self {
            Pass::Plan(r, _) => r,
            Pass::Apply { tx, .. } => tx,
        }
    }
}

/// The size of an accepted row's record in the plan's parsed numbers: its row number (u32),
/// the digits of its E.164 (u64: an E.164 has at most 15 digits and never starts with 0), its
/// region (three bytes: `US`, or `001` for a non-geographic number) and its fine type's index.
const RECORD: usize = 16;

/// An accepted row's number as a record of the plan's parsed numbers.
fn parsed_record(out: &mut Vec<u8>, row: usize, e: &E164) -> Result<()> {
    let ft = FineType::ALL
        .iter()
        .position(|t| *t == e.fine_type())
        .unwrap_or(0);
    let row = u32::try_from(row).map_err(|_| bad_parsed())?;
    let mut region = *b"   ";
    for (slot, b) in region.iter_mut().zip(e.country().to_string().bytes()) {
        *slot = b;
    }
    out.extend_from_slice(&row.to_le_bytes());
    out.extend_from_slice(&key_of(e).to_le_bytes());
    out.extend_from_slice(&region);
    out.push(u8::try_from(ft).unwrap_or(0));
    Ok(())
}

/// The plan's parsed numbers read back in row order, a piece at a time (`import_chunks`): what
/// is held is the records of the slices in flight and one piece, not a record for every row of
/// the file.
struct ParsedRecords {
    import: ImportId,
    pieces: std::vec::IntoIter<(i32, i64)>,
    held: HeldRecords,
}

impl ParsedRecords {
    async fn open(r: &mut Reader, import: ImportId) -> Result<Self> {
        let pieces = r.import_pieces(import, ImportPart::Parsed).await?;
        let size: i64 = pieces.iter().map(|(_, n)| n).sum();
        if pieces.is_empty() || size % RECORD as i64 != 0 {
            return Err(bad_parsed());
        }
        Ok(ParsedRecords {
            import,
            pieces: pieces.into_iter(),
            held: HeldRecords::default(),
        })
    }

    /// Reads pieces until `records` records are held, or the pieces end.
    async fn fill(&mut self, r: &mut Reader, records: usize) -> Result<()> {
        while self.held.records() < records {
            let Some((seq, _)) = self.pieces.next() else {
                return self.held.whole();
            };
            let piece = r.import_piece(self.import, ImportPart::Parsed, seq).await?;
            self.held.push(&piece);
        }
        Ok(())
    }
}

/// The records read so far and not yet taken. Pieces need not end on a record's boundary: a
/// record split between two is whole once the second is pushed.
#[derive(Default)]
struct HeldRecords {
    bytes: Vec<u8>,
    /// Where the next record starts in `bytes`.
    at: usize,
}

impl HeldRecords {
    fn records(&self) -> usize {
        (self.bytes.len() - self.at) / RECORD
    }

    /// Ok when no part of a record is left over (at the end of the pieces).
    fn whole(&self) -> Result<()> {
        if (self.bytes.len() - self.at).is_multiple_of(RECORD) {
            Ok(())
        } else {
            Err(bad_parsed())
        }
    }

    fn push(&mut self, piece: &[u8]) {
        self.bytes.drain(..self.at);
        self.at = 0;
        self.bytes.extend_from_slice(piece);
    }

    fn current(&self) -> Option<&[u8]> {
        self.bytes.get(self.at..self.at + RECORD)
    }

    /// The row number of the next record held.
    fn next_row(&self) -> Option<usize> {
        let r = self.current()?;
        let row = u32::from_le_bytes(r[..4].try_into().ok()?);
        usize::try_from(row).ok()
    }

    /// Moves the next record to the end of `out` (decoded later, by [`decode`], on the thread
    /// that stages the slice).
    fn take(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let r = self.current().ok_or_else(bad_parsed)?;
        out.extend_from_slice(r);
        self.at += RECORD;
        Ok(())
    }
}

/// A record's number, as the plan parsed it.
fn decode(r: &[u8]) -> Result<E164> {
    let digits = u64::from_le_bytes(
        r.get(4..12)
            .and_then(|d| d.try_into().ok())
            .ok_or_else(bad_parsed)?,
    );
    let region = r
        .get(12..15)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(bad_parsed)?;
    let ft = r
        .get(15)
        .and_then(|i| FineType::ALL.get(usize::from(*i)))
        .ok_or_else(bad_parsed)?;
    E164::from_stored(&format!("+{digits}"), region.trim(), ft.as_str()).map_err(|_| bad_parsed())
}

fn bad_parsed() -> ServiceError {
    ServiceError::Internal(StoreError::Corrupt(
        "an import's parsed numbers cannot be read back".into(),
    ))
}

/// The digits of an E.164 as one integer (at most 15 digits), for the file's duplicate check
/// without a string per row.
fn key_of(e: &E164) -> u64 {
    e.as_str()
        .bytes()
        .skip(1)
        .fold(0u64, |k, b| k * 10 + u64::from(b - b'0'))
}

/// A create into the plan's digest: everything the file and the provider's settings decide
/// about the number (not its new id or time), as a compact record: hashing a JSON rendering of
/// it was a fifth of a million-row plan.
fn digest_create(h: &mut Sha256, row: usize, n: &Number) {
    fn text(h: &mut Sha256, v: &str) {
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    // An id as its text (the same bytes `to_string` gives), written on the stack instead of
    // into a String per id per row.
    fn id(h: &mut Sha256, v: Option<uuid::Uuid>) {
        match v {
            Some(u) => text(
                h,
                u.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
            None => text(h, ""),
        }
    }
    let c = &n.capabilities;
    let k = &n.customization;
    h.update((row as u64).to_le_bytes());
    text(h, n.phone_number.as_str());
    for v in [
        n.product.as_str(),
        n.status.as_str(),
        n.number_type.as_str(),
        n.position.as_str(),
        k.capacity.as_str(),
        k.voice_direction.as_str(),
        k.messaging.as_str(),
        &n.source,
    ] {
        text(h, v);
    }
    h.update([
        u8::from(c.voice),
        u8::from(c.sms),
        u8::from(c.mms),
        u8::from(c.fax),
        u8::from(k.outbound_dialer),
        u8::from(k.outbound_cli_shared),
    ]);
    id(h, Some(n.holder_id.as_uuid()));
    id(h, n.customer_id.map(|x| x.as_uuid()));
    id(h, n.sip_trunk_id.map(|x| x.as_uuid()));
    id(h, n.voice_carrier_id.map(|x| x.as_uuid()));
    id(h, n.sms_carrier_id.map(|x| x.as_uuid()));
    for v in [
        &n.region_state,
        &n.city,
        &n.billing_reference,
        &n.service_info,
        &n.call_purpose,
        &n.display_name,
        &n.program_duration,
    ] {
        text(h, v.as_deref().unwrap_or(""));
    }
    h.update((n.attributes.len() as u64).to_le_bytes());
    for (key, value) in &n.attributes {
        text(h, key);
        text(h, value);
    }
}

/// Merges `more` into the sorted `seen` in place, from the back (no second buffer: a sort's
/// scratch space would be as large as `seen`).
fn merge_into(seen: &mut Vec<u64>, mut more: Vec<u64>) {
    more.sort_unstable();
    let mut i = seen.len();
    let mut j = more.len();
    seen.resize(i + j, 0);
    let mut k = seen.len();
    while j > 0 {
        k -= 1;
        if i > 0 && seen[i - 1] > more[j - 1] {
            seen[k] = seen[i - 1];
            i -= 1;
        } else {
            seen[k] = more[j - 1];
            j -= 1;
        }
    }
}

type Parsed = (usize, String, std::result::Result<ImportRow, Reason>);

/// One slice of rows parsed with libphonenumber, half on a thread of its own so both cores work.
fn parse_slice(
    header: &Header,
    defaults: RowDefaults,
    mut rows: Vec<(usize, Vec<String>)>,
) -> Vec<Parsed> {
    fn parse(
        header: &Header,
        defaults: &RowDefaults,
        rows: Vec<(usize, Vec<String>)>,
    ) -> Vec<Parsed> {
        rows.into_iter()
            .map(
                |(no, cells)| match import::parse_row(header, &cells, defaults) {
                    Ok(row) => (no, row.phone_number().as_str().to_string(), Ok(row)),
                    Err(reason) => (no, cell_shown(header, &cells), Err(reason)),
                },
            )
            .collect()
    }
    let second = rows.split_off(rows.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| parse(header, &defaults, second));
        let mut out = parse(header, &defaults, rows);
        match other.join() {
            Ok(more) => out.extend(more),
            // A panic there is a bug: it goes on here, where the pass's thread reports it.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}

/// A slice as read from the file, and how many rows it had. The apply keeps only the plan's
/// accepted rows, each with its record of the plan's parsed numbers (`RECORD` bytes a row).
struct SliceIn {
    read: u64,
    rows: Vec<(usize, Vec<String>)>,
    records: Vec<u8>,
}

/// The next slice of the file (`None` at its end), read on the pass's connection.
async fn read_slice(
    pass: &mut Pass<'_>,
    rows: &mut FileRows<'_>,
    known: &mut Option<ParsedRecords>,
) -> Result<Option<SliceIn>> {
    let slice = rows.next_slice(pass.reader(), SLICE).await?;
    if slice.is_empty() {
        return Ok(None);
    }
    let read = slice.len() as u64;
    let Some(known) = known else {
        return Ok(Some(SliceIn {
            read,
            rows: slice,
            records: Vec::new(),
        }));
    };
    // A slice accepts at most its rows.
    known.fill(pass.reader(), slice.len()).await?;
    let mut kept = Vec::with_capacity(slice.len());
    let mut records = Vec::with_capacity(slice.len() * RECORD);
    for (no, cells) in slice {
        if known.held.next_row() == Some(no) {
            known.held.take(&mut records)?;
            kept.push((no, cells));
        }
    }
    Ok(Some(SliceIn {
        read,
        rows: kept,
        records,
    }))
}

/// What a pass carries from one slice to the next: moved to the blocking thread that does a
/// slice's CPU work, and back. Reading a slice and planning the one before it touch disjoint
/// halves, so the two run on two threads.
struct Carry {
    reading: Reading,
    planning: Planning,
}

/// What parsing a slice carries: the file's layout, the provider's names, the numbers so far.
struct Reading {
    header: Arc<Header>,
    defaults: RowDefaults,
    names: Names,
    /// The apply: a row refused now makes the plan stale.
    apply: bool,
    /// The numbers of the file's earlier slices, sorted: 8 bytes a row, where a hash set took
    /// four times that.
    seen: Vec<u64>,
}

/// What planning a slice carries: the target, and what the pass has made of the rows so far.
struct Planning {
    me: Account,
    backend: Backend,
    /// The apply (as above).
    apply: bool,
    to: AddTarget,
    target: Option<Target>,
    hasher: Sha256,
    rejected: Vec<PlanRow>,
    parsed: Vec<u8>,
    counts: ImportCounts,
}

/// A slice parsed and named ([`Reading::stage`]): the rows to plan, the rows refused so far, and
/// what planning them will read.
struct Staged {
    read: u64,
    accepted: Vec<(usize, String)>,
    adds: Vec<AddNumber>,
    rejected: Vec<PlanRow>,
    ask: Option<FactsAsk>,
}

/// A slice planned ([`Planning::finish`]): in the apply, its insert made ready (the numbers in
/// E.164 order) with the event they point at, and, when the file allocates them, each row's
/// pool number before its allocation with where its number is in the batch.
struct Ready {
    read: u64,
    write: Option<SliceWrite>,
}

struct SliceWrite {
    add_event: AuditId,
    batch: PreparedNumbers,
    body: serde_json::Value,
    allocated: Vec<(Number, usize)>,
}

impl Reading {
    /// A slice's rows parsed (the plan) or taken as the plan parsed them (the apply), checked
    /// against the file's earlier rows, with the trunks and carriers they name resolved.
    /// `None`: a row the plan accepted is refused now, so the plan is stale.
    fn stage(&mut self, slice: SliceIn) -> Result<Option<Staged>> {
        let rows: Vec<Parsed> = if self.apply {
            let mut out = Vec::with_capacity(slice.rows.len());
            let records = slice.records.chunks_exact(RECORD);
            if records.len() != slice.rows.len() {
                return Err(bad_parsed());
            }
            for ((no, cells), record) in slice.rows.into_iter().zip(records) {
                let e = decode(record)?;
                let phone = e.as_str().to_string();
                out.push((no, phone, import::parse_row_as(&self.header, &cells, e)));
            }
            out
        } else {
            let mut out = parse_slice(&self.header, self.defaults, slice.rows);
            let mut here: HashSet<u64> = HashSet::with_capacity(out.len());
            for (_, _, row) in &mut out {
                if let Ok(r) = row {
                    let key = key_of(r.phone_number());
                    if self.seen.binary_search(&key).is_ok() || !here.insert(key) {
                        *row = Err(Reason::new(
                            ReasonCode::DuplicateInFile,
                            "the number is on an earlier row of this file",
                        ));
                    }
                }
            }
            merge_into(&mut self.seen, here.into_iter().collect());
            out
        };
        let mut adds = Vec::with_capacity(rows.len());
        let mut accepted = Vec::with_capacity(rows.len());
        let mut rejected = Vec::new();
        for (no, phone, row) in rows {
            let resolved = row.and_then(|row| match row {
                ImportRow::Add(a) => resolve_names(a, &self.names),
                _ => Err(Reason::new(ReasonCode::InvalidValue, "not an add row")),
            });
            match resolved {
                Ok(add) => {
                    accepted.push((no, phone));
                    adds.push(add);
                }
                Err(_) if self.apply => return Ok(None),
                Err(reason) => rejected.push(PlanRow::rejected(no, phone, &reason)),
            }
        }
        // The apply leaves a number added since to the unique index (`Tx::insert_prepared`).
        let ask = FactsAsk::of(&adds, !self.apply);
        Ok(Some(Staged {
            read: slice.read,
            accepted,
            adds,
            rejected,
            ask: Some(ask),
        }))
    }
}

impl Planning {
    /// A staged slice planned against what was read for it: every accepted row into the
    /// digest (and, in the plan, the parsed records). `None`: the plan is stale (as above).
    fn finish(&mut self, s: Staged, facts: PlanFacts) -> Result<Option<Ready>> {
        // Each slice is its own audit event, which its numbers point at.
        self.to.add_event = AuditId::new();
        let add_event = self.to.add_event;
        let plan = plan_with(&mut self.to, s.adds, facts);
        let mut rejected = s.rejected;
        let mut numbers = plan.numbers.into_iter();
        let mut out = Vec::with_capacity(numbers.len());
        let mut pool_numbers = Vec::new();
        for ((no, phone), refusal) in s.accepted.into_iter().zip(&plan.refused) {
            let decided = match refusal {
                Some(refusal) => Err(reason_of(&refusal.error)),
                None => {
                    let Some(n) = numbers.next() else { break };
                    match &mut self.target {
                        Some(t) => t.allocate(&n, &self.me).map(|next| (Some(n), next)),
                        None => Ok((None, n)),
                    }
                }
            };
            let (before, n) = match decided {
                Ok(d) => d,
                Err(_) if self.apply => return Ok(None),
                Err(reason) => {
                    rejected.push(PlanRow::rejected(no, phone, &reason));
                    continue;
                }
            };
            self.counts.creates += 1;
            digest_create(&mut self.hasher, no, &n);
            // The plan keeps each accepted number as parsed (an allocation keeps it too).
            if !self.apply {
                parsed_record(&mut self.parsed, no, &n.phone_number)?;
            }
            pool_numbers.extend(before);
            out.push(n);
        }
        // A slice's rows are refused at two stages (reading, then planning): file order.
        rejected.sort_by_key(|r| r.row);
        self.rejected.append(&mut rejected);
        self.counts.total += s.read as i64;
        let write = if self.apply && !out.is_empty() {
            Some(self.slice_write(add_event, out, pool_numbers)?)
        } else {
            None
        };
        Ok(Some(Ready {
            read: s.read,
            write,
        }))
    }

    /// A slice's numbers (in row order) made ready to write: the event's body lists them in row
    /// order; they go in in E.164 order (see `Service::commit_add`).
    fn slice_write(
        &self,
        add_event: AuditId,
        numbers: Vec<Number>,
        pool_numbers: Vec<Number>,
    ) -> Result<SliceWrite> {
        let body = add_event_body(self.me.id, &numbers);
        let mut by_e164: Vec<(usize, Number)> = numbers.into_iter().enumerate().collect();
        by_e164.sort_unstable_by(|(_, a), (_, b)| {
            a.phone_number.as_str().cmp(b.phone_number.as_str())
        });
        // Where each row's number is in the batch.
        let mut at = vec![0; by_e164.len()];
        for (pos, (row, _)) in by_e164.iter().enumerate() {
            at[*row] = pos;
        }
        let sorted: Vec<Number> = by_e164.into_iter().map(|(_, n)| n).collect();
        Ok(SliceWrite {
            add_event,
            batch: PreparedNumbers::of(self.backend, sorted)?,
            body,
            allocated: pool_numbers.into_iter().zip(at).collect(),
        })
    }
}

/// The account an add file's numbers are allocated to (seed 003), as read for this pass.
struct Target {
    account: Account,
    relation: Relation,
    /// A customer's licences (R-ACC-3) and how many are in use before this file.
    room: Option<(Entitlements, EntitlementUse)>,
    /// The licences this file's rows so far take.
    more: EntitlementUse,
}

impl Target {
    /// `n` allocated to the target, or why it cannot be (R-MOVE-1, R-ALLOC-1, R-ACC-3).
    fn allocate(&mut self, n: &Number, me: &Account) -> std::result::Result<Number, Reason> {
        let next = moves::allocate(n, me, &self.account, self.relation, Allocation::default())
            .map_err(|e| reason_of(&ServiceError::from(e)))?;
        if next.customer_id.is_some()
            && let Some((ent, used)) = &self.room
        {
            let mut more = self.more;
            more.toll_free += i64::from(next.number_type == NumberType::TollFree);
            more.contact_center += i64::from(next.product == Product::ContactCenter);
            ent.check_room(*used, more)
                .map_err(|v| reason_of(&ServiceError::Rule(v)))?;
            self.more = more;
        }
        Ok(next)
    }
}

impl Service {
    /// The form's carriers in place of the provider's defaults, and its target read (under a
    /// share lock in the apply, so that the target's deactivation waits, R-OFF-1).
    async fn form_of(
        &self,
        pass: &mut Pass<'_>,
        actor: &Actor,
        me: &Account,
        names: &Names,
        form: &AddOptions,
        to: &mut AddTarget,
    ) -> Result<Option<Target>> {
        if let Some(name) = form.voice_carrier.as_deref() {
            let id = names
                .carrier(CarrierKind::Voice, name)
                .map_err(|r| ServiceError::Invalid(format!("voice_carrier: {}", r.message)))?;
            to.default_voice = Some((id, names.show(Some(id.as_uuid()))));
        }
        if let Some(name) = form.sms_carrier.as_deref() {
            let id = names
                .carrier(CarrierKind::Sms, name)
                .map_err(|r| ServiceError::Invalid(format!("sms_carrier: {}", r.message)))?;
            to.default_sms = Some(id);
        }
        let Some(target) = form.target else {
            return Ok(None);
        };
        if to.dest != numberpool_domain::Dest::Pool {
            return Err(ServiceError::Invalid(
                "target: a customer's own numbers stay with it; only a provider or reseller \
                 allocates an add file's numbers"
                    .into(),
            ));
        }
        let account = self
            .account_within(pass.reader(), actor, target, Reach::Scope)
            .await?;
        // A customer with licences (R-ACC-3) is locked for update, as an allocation locks it,
        // so that two applies to it count its licences one after the other; any other target
        // is share-locked.
        let account = match pass {
            Pass::Plan(..) => account,
            Pass::Apply { tx, .. } => {
                let lock = if account.entitlements == Entitlements::default() {
                    Lock::Share
                } else {
                    Lock::Update
                };
                tx.get_account_locked(account.id, lock)
                    .await?
                    .ok_or(ServiceError::NotFound("account"))?
            }
        };
        let relation = match pass {
            Pass::Apply { tx, .. } => tx.relation(me, &account).await?,
            Pass::Plan(r, _) => {
                if account.parent_id == Some(me.id) {
                    Relation::DirectChild
                } else if account.parent_id.is_none()
                    && r.get_connection(me.id, account.id)
                        .await?
                        .is_some_and(|c| c.status == ExchangeStatus::Connected)
                {
                    Relation::Connected
                } else {
                    Relation::Other
                }
            }
        };
        if relation == Relation::Other {
            return Err(ServiceError::Invalid(format!(
                "target: {} is not a direct sub account or a connected customer of yours: \
                 numbers are allocated one level down (R-MOVE-1)",
                account.name
            )));
        }
        let room = if account.entitlements == Entitlements::default() {
            None
        } else {
            let used = pass.reader().entitlement_use(account.id).await?;
            Some((account.entitlements, used))
        };
        Ok(Some(Target {
            account,
            relation,
            room,
            more: EntitlementUse::default(),
        }))
    }

    /// One pass over an add file (see the module's comment): the plan (`Pass::Plan`) or the
    /// apply (`Pass::Apply`). An apply answers `Ok(None)` when the plan no longer holds.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn add_file_pass(
        &self,
        mut pass: Pass<'_>,
        actor: &Actor,
        form: &AddOptions,
        me: &Account,
        above: &[AccountId],
        rows: &mut FileRows<'_>,
        header: Header,
        defaults: RowDefaults,
        progress: &Progress,
    ) -> Result<Option<AddFilePlan>> {
        let mut to: AddTarget = self.add_target(pass.reader(), me, above).await?;
        // The provider's trunks and carriers by name: a file names them as people do. A
        // customer's own numbers name none.
        let names = if to.dest == numberpool_domain::Dest::Pool {
            Names::of(pass.reader(), to.owner).await?
        } else {
            Names::default()
        };
        let target = match self
            .form_of(&mut pass, actor, me, &names, form, &mut to)
            .await
        {
            Ok(t) => t,
            // The form held when the plan was made: what changed since makes the plan stale (a
            // store fault is not that: it fails the attempt, which is tried again).
            Err(ServiceError::Invalid(_) | ServiceError::NotFound(_) | ServiceError::Rule(_))
                if matches!(pass, Pass::Apply { .. }) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let import = match &pass {
            Pass::Apply { import, .. } => Some(*import),
            Pass::Plan(..) => None,
        };
        let mut known = match import {
            Some(import) => Some(ParsedRecords::open(pass.reader(), import).await?),
            None => None,
        };
        // Both vectors are sized once for the whole file: one grown by doubling holds up to
        // three times its rows while it moves.
        let file_rows = match &pass {
            Pass::Plan(_, n) => *n,
            Pass::Apply { .. } => 0,
        };
        let (dest, owner) = (to.dest, to.owner);
        let apply = known.is_some();
        let mut carry = Carry {
            reading: Reading {
                header: Arc::new(header),
                defaults,
                names,
                apply,
                seen: Vec::with_capacity(file_rows),
            },
            planning: Planning {
                me: me.clone(),
                backend: self.store.backend(),
                apply,
                to,
                target,
                hasher: Sha256::new(),
                rejected: Vec::new(),
                parsed: Vec::with_capacity(file_rows * RECORD),
                counts: ImportCounts::default(),
            },
        };
        // Three slices in flight. Each turn, the connection reads slice k + 1 (file pieces,
        // records), then reads what planning slice k needs and, in the apply, writes slice
        // k - 1; meanwhile one blocking thread parses slice k + 1 and another plans slice k as
        // soon as its reads arrive. The reads come first because they and the writes share the
        // connection. So the apply's CPU work hides behind its inserts, and the plan's parse,
        // its planning and its existence query share the two cores.
        let mut staged: Option<Staged> = None;
        let mut ready: Option<SliceWrite> = None;
        let mut more = true;
        loop {
            let input = if more {
                read_slice(&mut pass, rows, &mut known).await?
            } else {
                None
            };
            more = input.is_some();
            if input.is_none() && staged.is_none() && ready.is_none() {
                break;
            }
            let mut planning = staged.take();
            let ask = planning.as_mut().and_then(|s| s.ask.take());
            let (facts_in, facts_out) = std::sync::mpsc::channel::<PlanFacts>();
            let mut c = carry;
            let cpu = tokio::task::spawn_blocking(move || {
                let Carry {
                    reading,
                    planning: p,
                } = &mut c;
                let (next, done) = std::thread::scope(|scope| {
                    let done = planning.map(|s| {
                        scope.spawn(move || match facts_out.recv() {
                            Ok(facts) => p.finish(s, facts).map(Some),
                            // The reads failed: the connection's side answers with their error,
                            // which is looked at first. This one is seen only if that side
                            // ended without sending, which would be a bug.
                            Err(_) => Err(ServiceError::Internal(StoreError::Corrupt(
                                "a slice's plan got no reads".into(),
                            ))),
                        })
                    });
                    let next = input.map(|i| reading.stage(i)).transpose();
                    let done = match done.map(|h| h.join()) {
                        Some(Ok(done)) => done,
                        // A panic there is a bug: it goes on here, where the join reports it.
                        Some(Err(panic)) => std::panic::resume_unwind(panic),
                        None => Ok(None),
                    };
                    (next, done)
                });
                (c, next, done)
            });
            let writing = ready.take();
            let io = async {
                // Moved in, so that a failed read drops it and the blocking thread stops
                // waiting for the facts.
                let facts_in = facts_in;
                if let Some(ask) = ask {
                    let facts = self.plan_facts(pass.reader(), dest, owner, ask).await?;
                    // The other side has gone only if it panicked, which its join reports.
                    let _ = facts_in.send(facts);
                }
                drop(facts_in);
                match (writing, &mut pass) {
                    (Some(w), Pass::Apply { tx, .. }) => {
                        self.write_slice(tx, actor, w, progress).await
                    }
                    _ => Ok(true),
                }
            };
            let (written, cpu) = tokio::join!(io, cpu);
            let (c, next, done) = cpu.map_err(|e| {
                ServiceError::Internal(StoreError::Corrupt(format!("planning a slice: {e}")))
            })?;
            carry = c;
            if !written? {
                return Ok(None);
            }
            // In file order: slice k - 1's write (above), slice k's plan, slice k + 1's parse.
            match done? {
                Some(Some(r)) => {
                    progress.planned(r.read);
                    ready = r.write;
                }
                Some(None) => return Ok(None),
                None => {}
            }
            staged = match next? {
                Some(Some(s)) => Some(s),
                Some(None) => return Ok(None),
                None => None,
            };
        }
        let Planning {
            mut counts,
            rejected,
            hasher,
            parsed,
            ..
        } = carry.planning;
        counts.rejected = rejected.len() as i64;
        Ok(Some(AddFilePlan {
            counts,
            rejected,
            digest: crate::service::credentials::hex(&hasher.finalize()),
            parsed,
        }))
    }

    /// A planned slice written in the apply: its numbers, their add event, and each
    /// allocation's own event. `false`: a number was added elsewhere since the plan.
    async fn write_slice(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        w: SliceWrite,
        progress: &Progress,
    ) -> Result<bool> {
        match self
            .commit_prepared(tx, actor, w.add_event, &w.batch, w.body, progress)
            .await
        {
            Ok(()) => {}
            Err(ServiceError::NumberAlreadyExists(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        // Allocated as they went in: each number's allocation is an event of its own, as
        // `allocate` records it, after the slice's add, in row order.
        for (before, at) in &w.allocated {
            let after = w.batch.numbers().get(*at).ok_or_else(|| {
                ServiceError::Internal(StoreError::Corrupt(
                    "a slice's allocation lost its number".into(),
                ))
            })?;
            tx.record(&actor.event(
                Action::NumberAllocate,
                after.id.to_string(),
                Some(Rule::Move1),
                snapshot(before),
                snapshot(after),
            ))
            .await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::{HeldRecords, RECORD, decode, merge_into, parsed_record};
    use numberpool_domain::E164;

    #[test]
    fn records_split_between_pieces_come_back_whole() {
        let numbers: Vec<E164> = [
            "+14155550100",
            "+442079460000",
            "+8613800138000",
            "+18005550199",
        ]
        .iter()
        .map(|n| E164::parse(n).expect("a valid number"))
        .collect();
        let mut bytes = Vec::new();
        for (i, n) in numbers.iter().enumerate() {
            parsed_record(&mut bytes, 2 + i * 3, n).expect("a record");
        }
        assert_eq!(bytes.len(), numbers.len() * RECORD);
        // Pieces of 7, 20, 0 and the rest bytes: records straddle each boundary.
        let mut pieces = vec![&bytes[..7], &bytes[7..27], &bytes[27..27]];
        pieces.push(&bytes[27..]);
        let mut held = HeldRecords::default();
        let mut pieces = pieces.into_iter();
        for (i, n) in numbers.iter().enumerate() {
            while held.records() < 1 {
                held.push(pieces.next().expect("pieces enough for every record"));
            }
            assert_eq!(held.next_row(), Some(2 + i * 3));
            let mut one = Vec::new();
            held.take(&mut one).expect("the record");
            assert_eq!(decode(&one).expect("a number").as_str(), n.as_str());
        }
        assert_eq!(held.records(), 0);
        assert!(held.whole().is_ok());
        assert_eq!(held.next_row(), None);
        assert!(
            held.take(&mut Vec::new()).is_err(),
            "no record is left to take"
        );
        // A piece that ends mid-record at the end of the pieces is refused.
        let mut short = HeldRecords::default();
        short.push(&bytes[..RECORD + 3]);
        assert_eq!(short.records(), 1);
        short.take(&mut Vec::new()).expect("the whole record");
        assert!(short.whole().is_err());
    }

    #[test]
    fn merging_keeps_the_numbers_sorted() {
        let mut seen = vec![2, 5, 9];
        merge_into(&mut seen, vec![7, 1, 10, 3]);
        assert_eq!(seen, vec![1, 2, 3, 5, 7, 9, 10]);
        let mut empty = vec![];
        merge_into(&mut empty, vec![4, 2]);
        assert_eq!(empty, vec![2, 4]);
        merge_into(&mut empty, vec![]);
        assert_eq!(empty, vec![2, 4]);
    }
}
