//! Cost that follows what is shown, not what is stored (issue 15), as counts a test can hold:
//! the statements of the case list's first page and of a sweep do not grow with the cases,
//! the plans read indexes in the list's order (no statistics needed), *My work* is a page of
//! 50 with counts per status, and concurrent case views are all audited through the group
//! commit with the chain intact. Times are in `benches/`.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;

use lcspr_tracker::app::cases::list::{self, Filter};
use lcspr_tracker::app::Actor;
use lcspr_tracker::db::DbConnection;
use lcspr_tracker::domain::case::Stage;
use lcspr_tracker::domain::deadlines::DeadlineStatus;
use lcspr_tracker::domain::roles::Role;
use lcspr_tracker::state::AppState;

use crate::support::api::User;
use crate::support::browser::Browser;
use crate::support::TestApp;

/// The statements a closure sends on its connection, without their bound values.
fn statements<T>(
    app: &TestApp,
    f: impl FnOnce(&mut DbConnection, &AppState) -> T,
) -> (T, Vec<String>) {
    let mut conn = app.state.pool.get().expect("a connection");
    let seen = Arc::new(Mutex::new(vec![]));
    let log = seen.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            let sql = sql.split(" -- binds:").next().unwrap_or("").trim();
            // A list of values is one placeholder, however long.
            log.lock().unwrap().push(sql.replace("?, ", ""));
        }
    });
    let out = f(&mut conn, &app.state);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    let seen = seen.lock().unwrap().clone();
    (out, seen)
}

fn actor(user: &User) -> Actor {
    Actor {
        user_id: user.id.clone(),
        role: user.role,
        name: "Pat Manager".into(),
    }
}

/// Opens `n` cases, half aware a month before today (their deadlines overdue), half three
/// days before (due soon).
async fn open_cases(app: &TestApp, pm: &User, n: usize) {
    for i in 0..n {
        let aware = if i % 2 == 0 {
            "2025-12-08"
        } else {
            "2026-01-09"
        };
        app.open_case(pm, aware, &format!("Child {i}")).await;
    }
}

/// The rows of the page's first table (its header row included).
fn first_table_rows(html: &str) -> usize {
    let table = html.split("</table>").next().unwrap_or("");
    table.matches("<tr class=\"govuk-table__row\">").count()
}

/// Every filter of the list, and none.
fn filters() -> Vec<Filter> {
    let mut out = vec![Filter::default()];
    for status in DeadlineStatus::ALL {
        out.push(Filter {
            deadline_status: Some(*status),
            ..Filter::default()
        });
    }
    out.push(Filter {
        stage: Some(Stage::Notification),
        ..Filter::default()
    });
    out.push(Filter {
        year: Some("2025-26".into()),
        ..Filter::default()
    });
    out
}

#[actix_web::test]
async fn the_first_page_of_the_list_takes_the_same_statements_at_any_size() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let who = actor(&pm);
    open_cases(&app, &pm, 3).await;
    let small: Vec<Vec<String>> = filters()
        .iter()
        .map(|f| statements(&app, |c, st| list::list(c, st, &who, f).unwrap()).1)
        .collect();
    for s in &small {
        // The bounded count, the page, its cases' pending deadlines (the calendar is cached).
        assert!(s.len() <= 4, "{} statements:\n{}", s.len(), s.join("\n"));
    }
    open_cases(&app, &pm, 57).await;
    for (f, before) in filters().iter().zip(&small) {
        let (page, after) = statements(&app, |c, st| list::list(c, st, &who, f).unwrap());
        assert_eq!(
            &after, before,
            "{f:?}: the statements do not grow with the cases"
        );
        assert!(page.cases.len() <= 50);
    }
    // The count stops at the limit: more than that is said, not counted.
    let (page, _) = statements(&app, |c, st| {
        list::list(c, st, &who, &Filter::default()).unwrap()
    });
    assert_eq!((page.total, page.total_exact), (60, true));
    let (status, body) = app.get_json("/api/v1/cases", Some(&pm.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total_exact"], true);
}

/// The plans SQLite makes for the list's statements without statistics: the cases are read
/// in the order of an index (no sort of every case) and no table is read whole.
#[actix_web::test]
async fn the_list_is_read_in_index_order_without_statistics() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    if app.db.is_postgres() {
        eprintln!("(plans checked on SQLite; PostgreSQL plans from its own estimates)");
        return;
    }
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let who = actor(&pm);
    open_cases(&app, &pm, 2).await;
    let mut conn = app.state.pool.get().unwrap();
    // No statistics, whatever the start-up task did.
    let DbConnection::Sqlite(raw) = &mut **conn else {
        unreachable!()
    };
    diesel::sql_query("DROP TABLE IF EXISTS sqlite_stat1")
        .execute(raw)
        .unwrap();
    drop(conn);
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    for f in filters() {
        let (_, sent) = statements(&app, |c, st| list::list(c, st, &who, &f).unwrap());
        for sql in sent.iter().filter(|s| s.starts_with("SELECT")) {
            let mut conn = app.state.pool.get().unwrap();
            let DbConnection::Sqlite(raw) = &mut **conn else {
                unreachable!()
            };
            let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .load::<Plan>(raw)
                .unwrap()
                .into_iter()
                .map(|p| p.detail)
                .collect();
            // The page's deadlines (its 50 cases' only) may be sorted; the cases may not.
            let of_cases = sql.contains("FROM `cases`");
            for line in &plan {
                let whole_table = line.starts_with("SCAN ") && !line.contains(" INDEX ");
                let sorted = of_cases && line.contains("TEMP B-TREE FOR ORDER BY");
                assert!(!whole_table && !sorted, "{f:?}\n{sql}\n{plan:#?}");
            }
        }
    }
}

#[actix_web::test]
async fn my_work_is_a_page_of_fifty_with_counts_per_status() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    open_cases(&app, &pm, 30).await;
    let b = Browser::new(&app);
    b.sign_in(&pm.email).await;
    let first = b.get("/").await;
    assert_eq!(first.status, 200);
    let rows = first
        .body
        .matches("<tr class=\"govuk-table__row\">")
        .count();
    // 50 deadlines and the header row, and the table of stages (header and one stage).
    assert_eq!(rows, 51 + 2, "{rows} rows: {}", &first.main()[..3000]);
    assert!(first.body.len() < 100_000, "{} bytes", first.body.len());
    assert!(first.body.contains("href=\"/?page=2\""), "{}", first.main());
    let overdue = count_in(&first.body, "Overdue: ");
    let soon = count_in(&first.body, "Due soon: ");
    let today = count_in(&first.body, "Due today: ");
    assert!(overdue > 0 && soon > 0, "{}", first.main());
    let total = overdue + soon + today;
    assert!(first
        .body
        .contains(&format!("Showing 1 to 50 of {total} deadlines")));
    // The last page holds the rest.
    let last = total.div_ceil(50);
    let page = b.get(&format!("/?page={last}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(first_table_rows(&page.body) - 1, total - 50 * (last - 1));
    // One group alone.
    let only = b.get("/?status=overdue").await;
    assert_eq!(only.status, 200);
    assert_eq!(
        only.body
            .matches("govuk-tag--red\">Overdue</strong>")
            .count(),
        overdue.min(50)
    );
    // A wrong parameter is named, and changes nothing.
    for bad in ["/?page=0", "/?page=x", "/?status=late"] {
        let a = b.get(bad).await;
        assert_eq!(a.status, 422, "{bad}");
        let field = if bad.contains("status") {
            "status"
        } else {
            "page"
        };
        assert!(
            a.main().to_lowercase().contains(field),
            "{bad}: {}",
            a.main()
        );
    }
}

/// The number after `label` in the page.
fn count_in(html: &str, label: &str) -> usize {
    let at = html
        .find(label)
        .map(|i| i + label.len())
        .unwrap_or_else(|| {
            panic!("{label} not in the page");
        });
    html[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn a_sweep_reads_a_batch_of_cases_in_the_same_statements_and_skips_far_deadlines() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    open_cases(&app, &pm, 3).await;
    let now = app.state.now();
    let sweep =
        |c: &mut DbConnection, st: &AppState| lcspr_tracker::jobs::sweep(c, st, now, true).unwrap();
    // The first sweep queues what is due; a second one finds it written.
    statements(&app, sweep);
    let (report, small) = statements(&app, sweep);
    assert_eq!(report.cases, 3);
    assert_eq!(report.queued_count, 0);
    open_cases(&app, &pm, 40).await;
    statements(&app, sweep);
    let (report, large) = statements(&app, sweep);
    assert_eq!(report.cases, 43);
    assert_eq!(
        small, large,
        "a batch of cases is read in the same statements"
    );
    // A case whose only pending deadlines are far ahead is not read at all.
    let far = app.open_case(&pm, "2026-01-12", "Child Far").await;
    let far_id = far["id"].as_str().unwrap().to_string();
    let far_out = app.state.clone();
    far_out
        .db(move |c, _| {
            use lcspr_tracker::db::schema::deadlines;
            diesel::update(deadlines::table.filter(deadlines::case_id.eq(&far_id)))
                .set(deadlines::due_on.eq(chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let (report, _) = statements(&app, sweep);
    assert_eq!(report.cases, 43, "the far case is not planned");
}

#[actix_web::test]
async fn a_sweep_reads_and_plans_outside_its_write_transactions() {
    // On SQLite a write transaction is the one writer's lock: a sweep that read and planned
    // inside it would keep every write waiting for a batch. Its transactions hold the new rows.
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    open_cases(&app, &pm, 6).await;
    // A week on, the next reminder steps are due: the sweep has rows to write.
    app.set_now("2026-01-19 09:00");
    let now = app.state.now();
    let (report, seen) = transactions(&app, |c, st| {
        lcspr_tracker::jobs::sweep(c, st, now, true).unwrap()
    });
    assert!(report.queued_count > 0, "the sweep queued reminders");
    let inserts = seen
        .iter()
        .filter(|(_, sql)| sql.starts_with("INSERT INTO \"outbox\""))
        .collect::<Vec<_>>();
    assert!(
        inserts.len() >= report.queued_count && inserts.iter().all(|(d, _)| *d > 0),
        "each reminder written in a transaction: {inserts:?}"
    );
    let in_tx_reads: Vec<_> = seen
        .iter()
        .filter(|(d, sql)| {
            *d > 0
                && sql.starts_with("SELECT")
                && (sql.contains("FROM \"deadlines\"")
                    || sql.contains("FROM \"case_people\"")
                    || sql.contains("FROM \"cases\""))
        })
        .collect();
    assert!(
        in_tx_reads.is_empty(),
        "cases, deadlines and people are read outside the write transactions: {in_tx_reads:#?}"
    );
    // The next sweep has nothing new to write: its batch opens no transaction at all.
    let (report, seen) = transactions(&app, |c, st| {
        lcspr_tracker::jobs::sweep(c, st, now, true).unwrap()
    });
    assert_eq!((report.cases, report.queued_count), (6, 0));
    let empty = seen
        .windows(2)
        .filter(|w| w[0].1.starts_with("BEGIN") && w[1].1.starts_with("COMMIT"))
        .count();
    assert_eq!(empty, 0, "no empty write transaction: {seen:#?}");
}

/// The statements a closure sends, each with the depth of the transaction it ran in (0:
/// none), names quoted alike on both backends.
fn transactions<T>(
    app: &TestApp,
    f: impl FnOnce(&mut DbConnection, &AppState) -> T,
) -> (T, Vec<(u32, String)>) {
    let mut conn = app.state.pool.get().expect("a connection");
    let seen = Arc::new(Mutex::new(vec![]));
    let log = seen.clone();
    let mut depth = 0;
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::BeginTransaction { depth: d, .. } => depth = d.get(),
        InstrumentationEvent::CommitTransaction { depth: d, .. }
        | InstrumentationEvent::RollbackTransaction { depth: d, .. } => depth = d.get() - 1,
        InstrumentationEvent::StartQuery { query, .. } => {
            // SQLite quotes names with backticks, PostgreSQL with double quotes.
            let sql = query.to_string().replace('`', "\"");
            log.lock().unwrap().push((depth, sql));
        }
        _ => {}
    });
    let out = f(&mut conn, &app.state);
    conn.set_instrumentation(None::<Box<dyn Instrumentation>>);
    let seen = seen.lock().unwrap().clone();
    (out, seen)
}

#[actix_web::test]
async fn concurrent_case_views_are_each_audited_before_they_answer() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child V").await;
    let id = case["id"].as_str().unwrap().to_string();
    let views = 24;
    let path = format!("/api/v1/cases/{id}");
    let answers =
        futures_util::future::join_all((0..views).map(|_| app.get_json(&path, Some(&pm.token))))
            .await;
    assert!(answers.iter().all(|(s, _)| *s == 200));
    let st = app.state.clone();
    let case_id = id.clone();
    let (viewed, verified) = st
        .db(move |c, _| {
            let rows = lcspr_tracker::app::audit::for_case(c, &case_id)?;
            let viewed = rows.iter().filter(|r| r.action == "case_viewed").count();
            Ok((viewed, lcspr_tracker::app::audit::verify(c)?))
        })
        .await
        .unwrap();
    assert_eq!(
        viewed, views,
        "every view answered after its entry was written"
    );
    assert!(
        matches!(
            verified,
            lcspr_tracker::app::audit::Verification::Intact { .. }
        ),
        "{verified:?}"
    );
}

/// A case's read (the case page, `GET /api/v1/cases/{id}`): the case with its people and the
/// calendar's revision in one statement, then its events, their authors' names and its
/// deadlines: 4 statements, whatever the case holds.
#[actix_web::test]
async fn a_case_is_read_in_four_statements_then_in_one_while_it_is_unchanged() {
    let app = TestApp::spawn_on("2026-02-02".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let reviewer = app.user(Role::LeadReviewer, "Lee Reviewer").await;
    let id = crate::support::documents::appointed_case(&app, &pm, &chair, &reviewer).await;
    let who = actor(&pm);
    let read = |c: &mut DbConnection, st: &AppState| {
        lcspr_tracker::app::cases::view::read(c, st, &who, &id).unwrap()
    };
    // The first read may build the calendar; the second finds it, and the case's events,
    // names and deadlines read at the same revision, in memory: the case row alone.
    statements(&app, read);
    let ((kept, _), sent) = statements(&app, read);
    assert_eq!(sent.len(), 1, "{}", sent.join("\n"));
    assert!(sent[0].contains("rev"), "{}", sent[0]);
    // A change moves the case's revision: its record is read again, in four statements, and
    // kept again.
    app.ok_event(
        &pm,
        &id,
        serde_json::json!({"type": "progress_check", "occurred_on": "2026-01-30", "note": "On time"}),
    )
    .await;
    let ((view, _), sent) = statements(&app, read);
    assert_eq!(sent.len(), 4, "{}", sent.join("\n"));
    assert_eq!(
        view.events.len(),
        kept.events.len() + 1,
        "the new event is read"
    );
    assert_eq!(statements(&app, read).1.len(), 1);
    assert!(!view.deadlines.is_empty(), "the deadlines were read");
    assert_eq!(
        view.reviewers
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["Lee Reviewer"],
        "the case's people came with the case"
    );
    // The reviewer sees it; another lead reviewer does not.
    let stranger = app.user(Role::LeadReviewer, "Sam Stranger").await;
    for (user, seen) in [(&reviewer, true), (&stranger, false)] {
        let who = actor(user);
        let mut conn = app.state.pool.get().expect("a connection");
        let read = lcspr_tracker::app::access::visible_case_read(&mut conn, &who, &id);
        assert_eq!(read.is_ok(), seen, "{}", user.id);
    }
}

/// The group-commit writer of read audits appends a batch in one statement while the last
/// link it wrote is still the chain's head (PostgreSQL), and the chain stays one line when
/// other appends come between its batches or commit while a batch waits for the lock.
#[actix_web::test]
async fn read_audits_stay_in_one_chain_with_appends_between_and_during_them() {
    use lcspr_tracker::app::audit::{self, Entry, ReadAppender, Verification};
    use lcspr_tracker::db::group_commit::ReadAudit;
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let case = app.open_case(&pm, "2026-01-05", "Child V").await;
    let id = case["id"].as_str().unwrap().to_string();
    let who = actor(&pm);
    let reads = |n: usize| -> Vec<ReadAudit> {
        (0..n)
            .map(|_| ReadAudit {
                at: app.state.now(),
                actor_id: who.user_id.clone(),
                actor_role: who.role.as_str().into(),
                action: "case_viewed",
                case_id: id.clone(),
                detail: serde_json::json!({ "identity_shown": false }),
            })
            .collect()
    };
    let pg = app.db.is_postgres();
    let mut appender = ReadAppender::default();
    let mut conn = app.state.pool.get().expect("a connection");
    appender.append(&mut conn, reads(2)).unwrap();
    // Its last link is the head: one statement outside any transaction on PostgreSQL.
    let (_, sent) = transactions(&app, |c, _| appender.append(c, reads(3)).unwrap());
    if pg {
        assert_eq!(sent.len(), 1, "{sent:#?}");
        assert_eq!(sent[0].0, 0, "no transaction around it");
        assert!(sent[0].1.contains("INSERT INTO audit_log"), "{sent:#?}");
    }
    // An entry of a write between two batches: the next finds the head moved.
    audit::append(
        &mut conn,
        app.state.now(),
        Entry::ok(Some(&who), "between_batches").case(&id),
    )
    .unwrap();
    let (_, sent) = transactions(&app, |c, _| appender.append(c, reads(2)).unwrap());
    if pg {
        assert!(
            sent.iter()
                .any(|(_, s)| s.contains("pg_advisory_xact_lock(7272001)")),
            "appended after the new head, under the lock: {sent:#?}"
        );
    }
    // An entry committed while the batch waits for the lock: the head the batch's statement
    // read is stale, the primary key refuses its first row, and it appends after the new head.
    // The holder says when it holds the lock (its entry appended, not yet committed), so the
    // batch always starts after that, however slow the machine.
    let (locked, holds) = std::sync::mpsc::channel();
    let holder = {
        let st = app.state.clone();
        let who = who.clone();
        let id = id.clone();
        std::thread::spawn(move || {
            let mut c = st.pool.get().expect("a connection");
            lcspr_tracker::db::write_tx(&mut c, |c| {
                let entry = Entry::ok(Some(&who), "during_a_batch").case(&id);
                audit::append(c, st.now(), entry)?;
                locked.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(400));
                diesel::QueryResult::Ok(())
            })
            .unwrap();
        })
    };
    holds.recv().unwrap();
    appender.append(&mut conn, reads(2)).unwrap();
    holder.join().unwrap();
    let rows = audit::for_case(&mut conn, &id).unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "case_viewed").count(),
        9,
        "{actions:?}"
    );
    let during = actions.iter().position(|a| *a == "during_a_batch");
    assert_eq!(
        during,
        Some(actions.len() - 3),
        "the batch that waited follows the entry it waited for: {actions:?}"
    );
    let verified = audit::verify(&mut conn).unwrap();
    assert!(
        matches!(verified, Verification::Intact { .. }),
        "{verified:?}"
    );
}

#[actix_web::test]
async fn the_service_gathers_statistics_itself() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    // SQLite: the statistics table exists; PostgreSQL: the tables were analysed.
    let sql = if app.db.is_postgres() {
        "SELECT count(*) AS n FROM pg_stat_user_tables \
         WHERE relname = 'cases' AND last_analyze IS NOT NULL"
    } else {
        "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'"
    };
    let mut found = false;
    for _ in 0..100 {
        let n: i64 = app
            .state
            .db(move |c, _| {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                Ok(diesel::sql_query(sql).get_result::<N>(c)?.n)
            })
            .await
            .unwrap();
        if n > 0 {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "ANALYZE ran at start");
}

/// The bundled SQLite is built without STAT4 (`.cargo/config.toml`): with it and the statistics
/// above, a value bound to an indexed column marks the prepared statement stale, so every
/// cached statement was parsed and planned again on each execution. ANALYZE then keeps only
/// `sqlite_stat1`.
#[actix_web::test]
async fn sqlite_keeps_its_prepared_statements_once_it_has_statistics() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    if app.db.is_postgres() {
        eprintln!("(SQLite's build checked on SQLite; PostgreSQL plans each statement itself)");
        return;
    }
    let (stat4, tables) = app
        .state
        .db(|c, _| {
            #[derive(QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("ANALYZE").execute(c)?;
            let used =
                diesel::sql_query("SELECT sqlite_compileoption_used('SQLITE_ENABLE_STAT4') AS n")
                    .get_result::<N>(c)?
                    .n;
            let tables = diesel::sql_query(
                "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat4'",
            )
            .get_result::<N>(c)?
            .n;
            Ok((used, tables))
        })
        .await
        .unwrap();
    assert_eq!(
        (stat4, tables),
        (0, 0),
        "SQLite built without STAT4, and ANALYZE wrote no samples"
    );
}

/// SQLite is built with SQLITE_ENABLE_QPSG (`.cargo/config.toml`): it plans without looking at
/// bound values. Without it, SQLite 3.53 read the value bound to `LIMIT ?` while planning, and
/// so prepared every statement with a `LIMIT` (each `.first()`, each page) again on every run.
/// `sqlite_stmt` (SQLITE_ENABLE_STMTVTAB) says, per kept statement, how often it ran and how
/// often it was prepared again.
#[actix_web::test]
async fn sqlite_runs_its_kept_statements_again_without_preparing_them_again() {
    let app = TestApp::spawn_on("2026-01-12".parse().unwrap()).await;
    if app.db.is_postgres() {
        eprintln!("(SQLite's build checked on SQLite; PostgreSQL keeps its statements itself)");
        return;
    }
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let who = actor(&pm);
    open_cases(&app, &pm, 4).await;
    let mut conn = app.state.pool.get().expect("a connection");
    // Statistics change the schema, after which every kept statement is prepared once more.
    lcspr_tracker::db::refresh_statistics(&mut conn).unwrap();
    #[derive(QueryableByName, Debug, Clone, PartialEq)]
    struct Kept {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        run: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        reprep: i32,
    }
    // The list's pages of 1 to 4 (a new value for its `LIMIT ?` each time), then each case
    // read (`.first()`: `LIMIT ?`), twice over.
    let mut passes: Vec<Vec<Kept>> = vec![];
    for _ in 0..2 {
        let mut ids = vec![];
        for per_page in [1, 2, 3, 4] {
            let f = Filter {
                per_page,
                ..Filter::default()
            };
            let page = list::list(&mut conn, &app.state, &who, &f).unwrap();
            assert_eq!(page.cases.len() as i64, per_page);
            ids = page.cases.into_iter().map(|c| c.id).collect();
        }
        for id in &ids {
            lcspr_tracker::app::cases::view::read(&mut conn, &app.state, &who, id).unwrap();
        }
        passes.push(
            diesel::sql_query("SELECT sql, run, reprep FROM sqlite_stmt")
                .load(&mut **conn)
                .unwrap(),
        );
    }
    let (first, second) = (&passes[0], &passes[1]);
    let limited = second
        .iter()
        .filter(|k| k.sql.contains("LIMIT") && k.run >= 8)
        .count();
    assert!(
        limited >= 2,
        "the list's page and the case's reads ran with their LIMIT each time: {second:#?}"
    );
    let again: Vec<(&Kept, i32)> = second
        .iter()
        .filter(|k| !k.sql.contains("sqlite_stmt"))
        .map(|k| {
            let before = first
                .iter()
                .find(|f| f.sql == k.sql)
                .map_or(0, |f| f.reprep);
            (k, before)
        })
        .filter(|(k, before)| k.reprep > *before)
        .collect();
    assert!(
        again.is_empty(),
        "prepared again in the second pass: {again:#?}"
    );
}

#[actix_web::test]
async fn a_cases_documents_are_read_in_the_same_statements_however_many_there_are() {
    use crate::support::documents::{appointed_case, pdf};
    use lcspr_tracker::app::documents;

    let app = TestApp::spawn_on("2026-02-16".parse().unwrap()).await;
    let pm = app.user(Role::ProgrammeManager, "Pat Manager").await;
    let chair = app.user(Role::CoChair, "Chris Chair").await;
    let rev = app.user(Role::LeadReviewer, "Rae Reviewer").await;
    let id = appointed_case(&app, &pm, &chair, &rev).await;
    let upload = |title: &'static str, n: u8| {
        let (app, rev, id) = (&app, &rev, &id);
        async move {
            let (status, up) = app
                .upload(
                    rev,
                    id,
                    &[("kind", "draft_report"), ("title", title)],
                    Some(("draft.pdf", &pdf(n))),
                )
                .await;
            assert_eq!(status, 201, "{up}");
        }
    };
    upload("Overview report", 0).await;
    let who = actor(&pm);
    let (one, few) = statements(&app, |c, _| documents::list(c, &who, &id).unwrap());
    assert_eq!(one.len(), 1);
    for (n, title) in [
        (1, "Overview report"),
        (2, "Chronology"),
        (3, "Action plan"),
    ] {
        upload(title, n).await;
    }
    let (three, many) = statements(&app, |c, _| documents::list(c, &who, &id).unwrap());
    assert_eq!(few, many, "the statements do not grow with the documents");
    let versions: Vec<(String, Vec<i32>)> = three
        .iter()
        .map(|d| {
            let numbers = d.versions.iter().map(|v| v.number).collect();
            (d.title.clone(), numbers)
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("Action plan".to_string(), vec![1]),
            ("Chronology".to_string(), vec![1]),
            ("Overview report".to_string(), vec![2, 1]),
        ],
        "newest first (here all made at one moment: by title), each with its versions newest first"
    );
    assert!(three
        .iter()
        .flat_map(|d| &d.versions)
        .all(|v| v.uploaded_by.name == "Rae Reviewer"));
}
