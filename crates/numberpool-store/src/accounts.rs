//! Accounts: the tree, status and settings, scope walks, holdings and entitlement counts, and the
//! row locks that order status changes against moves (see ARCHITECTURE.md).

use numberpool_domain::{
    Account, AccountId, AccountKind, AccountStatus, EntitlementUse, Entitlements, ExchangeStatus,
    Relation, now_ms,
};

use crate::rows::Arg::{self, Int, Text};
use crate::rows::{AccountRow, bind_args, parse};
use crate::versioned::Value;
use crate::{Reader, Result, StoreError, Tx, get_by_id, on_conn};

pub(crate) const ACCOUNT_COLUMNS: &str = "id, name, account_number, kind, status, parent_id, allow_external_numbers, created_at, version, toll_free_licences, contact_center_licences";

/// What creating an account asks for (already checked against the tree rule by the service).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub kind: AccountKind,
    pub parent_id: Option<AccountId>,
    pub allow_external_numbers: bool,
}

/// One of a provider's (or reseller's) customers, with its numbers: a child customer, or a
/// root customer connected through Provider Exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub account: Account,
    /// `None` for a child customer.
    pub connection: Option<ExchangeStatus>,
    /// Numbers with the customer (or its units); for a connected customer, the provider's only.
    pub phone_numbers: i64,
}

/// An account's id, name and kind: what a page needs to name an account or offer it as a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName {
    pub id: AccountId,
    pub name: String,
    pub kind: AccountKind,
}

/// How many numbers match, with the first few (by E.164) to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberSample {
    pub count: i64,
    pub phone_numbers: Vec<String>,
}

/// The locking read modes: `Share` lets other readers in and keeps writers out; `Update` keeps
/// both out. On SQLite write transactions are one at a time already and both are plain reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Share,
    Update,
}

impl Lock {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Lock::Share => " FOR SHARE",
            Lock::Update => " FOR UPDATE",
        }
    }
}

const SAMPLE: i64 = 20;

/// `own`: the account `$1` and every account below it.
const OWN_TREE: &str = "WITH RECURSIVE own(id) AS ( SELECT CAST($1 AS TEXT) \
    UNION SELECT a.id FROM accounts a JOIN own o ON a.parent_id = o.id ) ";

/// Numbers of the provider `$1` with the customers connected to it (through the
/// `numbers_customer_owner` index; a deactivated connection holds none, by R-ACC-1).
const WITH_CONNECTED: &str = "n.customer_id IN (SELECT x.customer_id FROM exchange_connections x \
    WHERE x.provider_id = CAST($1 AS TEXT) AND x.status <> 'deactivated') AND n.owner_id = CAST($1 AS TEXT)";

/// What an account's subtree holds, for the offboarding check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubtreeHoldings {
    /// Held by the account itself.
    pub at: NumberSample,
    /// Held by accounts below it.
    pub below: NumberSample,
    /// A provider's numbers with its connected customers.
    pub connected: NumberSample,
    /// Of those in the subtree, the ones with assignees.
    pub assigned: NumberSample,
}

#[derive(sqlx::FromRow)]
struct CustomerDbRow {
    #[sqlx(flatten)]
    account: AccountRow,
    connection_status: Option<String>,
    phone_numbers: i64,
}

/// Human account numbers: 8 digits, random so they reveal nothing about volume; unique by
/// constraint, retried on the rare collision.
fn new_account_number() -> String {
    let n = uuid::Uuid::now_v7().as_u128();
    // The low bits of a v7 UUID are random.
    format!("{:08}", (n % 90_000_000) + 10_000_000)
}

impl Reader {
    get_by_id!(get_account(AccountId) -> Account: "accounts", ACCOUNT_COLUMNS, AccountRow::into_domain);

    /// Whether the account or any account above it is deactivated: access through it is
    /// refused (a deactivated reseller's customers are out with it).
    pub async fn deactivated_in_chain(&mut self, id: AccountId) -> Result<bool> {
        let sql = "WITH RECURSIVE up(id, parent_id, status) AS ( \
            SELECT id, parent_id, status FROM accounts WHERE id = $1 \
            UNION ALL SELECT a.id, a.parent_id, a.status FROM accounts a JOIN up ON a.id = up.parent_id ) \
            SELECT COUNT(*) FROM up WHERE status <> 'active'";
        let (n,): (i64,) = on_conn!(self, c => {
            sqlx::query_as(sql).bind(id.to_string()).fetch_one(&mut *c).await?
        });
        Ok(n > 0)
    }

    /// What stands in the way of deactivating `account` (R-OFF-1), for the offboarding check:
    /// numbers held by it, numbers held by accounts below it, numbers of its own with customers
    /// connected to it (a provider's), and how many of those in its subtree have assignees.
    pub async fn held_in_subtree(&mut self, account: AccountId) -> Result<SubtreeHoldings> {
        let id = account.to_string();
        let args = [Text(&id)];
        let at = format!("{OWN_TREE} SELECT {{}} FROM numbers n WHERE n.holder_id = $1");
        let below = format!(
            "{OWN_TREE} SELECT {{}} FROM numbers n WHERE n.holder_id IN (SELECT id FROM own) \
             AND n.holder_id <> $1"
        );
        let connected = format!("SELECT {{}} FROM numbers n WHERE {WITH_CONNECTED}");
        let assigned = format!(
            "{OWN_TREE} SELECT {{}} FROM numbers n WHERE n.holder_id IN (SELECT id FROM own) \
             AND n.assignee_count > 0"
        );
        let at = self.number_sample(&at, &args).await?;
        let below = self.number_sample(&below, &args).await?;
        let connected = self.number_sample(&connected, &args).await?;
        let assigned = self.number_sample(&assigned, &args).await?;
        Ok(SubtreeHoldings {
            at,
            below,
            connected,
            assigned,
        })
    }

    /// R-OFF-1's decision: how many numbers the account, the accounts below it, or (for a
    /// provider) its connected customers hold of it. One statement, so one snapshot: a number
    /// released up the tree while this runs is counted where it was or where it went, never
    /// missed between two counts.
    pub async fn holdings_blocking_deactivation(&mut self, account: AccountId) -> Result<i64> {
        // Two counts added in one statement (each through its index; an `OR` of the two `IN`
        // subqueries would scan the table on PostgreSQL while the account's row is locked).
        let sql = format!(
            "{OWN_TREE} SELECT (SELECT COUNT(*) FROM numbers n WHERE n.holder_id IN (SELECT id FROM own)) \
             + (SELECT COUNT(*) FROM numbers n WHERE {WITH_CONNECTED})"
        );
        let (n,): (i64,) = on_conn!(self, c => {
            sqlx::query_as(&sql).bind(account.to_string()).fetch_one(&mut *c).await?
        });
        Ok(n)
    }

    /// The provider's numbers with a customer (or its units), and those of them with assignees
    /// (R-ACC-1).
    pub async fn provider_numbers_with(
        &mut self,
        provider: AccountId,
        customer: AccountId,
    ) -> Result<(NumberSample, NumberSample)> {
        // Both counts share the pair's condition; the second keeps those with assignees.
        const WITH: &str = "SELECT {} FROM numbers n WHERE n.customer_id = $1 AND n.owner_id = $2";
        let (customer, provider) = (customer.to_string(), provider.to_string());
        let args = [Text(&customer), Text(&provider)];
        let all = self.number_sample(WITH, &args).await?;
        let assigned = format!("{WITH} AND n.assignee_count > 0");
        let assigned = self.number_sample(&assigned, &args).await?;
        Ok((all, assigned))
    }

    /// The numbers reserved for `account` at `now` (R-OFF-1 counts them as in the way of its
    /// deactivation until their reservations end).
    pub async fn reserved_for(&mut self, account: AccountId, now: i64) -> Result<NumberSample> {
        const RESERVED: &str =
            "SELECT {} FROM numbers n WHERE n.reserved_for = $1 AND n.reserved_until > $2";
        let account = account.to_string();
        self.number_sample(RESERVED, &[Text(&account), Int(now)])
            .await
    }

    /// The numbers on their way into `account`'s pool through its open porting orders.
    pub async fn in_open_ports(&mut self, account: AccountId) -> Result<NumberSample> {
        const PORTING: &str = "SELECT {} FROM numbers n WHERE n.holder_id = $1 \
            AND n.port_order_id IS NOT NULL AND n.status = 'pending'";
        let account = account.to_string();
        self.number_sample(PORTING, &[Text(&account)]).await
    }

    /// Runs `template` (with `{}` for the select list) as a count and as the first E.164s.
    async fn number_sample(&mut self, template: &str, args: &[Arg<'_>]) -> Result<NumberSample> {
        let count_sql = template.replacen("{}", "COUNT(*)", 1);
        let list_sql = format!(
            "{} ORDER BY n.e164 LIMIT {SAMPLE}",
            template.replacen("{}", "n.e164", 1)
        );
        let (count,): (i64,) = on_conn!(self, c => {
            bind_args!(sqlx::query_as(&count_sql), args).fetch_one(&mut *c).await?
        });
        if count == 0 {
            return Ok(NumberSample::default());
        }
        let rows: Vec<(String,)> = on_conn!(self, c => {
            bind_args!(sqlx::query_as(&list_sql), args).fetch_all(&mut *c).await?
        });
        Ok(NumberSample {
            count,
            phone_numbers: rows.into_iter().map(|(e,)| e).collect(),
        })
    }

    /// R-ACC-3: licences in use by a customer: the numbers allocated to it (with it or its
    /// units), not its own (R-ACC-2), which no allocation brought.
    pub async fn entitlement_use(&mut self, customer: AccountId) -> Result<EntitlementUse> {
        let (toll_free, contact_center): (i64, i64) = on_conn!(self, c => {
            sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN number_type = 'toll_free' THEN 1 ELSE 0 END), 0), \
                 COALESCE(SUM(CASE WHEN product = 'contact_center' THEN 1 ELSE 0 END), 0) \
                 FROM numbers WHERE customer_id = $1 AND owner_id <> customer_id",
            )
            .bind(customer.to_string())
            .fetch_one(&mut *c)
            .await?
        });
        Ok(EntitlementUse {
            toll_free,
            contact_center,
        })
    }

    /// A provider's (or reseller's) customers: its child customers and the root customers
    /// connected to it (not deactivated), each with its number count, in creation order.
    pub async fn list_customers(&mut self, provider: AccountId) -> Result<Vec<CustomerRow>> {
        let cols = ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // One query per side, each row its account and its count: a provider's customer list
        // is one round trip per side however many customers it has.
        let children = format!(
            "SELECT {cols}, NULL AS connection_status, (SELECT COUNT(*) FROM numbers n \
             WHERE n.customer_id = a.id) AS phone_numbers \
             FROM accounts a WHERE a.parent_id = $1 AND a.kind = 'customer'"
        );
        let connected = format!(
            "SELECT {cols}, x.status AS connection_status, (SELECT COUNT(*) FROM numbers n \
             WHERE n.customer_id = a.id AND n.owner_id = $1) AS phone_numbers \
             FROM exchange_connections x JOIN accounts a ON a.id = x.customer_id \
             WHERE x.provider_id = $1 AND x.status <> 'deactivated'"
        );
        let mut out = Vec::new();
        for sql in [children, connected] {
            let rows: Vec<CustomerDbRow> = on_conn!(self, c => {
                sqlx::query_as(&sql).bind(provider.to_string()).fetch_all(&mut *c).await?
            });
            for r in rows {
                out.push(CustomerRow {
                    account: r.account.into_domain()?,
                    connection: r
                        .connection_status
                        .as_deref()
                        .map(|s| parse("exchange status", s))
                        .transpose()?,
                    phone_numbers: r.phone_numbers,
                });
            }
        }
        out.sort_by_key(|r| r.account.id);
        Ok(out)
    }

    pub async fn find_account_by_name(&mut self, name: &str) -> Result<Option<Account>> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1 ORDER BY id LIMIT 1");
        self.row_by(&sql, name, AccountRow::into_domain).await
    }

    /// Accounts within `scope`'s scope (R-SEC-1), in creation order.
    pub async fn list_accounts_in_scope(&mut self, scope: AccountId) -> Result<Vec<Account>> {
        let sql = format!(
            "{} SELECT {} FROM accounts a WHERE a.id IN (SELECT id FROM scope) ORDER BY a.id",
            crate::numbers::SCOPE_CTE,
            ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.rows_by(&sql, &scope.to_string(), AccountRow::into_domain)
            .await
    }

    /// The id, name and kind of the accounts within `scope`'s scope (R-SEC-1) of the given
    /// kinds, in creation order: [`Reader::list_accounts_in_scope`] with three columns and no
    /// others, for pages that only name accounts (fewer rows and columns to send and decode on
    /// a page's every request; see docs/PERFORMANCE.md, issue 12).
    pub async fn account_names_in_scope(
        &mut self,
        scope: AccountId,
        kinds: &[AccountKind],
    ) -> Result<Vec<AccountName>> {
        if kinds.is_empty() {
            return Ok(vec![]);
        }
        // Kinds are our own fixed strings, inlined; the scope is a bind.
        let kinds = kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "{} SELECT a.id, a.name, a.kind FROM accounts a \
             WHERE a.id IN (SELECT id FROM scope) AND a.kind IN ({kinds}) ORDER BY a.id",
            crate::numbers::SCOPE_CTE,
        );
        self.rows_by(&sql, &scope.to_string(), |r: (String, String, String)| {
            Ok(AccountName {
                id: parse("account id", &r.0)?,
                name: r.1,
                kind: parse("account kind", &r.2)?,
            })
        })
        .await
    }

    /// The `scope_generation` counter: it moves on every committed change to the accounts or
    /// the Provider Exchange connections, so anything derived from a scope at one value still
    /// holds while it reads the same (the portal session query reads it too).
    pub async fn scope_generation(&mut self) -> Result<i64> {
        let sql = "SELECT n FROM scope_generation WHERE id = 1";
        self.rows_with(sql, &[], |r: (i64,)| Ok(r.0))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("scope_generation has no row".into()))
    }

    /// The account's ancestors, nearest first (parent, grandparent, …): its chain less itself,
    /// read once per store (`chains.rs`).
    pub async fn ancestors(&mut self, id: AccountId) -> Result<Vec<AccountId>> {
        Ok(self.chain(id).await?.iter().skip(1).copied().collect())
    }

    /// The account and every account below it (its own subtree, without Provider Exchange
    /// connections).
    pub async fn subtree_ids(&mut self, id: AccountId) -> Result<Vec<AccountId>> {
        let sql = "WITH RECURSIVE own(id) AS (SELECT CAST($1 AS TEXT) \
            UNION SELECT a.id FROM accounts a JOIN own o ON a.parent_id = o.id) SELECT id FROM own";
        let rows: Vec<(String,)> = on_conn!(self, c => {
            sqlx::query_as(sql).bind(id.to_string()).fetch_all(&mut *c).await?
        });
        rows.iter().map(|(s,)| parse("account id", s)).collect()
    }
}

impl Tx {
    pub async fn insert_account(&mut self, new: &NewAccount) -> Result<Account> {
        for _ in 0..5 {
            let account = Account {
                id: AccountId::new(),
                name: new.name.clone(),
                account_number: new_account_number(),
                kind: new.kind,
                status: AccountStatus::Active,
                parent_id: new.parent_id,
                allow_external_numbers: new.allow_external_numbers,
                created_at: now_ms(),
                // The column's default.
                version: 1,
                entitlements: Entitlements::default(),
            };
            let res = on_conn!(self, c => {
                sqlx::query(
                    "INSERT INTO accounts (id, name, account_number, kind, status, parent_id, \
                     allow_external_numbers, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(account.id.to_string())
                .bind(&account.name)
                .bind(&account.account_number)
                .bind(account.kind.as_str())
                .bind(account.status.as_str())
                .bind(account.parent_id.map(|p| p.to_string()))
                .bind(account.allow_external_numbers)
                .bind(account.created_at)
                .execute(&mut *c)
                .await
                .map(|_| ())
            });
            match res {
                Ok(_) => return Ok(account),
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Duplicate("account number"))
    }

    /// The account, read with a row lock held to the end of the transaction (PostgreSQL; SQLite
    /// write transactions are serial). A status change (`UPDATE`) waits for it, so a check made
    /// under it holds until commit: allocation, an add and a deactivation cannot interleave.
    pub async fn get_account_locked(
        &mut self,
        id: AccountId,
        lock: Lock,
    ) -> Result<Option<Account>> {
        let base = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> = crate::per_backend!(self, c =>
            sqlite: sqlx::query_as(&base).bind(id.to_string()).fetch_optional(&mut *c).await?,
            postgres: {
                let sql = format!("{base}{}", lock.suffix());
                sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(&mut *c).await?
            },
        );
        row.map(AccountRow::into_domain).transpose()
    }

    /// Locks `ids` (share mode) and returns those that are not active. Ordered by id, so two
    /// transactions locking overlapping sets take them in the same order.
    pub async fn lock_inactive_among(&mut self, ids: &[AccountId]) -> Result<Vec<AccountId>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let base = format!(
            "SELECT id, status FROM accounts WHERE id IN ({}) ORDER BY id",
            list.join(", ")
        );
        let rows: Vec<(String, String)> = crate::per_backend!(self, c =>
            sqlite: {
                let mut q = sqlx::query_as(&base);
                for id in ids { q = q.bind(id.to_string()); }
                q.fetch_all(&mut *c).await?
            },
            postgres: {
                let sql = format!("{base} FOR SHARE");
                let mut q = sqlx::query_as(&sql);
                for id in ids { q = q.bind(id.to_string()); }
                q.fetch_all(&mut *c).await?
            },
        );
        let mut out = Vec::new();
        for (id, status) in rows {
            if parse::<AccountStatus>("account status", &status)? != AccountStatus::Active {
                out.push(parse("account id", &id)?);
            }
        }
        Ok(out)
    }

    /// Compare-and-set on an account's status (R-OFF-1 decides first); bumps the version.
    /// Takes the row's write lock, so an allocation or add holding a share lock finishes first
    /// and a count made after this sees it.
    pub async fn set_account_status_cas(
        &mut self,
        id: AccountId,
        version: i64,
        to: AccountStatus,
    ) -> Result<()> {
        let columns = [("status", Value::text(to.as_str()))];
        self.update_versioned("accounts", id, version, &columns, StoreError::Db)
            .await
    }

    /// Takes the account's row lock until the transaction ends, so writes that decide from the
    /// account's other rows (its carriers' default, R-PROV-3) run one at a time. PostgreSQL reads
    /// at read committed without locks, so two such writes could each miss the other; SQLite's
    /// write transactions (`BEGIN IMMEDIATE`) are one at a time already.
    pub async fn lock_account(&mut self, id: AccountId) -> Result<()> {
        crate::per_backend!(self, c =>
            sqlite: { let _ = c; },
            postgres: {
                sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
                    .bind(id.to_string())
                    .fetch_optional(&mut *c)
                    .await?;
            },
        );
        Ok(())
    }

    /// Writes the editable fields of `next` (name, R-ACC-2 permission, R-ACC-3 entitlements) only if the account is
    /// still at `next.version`; bumps the version. Losing the race is `Conflict`.
    pub async fn update_account_cas(&mut self, next: &Account) -> Result<Account> {
        let columns = [
            ("name", Value::text(&next.name)),
            (
                "allow_external_numbers",
                Value::Bool(next.allow_external_numbers),
            ),
            (
                "toll_free_licences",
                Value::OptInt(next.entitlements.toll_free),
            ),
            (
                "contact_center_licences",
                Value::OptInt(next.entitlements.contact_center),
            ),
        ];
        self.update_record("accounts", next, &columns, StoreError::Db)
            .await
    }

    /// How `target` relates to `actor` for an allocation (R-MOVE-1). A connection is read
    /// under a share lock, so a deactivation waits for the allocation and then counts it.
    pub async fn relation(&mut self, actor: &Account, target: &Account) -> Result<Relation> {
        if target.parent_id == Some(actor.id) {
            return Ok(Relation::DirectChild);
        }
        if target.parent_id.is_none()
            && let Some(c) = self
                .get_connection_locked(actor.id, target.id, Lock::Share)
                .await?
            && c.status == ExchangeStatus::Connected
        {
            return Ok(Relation::Connected);
        }
        Ok(Relation::Other)
    }
}
