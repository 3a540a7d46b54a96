//! The number blocks page (SPEC §5) of a provider or reseller: its blocks with where their
//! numbers are now (each count links to the numbers it counts), a form that adds a block, and
//! the confirmation that releases one as a unit.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::{Action, BlockId, MAX_BLOCK_SIZE, NewNumber, Product, input, timestamp};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::WebResult;
use super::forms::{Choice, ConfirmPage, Done, Empty, redirect_done, refusal};
use super::signin::render;
use super::{SignedIn, WebState};
use crate::service::{BlockView, ServiceError};

/// A block as the table shows it.
pub struct BlockRow {
    pub view: BlockView,
    pub added: String,
}

#[derive(Template)]
#[template(path = "blocks.html")]
struct BlocksPage {
    chrome: super::Chrome,
    rows: Vec<BlockRow>,
    form: BlockForm,
    products: Vec<Choice>,
    trunks: Vec<Choice>,
    max: u32,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BlockForm {
    pub start: String,
    pub size: String,
    pub product: String,
    pub sip_trunk: String,
}

async fn blocks_page(
    st: &WebState,
    user: &SignedIn,
    form: BlockForm,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let actor = user.actor();
    let rows = st
        .service
        .list_blocks(actor)
        .await?
        .into_iter()
        .map(|view| BlockRow {
            added: timestamp::rfc3339(view.created_at)
                .get(..10)
                .unwrap_or_default()
                .to_string(),
            view,
        })
        .collect();
    // A reseller has no trunks of its own to name (R-PROV-1): the list is empty for it.
    let trunks = st.service.list_trunks(actor).await.unwrap_or_default();
    let product = if form.product.is_empty() {
        "unallocated"
    } else {
        &form.product
    };
    Ok(render(
        super::status_for(error.is_some()),
        &BlocksPage {
            chrome: user.chrome("blocks"),
            rows,
            products: Choice::of(&Product::ALL, Product::as_str, product),
            trunks: Choice::trunks(&trunks, &form.sip_trunk),
            form,
            max: MAX_BLOCK_SIZE,
            error,
            notice,
        },
    ))
}

/// `GET /portal/blocks`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    blocks_page(&st, &user, BlockForm::default(), None, done.notice()).await
}

/// The form as an add's fields, or what is wrong with it in words.
fn parse_form(f: &BlockForm) -> Result<(numberpool_domain::E164, u32, NewNumber), String> {
    let start = input::phone_number(f.start.trim(), None)
        .map_err(|e| format!("Start number: {}", e.message))?;
    let size: u32 = f
        .size
        .trim()
        .parse()
        .map_err(|_| format!("Size: give a whole number from 1 to {MAX_BLOCK_SIZE}."))?;
    let product = match f.product.trim() {
        "" => None,
        p => Some(p.parse::<Product>().map_err(|e| format!("Product: {e}"))?),
    };
    let sip_trunk_id = match f.sip_trunk.trim() {
        "" => None,
        t => Some(
            t.parse()
                .map_err(|_| "SIP trunk: choose one of the list.".to_string())?,
        ),
    };
    Ok((
        start,
        size,
        NewNumber {
            product,
            sip_trunk_id,
            ..NewNumber::default()
        },
    ))
}

/// `POST /portal/blocks`: adds the block, all or none; a refusal is said beside the form,
/// which keeps what was typed.
pub async fn create(
    State(st): State<WebState>,
    CsrfForm { user, form }: CsrfForm<BlockForm>,
) -> WebResult<Response> {
    let (start, size, fields) = match parse_form(&form) {
        Ok(parsed) => parsed,
        Err(m) => return blocks_page(&st, &user, form, Some(m), None).await,
    };
    match st
        .service
        .create_block(user.actor(), start, size, fields)
        .await
    {
        Ok(b) => Ok(redirect_done(
            "/portal/blocks",
            Action::BlockCreate,
            &format!("{} – {} ({} numbers)", b.start_number, b.end_number, b.size),
            "blocks",
        )),
        Err(e @ (ServiceError::NumberAlreadyExists(_) | ServiceError::NotFound(_))) => {
            let m = super::errors::explain(&e).2;
            blocks_page(&st, &user, form, Some(m), None).await
        }
        Err(e) => {
            let m = refusal(e)?;
            blocks_page(&st, &user, form, Some(m), None).await
        }
    }
}

fn block_id(id: &str) -> WebResult<BlockId> {
    id.parse()
        .map_err(|_| ServiceError::NotFound("number block").into())
}

/// `GET /portal/blocks/{id}/release`: what a release removes, and the button that does it.
pub async fn confirm_release(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let b = st.service.get_block(user.actor(), block_id(&id)?).await?;
    let left = b.free + b.returned + b.in_use;
    let consequence = if b.in_use > 0 {
        format!(
            "{} of this block's numbers are with customers or resellers: the release will be \
             refused until they are released back to your pool.",
            b.in_use
        )
    } else {
        format!(
            "The {left} numbers of this block still in your pool ({} free, {} returned) will be \
             deleted from the platform, and the block with them. Their history stays in the \
             audit log. This cannot be undone.",
            b.free, b.returned
        )
    };
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("blocks"),
            title: format!("Release the block {} – {}?", b.start_number, b.end_number),
            consequence,
            action: format!("/portal/blocks/{}/release", b.id),
            verb: "Release block",
            back: "/portal/blocks".into(),
            danger: true,
        },
    ))
}

/// `POST /portal/blocks/{id}/release`: releases the block, or says on the blocks page why not.
pub async fn release(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = block_id(&id)?;
    let b = st.service.get_block(user.actor(), id).await?;
    match st.service.release_block(user.actor(), id).await {
        Ok(n) => Ok(redirect_done(
            "/portal/blocks",
            Action::BlockRelease,
            &format!(
                "{} – {} ({n} numbers removed)",
                b.start_number, b.end_number
            ),
            "blocks",
        )),
        Err(e) => {
            let m = refusal(e)?;
            blocks_page(&st, &user, BlockForm::default(), Some(m), None).await
        }
    }
}
