//! `/v2/accounts`: the accounts the caller may see (its own, those below it and, for a provider,
//! its connected customers), one by id, and creating an account below the caller (R-TREE-1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numberpool_domain::{Account, AccountId, AccountKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, PhoneRead, PhoneWrite, decode_page_token, if_match,
    page_size,
};
use super::reply::{page_of, with_etag};
use super::responses::{
    CommonErrors, ConcurrentChange, FilteredListErrors, JsonErrors, NotFound, PatchErrors,
    Responses, STALE, Scoped, rows,
};
use crate::service::{AccountPatch, CreateAccount, EntitlementsView, Offboarding};

impl Scoped for Account {
    const NOUN: &'static str = "account";
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountPath {
    /// The account's id.
    #[serde(rename = "accountId")]
    #[param(rename = "accountId")]
    pub account_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Accounts per page: 1 to 300, default 30.
    #[param(minimum = 1, maximum = 300)]
    pub page_size: Option<u32>,
    pub next_page_token: Option<String>,
    pub kind: Option<AccountKind>,
}

/// A page of accounts.
#[derive(Serialize, ToSchema)]
pub struct AccountPage {
    pub accounts: Vec<Account>,
    pub page_size: u32,
    /// Pass as `next_page_token` for the next page; empty on the last page.
    pub next_page_token: String,
    pub total_records: i64,
}

/// List accounts
///
/// The caller's account, the accounts below it and, for a provider, its connected customers, in
/// creation order.
#[utoipa::path(get, path = "/v2/accounts", tag = "Accounts",
    params(AccountQuery),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "A page of accounts", body = AccountPage),
        CommonErrors,
        FilteredListErrors,
    ))]
pub async fn list_accounts(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> ApiResult<Json<AccountPage>> {
    let size = page_size(q.page_size)?;
    let after: Option<AccountId> = decode_page_token(q.next_page_token.as_deref())?;
    // An account tree is thousands of rows at most, not millions: one scoped query, paged here.
    let mut all = st.service.list_accounts(&auth.actor).await?;
    all.retain(|a| q.kind.is_none_or(|k| a.kind == k));
    all.sort_by_key(|a| a.id);
    let (accounts, next_page_token, total_records) = page_of(all, |a| a.id, size, after);
    Ok(Json(AccountPage {
        accounts,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

fn account_id(p: &AccountPath) -> ApiResult<AccountId> {
    p.account_id
        .parse()
        .map_err(|_| ApiError::not_found("account"))
}

/// Get an account
///
/// The `ETag` header carries the version to send back in `If-Match`.
#[utoipa::path(get, path = "/v2/accounts/{accountId}", tag = "Accounts",
    params(AccountPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The account", body = Account,
            headers(("ETag" = String, description = "The account's version"))),
        CommonErrors,
        NotFound<Account>,
    ))]
pub async fn get_account(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Response> {
    let id = account_id(&p)?;
    let a = st.service.get_account(&auth.actor, id).await?;
    Ok(with_etag(StatusCode::OK, a.version, a))
}

/// The editable fields of an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccountBody {
    pub name: Option<String>,
    /// R-ACC-2, for a customer below the caller: whether it may add numbers of its own.
    pub allow_external_numbers: Option<bool>,
    /// R-ACC-3, for a customer below the caller: licence limits. A field left out stays as it
    /// is; `null` removes the limit.
    pub entitlements: Option<EntitlementsPatch>,
}

/// New licence limits; absent fields stay, `null` is no limit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntitlementsPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub toll_free: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub contact_center: Option<Option<u32>>,
}

/// A field that is present (even as `null`) is `Some`; serde's default makes an absent one `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Update an account
///
/// Renames the caller's account or one below it, grants (withdraws) R-ACC-2 to a customer
/// below the caller, or sets a customer's licence limits (R-ACC-3). A connected customer (Provider Exchange) is not the provider's to change.
/// Send the `ETag` as `If-Match` to update only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/accounts/{accountId}", tag = "Accounts",
    params(AccountPath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchAccountBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The updated account", body = Account,
            headers(("ETag" = String, description = "The account's new version"))),
        CommonErrors,
        PatchErrors,
        ConcurrentChange,
        (status = 404, description = "No such account in the caller's own subtree (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 422, description = "A rule refused it (`rule_violation`, R-ACC-2, R-ACC-3)", body = ErrorBody),
    ))]
pub async fn update_account(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PatchAccountBody>,
) -> ApiResult<Response> {
    let id = account_id(&p)?;
    let version = if_match(&headers)?;
    let lim = |v: Option<Option<u32>>| v.map(|o| o.map(i64::from));
    let (toll_free, contact_center) = match body.entitlements {
        Some(e) => (lim(e.toll_free), lim(e.contact_center)),
        None => (None, None),
    };
    let patch = AccountPatch {
        name: body.name,
        allow_external_numbers: body.allow_external_numbers,
        toll_free_licences: toll_free,
        contact_center_licences: contact_center,
    };
    let account = st
        .service
        .update_account(&auth.actor, id, &patch, version)
        .await?;
    Ok(with_etag(StatusCode::OK, account.version, account))
}

/// A new account below the caller (or below `parent_id`, an account in the caller's subtree).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountBody {
    pub name: String,
    pub kind: AccountKind,
    /// Defaults to the caller's account.
    pub parent_id: Option<AccountId>,
    /// R-ACC-2: a customer that may add numbers of its own.
    #[serde(default)]
    pub allow_external_numbers: bool,
}

/// Create an account
///
/// A reseller, customer or unit below the caller, by the tree rule (R-TREE-1).
#[utoipa::path(post, path = "/v2/accounts", tag = "Accounts",
    params(IdempotencyKey),
    request_body = NewAccountBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 201, description = "The new account", body = Account),
        CommonErrors,
        JsonErrors,
        (status = 404, description = "The parent is not in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "The name is taken (`already_exists`)", body = ErrorBody),
        (status = 422, description = "The tree rule refused it (`rule_violation`, R-TREE-1), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn create_account(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<NewAccountBody>,
) -> ApiResult<Response> {
    let mut req = CreateAccount::new(
        &body.name,
        body.kind,
        Some(body.parent_id.unwrap_or(auth.actor.account)),
    );
    req.allow_external_numbers = body.allow_external_numbers;
    let account = st.service.create_account(&auth.actor, req).await?;
    Ok(with_etag(StatusCode::CREATED, account.version, account))
}

/// Deactivate an account
///
/// An account below the caller stops working: its API clients and users (and those of every
/// account below it) are refused with 401 until it is reactivated; its data is kept. Refused
/// while any number is held by it or below it (R-OFF-1): `GET …/offboarding` lists them all.
/// Send the `ETag` as `If-Match` to act only on the version you read.
#[utoipa::path(post, path = "/v2/accounts/{accountId}/deactivate", tag = "Accounts",
    params(AccountPath, IdempotencyKey, ("If-Match" = Option<String>, Header, description = "The ETag the change applies to")),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The deactivated account", body = Account,
            headers(("ETag" = String, description = "The account's new version"))),
        CommonErrors,
        StatusChangeErrors,
        (status = 422, description = "Numbers are still held in its subtree, it is the caller's own account, or it is deactivated already (`rule_violation`, R-OFF-1); or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn deactivate_account(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    set_status(&auth, &st, &p, &headers, true).await
}

/// What deactivation and reactivation refuse alike: a malformed `Idempotency-Key` or `If-Match`,
/// an account not below the caller, a change made at the same time, another version than
/// `If-Match` names.
pub struct StatusChangeErrors;

impl IntoResponses for StatusChangeErrors {
    fn responses() -> Responses {
        let mut all = ConcurrentChange::responses();
        all.extend(rows([
            (
                400,
                "A malformed header (`invalid_input`, `invalid_if_match`)",
            ),
            (
                404,
                "No such account below the caller (`not_found`, R-SEC-1)",
            ),
            STALE,
        ]));
        all
    }
}

/// Deactivation and reactivation: the same path, header and answer.
async fn set_status(
    auth: &Auth<PhoneWrite>,
    st: &ApiState,
    p: &AccountPath,
    headers: &HeaderMap,
    deactivate: bool,
) -> ApiResult<Response> {
    let id = account_id(p)?;
    let version = if_match(headers)?;
    let a = st
        .service
        .set_account_status(&auth.actor, id, deactivate, version)
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, a))
}

/// Reactivate an account
///
/// A deactivated account below the caller works again as it was: its clients and users are let
/// back in.
#[utoipa::path(post, path = "/v2/accounts/{accountId}/reactivate", tag = "Accounts",
    params(AccountPath, IdempotencyKey, ("If-Match" = Option<String>, Header, description = "The ETag the change applies to")),
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The active account", body = Account,
            headers(("ETag" = String, description = "The account's new version"))),
        CommonErrors,
        StatusChangeErrors,
        (status = 422, description = "It is active already, or the caller's own account (`rule_violation`, R-OFF-1); or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
pub async fn reactivate_account(
    auth: Auth<PhoneWrite>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    set_status(&auth, &st, &p, &headers, false).await
}

/// Offboarding check
///
/// Everything in the way of offboarding the account, all at once, for each action the caller
/// could take: deactivating an account below it (R-OFF-1); for a root customer's own account,
/// requesting disconnection from each connected provider (R-ACC-1); for a provider looking at
/// a connected customer, the customer's disconnect request and the provider's deactivation
/// (R-ACC-1). Each blocker says how many numbers and shows up to 20 of them.
#[utoipa::path(get, path = "/v2/accounts/{accountId}/offboarding", tag = "Accounts",
    params(AccountPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The checks and their blockers", body = Offboarding),
        CommonErrors,
        NotFound<Account>,
    ))]
pub async fn offboarding(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Json<Offboarding>> {
    let id = account_id(&p)?;
    Ok(Json(st.service.offboarding(&auth.actor, id).await?))
}

/// Get a customer's entitlements
///
/// Toll-free and contact-center licences (R-ACC-3): the limit (`null` is none) and how many
/// numbers allocated to the customer use one, for the customer and the accounts above it. Set the
/// limits with `PATCH /v2/accounts/{accountId}`.
#[utoipa::path(get, path = "/v2/accounts/{accountId}/entitlements", tag = "Accounts",
    params(AccountPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "Licences and their use", body = EntitlementsView),
        (status = 400, description = "The account is not a customer (`invalid_input`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such account in the caller's own tree, itself or below (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn entitlements(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Json<EntitlementsView>> {
    let id = account_id(&p)?;
    Ok(Json(st.service.entitlements(&auth.actor, id).await?))
}
