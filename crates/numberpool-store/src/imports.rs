//! The imports table (migration 0012): an uploaded file kept with its plan's counts, digest and
//! non-create rows, and the status its apply moves it through.

use numberpool_domain::import::{FileFormat, ImportAction, ImportStatus};
use numberpool_domain::{AccountId, ImportId, JobId};

use crate::rows::Arg::{Int, OptText, Text};
use crate::rows::parse;
use crate::{ConnRef, Reader, Result, StoreError, Tx, get_by_id, on_conn, one_row};

const COLUMNS: &str = "id, account_id, created_by, action, format, file_name, file_sha256, \
    options, plan_digest, total_rows, creates, updates, deletes, unchanged, rejected, rows, \
    status, job_id, error, created_at, updated_at, version";

/// An import as stored, without its file (see [`Reader::import_file`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    pub id: ImportId,
    pub account_id: AccountId,
    pub created_by: String,
    pub action: ImportAction,
    pub format: FileFormat,
    pub file_name: String,
    pub file_sha256: String,
    pub options: serde_json::Value,
    pub plan_digest: String,
    pub counts: ImportCounts,
    /// The plan's rows other than plain creates (JSON array).
    pub rows: serde_json::Value,
    pub status: ImportStatus,
    pub job_id: Option<JobId>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// How many rows of a plan do what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// Data rows in the file (blank rows are not counted).
    pub total: i64,
    pub creates: i64,
    pub updates: i64,
    pub deletes: i64,
    /// Update rows that change nothing.
    pub unchanged: i64,
    pub rejected: i64,
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: String,
    account_id: String,
    created_by: String,
    action: String,
    format: String,
    file_name: String,
    file_sha256: String,
    options: String,
    plan_digest: String,
    total_rows: i64,
    creates: i64,
    updates: i64,
    deletes: i64,
    unchanged: i64,
    rejected: i64,
    rows: String,
    status: String,
    job_id: Option<String>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl ImportRow {
    fn into_domain(self) -> Result<ImportRecord> {
        let json = |what: &str, s: &str| {
            serde_json::from_str(s)
                .map_err(|e| crate::StoreError::Corrupt(format!("import {what}: {e}")))
        };
        Ok(ImportRecord {
            id: parse("import id", &self.id)?,
            account_id: parse("account id", &self.account_id)?,
            created_by: self.created_by,
            action: parse("import action", &self.action)?,
            format: parse("import format", &self.format)?,
            file_name: self.file_name,
            file_sha256: self.file_sha256,
            options: json("options", &self.options)?,
            plan_digest: self.plan_digest,
            counts: ImportCounts {
                total: self.total_rows,
                creates: self.creates,
                updates: self.updates,
                deletes: self.deletes,
                unchanged: self.unchanged,
                rejected: self.rejected,
            },
            rows: json("rows", &self.rows)?,
            status: parse("import status", &self.status)?,
            job_id: self
                .job_id
                .as_deref()
                .map(|j| parse("job id", j))
                .transpose()?,
            error: self.error,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// The size of the pieces an import's file and parsed numbers are kept in.
const CHUNK: usize = 1 << 20;

/// What an import keeps in `import_chunks`: the uploaded file, and an add plan's parsed
/// numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPart {
    File,
    Parsed,
}

impl ImportPart {
    fn as_str(self) -> &'static str {
        match self {
            ImportPart::File => "file",
            ImportPart::Parsed => "parsed",
        }
    }
}

impl Reader {
    get_by_id!(get_import(ImportId) -> ImportRecord: "imports", COLUMNS, ImportRow::into_domain);

    /// The bytes of the import's file, exactly as uploaded.
    pub async fn import_file(&mut self, id: ImportId) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.import_part(id, ImportPart::File).await? {
            return Ok(Some(bytes));
        }
        // An import kept before its file went in pieces (or an empty file).
        let row: Option<(Vec<u8>,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT file FROM imports WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// One part of an import put back together, a piece at a time (so that no more than one
    /// piece is held twice); `None` when it has no pieces.
    async fn import_part(&mut self, id: ImportId, part: ImportPart) -> Result<Option<Vec<u8>>> {
        let pieces = self.import_pieces(id, part).await?;
        if pieces.is_empty() {
            return Ok(None);
        }
        let total: i64 = pieces.iter().map(|(_, n)| n).sum();
        let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for (seq, _) in pieces {
            out.extend_from_slice(&self.import_piece(id, part, seq).await?);
        }
        Ok(Some(out))
    }

    /// The pieces an import's `part` is kept in: each one's sequence number and size, in
    /// order; empty when it has none.
    pub async fn import_pieces(
        &mut self,
        id: ImportId,
        part: ImportPart,
    ) -> Result<Vec<(i32, i64)>> {
        let (id, part) = (id.to_string(), part.as_str());
        Ok(on_conn!(self, c => {
            sqlx::query_as(
                "SELECT seq, CAST(length(data) AS BIGINT) FROM import_chunks \
                 WHERE import_id = $1 AND part = $2 ORDER BY seq",
            )
            .bind(&id)
            .bind(part)
            .fetch_all(&mut *c)
            .await?
        }))
    }

    /// One piece of an import's `part` (see [`Reader::import_pieces`]).
    pub async fn import_piece(
        &mut self,
        id: ImportId,
        part: ImportPart,
        seq: i32,
    ) -> Result<Vec<u8>> {
        let (id, part) = (id.to_string(), part.as_str());
        let row: Option<(Vec<u8>,)> = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT data FROM import_chunks WHERE import_id = $1 AND part = $2 AND seq = $3",
            )
            .bind(&id)
            .bind(part)
            .bind(seq)
            .fetch_optional(&mut *c)
            .await?
        });
        row.map(|r| r.0).ok_or_else(|| {
            StoreError::Corrupt(format!("import {id}: piece {seq} of its {part} is missing"))
        })
    }

    /// An account's imports, newest first, at most `limit`.
    pub async fn list_imports(
        &mut self,
        account: AccountId,
        limit: i64,
    ) -> Result<Vec<ImportRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM imports WHERE account_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let account = account.to_string();
        self.rows_with(&sql, &[Text(&account), Int(limit)], ImportRow::into_domain)
            .await
    }
}

impl Tx {
    /// Stores a new import (status `planned`, version 1).
    /// The file and `parsed` (an add file's numbers as planned) go in pieces (see the
    /// migration `0014_import_parsed`).
    pub async fn insert_import(
        &mut self,
        r: &ImportRecord,
        file: &[u8],
        file_cuts: Option<&[usize]>,
        parsed: Option<&[u8]>,
    ) -> Result<()> {
        let sql = format!(
            "INSERT INTO imports ({COLUMNS}, file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
        );
        let c = &r.counts;
        on_conn!(self, conn => {
            sqlx::query(&sql)
                .bind(r.id.to_string())
                .bind(r.account_id.to_string())
                .bind(&r.created_by)
                .bind(r.action.as_str())
                .bind(r.format.as_str())
                .bind(&r.file_name)
                .bind(&r.file_sha256)
                .bind(r.options.to_string())
                .bind(&r.plan_digest)
                .bind(c.total)
                .bind(c.creates)
                .bind(c.updates)
                .bind(c.deletes)
                .bind(c.unchanged)
                .bind(c.rejected)
                .bind(r.rows.to_string())
                .bind(r.status.as_str())
                .bind(r.job_id.map(|j| j.to_string()))
                .bind(&r.error)
                .bind(r.created_at)
                .bind(r.updated_at)
                .bind(r.version)
                .bind(&[] as &[u8])
                .execute(&mut *conn)
                .await?;
        });
        // Each piece is written once and not read again in this transaction, so on SQLite the
        // pieces go through a 2 MiB page cache: at the pooled connection's 32 MiB, a million-row
        // add's 36 MB of pieces filled the whole cache and made the import's peak memory grow
        // with the file (docs/PERFORMANCE.md). The pooled size is put back either way.
        let small = matches!(self.connection(), ConnRef::Sqlite(_));
        if small {
            self.sqlite_cache_size("-2048").await?;
        }
        let stored = self
            .insert_import_parts(r.id, file, file_cuts, parsed)
            .await;
        let restored = if small {
            self.sqlite_cache_size(crate::SQLITE_CACHE_SIZE).await
        } else {
            Ok(())
        };
        // The pieces' own error first: it is the one that says what went wrong.
        stored.and(restored)
    }

    async fn insert_import_parts(
        &mut self,
        id: ImportId,
        file: &[u8],
        file_cuts: Option<&[usize]>,
        parsed: Option<&[u8]>,
    ) -> Result<()> {
        self.insert_import_part(id, ImportPart::File, file, file_cuts)
            .await?;
        if let Some(parsed) = parsed {
            self.insert_import_part(id, ImportPart::Parsed, parsed, None)
                .await?;
        }
        Ok(())
    }

    /// Sets this SQLite connection's page cache (`PRAGMA cache_size`'s value).
    async fn sqlite_cache_size(&mut self, size: &str) -> Result<()> {
        if let ConnRef::Sqlite(c) = self.connection() {
            sqlx::query(&format!("PRAGMA cache_size = {size}"))
                .execute(&mut *c)
                .await?;
        }
        Ok(())
    }

    /// `bytes` as pieces: cut at `cuts` (increasing offsets where the second piece and each
    /// after it start; none: one piece) when given, else of [`CHUNK`] bytes.
    async fn insert_import_part(
        &mut self,
        id: ImportId,
        part: ImportPart,
        bytes: &[u8],
        cuts: Option<&[usize]>,
    ) -> Result<()> {
        let id = id.to_string();
        // An empty part is one empty piece: kept, not absent (an add plan that accepted no row
        // still has its parsed numbers, none of them).
        let pieces: Vec<&[u8]> = if bytes.is_empty() {
            vec![bytes]
        } else if let Some(cuts) = cuts {
            let mut pieces = Vec::with_capacity(cuts.len() + 1);
            let mut start = 0;
            for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
                let piece = bytes.get(start..cut).ok_or_else(|| {
                    StoreError::Corrupt(format!("import {id}: a cut at {cut} is out of order"))
                })?;
                pieces.push(piece);
                start = cut;
            }
            pieces
        } else {
            bytes.chunks(CHUNK).collect()
        };
        for (seq, piece) in pieces.into_iter().enumerate() {
            let seq = i32::try_from(seq)
                .map_err(|_| crate::StoreError::Corrupt("too many pieces".into()))?;
            on_conn!(self, c => {
                sqlx::query(
                    "INSERT INTO import_chunks (import_id, part, seq, data) VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(part.as_str())
                .bind(seq)
                .bind(piece)
                .execute(&mut *c)
                .await?;
            });
        }
        Ok(())
    }

    /// Compare-and-set of an import's status from `from` at `version`; bumps the version and
    /// names the apply's job when `job` is given. Losing the race (another apply moved it
    /// first) is `Conflict`.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_import_status_cas(
        &mut self,
        id: ImportId,
        version: i64,
        from: ImportStatus,
        to: ImportStatus,
        error: Option<&str>,
        job: Option<JobId>,
        now: i64,
    ) -> Result<()> {
        let sql = "UPDATE imports SET status = $1, error = $2, \
            updated_at = $3, version = version + 1, job_id = COALESCE($7, job_id) \
            WHERE id = $4 AND version = $5 AND status = $6";
        let id = id.to_string();
        let job = job.map(|j| j.to_string());
        let args = [
            Text(to.as_str()),
            OptText(error),
            Int(now),
            Text(&id),
            Int(version),
            Text(from.as_str()),
            OptText(job.as_deref()),
        ];
        one_row(self.execute(sql, &args).await?)
    }
}
