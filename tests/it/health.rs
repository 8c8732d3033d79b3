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
        .execute(&mut *conn)
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
