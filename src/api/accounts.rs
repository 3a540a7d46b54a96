//! `/v2/accounts`: the accounts the caller may see (its own, those below it and, for a provider,
//! its connected customers), one by id, and creating an account below the caller (R-TREE-1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numberpool_domain::{Account, AccountId, AccountKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, BodyErrors, CommonErrors, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, PhoneRead, PhoneWrite, decode_page_token,
    encode_page_token, etag, if_match, page_size,
};
use crate::service::{AccountPatch, CreateAccount};

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
        (status = 400, description = "A filter or the page token is invalid (`invalid_input`, `invalid_page_token`)", body = ErrorBody),
        CommonErrors,
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
    let total_records = all.len() as i64;
    let mut page: Vec<Account> = all
        .into_iter()
        .filter(|a| after.is_none_or(|x| a.id > x))
        .take(size as usize + 1)
        .collect();
    let next_page_token = if page.len() > size as usize {
        page.truncate(size as usize);
        page.last()
            .map(|a| encode_page_token(&a.id.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Json(AccountPage {
        accounts: page,
        page_size: size,
        next_page_token,
        total_records,
    }))
}

/// An account with its ETag.
fn account_response(status: StatusCode, account: Account) -> Response {
    let tag = etag(account.version);
    let mut res = (status, Json(account)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
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
        (status = 404, description = "No such account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn get_account(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Response> {
    let id = account_id(&p)?;
    Ok(account_response(
        StatusCode::OK,
        st.service.get_account(&auth.actor, id).await?,
    ))
}

/// The editable fields of an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAccountBody {
    pub name: Option<String>,
    /// R-ACC-2, for a customer below the caller: whether it may add numbers of its own.
    pub allow_external_numbers: Option<bool>,
}

/// Update an account
///
/// Renames the caller's account or one below it, or grants (withdraws) R-ACC-2 to a customer
/// below the caller. A connected customer (Provider Exchange) is not the provider's to change.
/// Send the `ETag` as `If-Match` to update only the version you read (412 otherwise).
#[utoipa::path(patch, path = "/v2/accounts/{accountId}", tag = "Accounts",
    params(AccountPath, ("If-Match" = Option<String>, Header, description = "The ETag the update applies to")),
    request_body = PatchAccountBody,
    security(("oauth2" = ["phone:write:admin"])),
    responses(
        (status = 200, description = "The updated account", body = Account,
            headers(("ETag" = String, description = "The account's new version"))),
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`, `invalid_if_match`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "No such account in the caller's own subtree (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "Changed at the same time by someone else (`conflict`)", body = ErrorBody),
        (status = 412, description = "If-Match names another version (`precondition_failed`)", body = ErrorBody),
        BodyErrors,
        (status = 422, description = "A rule refused it (`rule_violation`, R-ACC-2)", body = ErrorBody),
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
    let patch = AccountPatch {
        name: body.name,
        allow_external_numbers: body.allow_external_numbers,
    };
    let account = st
        .service
        .update_account(&auth.actor, id, &patch, version)
        .await?;
    Ok(account_response(StatusCode::OK, account))
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
        (status = 400, description = "Bad input (`invalid_input`, `malformed_json`)", body = ErrorBody),
        CommonErrors,
        (status = 404, description = "The parent is not in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
        (status = 409, description = "The name is taken (`already_exists`)", body = ErrorBody),
        BodyErrors,
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
    let account = st.service.create_account(Some(&auth.actor), req).await?;
    Ok(account_response(StatusCode::CREATED, account))
}
