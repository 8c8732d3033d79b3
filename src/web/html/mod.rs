//! The HTML pages: server-rendered, POST-redirect-GET, working without JavaScript. Each area has
//! its own file; the use cases live in `app/`, so handlers only read the request, call them and
//! render. Errors are pages ([`HtmlError`]), never JSON.

mod account;
mod account_links;
mod account_sso;
mod account_two_step;
mod admin_calendar;
mod admin_governance;
mod admin_outbox;
mod admin_users;
mod audit;
mod case_change;
mod case_page;
mod case_print;
mod case_themes;
mod cases;
mod corrections;
mod dashboard;
mod decision_form;
mod documents;
mod event_forms;
mod events;
mod form;
mod meeting_actions;
mod meeting_forms;
mod meetings;
mod publication;
mod reports;
mod your_account;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use tera::Context;

pub use form::FormData;

use super::error_pages::error_page;
use super::session::WebUser;
use super::templates::{base_context, render_page, LayoutUser};
use crate::app::Actor;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::state::AppState;

/// Every page route. `/cases/new` comes before `/cases/{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(form::config())
        .configure(account::routes)
        .configure(account_two_step::routes)
        .configure(account_links::routes)
        .configure(account_sso::routes)
        .configure(your_account::routes)
        .route("/", web::get().to(dashboard::show))
        .configure(cases::routes)
        .configure(documents::routes)
        .configure(audit::routes)
        .configure(case_print::routes)
        .configure(reports::routes)
        .configure(events::routes)
        .configure(corrections::routes)
        .configure(case_change::routes)
        .configure(case_themes::routes)
        .configure(publication::routes)
        .configure(admin_users::routes)
        .configure(admin_calendar::routes)
        .configure(admin_outbox::routes)
        .configure(admin_governance::routes)
        .configure(meetings::routes)
        .configure(meeting_actions::routes)
        .configure(meeting_forms::routes)
        .configure(decision_form::routes);
}

/// What a page handler answers.
pub type PageResult = Result<HttpResponse, HtmlError>;

/// An [`AppError`] shown as a page in the service design: 404, 403 (with its reason), 500 with
/// only an id to quote (the cause goes to the log), and the other statuses as a short message.
pub struct HtmlError(Box<Failed>);

/// What an error page needs: the error, the state (templates, settings), and the user's
/// navigation when signed in.
struct Failed {
    error: AppError,
    state: AppState,
    user: Option<(LayoutUser, String)>,
    actor: Option<Actor>,
    /// Audit this refusal under this action (see [`crate::web::refusal_audit`]).
    audit: Option<&'static str>,
}

/// A refusal for the audit trail, handed from an error page to the middleware that writes it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub actor: Option<Actor>,
    pub action: &'static str,
    pub reason: String,
}

impl HtmlError {
    pub fn new(state: &AppState, user: Option<&WebUser>, error: AppError) -> HtmlError {
        HtmlError(Box::new(Failed {
            error,
            state: state.clone(),
            user: user.map(|u| (layout_user(&u.actor), u.csrf.clone())),
            actor: user.map(|u| u.actor.clone()),
            audit: None,
        }))
    }

    /// Marks this refusal to be audited under `action` when the page is sent.
    pub fn audit(mut self, action: &'static str) -> HtmlError {
        self.0.audit = Some(action);
        self
    }

    pub fn error(&self) -> &AppError {
        &self.0.error
    }

    pub fn into_error(self) -> AppError {
        self.0.error
    }
}

impl fmt::Debug for HtmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.error, f)
    }
}

impl fmt::Display for HtmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.error, f)
    }
}

impl ResponseError for HtmlError {
    fn status_code(&self) -> StatusCode {
        match self.0.error {
            AppError::Unauthorized => StatusCode::SEE_OTHER,
            _ => self.0.error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = self.page();
        if let Some(action) = self.0.audit {
            resp.extensions_mut().insert(Refusal {
                actor: self.0.actor.clone(),
                action,
                reason: self.0.error.to_string(),
            });
        }
        resp
    }
}

impl HtmlError {
    fn page(&self) -> HttpResponse {
        let Failed {
            error, state, user, ..
        } = &*self.0;
        let mut ctx = Context::new();
        if let Some((user, csrf)) = user {
            ctx.insert("user", user);
            ctx.insert("csrf_token", csrf);
        }
        let status = error.status_code();
        match error {
            AppError::Internal(e) => {
                // The request id: the reference on the page, in the X-Request-Id header and on
                // every log line of the request.
                let error_id = crate::web::request_id::current()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                tracing::error!(error_id = %error_id, error = %crate::telemetry::redact_debug(&e), "internal error on a page");
                ctx.insert("error_id", &error_id);
                error_page(state, StatusCode::INTERNAL_SERVER_ERROR, &ctx)
            }
            AppError::Unauthorized => see_other("/sign-in"),
            AppError::Unavailable(_) => {
                let mut resp = error_page(state, status, &ctx);
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(crate::error::RETRY_AFTER_SECS),
                );
                resp
            }
            AppError::Forbidden(message) => {
                ctx.insert("message", &format!("{}.", sentence(message)));
                error_page(state, status, &ctx)
            }
            AppError::BadRequest(_) | AppError::Invalid(_) | AppError::Conflict(_) => {
                let mut full = base_context(state);
                full.extend(ctx);
                full.insert("heading", "Sorry, there is a problem");
                full.insert("message", &sentence(&error.to_string()));
                render_page(state, status, "errors/generic.html", &full)
                    .unwrap_or_else(|_| error_page(state, status, &Context::new()))
            }
            _ => error_page(state, status, &ctx),
        }
    }
}

/// A message as a sentence: capital first letter.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A redirect after a POST (303), or to another page.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn layout_user(actor: &Actor) -> LayoutUser {
    LayoutUser {
        name: actor.name.clone(),
        is_admin: actor.role.may_manage_users(),
        meetings: actor.role != crate::domain::roles::Role::Admin,
        cases: actor.role.case_scope() != crate::domain::roles::CaseScope::NoCases,
    }
}

/// A signed-in user's request: the state, the user, and helpers that keep the user's
/// navigation on every page, error pages included.
pub struct Page {
    pub state: web::Data<AppState>,
    pub user: WebUser,
}

impl FromRequest for Page {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Page, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let user = WebUser::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            let state = state.ok_or_else(|| {
                actix_web::Error::from(AppError::internal(anyhow::anyhow!("no state")))
            })?;
            Ok(Page { state, user })
        })
    }
}

impl Page {
    pub fn actor(&self) -> &Actor {
        &self.user.actor
    }

    /// The layout's variables for this user, and the page title.
    pub fn context(&self, title: &str, nav: &str) -> Context {
        let mut ctx = base_context(&self.state);
        ctx.insert("user", &layout_user(&self.user.actor));
        ctx.insert("csrf_token", &self.user.csrf);
        ctx.insert("page_title", title);
        ctx.insert("nav_current", nav);
        ctx
    }

    pub fn fail(&self, error: AppError) -> HtmlError {
        HtmlError::new(&self.state, Some(&self.user), error)
    }

    /// Runs database work for the user on the blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, HtmlError>
    where
        F: FnOnce(&mut DbConnection, &AppState, &Actor) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let actor = self.user.actor.clone();
        self.state
            .db(move |c, st| f(c, st, &actor))
            .await
            .map_err(|e| self.fail(e))
    }

    pub fn render(&self, template: &str, ctx: &Context) -> PageResult {
        self.render_status(StatusCode::OK, template, ctx)
    }

    pub fn render_status(&self, status: StatusCode, template: &str, ctx: &Context) -> PageResult {
        render_page(&self.state, status, template, ctx).map_err(|e| self.fail(e))
    }

    /// Refuses the request unless the user's role allows it (a 403 page, audited).
    pub fn require(&self, allowed: bool, why: &str) -> Result<(), HtmlError> {
        if allowed {
            Ok(())
        } else {
            Err(self
                .fail(AppError::Forbidden(why.into()))
                .audit("page_refused"))
        }
    }

    /// Checks a state-changing form: our origin and the session's CSRF token (a refusal is
    /// audited), then text without control characters (422).
    pub fn check_form(&self, req: &HttpRequest, form: &FormData) -> Result<(), HtmlError> {
        self.user
            .check_form(req, &self.state.settings, form.get("csrf_token"))
            .map_err(|e| self.fail(e).audit("form_refused"))?;
        form.check_text().map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_start_with_a_capital() {
        assert_eq!(sentence(" enter a date"), "Enter a date");
        assert_eq!(sentence("État"), "État");
        assert_eq!(sentence(""), "");
    }
}
