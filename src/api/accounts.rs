//! `/v2/accounts`: the accounts the caller may see (its own, those below it and, for a provider,
//! its connected customers), one by id, and creating an account below the caller (R-TREE-1).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use numberpool_domain::{Account, AccountId, AccountKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::error::{ApiError, ApiResult, BodyErrors, CommonErrors, ErrorBody};
use super::extract::{
    ApiJson, ApiQuery, Auth, IdempotencyKey, PhoneRead, PhoneWrite, decode_page_token,
    encode_page_token, page_size,
};
use crate::service::CreateAccount;

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

/// Get an account
#[utoipa::path(get, path = "/v2/accounts/{accountId}", tag = "Accounts",
    params(AccountPath),
    security(("oauth2" = ["phone:read:admin"])),
    responses(
        (status = 200, description = "The account", body = Account),
        CommonErrors,
        (status = 404, description = "No such account in the caller's scope (`not_found`, R-SEC-1)", body = ErrorBody),
    ))]
pub async fn get_account(
    auth: Auth<PhoneRead>,
    State(st): State<ApiState>,
    Path(p): Path<AccountPath>,
) -> ApiResult<Json<Account>> {
    let id: AccountId = p
        .account_id
        .parse()
        .map_err(|_| ApiError::not_found("account"))?;
    Ok(Json(st.service.get_account(&auth.actor, id).await?))
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
) -> ApiResult<(StatusCode, Json<Account>)> {
    let mut req = CreateAccount::new(
        &body.name,
        body.kind,
        Some(body.parent_id.unwrap_or(auth.actor.account)),
    );
    req.allow_external_numbers = body.allow_external_numbers;
    let account = st.service.create_account(Some(&auth.actor), req).await?;
    Ok((StatusCode::CREATED, Json(account)))
}
