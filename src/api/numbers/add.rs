//! Adding numbers: one, or a batch of up to 10,000, all-or-nothing or with partial acceptance.

use super::*;

/// One number to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNumberBody {
    /// E.164 (`+14155550100`), or national format when `country` is given.
    pub phone_number: String,
    /// ISO 3166 alpha-2 country for national-format input.
    pub country: Option<String>,
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    /// Explicit type (R-NUM-3); derived from the number when absent.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: Option<NumberType>,
    /// Wins over the state derived from a US or Canadian number.
    pub state: Option<String>,
    /// Wins over the city derived from a US or Canadian number.
    pub city: Option<String>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub customization: Option<Customization>,
    pub call_purpose: Option<String>,
    pub display_name: Option<String>,
    /// Seed 004's program duration, free text.
    pub program_duration: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// One of the provider's SIP trunks (seed 000's "SIP Trunk Name").
    pub sip_trunk_id: Option<TrunkId>,
    /// A voice carrier of the provider; its default when voice is on and none is named.
    pub voice_carrier_id: Option<CarrierId>,
    /// An SMS carrier profile of the provider; its default when SMS is on and none is named.
    pub sms_carrier_id: Option<CarrierId>,
}

/// Several numbers to add: all or none, or (with `mode: partial`) those that pass.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNumbersBody {
    /// 1 to 10,000 numbers.
    pub numbers: Vec<NewNumberBody>,
    /// `all_or_nothing` (the default): any refused number refuses the batch. `partial`: the
    /// numbers that pass are added and the answer gives every row's outcome.
    #[serde(default)]
    pub mode: BatchMode,
}

/// How a batch add treats refused numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    #[default]
    AllOrNothing,
    Partial,
}

/// One row of a partial batch add: the number added, or why not.
#[derive(Serialize, ToSchema)]
pub struct RowResult {
    /// The row's index in `numbers`, from 0.
    pub row: usize,
    /// `added` or `rejected`.
    pub outcome: RowOutcome,
    /// The number as given.
    pub phone_number: String,
    /// The added number (when `added`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<NumberView>,
    /// Why it was refused (when `rejected`): the same `code`, `message` and `rule` a
    /// one-number add would answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A row's outcome in a partial batch add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Added,
    Rejected,
}

/// The answer of a partial batch add.
#[derive(Serialize, ToSchema)]
pub struct PartialAdd {
    pub added: usize,
    pub rejected: usize,
    /// Every row, in the request's order.
    pub rows: Vec<RowResult>,
}

/// An add request: one number, or `{"numbers": [...]}`.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum AddBody {
    One(Box<NewNumberBody>),
    Batch(NewNumbersBody),
}

/// The numbers a batch add created.
#[derive(Serialize, ToSchema)]
pub struct AddedNumbers {
    pub phone_numbers: Vec<NumberView>,
    pub total_records: usize,
}

/// The response of an add: the number, or the batch.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum AddResult {
    One(Box<NumberView>),
    Batch(AddedNumbers),
    Partial(PartialAdd),
}

fn parse_new(i: usize, b: NewNumberBody) -> ApiResult<AddNumber> {
    let phone_number = input::phone_number(&b.phone_number, b.country.as_deref()).map_err(|e| {
        let field = if i == usize::MAX {
            e.field.to_string()
        } else {
            format!("numbers[{i}].{}", e.field)
        };
        let mut err = ApiError::bad_request(e.code, format!("{field}: {}", e.message));
        err.rule = e.rule.map(|r| r.id());
        err
    })?;
    Ok(AddNumber {
        phone_number,
        fields: NewNumber {
            product: b.product,
            status: b.status,
            number_type: b.number_type,
            region_state: b.state,
            city: b.city,
            billing_reference: b.billing_reference,
            service_info: b.service_info,
            capabilities: b.capabilities,
            customization: b.customization,
            call_purpose: b.call_purpose,
            display_name: b.display_name,
            program_duration: b.program_duration,
            attributes: b.attributes.unwrap_or_default(),
            sip_trunk_id: b.sip_trunk_id,
            voice_carrier_id: b.voice_carrier_id,
            sms_carrier_id: b.sms_carrier_id,
        },
    })
}

/// Add phone numbers
///
/// Adds one number (`{"phone_number": …}`) or a batch (`{"numbers": [...]}`, up to 10,000) to the
/// caller's pool in one transaction: every number is added or none is, unless the batch says
/// `"mode": "partial"`, which adds the numbers that pass and answers every row's outcome (200
/// when none was added). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v2/phone/numbers", tag = "Phone numbers",
    request_body(content = AddBody),
    params(IdempotencyKey),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The number, or the batch (a partial batch: every row's outcome)", body = AddResult),
        (status = 200, description = "A partial batch that added nothing: every row's outcome", body = PartialAdd),
        (status = 400, description = "Bad input (`invalid_input`, `invalid_number` R-NUM-2, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        RuleErrors,
        (status = 404, description = "A named SIP trunk or carrier is not the provider's (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number is already on the platform (`number_already_exists`, R-NUM-1), or the add collided with a concurrent change and wrote nothing (`conflict`)", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn add_numbers(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let batch = body.as_object().is_some_and(|o| o.contains_key("numbers"));
    if !batch {
        let b: NewNumberBody = from_value(body)?;
        let added = st
            .service
            .add_numbers(&auth.actor, vec![parse_new(usize::MAX, b)?])
            .await?;
        let view = added
            .first()
            .map(|n| NumberView::of(n, auth.actor.account))
            .ok_or_else(ApiError::internal)?;
        return Ok(with_etag(StatusCode::CREATED, view.version, view));
    }
    let b: NewNumbersBody = from_value(body)?;
    if b.numbers.is_empty() || b.numbers.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "numbers: give 1 to {MAX_BATCH} numbers (got {})",
            b.numbers.len()
        )));
    }
    if b.mode == BatchMode::Partial {
        return add_partial(&st, &auth.actor, b.numbers).await;
    }
    let adds = b
        .numbers
        .into_iter()
        .enumerate()
        .map(|(i, n)| parse_new(i, n))
        .collect::<ApiResult<Vec<_>>>()?;
    let added = st.service.add_numbers(&auth.actor, adds).await?;
    Ok((
        StatusCode::CREATED,
        Json(AddResult::Batch(AddedNumbers {
            total_records: added.len(),
            phone_numbers: added
                .iter()
                .map(|n| NumberView::of(n, auth.actor.account))
                .collect(),
        })),
    )
        .into_response())
}

/// A partial batch: rows that do not parse and rows the planner refuses are answered as
/// rejected, the rest are added in one transaction.
async fn add_partial(
    st: &ApiState,
    actor: &crate::service::Actor,
    rows: Vec<NewNumberBody>,
) -> ApiResult<Response> {
    let given: Vec<String> = rows.iter().map(|r| r.phone_number.clone()).collect();
    let mut results: Vec<Option<RowResult>> = Vec::with_capacity(rows.len());
    let mut parsed = Vec::with_capacity(rows.len());
    let mut parsed_rows = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        match parse_new(i, row) {
            Ok(a) => {
                parsed.push(a);
                parsed_rows.push(i);
                results.push(None);
            }
            Err(e) => results.push(Some(rejected(i, &given[i], e))),
        }
    }
    if !parsed.is_empty() {
        let outcome = st
            .service
            .add_planned(actor, parsed, AddMode::Partial)
            .await?;
        for (i, row) in parsed_rows.into_iter().zip(outcome.rows) {
            results[i] = Some(match row {
                Ok(n) => RowResult {
                    row: i,
                    outcome: RowOutcome::Added,
                    phone_number: given[i].clone(),
                    number: Some(NumberView::of(&n, actor.account)),
                    error: None,
                },
                Err(r) => rejected(i, &given[i], ApiError::from(r.error)),
            });
        }
    }
    let rows: Vec<RowResult> = results.into_iter().flatten().collect();
    let added = rows
        .iter()
        .filter(|r| r.outcome == RowOutcome::Added)
        .count();
    let status = if added > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AddResult::Partial(PartialAdd {
            added,
            rejected: rows.len() - added,
            rows,
        })),
    )
        .into_response())
}

fn rejected(row: usize, given: &str, e: ApiError) -> RowResult {
    RowResult {
        row,
        outcome: RowOutcome::Rejected,
        phone_number: given.to_string(),
        number: None,
        error: Some(e.body()),
    }
}
