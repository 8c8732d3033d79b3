//! 10,000 cases with their events: the case list, a case page and recording an event; the
//! annual figures of a financial year of them and the report to the Board;
//! recording an event on a case with 10 and with 1,000 events; the case list at 1,000, 10,000
//! and 50,000 cases and the reminder sweep at 10,000 and 50,000 (`list by size`). On SQLite
//! and (when BENCH_DATABASE_URL names a PostgreSQL server) PostgreSQL. A group's data is loaded
//! only when the filter selects it.
//!
//! cargo bench --bench service
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432 cargo bench --bench service
//! cargo bench --bench service -- "events on the case"
//! cargo bench --bench service -- "list by size"
//! cargo bench --bench service -- "annual figures|Board report"

use std::sync::Arc;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use diesel::prelude::*;
use serde_json::json;

use lcspr_tracker::app::cases::{list, view};
use lcspr_tracker::app::events::{self, projection, Loaded};
use lcspr_tracker::app::reports::{annual, board};
use lcspr_tracker::app::{new_id, Actor};
use lcspr_tracker::clock::FixedClock;
use lcspr_tracker::config::{MailTransportKind, Settings};
use lcspr_tracker::db::models::{CaseRow, EventRow};
use lcspr_tracker::db::schema::{case_events, cases as cases_t};
use lcspr_tracker::db::{write_tx, DbConnection};
use lcspr_tracker::domain::events::{Decision, EventData};
use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::state::AppState;

const CASES: usize = 10_000;

fn state(url: &str, today: NaiveDate) -> AppState {
    let mut s = Settings::defaults();
    s.database.url = url.to_string();
    s.mail.transport = MailTransportKind::Memory;
    s.jobs.enabled = false;
    if url.starts_with("postgres") {
        // PostgreSQL needs a master key file (SQLite generates one beside the database).
        let key = std::env::temp_dir().join("lcspr-bench-master.key");
        if !key.exists() {
            let (bytes, _) = lcspr_tracker::crypto::MasterKey::generate();
            lcspr_tracker::crypto::write_key_file(&key, &bytes).expect("bench master key");
        }
        s.security.master_key_file = key.to_string_lossy().into_owned();
    }
    lcspr_tracker::startup::build_state(s, Arc::new(FixedClock::on(today))).expect("state")
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Derives a case's stage and deadlines from its events with the service's own projection.
fn project(
    c: &mut DbConnection,
    st: &AppState,
    id: &str,
) -> Result<(), lcspr_tracker::error::AppError> {
    let mut l = Loaded::for_write(c, st, id)?;
    let existing = std::mem::take(&mut l.deadlines);
    projection::refresh(c, st, &l.case, &l.history, &l.calendar, existing, true)?;
    Ok(())
}

/// Loads the cases straight into the tables (in batches), then derives stage and deadlines with
/// the service's own projection, so the data is what the service would have written.
fn load(st: &AppState, pm: &Actor) -> (String, Vec<String>) {
    load_range(st, pm, 0, CASES)
}

/// A case row as the service would write it before its first event (the events are added
/// after it).
fn bench_case(
    st: &AppState,
    pm: &Actor,
    id: &str,
    reference: String,
    pseudonym: String,
    aware: NaiveDate,
) -> CaseRow {
    CaseRow {
        id: id.into(),
        reference,
        financial_year: lcspr_tracker::domain::case::financial_year(aware),
        child_pseudonym: pseudonym,
        child_name: None,
        child_dob: None,
        aware_on: aware,
        incident_on: aware,
        harm: "serious_harm".into(),
        looked_after: false,
        summary: "bench".into(),
        division: "england-and-wales".into(),
        stage: "notification".into(),
        next_due_on: None,
        event_count: 0,
        created_by: pm.user_id.clone(),
        created_at: st.clock.now(),
        updated_at: st.clock.now(),
        child_name_sealed: None,
        child_dob_sealed: None,
        child_name_index: None,
        identity_key_id: None,
    }
}

/// Cases `from..to` of the bench partnership (batches of 500).
fn load_range(st: &AppState, pm: &Actor, from: usize, to: usize) -> (String, Vec<String>) {
    let mut conn = st.pool.get().unwrap();
    let mut in_review = String::new();
    let mut at_rapid_review = vec![];
    let start = d("2023-04-03");
    for batch in (from / 500)..(to / 500) {
        write_tx(
            &mut conn,
            |c| -> Result<(), lcspr_tracker::error::AppError> {
                for i in 0..500 {
                    let n = batch * 500 + i;
                    let aware = start + chrono::Duration::days((n % 1000) as i64);
                    let id = new_id();
                    let case = bench_case(
                        st,
                        pm,
                        &id,
                        format!("BENCH-{n:05}"),
                        format!("Child {n}"),
                        aware,
                    );
                    diesel::insert_into(cases_t::table)
                        .values(&case)
                        .execute(c)?;
                    let mut events = vec![EventData::Aware {
                        incident_on: aware,
                        harm: lcspr_tracker::domain::case::Harm::SeriousHarm,
                        looked_after: false,
                    }];
                    let depth = n % 5;
                    if depth >= 1 {
                        events.push(EventData::SinSubmitted {
                            ofsted_reference: None,
                        });
                        events.push(EventData::PartnersInformed { note: None });
                    }
                    if depth >= 2 {
                        events.push(EventData::RapidReviewSent {
                            decision: Decision::Lcspr,
                            rationale: "r".into(),
                            criteria: vec![lcspr_tracker::domain::events::Criterion::A],
                        });
                    }
                    if depth >= 3 {
                        events.push(EventData::PanelResponse {
                            outcome: lcspr_tracker::domain::events::PanelOutcome::Agrees,
                            note: None,
                        });
                        events.push(EventData::LcsprDecided {
                            note: None,
                            decision_id: None,
                        });
                    }
                    for (k, data) in events.iter().enumerate() {
                        diesel::insert_into(case_events::table)
                            .values(&EventRow {
                                id: new_id(),
                                case_id: id.clone(),
                                sequence: k as i32 + 1,
                                event_type: data.kind().as_str().into(),
                                occurred_on: aware + chrono::Duration::days(k as i64),
                                data: serde_json::to_string(data).unwrap(),
                                recorded_by: pm.user_id.clone(),
                                recorded_at: st.clock.now(),
                                supersedes: None,
                                change_reason: None,
                            })
                            .execute(c)?;
                    }
                    project(c, st, &id)?;
                    match depth {
                        1 => at_rapid_review.push(id),
                        3 => in_review = id,
                        _ => {}
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    }
    (in_review, at_rapid_review)
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str) {
    let st = state(url, d("2026-06-01"));
    let mut conn = st.pool.get().unwrap();
    let hash = lcspr_tracker::app::auth::hash_password("bench password 123").unwrap();
    let pm = lcspr_tracker::app::users::add(
        &mut conn,
        None,
        st.clock.now(),
        lcspr_tracker::app::users::NewUserInput {
            email: "pm@bench.example".into(),
            name: "PM".into(),
            role: Role::ProgrammeManager,
            agency: None,
            password_hash: hash.clone(),
        },
    )
    .unwrap();
    let rev = lcspr_tracker::app::users::add(
        &mut conn,
        None,
        st.clock.now(),
        lcspr_tracker::app::users::NewUserInput {
            email: "rev@bench.example".into(),
            name: "Rev".into(),
            role: Role::LeadReviewer,
            agency: None,
            password_hash: hash,
        },
    )
    .unwrap();
    let pm = Actor {
        user_id: pm.id,
        role: Role::ProgrammeManager,
        name: "PM".into(),
    };
    drop(conn);
    let started = std::time::Instant::now();
    let (target, at_rapid_review) = load(&st, &pm);
    eprintln!(
        "{name}: loaded {CASES} cases in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let mut conn = st.pool.get().unwrap();
    let body = json!({"type": "reviewer_appointed", "occurred_on": "2026-06-01", "reviewer_id": rev.id, "conflict_declaration": "none"});
    events::record_event(&mut conn, &st, &pm, &target, body.as_object().unwrap()).unwrap();

    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    g.bench_function("case list (first page of 50, most urgent first)", |b| {
        b.iter(|| list::list(&mut conn, &st, &pm, &list::Filter::default()).unwrap())
    });
    g.bench_function("case list filtered by missed deadlines", |b| {
        let f = list::Filter {
            deadline_status: Some(lcspr_tracker::domain::deadlines::DeadlineStatus::Missed),
            ..Default::default()
        };
        b.iter(|| list::list(&mut conn, &st, &pm, &f).unwrap())
    });
    g.bench_function("case page", |b| {
        b.iter(|| view::visible(&mut conn, &st, &pm, &target).unwrap())
    });
    // The cases' awareness dates run from April 2023 over 1,000 days: 2024-25 holds 365 of
    // every 1,000 cases (3,650 of the 10,000), read 500 at a time.
    let year = annual::Year(2024);
    let figures = annual::compute(&mut conn, &st, &pm, year).unwrap();
    eprintln!(
        "{name}: annual figures {}: {} notifications, {} rapid reviews",
        year.label(),
        figures.count(annual::Figure::Notifications),
        figures.count(annual::Figure::RapidReviews)
    );
    g.bench_function(
        "annual figures (a financial year of the 10,000 cases)",
        |b| b.iter(|| annual::compute(&mut conn, &st, &pm, year).unwrap()),
    );
    let since = Some(d("2026-04-01"));
    let report = board::compute(&mut conn, &st, &pm, since).unwrap();
    eprintln!(
        "{name}: Board report: {} open cases, {} deadlines missed since {}, {} due",
        report.open_cases,
        report.deadlines_missed.len(),
        report.since,
        report.deadlines_due.len()
    );
    g.bench_function("Board report (the 10,000 cases)", |b| {
        b.iter(|| board::compute(&mut conn, &st, &pm, since).unwrap())
    });
    // Each iteration records on a different case, so no case grows past a realistic size.
    let mut next = at_rapid_review.iter().cycle();
    let informed =
        json!({"type": "partners_informed", "occurred_on": "2026-06-01", "note": "bench"});
    g.bench_function("record an event", |b| {
        b.iter(|| {
            events::record_event(
                &mut conn,
                &st,
                &pm,
                next.next().unwrap(),
                informed.as_object().unwrap(),
            )
            .unwrap()
        })
    });
    g.finish();
}

/// Whether the command line's filter (if any) may select a benchmark whose id contains `text`.
fn selected(text: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| text.contains(f.as_str()) || f.contains(text))
}

/// Runs `f` on SQLite, then on PostgreSQL when BENCH_DATABASE_URL names a server.
/// `BENCH_KEEP=1` keeps both databases afterwards (their URLs are printed), to look at query
/// plans on the bench's data; `BENCH_BACKENDS=postgres` (or `sqlite`) runs one backend only.
fn on_each_backend(c: &mut Criterion, f: fn(&mut Criterion, &str, &str)) {
    let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");
    let only = std::env::var("BENCH_BACKENDS").unwrap_or_default();
    let wanted = |backend: &str| only.is_empty() || only.split(',').any(|b| b.trim() == backend);
    if wanted("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        f(c, "sqlite", &url);
        if keep {
            eprintln!("kept: {url}");
            let _ = dir.keep();
        }
    }
    if let Some(server) = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|_| wanted("postgres"))
    {
        let name = format!("lcspr_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        f(c, "postgres", &format!("{server}/{name}"));
        if keep {
            eprintln!("kept: {server}/{name}");
        } else {
            diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&mut admin)
                .unwrap();
        }
    }
}

fn benches(c: &mut Criterion) {
    if selected("case list")
        || selected("case page")
        || selected("record an event")
        || selected("annual figures")
        || selected("Board report")
    {
        on_each_backend(c, bench_backend);
    }
}

/// This process's CPU time so far (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) end with ')'.
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The case list's first page at 1,000, 10,000 and 50,000 cases (with and without a filter),
/// and the reminder sweep at each size from 10,000: the list should cost the same at every
/// size, the sweep follow the deadlines with a step due. `BENCH_SIZES=1000,10000,100000`
/// changes the sizes.
fn bench_scale(c: &mut Criterion, name: &str, url: &str) {
    let st = state(url, d("2026-06-01"));
    let mut conn = st.pool.get().unwrap();
    let hash = lcspr_tracker::app::auth::hash_password("bench password 123").unwrap();
    let pm = lcspr_tracker::app::users::add(
        &mut conn,
        None,
        st.clock.now(),
        lcspr_tracker::app::users::NewUserInput {
            email: "pm@bench.example".into(),
            name: "PM".into(),
            role: Role::ProgrammeManager,
            agency: None,
            password_hash: hash,
        },
    )
    .unwrap();
    let pm = Actor {
        user_id: pm.id,
        role: Role::ProgrammeManager,
        name: "PM".into(),
    };
    drop(conn);
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 50_000]);
    let filters = [
        ("first page of 50", list::Filter::default()),
        (
            "missed deadlines",
            list::Filter {
                deadline_status: Some(lcspr_tracker::domain::deadlines::DeadlineStatus::Missed),
                ..Default::default()
            },
        ),
        (
            "stage rapid review",
            list::Filter {
                stage: Some(lcspr_tracker::domain::case::Stage::RapidReview),
                ..Default::default()
            },
        ),
    ];
    let mut loaded = 0;
    let mut g = c.benchmark_group(format!("{name} list by size"));
    g.sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    for size in sizes {
        let started = std::time::Instant::now();
        load_range(&st, &pm, loaded, size);
        loaded = size;
        // As an operator's autovacuum would (the service also refreshes statistics itself,
        // hourly). On PostgreSQL autovacuum also vacuums: without it the visibility map is
        // empty and every index-only scan reads the table as well (this machine's PostgreSQL
        // runs with autovacuum off).
        let mut conn = st.pool.get().unwrap();
        lcspr_tracker::db::refresh_statistics(&mut conn).unwrap();
        if conn.is_postgres() {
            diesel::sql_query("VACUUM ANALYZE")
                .execute(&mut **conn)
                .unwrap();
        }
        drop(conn);
        eprintln!(
            "{name}: {size} cases loaded in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let mut conn = st.pool.get().unwrap();
        for (label, f) in &filters {
            g.bench_function(format!("case list, {label}, {size} cases"), |b| {
                b.iter(|| list::list(&mut conn, &st, &pm, f).unwrap())
            });
        }
        if size >= 10_000 {
            let now = st.clock.now();
            let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
            let first = lcspr_tracker::jobs::sweep::sweep_counted(&mut conn, &st, now).unwrap();
            eprintln!(
                "{name}: first sweep at {size} cases: {} cases planned, {} messages queued, {:.2}s wall, {:.2}s CPU",
                first.cases,
                first.queued_count,
                wall.elapsed().as_secs_f64(),
                cpu_seconds() - cpu
            );
            let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
            let again = lcspr_tracker::jobs::sweep::sweep_counted(&mut conn, &st, now).unwrap();
            eprintln!(
                "{name}: the next sweep at {size} cases: {} cases planned, {} queued, {:.2}s wall, {:.2}s CPU",
                again.cases,
                again.queued_count,
                wall.elapsed().as_secs_f64(),
                cpu_seconds() - cpu
            );
        }
    }
    g.finish();
}

fn scale(c: &mut Criterion) {
    if selected("list by size") {
        on_each_backend(c, bench_scale);
    }
}

/// Cases in review with `events` events each: the `aware` event, the notification, the rapid
/// review, the Panel's response, the decision and the appointment, then review meetings.
fn cases_in_review(
    st: &AppState,
    pm: &Actor,
    reviewer: &str,
    n: usize,
    events: usize,
) -> Vec<String> {
    let mut conn = st.pool.get().unwrap();
    let aware = d("2023-01-02");
    let mut ids = vec![];
    for _ in 0..n {
        let id = new_id();
        write_tx(
            &mut conn,
            |c| -> Result<(), lcspr_tracker::error::AppError> {
                let case = bench_case(st, pm, &id, format!("EV-{id}"), "Child".into(), aware);
                diesel::insert_into(cases_t::table)
                    .values(&case)
                    .execute(c)?;
                let mut datas = vec![
                    EventData::Aware {
                        incident_on: aware,
                        harm: lcspr_tracker::domain::case::Harm::SeriousHarm,
                        looked_after: false,
                    },
                    EventData::SinSubmitted {
                        ofsted_reference: None,
                    },
                    EventData::PartnersInformed { note: None },
                    EventData::RapidReviewSent {
                        decision: Decision::Lcspr,
                        rationale: "r".into(),
                        criteria: vec![lcspr_tracker::domain::events::Criterion::A],
                    },
                    EventData::PanelResponse {
                        outcome: lcspr_tracker::domain::events::PanelOutcome::Agrees,
                        note: None,
                    },
                    EventData::LcsprDecided {
                        note: None,
                        decision_id: None,
                    },
                    EventData::ReviewerAppointed {
                        reviewer_id: reviewer.to_string(),
                        conflict_declaration: "none".into(),
                    },
                ];
                while datas.len() < events {
                    datas.push(EventData::ReviewMeeting {
                        note: Some("bench".into()),
                    });
                }
                let rows: Vec<EventRow> = datas
                    .iter()
                    .enumerate()
                    .map(|(k, data)| EventRow {
                        id: new_id(),
                        case_id: id.clone(),
                        sequence: k as i32 + 1,
                        event_type: data.kind().as_str().into(),
                        occurred_on: aware + chrono::Duration::days(k as i64 / 2),
                        data: serde_json::to_string(data).unwrap(),
                        recorded_by: pm.user_id.clone(),
                        recorded_at: st.clock.now(),
                        supersedes: None,
                        change_reason: None,
                    })
                    .collect();
                for chunk in rows.chunks(100) {
                    // A batch insert compiles for each backend, not for the two-backend
                    // connection.
                    match c {
                        DbConnection::Sqlite(s) => diesel::insert_into(case_events::table)
                            .values(chunk)
                            .execute(s)?,
                        DbConnection::Pg(p) => diesel::insert_into(case_events::table)
                            .values(chunk)
                            .execute(p)?,
                    };
                }
                diesel::insert_into(lcspr_tracker::db::schema::case_people::table)
                    .values((
                        lcspr_tracker::db::schema::case_people::case_id.eq(&id),
                        lcspr_tracker::db::schema::case_people::user_id.eq(reviewer),
                        lcspr_tracker::db::schema::case_people::relation.eq("lead_reviewer"),
                        lcspr_tracker::db::schema::case_people::since.eq(aware),
                    ))
                    .execute(c)?;
                project(c, st, &id)?;
                Ok(())
            },
        )
        .unwrap();
        ids.push(id);
    }
    ids
}

/// Recording one event on a case with 10 and with 1,000 events: the cost should not follow the
/// case's length. Each iteration records on the next case of a pool, so the cases grow by only
/// a few events during the run.
fn bench_event_path(c: &mut Criterion, name: &str, url: &str) {
    let st = state(url, d("2026-06-01"));
    let mut conn = st.pool.get().unwrap();
    let hash = lcspr_tracker::app::auth::hash_password("bench password 123").unwrap();
    let mut add = |email: &str, role| {
        lcspr_tracker::app::users::add(
            &mut conn,
            None,
            st.clock.now(),
            lcspr_tracker::app::users::NewUserInput {
                email: email.into(),
                name: email.into(),
                role,
                agency: None,
                password_hash: hash.clone(),
            },
        )
        .unwrap()
        .id
    };
    let pm = Actor {
        user_id: add("pm@bench.example", Role::ProgrammeManager),
        role: Role::ProgrammeManager,
        name: "PM".into(),
    };
    let reviewer = add("rev@bench.example", Role::LeadReviewer);
    drop(conn);
    let meeting = json!({"type": "review_meeting", "occurred_on": "2026-06-01", "note": "bench"});
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    for (events, pool) in [(10, 60), (1000, 12)] {
        let id = format!("record an event: {events} events on the case");
        if !selected(&format!("{name}/{id}")) {
            continue;
        }
        let started = std::time::Instant::now();
        let ids = cases_in_review(&st, &pm, &reviewer, pool, events);
        eprintln!(
            "{name}: {pool} cases of {events} events in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let mut conn = st.pool.get().unwrap();
        let mut next = ids.iter().cycle();
        // As the API does: record, then write the answer as JSON.
        let mut record = || {
            let answer = events::record_event(
                &mut conn,
                &st,
                &pm,
                next.next().unwrap(),
                meeting.as_object().unwrap(),
            )
            .unwrap();
            serde_json::to_vec(&answer).unwrap().len()
        };
        eprintln!(
            "{name}: the answer is {} bytes at {events} events",
            record()
        );
        g.bench_function(id.as_str(), |b| b.iter(&mut record));
    }
    g.finish();
}

fn event_path(c: &mut Criterion) {
    if selected("events on the case") {
        on_each_backend(c, bench_event_path);
    }
}

criterion_group!(service, benches, event_path, scale);
criterion_main!(service);
