//! Your account (`/account`): who you are, how deadline reminders reach you (an email each, or
//! one daily digest; statutory reminders cannot be switched off), your secret calendar feed
//! (made, remade or turned off), and the way to change your password (`account.rs`).
//!
//! Only a hash of a feed's token is stored, so its address can be shown once only: the POST
//! that makes it hands the token to the page after the redirect in a short-lived cookie
//! (`Path=/account`, `HttpOnly`, `SameSite=Strict`) bound to the session by a MAC; the page
//! shows it and removes the cookie. It never goes into a URL, where the access log would see it.

use std::collections::HashMap;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::json;

use super::form::{humanise, Posted};
use super::{see_other, FormData, Page, PageResult};
use crate::app::{feeds, reminders, users};
use crate::domain::input::FieldError;
use crate::domain::reminders::ReminderMode;
use crate::error::AppError;
use crate::web::session::{is_https, same_token};

/// Carries a new feed token from the POST that made it to the page that shows it.
const NEW_FEED_COOKIE: &str = "lcspr_new_feed";
const COOKIE_PATH: &str = "/account";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(show))
        .route("/account/reminders", web::post().to(set_reminders))
        .route("/account/feed", web::post().to(make_feed))
        .route("/account/feed/revoke", web::post().to(revoke_feed));
}

/// The hour digests go out, as GOV.UK writes times: "7am", "midday", "1pm".
fn hour_text(hour: u32) -> String {
    match hour {
        0 => "midnight".into(),
        12 => "midday".into(),
        h if h < 12 => format!("{h}am"),
        h => format!("{}pm", h - 12),
    }
}

/// The MAC binding a new feed token to the session that made it.
fn feed_mac(page: &Page, token: &str) -> String {
    page.state
        .keys
        .mac(&format!("new-feed:{}:{token}", page.user.token_id))
}

fn new_feed_cookie(req: &HttpRequest, page: &Page, value: String) -> Cookie<'static> {
    Cookie::build(NEW_FEED_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req, &page.state.settings))
        .max_age(CookieDuration::minutes(5))
        .finish()
}

/// The address of the feed this session has just made, if the cookie carries one.
fn new_feed_url(req: &HttpRequest, page: &Page) -> Option<String> {
    let cookie = req.cookie(NEW_FEED_COOKIE)?;
    let (token, mac) = cookie.value().split_once('.')?;
    let well_formed = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    (well_formed && same_token(mac, &feed_mac(page, token)))
        .then(|| feeds::feed_url(&page.state, token))
}

async fn render(
    req: &HttpRequest,
    page: &Page,
    status: StatusCode,
    banner: Option<(String, String)>,
    form: &FormData,
    errors: &[FieldError],
) -> PageResult {
    let (mode, has_feed, me) = page
        .db(|c, _, actor| {
            Ok((
                reminders::mode(c, actor)?,
                feeds::has_feed(c, actor)?,
                users::get(c, &actor.user_id)?.ok_or(AppError::NotFound)?,
            ))
        })
        .await?;
    let mut rows = vec![
        json!({ "key": "Name", "value": me.name }),
        json!({ "key": "Email address", "value": me.email }),
        json!({ "key": "Role", "value": me.role.label() }),
    ];
    if let Some(agency) = &me.agency {
        rows.push(json!({ "key": "Agency", "value": agency }));
    }
    let mut values = form.values(&[]);
    if !values.contains_key("mode") {
        values.insert("mode".into(), json!(mode.as_str()));
    }
    let digest_hour = hour_text(page.state.settings.jobs.digest_hour);
    let modes = json!([
        { "value": ReminderMode::Immediate.as_str(), "text": ReminderMode::Immediate.label(),
          "hint": "Sent as each reminder falls due" },
        { "value": ReminderMode::Daily.as_str(), "text": ReminderMode::Daily.label(),
          "hint": format!("One email each working day from {digest_hour}, listing everything due and overdue, grouped by case") },
    ]);
    let new_feed = new_feed_url(req, page);
    let mut ctx = page.context("Your account", "account");
    ctx.insert("rows", &rows);
    ctx.insert("modes", &modes);
    ctx.insert("form", &values);
    ctx.insert("errors", errors);
    ctx.insert("has_feed", &has_feed);
    ctx.insert("new_feed_url", &new_feed);
    ctx.insert(
        "banner",
        &banner.map(|(heading, text)| json!({ "heading": heading, "text": text })),
    );
    let mut resp = page.render_status(status, "pages/account/show.html", &ctx)?;
    if req.cookie(NEW_FEED_COOKIE).is_some() {
        // Shown once: the cookie goes with this page.
        let mut gone = new_feed_cookie(req, page, String::new());
        gone.set_max_age(CookieDuration::ZERO);
        resp.add_cookie(&gone)
            .map_err(|e| page.fail(AppError::internal(e)))?;
    }
    Ok(resp)
}

async fn show(req: HttpRequest, page: Page, q: web::Query<HashMap<String, String>>) -> PageResult {
    let banner = match (
        q.get("reminders").map(String::as_str),
        q.get("feed").map(String::as_str),
    ) {
        (Some(mode), _) => mode.parse::<ReminderMode>().ok().map(|m| {
            let text = match m {
                ReminderMode::Immediate => {
                    "You will get an email for each reminder as it falls due."
                }
                ReminderMode::Daily => {
                    "You will get one email each working day listing everything due and overdue."
                }
            };
            (
                "Your reminder setting has been saved".to_string(),
                text.to_string(),
            )
        }),
        (_, Some("revoked")) => Some((
            "Your calendar feed has been turned off".into(),
            "Its address no longer works; calendars subscribed to it stop updating.".into(),
        )),
        _ => None,
    };
    render(
        &req,
        &page,
        StatusCode::OK,
        banner,
        &FormData::default(),
        &[],
    )
    .await
}

async fn set_reminders(req: HttpRequest, posted: Posted) -> PageResult {
    let Posted { page, form } = &posted;
    let chosen = match form.get("mode").trim() {
        "" => Err(vec![FieldError::new(
            "mode",
            "Select how you want to get deadline reminders",
        )]),
        v => reminders::parse_mode(Some(v)).map_err(|e| humanise(e.field_errors(), |_| None)),
    };
    match chosen {
        Ok(mode) => {
            let mode = page
                .db(move |c, st, actor| reminders::set_mode(c, actor, st.now(), mode))
                .await?;
            Ok(see_other(&format!("/account?reminders={}", mode.as_str())))
        }
        Err(errors) => {
            render(
                &req,
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                &errors,
            )
            .await
        }
    }
}

/// Makes a new feed address (the old one stops working) and shows it once.
async fn make_feed(req: HttpRequest, posted: Posted) -> PageResult {
    let page = &posted.page;
    let url = page
        .db(|c, st, actor| feeds::generate(c, st, actor, st.now()))
        .await?;
    let token = url
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".ics"))
        .ok_or_else(|| page.fail(AppError::internal(anyhow::anyhow!("unexpected feed URL"))))?;
    let value = format!("{token}.{}", feed_mac(page, token));
    let mut resp = see_other("/account");
    resp.add_cookie(&new_feed_cookie(&req, page, value))
        .map_err(|e| page.fail(AppError::internal(e)))?;
    Ok(resp)
}

async fn revoke_feed(posted: Posted) -> PageResult {
    let page = &posted.page;
    page.db(|c, st, actor| feeds::revoke(c, actor, st.now()))
        .await?;
    Ok(see_other("/account?feed=revoked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_as_gov_uk_writes_them() {
        let hours: Vec<String> = [0, 7, 12, 13].into_iter().map(hour_text).collect();
        assert_eq!(hours, ["midnight", "7am", "midday", "1pm"]);
    }
}
