//! The path of one event (docs/ARCHITECTURE.md). In one transaction: the case is loaded once
//! ([`Loaded::for_write`]: its row, locked on PostgreSQL, its people, the calendar, its
//! events in replay order folded once, its deadlines); the new event is checked against that
//! state and inserted; [`settle`] recomputes the stage and the deadlines from the same state,
//! writes what changed and plans the reminders from what it wrote; the audit entry closes the
//! transaction. Opening a case, a report version uploaded and a calendar change take the same
//! path. Nothing is read twice.

pub mod checks;
pub mod corrections;
pub mod ledger;
pub mod projection;
pub mod view;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use serde::Serialize;
use serde_json::{Map, Value};

use super::access::{refuse, CasePeople};
use super::audit::{self, Entry};
use super::reminders::{self, Recipients};
use super::{new_id, stored, Actor};
use crate::db::models::{CaseRow, DeadlineRow, EventRow};
use crate::db::schema::{case_events, case_people};
use crate::db::{write_tx, DbConnection};
use crate::domain::calendar::{Calendar, Division};
use crate::domain::case::{CaseFacts, Stage};
use crate::domain::events::{Event, EventData, EventInput, EventType};
use crate::domain::replay;
use crate::domain::roles::Relation;
use crate::domain::workflow::{self, History};
use crate::error::AppError;
use crate::state::AppState;
use ledger::CaseEvents;
use projection::{ChangeKind, Refreshed};
use view::{deadline_view, DeadlineView, EventView, PersonRef};

/// A case as the write path holds it, read once at the start of the transaction.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub case: CaseRow,
    pub people: CasePeople,
    pub calendar: Calendar,
    pub history: History,
    /// The entries as stored (corrections and voids included), resolved into chains.
    pub entries: CaseEvents,
    pub deadlines: Vec<DeadlineRow>,
}

impl Loaded {
    /// The day the case began: its first event, the local authority becoming aware.
    pub fn began_on(&self) -> NaiveDate {
        self.history
            .events()
            .first()
            .map_or(self.case.aware_on, |e| e.occurred_on)
    }
}

/// One row of [`Loaded::for_write`]'s first statement: the case, one of its people (none when
/// it has none), and the calendar's revision.
#[derive(QueryableByName)]
struct CaseForWrite {
    #[diesel(embed)]
    case: CaseRow,
    #[diesel(sql_type = Nullable<Text>)]
    person_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    person_relation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    calendar_rev: Option<String>,
}

const CASE_FOR_WRITE: &str = "SELECT c.*, p.user_id AS person_id, p.relation AS person_relation, \
     (SELECT value FROM settings WHERE key = 'calendar_rev') AS calendar_rev \
     FROM cases c LEFT JOIN case_people p ON p.case_id = c.id";

impl Loaded {
    /// Reads the case for a write, in three statements whatever its size: the case row (on
    /// PostgreSQL locked until the transaction ends, so writers of one case take turns) with
    /// its people and the calendar's revision; its events; its deadlines. `NotFound` when there
    /// is no such case. Call inside the write transaction.
    pub fn for_write(
        conn: &mut DbConnection,
        st: &AppState,
        case_id: &str,
    ) -> Result<Loaded, AppError> {
        let rows: Vec<CaseForWrite> = match conn {
            DbConnection::Sqlite(c) => {
                diesel::sql_query(format!("{CASE_FOR_WRITE} WHERE c.id = ?"))
                    .bind::<Text, _>(case_id)
                    .load(c)?
            }
            DbConnection::Pg(c) => {
                diesel::sql_query(format!("{CASE_FOR_WRITE} WHERE c.id = $1 FOR UPDATE OF c"))
                    .bind::<Text, _>(case_id)
                    .load(c)?
            }
        };
        let mut links = vec![];
        let mut first = None;
        for row in rows {
            if let (Some(user), Some(relation)) = (row.person_id, row.person_relation) {
                let relation: Relation = relation
                    .parse()
                    .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
                links.push((user, relation));
            }
            first.get_or_insert((row.case, row.calendar_rev));
        }
        let (case, rev) = first.ok_or(AppError::NotFound)?;
        let calendar = st.calendars.at_rev(conn, rev)?;
        let entries = ledger::load(conn, &case.id)?;
        let deadlines = projection::stored_deadlines(conn, &case.id)?;
        Ok(Loaded {
            people: CasePeople::from_links(links),
            history: History::with_next_sequence(entries.current(), entries.next_sequence()),
            entries,
            case,
            calendar,
            deadlines,
        })
    }
}

/// The facts of a case that the rules look at.
pub fn facts(case: &CaseRow) -> Result<CaseFacts, AppError> {
    Ok(CaseFacts {
        harm: case
            .harm
            .parse()
            .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?,
        looked_after: case.looked_after,
    })
}

/// What the replay needs of a case besides its events.
pub fn replay_context<'a>(
    st: &'a AppState,
    case: &CaseRow,
    calendar: &'a Calendar,
) -> Result<replay::Context<'a>, AppError> {
    Ok(replay::Context {
        facts: facts(case)?,
        division: case.division.parse().map_err(AppError::internal)?,
        rules: &st.rules,
        calendar,
        today: st.today(),
    })
}

/// A change refused by the replay: the event's own problems when it is the event being
/// recorded or corrected (`own`), else one message on `field` naming the event it would break.
pub fn refused(broken: replay::Broken, own: Option<i32>, field: &str) -> AppError {
    if Some(broken.sequence) == own {
        AppError::Invalid(broken.errors)
    } else {
        AppError::invalid(field, broken.describe())
    }
}

/// One entry to store: an event, a correction (`supersedes`, with its reason) or a void.
pub struct NewEntry<'a> {
    pub sequence: i32,
    pub occurred_on: NaiveDate,
    pub kind: &'a str,
    pub data: String,
    pub supersedes: Option<(&'a str, &'a str)>,
}

/// Inserts one entry.
pub fn insert_entry(
    conn: &mut DbConnection,
    case_id: &str,
    entry: NewEntry<'_>,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<EventRow, AppError> {
    let row = EventRow {
        id: new_id(),
        case_id: case_id.to_string(),
        sequence: entry.sequence,
        event_type: entry.kind.into(),
        occurred_on: entry.occurred_on,
        data: entry.data,
        recorded_by: actor.user_id.clone(),
        recorded_at: stored(now),
        supersedes: entry.supersedes.map(|(id, _)| id.to_string()),
        change_reason: entry.supersedes.map(|(_, reason)| reason.to_string()),
    };
    diesel::insert_into(case_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// Inserts an event (the next in `history`) and adds it to the history in its place,
/// unchecked: the service's own events, which every stage allows.
pub fn insert_event(
    conn: &mut DbConnection,
    history: &mut History,
    case_id: &str,
    occurred_on: NaiveDate,
    data: EventData,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<EventRow, AppError> {
    let entry = NewEntry {
        sequence: history.next_sequence(),
        occurred_on,
        kind: data.kind().as_str(),
        data: serde_json::to_string(&data).map_err(AppError::internal)?,
        supersedes: None,
    };
    let row = insert_entry(conn, case_id, entry, actor, now)?;
    history.push(Event {
        sequence: row.sequence,
        occurred_on,
        data,
    });
    Ok(row)
}

/// After the events (or the calendar) changed: the stage and the deadlines recomputed from
/// `loaded` and written, then the reminders that what was written makes due planned and
/// queued. The one place where a refresh is followed by planning; `users` carries the
/// recipients across cases (a calendar change settles many). `loaded.deadlines` become the
/// rows as written; `loaded.case` stays the row as it was read.
pub fn settle(
    conn: &mut DbConnection,
    st: &AppState,
    loaded: &mut Loaded,
    users: &mut Recipients,
) -> Result<Refreshed, AppError> {
    let existing = std::mem::take(&mut loaded.deadlines);
    let refreshed = projection::refresh(
        conn,
        st,
        &loaded.case,
        &loaded.history,
        &loaded.calendar,
        existing,
        true,
    )?;
    if refreshed.stage != Stage::Withdrawn {
        let now = st.now();
        let pending: Vec<reminders::PlanDeadline> =
            refreshed.pending().into_iter().map(Into::into).collect();
        let planned = reminders::plan_deadlines(
            conn,
            st,
            &(&loaded.case).into(),
            &pending,
            &loaded.people,
            &loaded.calendar,
            users,
            now,
        )?;
        reminders::queue_reminders(
            conn,
            st,
            &planned,
            now,
            reminders::after_write(st, now),
            true,
        )?;
    }
    loaded.deadlines = refreshed.rows.clone();
    Ok(refreshed)
}

/// A deadline that the event changed: how, and where it stands now.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangedDeadline {
    /// What happened to the deadline.
    pub change: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_due_on: Option<NaiveDate>,
    #[serde(flatten)]
    pub deadline: DeadlineView,
}

/// What recording an event answers: the event, where the case now stands, and only the
/// deadlines that changed. Its size does not depend on how many events the case has.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Recorded {
    pub case_id: String,
    pub reference: String,
    pub stage: Stage,
    pub stage_label: &'static str,
    #[schemars(with = "Stage")]
    pub previous_stage: String,
    pub event: EventView,
    /// Every event recorded, when one request recorded several (copies sent to several
    /// recipients); `event` is the first of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
    pub deadlines: Vec<ChangedDeadline>,
}

impl Recorded {
    pub(crate) fn new(
        st: &AppState,
        loaded: &Loaded,
        refreshed: &Refreshed,
        event: EventView,
    ) -> Result<Recorded, AppError> {
        let division: Division = loaded.case.division.parse().map_err(AppError::internal)?;
        let deadlines = refreshed
            .changes
            .iter()
            .filter_map(|c| {
                let row = refreshed.row(&c.deadline_id)?.clone();
                Some(ChangedDeadline {
                    change: c.change,
                    previous_due_on: c.previous_due_on,
                    deadline: deadline_view(st, &loaded.calendar, division, row),
                })
            })
            .collect();
        Ok(Recorded {
            case_id: loaded.case.id.clone(),
            reference: loaded.case.reference.clone(),
            stage: refreshed.stage,
            stage_label: refreshed.stage.label(),
            previous_stage: loaded.case.stage.clone(),
            event,
            events: None,
            deadlines,
        })
    }
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
) -> Result<Recorded, AppError> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<EventType>().ok());
    if let Some(k) = kind {
        if !workflow::may_record(actor.role, k) {
            return Err(refuse_role(conn, st, actor, case_id, k));
        }
    }
    let result = write_tx(conn, |c| record_in(c, st, actor, case_id, body));
    if let Err(e) = &result {
        let reason = match e {
            AppError::NotFound => "case not found or not visible".to_string(),
            AppError::Internal(_) => return result,
            other => other.to_string(),
        };
        let case_ref = (!matches!(e, AppError::NotFound)).then_some(case_id);
        refuse(conn, st, actor, case_ref, "event_recorded", &reason)?;
    }
    result
}

/// A role that may never record `kind`: 403, or 404 to someone who may not see the case (only
/// acknowledge the case exists to someone who may see it); audited either way.
fn refuse_role(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    kind: EventType,
) -> AppError {
    let reason = format!(
        "a {} may not record {}",
        actor.role.label().to_lowercase(),
        kind.as_str()
    );
    let visible = super::access::visible_case(conn, actor, case_id).is_ok();
    let audited = refuse(
        conn,
        st,
        actor,
        visible.then_some(case_id),
        "event_recorded",
        &reason,
    );
    match audited {
        Err(e) => e,
        Ok(()) if !visible => AppError::NotFound,
        Ok(()) => AppError::Forbidden(format!(
            "your role ({}) may not record \"{}\"",
            actor.role.label(),
            kind.label()
        )),
    }
}

/// [`record_event`] inside its transaction: every event of the request (copies sent to
/// several recipients are one event each) checked and inserted, then one settle.
fn record_in(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    body: &Map<String, Value>,
) -> Result<Recorded, AppError> {
    let now = st.now();
    let mut loaded = Loaded::for_write(c, st, case_id)?;
    if !loaded.people.access(&actor.user_id).sees(actor.role) {
        return Err(AppError::NotFound);
    }
    let bodies = crate::domain::events::expand_recipients(body).map_err(AppError::Invalid)?;
    // Several recipients: a problem with one is said of the list.
    let many = body.contains_key("recipients");
    let mut inserted = vec![];
    for one in &bodies {
        let added = insert_checked(c, st, actor, &mut loaded, one, now).map_err(|e| match e {
            AppError::Invalid(errors) if many => AppError::Invalid(
                errors
                    .into_iter()
                    .map(|mut f| {
                        if f.field == "recipient" {
                            f.field = "recipients".into();
                        }
                        f
                    })
                    .collect(),
            ),
            other => other,
        })?;
        inserted.push(added);
    }
    let refreshed = settle(c, st, &mut loaded, &mut Recipients::new())?;
    let last = inserted.len().saturating_sub(1);
    for (i, (row, fields)) in inserted.iter().enumerate() {
        let k = row.event_type.as_str();
        let deadlines = if i == last {
            refreshed.summary()
        } else {
            serde_json::json!([])
        };
        audit::append(
            c,
            now,
            Entry::ok(Some(actor), "event_recorded").case(&loaded.case.id).subject(k).detail(serde_json::json!({
                "event": { "type": k, "occurred_on": row.occurred_on, "sequence": row.sequence, "fields": fields },
                "before": { "stage": loaded.case.stage },
                "after": { "stage": refreshed.stage },
                "deadlines": deadlines,
            })),
        )?;
    }
    let by = PersonRef {
        id: actor.user_id.clone(),
        name: actor.name.clone(),
    };
    let mut views = vec![];
    for (row, _) in &inserted {
        let event = loaded
            .history
            .events()
            .iter()
            .find(|e| e.sequence == row.sequence)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the recorded event is missing")))?;
        views.push(EventView::of(row, event, by.clone()));
    }
    let first = views
        .first()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no event recorded")))?;
    let mut recorded = Recorded::new(st, &loaded, &refreshed, first)?;
    if many {
        recorded.events = Some(views);
    }
    Ok(recorded)
}

/// Checks one event against the case as loaded (its fields, its date, its place in the
/// replay, the rules that read other records) and inserts it: the row and its fields.
fn insert_checked(
    c: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    loaded: &mut Loaded,
    body: &Map<String, Value>,
    now: NaiveDateTime,
) -> Result<(EventRow, Value), AppError> {
    let mut input = EventInput::parse(body, new_id).map_err(AppError::Invalid)?;
    let k = input.data.kind();
    workflow::check_date(loaded.began_on(), input.occurred_on, st.today())
        .map_err(|m| AppError::invalid("occurred_on", m))?;
    let sent_version = checks::resolve_sent_version(c, &loaded.case.id, &mut input.data)?;
    // Where the event falls among the others: the replay from there must hold.
    let sequence = loaded.history.next_sequence();
    let event = Event {
        sequence,
        occurred_on: input.occurred_on,
        data: input.data.clone(),
    };
    let ctx = replay_context(st, &loaded.case, &loaded.calendar)?;
    loaded
        .history
        .change(None, Some(event), &ctx)
        .map_err(|b| refused(b, Some(sequence), "occurred_on"))?;
    checks::across_events(c, st, loaded, &input)?;
    let mut fields = serde_json::to_value(&input.data).map_err(AppError::internal)?;
    if let Some(m) = fields.as_object_mut() {
        m.remove("type");
    }
    if let Some(version_id) = sent_version {
        // The exact version that went out is kept as it is.
        checks::lock_version(c, &version_id, now)?;
    }
    if let EventData::ReviewerAppointed { reviewer_id, .. } = &input.data {
        if !loaded.people.has(reviewer_id, Relation::LeadReviewer) {
            diesel::insert_into(case_people::table)
                .values((
                    case_people::case_id.eq(&loaded.case.id),
                    case_people::user_id.eq(reviewer_id),
                    case_people::relation.eq(Relation::LeadReviewer.as_str()),
                    case_people::since.eq(input.occurred_on),
                ))
                .execute(c)?;
            loaded.people.add(reviewer_id, Relation::LeadReviewer);
        }
    }
    let entry = NewEntry {
        sequence,
        occurred_on: input.occurred_on,
        kind: k.as_str(),
        data: serde_json::to_string(&input.data).map_err(AppError::internal)?,
        supersedes: None,
    };
    let row = insert_entry(c, &loaded.case.id, entry, actor, now)?;
    Ok((row, fields))
}

/// Whether `body` would be recorded, without recording it: the same path as
/// [`record_event`] in a transaction that is rolled back (so "Check your answers" comes only
/// after the checks an irreversible event must pass). A refusal here is not audited: nothing
/// was attempted yet.
pub fn check_would_record(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    case_id: &str,
    body: &Map<String, Value>,
) -> Result<(), AppError> {
    if let Some(k) = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<EventType>().ok())
    {
        if !workflow::may_record(actor.role, k) {
            return Err(refuse_role(conn, st, actor, case_id, k));
        }
    }
    dry_run(conn, |c| record_in(c, st, actor, case_id, body).map(|_| ()))
}

/// Runs `f` in a write transaction that is always rolled back: `Ok` when `f` would succeed.
pub fn dry_run(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<(), AppError>,
) -> Result<(), AppError> {
    enum Outcome {
        Passed,
        Refused(AppError),
    }
    impl From<diesel::result::Error> for Outcome {
        fn from(e: diesel::result::Error) -> Self {
            Outcome::Refused(e.into())
        }
    }
    let run: Result<(), Outcome> = write_tx(conn, |c| {
        f(c).map_err(Outcome::Refused)?;
        Err(Outcome::Passed)
    });
    match run {
        Err(Outcome::Passed) | Ok(()) => Ok(()),
        Err(Outcome::Refused(e)) => Err(e),
    }
}

/// Records an event the service itself makes (a report version uploaded) on a case loaded for
/// the caller's transaction, dated today, and settles the case.
pub fn record_system_event(
    conn: &mut DbConnection,
    st: &AppState,
    actor: &Actor,
    loaded: &mut Loaded,
    data: EventData,
) -> Result<Refreshed, AppError> {
    let on = st.today();
    insert_event(
        conn,
        &mut loaded.history,
        &loaded.case.id,
        on,
        data,
        actor,
        st.now(),
    )?;
    settle(conn, st, loaded, &mut Recipients::new())
}
