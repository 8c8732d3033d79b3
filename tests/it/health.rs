use crate::support::TestApp;

#[actix_web::test]
async fn healthz_and_readyz_answer_on_a_fresh_database() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(body.contains("ok"));
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ready"));
}

#[actix_web::test]
async fn readyz_is_503_when_a_migration_is_pending() {
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    // Forget the last applied migration: the database is then "behind" the binary.
    let state = app.state.clone();
    let removed = actix_web::web::block(move || {
        let mut conn = state.pool.get().unwrap();
        diesel::sql_query(
            "DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
        .execute(&mut **conn)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(removed, 1);
    let (status, _) = app.get("/readyz").await;
    assert_eq!(status, 503);
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn unknown_path_is_a_404() {
    let app = TestApp::spawn().await;
    let (status, _) = app.get("/no-such-page").await;
    assert_eq!(status, 404);
}

/// The pool asks a connection `SELECT 1` only when it has not answered for a second
/// (`db::CHECKED_FOR`); a connection the server closed in between is found by the error of its
/// next query, and then dropped instead of being handed out again.
#[test]
fn a_connection_the_server_closed_is_not_handed_out_again() {
    use diesel::prelude::*;
    use lcspr_tracker::db;

    let Some(pg) = crate::support::db::TestDb::postgres_or_skip(
        "health::a_connection_the_server_closed_is_not_handed_out_again",
    ) else {
        return;
    };
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pid_of = |c: &mut db::DbConnection| {
        diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(c)
    };
    let mut settings = lcspr_tracker::config::Settings::defaults().database;
    settings.url = pg.url.clone();
    settings.pool_size = 1;
    let pool = db::connect(&settings, false).expect("a pool");
    let first = pid_of(&mut pool.get().unwrap()).unwrap().pid;

    let mut admin = diesel::PgConnection::establish(&pg.url).unwrap();
    diesel::sql_query(format!("SELECT pg_terminate_backend({first})"))
        .execute(&mut admin)
        .unwrap();
    // Handed out again within the second: its query fails as "unavailable" (a 503), and marks
    // it lost. (On a machine slow enough that the second has passed, it is checked and
    // replaced before it is handed out; either way it is not used after this.)
    match pid_of(&mut pool.get().unwrap()) {
        Err(e) => assert!(db::is_unavailable(&e), "{e}"),
        Ok(p) => assert_ne!(p.pid, first, "a closed connection was used"),
    }
    let next = pid_of(&mut pool.get().unwrap()).expect("a new connection answers");
    assert_ne!(next.pid, first);
    assert_eq!(pool.state().connections, 1);
}
