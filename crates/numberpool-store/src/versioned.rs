//! The compare-and-set by `(id, version)` that every versioned row's edit and delete goes
//! through (trunks, carriers, attribute keys, rates, accounts, numbers): the statement is
//! written here once for both backends, and changes exactly one row or is `Conflict`.

use std::borrow::Cow;
use std::fmt::Display;

use crate::{Result, StoreError, Tx, on_conn};

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
