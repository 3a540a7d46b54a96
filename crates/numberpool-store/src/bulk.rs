//! The bulk insert of numbers: the values that differ per row travel as one JSON array unpacked
//! by `json_each` (SQLite) or as arrays through `UNNEST` (PostgreSQL), the ones every row shares
//! are bound once (see ARCHITECTURE.md, "Bulk inserts bind what differs").

use std::borrow::Cow;

use numberpool_domain::Number;

use crate::rows::{NUMBER_COLUMN_COUNT, NUMBER_INSERT_COLUMNS};
use crate::{Backend, Result, StoreError, Tx, on_conn};

/// One value of a `numbers` row, for the bulk insert paths. Text borrows from the number where
/// it can: a 10,000-row add otherwise spends its time allocating 420,000 strings.
#[derive(PartialEq)]
enum Cell<'a> {
    Text(Option<Cow<'a, str>>),
    Int(i64),
    Bool(bool),
}

/// A number as the values of [`NUMBER_INSERT_COLUMNS`], in order.
fn number_cells<'a>(n: &'a Number) -> [Cell<'a>; NUMBER_COLUMN_COUNT] {
    use Cell::{Bool, Int, Text};
    let b = |s: &'static str| Text(Some(Cow::Borrowed(s)));
    fn r(s: Option<&str>) -> Cell<'_> {
        Cell::Text(s.map(Cow::Borrowed))
    }
    let id = |s: Option<String>| Text(s.map(Cow::Owned));
    let json = |empty: bool, s: &dyn Fn() -> String, none: &'static str| {
        Text(Some(if empty {
            Cow::Borrowed(none)
        } else {
            Cow::Owned(s())
        }))
    };
    [
        id(Some(n.id.to_string())),
        r(Some(n.phone_number.as_str())),
        id(Some(n.phone_number.country().as_str())),
        b(n.number_type.as_str()),
        b(n.fine_type.as_str()),
        r(n.region_state.as_deref()),
        r(n.city.as_deref()),
        b(n.product.as_str()),
        b(n.status.as_str()),
        b(n.position.as_str()),
        id(Some(n.holder_id.to_string())),
        id(n.customer_id.map(|x| x.to_string())),
        id(n.allocated_from.map(|x| x.to_string())),
        id(Some(n.owner_id.to_string())),
        id(Some(n.uploaded_by.to_string())),
        json(
            n.assignees.is_empty(),
            &|| serde_json::to_string(&n.assignees).unwrap_or_else(|_| "[]".into()),
            "[]",
        ),
        Int(n.assignees.len() as i64),
        id(n.sip_trunk_id.map(|x| x.to_string())),
        r(n.billing_reference.as_deref()),
        r(n.service_info.as_deref()),
        Bool(n.capabilities.voice),
        Bool(n.capabilities.sms),
        Bool(n.capabilities.mms),
        Bool(n.capabilities.fax),
        id(n.voice_carrier_id.map(|x| x.to_string())),
        id(n.sms_carrier_id.map(|x| x.to_string())),
        b(n.customization.capacity.as_str()),
        b(n.customization.voice_direction.as_str()),
        b(n.customization.messaging.as_str()),
        Bool(n.customization.outbound_dialer),
        Bool(n.customization.outbound_cli_shared),
        r(n.call_purpose.as_deref()),
        r(n.display_name.as_deref()),
        r(n.program_duration.as_deref()),
        json(
            n.attributes.is_empty(),
            &|| serde_json::to_string(&n.attributes).unwrap_or_else(|_| "{}".into()),
            "{}",
        ),
        r(Some(n.source.as_str())),
        id(n.block_id.map(|x| x.to_string())),
        id(n.port_order_id.map(|x| x.to_string())),
        id(n.add_event_id.map(|x| x.to_string())),
        Int(n.created_at),
        Int(n.updated_at),
        Int(n.version),
    ]
}

/// PostgreSQL: the whole batch in one `INSERT … SELECT … FROM UNNEST(arrays)`: columns that
/// are the same in every row are bound once as scalars, the others as one array each, so a bulk
/// add sends a handful of arrays instead of 42 values per row.
async fn insert_numbers_pg(c: &mut sqlx::PgConnection, numbers: &[Number]) -> sqlx::Result<()> {
    let rows: Vec<[Cell<'_>; NUMBER_COLUMN_COUNT]> = numbers.iter().map(number_cells).collect();
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let constant = constant_columns(&rows);
    let pg_type = |cell: &Cell<'_>| match cell {
        Cell::Text(_) => "text",
        Cell::Int(_) => "bigint",
        Cell::Bool(_) => "boolean",
    };
    let mut select = Vec::with_capacity(NUMBER_COLUMN_COUNT);
    let mut arrays = Vec::new();
    let mut names = Vec::new();
    for (j, cell) in first.iter().enumerate() {
        if constant[j] {
            select.push(format!("${}::{}", j + 1, pg_type(cell)));
        } else {
            let p = NUMBER_COLUMN_COUNT + arrays.len() + 1;
            arrays.push(format!("${p}::{}[]", pg_type(cell)));
            names.push(format!("c{j}"));
            select.push(format!("u.c{j}"));
        }
    }
    let sql = if arrays.is_empty() {
        format!(
            "INSERT INTO numbers ({NUMBER_INSERT_COLUMNS}) SELECT {}",
            select.join(", ")
        )
    } else {
        format!(
            "INSERT INTO numbers ({NUMBER_INSERT_COLUMNS}) SELECT {} FROM UNNEST({}) AS u({})",
            select.join(", "),
            arrays.join(", "),
            names.join(", ")
        )
    };
    let mut q = sqlx::query::<sqlx::Postgres>(&sql);
    // $1..$42: the first row's cells (only the constant ones are referenced; PostgreSQL needs
    // every number up to the highest bound, and the casts above give each its type).
    for cell in first {
        q = match cell {
            Cell::Text(v) => q.bind(v.as_ref().map(|t| t.to_string())),
            Cell::Int(v) => q.bind(*v),
            Cell::Bool(v) => q.bind(*v),
        };
    }
    for (j, cell) in first.iter().enumerate() {
        if constant[j] {
            continue;
        }
        q = match cell {
            Cell::Text(_) => q.bind(
                rows.iter()
                    .map(|r| match &r[j] {
                        Cell::Text(v) => v.as_ref().map(|t| t.to_string()),
                        Cell::Int(_) | Cell::Bool(_) => None,
                    })
                    .collect::<Vec<Option<String>>>(),
            ),
            Cell::Int(_) => q.bind(
                rows.iter()
                    .map(|r| match &r[j] {
                        Cell::Int(v) => *v,
                        Cell::Text(_) | Cell::Bool(_) => 0,
                    })
                    .collect::<Vec<i64>>(),
            ),
            Cell::Bool(_) => q.bind(
                rows.iter()
                    .map(|r| match &r[j] {
                        Cell::Bool(v) => *v,
                        Cell::Text(_) | Cell::Int(_) => false,
                    })
                    .collect::<Vec<bool>>(),
            ),
        };
    }
    q.execute(c).await.map(|_| ())
}

/// Which columns hold the same value in every row: those are bound once per statement
/// instead of once per row (a bulk add shares holder, owner, product, status, settings, times).
fn constant_columns(rows: &[[Cell<'_>; NUMBER_COLUMN_COUNT]]) -> [bool; NUMBER_COLUMN_COUNT] {
    let mut constant = [true; NUMBER_COLUMN_COUNT];
    if let Some((first, rest)) = rows.split_first() {
        for row in rest {
            for (j, c) in constant.iter_mut().enumerate() {
                *c = *c && row[j] == first[j];
            }
        }
    }
    constant
}

/// A batch of numbers made ready for [`Tx::insert_prepared`] on any thread. On SQLite that is
/// the whole statement with its values: CPU work the connection otherwise waits for, which a
/// bulk add (an add file's slices) does for the next batch while the connection inserts this
/// one. PostgreSQL builds its arrays as it inserts.
pub struct PreparedNumbers {
    backend: Backend,
    numbers: Vec<Number>,
    sqlite: Option<SqliteBatch>,
}

impl PreparedNumbers {
    /// `numbers`, in the order they go in, made ready for a transaction on `backend`.
    pub fn of(backend: Backend, numbers: Vec<Number>) -> Result<Self> {
        let sqlite = match backend {
            Backend::Sqlite => sqlite_batch(&numbers).map_err(StoreError::Db)?,
            Backend::Postgres => None,
        };
        Ok(PreparedNumbers {
            backend,
            numbers,
            sqlite,
        })
    }

    pub fn numbers(&self) -> &[Number] {
        &self.numbers
    }
}

/// A value of the first row, kept for binding after the row's borrowed cells are gone.
enum OwnedCell {
    Text(Option<String>),
    Int(i64),
    Bool(bool),
}

/// SQLite's two statements for a batch, with their values (see [`sqlite_batch`]).
struct SqliteBatch {
    sql: String,
    /// The first row's cells: `?1`…`?42`, of which the statement uses the shared ones.
    first: Vec<OwnedCell>,
    /// The cells that differ, a JSON array of arrays.
    json: String,
    /// The E.164s, a JSON array, for the search index.
    digits: String,
}

/// SQLite: the columns that are the same in every row are bound once (`?1`…`?42`, a bulk add
/// shares holder, owner, product, status, settings and times); the ones that differ (id, E.164,
/// usually little else) travel as one JSON array unpacked by `json_each`. Binding values through
/// the driver one by one was the dominant cost: 42 per row took ~150 ms for 10,000 rows, and
/// unpacking all 42 columns from JSON was slower still (SQLite re-parses a row per `->>`).
/// `None` for no numbers.
fn sqlite_batch(numbers: &[Number]) -> sqlx::Result<Option<SqliteBatch>> {
    let rows: Vec<[Cell<'_>; NUMBER_COLUMN_COUNT]> = numbers.iter().map(number_cells).collect();
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let constant = constant_columns(&rows);
    let mut k = 0;
    let select: Vec<String> = constant
        .iter()
        .enumerate()
        .map(|(j, is_const)| {
            if *is_const {
                format!("?{}", j + 1)
            } else {
                k += 1;
                format!("value ->> {}", k - 1)
            }
        })
        .collect();
    let json_param = NUMBER_COLUMN_COUNT + 1;
    let sql = format!(
        "INSERT INTO numbers ({NUMBER_INSERT_COLUMNS}) SELECT {} FROM json_each(?{json_param})",
        select.join(", ")
    );
    let mut json: Vec<u8> = Vec::with_capacity(rows.len() * 64);
    json.push(b'[');
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            json.push(b',');
        }
        json.push(b'[');
        let mut sep = false;
        for (j, cell) in row.iter().enumerate() {
            if constant[j] {
                continue;
            }
            if sep {
                json.push(b',');
            }
            sep = true;
            match cell {
                Cell::Text(Some(v)) => {
                    // Escaping a &str into the buffer cannot fail.
                    let _ = serde_json::to_writer(&mut json, v.as_ref());
                }
                Cell::Text(None) => json.extend_from_slice(b"null"),
                Cell::Int(v) => json.extend_from_slice(v.to_string().as_bytes()),
                Cell::Bool(v) => json.push(if *v { b'1' } else { b'0' }),
            }
        }
        json.push(b']');
    }
    json.push(b']');
    // serde_json and the ASCII above only ever write UTF-8.
    let json = String::from_utf8(json).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let first = first
        .iter()
        .map(|cell| match cell {
            Cell::Text(v) => OwnedCell::Text(v.as_ref().map(|t| t.to_string())),
            Cell::Int(v) => OwnedCell::Int(*v),
            Cell::Bool(v) => OwnedCell::Bool(*v),
        })
        .collect();
    let e164s: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    let digits = serde_json::to_string(&e164s).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok(Some(SqliteBatch {
        sql,
        first,
        json,
        digits,
    }))
}

/// SQLite: a batch's rows, then its digits into the available search's trigram table
/// (`number_digits`, migration 0020, where the rowid's formula is explained) in one statement:
/// a trigger per row cost a million-row add a second more.
async fn insert_sqlite_batch(c: &mut sqlx::SqliteConnection, b: &SqliteBatch) -> sqlx::Result<()> {
    let mut q = sqlx::query(&b.sql);
    for cell in &b.first {
        q = match cell {
            OwnedCell::Text(v) => q.bind(v.as_deref()),
            OwnedCell::Int(v) => q.bind(*v),
            OwnedCell::Bool(v) => q.bind(*v),
        };
    }
    q.bind(b.json.as_str()).execute(&mut *c).await?;
    sqlx::query(
        "INSERT INTO number_digits (rowid, digits) \
         SELECT CAST(substr(value, 2) || substr('000000000000000', 1, 16 - length(value)) \
         AS INTEGER) * 16 + (length(value) - 1), substr(value, 2) FROM json_each(?1)",
    )
    .bind(b.digits.as_str())
    .execute(&mut *c)
    .await
    .map(|_| ())
}

impl Tx {
    /// Inserts numbers in a few large statements. A number whose E.164 exists is
    /// `NumberAlreadyExists` naming it; the caller's transaction then rolls back whole.
    pub async fn insert_numbers(&mut self, numbers: &[Number]) -> Result<()> {
        self.insert_batch(numbers, None).await
    }

    /// [`Tx::insert_numbers`] for a batch made ready beforehand ([`PreparedNumbers::of`]).
    pub async fn insert_prepared(&mut self, batch: &PreparedNumbers) -> Result<()> {
        self.insert_batch(&batch.numbers, Some(batch)).await
    }

    async fn insert_batch(
        &mut self,
        numbers: &[Number],
        prepared: Option<&PreparedNumbers>,
    ) -> Result<()> {
        debug_assert_eq!(
            NUMBER_INSERT_COLUMNS.split(',').count(),
            NUMBER_COLUMN_COUNT
        );
        debug_assert!(numbers.iter().all(|n| n.reservation.is_none()));
        // Insert first and look for the culprit only when the unique index objects: the
        // common case pays no existence queries. The savepoint keeps the transaction usable
        // after the failed statement (PostgreSQL aborts the whole transaction otherwise).
        on_conn!(self, c => { sqlx::query("SAVEPOINT bulk_numbers").execute(&mut *c).await?; });
        let res = crate::per_backend!(self, c =>
            sqlite: match prepared {
                Some(p) if p.backend == Backend::Sqlite => match &p.sqlite {
                    Some(b) => insert_sqlite_batch(c, b).await,
                    None => Ok(()),
                },
                _ => match sqlite_batch(numbers) {
                    Ok(Some(b)) => insert_sqlite_batch(c, &b).await,
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                },
            },
            postgres: insert_numbers_pg(c, numbers).await,
        );
        match res {
            Ok(()) => {
                // Counted inside the savepoint: numbers are never in without their counts.
                self.count_inserted(numbers).await?;
                on_conn!(self, c => { sqlx::query("RELEASE SAVEPOINT bulk_numbers").execute(&mut *c).await?; });
                Ok(())
            }
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                on_conn!(self, c => {
                    sqlx::query("ROLLBACK TO SAVEPOINT bulk_numbers").execute(&mut *c).await?;
                });
                let e164s: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
                let existing = self.existing_e164s(&e164s).await?;
                Err(StoreError::NumberAlreadyExists(
                    existing
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| "one of the numbers (given twice)".into()),
                ))
            }
            Err(e) => Err(StoreError::Db(e)),
        }
    }
}
