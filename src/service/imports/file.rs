//! Import files as rows of text cells: CSV (UTF-8 with or without BOM, `,` `;` or tab
//! detected from the header line) and XLSX (the sheet named after the action, or the only
//! sheet), read; and files written back in either format (the rejected rows with a `reason`
//! column, the samples). What the cells mean is `numberpool_domain::import`'s business.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use numberpool_domain::import::{FileFormat, ImportAction, Reason, ReasonCode};

/// A decoded file: its header row and data rows, cells as text.
#[derive(Debug, Clone)]
pub struct Table {
    pub format: FileFormat,
    /// The CSV delimiter the file uses (`b','` for an XLSX, which has none; it is what the
    /// rejected-rows file of an XLSX would use if asked for as CSV).
    pub delimiter: u8,
    pub header: Vec<String>,
    /// Data rows as in the file, blank ones included (row numbers count them).
    pub rows: Vec<Vec<String>>,
}

/// An XLSX (and any Office Open XML file) is a ZIP archive.
pub fn format_of(bytes: &[u8]) -> FileFormat {
    if bytes.starts_with(b"PK\x03\x04") {
        FileFormat::Xlsx
    } else {
        FileFormat::Csv
    }
}

fn unreadable(message: impl Into<String>) -> Reason {
    Reason::new(ReasonCode::UnreadableFile, message)
}

/// Decodes `bytes` for `action`.
pub fn read(bytes: &[u8], action: ImportAction) -> Result<Table, Reason> {
    match format_of(bytes) {
        FileFormat::Csv => read_csv(bytes),
        FileFormat::Xlsx => read_xlsx(bytes, action),
    }
}

/// The delimiter of a CSV: the most frequent of `,`, `;` and tab on the header line, outside
/// quotes (Excel writes `;` where the decimal separator is a comma).
fn detect_delimiter(text: &str) -> u8 {
    let line = text.lines().next().unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in line.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
            slot.1 += 1;
        }
    }
    counts
        .iter()
        .copied()
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| d)
}

fn read_csv(bytes: &[u8]) -> Result<Table, Reason> {
    let mut rows = open_csv(bytes)?;
    let mut all = Vec::new();
    while let Some((_, cells)) = rows.next_row()? {
        all.push(cells);
    }
    Ok(Table {
        format: FileFormat::Csv,
        delimiter: rows.delimiter,
        header: rows.header,
        rows: all,
    })
}

/// A file's rows read one at a time: a CSV straight from its bytes, so that a million-row file
/// is never a table of a million rows in memory; an XLSX from its decoded sheet (calamine reads
/// a sheet whole).
pub struct Rows<'a> {
    pub format: FileFormat,
    pub delimiter: u8,
    pub header: Vec<String>,
    source: Source<'a>,
    /// The spreadsheet row number of the next row (the header is row 1).
    next: usize,
}

/// What a CSV's rows are read from: the file in memory, or one piece of it that is owned.
type CsvInput<'a> = Box<dyn std::io::Read + Send + 'a>;

enum Source<'a> {
    Csv(Box<csv::Reader<CsvInput<'a>>>, csv::StringRecord),
    Table(std::vec::IntoIter<Vec<String>>),
}

/// Opens `bytes` for `action`, its header row read.
pub fn open(bytes: &[u8], action: ImportAction) -> Result<Rows<'_>, Reason> {
    match format_of(bytes) {
        FileFormat::Csv => open_csv(bytes),
        FileFormat::Xlsx => xlsx_rows(bytes, action),
    }
}

fn open_csv(bytes: &[u8]) -> Result<Rows<'_>, Reason> {
    let text = csv_text(bytes)?;
    csv_rows(Box::new(text.as_bytes()), detect_delimiter(text))
}

/// A CSV's text after its BOM, checked to be UTF-8 and not empty.
fn csv_text(bytes: &[u8]) -> Result<&str, Reason> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "the file is not UTF-8 text (byte {} is not): save it as \"CSV UTF-8\" or as an XLSX \
             workbook",
            e.valid_up_to() + 1
        ))
    })?;
    if text.trim().is_empty() {
        return Err(Reason::new(ReasonCode::EmptyFile, "the file is empty"));
    }
    Ok(text)
}

fn csv_reader<'a>(input: CsvInput<'a>, delimiter: u8) -> csv::Reader<CsvInput<'a>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input)
}

/// A CSV's rows from `input` (its text after the BOM), its header row read.
fn csv_rows(input: CsvInput<'_>, delimiter: u8) -> Result<Rows<'_>, Reason> {
    let mut reader = csv_reader(input, delimiter);
    let mut record = csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_string).collect(),
        Err(e) => return Err(unreadable(format!("the header row cannot be read: {e}"))),
        Ok(false) => return Err(Reason::new(ReasonCode::EmptyFile, "the file is empty")),
    };
    Ok(Rows {
        format: FileFormat::Csv,
        delimiter,
        header,
        source: Source::Csv(Box::new(reader), record),
        next: 2,
    })
}

/// An XLSX's rows: its sheet for `action`, decoded whole.
fn xlsx_rows(bytes: &[u8], action: ImportAction) -> Result<Rows<'static>, Reason> {
    let t = read_xlsx(bytes, action)?;
    Ok(Rows {
        format: t.format,
        delimiter: t.delimiter,
        header: t.header,
        source: Source::Table(t.rows.into_iter()),
        next: 2,
    })
}

/// Opens `bytes` for `action` as [`open`] does, the rows owning what they read.
pub fn open_owned(bytes: Vec<u8>, action: ImportAction) -> Result<Rows<'static>, Reason> {
    match format_of(&bytes) {
        FileFormat::Csv => open_first_piece(bytes),
        FileFormat::Xlsx => xlsx_rows(&bytes, action),
    }
}

/// Where a CSV is cut into pieces of about `every` bytes for keeping, each cut at the start of
/// a record, so that each piece parses alone and gives the rows it gives inside the whole file
/// (see [`open_first_piece`], [`open_next_piece`]): the offsets in `bytes` where the second
/// piece and each one after it start. `None` for a file that does not read to its end.
pub fn record_cuts(bytes: &[u8], every: usize) -> Option<Vec<usize>> {
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text = csv_text(bytes).ok()?;
    let delimiter = detect_delimiter(text);
    let mut reader = csv_reader(Box::new(text.as_bytes()), delimiter);
    let mut record = csv::ByteRecord::new();
    let mut cuts: Vec<usize> = Vec::new();
    let mut next_cut = every;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => return None,
        }
        let at = bom + usize::try_from(reader.position().byte()).ok()?;
        // A piece that starts with a BOM would lose it to a reader of its own.
        if at >= next_cut && at < bytes.len() && !bytes[at..].starts_with(b"\xEF\xBB\xBF") {
            cuts.push(at);
            next_cut = at + every;
        }
    }
    // The pieces are read as the whole file is only if the first piece finds the delimiter the
    // whole file does (it is read from the first line, which a piece without a line break
    // holds only in part), and they are kept small only if no record runs on for many MiB.
    let first = cuts.first().map_or(bytes.len(), |c| *c);
    let first_text = std::str::from_utf8(&bytes[bom..first]).ok()?;
    let largest = cuts
        .iter()
        .chain([&bytes.len()])
        .scan(0, |start, end| {
            let size = end - *start;
            *start = *end;
            Some(size)
        })
        .max()
        .unwrap_or(0);
    (detect_delimiter(first_text) == delimiter && largest <= 4 * every.max(1)).then_some(cuts)
}

/// The first piece of a CSV kept in pieces cut by [`record_cuts`]: its header read, as
/// [`open`] reads a whole file.
pub fn open_first_piece(piece: Vec<u8>) -> Result<Rows<'static>, Reason> {
    let (bom, delimiter) = {
        let text = csv_text(&piece)?;
        (piece.len() - text.len(), detect_delimiter(text))
    };
    let mut input = Cursor::new(piece);
    input.set_position(bom as u64);
    csv_rows(Box::new(input), delimiter)
}

/// A later piece of such a CSV: rows only, numbered on from `next`, read with the first
/// piece's `delimiter`.
pub fn open_next_piece(
    piece: Vec<u8>,
    delimiter: u8,
    next: usize,
) -> Result<Rows<'static>, Reason> {
    if let Err(e) = std::str::from_utf8(&piece) {
        return Err(unreadable(format!(
            "a kept piece of the file is not UTF-8 text (from its byte {})",
            e.valid_up_to() + 1
        )));
    }
    Ok(Rows {
        format: FileFormat::Csv,
        delimiter,
        header: Vec::new(),
        source: Source::Csv(
            Box::new(csv_reader(Box::new(Cursor::new(piece)), delimiter)),
            csv::StringRecord::new(),
        ),
        next,
    })
}

impl Rows<'_> {
    /// The spreadsheet row number of the next row.
    pub fn next_row_number(&self) -> usize {
        self.next
    }

    /// The next row with its spreadsheet row number, blank rows included; `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<(usize, Vec<String>)>, Reason> {
        let no = self.next;
        let cells = match &mut self.source {
            Source::Csv(reader, record) => match reader.read_record(record) {
                Ok(true) => record.iter().map(str::to_string).collect(),
                Ok(false) => return Ok(None),
                Err(e) => return Err(unreadable(format!("row {no} cannot be read: {e}"))),
            },
            Source::Table(rows) => match rows.next() {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        self.next += 1;
        Ok(Some((no, cells)))
    }

    /// Up to `n` of the next rows that are not blank, with their row numbers; empty at the end.
    pub fn next_slice(&mut self, n: usize) -> Result<Vec<(usize, Vec<String>)>, Reason> {
        let mut out = Vec::with_capacity(n.min(16_384));
        while out.len() < n {
            match self.next_row()? {
                Some((_, cells)) if numberpool_domain::import::is_blank(&cells) => {}
                Some(row) => out.push(row),
                None => break,
            }
        }
        Ok(out)
    }
}

/// How many data rows of the file `rows` was opened on (its `bytes`) are not blank (R-IMP-1
/// counts them before anything is planned), `rows` itself left where it is: a CSV is read again
/// from its bytes, without a string per cell; an XLSX's decoded sheet is counted as it is.
pub fn count_rows(rows: &Rows<'_>, bytes: &[u8]) -> Result<usize, Reason> {
    let mut reader = match &rows.source {
        Source::Table(table) => {
            return Ok(table
                .as_slice()
                .iter()
                .filter(|r| !numberpool_domain::import::is_blank(r))
                .count());
        }
        Source::Csv(..) => match open_csv(bytes)?.source {
            Source::Csv(reader, _) => reader,
            Source::Table(_) => return Err(unreadable("the file is not a CSV")),
        },
    };
    let mut record = csv::ByteRecord::new();
    let (mut n, mut no) = (0, 2);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(n),
            Err(e) => return Err(unreadable(format!("row {no} cannot be read: {e}"))),
        }
        let blank = record
            .iter()
            .all(|c| std::str::from_utf8(c).is_ok_and(|c| c.trim().is_empty()));
        n += usize::from(!blank);
        no += 1;
    }
}

/// A cell as the text a person would have typed. A whole number stored as a number (a phone
/// number typed into a General cell) keeps all its digits; its lost `+` is repaired later.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(true) => "TRUE".into(),
        Data::Bool(false) => "FALSE".into(),
        Data::DateTime(t) => t.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8], action: ImportAction) -> Result<Table, Reason> {
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        unreadable(format!(
            "the file is not an XLSX workbook that can be read ({e})"
        ))
    })?;
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case(action.title()))
        .or(match names.as_slice() {
            [only] => Some(only),
            _ => None,
        })
        .cloned()
        .ok_or_else(|| {
            Reason::new(
                ReasonCode::MissingSheet,
                format!(
                    "the workbook has no sheet named {:?} (it has {}): name the sheet after the \
                     action",
                    action.title(),
                    names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| unreadable(format!("the sheet {sheet:?} cannot be read ({e})")))?;
    let mut rows = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect::<Vec<_>>());
    let Some(header) = rows.next() else {
        return Err(Reason::new(
            ReasonCode::EmptyFile,
            format!("the sheet {sheet:?} is empty"),
        ));
    };
    Ok(Table {
        format: FileFormat::Xlsx,
        delimiter: b',',
        header,
        rows: rows.collect(),
    })
}

/// Writes `header` and `rows` as `format`: a CSV in UTF-8 with a BOM (so that Excel reads it
/// as UTF-8) and `delimiter`, or an XLSX with one sheet named `sheet` whose cells are all text
/// (so `+14155550100` stays as typed, never a number). Cells a spreadsheet would run as a
/// formula are neutralised (R-EXP-1), except real E.164 numbers in `number_column`.
pub fn write(
    format: FileFormat,
    delimiter: u8,
    sheet: &str,
    header: &[String],
    rows: &[Vec<String>],
    number_column: Option<usize>,
) -> Result<Vec<u8>, String> {
    let cell = |i: usize, v: &'_ str| -> String {
        numberpool_domain::import::neutralise_cell(v, Some(i) == number_column).into_owned()
    };
    match format {
        FileFormat::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .from_writer(&mut out);
                w.write_record(header).map_err(|e| e.to_string())?;
                for r in rows {
                    w.write_record(r.iter().enumerate().map(|(i, v)| cell(i, v)))
                        .map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            Ok(out)
        }
        FileFormat::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let text = rust_xlsxwriter::Format::new().set_num_format("@");
            let ws = book.add_worksheet();
            ws.set_name(sheet).map_err(|e| e.to_string())?;
            for (c, h) in header.iter().enumerate() {
                let col = u16::try_from(c).map_err(|_| "too many columns".to_string())?;
                ws.set_column_format(col, &text)
                    .map_err(|e| e.to_string())?;
                ws.set_column_width(col, (h.len().max(14) + 2) as f64)
                    .map_err(|e| e.to_string())?;
                ws.write_string(0, col, h).map_err(|e| e.to_string())?;
            }
            for (r, row) in rows.iter().enumerate() {
                let rn = u32::try_from(r + 1).map_err(|_| "too many rows".to_string())?;
                for (c, v) in row.iter().enumerate() {
                    let col = u16::try_from(c).map_err(|_| "too many columns".to_string())?;
                    ws.write_string_with_format(rn, col, cell(c, v), &text)
                        .map_err(|e| e.to_string())?;
                }
            }
            book.save_to_buffer().map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mut rows: Rows<'_>) -> Vec<(usize, Vec<String>)> {
        let mut out = Vec::new();
        while let Some(row) = rows.next_row().expect("a readable row") {
            out.push(row);
        }
        out
    }

    #[test]
    fn pieces_cut_at_record_boundaries_read_as_the_whole_file() {
        // A BOM, `;` delimiters, CRLF endings, a blank row, quoted delimiters, quotes and line
        // breaks, and a multi-byte character: pieces cut every few bytes must not split any.
        let text = "\u{feff}Phone Number;Billing Reference\r\n+14155550101;\"a;b\"\r\n\r\n\
                    +14155550102;\"two\nlines\"\r\n+14155550103;\"say \"\"hi\"\"\"\r\n\
                    +14155550104;Zürich\r\n+14155550105;last";
        let bytes = text.as_bytes();
        let whole = open(bytes, ImportAction::Add).expect("the file opens");
        let header = whole.header.clone();
        let expect = all(whole);
        assert_eq!(expect.len(), 5, "{expect:?}");
        for every in [10, 17, 40, 1000] {
            let cuts = record_cuts(bytes, every).expect("cuts");
            assert!(cuts.is_sorted() && cuts.iter().all(|c| *c > 0 && *c < bytes.len()));
            let mut starts = vec![0];
            starts.extend(&cuts);
            let ends = cuts.iter().copied().chain([bytes.len()]);
            let pieces: Vec<Vec<u8>> = starts
                .iter()
                .zip(ends)
                .map(|(s, e)| bytes[*s..e].to_vec())
                .collect();
            let mut pieces = pieces.into_iter();
            let first = open_first_piece(pieces.next().expect("a first piece")).expect("opens");
            assert_eq!(first.header, header, "every {every}");
            let (delimiter, mut next) = (first.delimiter, first.next_row_number());
            let mut got = all(first);
            if let Some((no, _)) = got.last() {
                next = no + 1;
            }
            for piece in pieces {
                let rows = all(open_next_piece(piece, delimiter, next).expect("opens"));
                if let Some((no, _)) = rows.last() {
                    next = no + 1;
                }
                got.extend(rows);
            }
            assert_eq!(got, expect, "pieces of about {every} bytes");
        }
        assert_eq!(record_cuts(bytes, 1000), Some(vec![]), "one piece");
        assert_eq!(
            record_cuts(bytes, 1),
            None,
            "pieces of many times the size asked for are not cut"
        );
        // A record that starts with a BOM is not where a piece starts (a reader of its own
        // would drop the BOM).
        let text = "a,b\nx,1\n\u{feff}y,2\nz,3\n";
        let at = text.find('\u{feff}').expect("a BOM");
        let cuts = record_cuts(text.as_bytes(), 3).expect("cuts");
        assert!(!cuts.contains(&at), "{cuts:?}");
        assert!(!cuts.is_empty());
        // The first piece must find the file's delimiter: here its first line (the whole piece,
        // without a line break) has a comma, where the file's first line, all of it, counts
        // more semicolons.
        let text = format!("a,b{}", "\r;;;".repeat(20));
        assert_eq!(detect_delimiter(&text), b';');
        assert_eq!(record_cuts(text.as_bytes(), 4), None);
    }

    #[test]
    fn delimiters_are_detected_outside_quotes() {
        assert_eq!(detect_delimiter("a,b,c\n1;2"), b',');
        assert_eq!(detect_delimiter("a;b;c\n"), b';');
        assert_eq!(detect_delimiter("\"x,y\";b\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n"), b'\t');
        assert_eq!(detect_delimiter("phone\n"), b',');
    }

    #[test]
    fn bom_and_no_bom_read_alike() {
        let plain =
            read_csv(b"Phone Number,City\n+14155550100,SF\n").unwrap_or_else(|e| panic!("{e}"));
        let bom = read_csv(b"\xEF\xBB\xBFPhone Number,City\r\n+14155550100,SF\r\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.header, bom.header);
        assert_eq!(plain.rows, bom.rows);
        assert_eq!(bom.header[0], "Phone Number");
    }

    #[test]
    fn unreadable_and_empty_files_say_so() {
        let latin1 = read_csv(b"Phone Number,City\n+14155550100,M\xFCnchen\n");
        assert_eq!(
            latin1.err().map(|e| e.code),
            Some(ReasonCode::UnreadableFile)
        );
        assert_eq!(
            read_csv(b"  \n").err().map(|e| e.code),
            Some(ReasonCode::EmptyFile)
        );
        let zip = read(b"PK\x03\x04garbage", ImportAction::Add);
        assert_eq!(zip.err().map(|e| e.code), Some(ReasonCode::UnreadableFile));
    }

    #[test]
    fn written_files_read_back_alike() {
        let header = vec!["Phone Number".to_string(), "Billing Reference".to_string()];
        let rows = vec![
            vec!["+14155550100".to_string(), "=HYPERLINK(x)".to_string()],
            vec!["+14155550101".to_string(), "plain".to_string()],
        ];
        for format in [FileFormat::Csv, FileFormat::Xlsx] {
            let bytes = write(format, b';', "Add", &header, &rows, Some(0))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format_of(&bytes), format);
            let t = read(&bytes, ImportAction::Add).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.header, header, "{format}");
            assert_eq!(
                t.rows[0][0], "+14155550100",
                "{format}: the number stays text"
            );
            assert_eq!(t.rows[0][1], "'=HYPERLINK(x)", "{format}: R-EXP-1");
            assert_eq!(t.rows[1], rows[1], "{format}");
        }
        // An XLSX whose sheets are named after other actions is refused for this one.
        let bytes = write(FileFormat::Xlsx, b',', "Delete", &header, &rows, Some(0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            read(&bytes, ImportAction::Add).is_ok(),
            "the only sheet is read"
        );
    }

    #[test]
    fn xlsx_numbers_keep_their_digits() {
        assert_eq!(cell_text(&Data::Float(14155550100.0)), "14155550100");
        assert_eq!(cell_text(&Data::Int(4155550100)), "4155550100");
        assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
    }
}
