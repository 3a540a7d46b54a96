//! Number lists (keyset pages with filters), one number by id or E.164, and the inventory counts.

use super::*;

/// Filters and paging of a number list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Numbers per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    /// The `next_page_token` of the previous page.
    pub next_page_token: Option<String>,
    /// Position as the caller sees it.
    pub position: Option<ViewPosition>,
    pub status: Option<NumberStatus>,
    pub product: Option<Product>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    /// ISO 3166 alpha-2 country code, e.g. `US`.
    pub country: Option<String>,
    /// Only numbers held by this customer.
    pub customer_id: Option<AccountId>,
    /// `true`: only numbers with an assignee; `false`: only without.
    pub assigned: Option<bool>,
    /// E.164 prefix, e.g. `+1415` (the `+` is optional).
    pub prefix: Option<String>,
    /// Digits the E.164 form contains anywhere.
    pub contains: Option<String>,
    /// `key:value`: only numbers whose `attributes` carry this key with exactly this value
    /// (the value may itself contain `:`).
    pub attribute: Option<String>,
    /// Only the numbers of this number block.
    pub block_id: Option<BlockId>,
    /// The order: `added` (when the number was added, the default), `added_desc` (newest
    /// first), `phone_number` or `phone_number_desc` (by E.164). Send the same order with a
    /// `next_page_token` as with the page that gave it.
    pub sort: Option<NumberSort>,
}

/// A page of numbers.
#[derive(Serialize, ToSchema)]
pub struct NumberPage {
    pub phone_numbers: Vec<NumberView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    /// Numbers matching the filters, over all pages.
    pub total_records: i64,
}

fn digits_only(field: &str, s: &str) -> ApiResult<String> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.len() > 15 || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "{field}: give 1 to 15 digits (a leading + is allowed)"
        )));
    }
    Ok(t.to_string())
}

/// The `country` filter (ISO 3166 alpha-2, any case) as the store compares it.
fn country(given: Option<&str>) -> ApiResult<Option<String>> {
    given
        .map(|c| {
            Country::parse(c)
                .map(|c| c.as_str())
                .map_err(|e| ApiError::invalid(format!("country: {e}")))
        })
        .transpose()
}

/// `key:value` of the `attribute` filter, split at the first `:` (keys have none).
fn attribute_pair(s: &str) -> ApiResult<(String, String)> {
    match s.split_once(':') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => {
            // A key no attribute can have is a mistake to report, not an empty page.
            numberpool_domain::attribute::check_key(k)
                .map_err(|e| ApiError::invalid(format!("attribute: {e}")))?;
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(ApiError::invalid(
            "attribute: give key:value, e.g. attribute=region:emea",
        )),
    }
}

impl ListQuery {
    fn filter(&self) -> ApiResult<NumberFilter> {
        Ok(NumberFilter {
            view_position: self.position,
            status: self.status,
            product: self.product,
            number_type: self.number_type,
            country: country(self.country.as_deref())?,
            customer: self.customer_id,
            assigned: self.assigned,
            e164_prefix: self
                .prefix
                .as_deref()
                .map(|p| digits_only("prefix", p))
                .transpose()?,
            e164_contains: self
                .contains
                .as_deref()
                .map(|p| digits_only("contains", p))
                .transpose()?,
            attribute: self.attribute.as_deref().map(attribute_pair).transpose()?,
            block: self.block_id,
            sort: self.sort.unwrap_or_default(),
            ..Default::default()
        })
    }
}

async fn list_page(
    st: &ApiState,
    auth: &Auth<PhoneRead>,
    q: &ListQuery,
    mut filter: NumberFilter,
) -> ApiResult<Response> {
    let size = page_size(q.page_size)?;
    let after: Option<NumberCursor> = decode_page_token(q.next_page_token.as_deref())?;
    if filter.assigned.is_none() {
        filter.assigned = q.assigned;
    }
    let page = st
        .service
        .list_numbers(&auth.actor, &filter, after, size)
        .await?;
    let (numbers, next_page_token, total_records) = keyset_page(page);
    // About 1.1 KB a number as JSON, and the page's own fields.
    let capacity = 1_200 * numbers.len() + 256;
    Ok(json_sized(
        &NumberPage {
            phone_numbers: numbers
                .into_iter()
                .map(|n| NumberView::from_number(n, auth.actor.account))
                .collect(),
            page_size: size,
            next_page_token,
            total_records,
        },
        capacity,
    ))
}

/// List phone numbers
///
/// The numbers the caller may see (its subtree and, for a provider, the numbers it owns at its
/// connected customers), filtered, in creation order (or as `sort` says), one keyset page at a
/// time.
#[utoipa::path(get, path = "/v2/phone/numbers", tag = "Phone numbers",
    params(ListQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of numbers", body = NumberPage),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_numbers(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let filter = q.filter()?;
    list_page(&st, &auth, &q, filter).await
}

/// List toll-free numbers
///
/// The list restricted to toll-free numbers (`type`, when given, must be `toll_free`).
#[utoipa::path(get, path = "/v2/phone/numbers/toll_free", tag = "Phone numbers",
    params(ListQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of toll-free numbers", body = NumberPage),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_toll_free(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let mut filter = q.filter()?;
    if filter
        .number_type
        .is_some_and(|t| t != NumberType::TollFree)
    {
        return Err(ApiError::invalid(
            "type: this list holds toll_free numbers only",
        ));
    }
    filter.number_type = Some(NumberType::TollFree);
    list_page(&st, &auth, &q, filter).await
}

/// List unassigned numbers
///
/// The caller's numbers that have no assignee: the list with `assigned=false`.
#[utoipa::path(get, path = "/v2/phone/numbers/unassigned", tag = "Phone numbers",
    params(ListQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of unassigned numbers", body = NumberPage),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_unassigned(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let mut filter = q.filter()?;
    filter.assigned = Some(false);
    list_page(&st, &auth, &q, filter).await
}

/// Get a phone number
///
/// By id or by E.164 (`%2B14155550100`). The `ETag` header carries the version to send back in
/// `If-Match`.
#[utoipa::path(get, path = "/v2/phone/numbers/{numberId}", tag = "Phone numbers",
    params(NumberPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The number", body = NumberView,
            headers(("ETag" = String, description = "The number's version"))),
        CommonErrors,
        NotFound<NumberView>,
    ))]
pub async fn get_number(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<NumberPath>,
) -> ApiResult<Response> {
    let lookup = number_lookup(&p.number_id)?;
    let n = st.service.get_number(&auth.actor, &lookup).await?;
    Ok(seen_by(n, &auth.actor))
}

/// Counts of numbers by each dimension; each map's counts add up to `total`.
#[derive(Serialize, ToSchema)]
pub struct Inventory {
    pub total: i64,
    /// By position as the caller sees it: free, returned, in_use, assigned, unassigned.
    pub by_position: BTreeMap<String, i64>,
    /// By status: active, pending.
    pub by_status: BTreeMap<String, i64>,
    pub by_product: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
    /// By ISO 3166 alpha-2 country.
    pub by_country: BTreeMap<String, i64>,
}

impl From<InventoryCounts> for Inventory {
    fn from(c: InventoryCounts) -> Self {
        Self {
            total: c.total,
            by_position: c.by_position,
            by_status: c.by_status,
            by_product: c.by_product,
            by_type: c.by_type,
            by_country: c.by_country,
        }
    }
}

/// Filters of the inventory counts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// ISO 3166 alpha-2 country code.
    pub country: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub number_type: Option<NumberType>,
    pub product: Option<Product>,
    pub customer_id: Option<AccountId>,
}

/// Get the number inventory
///
/// Counts of the caller's numbers by position (as the caller sees it), status, product, type and
/// country.
#[utoipa::path(get, path = "/v2/phone/inventory", tag = "Inventory",
    params(InventoryQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "Counts", body = Inventory),
        (status = 400, description = "A filter is invalid (`invalid_input`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn inventory(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<InventoryQuery>,
) -> ApiResult<Json<Inventory>> {
    let filter = NumberFilter {
        country: country(q.country.as_deref())?,
        number_type: q.number_type,
        product: q.product,
        customer: q.customer_id,
        ..Default::default()
    };
    Ok(Json(
        st.service.inventory(&auth.actor, &filter).await?.into(),
    ))
}

/// Get the number inventory (seed path)
///
/// The same counts as `/v2/phone/inventory`, at the path the number-management seed lists.
#[utoipa::path(get, path = "/v2/phone/numbers/inventory", tag = "Inventory",
    params(InventoryQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "Counts", body = Inventory),
        (status = 400, description = "A filter is invalid (`invalid_input`)", body = ErrorBody),
        CommonErrors,
    ))]
pub async fn inventory_seed_path(
    auth: Auth<NumberRead>,
    st: State<ApiState>,
    q: ApiQuery<InventoryQuery>,
) -> ApiResult<Json<Inventory>> {
    inventory(auth, st, q).await
}
