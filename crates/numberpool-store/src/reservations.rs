//! Reservations as rows (SPEC §5): the reservation with its status and time, the numbers it
//! holds (through `numbers.reservation_id`), the active ones whose time has come (what the
//! expiry job walks), and a provider's default reservation time.

use numberpool_domain::{AccountId, Number, Reservation, ReservationId};

use crate::rows::Arg::{Int, Text};
use crate::rows::{NUMBER_COLUMNS, NumberRow, corrupt, parse};
use crate::{Reader, Result, StoreError, Tx, get_by_id};

const COLUMNS: &str =
    "id, pool_id, for_account_id, status, size, expires_at, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct ReservationRow {
    id: String,
    pool_id: String,
    for_account_id: String,
    status: String,
    size: i64,
    expires_at: i64,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl ReservationRow {
    fn into_domain(self) -> Result<Reservation> {
        Ok(Reservation {
            id: parse("reservation id", &self.id)?,
            pool_id: parse("account id", &self.pool_id)?,
            for_account_id: parse("account id", &self.for_account_id)?,
            status: parse("reservation status", &self.status)?,
            size: u32::try_from(self.size).map_err(corrupt("reservation size"))?,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

impl Reader {
    get_by_id!(get_reservation(ReservationId) -> Reservation: "number_reservations", COLUMNS,
        ReservationRow::into_domain);

    /// The reservations `account` made or that hold numbers for it, newest first, at most
    /// `limit`.
    pub async fn list_reservations(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<Reservation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM number_reservations WHERE pool_id = $1 OR for_account_id = $1 \
             ORDER BY id DESC LIMIT {limit}"
        );
        self.rows_by(&sql, &account.to_string(), ReservationRow::into_domain)
            .await
    }

    /// The active reservations holding numbers for `account`: what stands in the way of its
    /// deactivation (R-OFF-1).
    pub async fn active_reservations_for(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<Reservation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM number_reservations WHERE for_account_id = $1 \
             AND status = 'active' ORDER BY id"
        );
        self.rows_by(&sql, &account.to_string(), ReservationRow::into_domain)
            .await
    }

    /// The numbers a reservation holds now, in E.164 order.
    pub async fn reservation_members(&mut self, id: ReservationId) -> Result<Vec<Number>> {
        let sql =
            format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE reservation_id = $1 ORDER BY e164");
        self.rows_by(&sql, &id.to_string(), NumberRow::into_domain)
            .await
    }

    /// Active reservations whose time is at or before `now`, soonest first, at most `limit`.
    pub async fn due_reservations(&mut self, now: i64, limit: u32) -> Result<Vec<Reservation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM number_reservations WHERE status = 'active' \
             AND expires_at <= $1 ORDER BY expires_at, id LIMIT {limit}"
        );
        self.rows_with(&sql, &[Int(now)], ReservationRow::into_domain)
            .await
    }

    /// A provider's default reservation time in milliseconds, if it set one.
    pub async fn reservation_ttl(&mut self, provider: AccountId) -> Result<Option<i64>> {
        let row: Option<(i64,)> = self
            .row_by(
                "SELECT default_ttl_ms FROM reservation_settings WHERE provider_id = $1",
                &provider.to_string(),
                Ok,
            )
            .await?;
        Ok(row.map(|r| r.0))
    }
}

impl Tx {
    /// Takes the reservation's row for this transaction (PostgreSQL `FOR UPDATE`; SQLite's
    /// write transactions are one at a time already). Whoever changes a reservation or its
    /// numbers takes it first, so they all lock in one order (reservation, then numbers) and a
    /// provision that empties it counts what the others committed.
    pub async fn lock_reservation(&mut self, id: ReservationId) -> Result<()> {
        crate::per_backend!(self, c =>
            sqlite: { let _ = c; },
            postgres: {
                sqlx::query("SELECT id FROM number_reservations WHERE id = $1 FOR UPDATE")
                    .bind(id.to_string())
                    .execute(&mut *c)
                    .await?;
            },
        );
        Ok(())
    }

    /// Records a new reservation; its numbers are marked by the caller.
    pub async fn insert_reservation(&mut self, r: &Reservation) -> Result<()> {
        let (id, pool, for_account) = (
            r.id.to_string(),
            r.pool_id.to_string(),
            r.for_account_id.to_string(),
        );
        self.execute(
            "INSERT INTO number_reservations \
             (id, pool_id, for_account_id, status, size, expires_at, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                Text(&id),
                Text(&pool),
                Text(&for_account),
                Text(r.status.as_str()),
                Int(i64::from(r.size)),
                Int(r.expires_at),
                Int(r.created_at),
                Int(r.updated_at),
                Int(r.version),
            ],
        )
        .await?;
        Ok(())
    }

    /// Writes `next`'s status, time and `updated_at` if the reservation is still at
    /// `next.version`; answers it as stored (version bumped). Losing the race is `Conflict`.
    pub async fn update_reservation_cas(&mut self, next: &Reservation) -> Result<Reservation> {
        let id = next.id.to_string();
        let changed = self
            .execute_on_one(
                "UPDATE number_reservations SET status = $1, expires_at = $2, updated_at = $3, \
                 version = version + 1 WHERE id = $4 AND version = $5",
                &[
                    Text(next.status.as_str()),
                    Int(next.expires_at),
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

    /// Sets a provider's default reservation time.
    pub async fn set_reservation_ttl(
        &mut self,
        provider: AccountId,
        ttl_ms: i64,
        now: i64,
    ) -> Result<()> {
        let p = provider.to_string();
        self.execute(
            "INSERT INTO reservation_settings (provider_id, default_ttl_ms, updated_at) \
             VALUES ($1, $2, $3) ON CONFLICT (provider_id) \
             DO UPDATE SET default_ttl_ms = excluded.default_ttl_ms, updated_at = excluded.updated_at",
            &[Text(&p), Int(ttl_ms), Int(now)],
        )
        .await?;
        Ok(())
    }
}
