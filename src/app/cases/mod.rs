//! Cases: opening one, recording its events, reading it. Each write is one transaction:
//! event, stage and deadlines, audit entry, outbox rows.

pub mod list;
pub mod projection;
pub mod publication;
pub mod stages;
pub mod trail;
pub mod view;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::audit::{self, Entry};
use super::{new_id, stored, Actor};
use crate::db::models::{CaseRow, EventRow, UserRow};
use crate::db::schema::{case_counters, case_events, case_people, cases, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::case::{case_reference, financial_year, CaseFacts, Harm, Stage};
use crate::domain::deadlines::{self, CaseInput};
use crate::domain::events::{Event, EventData, EventInput, EventType};
use crate::domain::input::{FieldError, Fields, SHORT_MAX};
use crate::domain::roles::Role;
use crate::domain::workflow::{self, CaseState};
use crate::error::AppError;
use crate::state::AppState;

pub use view::CaseView;

/// A validated request to open a case.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub child_pseudonym: String,
    pub aware_on: NaiveDate,
    pub incident_on: NaiveDate,
    pub harm: Harm,
    pub looked_after: bool,
    pub summary: String,
    pub child_name: Option<String>,
    pub child_dob: Option<NaiveDate>,
}

impl NewCase {
    /// Parses and checks `{"child_pseudonym","aware_on","incident_on","harm","looked_after",
    /// "summary"[,"child_name","child_dob"]}`.
    pub fn parse(body: &Map<String, Value>, today: NaiveDate) -> Result<NewCase, AppError> {
        let mut f = Fields::new(body, &[]);
        let child_pseudonym = f.short_text(
            "child_pseudonym",
            "the pseudonym used for the child, e.g. Child Q",
        );
        let aware_on = f.date("aware_on", "the date the local authority became aware");
        let incident_on = f.date("incident_on", "the date of the incident");
        let harm = f.choice::<Harm>("harm");
        let looked_after = f.opt_bool("looked_after");
        if body.get("looked_after").is_none() {
            f.fail(
                "looked_after",
                "say whether the child was looked after (true or false)",
            );
        }
        let summary = f.text("summary", "a short summary of the incident");
        let child_name = f.opt_text_max("child_name", SHORT_MAX);
        let child_dob = f.opt_date("child_dob");
        let mut extra = vec![];
        if let Some(a) = aware_on {
            if a > today {
                extra.push(FieldError::new("aware_on", "cannot be in the future"));
            }
            if let Some(i) = incident_on {
                if i > a {
                    extra.push(FieldError::new(
                        "incident_on",
                        "cannot be after the date the local authority became aware",
                    ));
                }
            }
        }
        if let (Some(dob), Some(i)) = (child_dob, incident_on) {
            if dob > i {
                extra.push(FieldError::new("child_dob", "cannot be after the incident"));
            }
        }
        let mut errors = match f.finish() {
            Ok(()) => vec![],
            Err(e) => e,
        };
        errors.extend(extra);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(NewCase {
            child_pseudonym,
            aware_on: aware_on.expect("checked"),
            incident_on: incident_on.expect("checked"),
            harm: harm.expect("checked"),
            looked_after: looked_after.unwrap_or(false),
            summary,
            child_name,
            child_dob,
        })
    }
}

/// What the actor is to a case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub appointed: bool,
    pub conflicted: bool,
}

/// The case, if this actor may see it; `NotFound` otherwise (never 403: that would confirm
/// the case exists).
pub fn visible_case(
    conn: &mut DbConnection,
    actor: &Actor,
    case_id: &str,
) -> Result<(CaseRow, Access), AppError> {
    let case: Option<CaseRow> = cases::table
        .find(case_id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?;
    let case = case.ok_or(AppError::NotFound)?;
    let relations: Vec<String> = case_people::table
        .filter(case_people::case_id.eq(case_id))
        .filter(case_people::user_id.eq(&actor.user_id))
        .select(case_people::relation)
        .load(conn)?;
    let access = Access {
        appointed: relations.iter().any(|r| r == "lead_reviewer"),
        conflicted: relations.iter().any(|r| r == "conflict"),
    };
    if !actor.role.may_see_case(access.appointed, access.conflicted) {
        return Err(AppError::NotFound);
    }
    Ok((case, access))
}

/// As [`visible_case`], and a refused attempt is audited under `action`.
pub fn visible_or_refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    action: &str,
) -> Result<(CaseRow, Access), AppError> {
    visible_case(conn, actor, case_id).or_else(|e| {
        refuse(
            conn,
            st,
            actor,
            None,
            action,
            "case not found or not visible",
        )?;
        Err(e)
    })
}

/// A case's events, oldest first, as stored and as the domain sees them.
pub fn load_events(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<(Vec<EventRow>, Vec<Event>), AppError> {
    let rows: Vec<EventRow> = case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::sequence.asc())
        .select(EventRow::as_select())
        .load(conn)?;
    let events = rows
        .iter()
        .map(|r| {
            Ok(Event {
                sequence: r.sequence,
                occurred_on: r.occurred_on,
                data: serde_json::from_str(&r.data).map_err(AppError::internal)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((rows, events))
}

pub fn facts(case: &CaseRow) -> Result<CaseFacts, AppError> {
    Ok(CaseFacts {
        harm: case
            .harm
            .parse()
            .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
        looked_after: case.looked_after,
    })
}

/// Takes the next sequence number for a reference prefix. Unique under concurrency: the row
/// is updated in the caller's transaction (SQLite's write lock, PostgreSQL's row lock).
fn next_sequence(conn: &mut DbConnection, prefix: &str) -> QueryResult<i32> {
    let updated = diesel::update(case_counters::table.find(prefix))
        .set(case_counters::last_sequence.eq(case_counters::last_sequence + 1))
        .execute(conn)?;
    if updated == 0 {
        let inserted = diesel::insert_into(case_counters::table)
            .values((
                case_counters::prefix.eq(prefix),
                case_counters::last_sequence.eq(1),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => return Ok(1),
            // Another transaction created it first; our update now waits for its lock.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            Err(e) => return Err(e),
        }
    }
    case_counters::table
        .find(prefix)
        .select(case_counters::last_sequence)
        .first(conn)
}

/// Opens a case: the `aware` event, its deadlines, the audit entry.
pub fn create(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    input: NewCase,
) -> Result<CaseView, AppError> {
    if !actor.role.may_open_cases() {
        refuse(
            conn,
            st,
            actor,
            None,
            "case_opened",
            "role may not open cases",
        )?;
        return Err(AppError::Forbidden(
            "only the programme manager and the co-chairs open cases".into(),
        ));
    }
    let now = st.now();
    let fy = financial_year(input.aware_on);
    let prefix = format!("{}{}", st.settings.partnership.code, fy);
    // A first case of a financial year created by two people at once: the loser retries.
    let mut attempt = 0;
    let id = loop {
        attempt += 1;
        let result = write_tx(conn, |c| -> Result<String, AppError> {
            let seq = next_sequence(c, &prefix)?;
            let id = new_id();
            let case = CaseRow {
                id: id.clone(),
                reference: case_reference(&st.settings.partnership.code, &fy, seq),
                financial_year: fy.clone(),
                child_pseudonym: input.child_pseudonym.clone(),
                child_name: input.child_name.clone(),
                child_dob: input.child_dob,
                aware_on: input.aware_on,
                incident_on: input.incident_on,
                harm: input.harm.as_str().into(),
                looked_after: input.looked_after,
                summary: input.summary.clone(),
                division: st.division.as_str().into(),
                stage: Stage::Notification.as_str().into(),
                next_due_on: None,
                event_count: 0,
                created_by: actor.user_id.clone(),
                created_at: stored(now),
                updated_at: stored(now),
            };
            diesel::insert_into(cases::table).values(&case).execute(c)?;
            let data = EventData::Aware {
                incident_on: input.incident_on,
                harm: input.harm,
                looked_after: input.looked_after,
            };
            insert_event(c, &case.id, 1, input.aware_on, &data, actor, now)?;
            let calendar = st.calendars.current(c)?;
            let (_, events) = load_events(c, &case.id)?;
            let outcome = projection::refresh(c, st, &case, &events, &calendar, true)?;
            crate::app::reminders::plan_for_case(c, st, &case, now)?;
            audit::append(
                c,
                now,
                Entry::ok(Some(actor), "case_opened").case(&case.id).subject(case.reference.clone()).detail(
                    serde_json::json!({
                        "after": {
                            "reference": case.reference, "child_pseudonym": case.child_pseudonym,
                            "aware_on": case.aware_on, "incident_on": case.incident_on, "harm": case.harm,
                            "looked_after": case.looked_after, "stage": outcome.stage,
                            "identity_recorded": case.child_name.is_some() || case.child_dob.is_some(),
                        },
                        "deadlines": outcome.summary(),
                    }),
                ),
            )?;
            Ok(id)
        });
        match result {
            Err(AppError::Internal(e)) if attempt < 3 && is_rollback(&e) => continue,
            other => break other?,
        }
    };
    let (case, access) = visible_case(conn, actor, &id)?;
    view::build(conn, st, actor, &case, access)
}

fn is_rollback(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<diesel::result::Error>(),
        Some(diesel::result::Error::RollbackTransaction)
    )
}

fn insert_event(
    conn: &mut DbConnection,
    case_id: &str,
    sequence: i32,
    occurred_on: NaiveDate,
    data: &EventData,
    actor: &Actor,
    now: chrono::NaiveDateTime,
) -> Result<String, AppError> {
    let id = new_id();
    diesel::insert_into(case_events::table)
        .values(&EventRow {
            id: id.clone(),
            case_id: case_id.to_string(),
            sequence,
            event_type: data.kind().as_str().into(),
            occurred_on,
            data: serde_json::to_string(data).map_err(AppError::internal)?,
            recorded_by: actor.user_id.clone(),
            recorded_at: stored(now),
        })
        .execute(conn)?;
    Ok(id)
}

/// Records an event the service itself makes (a report version uploaded), inside the caller's
/// transaction, and refreshes the projections.
pub fn record_system_event(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case: &CaseRow,
    data: EventData,
) -> Result<projection::Refreshed, AppError> {
    let (_, events) = load_events(conn, &case.id)?;
    let today = st.today();
    let on = events.last().map_or(today, |e| e.occurred_on.max(today));
    let sequence = events.last().map_or(1, |e| e.sequence + 1);
    insert_event(conn, &case.id, sequence, on, &data, actor, st.now())?;
    let (_, events) = load_events(conn, &case.id)?;
    let calendar = st.calendars.current(conn)?;
    let refreshed = projection::refresh(conn, st, case, &events, &calendar, true)?;
    crate::app::reminders::plan_for_case(conn, st, case, st.now())?;
    Ok(refreshed)
}

/// Writes the audit entry of a refused attempt in its own transaction (the attempt itself
/// changed nothing).
pub fn refuse(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: Option<&str>,
    action: &str,
    reason: &str,
) -> Result<(), AppError> {
    write_tx(conn, |c| {
        let mut e = Entry::refused(Some(actor), action, reason);
        if let Some(id) = case_id {
            e = e.case(id);
        }
        audit::append(c, st.now(), e)?;
        Ok(())
    })
}

/// Records one event. Checked in order: the role may never record this type (403); the case
/// is not visible (404); the stage, the fields, the dates, then the rules that span events
/// (422). A refused event changes nothing and is audited.
pub fn record_event(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    body: &Map<String, Value>,
) -> Result<CaseView, AppError> {
    let kind = match body
        .get("type")
        .and_then(Value::as_str)
        .map(str::parse::<EventType>)
    {
        Some(Ok(k)) => Some(k),
        _ => None,
    };
    if let Some(k) = kind {
        if !workflow::may_record(actor.role, k) {
            let reason = format!(
                "a {} may not record {}",
                actor.role.label().to_lowercase(),
                k.as_str()
            );
            // Only acknowledge the case exists to someone who may see it.
            let visible = visible_case(conn, actor, case_id).is_ok();
            refuse(
                conn,
                st,
                actor,
                visible.then_some(case_id),
                "event_recorded",
                &reason,
            )?;
            if !visible {
                return Err(AppError::NotFound);
            }
            return Err(AppError::Forbidden(format!(
                "your role ({}) may not record \"{}\"",
                actor.role.label(),
                k.label()
            )));
        }
    }
    let now = st.now();
    let today = st.today();
    let result = write_tx(conn, |c| -> Result<(), AppError> {
        if let DbConnection::Pg(pg) = c {
            // Serialises writers of one case: two events never take the same sequence.
            diesel::sql_query("SELECT id FROM cases WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(case_id)
                .execute(pg)?;
        }
        let (case, access) = visible_case(c, actor, case_id)?;
        if actor.role == Role::LeadReviewer && !access.appointed {
            return Err(AppError::NotFound);
        }
        let (_, events) = load_events(c, &case.id)?;
        let state = CaseState::from_events(&events);
        if let Some(k) = kind {
            state
                .check_stage(k)
                .map_err(|m| AppError::invalid("type", m))?;
        }
        let mut input = EventInput::parse(body, new_id).map_err(AppError::Invalid)?;
        let k = input.data.kind();
        state
            .check_stage(k)
            .map_err(|m| AppError::invalid("type", m))?;
        workflow::check_date(&state, k, input.occurred_on, today)
            .map_err(|m| AppError::invalid("occurred_on", m))?;
        let calendar = st.calendars.current(c)?;
        check_across_events(c, st, &case, &events, &state, &input, &calendar)?;
        let sent_version =
            crate::app::documents::resolve_sent_version(c, &case.id, &mut input.data)?;
        let sequence = events.last().map_or(1, |e| e.sequence + 1);
        insert_event(
            c,
            &case.id,
            sequence,
            input.occurred_on,
            &input.data,
            actor,
            now,
        )?;
        if let Some(version_id) = sent_version {
            // The exact version that went out is kept as it is.
            crate::app::documents::lock_version(c, &version_id, now)?;
        }
        if let EventData::ReviewerAppointed { reviewer_id, .. } = &input.data {
            let exists: i64 = case_people::table
                .filter(case_people::case_id.eq(&case.id))
                .filter(case_people::user_id.eq(reviewer_id))
                .filter(case_people::relation.eq("lead_reviewer"))
                .count()
                .get_result(c)?;
            if exists == 0 {
                diesel::insert_into(case_people::table)
                    .values((
                        case_people::case_id.eq(&case.id),
                        case_people::user_id.eq(reviewer_id),
                        case_people::relation.eq("lead_reviewer"),
                        case_people::since.eq(input.occurred_on),
                    ))
                    .execute(c)?;
            }
        }
        let (_, events) = load_events(c, &case.id)?;
        let outcome = projection::refresh(c, st, &case, &events, &calendar, true)?;
        crate::app::reminders::plan_for_case(c, st, &case, now)?;
        let mut data = serde_json::to_value(&input.data).map_err(AppError::internal)?;
        if let Some(m) = data.as_object_mut() {
            m.remove("type");
        }
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "event_recorded").case(&case.id).subject(k.as_str()).detail(serde_json::json!({
                "event": { "type": k, "occurred_on": input.occurred_on, "sequence": sequence, "fields": data },
                "before": { "stage": case.stage },
                "after": { "stage": outcome.stage },
                "deadlines": outcome.summary(),
            })),
        )?;
        Ok(())
    });
    if let Err(e) = result {
        let reason = match &e {
            AppError::NotFound => "case not found or not visible".to_string(),
            AppError::Internal(_) => return Err(e),
            other => other.to_string(),
        };
        let case_ref = (!matches!(e, AppError::NotFound)).then_some(case_id);
        refuse(conn, st, actor, case_ref, "event_recorded", &reason)?;
        return Err(e);
    }
    let (case, access) = visible_case(conn, actor, case_id)?;
    view::build(conn, st, actor, &case, access)
}

/// Checks that need more than the event itself: the reviewer exists, the action is open, the
/// waived deadline is pending, and the seven-working-day rule for publication.
fn check_across_events(
    conn: &mut DbConnection,
    st: &AppState,
    case: &CaseRow,
    events: &[Event],
    state: &CaseState,
    input: &EventInput,
    calendar: &crate::domain::calendar::Calendar,
) -> Result<(), AppError> {
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
        EventData::ActionDone { action_id, .. } => match state.actions.get(action_id) {
            Some(a) if a.done_on.is_none() => Ok(()),
            Some(_) => Err(AppError::invalid(
                "action_id",
                "that action is already recorded as done",
            )),
            None => Err(AppError::invalid(
                "action_id",
                "this case has no improvement action with that id",
            )),
        },
        EventData::ActionAdded { due_on, .. } if *due_on < input.occurred_on => Err(
            AppError::invalid("due_on", "cannot be before the date the action is added"),
        ),
        EventData::LacDeathNotified { .. } if !(case.looked_after && case.harm == "death") => {
            Err(AppError::invalid(
                "type",
                "this notification applies only to the death of a looked-after child",
            ))
        }
        EventData::PublicationPlanned { publication_on, .. }
            if *publication_on < input.occurred_on =>
        {
            Err(AppError::invalid(
                "publication_on",
                "the publication date cannot be before the date it is planned",
            ))
        }
        EventData::DeadlineWaived { rule, .. } => {
            let pending: i64 = crate::db::schema::deadlines::table
                .filter(crate::db::schema::deadlines::case_id.eq(&case.id))
                .filter(crate::db::schema::deadlines::rule_id.eq(rule))
                .filter(crate::db::schema::deadlines::status.eq("pending"))
                .count()
                .get_result(conn)?;
            if pending == 0 {
                Err(AppError::invalid(
                    "rule",
                    format!("this case has no pending deadline for rule {rule:?}"),
                ))
            } else {
                Ok(())
            }
        }
        EventData::Published { .. } => {
            let Some(plan) = state.plan else {
                return Err(AppError::invalid(
                    "type",
                    "record the publication plan (date and format) first",
                ));
            };
            if plan.format == crate::domain::events::PublicationFormat::None {
                return Err(AppError::invalid(
                    "type",
                    "the plan says the report is not to be published; record a new plan to publish it",
                ));
            }
            let input_case = CaseInput {
                facts: facts(case)?,
                division: case.division.parse().map_err(AppError::internal)?,
                stage: state.stage,
                events,
            };
            deadlines::check_publication(&input_case, &st.rules, calendar, input.occurred_on)
                .map_err(|refusals| {
                    AppError::Invalid(
                        refusals
                            .into_iter()
                            .map(|r| {
                                FieldError::new(
                                    format!("prepub_copy_sent.{}", r.recipient.as_str()),
                                    r.message,
                                )
                            })
                            .collect(),
                    )
                })
        }
        _ => Ok(()),
    }
}

/// A user declares a conflict of interest on a case. A sub-group member then no longer sees
/// it; for other roles it is recorded for the Sub-Group's information.
pub fn declare_conflict(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > crate::domain::input::NOTE_MAX {
        return Err(AppError::invalid(
            "note",
            "describe the conflict of interest",
        ));
    }
    write_tx(conn, |c| {
        let (case, _) = visible_case(c, actor, case_id)?;
        let already: i64 = case_people::table
            .filter(case_people::case_id.eq(&case.id))
            .filter(case_people::user_id.eq(&actor.user_id))
            .filter(case_people::relation.eq("conflict"))
            .count()
            .get_result(c)?;
        if already > 0 {
            return Err(AppError::invalid(
                "note",
                "you have already declared a conflict on this case",
            ));
        }
        diesel::insert_into(case_people::table)
            .values((
                case_people::case_id.eq(&case.id),
                case_people::user_id.eq(&actor.user_id),
                case_people::relation.eq("conflict"),
                case_people::since.eq(st.today()),
            ))
            .execute(c)?;
        audit::append(
            c,
            st.now(),
            Entry::ok(Some(actor), "conflict_declared")
                .case(&case.id)
                .detail(serde_json::json!({ "note": note })),
        )?;
        Ok(())
    })
}
