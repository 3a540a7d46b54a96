//! The reservations page (SPEC §5): the reservations the signed-in account made, or that hold
//! numbers for it, with how long each has left; a live one is provisioned to its account from
//! here (the review page, its account chosen), given more time, or released after a
//! confirmation. Reservations are made on the review page of *Find numbers*.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use numberpool_domain::{Action, ReservationId, ReservationStatus, timestamp};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::errors::WebResult;
use super::forms::{ConfirmPage, Done, Empty, redirect_done, refusal};
use super::signin::render;
use super::{SignedIn, WebState};
use crate::service::{ReservationView, ServiceError};

/// `1 day`, `3 h 20 min`, `45 min`, `less than a minute`: a length of time in words.
pub fn duration_words(seconds: i64) -> String {
    let minutes = seconds / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let plural = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    match (d, h, m) {
        (0, 0, 0) => "less than a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => plural(d, "day"),
        (d, h, _) => format!("{} {h} h", plural(d, "day")),
    }
}

/// A time as the page shows it: `2026-12-05 14:03 UTC`.
pub fn when(ms: i64) -> String {
    let t = timestamp::rfc3339(ms);
    format!(
        "{} {} UTC",
        t.get(..10).unwrap_or_default(),
        t.get(11..16).unwrap_or_default()
    )
}

/// A reservation as the table shows it.
pub struct ReservationRow {
    pub view: ReservationView,
    pub for_name: String,
    pub ends: String,
    pub left: String,
    /// The review page's query that provisions its numbers to its account.
    pub provision_query: String,
    pub live: bool,
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "reservations.html")]
struct ReservationsPage {
    chrome: super::Chrome,
    rows: Vec<ReservationRow>,
    error: Option<String>,
    notice: Option<String>,
}

async fn reservations_page(
    st: &WebState,
    user: &SignedIn,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let actor = user.actor();
    let list = st.service.list_reservations(actor).await?;
    let accounts = st.service.list_accounts(actor).await?;
    let name_of = |id| {
        accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "your account".into())
    };
    let rows = list
        .into_iter()
        .map(|view| {
            let live = view.status == ReservationStatus::Active;
            let mut q: Vec<(&str, String)> = vec![("site", view.account_id.to_string())];
            q.extend(view.phone_numbers.iter().map(|n| ("n", n.clone())));
            ReservationRow {
                for_name: name_of(view.account_id),
                ends: when(view.expires_at),
                left: if live {
                    format!("{} left", duration_words(view.seconds_left))
                } else {
                    view.status.as_str().to_string()
                },
                provision_query: serde_urlencoded::to_string(&q).unwrap_or_default(),
                mine: view.pool_id == actor.account,
                live,
                view,
            }
        })
        .collect();
    Ok(render(
        super::status_for(error.is_some()),
        &ReservationsPage {
            chrome: user.chrome("reservations"),
            rows,
            error,
            notice,
        },
    ))
}

/// `GET /portal/reservations`.
pub async fn list(
    State(st): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> WebResult<Response> {
    reservations_page(&st, &user, None, done.notice()).await
}

fn reservation_id(id: &str) -> WebResult<ReservationId> {
    id.parse()
        .map_err(|_| ServiceError::NotFound("reservation").into())
}

/// The form of *Give more time*: how many hours from now.
#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    hours: String,
}

/// `POST /portal/reservations/{id}/extend`: the reservation ends that many hours from now.
pub async fn extend(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, form }: CsrfForm<ExtendForm>,
) -> WebResult<Response> {
    let id = reservation_id(&id)?;
    let Ok(hours) = form.hours.trim().parse::<i64>() else {
        let m = "Give more time: choose how long from the list.".to_string();
        return reservations_page(&st, &user, Some(m), None).await;
    };
    match st
        .service
        .extend_reservation(user.actor(), id, hours.saturating_mul(3_600_000), None)
        .await
    {
        Ok(r) => Ok(redirect_done(
            "/portal/reservations",
            Action::ReservationExtend,
            &format!(
                "{} until {}",
                r.phone_numbers.join(", "),
                when(r.expires_at)
            ),
            "reservations",
        )),
        Err(e) => {
            let m = refusal(e)?;
            reservations_page(&st, &user, Some(m), None).await
        }
    }
}

/// `GET /portal/reservations/{id}/release`: what a release frees, and the button that does it.
pub async fn confirm_release(
    State(st): State<WebState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let r = st
        .service
        .get_reservation(user.actor(), reservation_id(&id)?)
        .await?;
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            chrome: user.chrome("reservations"),
            title: "Release this reservation?".into(),
            consequence: format!(
                "{} will be free again at once: anyone may find and take them. The reservation \
                 would have ended by itself at {}.",
                r.phone_numbers.join(", "),
                when(r.expires_at)
            ),
            action: format!("/portal/reservations/{}/release", r.id),
            verb: "Release reservation",
            back: "/portal/reservations".into(),
            danger: true,
        },
    ))
}

/// `POST /portal/reservations/{id}/release`: ends the reservation, or says why not.
pub async fn release(
    State(st): State<WebState>,
    Path(id): Path<String>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = reservation_id(&id)?;
    let before = st.service.get_reservation(user.actor(), id).await?;
    match st.service.release_reservation(user.actor(), id).await {
        Ok(_) => Ok(redirect_done(
            "/portal/reservations",
            Action::ReservationRelease,
            &before.phone_numbers.join(", "),
            "reservations",
        )),
        Err(e) => {
            let m = refusal(e)?;
            reservations_page(&st, &user, Some(m), None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(30), "less than a minute");
        assert_eq!(duration_words(45 * 60), "45 min");
        assert_eq!(duration_words(3 * 3600), "3 h");
        assert_eq!(duration_words(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(duration_words(86_400), "1 day");
        assert_eq!(duration_words(2 * 86_400 + 5 * 3600 + 59), "2 days 5 h");
    }
}
