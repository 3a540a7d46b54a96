//! The per-holder number counts (`number_counts`, migration 0025): what `total_records` and the
//! inventory sum over instead of counting the numbers table. Updates and deletes are followed by
//! triggers; the bulk insert adds its grouped counts here, at commit; and the check compares the
//! table with a full count of the numbers.

use std::collections::BTreeMap;

use numberpool_domain::Number;
use serde::Serialize;

use crate::{Reader, Result, Tx, on_conn};

/// A number's place in `number_counts`: holder, owner, customer (`""` for none), stored
/// position, whether it has an assignee, status, product, type and country, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CountKey {
    pub holder_id: String,
    pub owner_id: String,
    pub customer_id: String,
    pub position: String,
    pub assigned: bool,
    pub status: String,
    pub product: String,
    pub number_type: String,
    pub country: String,
}

impl CountKey {
    fn of(n: &Number) -> CountKey {
        CountKey {
            holder_id: n.holder_id.to_string(),
            owner_id: n.owner_id.to_string(),
            customer_id: n.customer_id.map(|c| c.to_string()).unwrap_or_default(),
            position: n.position.as_str().to_string(),
            assigned: !n.assignees.is_empty(),
            status: n.status.as_str().to_string(),
            product: n.product.as_str().to_string(),
            number_type: n.number_type.as_str().to_string(),
            country: n.phone_number.country().as_str().to_string(),
        }
    }
}

/// A group whose stored count differs from the numbers table's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountMismatch {
    pub key: CountKey,
    pub stored: i64,
    pub counted: i64,
}

/// The key columns, in the table's order; `assigned` is stored as 0 or 1.
const KEY_COLUMNS: &str = "holder_id, owner_id, customer_id, position, assigned, status, product, \
    number_type, country";

/// The same key computed from a `numbers` row.
const KEY_OF_NUMBER: &str = "holder_id, owner_id, COALESCE(customer_id, ''), position, \
    CASE WHEN assignee_count > 0 THEN 1 ELSE 0 END, status, product, number_type, country";

/// [`KEY_OF_NUMBER`] with `assigned` as a `BIGINT`, as the check reads it from both tables.
const KEY_OF_NUMBER_BIGINT: &str = "holder_id, owner_id, COALESCE(customer_id, ''), position, \
    CAST(CASE WHEN assignee_count > 0 THEN 1 ELSE 0 END AS BIGINT), status, product, \
    number_type, country";

/// A row of the check: a group, from the table (`side` 0) or from the numbers (1).
#[derive(sqlx::FromRow)]
struct CheckRow {
    side: i32,
    holder_id: String,
    owner_id: String,
    customer_id: String,
    position: String,
    assigned: i64,
    status: String,
    product: String,
    number_type: String,
    country: String,
    n: i64,
}

impl Tx {
    /// Adds inserted numbers to the counts, grouped: a 10,000-number add is a handful of rows.
    /// SQLite writes them at once (one transaction writes at a time there). PostgreSQL keeps
    /// them until the commit, or until this transaction next reads a count, and writes them
    /// then, under the outbox lock (see migration 0025): a long add (a million-row import is
    /// one transaction) must not hold that lock, which every writer takes, from its first
    /// slice on.
    pub(crate) async fn count_inserted(&mut self, numbers: &[Number]) -> Result<()> {
        for n in numbers {
            *self
                .inner
                .pending_counts
                .entry(CountKey::of(n))
                .or_default() += 1;
        }
        if self.backend() == crate::Backend::Sqlite {
            self.inner.flush_counts().await?;
        }
        Ok(())
    }
}

impl Reader {
    /// Writes the counts this handle's transaction kept back ([`Tx::count_inserted`]); nothing
    /// on a read handle.
    pub(crate) async fn flush_counts(&mut self) -> Result<()> {
        if self.pending_counts.is_empty() {
            return Ok(());
        }
        let groups: Vec<(CountKey, i64)> = std::mem::take(&mut self.pending_counts)
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .collect();
        crate::per_backend!(self, c =>
            sqlite: {
                // Ten binds a group; SQLite allows 32,766.
                for chunk in groups.chunks(1000) {
                    let mut q = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO number_counts ({KEY_COLUMNS}, n) "
                    ));
                    q.push_values(chunk, |mut b, (k, n)| {
                        b.push_bind(&k.holder_id)
                            .push_bind(&k.owner_id)
                            .push_bind(&k.customer_id)
                            .push_bind(&k.position)
                            .push_bind(i64::from(k.assigned))
                            .push_bind(&k.status)
                            .push_bind(&k.product)
                            .push_bind(&k.number_type)
                            .push_bind(&k.country)
                            .push_bind(*n);
                    });
                    q.push(" ON CONFLICT DO UPDATE SET n = n + excluded.n");
                    q.build().execute(&mut *c).await?;
                }
            },
            postgres: {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(crate::outbox::OUTBOX_LOCK)
                    .execute(&mut *c)
                    .await?;
                let col = |f: &dyn Fn(&CountKey) -> String| -> Vec<String> {
                    groups.iter().map(|(k, _)| f(k)).collect()
                };
                let sql = format!(
                    "INSERT INTO number_counts ({KEY_COLUMNS}, n) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::smallint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[]) \
                     ON CONFLICT ({KEY_COLUMNS}) DO UPDATE SET n = number_counts.n + EXCLUDED.n"
                );
                sqlx::query(&sql)
                    .bind(col(&|k| k.holder_id.clone()))
                    .bind(col(&|k| k.owner_id.clone()))
                    .bind(col(&|k| k.customer_id.clone()))
                    .bind(col(&|k| k.position.clone()))
                    .bind(groups.iter().map(|(k, _)| i16::from(k.assigned)).collect::<Vec<_>>())
                    .bind(col(&|k| k.status.clone()))
                    .bind(col(&|k| k.product.clone()))
                    .bind(col(&|k| k.number_type.clone()))
                    .bind(col(&|k| k.country.clone()))
                    .bind(groups.iter().map(|(_, n)| *n).collect::<Vec<_>>())
                    .execute(&mut *c)
                    .await?;
            },
        );
        Ok(())
    }
}

impl Tx {
    /// Rewrites `number_counts` from a full count of the numbers table, in this transaction
    /// (`numberpool check --repair`). On PostgreSQL under the outbox lock, like every other
    /// counter write.
    pub async fn rebuild_counts(&mut self) -> Result<u64> {
        if self.backend() == crate::Backend::Postgres {
            on_conn!(self, c => {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(crate::outbox::OUTBOX_LOCK)
                    .execute(&mut *c)
                    .await?;
            });
        }
        self.inner.pending_counts.clear();
        self.execute("DELETE FROM number_counts", &[]).await?;
        let sql = format!(
            "INSERT INTO number_counts ({KEY_COLUMNS}, n) SELECT {KEY_OF_NUMBER}, COUNT(*) \
             FROM numbers GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
        );
        self.execute(&sql, &[]).await
    }
}

impl Reader {
    /// Every group where `number_counts` disagrees with a full count of the numbers table
    /// (zero rows kept in the table agree with a group that has no numbers). Reads the whole
    /// table: for `numberpool check`, not for requests. Both sides come from one statement, so
    /// from one snapshot.
    pub async fn check_counts(&mut self) -> Result<Vec<CountMismatch>> {
        self.flush_counts().await?;
        let sql = format!(
            "SELECT 0 AS side, holder_id, owner_id, customer_id, position, \
             CAST(assigned AS BIGINT) AS assigned, status, product, number_type, country, n \
             FROM number_counts \
             UNION ALL SELECT 1, {KEY_OF_NUMBER_BIGINT}, COUNT(*) FROM numbers \
             GROUP BY 2, 3, 4, 5, 6, 7, 8, 9, 10"
        );
        let rows: Vec<CheckRow> =
            on_conn!(self, c => { sqlx::query_as(&sql).fetch_all(&mut *c).await? });
        let mut both: BTreeMap<CountKey, (i64, i64)> = BTreeMap::new();
        for r in rows {
            let key = CountKey {
                holder_id: r.holder_id,
                owner_id: r.owner_id,
                customer_id: r.customer_id,
                position: r.position,
                assigned: r.assigned != 0,
                status: r.status,
                product: r.product,
                number_type: r.number_type,
                country: r.country,
            };
            let e = both.entry(key).or_default();
            if r.side == 0 {
                e.0 += r.n;
            } else {
                e.1 += r.n;
            }
        }
        Ok(both
            .into_iter()
            .filter(|(_, (stored, counted))| stored != counted)
            .map(|(key, (stored, counted))| CountMismatch {
                key,
                stored,
                counted,
            })
            .collect())
    }
}
