//! Row types as the database returns them, and their parsing back into domain types. A row
//! that does not parse is `StoreError::Corrupt` (ENGINEERING §2.5). Also the way in: [`Arg`]
//! and [`Tx::execute`] for the plain writes that bind a few keys and count the rows changed.

use std::str::FromStr;

use numberpool_domain::*;

use crate::{Result, StoreError, Tx, on_conn};

/// A value a statement binds to its next `$n`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    /// A text that may be `NULL` (an optional filter, `$n IS NULL OR …`).
    OptText(Option<&'a str>),
    Int(i64),
    /// An integer that may be `NULL`.
    OptInt(Option<i64>),
    /// For `INTEGER` columns that may be `NULL`.
    OptInt32(Option<i32>),
    /// For `INTEGER` columns, which PostgreSQL keeps at 32 bits.
    Int32(i32),
    Bool(bool),
}

/// Binds `$args` to `$q` (a `sqlx::query` or `sqlx::query_as`) in order. A macro, not a
/// function, so that inside [`on_conn!`] each arm binds for its own backend's types.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match *a {
                $crate::rows::Arg::Text(v) => q.bind(v),
                $crate::rows::Arg::OptText(v) => q.bind(v),
                $crate::rows::Arg::Int(v) => q.bind(v),
                $crate::rows::Arg::Int32(v) => q.bind(v),
                $crate::rows::Arg::OptInt(v) => q.bind(v),
                $crate::rows::Arg::OptInt32(v) => q.bind(v),
                $crate::rows::Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

impl Tx {
    /// Runs one statement with `args` bound to `$1, $2, …` in order; the rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        self.execute_or(sql, args, StoreError::Db).await
    }

    /// [`Tx::execute`] with the database's refusal mapped by `refused` (an insert's unique
    /// violation is the caller's `Duplicate`, see [`crate::unique_as`]).
    pub(crate) async fn execute_or(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        refused: impl FnOnce(sqlx::Error) -> StoreError,
    ) -> Result<u64> {
        let done = on_conn!(self, c => {
            bind_args!(sqlx::query(sql), args)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        });
        done.map_err(refused)
    }

    /// [`Tx::execute`] for a statement aimed at one row: whether it changed it (`false` when
    /// the row is not there, or its condition no longer holds).
    pub(crate) async fn execute_on_one(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<bool> {
        Ok(self.execute(sql, args).await? == 1)
    }
}

pub(crate) fn corrupt<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn parse<T: FromStr>(what: &str, s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(corrupt(what))
}

pub(crate) fn parse_opt<T: FromStr, S: AsRef<str>>(what: &str, s: Option<S>) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    s.map(|v| parse(what, v.as_ref())).transpose()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub id: String,
    pub name: String,
    pub account_number: String,
    pub kind: String,
    pub status: String,
    pub parent_id: Option<String>,
    pub allow_external_numbers: bool,
    pub created_at: i64,
    pub version: i64,
    pub toll_free_licences: Option<i64>,
    pub contact_center_licences: Option<i64>,
}

impl AccountRow {
    pub fn into_domain(self) -> Result<Account> {
        Ok(Account {
            id: parse("account id", &self.id)?,
            name: self.name,
            account_number: self.account_number,
            kind: parse("account kind", &self.kind)?,
            status: parse("account status", &self.status)?,
            parent_id: parse_opt("parent id", self.parent_id.as_deref())?,
            allow_external_numbers: self.allow_external_numbers,
            created_at: self.created_at,
            version: self.version,
            entitlements: numberpool_domain::Entitlements {
                toll_free: self.toll_free_licences,
                contact_center: self.contact_center_licences,
            },
        })
    }
}

/// The column list of `numbers` up to its reservation columns, then `$tail`.
macro_rules! number_columns {
    ($tail:literal) => {
        concat!(
            "id, e164, country, number_type, fine_type, region_state, city, \
    product, status, position, holder_id, customer_id, allocated_from, owner_id, uploaded_by, \
    assignees, assignee_count, sip_trunk_id, billing_reference, service_info, cap_voice, cap_sms, \
    cap_mms, cap_fax, voice_carrier_id, sms_carrier_id, capacity, voice_direction, messaging, \
    outbound_dialer, outbound_cli_shared, call_purpose, display_name, program_duration, attributes, \
    source, block_id, port_order_id, add_event_id, created_at, updated_at, version",
            $tail
        )
    };
}

/// The column list of `numbers`, in the order of [`NumberRow`]: what every read selects.
pub(crate) const NUMBER_COLUMNS: &str =
    number_columns!(", reservation_id, reserved_for, reserved_until");
/// The columns a bulk insert writes, a prefix of [`NUMBER_COLUMNS`]: an added number holds no
/// reservation, so its reservation columns keep their `NULL` default and cost the insert nothing.
pub(crate) const NUMBER_INSERT_COLUMNS: &str = number_columns!("");
pub(crate) const NUMBER_COLUMN_COUNT: usize = 42;

/// The columns of [`ListingRow`], in its order: what the list and consolidated exports write.
pub(crate) const LISTING_COLUMNS: &str = "id, e164, country, number_type, fine_type, product, \
    status, position, holder_id, customer_id, owner_id, assignees, sip_trunk_id, \
    billing_reference, source, created_at";

/// A number's [`LISTING_COLUMNS`]; also read from a JSON array of them ([`crate::RawPage`]).
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct ListingRow {
    pub id: String,
    pub e164: String,
    pub country: String,
    pub number_type: String,
    pub fine_type: String,
    pub product: String,
    pub status: String,
    pub position: String,
    pub holder_id: String,
    pub customer_id: Option<String>,
    pub owner_id: String,
    pub assignees: String,
    pub sip_trunk_id: Option<String>,
    pub billing_reference: Option<String>,
    pub source: String,
    pub created_at: i64,
}

impl ListingRow {
    pub fn into_domain(self) -> Result<NumberListing> {
        Ok(NumberListing {
            phone_number: E164::from_stored(&self.e164, &self.country, &self.fine_type)
                .map_err(corrupt("e164"))?,
            id: parse("number id", &self.id)?,
            number_type: parse("number type", &self.number_type)?,
            product: parse("product", &self.product)?,
            status: parse("status", &self.status)?,
            position: parse("position", &self.position)?,
            holder_id: parse("holder", &self.holder_id)?,
            customer_id: parse_opt("customer", self.customer_id.as_deref())?,
            owner_id: parse("owner", &self.owner_id)?,
            assignees: serde_json::from_str(&self.assignees).map_err(corrupt("assignees"))?,
            sip_trunk_id: parse_opt("sip trunk", self.sip_trunk_id.as_deref())?,
            billing_reference: self.billing_reference,
            source: self.source,
            created_at: self.created_at,
        })
    }
}

/// A boolean column read from JSON: `true`/`false`, or SQLite's 0/1.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a boolean, or 0 or 1")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<bool, E> {
            Ok(v != 0)
        }
    }
    d.deserialize_any(Flag)
}

/// A number's columns; also read from a JSON array of them in [`NUMBER_COLUMNS`] order (the
/// export path, [`crate::RawPage`], and SQLite's list pages and one-number reads). `S` is what
/// an id or a stored word is read as: a `String` from the driver, or a `&str` borrowed from the
/// JSON text, which they never need escapes in (a list page decoded 24 strings a row only to
/// parse them into ids and words: docs/PERFORMANCE.md, issue 16).
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct NumberRowOf<S> {
    pub id: S,
    pub e164: S,
    pub country: S,
    pub number_type: S,
    pub fine_type: S,
    pub region_state: Option<String>,
    pub city: Option<String>,
    pub product: S,
    pub status: S,
    pub position: S,
    pub holder_id: S,
    pub customer_id: Option<S>,
    pub allocated_from: Option<S>,
    pub owner_id: S,
    pub uploaded_by: S,
    pub assignees: String,
    pub assignee_count: i64,
    pub sip_trunk_id: Option<S>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    #[serde(deserialize_with = "flag")]
    pub cap_voice: bool,
    #[serde(deserialize_with = "flag")]
    pub cap_sms: bool,
    #[serde(deserialize_with = "flag")]
    pub cap_mms: bool,
    #[serde(deserialize_with = "flag")]
    pub cap_fax: bool,
    pub voice_carrier_id: Option<S>,
    pub sms_carrier_id: Option<S>,
    pub capacity: S,
    pub voice_direction: S,
    pub messaging: S,
    #[serde(deserialize_with = "flag")]
    pub outbound_dialer: bool,
    #[serde(deserialize_with = "flag")]
    pub outbound_cli_shared: bool,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    pub program_duration: Option<String>,
    pub attributes: String,
    pub source: String,
    pub block_id: Option<S>,
    pub port_order_id: Option<S>,
    pub add_event_id: Option<S>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    #[serde(default)]
    pub reservation_id: Option<S>,
    #[serde(default)]
    pub reserved_for: Option<S>,
    #[serde(default)]
    pub reserved_until: Option<i64>,
}

/// [`NumberRowOf`] as the driver decodes it.
pub(crate) type NumberRow = NumberRowOf<String>;

impl<S: AsRef<str>> NumberRowOf<S> {
    pub fn into_domain(self) -> Result<Number> {
        // What `E164::parse` found when the number was written, checked for shape and for a
        // country whose calling code the number has (not parsed again: see `from_stored`).
        let phone_number = E164::from_stored(
            self.e164.as_ref(),
            self.country.as_ref(),
            self.fine_type.as_ref(),
        )
        .map_err(corrupt("e164"))?;
        let assignees: Vec<Assignee> =
            serde_json::from_str(&self.assignees).map_err(corrupt("assignees"))?;
        if i64::try_from(assignees.len()).ok() != Some(self.assignee_count) {
            return Err(StoreError::Corrupt(format!(
                "{}: assignee count",
                self.e164.as_ref()
            )));
        }
        Ok(Number {
            id: parse("number id", self.id.as_ref())?,
            number_type: parse("number type", self.number_type.as_ref())?,
            fine_type: parse("fine type", self.fine_type.as_ref())?,
            phone_number,
            region_state: self.region_state,
            city: self.city,
            product: parse("product", self.product.as_ref())?,
            status: parse("status", self.status.as_ref())?,
            position: parse("position", self.position.as_ref())?,
            holder_id: parse("holder", self.holder_id.as_ref())?,
            customer_id: parse_opt("customer", self.customer_id.as_ref())?,
            allocated_from: parse_opt("allocated_from", self.allocated_from.as_ref())?,
            owner_id: parse("owner", self.owner_id.as_ref())?,
            uploaded_by: parse("uploaded_by", self.uploaded_by.as_ref())?,
            assignees,
            sip_trunk_id: parse_opt("sip trunk", self.sip_trunk_id.as_ref())?,
            billing_reference: self.billing_reference,
            service_info: self.service_info,
            capabilities: Capabilities {
                voice: self.cap_voice,
                sms: self.cap_sms,
                mms: self.cap_mms,
                fax: self.cap_fax,
            },
            voice_carrier_id: parse_opt("voice carrier", self.voice_carrier_id.as_ref())?,
            sms_carrier_id: parse_opt("sms carrier", self.sms_carrier_id.as_ref())?,
            customization: Customization {
                capacity: parse("capacity", self.capacity.as_ref())?,
                voice_direction: parse("voice direction", self.voice_direction.as_ref())?,
                messaging: parse("messaging", self.messaging.as_ref())?,
                outbound_dialer: self.outbound_dialer,
                outbound_cli_shared: self.outbound_cli_shared,
            },
            call_purpose: self.call_purpose,
            display_name: self.display_name,
            program_duration: self.program_duration,
            attributes: serde_json::from_str(&self.attributes).map_err(corrupt("attributes"))?,
            source: self.source,
            block_id: parse_opt("block id", self.block_id.as_ref())?,
            reservation: match (self.reservation_id, self.reserved_for, self.reserved_until) {
                (Some(id), Some(for_account), Some(until)) => Some(Held {
                    reservation_id: parse("reservation id", id.as_ref())?,
                    for_account: parse("account id", for_account.as_ref())?,
                    until,
                }),
                (None, None, None) => None,
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "{}: reservation",
                        self.e164.as_ref()
                    )));
                }
            },
            port_order_id: parse_opt("porting order id", self.port_order_id.as_ref())?,
            add_event_id: parse_opt("add event id", self.add_event_id.as_ref())?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}
