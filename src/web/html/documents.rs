//! Review documents on the pages. The case page lists them (`listing`, `banner`); here: the
//! upload form (`GET/POST /cases/{id}/documents/new`, multipart, read and stored by the API's
//! own code, so the size limit, the streaming and the type check are the same), downloads with
//! the session (`GET /cases/{id}/documents/{doc}/versions/{n}`), and deleting a version with a
//! reason (`GET/POST …/versions/{n}/delete`). A refused upload is shown on the form, on its file
//! field, and leaves no row and no file.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};

use super::event_forms::Item;
use super::form::{claim, for_page, humanise, settle, Claim, Outcome, Posted};
use super::{see_other, FormData, HtmlError, Page, PageResult};
use crate::app::access::visible_or_refuse;
use crate::app::documents::{self, DocumentView, VersionView};
use crate::app::Actor;
use crate::db::models::CaseRow;
use crate::db::DbConnection;
use crate::domain::documents::{DocumentKind, FileType};
use crate::domain::input::FieldError;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::{check_origin, new_form_id};
use crate::web::uploads::{download_response, read_upload, store_upload, Upload};

/// Hex digits of a SHA-256 shown in lists; the whole value is one click away.
const SHORT_SHA256: usize = 12;

/// The upload form's fields, in order.
const UPLOAD_FIELDS: [&str; 4] = ["document_id", "kind", "title", "file"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{id}/documents/new", web::get().to(new_form))
        .route("/cases/{id}/documents/new", web::post().to(upload))
        .route(
            "/cases/{id}/documents/{doc}/versions/{n}",
            web::get().to(download),
        )
        .route(
            "/cases/{id}/documents/{doc}/versions/{n}/delete",
            web::get().to(delete_form),
        )
        .route(
            "/cases/{id}/documents/{doc}/versions/{n}/delete",
            web::post().to(delete),
        );
}

fn version_path(case_id: &str, doc_id: &str, number: i32) -> String {
    format!("/cases/{case_id}/documents/{doc_id}/versions/{number}")
}

/// The case's documents as the case page lists them: each version, newest first, with its
/// download link, its SHA-256 shortened and whole, and its delete link.
/// `viewer` (role, user id) decides which versions show a delete link; `events` names the
/// case's events (id → "Review team meeting, 3 March 2026") a document may belong to.
pub fn listing(
    case_id: &str,
    docs: &[DocumentView],
    viewer: (Role, &str),
    events: &HashMap<String, String>,
) -> Vec<Value> {
    docs.iter()
        .map(|d| {
            let versions: Vec<Value> = d
                .versions
                .iter()
                .map(|v| {
                    let href = version_path(case_id, &d.id, v.number);
                    json!({
                        "number": v.number,
                        "sha256": v.sha256,
                        "short_sha256": v.sha256.get(..SHORT_SHA256).unwrap_or(&v.sha256),
                        "size_bytes": v.size_bytes,
                        "file_name": v.file_name,
                        "uploaded_by": v.uploaded_by.name,
                        "uploaded_at": v.uploaded_at,
                        "locked": v.locked,
                        "may_delete": documents::may_delete(viewer.0, v.uploaded_by.id == viewer.1),
                        "delete_href": format!("{href}/delete"),
                        "href": href,
                    })
                })
                .collect();
            let event = d.event_id.as_ref().and_then(|e| events.get(e));
            json!({ "id": d.id, "kind_label": d.kind_label, "title": d.title, "event": event, "versions": versions })
        })
        .collect()
}

/// The banner after an upload (`?uploaded=<doc>&version=<n>`, with `resend=1` when copies
/// must be sent again) or a deletion (`?deleted=<doc>&version=<n>`).
pub fn banner(q: &HashMap<String, String>, docs: &[DocumentView]) -> Option<Value> {
    let version = q.get("version")?;
    let title_of = |id: &str| {
        docs.iter()
            .find(|d| d.id == id)
            .map(|d| format!("“{}”", d.title))
    };
    if let Some(id) = q.get("uploaded") {
        let title = title_of(id)?;
        let text = if q.contains_key("resend") {
            documents::RESEND_WARNING
        } else {
            "It is listed under Documents."
        };
        return Some(json!({
            "heading": format!("Version {version} of {title} uploaded"),
            "text": text,
        }));
    }
    let id = q.get("deleted")?;
    let heading = match title_of(id) {
        Some(title) => format!("Version {version} of {title} deleted"),
        None => format!("Version {version} deleted"),
    };
    Some(json!({ "heading": heading, "text": "The reason is kept in the audit trail." }))
}

/// "a PDF, Word document (DOCX), … or plain text file".
fn accepted_types() -> String {
    let labels: Vec<&str> = FileType::ALL.iter().map(|t| t.label()).collect();
    match labels.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("a {} or {} file", rest.join(", "), last.to_lowercase())
        }
        _ => format!("a {} file", labels.join("")),
    }
}

/// A size limit in words: "25 MB", "30 KB".
fn size_limit(bytes: u64) -> String {
    if bytes >= 1_048_576 {
        let mb = bytes as f64 / 1_048_576.0;
        if mb.fract() == 0.0 {
            format!("{mb:.0} MB")
        } else {
            format!("{mb:.1} MB")
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// What the upload form shows besides the values: the case, and its documents.
struct UploadForm {
    case: Value,
    documents: Vec<Item>,
    events: Vec<Item>,
}

fn upload_form(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<UploadForm, AppError> {
    let case = documents::check_upload(c, st, actor, case_id)?;
    let documents = documents::list(c, actor, &case.id)?
        .into_iter()
        .map(|d| {
            let latest = d.versions.first().map_or(0, |v| v.number);
            Item::new(
                d.id,
                format!("{}: {} (latest version {latest})", d.kind_label, d.title),
            )
        })
        .collect();
    let events = documents::linkable_events(c, &case.id)?
        .into_iter()
        .map(|(id, label)| Item::new(id, label))
        .collect();
    Ok(UploadForm {
        case: case_summary(&case),
        documents,
        events,
    })
}

fn case_summary(case: &CaseRow) -> Value {
    json!({ "id": case.id, "reference": case.reference, "child_pseudonym": case.child_pseudonym })
}

fn render_upload(
    page: &Page,
    status: StatusCode,
    shown: &UploadForm,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let kinds: Vec<Item> = DocumentKind::ALL
        .iter()
        .map(|k| Item::new(k.as_str(), k.label()))
        .collect();
    let mut ctx = page.context("Upload a document", "cases");
    ctx.insert("case", &shown.case);
    ctx.insert("documents", &shown.documents);
    ctx.insert("events", &shown.events);
    ctx.insert("kinds", &kinds);
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    ctx.insert(
        "file_hint",
        &format!(
            "{} up to {}",
            super::sentence(&accepted_types()),
            size_limit(page.state.settings.documents.max_bytes)
        ),
    );
    page.render_status(status, "pages/cases/document_new.html", &ctx)
}

async fn new_form(page: Page, path: web::Path<String>) -> PageResult {
    let id = path.into_inner();
    let shown = page
        .db(move |c, st, actor| upload_form(c, st, actor, &id))
        .await?;
    render_upload(
        &page,
        StatusCode::OK,
        &shown,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

/// The form's own checks, in the Design System's words, before anything is stored.
fn check_fields(form: &FormData, upload: &Upload) -> Vec<FieldError> {
    let mut errors = vec![];
    if form.get("document_id").trim().is_empty() {
        if form.get("kind").parse::<DocumentKind>().is_err() {
            errors.push(FieldError::new("kind", "Select the kind of document"));
        }
        if form.get("title").trim().is_empty() {
            errors.push(FieldError::new("title", "Enter the title of the document"));
        }
    }
    if form.get("title").trim().chars().count() > 200 {
        errors.push(FieldError::new(
            "title",
            "The title must be 200 characters or fewer",
        ));
    }
    let no_name = upload.file_name.as_deref().is_none_or(str::is_empty);
    let no_bytes = upload.file.as_ref().is_none_or(|f| f.size == 0);
    if no_name && no_bytes {
        errors.push(FieldError::new("file", "Select a file"));
    }
    errors
}

/// A refusal as the form shows it, with its status: the size, the type or an empty file on
/// the file field; any other problem on its own field.
fn refusal(e: AppError, max_bytes: u64) -> Result<(StatusCode, Vec<FieldError>), AppError> {
    let on_file = |m: String| vec![FieldError::new("file", m)];
    match e {
        AppError::TooLarge(_) => Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            on_file(format!(
                "The selected file must be smaller than {}",
                size_limit(max_bytes)
            )),
        )),
        AppError::StorageFull => Ok((
            StatusCode::INSUFFICIENT_STORAGE,
            on_file(super::sentence(crate::error::STORAGE_FULL)),
        )),
        AppError::UnsupportedType(_) => Ok((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            on_file(format!("The selected file must be {}", accepted_types())),
        )),
        AppError::BadRequest(f) if matches!(f.field.as_str(), "file" | "body") => Ok((
            StatusCode::BAD_REQUEST,
            on_file("The selected file could not be uploaded – try again".into()),
        )),
        AppError::BadRequest(f) => Ok((StatusCode::BAD_REQUEST, vec![f])),
        AppError::Invalid(found) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            found
                .into_iter()
                .map(|f| match f.field.as_str() {
                    "file" if f.message.contains("empty") => {
                        FieldError::new("file", "The selected file is empty")
                    }
                    "file" => FieldError::new("file", "Select a file"),
                    "document_id" => {
                        FieldError::new("document_id", "Select a document on this case")
                    }
                    _ => f,
                })
                .collect(),
        )),
        other => Err(other),
    }
}

/// The upload form again, with the values sent and the errors.
async fn show_errors(
    page: &Page,
    case_id: &str,
    status: StatusCode,
    form: &FormData,
    errors: Vec<FieldError>,
) -> PageResult {
    let errors = humanise(errors, |f| match f {
        "title" => Some("The title".into()),
        "kind" => Some("The kind of document".into()),
        _ => None,
    });
    let known: Vec<String> = UPLOAD_FIELDS.map(String::from).to_vec();
    let errors = for_page(errors, &known);
    let id = case_id.to_string();
    let shown = page
        .db(move |c, st, actor| upload_form(c, st, actor, &id))
        .await?;
    let form_id = match form.get("form_id") {
        "" => new_form_id(),
        id => id.to_string(),
    };
    render_upload(page, status, &shown, form, &errors, &form_id)
}

async fn refused(page: &Page, case_id: &str, form: &FormData, e: AppError) -> PageResult {
    let max = page.state.settings.documents.max_bytes;
    let (status, errors) = refusal(e, max).map_err(|e| page.fail(e))?;
    show_errors(page, case_id, status, form, errors).await
}

async fn upload(
    req: HttpRequest,
    page: Page,
    path: web::Path<String>,
    payload: Multipart,
) -> PageResult {
    let id = path.into_inner();
    // The CSRF token is inside the body; the origin is checked before reading it.
    check_origin(&req, &page.state.settings).map_err(|e| page.fail(e).audit("form_refused"))?;
    let mut upload = Upload::default();
    let read = read_upload(&req, &page.state, page.actor(), &id, payload, &mut upload).await;
    let form = FormData::from(upload.fields.clone().into_iter().collect::<Vec<_>>());
    if let Err(e) = read {
        // Nothing is on disk; the form comes back with what was read of it.
        return refused(&page, &id, &form, e).await;
    }
    if let Err(e) = page.check_form(&req, &form) {
        upload.discard();
        return Err(e);
    }
    match claim(&page, &form, &format!("/cases/{id}")).await {
        Ok(Claim::Fresh) => {}
        Ok(Claim::Done(resp)) => {
            upload.discard();
            return Ok(resp);
        }
        Err(e) => {
            upload.discard();
            return Err(e);
        }
    }
    let errors = check_fields(&form, &upload);
    if !errors.is_empty() {
        upload.discard();
        settle(&page, &form, None).await?;
        return show_errors(&page, &id, StatusCode::UNPROCESSABLE_ENTITY, &form, errors).await;
    }
    match store_upload(&page.state, page.actor(), &id, upload).await {
        Ok(up) => {
            let mut to = format!(
                "/cases/{id}?uploaded={}&version={}",
                up.document.id, up.version
            );
            if !up.warnings.is_empty() {
                to.push_str("&resend=1");
            }
            settle(&page, &form, Some(&to)).await?;
            Ok(see_other(&to))
        }
        Err(e) => {
            settle(&page, &form, None).await?;
            refused(&page, &id, &form, e).await
        }
    }
}

/// A version named by a page's path.
struct Found {
    case: CaseRow,
    doc: DocumentView,
    version: VersionView,
}

/// The document and version in the path, when they belong to that case and the user sees the
/// case (a refusal is audited as `action`).
fn find_version(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    doc_id: &str,
    number: &str,
    action: &str,
) -> Result<Found, AppError> {
    let (case, _) = visible_or_refuse(c, st, actor, case_id, action)?;
    let number: i32 = number.parse().map_err(|_| AppError::NotFound)?;
    let doc = documents::list(c, actor, &case.id)?
        .into_iter()
        .find(|d| d.id == doc_id)
        .ok_or(AppError::NotFound)?;
    let version = doc
        .versions
        .iter()
        .find(|v| v.number == number)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok(Found { case, doc, version })
}

type VersionPath = web::Path<(String, String, String)>;

async fn lookup(page: &Page, path: VersionPath, action: &'static str) -> Result<Found, HtmlError> {
    let (id, doc, n) = path.into_inner();
    page.db(move |c, st, actor| find_version(c, st, actor, &id, &doc, &n, action))
        .await
}

/// Streams a version to the browser (an attachment); the read is audited.
async fn download(page: Page, path: VersionPath) -> PageResult {
    let found = lookup(&page, path, "document_downloaded").await?;
    download_response(
        &page.state,
        page.actor().clone(),
        found.doc.id,
        found.version.number,
    )
    .await
    .map_err(|e| page.fail(e))
}

fn may_delete(page: &Page, found: &Found) -> Result<(), HtmlError> {
    let actor = page.actor();
    page.require(
        documents::may_delete(actor.role, found.version.uploaded_by.id == actor.user_id),
        documents::DELETE_REFUSED,
    )
}

fn render_delete(
    page: &Page,
    status: StatusCode,
    found: &Found,
    form: &FormData,
    errors: &[FieldError],
    form_id: &str,
) -> PageResult {
    let Found { case, doc, version } = found;
    let title = format!("Delete version {} of “{}”", version.number, doc.title);
    let mut ctx = page.context(&title, "cases");
    ctx.insert("heading", &title);
    ctx.insert("case", &case_summary(case));
    ctx.insert("document", doc);
    ctx.insert("version", version);
    ctx.insert(
        "action",
        &format!("{}/delete", version_path(&case.id, &doc.id, version.number)),
    );
    ctx.insert("form", &form.values(&[]));
    ctx.insert("errors", errors);
    ctx.insert("form_id", form_id);
    page.render_status(status, "pages/cases/document_delete.html", &ctx)
}

/// The refusal to delete a version that was sent before publication (409): it is locked.
fn render_locked(page: &Page, found: &Found) -> PageResult {
    let Found { case, doc, version } = found;
    let heading = format!(
        "You cannot delete version {} of “{}”",
        version.number, doc.title
    );
    let mut ctx = page.context(&heading, "cases");
    ctx.insert("heading", &heading);
    ctx.insert("case", &case_summary(case));
    ctx.insert(
        "message",
        &super::sentence(&documents::locked_message(
            version.number,
            version.locked_at.unwrap_or(version.uploaded_at),
        )),
    );
    page.render_status(
        StatusCode::CONFLICT,
        "pages/cases/document_locked.html",
        &ctx,
    )
}

async fn delete_form(page: Page, path: VersionPath) -> PageResult {
    let found = lookup(&page, path, "document_version_deleted").await?;
    may_delete(&page, &found)?;
    if found.version.locked {
        return render_locked(&page, &found);
    }
    render_delete(
        &page,
        StatusCode::OK,
        &found,
        &FormData::default(),
        &[],
        &new_form_id(),
    )
}

async fn delete(posted: Posted, path: VersionPath) -> PageResult {
    let Posted { page, form } = &posted;
    let fallback = format!("/cases/{}", path.0);
    posted
        .once(&fallback, async || delete_claimed(page, path, form).await)
        .await
}

async fn delete_claimed(
    page: &Page,
    path: VersionPath,
    form: &FormData,
) -> Result<Outcome, HtmlError> {
    let found = lookup(page, path, "document_version_deleted").await?;
    may_delete(page, &found)?;
    if found.version.locked {
        return render_locked(page, &found).map(Outcome::Again);
    }
    let reason = form.get("reason").trim().to_string();
    let mut errors = vec![];
    if reason.is_empty() {
        errors.push(FieldError::new(
            "reason",
            "Enter why this version is being deleted",
        ));
    } else if reason.chars().count() > 2000 {
        errors.push(FieldError::new(
            "reason",
            "The reason must be 2,000 characters or fewer",
        ));
    }
    if errors.is_empty() {
        let (doc, n) = (found.doc.id.clone(), found.version.number);
        let deleted = page
            .db(move |c, st, actor| documents::delete_version(c, st, actor, &doc, n, &reason))
            .await;
        match deleted {
            Ok(()) => {
                return Ok(Outcome::Redirect(format!(
                    "/cases/{}?deleted={}&version={}",
                    found.case.id, found.doc.id, found.version.number
                )));
            }
            Err(e) if matches!(e.error(), AppError::Invalid(_)) => {
                errors = humanise(e.into_error().field_errors(), |_| Some("The reason".into()));
            }
            Err(e) => return Err(e),
        }
    }
    let errors = for_page(errors, &["reason".to_string()]);
    render_delete(
        page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &found,
        form,
        &errors,
        form.get("form_id"),
    )
    .map(Outcome::Again)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accepted_types_and_the_limit_in_words() {
        assert_eq!(
            accepted_types(),
            "a PDF, Word document (DOCX), Excel workbook (XLSX), PowerPoint presentation (PPTX), OpenDocument text (ODT) or plain text file"
        );
        assert_eq!(size_limit(26_214_400), "25 MB");
        assert_eq!(size_limit(1_572_864), "1.5 MB");
        assert_eq!(size_limit(30_000), "30 KB");
    }

    #[test]
    fn refusals_land_on_the_file_field_with_their_status() {
        let (status, errors) =
            refusal(AppError::TooLarge("x".into()), 26_214_400).expect("a form error");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            errors,
            [FieldError::new(
                "file",
                "The selected file must be smaller than 25 MB"
            )]
        );
        let (status, errors) =
            refusal(AppError::invalid("file", "the file is empty"), 1).expect("a form error");
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(errors[0].message, "The selected file is empty");
        let (status, _) = refusal(AppError::UnsupportedType("x".into()), 1).expect("a form error");
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(refusal(AppError::NotFound, 1).is_err());
    }
}
