//! Corrections, append-only (DESIGN.md §3): an event's date or fields corrected, or the event
//! voided, each with a reason, as a new entry that supersedes the old one (`ledger`). The
//! corrected history must replay validly (`domain::replay`) or nothing changes (422). The
//! deadlines are recomputed and the reminders planned again in the same transaction
//! ([`settle`]); the audit entry keeps the reason, the event before and after, and every
//! deadline that moved with its dates before and after. Co-chairs and the programme manager
//! correct any event people recorded; a lead reviewer only the events they recorded.

use diesel::prelude::*;
use serde_json::{json, Map, Value};

use super::ledger::{Chain, VOID};
use super::view::{EventView, PersonRef};
use super::{checks, insert_entry, refused, replay_context, settle, Loaded, NewEntry, Recorded};
use crate::app::access::refuse;
use crate::app::audit::{self, Entry};
use crate::app::reminders::Recipients;
use crate::app::Actor;
use crate::db::schema::case_people;
use crate::db::{write_tx, DbConnection};
use crate::domain::events::{Event, EventData, EventInput, EventType};
use crate::domain::input::{required_text, NOTE_MAX};
use crate::domain::roles::{Relation, Role};
use crate::domain::workflow;
use crate::error::AppError;
use crate::state::AppState;

/// Correct or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Correct,
    Void,
}

impl Change {
    fn action(self) -> &'static str {
        match self {
            Change::Correct => "event_corrected",
            Change::Void => "event_voided",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Change::Correct => "correct",
            Change::Void => "void",
        }
    }
}

/// May this role correct or void events at all? (A lead reviewer only their own, checked with
/// the event.)
pub fn may_correct(role: Role) -> bool {
    matches!(
        role,
        Role::CoChair | Role::ProgrammeManager | Role::LeadReviewer
    )
}

/// May this user correct or void this event (`recorded_by`: who first recorded it)?
pub fn may_correct_event(role: Role, user_id: &str, recorded_by: &str) -> bool {
    match role {
        Role::CoChair | Role::ProgrammeManager => true,
        Role::LeadReviewer => user_id == recorded_by,
        _ => false,
    }
}

/// `POST /api/v1/cases/{id}/events/{event_id}/correct {"reason", ...fields, "occurred_on"?}`:
/// the fields not named keep their recorded values.
pub fn correct_event(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    event_id: &str,
    body: &Map<String, Value>,
) -> Result<Recorded, AppError> {
    run(conn, st, actor, case_id, event_id, body, Change::Correct)
}

/// `POST /api/v1/cases/{id}/events/{event_id}/void {"reason"}`.
pub fn void_event(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    event_id: &str,
    body: &Map<String, Value>,
) -> Result<Recorded, AppError> {
    run(conn, st, actor, case_id, event_id, body, Change::Void)
}

/// Whether the void would be accepted, without voiding: the same path in a transaction that is
/// rolled back ("Check your answers" comes after the checks).
pub fn check_would_void(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    event_id: &str,
    body: &Map<String, Value>,
) -> Result<(), AppError> {
    if !may_correct(actor.role) {
        return Err(AppError::Forbidden(format!(
            "your role ({}) may not {} recorded events",
            actor.role.label(),
            Change::Void.verb()
        )));
    }
    super::dry_run(conn, |c| {
        change_in(c, st, actor, case_id, event_id, body, Change::Void).map(|_| ())
    })
}

fn run(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    event_id: &str,
    body: &Map<String, Value>,
    change: Change,
) -> Result<Recorded, AppError> {
    let result = if may_correct(actor.role) {
        write_tx(conn, |c| {
            change_in(c, st, actor, case_id, event_id, body, change)
        })
    } else {
        Err(AppError::Forbidden(format!(
            "your role ({}) may not {} recorded events",
            actor.role.label(),
            change.verb()
        )))
    };
    if let Err(e) = &result {
        if matches!(e, AppError::Internal(_)) {
            return result;
        }
        let visible = crate::app::access::visible_case(conn, actor, case_id).is_ok();
        refuse(
            conn,
            st,
            actor,
            visible.then_some(case_id),
            change.action(),
            &e.to_string(),
        )?;
        if !visible {
            return Err(AppError::NotFound);
        }
    }
    result
}

const REASON_MISSING: &str = "enter the reason for the change (it is kept in the case's record)";

/// The reason a correction or a void must give.
pub fn reason(body: &Map<String, Value>) -> Result<String, AppError> {
    match body.get("reason") {
        Some(Value::String(s)) => Ok(required_text("reason", s, NOTE_MAX, REASON_MISSING)?),
        None | Some(Value::Null) => Err(AppError::invalid("reason", REASON_MISSING)),
        Some(_) => Err(AppError::invalid("reason", "must be text")),
    }
}

fn change_in(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    event_id: &str,
    body: &Map<String, Value>,
    change: Change,
) -> Result<Recorded, AppError> {
    let now = st.now();
    let mut loaded = Loaded::for_write(c, st, case_id)?;
    if !loaded.people.access(&actor.user_id).sees(actor.role) {
        return Err(AppError::NotFound);
    }
    let chain = loaded
        .entries
        .chain_of(event_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let latest = loaded.entries.rows[chain.latest()].clone();
    let first_by = loaded.entries.rows[chain.versions[0]].recorded_by.clone();
    check_changeable(&loaded, &chain, event_id, actor, &first_by)?;
    let reason = reason(body)?;
    let old = chain.event.clone();
    let sequence = old.sequence;
    let ctx = replay_context(st, &loaded.case, &loaded.calendar)?;
    let (entry, input) = match change {
        Change::Correct => {
            let mut input = corrected_input(body, &old)?;
            if input.occurred_on == old.occurred_on && input.data == old.data {
                return Err(AppError::invalid(
                    "reason",
                    "the correction changes nothing: give the corrected date or fields",
                ));
            }
            workflow::check_date(loaded.began_on(), input.occurred_on, st.today())
                .map_err(|m| AppError::invalid("occurred_on", m))?;
            let new = Event {
                sequence,
                occurred_on: input.occurred_on,
                data: input.data.clone(),
            };
            loaded
                .history
                .change(Some(sequence), Some(new), &ctx)
                .map_err(|b| refused(b, Some(sequence), "occurred_on"))?;
            if !same_waiver(&old.data, &input.data) {
                checks::across_events(c, st, &loaded, &input)?;
            }
            if let Some(version_id) =
                checks::resolve_sent_version(c, &loaded.case.id, &mut input.data)?
            {
                checks::lock_version(c, &version_id, now)?;
            }
            let data = serde_json::to_string(&input.data).map_err(AppError::internal)?;
            ((input.occurred_on, old.kind().as_str(), data), Some(input))
        }
        Change::Void => {
            loaded
                .history
                .change(Some(sequence), None, &ctx)
                .map_err(|b| refused(b, None, "event_id"))?;
            ((old.occurred_on, VOID, "{}".to_string()), None)
        }
    };
    if old.kind() == EventType::ReviewerAppointed {
        sync_reviewers(c, &mut loaded)?;
    }
    let (occurred_on, kind, data) = entry;
    let row = insert_entry(
        c,
        &loaded.case.id,
        NewEntry {
            sequence: loaded.history.next_sequence(),
            occurred_on,
            kind,
            data,
            supersedes: Some((&latest.id, &reason)),
        },
        actor,
        now,
    )?;
    let refreshed = settle(c, st, &mut loaded, &mut Recipients::new())?;
    let fields = |d: &EventData| {
        let mut v = serde_json::to_value(d).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("type");
        }
        v
    };
    audit::append(
        c,
        now,
        Entry::ok(Some(actor), change.action())
            .case(&loaded.case.id)
            .subject(old.kind().as_str())
            .detail(json!({
                "event": { "id": latest.id, "type": old.kind(), "sequence": sequence },
                "entry": row.id,
                "reason": reason,
                "before": { "occurred_on": old.occurred_on, "fields": fields(&old.data), "stage": loaded.case.stage },
                "after": match &input {
                    Some(i) => json!({ "occurred_on": i.occurred_on, "fields": fields(&i.data), "stage": refreshed.stage }),
                    None => json!({ "voided": true, "stage": refreshed.stage }),
                },
                "deadlines": refreshed.summary(),
            })),
    )?;
    let by = PersonRef {
        id: actor.user_id.clone(),
        name: actor.name.clone(),
    };
    let view = match &input {
        Some(i) => {
            let event = Event {
                sequence,
                occurred_on: i.occurred_on,
                data: i.data.clone(),
            };
            EventView::of(&row, &event, by)
        }
        None => {
            let mut v = EventView::of(&latest, &old, by.clone());
            v.voided = Some(super::view::ChangeView {
                by,
                at: row.recorded_at,
                reason: reason.clone(),
            });
            v
        }
    };
    Recorded::new(st, &loaded, &refreshed, view)
}

/// The entry named is the current version of an event people recorded, and this user may
/// change it.
fn check_changeable(
    loaded: &Loaded,
    chain: &Chain,
    event_id: &str,
    actor: &Actor,
    first_by: &str,
) -> Result<(), AppError> {
    let rows = &loaded.entries.rows;
    if let Some(v) = chain.void {
        return Err(AppError::Conflict(format!(
            "this event was voided on {}; nothing more can be changed on it",
            rows[v].recorded_at.format("%-d %B %Y")
        )));
    }
    let latest = &rows[chain.latest()];
    if latest.id != event_id {
        return Err(AppError::Conflict(format!(
            "this version was superseded by a correction; change the current version ({})",
            latest.id
        )));
    }
    match chain.event.kind() {
        EventType::Aware => {
            return Err(AppError::invalid(
                "event_id",
                "the awareness date, the incident date, the harm and whether the child was looked after are changed on the case itself, with a reason",
            ))
        }
        EventType::ReportVersionUploaded => {
            return Err(AppError::invalid(
                "event_id",
                "an uploaded report version is recorded by the service; delete the version instead",
            ))
        }
        _ => {}
    }
    if !may_correct_event(actor.role, &actor.user_id, first_by) {
        return Err(AppError::Forbidden(
            "a lead reviewer may correct or void only the events they recorded".into(),
        ));
    }
    Ok(())
}

/// The corrected event: the recorded fields, with those the body names replaced (at the top
/// level or in `fields`; `null` clears an optional one), the same type, and the date given or
/// the recorded one.
fn corrected_input(body: &Map<String, Value>, old: &Event) -> Result<EventInput, AppError> {
    let kind = old.kind();
    if let Some(t) = body.get("type") {
        if t.as_str() != Some(kind.as_str()) {
            return Err(AppError::invalid(
                "type",
                "a correction keeps the event's type: void the event and record the right one",
            ));
        }
    }
    let mut merged = match serde_json::to_value(&old.data) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    merged.retain(|_, v| !v.is_null());
    let action_id = match &old.data {
        EventData::ActionAdded { action_id, .. } => Some(action_id.clone()),
        _ => None,
    };
    if kind == EventType::ActionAdded {
        // Kept as it was (the action's identity), not a field people give.
        merged.remove("action_id");
    }
    for (k, v) in body {
        if k != "reason" && k != "fields" {
            merged.insert(k.clone(), v.clone());
        }
    }
    // The event's own fields may also come as an object: the way to correct a field that is
    // itself called `reason` (a waiver's, a withdrawal's, a delay's).
    match body.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            for (k, v) in fields {
                merged.insert(k.clone(), v.clone());
            }
        }
        Some(_) => {
            return Err(AppError::invalid(
                "fields",
                "must be an object of the event's fields",
            ))
        }
    }
    merged.insert("type".into(), json!(kind.as_str()));
    merged
        .entry("occurred_on")
        .or_insert_with(|| json!(old.occurred_on.to_string()));
    EventInput::parse(&merged, || action_id.unwrap_or_default()).map_err(AppError::Invalid)
}

/// A waiver corrected without changing its rule: its deadline is already waived (by it).
fn same_waiver(old: &EventData, new: &EventData) -> bool {
    matches!(
        (old, new),
        (EventData::DeadlineWaived { rule: a, .. }, EventData::DeadlineWaived { rule: b, .. }) if a == b
    )
}

/// The case's lead reviewers are those its current events appoint: a corrected or voided
/// appointment adds or removes the link.
fn sync_reviewers(c: &mut DbConnection, loaded: &mut Loaded) -> Result<(), AppError> {
    let appointed = loaded.history.state().reviewers.clone();
    let linked: Vec<String> = loaded.people.reviewers().map(str::to_string).collect();
    for id in appointed.iter().filter(|id| !linked.contains(id)) {
        let since = loaded
            .history
            .events()
            .iter()
            .find(|e| matches!(&e.data, EventData::ReviewerAppointed { reviewer_id, .. } if reviewer_id == id))
            .map_or(loaded.case.aware_on, |e| e.occurred_on);
        diesel::insert_into(case_people::table)
            .values((
                case_people::case_id.eq(&loaded.case.id),
                case_people::user_id.eq(id),
                case_people::relation.eq(Relation::LeadReviewer.as_str()),
                case_people::since.eq(since),
            ))
            .execute(c)?;
        loaded.people.add(id, Relation::LeadReviewer);
    }
    for id in linked.iter().filter(|id| !appointed.contains(id)) {
        diesel::delete(
            case_people::table
                .filter(case_people::case_id.eq(&loaded.case.id))
                .filter(case_people::user_id.eq(id))
                .filter(case_people::relation.eq(Relation::LeadReviewer.as_str())),
        )
        .execute(c)?;
        loaded.people.remove(id, Relation::LeadReviewer);
    }
    Ok(())
}
