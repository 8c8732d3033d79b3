//! Integration tests: each starts the real application on port 0 with its own fresh database
//! (SQLite in a temporary folder; or, when TEST_DATABASE_URL names a PostgreSQL server, a new
//! database on it that is dropped afterwards).

mod support;

mod accounts;
mod api_auth;
mod api_cases;
mod api_contract;
mod api_journey;
mod api_misc;
mod case_cache;
mod cli;
mod cost;
mod documents;
mod encryption;
mod event_path;
mod feeds;
mod gov_bodies;
mod gov_decisions;
mod gov_meetings;
mod health;
mod mail_delivery;
mod mfa;
mod migrations;
mod ops_backup;
mod ops_observability;
mod ops_processes;
mod ops_storage;
mod probe;
mod publication;
mod records;
mod reminders;
mod reports;
mod reports_themes;
mod send_checks;
mod sso;
mod ui_account;
mod ui_documents;
mod ui_foundation;
mod ui_meetings;
mod ui_pages;
mod ui_publication;
mod ui_records;
mod ui_small_things;
mod ui_snapshots;
