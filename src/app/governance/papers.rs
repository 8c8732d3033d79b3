//! Meeting papers: documents attached to a meeting, read by those who see the whole meeting
//! (its members and organisers; not lead reviewers, whose sight is their own cases). Files go
//! to the document store (`crate::store`) under their SHA-256, as case documents do; accepted
//! types are decided by content, as for case documents.

use diesel::prelude::*;

use super::access;
use super::meetings::{check_open, PaperView};
use super::{audited, bodies::people, lock_meeting};
use crate::app::audit::{self, Entry};
use crate::app::documents::store::Received;
use crate::app::{new_id, stored, Actor};
use crate::db::models::PaperRow;
use crate::db::schema::meeting_papers;
use crate::db::{write_tx, DbConnection};
use crate::domain::documents::{detect, sanitise_file_name, FileType};
use crate::domain::input::required_text;
use crate::error::AppError;
use crate::state::AppState;

/// Checks that this person may attach papers to the meeting (its organisers, before the
/// record is signed off).
pub fn check_upload(
    conn: &mut DbConnection,
    actor: &Actor,
    meeting_id: &str,
) -> Result<(), AppError> {
    let (m, _, _) = access::organised_meeting(conn, actor, meeting_id)?;
    check_open(&m)
}

/// Keeps an uploaded paper: its type checked by content, the object committed under its
/// SHA-256 and the row written with its audit entry. A refused upload leaves nothing in the
/// store (unless another record holds the same content).
pub async fn save(
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    title: &str,
    file_name: &str,
    received: Received,
) -> Result<PaperView, AppError> {
    let title = match required_text("title", title, 200, "give the paper a title") {
        Ok(t) => t,
        Err(e) => {
            received.discard().await;
            return Err(e.into());
        }
    };
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
    let (sha256, size) = (received.sha256.clone(), received.size);
    let key = received.keep().await.map_err(AppError::from)?;
    let row = PaperRow {
        id: new_id(),
        meeting_id: meeting_id.to_string(),
        title,
        sha256: sha256.clone(),
        size_bytes: size as i64,
        content_type: file_type.as_str().into(),
        file_name: sanitise_file_name(file_name, file_type.extension()),
        uploaded_by: actor.user_id.clone(),
        uploaded_at: stored(st.now()),
        deleted_at: None,
        deleted_by: None,
        delete_reason: None,
    };
    let a = actor.clone();
    let result = st.db(move |c, st| commit(c, st, &a, row)).await;
    if result.is_err() {
        let sha = sha256.clone();
        let referenced = st
            .db(move |c, _| Ok(crate::app::documents::is_referenced(c, &sha)?))
            .await
            .unwrap_or(true);
        if !referenced {
            if let Err(e) = st.documents.delete(&key).await {
                tracing::warn!(error = %e, "could not remove the file of a refused paper; the orphan sweep will");
            }
        }
    }
    result
}

/// Writes a stored paper's row and its audit entry, in one transaction.
fn commit(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    row: PaperRow,
) -> Result<PaperView, AppError> {
    let meeting_id = row.meeting_id.clone();
    let row = audited(
        conn,
        st,
        actor,
        "paper_uploaded",
        Some(&meeting_id),
        None,
        |conn| {
            write_tx(conn, |c| {
                let (m, _, _) = access::organised_meeting(c, actor, &row.meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                diesel::insert_into(meeting_papers::table)
                    .values(&row)
                    .execute(c)?;
                audit::append(
                c,
                row.uploaded_at,
                Entry::ok(Some(actor), "paper_uploaded")
                    .subject(m.id.clone())
                    .detail(serde_json::json!({
                        "meeting": m.id, "paper": row.id, "title": row.title, "sha256": row.sha256,
                        "size_bytes": row.size_bytes, "content_type": row.content_type,
                    })),
            )?;
                Ok(row)
            })
        },
    )?;
    let found = people(conn, &[row.uploaded_by.as_str()])?;
    let by = found
        .get(&row.uploaded_by)
        .map(|(u, a)| super::bodies::Person {
            id: u.id.clone(),
            name: u.name.clone(),
            agency: a.clone(),
        })
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the uploader vanished")))?;
    Ok(PaperView {
        download_url: format!("/api/v1/meetings/{}/papers/{}", row.meeting_id, row.id),
        id: row.id,
        title: row.title,
        file_name: row.file_name,
        size_bytes: row.size_bytes,
        content_type: row.content_type,
        sha256: row.sha256,
        uploaded_by: by,
        uploaded_at: row.uploaded_at,
    })
}

/// A paper to download, if this person sees the whole meeting; the read is audited.
pub fn open(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    paper_id: &str,
) -> Result<PaperRow, AppError> {
    let paper = audited(
        conn,
        st,
        actor,
        "paper_downloaded",
        Some(meeting_id),
        None,
        |c| {
            let (m, _, sight, _) = access::visible_meeting(c, actor, meeting_id)?;
            if !sight.is_whole() {
                return Err(AppError::NotFound);
            }
            meeting_papers::table
                .find(paper_id)
                .filter(meeting_papers::meeting_id.eq(&m.id))
                .filter(meeting_papers::deleted_at.is_null())
                .select(PaperRow::as_select())
                .first(c)
                .optional()?
                .ok_or(AppError::NotFound)
        },
    )?;
    write_tx(conn, |c| {
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "paper_downloaded")
                .subject(meeting_id.to_string())
                .detail(serde_json::json!({ "meeting": meeting_id, "paper": paper.id, "sha256": paper.sha256 })),
        )
    })?;
    Ok(paper)
}

/// Removes a paper from the meeting (soft delete with a reason; the audit keeps it).
pub fn delete(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    meeting_id: &str,
    paper_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let reason = required_text(
        "reason",
        reason,
        2000,
        "give the reason for removing this paper",
    );
    audited(
        conn,
        st,
        actor,
        "paper_deleted",
        Some(meeting_id),
        None,
        |conn| {
            let now = st.now();
            write_tx(conn, |c| {
                let (m, _, _) = access::organised_meeting(c, actor, meeting_id)?;
                lock_meeting(c, &m.id)?;
                check_open(&m)?;
                // Read before, refused here: a meeting that is not there is a 404 first.
                let reason = reason.clone()?;
                let n = diesel::update(
                    meeting_papers::table
                        .find(paper_id)
                        .filter(meeting_papers::meeting_id.eq(&m.id))
                        .filter(meeting_papers::deleted_at.is_null()),
                )
                .set((
                    meeting_papers::deleted_at.eq(Some(stored(now))),
                    meeting_papers::deleted_by.eq(Some(&actor.user_id)),
                    meeting_papers::delete_reason.eq(Some(&reason)),
                ))
                .execute(c)?;
                if n == 0 {
                    return Err(AppError::NotFound);
                }
                audit::append(
                c,
                now,
                Entry::ok(Some(actor), "paper_deleted")
                    .subject(m.id.clone())
                    .detail(serde_json::json!({ "meeting": m.id, "paper": paper_id, "reason": reason })),
            )?;
                Ok(())
            })
        },
    )
}
