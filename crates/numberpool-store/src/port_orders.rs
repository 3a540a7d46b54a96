//! Porting orders as rows (SPEC §5): the order with its status and details (the PIN sealed),
//! the numbers it brought onto the platform (through `numbers.port_order_id`), and
//! compare-and-set writes.

use numberpool_domain::porting::{AttachmentKind, BillingAddress, PortOrder};
use numberpool_domain::{AccountId, AttachmentId, Number, PortOrderId};

use crate::rows::Arg::{Int, OptText, Text};
use crate::rows::{NUMBER_COLUMNS, NumberRow, corrupt, parse};
use crate::{Reader, Result, StoreError, Tx, get_by_id, on_conn};

const COLUMNS: &str = "id, pool_id, status, country, phone_numbers, carrier_name, account_number, \
    pin_sealed, pin_hint, authorized_person, billing_address, requested_port_date, \
    scheduled_date, reject_reason, submitted_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct PortOrderRow {
    id: String,
    pool_id: String,
    status: String,
    country: String,
    phone_numbers: String,
    carrier_name: String,
    account_number: String,
    pin_sealed: String,
    pin_hint: String,
    authorized_person: String,
    billing_address: String,
    requested_port_date: String,
    scheduled_date: Option<String>,
    reject_reason: Option<String>,
    submitted_at: i64,
    updated_at: i64,
    version: i64,
}

impl PortOrderRow {
    fn into_domain(self) -> Result<PortOrder> {
        Ok(PortOrder {
            id: parse("porting order id", &self.id)?,
            pool_id: parse("account id", &self.pool_id)?,
            status: parse("porting status", &self.status)?,
            country: self.country,
            phone_numbers: serde_json::from_str(&self.phone_numbers)
                .map_err(corrupt("porting order numbers"))?,
            carrier_name: self.carrier_name,
            account_number: self.account_number,
            pin_sealed: self.pin_sealed,
            pin_hint: self.pin_hint,
            authorized_person: self.authorized_person,
            billing_address: serde_json::from_str::<BillingAddress>(&self.billing_address)
                .map_err(corrupt("billing address"))?,
            requested_port_date: self.requested_port_date,
            scheduled_date: self.scheduled_date,
            reject_reason: self.reject_reason,
            submitted_at: self.submitted_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// A file attached to an order, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortAttachment {
    pub id: AttachmentId,
    pub order_id: PortOrderId,
    pub kind: AttachmentKind,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: i64,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: String,
    order_id: String,
    kind: String,
    file_name: String,
    content_type: String,
    size: i64,
    uploaded_at: i64,
}

impl AttachmentRow {
    fn into_domain(self) -> Result<PortAttachment> {
        Ok(PortAttachment {
            id: parse("attachment id", &self.id)?,
            order_id: parse("porting order id", &self.order_id)?,
            kind: parse("attachment kind", &self.kind)?,
            file_name: self.file_name,
            content_type: self.content_type,
            size: self.size,
            uploaded_at: self.uploaded_at,
        })
    }
}

const ATTACHMENT_COLUMNS: &str = "id, order_id, kind, file_name, content_type, size, uploaded_at";

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Reader {
    get_by_id!(get_port_order(PortOrderId) -> PortOrder: "port_orders", COLUMNS,
        PortOrderRow::into_domain);

    /// The orders `pool` placed, newest first, at most `limit`.
    pub async fn list_port_orders(
        &mut self,
        pool: AccountId,
        limit: u32,
    ) -> Result<Vec<PortOrder>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM port_orders WHERE pool_id = $1 ORDER BY id DESC LIMIT {limit}"
        );
        self.rows_by(&sql, &pool.to_string(), PortOrderRow::into_domain)
            .await
    }

    /// The numbers an order brought onto the platform that are still there, in E.164 order.
    pub async fn port_order_members(&mut self, id: PortOrderId) -> Result<Vec<Number>> {
        let sql =
            format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE port_order_id = $1 ORDER BY e164");
        self.rows_by(&sql, &id.to_string(), NumberRow::into_domain)
            .await
    }

    /// An order's attachments, oldest first, without their bytes.
    pub async fn port_attachments(&mut self, order: PortOrderId) -> Result<Vec<PortAttachment>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM port_attachments WHERE order_id = $1 ORDER BY id"
        );
        self.rows_by(&sql, &order.to_string(), AttachmentRow::into_domain)
            .await
    }

    /// One attachment's bytes, if it is `order`'s.
    pub async fn port_attachment_data(
        &mut self,
        order: PortOrderId,
        id: AttachmentId,
    ) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_conn!(self, c => {
            sqlx::query_as("SELECT data FROM port_attachments WHERE id = $1 AND order_id = $2")
                .bind(id.to_string())
                .bind(order.to_string())
                .fetch_optional(&mut *c)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Of `e164s`, the numbers on the platform, whoever holds them (the portability check
    /// says only "on the platform" or "in an open order", never whose).
    pub async fn numbers_by_e164(&mut self, e164s: &[&str]) -> Result<Vec<Number>> {
        let mut found = Vec::new();
        for chunk in e164s.chunks(500) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE e164 IN ({marks})");
            let args: Vec<_> = chunk.iter().map(|e| Text(e)).collect();
            found.extend(self.rows_with(&sql, &args, NumberRow::into_domain).await?);
        }
        Ok(found)
    }
}

impl Tx {
    /// Stores an attachment of an order with its bytes.
    pub async fn insert_port_attachment(&mut self, a: &PortAttachment, data: &[u8]) -> Result<()> {
        on_conn!(self, c => {
            sqlx::query(
                "INSERT INTO port_attachments \
                 (id, order_id, kind, file_name, content_type, size, data, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(a.id.to_string())
            .bind(a.order_id.to_string())
            .bind(a.kind.as_str())
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(a.size)
            .bind(data)
            .bind(a.uploaded_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records a new order; its numbers are added by the caller, pointing at it.
    pub async fn insert_port_order(&mut self, o: &PortOrder) -> Result<()> {
        let (id, pool) = (o.id.to_string(), o.pool_id.to_string());
        let (numbers, address) = (json(&o.phone_numbers)?, json(&o.billing_address)?);
        self.execute(
            &format!(
                "INSERT INTO port_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17)"
            ),
            &[
                Text(&id),
                Text(&pool),
                Text(o.status.as_str()),
                Text(&o.country),
                Text(&numbers),
                Text(&o.carrier_name),
                Text(&o.account_number),
                Text(&o.pin_sealed),
                Text(&o.pin_hint),
                Text(&o.authorized_person),
                Text(&address),
                Text(&o.requested_port_date),
                OptText(o.scheduled_date.as_deref()),
                OptText(o.reject_reason.as_deref()),
                Int(o.submitted_at),
                Int(o.updated_at),
                Int(o.version),
            ],
        )
        .await?;
        Ok(())
    }

    /// Writes `next` over the order if it is still at `next.version`; answers it as stored
    /// (version bumped). Losing the race is `Conflict`.
    pub async fn update_port_order_cas(&mut self, next: &PortOrder) -> Result<PortOrder> {
        let id = next.id.to_string();
        let address = json(&next.billing_address)?;
        let changed = self
            .execute_on_one(
                "UPDATE port_orders SET status = $1, carrier_name = $2, account_number = $3, \
                 pin_sealed = $4, pin_hint = $5, authorized_person = $6, billing_address = $7, \
                 requested_port_date = $8, scheduled_date = $9, reject_reason = $10, \
                 updated_at = $11, version = version + 1 WHERE id = $12 AND version = $13",
                &[
                    Text(next.status.as_str()),
                    Text(&next.carrier_name),
                    Text(&next.account_number),
                    Text(&next.pin_sealed),
                    Text(&next.pin_hint),
                    Text(&next.authorized_person),
                    Text(&address),
                    Text(&next.requested_port_date),
                    OptText(next.scheduled_date.as_deref()),
                    OptText(next.reject_reason.as_deref()),
                    Int(next.updated_at),
                    Text(&id),
                    Int(next.version),
                ],
            )
            .await?;
        if !changed {
            return Err(StoreError::Conflict);
        }
        let mut stored = next.clone();
        stored.version += 1;
        Ok(stored)
    }
}
