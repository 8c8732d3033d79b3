//! What an event must satisfy beyond its own fields and its place in the replay
//! (`domain::replay`: the stage, the action done is open, the seven-working-day rule before
//! publication): the rules that look at other records (the meeting decision it cites, the
//! reviewer is an active lead reviewer, the waived deadline is pending), and which report
//! version a pre-publication copy sent (that version is then locked).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Loaded;
use crate::app::stored;
use crate::db::models::{DocumentRow, UserRow, VersionRow};
use crate::db::schema::{document_versions, documents, users};
use crate::db::DbConnection;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::documents::DocumentKind;
use crate::domain::events::{EventData, EventInput};
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::state::AppState;

/// Checks that need other records: the meeting decision an event records, the reviewer
/// exists, the dates it sets are not before it, the waived deadline is pending.
pub fn across_events(
    conn: &mut DbConnection,
    st: &AppState,
    loaded: &Loaded,
    input: &EventInput,
) -> Result<(), AppError> {
    crate::app::governance::check_event_decision(conn, st, &loaded.case, input)?;
    match &input.data {
        EventData::ReviewerAppointed { reviewer_id, .. } => {
            let reviewer: Option<UserRow> = users::table
                .find(reviewer_id)
                .select(UserRow::as_select())
                .first(conn)
                .optional()?;
            match reviewer {
                Some(u) if u.active && u.role == Role::LeadReviewer.as_str() => Ok(()),
                Some(_) => Err(AppError::invalid(
                    "reviewer_id",
                    "that person is not an active lead reviewer",
                )),
                None => Err(AppError::invalid("reviewer_id", "no user has that id")),
            }
        }
        EventData::ActionAdded { due_on, .. } if *due_on < input.occurred_on => Err(
            AppError::invalid("due_on", "cannot be before the date the action is added"),
        ),
        EventData::PublicationPlanned { publication_on, .. }
            if *publication_on < input.occurred_on =>
        {
            Err(AppError::invalid(
                "publication_on",
                "the publication date cannot be before the date it is planned",
            ))
        }
        EventData::PublicationDelayed {
            revised_publication_on: Some(revised),
            ..
        } if *revised < input.occurred_on => Err(AppError::invalid(
            "revised_publication_on",
            "the revised publication date cannot be before the date of the decision to delay",
        )),
        EventData::DeadlineWaived { rule, .. } => {
            let pending = loaded
                .deadlines
                .iter()
                .any(|d| &d.rule_id == rule && d.status == DeadlineStatus::Pending.as_str());
            if pending {
                Ok(())
            } else {
                Err(AppError::invalid(
                    "rule",
                    format!("this case has no pending deadline for rule {rule:?}"),
                ))
            }
        }
        _ => Ok(()),
    }
}

/// For `prepub_copy_sent`: the version sent (the one named, or the newest final or summary
/// report version), checked to belong to the case. Fills the event's document fields.
pub fn resolve_sent_version(
    conn: &mut DbConnection,
    case_id: &str,
    data: &mut EventData,
) -> Result<Option<String>, AppError> {
    let EventData::PrepubCopySent {
        document_id,
        version,
        ..
    } = data
    else {
        return Ok(None);
    };
    let candidates: Vec<(DocumentRow, VersionRow)> = documents::table
        .inner_join(document_versions::table)
        .filter(documents::case_id.eq(case_id))
        .filter(documents::kind.eq_any([
            DocumentKind::FinalReport.as_str(),
            DocumentKind::SummaryReport.as_str(),
        ]))
        .filter(document_versions::deleted_at.is_null())
        .order(document_versions::uploaded_at.desc())
        .select((DocumentRow::as_select(), VersionRow::as_select()))
        .load(conn)?;
    let chosen = match (document_id.as_deref(), *version) {
        (Some(id), Some(n)) => candidates.iter().find(|(d, v)| d.id == id && v.number == n),
        (Some(id), None) => candidates.iter().find(|(d, _)| d.id == id),
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "document_id",
                "name the document whose version was sent",
            ))
        }
        (None, None) => candidates.first(),
    };
    match chosen {
        Some((d, v)) => {
            *document_id = Some(d.id.clone());
            *version = Some(v.number);
            Ok(Some(v.id.clone()))
        }
        None if document_id.is_some() => Err(AppError::invalid(
            "document_id",
            "this case has no final or summary report version with that id and number",
        )),
        None => Ok(None),
    }
}

/// Locks a version that was sent.
pub fn lock_version(
    conn: &mut DbConnection,
    version_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(document_versions::table.find(version_id))
        .filter(document_versions::locked_at.is_null())
        .set(document_versions::locked_at.eq(stored(now)))
        .execute(conn)
}
