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
    /// A `LIKE` pattern for the E.164's digits ([`numberpool_domain::ContainsPattern::like`]).
    pub digits_like: Option<String>,
}

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
        if pools.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds: Vec<String> = Vec::new();
        let at = |v: String, binds: &mut Vec<String>| {
            binds.push(v);
            format!("${}", binds.len())
        };
        let holders: Vec<String> = pools
            .iter()
            .map(|p| at(p.to_string(), &mut binds))
            .collect();
        let mut sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE holder_id IN ({}) \
             AND position = 'free' AND status = 'normal' \
             AND (reservation_id IS NULL OR reserved_until <= {now} OR reserved_for = {})",
            holders.join(", "),
            at(viewer.to_string(), &mut binds)
        );
        if let Some(c) = &filter.country {
            sql.push_str(&format!(" AND country = {}", at(c.clone(), &mut binds)));
        }
        if let Some(s) = &filter.state {
            sql.push_str(&format!(
                " AND upper(region_state) = {}",
                at(s.to_uppercase(), &mut binds)
            ));
        }
        if let Some(c) = &filter.city {
            sql.push_str(&format!(
                " AND lower(city) = {}",
                at(c.to_lowercase(), &mut binds)
            ));
        }
        if let Some(p) = &filter.digits_prefix {
            sql.push_str(&format!(
                " AND e164 LIKE {}",
                at(format!("+{p}%"), &mut binds)
            ));
        }
        if let Some(t) = filter.number_type {
            sql.push_str(&format!(
                " AND number_type = {}",
                at(t.as_str().to_string(), &mut binds)
            ));
        }
        for col in &filter.capability_columns {
            sql.push_str(&format!(" AND {col}"));
        }
        if let Some(l) = &filter.digits_like {
            sql.push_str(&format!(
                " AND substr(e164, 2) LIKE {}",
                at(l.clone(), &mut binds)
            ));
        }
        sql.push_str(&format!(" ORDER BY e164 LIMIT {limit}"));
        let rows: Vec<NumberRow> = on_conn!(self, c => {
            let mut q = sqlx::query_as::<_, NumberRow>(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(&mut *c).await?
        });
        rows.into_iter().map(NumberRow::into_domain).collect()
    }
}
