//! Cases: opening one, recording its events, reading it. Each write is one transaction:
//! event, stage and deadlines, audit entry, outbox rows.

pub mod change;
pub mod list;
pub mod publication;
pub mod stages;
pub mod trail;
pub mod view;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::access::{refuse, visible_case, CasePeople};
use super::audit::{self, Entry};
use super::events::{insert_event, settle, Loaded};
use super::identity::Identity;
use super::reminders::Recipients;
use super::{new_id, stored, Actor};
use crate::db::models::CaseRow;
use crate::db::schema::{case_counters, case_people, cases};
use crate::db::{write_tx, DbConnection};
use crate::domain::case::{case_reference, financial_year, Harm, Stage};
use crate::domain::events::EventData;
use crate::domain::input::{FieldError, Fields, SHORT_MAX};
use crate::domain::roles::Relation;
use crate::domain::workflow::History;
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
                if i > today {
                    extra.push(FieldError::new("incident_on", "cannot be in the future"));
                } else if i > a {
                    extra.push(FieldError::new(
                        "incident_on",
                        "cannot be after the date the local authority became aware",
                    ));
                }
            }
        }
        if child_dob.is_some_and(|dob| dob > today) {
            extra.push(FieldError::new("child_dob", "cannot be in the future"));
        } else if let (Some(dob), Some(i)) = (child_dob, incident_on) {
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
            let mut case = CaseRow {
                id: id.clone(),
                reference: case_reference(&st.settings.partnership.code, &fy, seq),
                financial_year: fy.clone(),
                child_pseudonym: input.child_pseudonym.clone(),
                child_name: None,
                child_dob: None,
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
                child_name_sealed: None,
                child_dob_sealed: None,
                child_name_index: None,
                identity_key_id: None,
            };
            let identity = Identity {
                name: input.child_name.clone(),
                dob: input.child_dob,
            };
            crate::app::identity::seal(&st.crypto, &mut case, &identity);
            diesel::insert_into(cases::table).values(&case).execute(c)?;
            let data = EventData::Aware {
                incident_on: input.incident_on,
                harm: input.harm,
                looked_after: input.looked_after,
            };
            let mut loaded = Loaded {
                calendar: st.calendars.current(c)?,
                case,
                people: CasePeople::default(),
                history: History::new(vec![]),
                entries: Default::default(),
                deadlines: vec![],
            };
            insert_event(
                c,
                &mut loaded.history,
                &id,
                input.aware_on,
                data,
                actor,
                now,
            )?;
            let outcome = settle(c, st, &mut loaded, &mut Recipients::new())?;
            let case = &loaded.case;
            audit::append(
                c,
                now,
                Entry::ok(Some(actor), "case_opened").case(&case.id).subject(case.reference.clone()).detail(
                    serde_json::json!({
                        "after": {
                            "reference": case.reference, "child_pseudonym": case.child_pseudonym,
                            "aware_on": case.aware_on, "incident_on": case.incident_on, "harm": case.harm,
                            "looked_after": case.looked_after, "stage": outcome.stage,
                            "identity_recorded": crate::app::identity::recorded(case),
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
    view::after_write(conn, st, actor, &id)
}

fn is_rollback(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<diesel::result::Error>(),
        Some(diesel::result::Error::RollbackTransaction)
    )
}

/// A sub-group member declares a conflict of interest on a case, and then no longer sees it.
/// Only sub-group members declare conflicts here: for every other role a declaration would
/// change nothing (co-chairs, the programme manager, the business manager and board members see
/// every case by their role; a lead reviewer declares with the appointment), so it is refused
/// (403) rather than accepted and ignored. Every refusal is audited.
pub fn declare_conflict(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    note: &str,
) -> Result<(), AppError> {
    super::refusals::audited(
        conn,
        st.now(),
        actor,
        "conflict_declared",
        Some(case_id),
        |c| {
            if actor.role != crate::domain::roles::Role::SubgroupMember {
                return Err(AppError::Forbidden(
                "only Sub-Group members declare conflicts of interest here; a co-chair's or board member's conflict is recorded with the decision it concerns, and a lead reviewer's with the appointment"
                    .into(),
            ));
            }
            declare_conflict_checked(c, st, actor, case_id, note)
        },
    )
}

fn declare_conflict_checked(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    note: &str,
) -> Result<(), AppError> {
    let note = crate::domain::input::required_text(
        "note",
        note,
        crate::domain::input::NOTE_MAX,
        "describe the conflict of interest",
    )?;
    write_tx(conn, |c| {
        let (case, people) = visible_case(c, actor, case_id)?;
        if people.has(&actor.user_id, Relation::Conflict) {
            return Err(AppError::invalid(
                "note",
                "you have already declared a conflict on this case",
            ));
        }
        diesel::insert_into(case_people::table)
            .values((
                case_people::case_id.eq(&case.id),
                case_people::user_id.eq(&actor.user_id),
                case_people::relation.eq(Relation::Conflict.as_str()),
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
