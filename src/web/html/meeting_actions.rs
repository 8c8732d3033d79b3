//! The actions on a meeting's page: putting a case on the agenda or taking it off, naming a
//! deputy, signing the record off, attaching a paper and downloading one. Each redirects back
//! to the meeting (POST-redirect-GET), or shows it again with the refusal.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::form::{claim, for_page, humanise, settle, Claim};
use super::{see_other, FormData, Page, PageResult};
use crate::app::governance::meetings::{self as app_meetings};
use crate::app::governance::minutes;
use crate::domain::input::FieldError;
use crate::error::AppError;

use super::meetings::render_show;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/meetings/{id}/agenda", web::post().to(add_case))
        .route(
            "/meetings/{id}/agenda/{case}/remove",
            web::post().to(remove_case),
        )
        .route("/meetings/{id}/deputy", web::post().to(name_deputy))
        .route("/meetings/{id}/sign-off", web::post().to(sign_off))
        .route("/meetings/{id}/papers", web::post().to(upload_paper))
        .route("/meetings/{id}/papers/{paper}", web::get().to(paper));
}

/// Runs an action on a meeting and redirects to its page with `done`; a refusal with field
/// errors shows the meeting page again with them.
async fn act<F>(page: Page, id: String, done: &str, f: F) -> PageResult
where
    F: FnOnce(
            &mut crate::db::DbConnection,
            &crate::state::AppState,
            &crate::app::Actor,
        ) -> Result<(), AppError>
        + Send
        + 'static,
{
    match page.db(f).await {
        Ok(()) => Ok(see_other(&format!("/meetings/{id}?{done}=1"))),
        Err(e) => match e.into_error() {
            AppError::Invalid(found) => {
                let errors = for_page(
                    humanise(found, |_| None),
                    &["case_id".to_string(), "deputy_id".to_string()],
                );
                let view = page
                    .db(move |c, st, actor| {
                        let (m, _, sight, standing) =
                            crate::app::governance::access::visible_meeting(c, actor, &id)?;
                        app_meetings::build(c, st, actor, &m, &sight, &standing)
                    })
                    .await?;
                render_show(
                    &page,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &view,
                    &HashMap::new(),
                    &errors,
                )
                .await
            }
            other => Err(page.fail(other)),
        },
    }
}

async fn add_case(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let id = path.into_inner();
    let to = format!("/meetings/{id}");
    if let Claim::Done(resp) = claim(&page, &form, &to).await? {
        return Ok(resp);
    }
    let case_id = form.get("case_id").to_string();
    let m = id.clone();
    let result = act(
        page_clone(&page),
        id.clone(),
        "added",
        move |c, st, actor| {
            if case_id.is_empty() {
                return Err(AppError::invalid(
                    "case_id",
                    "Select the case to put on the agenda",
                ));
            }
            app_meetings::add_to_agenda(
                c,
                st,
                actor,
                &m,
                &json!({ "case_id": case_id })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .map(|_| ())
        },
    )
    .await;
    let ok = result
        .as_ref()
        .is_ok_and(|r| r.status() == StatusCode::SEE_OTHER);
    settle(
        &page,
        &form,
        ok.then_some(format!("{to}?added=1")).as_deref(),
    )
    .await?;
    result
}

/// A second handle on the same request's page (for helpers that take the page by value).
fn page_clone(page: &Page) -> Page {
    Page {
        state: page.state.clone(),
        user: page.user.clone(),
    }
}

async fn remove_case(
    req: HttpRequest,
    page: Page,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let (id, case) = path.into_inner();
    let m = id.clone();
    act(page, id, "removed", move |c, st, actor| {
        app_meetings::remove_from_agenda(c, st, actor, &m, &case)
    })
    .await
}

async fn name_deputy(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let id = path.into_inner();
    let deputy = form.get("deputy_id").trim().to_string();
    let m = id.clone();
    act(page, id, "deputy", move |c, st, actor| {
        let value = if deputy.is_empty() {
            Value::Null
        } else {
            json!(deputy)
        };
        let body = json!({ "deputy_id": value });
        app_meetings::name_deputy(c, st, actor, &m, body.as_object().expect("object")).map(|_| ())
    })
    .await
}

async fn sign_off(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> PageResult {
    let form = FormData::from(form.into_inner());
    page.check_form(&req, &form)?;
    let id = path.into_inner();
    let m = id.clone();
    act(page, id, "signed", move |c, st, actor| {
        minutes::sign_off(c, st, actor, &m).map(|_| ())
    })
    .await
}

/// Attaches a paper (multipart: its CSRF token in the body, the origin checked before the body
/// is read); a refused file is shown on the form and leaves nothing on disk.
async fn upload_paper(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> PageResult {
    use crate::app::governance::papers;
    use crate::web::uploads::{read_parts, Upload};
    let id = path.into_inner();
    crate::web::session::check_origin(&req, &page.state.settings).map_err(|e| page.fail(e))?;
    let m = id.clone();
    page.db(move |c, _, actor| papers::check_upload(c, actor, &m))
        .await?;
    let mut upload = Upload::default();
    let read = read_parts(&page.state, payload, &mut upload).await;
    let form = FormData::from(upload.fields.clone().into_iter().collect::<Vec<_>>());
    let refuse = |page: Page, id: String, status: StatusCode, errors: Vec<FieldError>| async move {
        let errors = for_page(errors, &["title".to_string(), "file".to_string()]);
        let view = page
            .db(move |c, st, actor| {
                let (m, _, sight, standing) =
                    crate::app::governance::access::visible_meeting(c, actor, &id)?;
                app_meetings::build(c, st, actor, &m, &sight, &standing)
            })
            .await?;
        render_show(&page, status, &view, &HashMap::new(), &errors).await
    };
    let max = page.state.settings.documents.max_bytes;
    let on_file = |e: AppError| -> Result<(StatusCode, Vec<FieldError>), AppError> {
        Ok(match e {
            AppError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                vec![FieldError::new(
                    "file",
                    format!(
                        "The selected file must be smaller than {} MB",
                        max / 1_048_576
                    ),
                )],
            ),
            AppError::UnsupportedType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                vec![FieldError::new(
                    "file",
                    format!(
                        "The selected file must be a {}",
                        crate::domain::documents::FileType::accepted_list()
                    ),
                )],
            ),
            AppError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                vec![FieldError::new(
                    "file",
                    "The selected file could not be uploaded – try again",
                )],
            ),
            AppError::Invalid(found) => {
                (StatusCode::UNPROCESSABLE_ENTITY, humanise(found, |_| None))
            }
            other => return Err(other),
        })
    };
    if let Err(e) = read {
        upload.discard();
        let (status, errors) = on_file(e).map_err(|e| page.fail(e))?;
        return refuse(page_clone(&page), id, status, errors).await;
    }
    if let Err(e) = page.check_form(&req, &form) {
        upload.discard();
        return Err(e);
    }
    let title = form.get("title").trim().to_string();
    let mut errors = vec![];
    if title.is_empty() {
        errors.push(FieldError::new("title", "Enter the title of the paper"));
    }
    let file = upload
        .file
        .take()
        .filter(|f| f.size > 0 || upload.file_name.as_deref().is_some_and(|n| !n.is_empty()));
    let Some(file) = file else {
        errors.push(FieldError::new("file", "Select a file"));
        return refuse(
            page_clone(&page),
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    };
    if !errors.is_empty() {
        file.discard().await;
        return refuse(
            page_clone(&page),
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    }
    let name = upload.file_name.clone().unwrap_or_default();
    let m = id.clone();
    match papers::save(&page.state, page.actor(), &m, &title, &name, file).await {
        Ok(_) => Ok(see_other(&format!("/meetings/{id}?paper=1#papers"))),
        Err(e) => {
            let (status, errors) = on_file(e).map_err(|e| page.fail(e))?;
            refuse(page_clone(&page), id, status, errors).await
        }
    }
}

/// A paper's bytes, for those who see the whole meeting (audited).
async fn paper(page: Page, path: web::Path<(String, String)>) -> PageResult {
    let (id, paper) = path.into_inner();
    crate::web::uploads::paper_response(&page.state, page.actor().clone(), id, paper)
        .await
        .map_err(|e| page.fail(e))
}
