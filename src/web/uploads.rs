//! Review documents over HTTP, for the API and the pages alike: a multipart upload streamed to
//! the document store (refused as soon as it passes `documents.max_bytes`), and a version streamed back as an
//! attachment.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::app::documents::store::{self as upload_store, Received, WriteError};
use crate::app::documents::{self, UploadMeta};
use crate::app::Actor;
use crate::error::AppError;
use crate::state::AppState;

/// Slack for the multipart envelope and text fields on top of the file itself.
const ENVELOPE: u64 = 64 * 1024;

fn too_large(max: u64) -> AppError {
    AppError::TooLarge(format!(
        "the file is larger than the {} MB limit",
        (max as f64 / 1_048_576.0 * 10.0).round() / 10.0
    ))
}

/// A multipart upload as read: its text fields, the file's own name, and the file in the
/// store's temporary folder (not kept yet).
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, String>,
    pub file_name: Option<String>,
    pub file: Option<Received>,
}

impl Upload {
    /// Removes the temporary object of an upload that will not be stored (dropping it does).
    pub fn discard(&mut self) {
        self.file.take();
    }
}

/// Receives a multipart upload: text fields `kind`, `title`, optional `document_id`, and the
/// `file`, which goes to disk chunk by chunk and is refused as soon as it passes the limit.
pub async fn receive(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    actor: &Actor,
    case_id: &str,
    payload: Multipart,
) -> Result<documents::Uploaded, AppError> {
    let mut upload = Upload::default();
    read_upload(req, state, actor, case_id, payload, &mut upload).await?;
    store_upload(state, actor, case_id, upload).await
}

/// The first half of [`receive`]: checks that the user may upload to the case, then reads the
/// text fields and streams the file to a temporary file, refusing it (413) once it passes
/// `documents.max_bytes`. On an error nothing is left on disk, and `upload.fields` holds the
/// text fields read before it (a form shows them again).
pub async fn read_upload(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    actor: &Actor,
    case_id: &str,
    payload: Multipart,
    upload: &mut Upload,
) -> Result<(), AppError> {
    let max = state.settings.documents.max_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max + ENVELOPE) {
        return Err(too_large(max));
    }
    let (a, id) = (actor.clone(), case_id.to_string());
    state
        .db(move |c, st| documents::check_upload(c, st, &a, &id).map(|_| ()))
        .await?;
    let read = read_parts(state, payload, upload).await;
    if read.is_err() {
        upload.discard();
    }
    read
}

pub async fn read_parts(
    state: &web::Data<AppState>,
    mut payload: Multipart,
    upload: &mut Upload,
) -> Result<(), AppError> {
    let max = state.settings.documents.max_bytes;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| {
            AppError::bad_request("body", format!("the upload could not be read: {e}"))
        })?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if upload.file_name.is_some() {
                return Err(AppError::bad_request("file", "send one file per upload"));
            }
            upload.file_name = Some(
                field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("document")
                    .to_string(),
            );
            let mut incoming = upload_store::begin(state.documents.as_ref(), max).await?;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| {
                    AppError::bad_request("file", format!("the upload was interrupted: {e}"))
                })?;
                match incoming.write(chunk).await {
                    Ok(()) => {}
                    Err(WriteError::TooLarge) => return Err(too_large(max)),
                    Err(WriteError::Store(e)) => return Err(e.into()),
                }
            }
            upload.file = Some(incoming.finish());
        } else {
            // A text field is one value: a name sent twice (how a client sends a list in a
            // form) is refused, not read as its first or last value.
            if upload.fields.contains_key(&name) {
                return Err(AppError::invalid(
                    name,
                    "is given more than once; send it once, as text",
                ));
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk
                    .map_err(|e| AppError::bad_request(&name, format!("could not be read: {e}")))?;
                value.extend_from_slice(&chunk);
                if value.len() > 4096 {
                    return Err(AppError::bad_request(&name, "is too long"));
                }
            }
            upload
                .fields
                .insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    Ok(())
}

/// The second half of [`receive`]: checks the description and the file's type (by content),
/// then keeps the file under its hash and writes the version (`app::documents::save`). A
/// refused upload leaves no file behind.
pub async fn store_upload(
    state: &web::Data<AppState>,
    actor: &Actor,
    case_id: &str,
    mut upload: Upload,
) -> Result<documents::Uploaded, AppError> {
    let meta = match UploadMeta::parse(&upload.fields, upload.file_name.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            upload.discard();
            return Err(e);
        }
    };
    let received = upload
        .file
        .take()
        .ok_or_else(|| AppError::invalid("file", "choose a file to upload"))?;
    documents::save(state, actor, case_id, meta, received).await
}

/// Streams one version as an attachment; the read is audited.
pub async fn download_response(
    state: &web::Data<AppState>,
    actor: Actor,
    document_id: String,
    number: i32,
) -> Result<HttpResponse, AppError> {
    let version = state
        .db(move |c, st| documents::open_version(c, st, &actor, &document_id, number))
        .await?;
    attachment(
        state,
        &version.sha256,
        version.size_bytes as u64,
        &version.content_type,
        &version.file_name,
    )
    .await
}

/// A stored file (by its SHA-256) streamed as an attachment: `nosniff`, not cached, its
/// SHA-256 in a header. Shared by document versions and meeting papers.
pub async fn attachment(
    state: &web::Data<AppState>,
    sha256: &str,
    size: u64,
    content_type: &str,
    file_name: &str,
) -> Result<HttpResponse, AppError> {
    let key = crate::store::content_key(sha256);
    let stream = state.documents.open(&key).await.map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the stored file {sha256} cannot be read: {e}"
        ))
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_string()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file_name.replace('"', "_")),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Content-SHA256", sha256.to_string()))
        .body(SizedStream::new(size, stream)))
}

/// A meeting paper's bytes as an attachment (the read is audited): the API and the meeting page.
pub async fn paper_response(
    state: &actix_web::web::Data<crate::state::AppState>,
    actor: crate::app::Actor,
    meeting_id: String,
    paper_id: String,
) -> Result<HttpResponse, AppError> {
    let row = state
        .db(move |c, st| {
            crate::app::governance::papers::open(c, st, &actor, &meeting_id, &paper_id)
        })
        .await?;
    attachment(
        state,
        &row.sha256,
        row.size_bytes as u64,
        &row.content_type,
        &row.file_name,
    )
    .await
}
