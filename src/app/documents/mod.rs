//! Review documents: versioned uploads per case, downloads audited, soft deletes with a
//! reason, and the version sent before publication locked.

pub mod store;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::access::{refuse, visible_case, visible_or_refuse};
use super::audit::{self, Entry};
use super::events::{record_system_event, view::PersonRef, Loaded};
use super::users::names;
use super::{new_id, stored, Actor};
use crate::db::models::{CaseRow, DocumentRow, VersionRow};
use crate::db::schema::{case_events, document_versions, documents};
use crate::db::{write_tx, DbConnection};
use crate::domain::case::Stage;
use crate::domain::documents::{detect, sanitise_file_name, DocumentKind, FileType};
use crate::domain::events::{EventData, EventType};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;
use store::Received;

/// What the uploader says about the file.
#[derive(Debug, Clone)]
pub struct UploadMeta {
    pub kind: DocumentKind,
    pub title: String,
    pub document_id: Option<String>,
    /// The case event the document belongs to (optional; given with a new version, it moves
    /// the link).
    pub event_id: Option<String>,
    pub file_name: String,
}

impl UploadMeta {
    /// From the multipart text fields (`kind`, `title`, optional `document_id` and
    /// `event_id`) and the file's own name.
    pub fn parse(
        fields: &HashMap<String, String>,
        file_name: Option<&str>,
    ) -> Result<UploadMeta, AppError> {
        let mut errors = vec![];
        let mut names: Vec<&String> = fields.keys().collect();
        names.sort();
        for k in names {
            if let Err(m) = crate::domain::input::check_text(&fields[k]) {
                errors.push(crate::error::FieldError::new(k.clone(), m));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let get = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let document_id = get("document_id").map(str::to_string);
        let kind = match get("kind") {
            Some(k) => k
                .parse::<DocumentKind>()
                .map_err(|m| errors.push(crate::error::FieldError::new("kind", m)))
                .ok(),
            None if document_id.is_some() => None,
            None => {
                errors.push(crate::error::FieldError::new(
                    "kind",
                    format!("choose one of {}", DocumentKind::choices()),
                ));
                None
            }
        };
        let received = fields.get("title").map(String::as_str).unwrap_or("");
        let title = match crate::domain::input::received_text("title", received, 200) {
            Ok(Some(t)) => t.to_string(),
            Ok(None) => {
                if document_id.is_none() {
                    errors.push(crate::error::FieldError::new(
                        "title",
                        "give the document a title",
                    ));
                }
                String::new()
            }
            Err(m) => {
                errors.push(crate::error::FieldError::new("title", m));
                String::new()
            }
        };
        if file_name.is_none() {
            errors.push(crate::error::FieldError::new(
                "file",
                "choose a file to upload",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(UploadMeta {
            kind: kind.unwrap_or(DocumentKind::Other),
            title,
            document_id,
            event_id: get("event_id").map(str::to_string),
            file_name: file_name.unwrap_or_default().to_string(),
        })
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VersionView {
    pub number: i32,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub uploaded_by: PersonRef,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub uploaded_at: NaiveDateTime,
    /// Set once the version was sent before publication: it can no longer be deleted.
    pub locked: bool,
    #[serde(serialize_with = "crate::utc::opt")]
    #[schemars(with = "Option<crate::utc::Stamp>")]
    pub locked_at: Option<NaiveDateTime>,
    pub download_url: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DocumentView {
    pub id: String,
    pub case_id: String,
    pub kind: DocumentKind,
    pub kind_label: &'static str,
    pub title: String,
    #[serde(serialize_with = "crate::utc::ser")]
    #[schemars(with = "crate::utc::Stamp")]
    pub created_at: NaiveDateTime,
    /// The case event the document belongs to, if linked.
    pub event_id: Option<String>,
    /// Newest first; deleted versions are left out (the audit keeps them).
    pub versions: Vec<VersionView>,
}

/// The events of a case a document may be linked to, newest first, as (event id, "Review team
/// meeting, 3 March 2026"): those people recorded (not awareness or report uploads).
pub fn linkable_events(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let rows: Vec<(String, String, chrono::NaiveDate)> = case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order((
            case_events::occurred_on.desc(),
            case_events::sequence.desc(),
        ))
        .select((
            case_events::id,
            case_events::event_type,
            case_events::occurred_on,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, kind, on)| {
            let kind: EventType = kind.parse().ok()?;
            if matches!(kind, EventType::Aware | EventType::ReportVersionUploaded) {
                return None;
            }
            Some((id, format!("{}, {}", kind.label(), on.format("%-d %B %Y"))))
        })
        .collect())
}

/// The result of an upload.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Uploaded {
    pub document: DocumentView,
    pub version: i32,
    pub warnings: Vec<String>,
}

/// Who may upload to a case: the programme manager and the co-chairs on any case, a lead
/// reviewer on the cases they are appointed to. Everyone who sees the case reads.
pub fn may_upload(role: Role, appointed: bool) -> bool {
    match role {
        Role::CoChair | Role::ProgrammeManager => true,
        Role::LeadReviewer => appointed,
        _ => false,
    }
}

/// Who may delete a version (until it is sent and locked): the programme manager and the
/// co-chairs any version, a lead reviewer a version they uploaded themselves (by mistake).
pub fn may_delete(role: Role, uploaded_it: bool) -> bool {
    match role {
        Role::CoChair | Role::ProgrammeManager => true,
        Role::LeadReviewer => uploaded_it,
        _ => false,
    }
}

/// Why [`may_delete`] refuses.
pub const DELETE_REFUSED: &str =
    "only the programme manager and the co-chairs delete versions; a lead reviewer may delete a version they uploaded";

/// The warning after a new final or summary report version when copies of an earlier one
/// were already sent.
pub const RESEND_WARNING: &str = "Copies of an earlier version were sent to the Panel, Ofsted or the Secretary of State. Send this version to each of them again, at least 7 working days before publication.";

/// Why a version that was sent cannot be deleted.
pub fn locked_message(number: i32, locked_at: NaiveDateTime) -> String {
    format!(
        "version {number} was sent before publication on {} and is locked; it cannot be deleted",
        locked_at.format("%-d %B %Y")
    )
}

/// The case, if this user may upload to it ([`may_upload`]). 404 when the case is not
/// visible.
pub fn check_upload(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
) -> Result<CaseRow, AppError> {
    let (case, people) = visible_or_refuse(conn, st, actor, case_id, "document_uploaded")?;
    if !may_upload(actor.role, people.access(&actor.user_id).appointed) {
        refuse(
            conn,
            st,
            actor,
            Some(&case.id),
            "document_uploaded",
            "role may not upload documents",
        )?;
        return Err(AppError::Forbidden(
            "your role may read documents but not upload them".into(),
        ));
    }
    if case.stage == Stage::Withdrawn.as_str() {
        return Err(AppError::invalid(
            "case",
            "the notification was withdrawn; documents can no longer be added",
        ));
    }
    Ok(case)
}

/// Stores an upload: checks its type by content, commits the object under its SHA-256 and
/// writes the version row (plus, for reports, the case event) in one transaction. On any
/// refusal or failure the object is removed again unless another version holds the same
/// content; a full store is a 507 with nothing saved.
pub async fn save(
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    meta: UploadMeta,
    received: Received,
) -> Result<Uploaded, AppError> {
    if received.size == 0 {
        received.discard().await;
        return Err(AppError::invalid("file", "the file is empty"));
    }
    let Some(file_type) = detect(&received.head, &received.tail) else {
        received.discard().await;
        return Err(AppError::UnsupportedType(format!(
            "this file type is not accepted; upload one of: {}",
            FileType::accepted_list()
        )));
    };
    let file = StoredFile {
        sha256: received.sha256.clone(),
        size: received.size,
        file_type,
    };
    let key = received.keep().await.map_err(AppError::from)?;
    let (a, id, f) = (actor.clone(), case_id.to_string(), file.clone());
    let result = st.db(move |c, st| commit(c, st, &a, &id, meta, &f)).await;
    if result.is_err() {
        let sha = file.sha256.clone();
        let referenced = st
            .db(move |c, _| Ok(is_referenced(c, &sha)?))
            .await
            .unwrap_or(true);
        if !referenced {
            if let Err(e) = st.documents.delete(&key).await {
                tracing::warn!(error = %e, "could not remove the file of a refused upload; the orphan sweep will");
            }
        }
    }
    result
}

/// A file committed to the store, not yet recorded.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub file_type: FileType,
}

/// Writes the version row of a stored file (and, for reports, the case event) in one
/// transaction.
pub fn commit(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    meta: UploadMeta,
    file: &StoredFile,
) -> Result<Uploaded, AppError> {
    write_tx(conn, |c| record_version(c, st, actor, case_id, &meta, file))
}

/// The version's rows, in the upload's transaction: the document (found by id, or by kind and
/// title, or new), the version, for a report the case event and the resend warning, and the
/// audit entry.
fn record_version(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    meta: &UploadMeta,
    file: &StoredFile,
) -> Result<Uploaded, AppError> {
    let file_type = file.file_type;
    let now = st.now();
    let case = check_upload(c, st, actor, case_id)?;
    let doc = document_for(c, &case, meta, actor, now)?;
    let kind: DocumentKind = doc
        .kind
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    let number = document_versions::table
        .filter(document_versions::document_id.eq(&doc.id))
        .select(diesel::dsl::max(document_versions::number))
        .first::<Option<i32>>(c)?
        .unwrap_or(0)
        + 1;
    let file_name = sanitise_file_name(&meta.file_name, file_type.extension());
    diesel::insert_into(document_versions::table)
        .values(&VersionRow {
            id: new_id(),
            document_id: doc.id.clone(),
            number,
            sha256: file.sha256.clone(),
            size_bytes: file.size as i64,
            content_type: file_type.as_str().into(),
            file_name: file_name.clone(),
            uploaded_by: actor.user_id.clone(),
            uploaded_at: stored(now),
            locked_at: None,
            deleted_at: None,
            deleted_by: None,
            delete_reason: None,
        })
        .execute(c)?;
    let mut warnings = vec![];
    if kind.is_report() {
        let mut loaded = Loaded::for_write(c, st, &case.id)?;
        if kind.is_publishable_report() && copies_sent_since_last_report(&loaded) {
            warnings.push(RESEND_WARNING.to_string());
        }
        let data = EventData::ReportVersionUploaded {
            document_id: doc.id.clone(),
            kind: kind.as_str().into(),
            version: number,
        };
        record_system_event(c, st, actor, &mut loaded, data)?;
    }
    audit::append(
        c,
        now,
        Entry::ok(Some(actor), "document_uploaded")
            .case(&case.id)
            .subject(doc.id.clone())
            .detail(serde_json::json!({
                "document": doc.id, "kind": kind, "title": doc.title, "event_id": doc.event_id, "version": number,
                "sha256": file.sha256, "size_bytes": file.size, "content_type": file_type.as_str(),
                "file_name": file_name,
            })),
    )?;
    let document = view_of(c, &doc)?;
    Ok(Uploaded {
        document,
        version: number,
        warnings,
    })
}

/// The document a version is added to: the one named by id, else the case's document of that
/// kind and title, else a new one.
fn document_for(
    c: &mut DbConnection,
    case: &CaseRow,
    meta: &UploadMeta,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<DocumentRow, AppError> {
    if let Some(event_id) = &meta.event_id {
        let of_case: i64 = case_events::table
            .filter(case_events::id.eq(event_id))
            .filter(case_events::case_id.eq(&case.id))
            .count()
            .get_result(c)?;
        if of_case == 0 {
            return Err(AppError::invalid(
                "event_id",
                "this case has no event with that id",
            ));
        }
    }
    let existing: Option<DocumentRow> = match &meta.document_id {
        Some(id) => Some(
            documents::table
                .find(id)
                .filter(documents::case_id.eq(&case.id))
                .select(DocumentRow::as_select())
                .first(c)
                .optional()?
                .ok_or_else(|| {
                    AppError::invalid("document_id", "this case has no document with that id")
                })?,
        ),
        None => documents::table
            .filter(documents::case_id.eq(&case.id))
            .filter(documents::kind.eq(meta.kind.as_str()))
            .filter(documents::title.eq(&meta.title))
            .select(DocumentRow::as_select())
            .first(c)
            .optional()?,
    };
    if let Some(mut d) = existing {
        if meta.event_id.is_some() && meta.event_id != d.event_id {
            diesel::update(documents::table.find(&d.id))
                .set(documents::event_id.eq(&meta.event_id))
                .execute(c)?;
            d.event_id = meta.event_id.clone();
        }
        return Ok(d);
    }
    let d = DocumentRow {
        id: new_id(),
        case_id: case.id.clone(),
        kind: meta.kind.as_str().into(),
        title: meta.title.clone(),
        created_by: actor.user_id.clone(),
        created_at: stored(now),
        event_id: meta.event_id.clone(),
    };
    diesel::insert_into(documents::table)
        .values(&d)
        .execute(c)?;
    Ok(d)
}

/// A pre-publication copy was sent since the latest final or summary report version was
/// uploaded (the copies must then be sent again).
fn copies_sent_since_last_report(loaded: &Loaded) -> bool {
    let events = loaded.history.events();
    let last_report = events.iter().rposition(|e| {
        matches!(&e.data, EventData::ReportVersionUploaded { kind, .. }
            if kind.parse().is_ok_and(DocumentKind::is_publishable_report))
    });
    events
        .iter()
        .skip(last_report.map_or(0, |i| i + 1))
        .any(|e| e.kind() == EventType::PrepubCopySent)
}

/// Is a stored file still used by some version (or meeting paper)?
pub fn is_referenced(conn: &mut DbConnection, sha256: &str) -> QueryResult<bool> {
    let n: i64 = document_versions::table
        .filter(document_versions::sha256.eq(sha256))
        .count()
        .get_result(conn)?;
    let papers: i64 = crate::db::schema::meeting_papers::table
        .filter(crate::db::schema::meeting_papers::sha256.eq(sha256))
        .count()
        .get_result(conn)?;
    Ok(n + papers > 0)
}

fn view_of(conn: &mut DbConnection, doc: &DocumentRow) -> Result<DocumentView, AppError> {
    Ok(views_of(conn, std::slice::from_ref(doc))?
        .pop()
        .expect("one view for one document"))
}

/// The views of these documents, in their order, in three statements however many there are
/// (their versions, newest first, and the names of who uploaded them).
fn views_of(conn: &mut DbConnection, docs: &[DocumentRow]) -> Result<Vec<DocumentView>, AppError> {
    let doc_ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let all: Vec<VersionRow> = if doc_ids.is_empty() {
        vec![]
    } else {
        document_versions::table
            .filter(document_versions::document_id.eq_any(&doc_ids))
            .filter(document_versions::deleted_at.is_null())
            .order((
                document_versions::document_id.asc(),
                document_versions::number.desc(),
            ))
            .select(VersionRow::as_select())
            .load(conn)?
    };
    let ids: Vec<&str> = all.iter().map(|v| v.uploaded_by.as_str()).collect();
    let names = if ids.is_empty() {
        HashMap::new()
    } else {
        names(conn, &ids)?
    };
    let mut by_doc: HashMap<String, Vec<VersionRow>> = HashMap::new();
    for v in all {
        by_doc.entry(v.document_id.clone()).or_default().push(v);
    }
    Ok(docs
        .iter()
        .map(|doc| {
            let kind: DocumentKind = doc.kind.parse().unwrap_or(DocumentKind::Other);
            DocumentView {
                id: doc.id.clone(),
                case_id: doc.case_id.clone(),
                kind,
                kind_label: kind.label(),
                title: doc.title.clone(),
                created_at: doc.created_at,
                event_id: doc.event_id.clone(),
                versions: by_doc
                    .remove(&doc.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| VersionView {
                        download_url: format!("/api/v1/documents/{}/versions/{}", doc.id, v.number),
                        uploaded_by: PersonRef {
                            name: names.get(&v.uploaded_by).cloned().unwrap_or_default(),
                            id: v.uploaded_by,
                        },
                        number: v.number,
                        sha256: v.sha256,
                        size_bytes: v.size_bytes,
                        content_type: v.content_type,
                        file_name: v.file_name,
                        uploaded_at: v.uploaded_at,
                        locked: v.locked_at.is_some(),
                        locked_at: v.locked_at,
                    })
                    .collect(),
            }
        })
        .collect())
}

/// The documents of a case visible to this user, newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    case_id: &str,
) -> Result<Vec<DocumentView>, AppError> {
    let (case, _) = visible_case(conn, actor, case_id)?;
    of_case(conn, &case.id)
}

/// The documents of a case whose visibility the caller has checked (the case page, after
/// reading the case), newest first, in the same statements however many there are.
pub fn of_case(conn: &mut DbConnection, case_id: &str) -> Result<Vec<DocumentView>, AppError> {
    let docs: Vec<DocumentRow> = documents::table
        .filter(documents::case_id.eq(case_id))
        .order(documents::created_at.desc())
        .select(DocumentRow::as_select())
        .load(conn)?;
    let mut out: Vec<DocumentView> = views_of(conn, &docs)?
        .into_iter()
        .filter(|v| !v.versions.is_empty())
        .collect();
    // Documents made at the same moment in the same order on every backend.
    out.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.title.cmp(&b.title))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// A version to download, if visible; the read is audited. Its bytes are in the store under
/// `store::content_key(&row.sha256)`.
pub fn open_version(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    document_id: &str,
    number: i32,
) -> Result<VersionRow, AppError> {
    let doc: DocumentRow = documents::table
        .find(document_id)
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    visible_or_refuse(conn, st, actor, &doc.case_id, "document_downloaded")?;
    let version: VersionRow = document_versions::table
        .filter(document_versions::document_id.eq(&doc.id))
        .filter(document_versions::number.eq(number))
        .filter(document_versions::deleted_at.is_null())
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    write_tx(conn, |c| {
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "document_downloaded")
                .case(&doc.case_id)
                .subject(doc.id.clone())
                .detail(serde_json::json!({ "document": doc.id, "version": number, "sha256": version.sha256 })),
        )
    })?;
    Ok(version)
}

/// Soft-deletes a version with a reason (programme manager, co-chairs). A version sent before
/// publication is locked and cannot be deleted. Every refusal is audited.
pub fn delete_version(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    document_id: &str,
    number: i32,
    reason: &str,
) -> Result<(), AppError> {
    let action = "document_version_deleted";
    super::refusals::audited(conn, st.now(), actor, action, Some(document_id), |c| {
        delete_checked(c, st, actor, document_id, number, reason)
    })
}

fn delete_checked(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    document_id: &str,
    number: i32,
    reason: &str,
) -> Result<(), AppError> {
    let reason = crate::domain::input::required_text(
        "reason",
        reason,
        2000,
        "give the reason for deleting this version",
    );
    write_tx(conn, |c| {
        let doc: DocumentRow = documents::table
            .find(document_id)
            .select(DocumentRow::as_select())
            .first(c)
            .optional()?
            .ok_or(AppError::NotFound)?;
        visible_case(c, actor, &doc.case_id)?;
        if !may_delete(actor.role, true) {
            return Err(AppError::Forbidden(DELETE_REFUSED.into()));
        }
        let version: VersionRow = document_versions::table
            .filter(document_versions::document_id.eq(&doc.id))
            .filter(document_versions::number.eq(number))
            .filter(document_versions::deleted_at.is_null())
            .select(VersionRow::as_select())
            .first(c)
            .optional()?
            .ok_or(AppError::NotFound)?;
        if !may_delete(actor.role, version.uploaded_by == actor.user_id) {
            return Err(AppError::Forbidden(DELETE_REFUSED.into()));
        }
        // Read before, refused here: a version that is not there is a 404 first.
        let reason = reason.clone()?;
        if let Some(at) = version.locked_at {
            return Err(AppError::Conflict(locked_message(number, at)));
        }
        diesel::update(document_versions::table.find(&version.id))
            .set((
                document_versions::deleted_at.eq(stored(st.now())),
                document_versions::deleted_by.eq(&actor.user_id),
                document_versions::delete_reason.eq(&reason),
            ))
            .execute(c)?;
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "document_version_deleted")
                .case(&doc.case_id)
                .subject(doc.id.clone())
                .detail(serde_json::json!({ "document": doc.id, "version": number, "reason": reason, "sha256": version.sha256 })),
        )?;
        Ok(())
    })
}

/// What an orphan sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrphanReport {
    /// Temporary objects of interrupted uploads.
    pub partial: usize,
    /// Finished files that no version refers to (a crash between the file and its row).
    pub unreferenced: usize,
}

/// Removes interrupted uploads and unreferenced files older than `documents.orphan_grace_minutes`.
/// Safe while other instances share the store: a file younger than that may be an upload in
/// progress elsewhere (committing a file refreshes its age), and each file is checked against
/// the database again just before it is removed.
pub async fn sweep_orphans(st: &AppState) -> Result<OrphanReport, AppError> {
    let grace = std::time::Duration::from_secs(st.settings.documents.orphan_grace_minutes * 60);
    let objects = st.documents.list().await?;
    let known: std::collections::HashSet<String> = st
        .db(|c, _| {
            let mut known = document_versions::table
                .select(document_versions::sha256)
                .load::<String>(c)?;
            // Meeting papers share the store.
            known.extend(
                crate::db::schema::meeting_papers::table
                    .select(crate::db::schema::meeting_papers::sha256)
                    .load::<String>(c)?,
            );
            Ok(known)
        })
        .await?
        .into_iter()
        .collect();
    let mut report = OrphanReport::default();
    for o in objects.into_iter().filter(|o| o.age >= grace) {
        if o.temporary {
            st.documents.delete(&o.key).await?;
            report.partial += 1;
            continue;
        }
        let Some(sha) = crate::store::sha_of_key(&o.key).map(str::to_string) else {
            continue;
        };
        if known.contains(&sha) {
            continue;
        }
        let again = sha.clone();
        if st.db(move |c, _| Ok(is_referenced(c, &again)?)).await? {
            continue;
        }
        st.documents.delete(&o.key).await?;
        report.unreferenced += 1;
    }
    st.metrics
        .orphans_removed(report.partial, report.unreferenced);
    Ok(report)
}
