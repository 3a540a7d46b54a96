//! `/v2/phone/number_blocks` (seed 002's number blocks, SPEC §5): add a contiguous range to the
//! caller's pool as one unit, list the caller's blocks with where their numbers are, read one,
//! and release one as a unit.

use numberpool_domain::{E164, NumberType};

use super::*;
use crate::api::reply::page_of;
use crate::service::BlockView;

/// A block to add: a start number and a size, and the fields every number of it gets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBlockBody {
    /// The block's first number: E.164, or national format when `country` is given.
    pub start_number: String,
    /// How many numbers, counting up from `start_number`: 1 to 10,000.
    #[schema(minimum = 1, maximum = 10000)]
    pub size: u32,
    /// ISO 3166 alpha-2 country for a national-format `start_number`.
    pub country: Option<String>,
    pub product: Option<Product>,
    pub status: Option<NumberStatus>,
    /// Explicit type (R-NUM-3); derived from each number when absent.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub number_type: Option<NumberType>,
    pub billing_reference: Option<String>,
    pub service_info: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub customization: Option<Customization>,
    pub attributes: Option<BTreeMap<String, String>>,
    /// One of the provider's SIP trunks.
    pub sip_trunk_id: Option<TrunkId>,
    /// A voice carrier of the provider; its default when voice is on and none is named.
    pub voice_carrier_id: Option<CarrierId>,
    /// An SMS carrier profile of the provider; its default when SMS is on and none is named.
    pub sms_carrier_id: Option<CarrierId>,
}

impl Scoped for BlockView {
    const NOUN: &'static str = "number block";
}

/// A page of number blocks.
#[derive(Serialize, ToSchema)]
pub struct BlockPage {
    pub number_blocks: Vec<BlockView>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// What a release removed.
#[derive(Serialize, ToSchema)]
pub struct BlockReleased {
    pub id: BlockId,
    /// The block's numbers that were still on the platform, now deleted.
    pub released_numbers: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockQuery {
    /// Blocks per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlockPath {
    /// The block's id.
    #[serde(rename = "blockId")]
    #[param(rename = "blockId")]
    pub block_id: String,
}

fn block_id(p: &BlockPath) -> ApiResult<BlockId> {
    p.block_id
        .parse()
        .map_err(|_| ApiError::not_found("number block"))
}

/// List number blocks
///
/// The blocks the caller's account added, oldest first, each with how many of its numbers are
/// free, in use below the pool, returned, or removed.
#[utoipa::path(get, path = "/v2/phone/number_blocks", tag = "Getting numbers",
    params(BlockQuery),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "A page of number blocks", body = BlockPage),
        CommonErrors,
        super::super::responses::ListErrors,
    ))]
pub async fn list_blocks(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<BlockQuery>,
) -> ApiResult<Json<BlockPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<BlockId> = decode_page_token(q.next_page_token.as_deref())?;
    let all = st.service.list_blocks(&auth.actor).await?;
    let (blocks, next_page_token, total_records) = page_of(all, |b| b.id, size, after);
    Ok(Json(BlockPage {
        number_blocks: blocks,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// Create a number block
///
/// Adds `size` numbers counting up from `start_number` to the caller's pool as one block, all
/// or none, each with the fields given (as an add: R-NUM-1, the field rules, default
/// carriers). A range that leaves the start's numbering area is refused naming the first
/// number that does not fit.
#[utoipa::path(post, path = "/v2/phone/number_blocks", tag = "Getting numbers",
    params(IdempotencyKey),
    request_body = NewBlockBody,
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 201, description = "The new block", body = BlockView),
        (status = 400, description = "Bad input (`invalid_input`, `invalid_number` R-NUM-2, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        RuleErrors,
        (status = 404, description = "A named SIP trunk or carrier is not the provider's (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "A number of the range is already on the platform (`number_already_exists`, R-NUM-1)", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn create_block(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    ApiJson(b): ApiJson<NewBlockBody>,
) -> ApiResult<Response> {
    let start: E164 = input::phone_number(&b.start_number, b.country.as_deref()).map_err(|e| {
        let mut err = ApiError::bad_request(e.code, format!("start_number: {}", e.message));
        err.rule = e.rule.map(|r| r.id());
        err
    })?;
    let fields = NewNumber {
        product: b.product,
        status: b.status,
        number_type: b.number_type,
        billing_reference: b.billing_reference,
        service_info: b.service_info,
        capabilities: b.capabilities,
        customization: b.customization,
        attributes: b.attributes.unwrap_or_default(),
        sip_trunk_id: b.sip_trunk_id,
        voice_carrier_id: b.voice_carrier_id,
        sms_carrier_id: b.sms_carrier_id,
        ..NewNumber::default()
    };
    let made = st
        .service
        .create_block(&auth.actor, start, b.size, fields)
        .await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Get a number block
#[utoipa::path(get, path = "/v2/phone/number_blocks/{blockId}", tag = "Getting numbers",
    params(BlockPath),
    security(("oauth2" = ["phone_number:read:admin"])),
    responses(
        (status = 200, description = "The block", body = BlockView),
        CommonErrors,
        NotFound<BlockView>,
    ))]
pub async fn get_block(
    auth: Auth<NumberRead>,
    State(st): State<ApiState>,
    Path(p): Path<BlockPath>,
) -> ApiResult<Json<BlockView>> {
    let id = block_id(&p)?;
    Ok(Json(st.service.get_block(&auth.actor, id).await?))
}

/// Release a number block
///
/// Removes every number of the block still on the platform, and the block, as one unit. While
/// any of them is with a customer or below the caller's pool the release is refused whole
/// (R-DEL-1), saying how many and which first.
#[utoipa::path(delete, path = "/v2/phone/number_blocks/{blockId}", tag = "Getting numbers",
    params(BlockPath),
    security(("oauth2" = ["phone_number:write:admin"])),
    responses(
        (status = 200, description = "The block is gone, with how many numbers went", body = BlockReleased),
        CommonErrors,
        NotFound<BlockView>,
        (status = 409, description = "A number of the block changed during the release (`conflict`); nothing was released", body = ErrorBody),
        (status = 422, description = "Numbers of the block are with a customer or below the pool (`rule_violation`, R-DEL-1) or reserved (R-RES-2)", body = ErrorBody),
    ))]
pub async fn release_block(
    auth: Auth<NumberWrite>,
    State(st): State<ApiState>,
    Path(p): Path<BlockPath>,
) -> ApiResult<Json<BlockReleased>> {
    let id = block_id(&p)?;
    let released_numbers = st.service.release_block(&auth.actor, id).await?;
    Ok(Json(BlockReleased {
        id,
        released_numbers,
    }))
}
