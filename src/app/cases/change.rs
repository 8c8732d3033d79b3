//! Changing a case's details with a reason (`PATCH /api/v1/cases/{id}`): the pseudonym, the
//! summary, the harm, whether the child was looked after, the incident and awareness dates,
//! and (only for the roles that may see it) the child's identity. The facts the rules look at
//! are those of the `aware` event too: changing them appends a correction of that event, so
//! the replay checks them and the deadlines counted from awareness move, in one transaction
//! with the audit entry (the identity's values are not copied into it).

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Map, Value};

use super::view::{self, CaseView};
use crate::app::access::{refuse, visible_case};
use crate::app::audit::{self, Entry};
use crate::app::events::corrections::reason;
use crate::app::events::{insert_entry, refused, replay_context, settle, Loaded, NewEntry};
use crate::app::reminders::Recipients;
use crate::app::{stored, Actor};
use crate::db::models::CaseRow;
use crate::db::schema::cases;
use crate::db::{write_tx, DbConnection};
use crate::domain::case::Harm;
use crate::domain::events::{Event, EventData, EventType};
use crate::domain::input::{FieldError, Fields, SHORT_MAX};
use crate::error::AppError;
use crate::state::AppState;

/// The fields a change may name.
const FIELDS: &[&str] = &[
    "child_pseudonym",
    "summary",
    "harm",
    "looked_after",
    "incident_on",
    "aware_on",
    "child_name",
    "child_dob",
];
const IDENTITY: &[&str] = &["child_name", "child_dob"];

/// The parsed change: each field named, with its new value.
#[derive(Debug, Default)]
struct CaseChange {
    child_pseudonym: Option<String>,
    summary: Option<String>,
    harm: Option<Harm>,
    looked_after: Option<bool>,
    incident_on: Option<NaiveDate>,
    aware_on: Option<NaiveDate>,
    child_name: Option<Option<String>>,
    child_dob: Option<Option<NaiveDate>>,
}

fn parse(body: &Map<String, Value>) -> Result<CaseChange, AppError> {
    let mut f = Fields::new(body, &["reason"]);
    let has = |k: &str| body.contains_key(k);
    let ch = CaseChange {
        child_pseudonym: has("child_pseudonym")
            .then(|| f.short_text("child_pseudonym", "the pseudonym used for the child")),
        summary: has("summary").then(|| f.text("summary", "a short summary of the incident")),
        harm: if has("harm") {
            f.choice::<Harm>("harm")
        } else {
            None
        },
        looked_after: if has("looked_after") {
            let v = f.opt_bool("looked_after");
            if v.is_none() {
                f.fail(
                    "looked_after",
                    "say whether the child was looked after (true or false)",
                );
            }
            v
        } else {
            None
        },
        incident_on: if has("incident_on") {
            f.date("incident_on", "the date of the incident")
        } else {
            None
        },
        aware_on: if has("aware_on") {
            f.date("aware_on", "the date the local authority became aware")
        } else {
            None
        },
        child_name: has("child_name").then(|| f.opt_text_max("child_name", SHORT_MAX)),
        child_dob: has("child_dob").then(|| f.opt_date("child_dob")),
    };
    f.finish().map_err(AppError::Invalid)?;
    if !FIELDS.iter().any(|k| has(k)) {
        return Err(AppError::invalid(
            "reason",
            format!("name at least one field to change: {}", FIELDS.join(", ")),
        ));
    }
    Ok(ch)
}

/// Changes a case's details. Co-chairs and the programme manager; the identity fields only by
/// the roles that may see them (403). Checked like a new case (dates not in the future, the
/// incident not after awareness, the birth not after the incident), then the replay with the
/// corrected awareness (422 naming what would break). Answers the case as the user sees it.
pub fn change(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    body: &Map<String, Value>,
) -> Result<CaseView, AppError> {
    let result = if actor.role.may_open_cases() {
        write_tx(conn, |c| change_in(c, st, actor, case_id, body))
    } else {
        Err(AppError::Forbidden(format!(
            "your role ({}) may not change a case's details",
            actor.role.label()
        )))
    };
    match result {
        Ok(()) => {}
        Err(e @ AppError::Internal(_)) => return Err(e),
        Err(e) => {
            let visible = visible_case(conn, actor, case_id).is_ok();
            refuse(
                conn,
                st,
                actor,
                visible.then_some(case_id),
                "case_changed",
                &e.to_string(),
            )?;
            return Err(if visible { e } else { AppError::NotFound });
        }
    }
    view::after_write(conn, st, actor, case_id)
}

fn change_in(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    body: &Map<String, Value>,
) -> Result<(), AppError> {
    let now = st.now();
    let today = st.today();
    let mut loaded = Loaded::for_write(c, st, case_id)?;
    let access = loaded.people.access(&actor.user_id);
    if !access.sees(actor.role) {
        return Err(AppError::NotFound);
    }
    if IDENTITY.iter().any(|k| body.contains_key(*k))
        && !actor.role.may_see_identity(access.appointed)
    {
        return Err(AppError::Forbidden(
            "your role may not see or change the child's identity".into(),
        ));
    }
    let reason = reason(body)?;
    let ch = parse(body)?;
    let before = loaded.case.clone();
    let mut after = before.clone();
    if let Some(v) = ch.child_pseudonym {
        after.child_pseudonym = v;
    }
    if let Some(v) = ch.summary {
        after.summary = v;
    }
    if let Some(v) = ch.harm {
        after.harm = v.as_str().into();
    }
    if let Some(v) = ch.looked_after {
        after.looked_after = v;
    }
    if let Some(v) = ch.incident_on {
        after.incident_on = v;
    }
    if let Some(v) = ch.aware_on {
        after.aware_on = v;
    }
    if let Some(v) = ch.child_name {
        after.child_name = v;
    }
    if let Some(v) = ch.child_dob {
        after.child_dob = v;
    }
    check_dates(&after, today)?;
    let changed = changed_fields(&before, &after);
    if changed.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "the change changes nothing: the fields named already have those values",
        ));
    }
    let facts_changed = before.aware_on != after.aware_on
        || before.incident_on != after.incident_on
        || before.harm != after.harm
        || before.looked_after != after.looked_after;
    loaded.case = after.clone();
    if facts_changed {
        correct_awareness(c, st, actor, &mut loaded, &reason, now)?;
    }
    diesel::update(cases::table.find(&after.id))
        .set((
            cases::child_pseudonym.eq(&after.child_pseudonym),
            cases::summary.eq(&after.summary),
            cases::harm.eq(&after.harm),
            cases::looked_after.eq(after.looked_after),
            cases::incident_on.eq(after.incident_on),
            cases::aware_on.eq(after.aware_on),
            cases::child_name.eq(&after.child_name),
            cases::child_dob.eq(after.child_dob),
            cases::updated_at.eq(stored(now)),
        ))
        .execute(c)?;
    // The stage stays as read; the deadlines follow the corrected facts.
    let refreshed = settle(c, st, &mut loaded, &mut Recipients::new())?;
    let shown = |row: &CaseRow, k: &str| -> Value {
        match k {
            "child_name" | "child_dob" => json!("(restricted)"),
            "child_pseudonym" => json!(row.child_pseudonym),
            "summary" => json!(row.summary),
            "harm" => json!(row.harm),
            "looked_after" => json!(row.looked_after),
            "incident_on" => json!(row.incident_on),
            "aware_on" => json!(row.aware_on),
            _ => Value::Null,
        }
    };
    let pick = |row: &CaseRow| -> Map<String, Value> {
        changed
            .iter()
            .map(|k| (k.to_string(), shown(row, k)))
            .collect()
    };
    audit::append(
        c,
        now,
        Entry::ok(Some(actor), "case_changed")
            .case(&after.id)
            .detail(json!({
                "reason": reason,
                "fields": changed,
                "before": pick(&before),
                "after": pick(&after),
                "deadlines": refreshed.summary(),
            })),
    )?;
    Ok(())
}

/// The same checks as opening a case.
fn check_dates(case: &CaseRow, today: NaiveDate) -> Result<(), AppError> {
    let mut errors = vec![];
    if case.aware_on > today {
        errors.push(FieldError::new("aware_on", "cannot be in the future"));
    }
    if case.incident_on > today {
        errors.push(FieldError::new("incident_on", "cannot be in the future"));
    } else if case.incident_on > case.aware_on {
        errors.push(FieldError::new(
            "incident_on",
            "cannot be after the date the local authority became aware",
        ));
    }
    if let Some(dob) = case.child_dob {
        if dob > today {
            errors.push(FieldError::new("child_dob", "cannot be in the future"));
        } else if dob > case.incident_on {
            errors.push(FieldError::new("child_dob", "cannot be after the incident"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn changed_fields(before: &CaseRow, after: &CaseRow) -> Vec<&'static str> {
    let mut out = vec![];
    let mut note = |k: &'static str, differs: bool| {
        if differs {
            out.push(k);
        }
    };
    note(
        "child_pseudonym",
        before.child_pseudonym != after.child_pseudonym,
    );
    note("summary", before.summary != after.summary);
    note("harm", before.harm != after.harm);
    note("looked_after", before.looked_after != after.looked_after);
    note("incident_on", before.incident_on != after.incident_on);
    note("aware_on", before.aware_on != after.aware_on);
    note("child_name", before.child_name != after.child_name);
    note("child_dob", before.child_dob != after.child_dob);
    out
}

/// Appends a correction of the `aware` event with the case's new facts, checked by the replay.
fn correct_awareness(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    loaded: &mut Loaded,
    reason: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    let chain = loaded
        .entries
        .chains
        .iter()
        .find(|ch| ch.is_current() && ch.event.kind() == EventType::Aware)
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a case without its aware event")))?;
    let latest_id = loaded.entries.rows[chain.latest()].id.clone();
    let case = &loaded.case;
    let data = EventData::Aware {
        incident_on: case.incident_on,
        harm: case
            .harm
            .parse()
            .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
        looked_after: case.looked_after,
    };
    let sequence = chain.event.sequence;
    let event = Event {
        sequence,
        occurred_on: case.aware_on,
        data: data.clone(),
    };
    let ctx = replay_context(st, &loaded.case, &loaded.calendar)?;
    loaded
        .history
        .change(Some(sequence), Some(event), &ctx)
        .map_err(|b| match refused(b, Some(sequence), "aware_on") {
            AppError::Invalid(errors) => AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| match e.field.as_str() {
                        "occurred_on" => FieldError::new("aware_on", e.message),
                        _ => e,
                    })
                    .collect(),
            ),
            other => other,
        })?;
    insert_entry(
        c,
        &loaded.case.id,
        NewEntry {
            sequence: loaded.history.next_sequence(),
            occurred_on: loaded.case.aware_on,
            kind: EventType::Aware.as_str(),
            data: serde_json::to_string(&data).map_err(AppError::internal)?,
            supersedes: Some((&latest_id, reason)),
        },
        actor,
        now,
    )?;
    Ok(())
}
