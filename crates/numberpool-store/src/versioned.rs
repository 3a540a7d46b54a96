//! The compare-and-set by `(id, version)` that every versioned row's edit and delete goes
//! through (trunks, carriers, attribute keys, rates, accounts, numbers): the statement is
//! written here once for both backends, and changes exactly one row or is `Conflict`.

use std::borrow::Cow;
use std::fmt::Display;

use numberpool_domain::{Account, AccountId, Attribute, Carrier, Rate, SipTrunk, now_ms};

use crate::rows::Arg;
use crate::{Result, StoreError, Tx, on_conn};

/// A record whose edits are a compare-and-set on its `version` (see [`Tx::update_record`]).
pub(crate) trait Versioned: Clone {
    fn id_text(&self) -> String;
    fn version(&self) -> i64;
    /// The record as it is once an edit has been written: one version on.
    fn bumped(&self) -> Self;
}

macro_rules! versioned {
    ($($t:ty),+) => {$(
        impl Versioned for $t {
            fn id_text(&self) -> String {
                self.id.to_string()
            }
            fn version(&self) -> i64 {
                self.version
            }
            fn bumped(&self) -> Self {
                Self { version: self.version + 1, ..self.clone() }
            }
        }
    )+};
}

versioned!(SipTrunk, Carrier, Attribute, Rate, Account);

/// A value an edit writes to a column.
pub(crate) enum Value<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    /// `NULL` for `None`.
    OptInt(Option<i64>),
    Bool(bool),
}

impl<'a> Value<'a> {
    pub(crate) fn text(s: &'a str) -> Self {
        Value::Text(Cow::Borrowed(s))
    }
}

/// What a refused statement means for a table: `Db` unless the table says otherwise (a taken
/// name, a foreign key that still points at the row).
pub(crate) type Refused = fn(sqlx::Error) -> StoreError;

impl Tx {
    /// `UPDATE table SET columns…, version = version + 1 WHERE id = … AND version = …`: writes
    /// `columns` only if the row is still at `version`.
    pub(crate) async fn update_versioned(
        &mut self,
        table: &str,
        id: impl Display,
        version: i64,
        columns: &[(&str, Value<'_>)],
        refused: Refused,
    ) -> Result<()> {
        let set: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = ${}", i + 1))
            .collect();
        let sql = format!(
            "UPDATE {table} SET {}, version = version + 1 WHERE id = ${} AND version = ${}",
            set.join(", "),
            columns.len() + 1,
            columns.len() + 2
        );
        let values = columns.iter().map(|(_, v)| v);
        self.change_one(&sql, values, id, version, refused).await
    }

    /// Inserts a provider's setting (trunk, carrier, attribute key, rate): its `id`, the
    /// `provider_id`, the `columns` given and `created_at` now, in one statement written here
    /// for all four; `refused` says what a unique index's refusal means.
    pub(crate) async fn insert_setting(
        &mut self,
        table: &str,
        id: impl Display,
        provider: AccountId,
        columns: &[(&str, Arg<'_>)],
        refused: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> Result<()> {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let marks: Vec<String> = (3..columns.len() + 4).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {table} (id, provider_id, {}, created_at) VALUES ($1, $2, {})",
            names.join(", "),
            marks.join(", ")
        );
        let (id, provider) = (id.to_string(), provider.to_string());
        let mut args = vec![Arg::Text(&id), Arg::Text(&provider)];
        args.extend(columns.iter().map(|(_, a)| *a));
        args.push(Arg::Int(now_ms()));
        self.execute_or(&sql, &args, refused).await?;
        Ok(())
    }

    /// [`Tx::update_versioned`] of `next`'s `columns`, at the version `next` was read at;
    /// `next` as stored after it.
    pub(crate) async fn update_record<T: Versioned>(
        &mut self,
        table: &str,
        next: &T,
        columns: &[(&str, Value<'_>)],
        refused: Refused,
    ) -> Result<T> {
        self.update_versioned(table, next.id_text(), next.version(), columns, refused)
            .await?;
        Ok(next.bumped())
    }

    /// `DELETE FROM table WHERE id = … AND version = …`: deletes the row only if it is still
    /// at `version`.
    pub(crate) async fn delete_versioned(
        &mut self,
        table: &str,
        id: impl Display,
        version: i64,
        refused: Refused,
    ) -> Result<()> {
        let sql = format!("DELETE FROM {table} WHERE id = $1 AND version = $2");
        self.change_one(&sql, [], id, version, refused).await
    }

    /// Runs `sql` with `values`, then the row's id and version, bound in that order.
    async fn change_one<'v>(
        &mut self,
        sql: &str,
        values: impl IntoIterator<Item = &'v Value<'v>>,
        id: impl Display,
        version: i64,
        refused: Refused,
    ) -> Result<()> {
        let id = id.to_string();
        let n = on_conn!(self, c => {
            let mut q = sqlx::query(sql);
            for v in values {
                q = match v {
                    Value::Text(s) => q.bind(s.as_ref()),
                    Value::Int(i) => q.bind(*i),
                    Value::OptInt(i) => q.bind(*i),
                    Value::Bool(b) => q.bind(*b),
                };
            }
            q.bind(&id)
                .bind(version)
                .execute(&mut *c)
                .await
                .map_err(refused)?
                .rows_affected()
        });
        crate::one_row(n)
    }
}
