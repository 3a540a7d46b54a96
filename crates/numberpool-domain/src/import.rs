//! Import rows (SPEC §4): which column a header names, what a row of cells becomes for each
//! action, the repair of what spreadsheets do to phone numbers, and the stable reason code a
//! refused row or file carries (R-IMP-1, R-IMP-2). No I/O: the cells come in as text, decoded
//! from CSV or XLSX by the service.

use std::collections::BTreeMap;
use std::fmt;

use crate::e164::{Country, E164, E164Error, NumberType};
use crate::input::{TextRow, text_fields as text_fields_of};
use crate::number::{
    Capabilities, Capacity, Customization, Messaging, NewNumber, NumberStatus, Product,
    VoiceDirection,
};
use crate::rules::Rule;

string_enum!(/// What an import does with each of its rows: one action per file (a CSV) or per sheet
    /// (an XLSX's sheets are named after the actions).
    ImportAction, "action", { Add => "add", Update => "update", Delete => "delete" });

impl ImportAction {
    /// The sheet name an XLSX carries for this action, and the portal's tab.
    pub fn title(self) -> &'static str {
        match self {
            ImportAction::Add => "Add",
            ImportAction::Update => "Update",
            ImportAction::Delete => "Delete",
        }
    }
}

string_enum!(/// Where an import is: `planned` (the plan is shown; nothing written), `applying` (its
    /// apply job is queued or running), `applied` (its accepted rows are in, all at once,
    /// R-IMP-3), `failed` (the apply was refused, e.g. the inventory changed since the plan).
    ImportStatus, "status", "planned, applying, applied, failed", exact, {
    Planned => "planned", Applying => "applying", Applied => "applied", Failed => "failed" });

string_enum!(/// What an export holds (SPEC §4): `list` is the numbers as the list shows them;
    /// `update_template` has the Update import's columns filled with each number's values, so
    /// that imported back as an Update it changes nothing; `consolidated` is one row per number
    /// held by a customer, with the customer's name and account number, across customers.
    ExportKind, "kind", { List => "list", UpdateTemplate => "update_template", Consolidated => "consolidated" });

string_enum!(/// Where an export is: `queued` (its job waits for a worker), `running`, `ready` (its
    /// file can be downloaded until it expires), `failed` (see its error), `expired` (the file
    /// was removed after the retention time; the record stays).
    ExportStatus, "status", "queued, running, ready, failed, expired", exact, {
    Queued => "queued", Running => "running", Ready => "ready", Failed => "failed", Expired => "expired" });

string_enum!(/// How often a scheduled export runs (seed 000's automated exports).
    Cadence, "cadence", { Daily => "daily", Weekly => "weekly" });

impl Cadence {
    /// Milliseconds between two runs.
    pub fn period_ms(self) -> i64 {
        const DAY: i64 = 24 * 60 * 60 * 1000;
        match self {
            Cadence::Daily => DAY,
            Cadence::Weekly => 7 * DAY,
        }
    }
}

string_enum!(/// The kind of file an import was read from (and its rejected rows are written as).
    FileFormat, "format", { Csv => "csv", Xlsx => "xlsx" });

/// Why a row (or a whole file) is refused: a stable code, a message that says what to fix,
/// and the rule it enforces where one does (R-IMP-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
    pub rule: Option<Rule>,
}

impl Reason {
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Reason {
            code,
            message: message.into(),
            rule: code.rule(),
        }
    }

    /// A rule's refusal: the code `rule_violation` with the rule that said no.
    pub fn rule(rule: Rule, message: impl Into<String>) -> Self {
        Reason {
            code: ReasonCode::RuleViolation,
            message: message.into(),
            rule: Some(rule),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(r) => write!(f, "{} ({}): {}", self.code, r.id(), self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

string_enum!(/// The reason codes of rejected rows and refused files. Stable: integrations branch on
    /// them, and the rejected-rows file carries them in its `reason` column.
    ReasonCode, "reason", {
    /// The file is neither a CSV nor an XLSX workbook, or cannot be read as one.
    UnreadableFile => "unreadable_file",
    /// The file has a header row and nothing under it, or nothing at all.
    EmptyFile => "empty_file",
    /// The XLSX has no sheet named after the action (and more than one sheet).
    MissingSheet => "missing_sheet",
    /// No phone number column.
    MissingColumn => "missing_column",
    /// A header that names no column of this action.
    UnknownColumn => "unknown_column",
    /// Two headers name the same column.
    DuplicateColumn => "duplicate_column",
    /// More rows than the import limit (R-IMP-1).
    TooManyRows => "too_many_rows",
    /// The row's phone number cell is empty.
    MissingPhoneNumber => "missing_phone_number",
    /// Not a valid number (R-NUM-2).
    InvalidNumber => "invalid_number",
    /// A spreadsheet turned the number into scientific notation: its digits are lost (R-NUM-2).
    ScientificNotation => "scientific_notation",
    /// No leading `+` and no country to read it in (R-NUM-2).
    NeedsCountry => "needs_country",
    /// The number is on an earlier row of the same file (R-NUM-1).
    DuplicateInFile => "duplicate_in_file",
    /// The number is already on the platform (R-NUM-1); whose is not said.
    AlreadyExists => "already_exists",
    /// No such number in the importer's scope (R-SEC-1).
    NotFound => "not_found",
    /// A cell's value is not one its column takes.
    InvalidValue => "invalid_value",
    /// The SIP trunk named is not one of the provider's.
    UnknownTrunk => "unknown_trunk",
    /// The carrier named is not one of the provider's of that kind.
    UnknownCarrier => "unknown_carrier",
    /// An attribute key or value the provider does not define (R-ATTR-1).
    InvalidAttribute => "invalid_attribute",
    /// A rule of the number's lifecycle or fields said no; the rule id says which.
    RuleViolation => "rule_violation",
});

impl ReasonCode {
    /// The rule a code always stands for (a `rule_violation` carries its own).
    pub fn rule(self) -> Option<Rule> {
        use ReasonCode::*;
        match self {
            TooManyRows => Some(Rule::Imp1),
            InvalidNumber | ScientificNotation | NeedsCountry => Some(Rule::Num2),
            DuplicateInFile | AlreadyExists => Some(Rule::Num1),
            NotFound => Some(Rule::Sec1),
            InvalidAttribute => Some(Rule::Attr1),
            _ => None,
        }
    }
}

/// A column an import file may carry. Headers name them loosely (see [`Column::from_header`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    PhoneNumber,
    /// Seed 003's calling code column (`1`, `+44`), which makes a number without `+` whole.
    CountryCode,
    Product,
    Status,
    Type,
    State,
    City,
    SipTrunk,
    BillingReference,
    ServiceInfo,
    Voice,
    Sms,
    Mms,
    Fax,
    VoiceCarrier,
    SmsCarrier,
    Capacity,
    VoiceDirection,
    Messaging,
    OutboundDialer,
    OutboundCliShared,
    CallPurpose,
    DisplayName,
    ProgramDuration,
    /// `attribute: <key>`: one of the provider's attributes.
    Attribute(String),
    /// The `reason` column of a rejected-rows file: read past, so the file goes back in as it is.
    Reason,
}

/// The header each column is written with in samples and exports; any of the names in
/// [`Column::from_header`] is read as it.
impl Column {
    pub fn header(&self) -> String {
        match self {
            Column::Attribute(k) => format!("Attribute: {k}"),
            other => other.fixed_header().to_string(),
        }
    }

    fn fixed_header(&self) -> &'static str {
        match self {
            Column::PhoneNumber => "Phone Number",
            Column::CountryCode => "Country Code",
            Column::Product => "Product",
            Column::Status => "Status",
            Column::Type => "Type",
            Column::State => "State",
            Column::City => "City",
            Column::SipTrunk => "SIP Trunk",
            Column::BillingReference => "Billing Reference",
            Column::ServiceInfo => "Service Info",
            Column::Voice => "Voice",
            Column::Sms => "SMS",
            Column::Mms => "MMS",
            Column::Fax => "Fax",
            Column::VoiceCarrier => "Voice Carrier",
            Column::SmsCarrier => "SMS Carrier",
            Column::Capacity => "Capacity",
            Column::VoiceDirection => "Voice Direction",
            Column::Messaging => "Messaging",
            Column::OutboundDialer => "Outbound Dialer",
            Column::OutboundCliShared => "Outbound CLI Shared",
            Column::CallPurpose => "Call Purpose",
            Column::DisplayName => "Display Name",
            Column::ProgramDuration => "Program Duration",
            Column::Attribute(_) => "Attribute",
            Column::Reason => "reason",
        }
    }

    /// The column a header names: case, blanks, `_` and `-` do not matter (`phone_number`,
    /// `Phone Number`, `PHONE-NUMBER`), and the common other names are taken (`Number`,
    /// `DID`, `SIP Trunk Name`, `SMS Carrier Profile`). `None` for a header naming nothing.
    pub fn from_header(header: &str) -> Option<Column> {
        let h = header.trim();
        if let Some((prefix, key)) = h.split_once(':') {
            let p = normalise(prefix);
            let key = key.trim();
            return (matches!(p.as_str(), "attribute" | "attr") && !key.is_empty())
                .then(|| Column::Attribute(key.to_string()));
        }
        let c = match normalise(h).as_str() {
            "phone number" | "phone" | "number" | "did" | "e164" | "telephone number" => {
                Column::PhoneNumber
            }
            "country code" | "calling code" => Column::CountryCode,
            "product" => Column::Product,
            "status" => Column::Status,
            "type" | "number type" => Column::Type,
            "state" | "region" | "province" => Column::State,
            "city" => Column::City,
            "sip trunk" | "sip trunk name" | "trunk" => Column::SipTrunk,
            "billing reference" | "billing ref" => Column::BillingReference,
            "service info" | "service information" => Column::ServiceInfo,
            "voice" => Column::Voice,
            "sms" => Column::Sms,
            "mms" => Column::Mms,
            "fax" => Column::Fax,
            "voice carrier" => Column::VoiceCarrier,
            "sms carrier" | "sms carrier profile" => Column::SmsCarrier,
            "capacity" => Column::Capacity,
            "voice direction" => Column::VoiceDirection,
            "messaging" => Column::Messaging,
            "outbound dialer" => Column::OutboundDialer,
            "outbound cli shared" => Column::OutboundCliShared,
            "call purpose" => Column::CallPurpose,
            "display name" => Column::DisplayName,
            "program duration" => Column::ProgramDuration,
            "reason" => Column::Reason,
            _ => return None,
        };
        Some(c)
    }

    /// Whether `action`'s rows take this column.
    pub fn fits(&self, action: ImportAction) -> bool {
        match action {
            ImportAction::Add => true,
            // The number itself and what it is are fixed after the add (R-EDIT-1, R-NUM-3);
            // state and city come from the number.
            ImportAction::Update => !matches!(self, Column::State | Column::City),
            ImportAction::Delete => matches!(
                self,
                Column::PhoneNumber | Column::CountryCode | Column::Reason
            ),
        }
    }

    /// The columns of `action`'s sample file and update template, in order.
    pub fn sample(action: ImportAction) -> Vec<Column> {
        use Column::*;
        match action {
            ImportAction::Delete => vec![PhoneNumber],
            ImportAction::Add | ImportAction::Update => [
                PhoneNumber,
                Product,
                Status,
                Type,
                State,
                City,
                SipTrunk,
                BillingReference,
                ServiceInfo,
                Voice,
                Sms,
                Mms,
                Fax,
                VoiceCarrier,
                SmsCarrier,
                Capacity,
                VoiceDirection,
                Messaging,
                OutboundDialer,
                OutboundCliShared,
                CallPurpose,
                DisplayName,
                ProgramDuration,
            ]
            .into_iter()
            .filter(|c| c.fits(action))
            .collect(),
        }
    }
}

/// Lower case, `_` and `-` as blanks, runs of blanks as one.
fn normalise(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A file's header row, matched: which cell of a row holds each column.
#[derive(Debug, Clone)]
pub struct Header {
    pub action: ImportAction,
    /// Each column found and its cell's index, in file order (a handful: a scan is cheaper
    /// than hashing a column for every cell of a million rows).
    positions: Vec<(Column, usize)>,
}

impl Header {
    /// Matches `cells` (the first row) for `action`. Every header must name a column of the
    /// action, once; the phone number column is required. A blank header over an empty column
    /// (a spreadsheet's trailing separator) is allowed and read past.
    pub fn match_cells(action: ImportAction, cells: &[String]) -> Result<Header, Reason> {
        let mut positions: Vec<(Column, usize)> = Vec::new();
        let mut unknown = Vec::new();
        for (i, raw) in cells.iter().enumerate() {
            let raw = raw.trim().trim_start_matches('\u{feff}');
            if raw.is_empty() {
                continue;
            }
            match Column::from_header(raw).filter(|c| c.fits(action)) {
                Some(c) => {
                    if positions.iter().any(|(k, _)| *k == c) {
                        return Err(Reason::new(
                            ReasonCode::DuplicateColumn,
                            format!("the column {:?} is given twice", c.header()),
                        ));
                    }
                    positions.push((c, i));
                }
                None => unknown.push(raw.to_string()),
            }
        }
        if !unknown.is_empty() {
            let list = unknown
                .iter()
                .map(|u| format!("{:?}", u.chars().take(60).collect::<String>()))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Reason::new(
                ReasonCode::UnknownColumn,
                format!(
                    "{} {list} {} not a column of a {} import; the sample file lists the columns",
                    if unknown.len() == 1 {
                        "the header"
                    } else {
                        "the headers"
                    },
                    if unknown.len() == 1 { "is" } else { "are" },
                    action.title()
                ),
            ));
        }
        if !positions.iter().any(|(k, _)| *k == Column::PhoneNumber) {
            return Err(Reason::new(
                ReasonCode::MissingColumn,
                "the file has no Phone Number column (the first row must hold the headers)",
            ));
        }
        Ok(Header { action, positions })
    }

    /// The columns found, in file order.
    pub fn columns(&self) -> Vec<Column> {
        self.positions.iter().map(|(c, _)| c.clone()).collect()
    }

    pub fn has(&self, c: &Column) -> bool {
        self.positions.iter().any(|(k, _)| k == c)
    }

    /// The cell of `c` in `row`, trimmed; `None` when the column is absent or the cell blank.
    /// A `'` that R-EXP-1 put before a formula-looking value is taken off again (a spreadsheet
    /// hides it too), so an exported file imports back as it was.
    pub fn cell<'a>(&self, row: &'a [String], c: &Column) -> Option<&'a str> {
        let i = self.positions.iter().find(|(k, _)| k == c)?.1;
        row.get(i)
            .map(|s| s.trim())
            .map(|s| match s.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
                _ => s,
            })
            .filter(|s| !s.is_empty())
    }
}

/// What a file leaves open that a form or flag settles: the country of numbers written
/// without `+` when the file has no Country Code column.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowDefaults {
    pub country: Option<Country>,
}

/// A phone number cell read back into E.164, with what spreadsheets do to numbers repaired
/// where the repair is unambiguous and refused with the reason where it is not (R-NUM-2).
///
/// - `+…` is read as it is.
/// - Scientific notation (`1.4155E+10`) has lost digits: refused, never guessed.
/// - Without `+`, a Country Code cell on the row gives the calling code: the digits are read
///   as the national number of that code, or as an international number whose `+` was lost if
///   they start with the code; exactly one reading must be valid.
/// - Without `+` and without a Country Code, the declared default country reads it as a
///   national number (which also takes a lost `+` of that country's own numbers).
/// - Otherwise it is refused with `needs_country`.
pub fn repair_number(
    cell: &str,
    country_code: Option<&str>,
    defaults: &RowDefaults,
) -> Result<E164, Reason> {
    let raw = cell.trim();
    if raw.is_empty() {
        return Err(Reason::new(
            ReasonCode::MissingPhoneNumber,
            "the phone number cell is empty",
        ));
    }
    if looks_scientific(raw) {
        return Err(Reason::new(
            ReasonCode::ScientificNotation,
            format!(
                "{raw:?} is in scientific notation: the spreadsheet dropped digits of the number. \
                 Format the column as text and type the numbers again"
            ),
        ));
    }
    let invalid = |e: E164Error| Reason::new(ReasonCode::InvalidNumber, e.to_string());
    if raw.starts_with('+') || raw.starts_with('\u{FF0B}') {
        return E164::parse(raw).map_err(invalid);
    }
    if let Some(cc) = country_code {
        let code: String = cc.trim().trim_start_matches('+').to_string();
        if code.is_empty() || code.len() > 3 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(Reason::new(
                ReasonCode::InvalidValue,
                format!("Country Code: {cc:?} is not a calling code (1 to 3 digits, like 1 or 44)"),
            ));
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(invalid(E164Error::Unparseable(
                raw.to_string(),
                "not a number",
            )));
        }
        let national = E164::parse(&format!("+{code}{}", digits.trim_start_matches('0')));
        let lost_plus = digits
            .starts_with(&code)
            .then(|| E164::parse(&format!("+{digits}")))
            .and_then(Result::ok);
        return match (national, lost_plus) {
            (Ok(a), Some(b)) if a != b => Err(Reason::new(
                ReasonCode::InvalidNumber,
                format!(
                    "{raw:?} with country code {code} reads as {} or as {}: write it with its +",
                    a.as_str(),
                    b.as_str()
                ),
            )),
            (Ok(a), _) => Ok(a),
            (Err(_), Some(b)) => Ok(b),
            (Err(e), None) => Err(invalid(e)),
        };
    }
    match defaults.country {
        Some(c) => E164::parse_national(raw, c).map_err(invalid),
        None => Err(Reason::new(
            ReasonCode::NeedsCountry,
            format!(
                "{raw:?} has no leading + and the file gives no country: write it as +…, add a \
                 Country Code column, or choose a default country"
            ),
        )),
    }
}

/// `1.4155E+10`, `1,4155E+10`, `4.155e9`: a number a spreadsheet wrote in scientific notation.
fn looks_scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let mantissa_ok = !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && mantissa.chars().any(|c| c.is_ascii_digit());
    mantissa_ok && !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit())
}

/// A TRUE/FALSE cell: `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0`, any case.
fn flag(column: &Column, v: &str) -> Result<bool, Reason> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "x" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(Reason::new(
            ReasonCode::InvalidValue,
            format!("{}: {v:?} is not TRUE or FALSE", column.header()),
        )),
    }
}

/// A word cell (`Contact Center`, `contact_center`, `contact-center`) as the enum's word.
fn word<T: std::str::FromStr>(column: &Column, v: &str) -> Result<T, Reason>
where
    T::Err: fmt::Display,
{
    normalise(v).replace(' ', "_").parse().map_err(|e: T::Err| {
        Reason::new(
            ReasonCode::InvalidValue,
            format!("{}: {e}", column.header()),
        )
    })
}

/// An Add row, parsed: the number and its fields, with the trunk and carriers still as the
/// names the file gives (the service looks them up among the provider's).
#[derive(Debug, Clone)]
pub struct AddRow {
    pub phone_number: E164,
    pub fields: NewNumber,
    pub sip_trunk: Option<String>,
    pub voice_carrier: Option<String>,
    pub sms_carrier: Option<String>,
}

/// An Update row: the number and each column given (a blank cell leaves the field as it is).
#[derive(Debug, Clone, Default)]
pub struct UpdateRow {
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    pub number_type: Option<NumberType>,
    pub sip_trunk: Option<String>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub voice: Option<bool>,
    pub sms: Option<bool>,
    pub mms: Option<bool>,
    pub fax: Option<bool>,
    pub voice_carrier: Option<String>,
    pub sms_carrier: Option<String>,
    pub capacity: Option<Capacity>,
    pub voice_direction: Option<VoiceDirection>,
    pub messaging: Option<Messaging>,
    pub outbound_dialer: Option<bool>,
    pub outbound_cli_shared: Option<bool>,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    pub program_duration: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// One data row of a file, parsed for its action.
#[derive(Debug, Clone)]
pub enum ImportRow {
    Add(AddRow),
    Update(E164, UpdateRow),
    Delete(E164),
}

impl ImportRow {
    pub fn phone_number(&self) -> &E164 {
        match self {
            ImportRow::Add(a) => &a.phone_number,
            ImportRow::Update(n, _) | ImportRow::Delete(n) => n,
        }
    }
}

/// Whether every cell of `row` is blank (such rows are read past, as spreadsheets leave them).
pub fn is_blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}

/// Parses one data row under `header`.
pub fn parse_row(
    header: &Header,
    row: &[String],
    defaults: &RowDefaults,
) -> Result<ImportRow, Reason> {
    let number = repair_number(
        header.cell(row, &Column::PhoneNumber).unwrap_or(""),
        header.cell(row, &Column::CountryCode),
        defaults,
    )?;
    parse_row_as(header, row, number)
}

/// Parses one data row under `header` whose phone number cell is known to read as `number`
/// (an apply reads its plan's numbers back instead of running libphonenumber again).
pub fn parse_row_as(header: &Header, row: &[String], number: E164) -> Result<ImportRow, Reason> {
    let cell = |c: &Column| header.cell(row, c);
    let text = |c: &Column| cell(c).map(str::to_string);
    let flag_of = |c: Column| cell(&c).map(|v| flag(&c, v)).transpose();
    let attributes: BTreeMap<String, String> = header
        .positions
        .iter()
        .filter_map(|(c, _)| match c {
            Column::Attribute(k) => cell(c).map(|v| (k.clone(), v.to_string())),
            _ => None,
        })
        .collect();
    match header.action {
        ImportAction::Delete => Ok(ImportRow::Delete(number)),
        ImportAction::Add => {
            let text_fields = TextRow {
                phone_number: String::new(),
                country: None,
                product: cell(&Column::Product).map(|v| normalise(v).replace(' ', "_")),
                status: cell(&Column::Status).map(|v| normalise(v).replace(' ', "_")),
                number_type: cell(&Column::Type).map(|v| normalise(v).replace(' ', "_")),
                state: text(&Column::State),
                city: text(&Column::City),
                billing_reference: text(&Column::BillingReference),
                service_info: text(&Column::ServiceInfo),
                call_purpose: text(&Column::CallPurpose),
                display_name: text(&Column::DisplayName),
                program_duration: text(&Column::ProgramDuration),
                attributes: vec![],
            };
            let mut fields = text_fields_of(&text_fields).map_err(|e| {
                Reason::new(
                    ReasonCode::InvalidValue,
                    format!("{}: {}", e.field, e.message),
                )
            })?;
            fields.attributes = attributes;
            let caps = [
                flag_of(Column::Voice)?,
                flag_of(Column::Sms)?,
                flag_of(Column::Mms)?,
                flag_of(Column::Fax)?,
            ];
            if caps.iter().any(Option::is_some) {
                let [voice, sms, mms, fax] = caps.map(|c| c.unwrap_or(false));
                fields.capabilities = Some(Capabilities {
                    voice,
                    sms,
                    mms,
                    fax,
                });
            }
            let parts = CustomizationCells::read(header, row)?;
            if parts.any() {
                fields.customization = Some(parts.over(Customization::default()));
            }
            Ok(ImportRow::Add(AddRow {
                phone_number: number,
                fields,
                sip_trunk: text(&Column::SipTrunk),
                voice_carrier: text(&Column::VoiceCarrier),
                sms_carrier: text(&Column::SmsCarrier),
            }))
        }
        ImportAction::Update => {
            let parts = CustomizationCells::read(header, row)?;
            let u = UpdateRow {
                product: cell(&Column::Product)
                    .map(|v| word(&Column::Product, v))
                    .transpose()?,
                status: cell(&Column::Status)
                    .map(|v| word(&Column::Status, v))
                    .transpose()?,
                number_type: cell(&Column::Type)
                    .map(|v| word(&Column::Type, v))
                    .transpose()?,
                sip_trunk: text(&Column::SipTrunk),
                billing_reference: text(&Column::BillingReference),
                service_info: text(&Column::ServiceInfo),
                voice: flag_of(Column::Voice)?,
                sms: flag_of(Column::Sms)?,
                mms: flag_of(Column::Mms)?,
                fax: flag_of(Column::Fax)?,
                voice_carrier: text(&Column::VoiceCarrier),
                sms_carrier: text(&Column::SmsCarrier),
                capacity: parts.capacity,
                voice_direction: parts.voice_direction,
                messaging: parts.messaging,
                outbound_dialer: parts.outbound_dialer,
                outbound_cli_shared: parts.outbound_cli_shared,
                call_purpose: text(&Column::CallPurpose),
                display_name: text(&Column::DisplayName),
                program_duration: text(&Column::ProgramDuration),
                attributes,
            };
            Ok(ImportRow::Update(number, u))
        }
    }
}

/// The customization columns of a row, each blank or given.
#[derive(Debug, Default)]
struct CustomizationCells {
    capacity: Option<Capacity>,
    voice_direction: Option<VoiceDirection>,
    messaging: Option<Messaging>,
    outbound_dialer: Option<bool>,
    outbound_cli_shared: Option<bool>,
}

impl CustomizationCells {
    fn read(header: &Header, row: &[String]) -> Result<Self, Reason> {
        let cell = |c: &Column| header.cell(row, c);
        Ok(CustomizationCells {
            capacity: cell(&Column::Capacity)
                .map(|v| word(&Column::Capacity, v))
                .transpose()?,
            voice_direction: cell(&Column::VoiceDirection)
                .map(|v| word(&Column::VoiceDirection, v))
                .transpose()?,
            messaging: cell(&Column::Messaging)
                .map(|v| word(&Column::Messaging, v))
                .transpose()?,
            outbound_dialer: cell(&Column::OutboundDialer)
                .map(|v| flag(&Column::OutboundDialer, v))
                .transpose()?,
            outbound_cli_shared: cell(&Column::OutboundCliShared)
                .map(|v| flag(&Column::OutboundCliShared, v))
                .transpose()?,
        })
    }

    fn any(&self) -> bool {
        self.capacity.is_some()
            || self.voice_direction.is_some()
            || self.messaging.is_some()
            || self.outbound_dialer.is_some()
            || self.outbound_cli_shared.is_some()
    }

    /// `base` with the given cells over it.
    fn over(&self, base: Customization) -> Customization {
        Customization {
            capacity: self.capacity.unwrap_or(base.capacity),
            voice_direction: self.voice_direction.unwrap_or(base.voice_direction),
            messaging: self.messaging.unwrap_or(base.messaging),
            outbound_dialer: self.outbound_dialer.unwrap_or(base.outbound_dialer),
            outbound_cli_shared: self.outbound_cli_shared.unwrap_or(base.outbound_cli_shared),
        }
    }
}

impl UpdateRow {
    /// The customization `base` becomes under this row's cells.
    pub fn customization_over(&self, base: Customization) -> Customization {
        CustomizationCells {
            capacity: self.capacity,
            voice_direction: self.voice_direction,
            messaging: self.messaging,
            outbound_dialer: self.outbound_dialer,
            outbound_cli_shared: self.outbound_cli_shared,
        }
        .over(base)
    }

    /// The capabilities `base` becomes under this row's cells.
    pub fn capabilities_over(&self, base: Capabilities) -> Capabilities {
        Capabilities {
            voice: self.voice.unwrap_or(base.voice),
            sms: self.sms.unwrap_or(base.sms),
            mms: self.mms.unwrap_or(base.mms),
            fax: self.fax.unwrap_or(base.fax),
        }
    }
}

/// R-EXP-1: a cell a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, or a tab
/// or carriage return before one) gets a leading `'`, which spreadsheets show as text. A real
/// E.164 number in the number column is left readable (`is_number_column`).
pub fn neutralise_cell(v: &str, is_number_column: bool) -> std::borrow::Cow<'_, str> {
    if is_number_column && E164::parse(v).is_ok_and(|n| n.as_str() == v) {
        return std::borrow::Cow::Borrowed(v);
    }
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{v}")),
        _ => std::borrow::Cow::Borrowed(v),
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
