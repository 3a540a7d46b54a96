//! The available search's query (SPEC §5): the free, active numbers of the pools a caller may
//! take from, by locality, type, capabilities and a `contains` pattern, in E.164 order.

use numberpool_domain::{AccountId, Number, NumberType};

use crate::rows::{NUMBER_COLUMNS, NumberRow};
use crate::{Reader, Result, on_conn};

/// What an available search asks for, parsed by the service: every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AvailableFilter {
    /// ISO 3166 alpha-2 as stored (`numbers.country`).
    pub country: Option<String>,
    /// The state or province code, compared without regard to case.
    pub state: Option<String>,
    /// The city, compared without regard to case.
    pub city: Option<String>,
    /// Digits the E.164 starts with after its `+` (a calling code and an area code).
    pub digits_prefix: Option<String>,
    pub number_type: Option<NumberType>,
    /// Capabilities every result must have: `cap_voice`, `cap_sms`, `cap_mms`, `cap_fax`.
    pub capability_columns: Vec<&'static str>,
    /// `LIKE` patterns for the E.164's digits, one per alternative of the `contains` pattern
    /// ([`numberpool_domain::ContainsPattern::alternatives`]): a number passes when it matches
    /// any. Empty: no pattern.
    pub digits_like: Vec<String>,
    /// Each alternative's runs of three digits ([`numberpool_domain::ContainsPattern::trigrams`]),
    /// in the same order: when every alternative has some, SQLite finds the candidates in its
    /// trigram table first.
    pub digits_trigrams: Vec<Vec<String>>,
}

/// SQLite: a `number_digits` rowid (migration 0020: the digits padded with zeros to fifteen,
/// times sixteen, plus their count) turned back into the number's E.164.
const DIGITS_ROWID_TO_E164: &str = "'+' || substr(printf('%015d', d.rowid >> 4), 1, d.rowid & 15)";

/// How many of a pool's free numbers, in E.164 order, a patterned search reads before it asks
/// a trigram index (about 2 ms of reading): a pool this small is read whole.
const ORDERED_BUDGET: u32 = 4_000;

impl Reader {
    /// Up to `limit` numbers that are `free` and active in one of `pools`' own pools and pass
    /// `filter`, in E.164 order. A number reserved at `now` is left out unless it is held for
    /// `viewer` (R-RES-2).
    pub async fn available_numbers(
        &mut self,
        pools: &[AccountId],
        filter: &AvailableFilter,
        viewer: AccountId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Number>> {
        // One query a pool, merged here: each reads its pool's free numbers in E.164 order
        // (`numbers_free`, or the trigram table's rowids) and stops at `limit`, which neither
        // engine can do for several pools in one ordered query.
        let mut found: Vec<Number> = Vec::new();
        for pool in pools {
            found.extend(self.available_in(*pool, filter, viewer, now, limit).await?);
        }
        found.sort_by(|a, b| a.phone_number.as_str().cmp(b.phone_number.as_str()));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn available_in(
        &mut self,
        pool: AccountId,
        filter: &AvailableFilter,
        viewer: AccountId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Number>> {
        let mut binds: Vec<String> = Vec::new();
        let at = |v: String, binds: &mut Vec<String>| {
            binds.push(v);
            format!("${}", binds.len())
        };
        // SQLite plans a `LIKE '%…%'` as a pass over the pool. When every alternative of the
        // pattern has trigrams (and the pool is larger than `ORDERED_BUDGET`), the search reads
        // the numbers that have one alternative's trigrams from the trigram table instead, in
        // the E.164 order of its rowids, and stops at `limit`: a rare pattern costs its few
        // candidates, a common one the few it reads before `limit` of them match. PostgreSQL
        // takes its two passes below.
        let trigram_first = self.backend() == crate::Backend::Sqlite
            && !filter.digits_trigrams.is_empty()
            && filter.digits_trigrams.iter().all(|g| !g.is_empty());
        let free = format!(
            "holder_id = {} AND position = 'free' AND status = 'normal'",
            at(pool.to_string(), &mut binds)
        );
        let mut cond = format!(
            "{free} AND (reservation_id IS NULL OR reserved_until <= {now} OR reserved_for = {})",
            at(viewer.to_string(), &mut binds)
        );
        if let Some(c) = &filter.country {
            cond.push_str(&format!(" AND country = {}", at(c.clone(), &mut binds)));
        }
        if let Some(s) = &filter.state {
            cond.push_str(&format!(
                " AND upper(region_state) = {}",
                at(s.to_uppercase(), &mut binds)
            ));
        }
        if let Some(c) = &filter.city {
            cond.push_str(&format!(
                " AND lower(city) = {}",
                at(c.to_lowercase(), &mut binds)
            ));
        }
        if let Some(p) = &filter.digits_prefix {
            cond.push_str(&format!(
                " AND e164 LIKE {}",
                at(format!("+{p}%"), &mut binds)
            ));
        }
        if let Some(t) = filter.number_type {
            cond.push_str(&format!(
                " AND number_type = {}",
                at(t.as_str().to_string(), &mut binds)
            ));
        }
        for col in &filter.capability_columns {
            cond.push_str(&format!(" AND {col}"));
        }
        if !filter.digits_like.is_empty() {
            let likes: Vec<String> = filter
                .digits_like
                .iter()
                .map(|l| format!("substr(e164, 2) LIKE {}", at(l.clone(), &mut binds)))
                .collect();
            cond.push_str(&format!(" AND ({})", likes.join(" OR ")));
        }
        let in_order = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE {cond} ORDER BY e164 LIMIT {limit}"
        );
        if filter.digits_like.is_empty() {
            return self.available_rows(&in_order, &binds).await;
        }
        // The pool's `ORDERED_BUDGET`-th free number in E.164 order, if it has that many: the
        // edge between what a patterned search reads in order and what it asks an index for.
        // A smaller pool is read whole, in order: the trigram indexes cover every tenant's
        // numbers, so a pattern common elsewhere would cost more through them.
        let boundary: Option<(String,)> = on_conn!(self, c => {
            sqlx::query_as(&format!(
                "SELECT e164 FROM numbers WHERE holder_id = $1 AND position = 'free' \
                 AND status = 'normal' ORDER BY e164 LIMIT 1 OFFSET {}",
                ORDERED_BUDGET - 1
            ))
            .bind(pool.to_string())
            .fetch_optional(&mut *c)
            .await?
        });
        let Some((edge,)) = boundary else {
            return self.available_rows(&in_order, &binds).await;
        };
        if trigram_first {
            let groups: Vec<String> = filter
                .digits_trigrams
                .iter()
                .map(|group| {
                    let tokens: Vec<String> = group.iter().map(|g| format!("\"{g}\"")).collect();
                    format!("({})", tokens.join(" AND "))
                })
                .collect();
            let m = at(groups.join(" OR "), &mut binds);
            let sql = format!(
                "SELECT {NUMBER_COLUMNS} FROM number_digits d CROSS JOIN numbers \
                 ON numbers.e164 = {DIGITS_ROWID_TO_E164} WHERE d.number_digits MATCH {m} \
                 AND {cond} ORDER BY d.rowid LIMIT {limit}"
            );
            return self.available_rows(&sql, &binds).await;
        }
        if self.backend() == crate::Backend::Sqlite {
            return self.available_rows(&in_order, &binds).await;
        }
        // PostgreSQL. Its planner picks the trigram index or the pool's E.164 order from
        // estimates a pattern's shape misleads (an exchange, `650853`, is ten thousand numbers
        // in one place of that order), so the search takes both ways in turn, split at the
        // edge read once above (so a number freed or taken meanwhile is neither answered twice
        // nor skipped): the pool's free numbers up to the edge in order, where a common pattern
        // finds its `limit`; then, past the edge, every match the trigram index gives (a
        // pattern not common up to there has few), sorted. Together: the first `limit` matches
        // in E.164 order, each way bounded. (`OFFSET 0` keeps the first read in order: the
        // planner does not fold such a subquery into the outer query.)
        let e = at(edge, &mut binds);
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM (SELECT {NUMBER_COLUMNS} FROM numbers WHERE {free} \
             AND e164 <= {e} ORDER BY e164 OFFSET 0) AS first WHERE {cond} \
             ORDER BY e164 LIMIT {limit}"
        );
        let mut found = self.available_rows(&sql, &binds).await?;
        if found.len() >= limit as usize {
            return Ok(found);
        }
        let sql = format!(
            "WITH matches AS MATERIALIZED (SELECT {NUMBER_COLUMNS} FROM numbers WHERE {cond} \
             AND e164 > {e}) SELECT * FROM matches ORDER BY e164 LIMIT {}",
            limit as usize - found.len()
        );
        found.extend(self.available_rows(&sql, &binds).await?);
        Ok(found)
    }

    async fn available_rows(&mut self, sql: &str, binds: &[String]) -> Result<Vec<Number>> {
        let rows: Vec<NumberRow> = on_conn!(self, c => {
            let mut q = sqlx::query_as::<_, NumberRow>(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.fetch_all(&mut *c).await?
        });
        rows.into_iter().map(NumberRow::into_domain).collect()
    }
}
