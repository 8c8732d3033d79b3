//! Deadline reminders: which step of each pending deadline's schedule is current, who receives
//! it, and the outbox rows that carry it; the daily digests; each user's reminder mode.
//!
//! Each reminder row's key is `reminder:{deadline_id}:{due_on}:{step}:{user_id}`: a moved
//! deadline (new `due_on`) re-arms its reminders, a met or waived one is no longer pending and
//! sends nothing more, and no reminder is ever written twice. A digest's key is
//! `digest:{user_id}:{date}`: one a day.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde::Serialize;

use super::access::{Access, CasePeople};
use super::audit::{self, Entry};
use super::outbox::{self, NewMessage, OutboxKind};
use super::Actor;
use crate::clock::uk_local;
use crate::db::fixed;
use crate::db::models::{CaseRow, DeadlineRow};
use crate::db::schema::{case_people, cases, deadlines, users};
use crate::db::{write_tx, DbConnection};
use crate::domain::calendar::{Calendar, Division};
use crate::domain::case::Stage;
use crate::domain::deadlines::DeadlineStatus;
use crate::domain::reminders::{self, Candidate, CurrentStep, Reason, ReminderMode};
use crate::domain::roles::{Relation, Role};
use crate::domain::rules::Rule;
use crate::error::AppError;
use crate::mail::templates::{self, Template};
use crate::state::AppState;

/// Someone a reminder goes to.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub user_id: String,
    pub name: String,
    #[serde(skip)]
    pub email: String,
    pub mode: ReminderMode,
    pub reason: &'static str,
}

/// What reminder planning reads of a case: its reference and division, not the child or the
/// summary (the sweep reads thousands).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct PlanCase {
    pub id: String,
    pub reference: String,
    pub division: String,
}

impl From<&CaseRow> for PlanCase {
    fn from(c: &CaseRow) -> Self {
        PlanCase {
            id: c.id.clone(),
            reference: c.reference.clone(),
            division: c.division.clone(),
        }
    }
}

/// What reminder planning reads of a pending deadline: not its explanation (the sweep reads
/// thousands).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deadlines)]
pub struct PlanDeadline {
    pub id: String,
    pub case_id: String,
    pub rule_id: String,
    pub rule_version: i32,
    pub label: String,
    pub due_on: NaiveDate,
}

impl From<&DeadlineRow> for PlanDeadline {
    fn from(d: &DeadlineRow) -> Self {
        PlanDeadline {
            id: d.id.clone(),
            case_id: d.case_id.clone(),
            rule_id: d.rule_id.clone(),
            rule_version: d.rule_version,
            label: d.label.clone(),
            due_on: d.due_on,
        }
    }
}

/// The current reminder step of one pending deadline, with its recipients.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub deadline_id: String,
    pub case_id: String,
    pub reference: String,
    pub rule_id: String,
    pub label: String,
    pub statutory: bool,
    pub due_on: NaiveDate,
    pub step: String,
    pub step_on: NaiveDate,
    pub escalated: bool,
    pub working_days_left: i64,
    #[serde(skip)]
    pub today: NaiveDate,
    pub recipients: Vec<Recipient>,
}

impl Planned {
    /// The outbox key of this step for one recipient.
    pub fn key(&self, user_id: &str) -> String {
        format!(
            "reminder:{}:{}:{}:{}",
            self.deadline_id, self.due_on, self.step, user_id
        )
    }
}

/// The due date a reminder's key was written for (`reminder:{deadline}:{due_on}:…`), so the
/// send-time check can tell a moved deadline; `None` for any other key.
pub fn key_due_on(key: &str) -> Option<NaiveDate> {
    let mut parts = key.split(':');
    if parts.next()? != "reminder" {
        return None;
    }
    parts.next()?;
    parts.next()?.parse().ok()
}

/// A message written (or, in a dry run, that would be written).
#[derive(Debug, Clone, Serialize)]
pub struct Outgoing {
    /// The outbox row's id; `None` in a dry run.
    pub id: Option<String>,
    pub key: String,
    pub kind: OutboxKind,
    pub user_id: String,
    pub user_name: String,
    pub subject: String,
}

/// An active user, for planning.
#[derive(Debug, Clone)]
struct Person {
    id: String,
    name: String,
    email: String,
    role: Role,
    mode: ReminderMode,
}

/// The active users who may receive reminders: read at most once per sweep (or per event),
/// and only once some reminder is due.
#[derive(Debug, Default)]
pub struct Recipients {
    people: Option<Vec<Person>>,
}

impl Recipients {
    pub fn new() -> Recipients {
        Recipients::default()
    }

    fn people(&mut self, conn: &mut DbConnection) -> Result<&[Person], AppError> {
        if self.people.is_none() {
            self.people = Some(active_people(conn)?);
        }
        Ok(self.people.as_deref().unwrap_or_default())
    }
}

fn active_people(conn: &mut DbConnection) -> Result<Vec<Person>, AppError> {
    let rows: Vec<(String, String, String, String, String)> = users::table
        .filter(users::active.eq(true))
        .order(users::name.asc())
        .select((
            users::id,
            users::name,
            users::email,
            users::role,
            users::reminder_mode,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, email, role, mode)| {
            Some(Person {
                role: role.parse().ok()?,
                mode: mode.parse().unwrap_or(ReminderMode::Immediate),
                id,
                name,
                email,
            })
        })
        .collect())
}

fn pending_deadlines(conn: &mut DbConnection, case_id: &str) -> QueryResult<Vec<DeadlineRow>> {
    deadlines::table
        .filter(deadlines::case_id.eq(case_id))
        .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
        .order((deadlines::due_on.asc(), deadlines::rule_id.asc()))
        .select(DeadlineRow::as_select())
        .load(conn)
}

/// The current reminder of each of a case's pending deadlines (`pending`, soonest first), as
/// of `now`: which step, and who receives it. The users are read only when a step is due.
#[allow(clippy::too_many_arguments)]
pub fn plan_deadlines(
    conn: &mut DbConnection,
    st: &AppState,
    case: &PlanCase,
    pending: &[PlanDeadline],
    people: &CasePeople,
    calendar: &Calendar,
    users: &mut Recipients,
    now: NaiveDateTime,
) -> Result<Vec<Planned>, AppError> {
    let today = uk_local(now).date();
    let division: Division = case.division.parse().map_err(AppError::internal)?;
    let mut due = vec![];
    for d in pending {
        let Some(rule) = st.rules.computed_with(&d.rule_id, d.rule_version) else {
            tracing::warn!(deadline_id = %d.id, rule = %d.rule_id, "no rule for a pending deadline; no reminder");
            continue;
        };
        if let Some(current) =
            reminders::current_step(&rule.reminders, d.due_on, today, calendar, division)
        {
            due.push((d, rule, current));
        }
    }
    if due.is_empty() {
        return Ok(vec![]);
    }
    let users = users.people(conn)?;
    let candidates: Vec<Candidate> = users
        .iter()
        .map(|p| {
            let access = people.access(&p.id);
            Candidate {
                role: p.role,
                appointed: access.appointed,
                conflicted: access.conflicted,
            }
        })
        .collect();
    Ok(due
        .into_iter()
        .map(|(d, rule, current)| {
            let recipients = reminders::recipients(rule, current.escalated, &candidates)
                .into_iter()
                .map(|(i, reason)| Recipient {
                    user_id: users[i].id.clone(),
                    name: users[i].name.clone(),
                    email: users[i].email.clone(),
                    mode: users[i].mode,
                    reason: reason.as_str(),
                })
                .collect();
            planned(case, d, rule, current, today, recipients)
        })
        .collect())
}

fn planned(
    case: &PlanCase,
    d: &PlanDeadline,
    rule: &Rule,
    current: CurrentStep,
    today: NaiveDate,
    recipients: Vec<Recipient>,
) -> Planned {
    Planned {
        deadline_id: d.id.clone(),
        case_id: case.id.clone(),
        reference: case.reference.clone(),
        rule_id: d.rule_id.clone(),
        label: d.label.clone(),
        statutory: rule.statutory,
        due_on: d.due_on,
        step: current.step.to_string(),
        step_on: current.on,
        escalated: current.escalated,
        working_days_left: current.working_days_left,
        today,
        recipients,
    }
}

/// When reminders made due by a write at `now` may first be sent: after
/// `jobs.reminder_grace_minutes`, so that entering a case from its beginning does not send
/// "overdue" a minute before the next form meets the deadline (the send-time check then
/// cancels it).
pub fn after_write(st: &AppState, now: NaiveDateTime) -> NaiveDateTime {
    now + chrono::Duration::minutes(st.settings.jobs.reminder_grace_minutes)
}

/// Writes (or with `write` false, only lists) the reminder rows `planned` calls for that do
/// not exist yet, to be sent from `send_from` (`now` for the sweep, [`after_write`] for a
/// write).
pub fn queue_reminders(
    conn: &mut DbConnection,
    st: &AppState,
    planned: &[Planned],
    now: NaiveDateTime,
    send_from: NaiveDateTime,
    write: bool,
) -> Result<Vec<Outgoing>, AppError> {
    let keys = reminder_keys(planned);
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let existing = outbox::existing_keys(conn, &keys)?;
    let out = queue_missing(conn, st, planned, &existing, now, send_from, write)?;
    if write && !out.is_empty() {
        tracing::info!(
            queued = out.len(),
            case_id = %planned[0].case_id,
            "reminders queued"
        );
    }
    Ok(out)
}

/// The outbox keys of the immediate reminders `planned` calls for.
pub fn reminder_keys(planned: &[Planned]) -> Vec<String> {
    planned
        .iter()
        .flat_map(|p| {
            p.recipients
                .iter()
                .filter(|r| r.mode == ReminderMode::Immediate)
                .map(|r| p.key(&r.user_id))
        })
        .collect()
}

/// Writes (or lists) the immediate reminders of `planned` whose keys are not in `existing`,
/// rendering each message just before it is written (no body is kept after its row).
pub fn queue_missing(
    conn: &mut DbConnection,
    st: &AppState,
    planned: &[Planned],
    existing: &HashSet<String>,
    now: NaiveDateTime,
    send_from: NaiveDateTime,
    write: bool,
) -> Result<Vec<Outgoing>, AppError> {
    let mut out = vec![];
    for p in planned {
        for r in p
            .recipients
            .iter()
            .filter(|r| r.mode == ReminderMode::Immediate)
        {
            let key = p.key(&r.user_id);
            if existing.contains(&key) {
                continue;
            }
            let rendered = templates::render(Template::Reminder, &reminder_context(st, p, r))
                .map_err(AppError::internal)?;
            let message = NewMessage {
                dedupe_key: key,
                kind: OutboxKind::Reminder,
                recipient_id: Some(r.user_id.clone()),
                to_address: r.email.clone(),
                rendered,
                case_id: Some(p.case_id.clone()),
                deadline_id: Some(p.deadline_id.clone()),
            };
            out.extend(queue_one(conn, message, &r.name, now, send_from, write)?);
        }
    }
    Ok(out)
}

/// Writes one reminder or digest row unless its key is already there, and says what was
/// written (`None`: the key was there). With `write` false writes nothing and says what would
/// be written.
fn queue_one(
    conn: &mut DbConnection,
    message: NewMessage,
    user_name: &str,
    now: NaiveDateTime,
    send_from: NaiveDateTime,
    write: bool,
) -> Result<Option<Outgoing>, AppError> {
    let outgoing = Outgoing {
        id: None,
        key: message.dedupe_key.clone(),
        kind: message.kind,
        user_id: message.recipient_id.clone().unwrap_or_default(),
        user_name: user_name.to_string(),
        subject: message.rendered.subject.clone(),
    };
    if !write {
        return Ok(Some(outgoing));
    }
    Ok(
        outbox::insert_if_absent_from(conn, message, now, send_from)?.map(|id| Outgoing {
            id: Some(id),
            ..outgoing
        }),
    )
}

pub fn case_url(st: &AppState, case_id: &str) -> String {
    format!("{}/cases/{case_id}", st.base_url())
}

fn long_date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

fn plural(n: i64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// (short status for subjects and digests, value for "Working days left").
fn phrases(p: &Planned) -> (String, String) {
    let left = p.working_days_left;
    if p.today < p.due_on {
        if left > 0 {
            (
                format!("due in {}", plural(left, "working day")),
                left.to_string(),
            )
        } else {
            (format!("due {}", long_date(p.due_on)), "0".into())
        }
    } else if p.today == p.due_on {
        ("due today".into(), "0 (due today)".into())
    } else if left < 0 {
        let late = plural(-left, "working day");
        (
            format!("overdue by {late}"),
            format!("none: overdue by {late}"),
        )
    } else {
        ("overdue".into(), "none: overdue".into())
    }
}

#[derive(Serialize)]
struct ReminderContext<'a> {
    reference: &'a str,
    label: &'a str,
    statutory: bool,
    due_date: String,
    status_short: String,
    days_left_text: String,
    escalated: bool,
    case_url: String,
    reason: &'static str,
    service_name: &'a str,
    partnership_name: &'a str,
}

fn reason_text(code: &str) -> &'static str {
    [
        Reason::Owner,
        Reason::Reviewer,
        Reason::ProgrammeManager,
        Reason::Escalation,
    ]
    .into_iter()
    .find(|r| r.as_str() == code)
    .map_or("you are a recipient of this deadline's reminders", |r| {
        r.describe()
    })
}

/// What a reminder email may say: the case reference, what is due, the date, the working days
/// left and a link. Never the child's name, pseudonym or any other case detail.
fn reminder_context<'a>(st: &'a AppState, p: &'a Planned, r: &Recipient) -> ReminderContext<'a> {
    let (status_short, days_left_text) = phrases(p);
    ReminderContext {
        reference: &p.reference,
        label: &p.label,
        statutory: p.statutory,
        due_date: long_date(p.due_on),
        status_short,
        days_left_text,
        escalated: p.escalated,
        case_url: case_url(st, &p.case_id),
        reason: reason_text(r.reason),
        service_name: &st.settings.service.name,
        partnership_name: &st.settings.partnership.name,
    }
}

#[derive(Serialize)]
struct DigestItem<'a> {
    label: &'a str,
    statutory: bool,
    due_date: String,
    days_left_text: String,
    escalated: bool,
}

#[derive(Serialize)]
struct DigestCase<'a> {
    reference: &'a str,
    case_url: String,
    items: Vec<DigestItem<'a>>,
}

#[derive(Serialize)]
struct DigestContext<'a> {
    date: String,
    count: usize,
    escalated_count: usize,
    cases: Vec<DigestCase<'a>>,
    service_name: &'a str,
    partnership_name: &'a str,
}

/// Digests are written on working days from `jobs.digest_hour` (UK time).
pub fn digest_due(st: &AppState, calendar: &Calendar, now: NaiveDateTime) -> bool {
    let local = uk_local(now);
    calendar.is_working_day(st.division, local.date())
        && local.hour() >= st.settings.jobs.digest_hour
}

/// Writes (or lists) today's digest for each digest user who has something due or overdue in
/// `planned` (every case's plan) and no digest yet today.
pub fn queue_digests(
    conn: &mut DbConnection,
    st: &AppState,
    planned: &[Planned],
    now: NaiveDateTime,
    write: bool,
) -> Result<Vec<Outgoing>, AppError> {
    let calendar = st.calendars.current(conn)?;
    if !digest_due(st, &calendar, now) {
        return Ok(vec![]);
    }
    let today = uk_local(now).date();
    // user id → (recipient, items)
    let mut per_user: BTreeMap<String, (&Recipient, Vec<&Planned>)> = BTreeMap::new();
    for p in planned {
        for r in p
            .recipients
            .iter()
            .filter(|r| r.mode == ReminderMode::Daily)
        {
            per_user
                .entry(r.user_id.clone())
                .or_insert_with(|| (r, vec![]))
                .1
                .push(p);
        }
    }
    let keys: Vec<String> = per_user
        .keys()
        .map(|u| format!("digest:{u}:{today}"))
        .collect();
    let existing = outbox::existing_keys(conn, &keys)?;
    let mut out = vec![];
    for (user_id, (recipient, mut items)) in per_user {
        let key = format!("digest:{user_id}:{today}");
        if existing.contains(&key) {
            continue;
        }
        items.sort_by(|a, b| {
            (&a.reference, a.due_on, &a.label).cmp(&(&b.reference, b.due_on, &b.label))
        });
        let mut cases: Vec<DigestCase> = vec![];
        for p in &items {
            let item = DigestItem {
                label: &p.label,
                statutory: p.statutory,
                due_date: long_date(p.due_on),
                days_left_text: phrases(p).0,
                escalated: p.escalated,
            };
            match cases.last_mut() {
                Some(c) if c.reference == p.reference => c.items.push(item),
                _ => cases.push(DigestCase {
                    reference: &p.reference,
                    case_url: case_url(st, &p.case_id),
                    items: vec![item],
                }),
            }
        }
        let context = DigestContext {
            date: long_date(today),
            count: items.len(),
            escalated_count: items.iter().filter(|p| p.escalated).count(),
            cases,
            service_name: &st.settings.service.name,
            partnership_name: &st.settings.partnership.name,
        };
        let rendered = templates::render(Template::Digest, &context).map_err(AppError::internal)?;
        let message = NewMessage {
            dedupe_key: key,
            kind: OutboxKind::Digest,
            recipient_id: Some(user_id),
            to_address: recipient.email.clone(),
            rendered,
            case_id: None,
            deadline_id: None,
        };
        out.extend(queue_one(conn, message, &recipient.name, now, now, write)?);
    }
    Ok(out)
}

/// The latest due date that can have a reminder step by `today`: the furthest "working days
/// before" of any rule, counted from today in every division. A deadline due later has no
/// step yet, so the sweep does not read it.
pub fn sweep_horizon(
    st: &AppState,
    calendar: &Calendar,
    today: NaiveDate,
) -> Result<NaiveDate, AppError> {
    let lead = st
        .rules
        .ids()
        .into_iter()
        .flat_map(|id| st.rules.versions(id))
        .flat_map(|r| r.reminders.before.iter().copied())
        .max()
        .unwrap_or(0);
    let mut horizon = today;
    for division in Division::ALL {
        let date = calendar
            .add_working_days(division, today, i32::try_from(lead).unwrap_or(i32::MAX))
            .map_err(AppError::internal)?
            .date;
        horizon = horizon.max(date);
    }
    Ok(horizon)
}

/// The cases the sweep plans, in reference order: any with a pending deadline due by
/// `horizon` (see [`sweep_horizon`]), except withdrawn ones (a closed case keeps only the
/// deadlines that survive closure, website retention, pending). Read through the partial
/// index of pending deadlines: the cost follows the deadlines with a step due, not the cases.
pub fn cases_to_sweep(conn: &mut DbConnection, horizon: NaiveDate) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, String)> = deadlines::table
        .inner_join(cases::table)
        .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
        .filter(deadlines::due_on.le(horizon))
        .filter(cases::stage.ne(Stage::Withdrawn.as_str()))
        .select((cases::reference, cases::id))
        .distinct()
        .order(cases::reference.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(_, id)| id).collect())
}

/// Some cases of a sweep, read together: each case with its pending deadlines due by the
/// horizon (soonest first) and its people.
pub struct SweepBatch {
    pub cases: Vec<(PlanCase, Vec<PlanDeadline>, CasePeople)>,
}

impl SweepBatch {
    /// Three statements for the whole batch, whatever its size.
    pub fn load(
        conn: &mut DbConnection,
        ids: &[String],
        horizon: NaiveDate,
    ) -> Result<SweepBatch, AppError> {
        let rows: Vec<PlanCase> = cases::table
            .filter(cases::id.eq_any(ids))
            .select(PlanCase::as_select())
            .load(conn)?;
        let mut pending: HashMap<String, Vec<PlanDeadline>> = HashMap::new();
        for d in deadlines::table
            .filter(deadlines::case_id.eq_any(ids))
            .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
            .filter(deadlines::due_on.le(horizon))
            .order((deadlines::due_on.asc(), deadlines::rule_id.asc()))
            .select(PlanDeadline::as_select())
            .load::<PlanDeadline>(conn)?
        {
            pending.entry(d.case_id.clone()).or_default().push(d);
        }
        let mut links: HashMap<String, Vec<(String, Relation)>> = HashMap::new();
        for (case_id, user_id, relation) in case_people::table
            .filter(case_people::case_id.eq_any(ids))
            .order((case_people::since.asc(), case_people::user_id.asc()))
            .select((
                case_people::case_id,
                case_people::user_id,
                case_people::relation,
            ))
            .load::<(String, String, String)>(conn)?
        {
            let relation = relation
                .parse()
                .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
            links.entry(case_id).or_default().push((user_id, relation));
        }
        let mut by_id: HashMap<String, PlanCase> =
            rows.into_iter().map(|r| (r.id.clone(), r)).collect();
        let cases = ids
            .iter()
            .filter_map(|id| by_id.remove(id))
            .map(|case| {
                let ds = pending.remove(&case.id).unwrap_or_default();
                let people = CasePeople::from_links(links.remove(&case.id).unwrap_or_default());
                (case, ds, people)
            })
            .collect();
        Ok(SweepBatch { cases })
    }
}

/// The cases with a pending deadline, withdrawn ones aside, in reference order (for the
/// calendar feeds, which show every pending deadline however far ahead).
fn cases_with_pending(conn: &mut DbConnection) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::stage.ne(Stage::Withdrawn.as_str()))
        .filter(
            cases::id.eq_any(
                deadlines::table
                    .filter(deadlines::status.eq(fixed::text(DeadlineStatus::Pending.as_str())))
                    .select(deadlines::case_id),
            ),
        )
        .order(cases::reference.asc())
        .select(CaseRow::as_select())
        .load(conn)
}

/// A deadline in a user's calendar feed.
#[derive(Debug, Clone)]
pub struct FeedDeadline {
    pub deadline_id: String,
    pub case_id: String,
    pub reference: String,
    pub label: String,
    pub due_on: NaiveDate,
}

/// The pending deadlines whose reminders `user_id` receives (or would, once their first step
/// comes), escalations included once escalated, soonest first.
pub fn deadlines_for_user(
    conn: &mut DbConnection,
    st: &AppState,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<FeedDeadline>, AppError> {
    let Some(role) = users::table
        .find(user_id)
        .filter(users::active.eq(true))
        .select(users::role)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(vec![]);
    };
    let role: Role = role
        .parse()
        .map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))?;
    let mine: Vec<(String, String)> = case_people::table
        .filter(case_people::user_id.eq(user_id))
        .select((case_people::case_id, case_people::relation))
        .load(conn)?;
    let today = uk_local(now).date();
    let calendar = st.calendars.current(conn)?;
    let mut out = vec![];
    let mut divisions: HashMap<String, Division> = HashMap::new();
    for case in cases_with_pending(conn)? {
        let related = |relation: Relation| {
            mine.iter()
                .any(|(c, r)| c == &case.id && r == relation.as_str())
        };
        let access = Access {
            appointed: related(Relation::LeadReviewer),
            conflicted: related(Relation::Conflict),
        };
        if !access.sees(role) {
            continue;
        }
        let me = Candidate {
            role,
            appointed: access.appointed,
            conflicted: access.conflicted,
        };
        let division = *divisions
            .entry(case.division.clone())
            .or_insert_with(|| case.division.parse().unwrap_or_default());
        for d in pending_deadlines(conn, &case.id)? {
            let Some(rule) = st.rules.computed_with(&d.rule_id, d.rule_version) else {
                continue;
            };
            let escalated =
                reminders::current_step(&rule.reminders, d.due_on, today, &calendar, division)
                    .is_some_and(|c| c.escalated);
            if reminders::recipients(rule, escalated, &[me]).is_empty() {
                continue;
            }
            out.push(FeedDeadline {
                deadline_id: d.id,
                case_id: case.id.clone(),
                reference: case.reference.clone(),
                label: d.label,
                due_on: d.due_on,
            });
        }
    }
    out.sort_by(|a, b| (a.due_on, &a.reference).cmp(&(b.due_on, &b.reference)));
    Ok(out)
}

/// The user's reminder mode.
pub fn mode(conn: &mut DbConnection, actor: &Actor) -> Result<ReminderMode, AppError> {
    let mode: String = users::table
        .find(&actor.user_id)
        .select(users::reminder_mode)
        .first(conn)?;
    Ok(mode.parse().unwrap_or(ReminderMode::Immediate))
}

/// Sets the user's own reminder mode.
pub fn set_mode(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
    new: ReminderMode,
) -> Result<ReminderMode, AppError> {
    write_tx(conn, |c| {
        let before = mode(c, actor)?;
        if before != new {
            diesel::update(users::table.find(&actor.user_id))
                .set(users::reminder_mode.eq(new.as_str()))
                .execute(c)?;
            audit::append(
                c,
                now,
                Entry::ok(Some(actor), "reminder_mode_changed")
                    .subject(actor.user_id.clone())
                    .detail(serde_json::json!({ "before": before, "after": new })),
            )?;
        }
        Ok(new)
    })
}

/// Parses a mode from a request, explaining that reminders cannot be turned off.
pub fn parse_mode(value: Option<&str>) -> Result<ReminderMode, AppError> {
    match value {
        Some("off" | "none" | "never") => Err(AppError::invalid(
            "mode",
            "reminders of statutory deadlines cannot be switched off; choose \"immediate\" or \"daily\"",
        )),
        Some(v) => v.parse().map_err(|m: String| AppError::invalid("mode", m)),
        None => Err(AppError::invalid(
            "mode",
            "give \"immediate\" or \"daily\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_key_names_the_due_date_it_was_written_for() {
        let key = "reminder:0af3c2:2026-01-12:overdue_2:9bd1e0";
        assert_eq!(key_due_on(key), NaiveDate::from_ymd_opt(2026, 1, 12));
        assert_eq!(key_due_on("digest:9bd1e0:2026-01-12"), None);
        assert_eq!(key_due_on("reminder:0af3c2"), None);
    }
}
