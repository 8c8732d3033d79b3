//! The JSON API under /api/v1. Routes are declared once, in [`api!`]: the same list registers
//! the handlers and generates the OpenAPI document (`openapi.rs`), whose schemas are derived
//! from the request and answer types themselves, so the two cannot drift apart.

mod admin;
mod auth;
mod calendar;
pub mod cases;
pub mod documents;
pub mod governance;
mod me;
pub mod openapi;
pub mod reports;
pub mod requests;
pub mod responses;
mod users;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use openapi::{empty, errors, file, ok, ok_or_file, path};
use requests as req;
use responses as res;

/// One documented operation.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub doc: Value,
}

macro_rules! api {
    ($d:ident; $( $method:ident $path:literal => $handler:path, { $($doc:tt)* } );* $(;)?) => {
        /// Registers every API route, then, for each path, a 405 with `Allow` for the methods
        /// it does not take, and a JSON 404 for any other path, all in one `/api` scope: a
        /// request for a page is then matched against the scope's prefix once, not against
        /// every API route's pattern (3.7 % of the machine's CPU on a case's page, perf).
        pub fn register(cfg: &mut web::ServiceConfig) {
            cfg.service(
                web::scope(SCOPE)
                    .configure(|cfg| {
                        $( cfg.route(in_scope($path), web::$method().to($handler)); )*
                        register_method_not_allowed(cfg);
                    })
                    .default_service(web::to(no_route)),
            );
        }

        /// Every route: (method, path).
        fn routes() -> Vec<(&'static str, &'static str)> {
            vec![$( (stringify!($method), $path) ),*]
        }

        /// Every API operation with its documentation; the schemas go to `$d`.
        pub fn operations($d: &mut openapi::Doc) -> Vec<Operation> {
            vec![$( Operation { method: stringify!($method), path: $path, doc: json!({ $($doc)* }) } ),*]
        }
    };
}

/// The scope every API path is under.
const SCOPE: &str = "/api";

/// An API path relative to [`SCOPE`].
fn in_scope(path: &'static str) -> &'static str {
    path.strip_prefix(SCOPE)
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or_else(|| panic!("API path {path} is not under {SCOPE}/"))
}

/// A path answers a method it does not take with 405, naming the ones it does in `Allow`,
/// as a JSON error. Registered after every route, so it is reached only when none matched.
fn register_method_not_allowed(cfg: &mut web::ServiceConfig) {
    let mut allowed: Vec<(&'static str, Vec<String>)> = vec![];
    for (method, path) in routes() {
        let method = method.to_ascii_uppercase();
        match allowed.iter_mut().find(|(p, _)| *p == path) {
            Some((_, methods)) => methods.push(method),
            None => allowed.push((path, vec![method])),
        }
    }
    for (path, methods) in allowed {
        let allow = methods.join(", ");
        cfg.route(
            in_scope(path),
            web::route().to(move || {
                let allow = allow.clone();
                async move {
                    HttpResponse::MethodNotAllowed()
                        .insert_header((actix_web::http::header::ALLOW, allow.clone()))
                        .json(json!({ "error": {
                            "code": "method_not_allowed",
                            "message": format!("this endpoint takes {allow}"),
                        } }))
                }
            }),
        );
    }
}

/// An operation's answers: its own, and the errors it adds to those every operation of its
/// kind can answer (see [`document`]).
fn answers(own: Map<String, Value>, more_errors: &[u16]) -> Value {
    let mut all = errors(more_errors);
    all.extend(own);
    Value::Object(all)
}

/// Path parameters, then query parameters.
fn both(mut path: Vec<Value>, query: Vec<Value>) -> Vec<Value> {
    path.extend(query);
    path
}

/// The picture.
fn svg() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "200".into(),
        json!({ "description": "The picture", "content": { "image/svg+xml": { "schema": { "type": "string", "description": "SVG with <title> and <desc>" } } } }),
    );
    m
}

/// The shape of this document, for its own operation.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct OpenApiDocument {
    /// 3.1.0
    openapi: String,
    info: std::collections::BTreeMap<String, String>,
    paths: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Value>>,
    components: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Value>>,
}

api! {
    d;
    post "/api/v1/auth/token" => auth::token, {
        "summary": "Sign in: exchange an email and password (and, once two-step verification is set up, \"otp\": a code or a recovery code) for a bearer token",
        "tags": ["auth"], "security": [],
        "requestBody": d.body::<req::Credentials>(),
        "responses": answers(ok(200, "A token", d.out::<res::Token>()), &[401, 403, 429]),
    };
    post "/api/v1/auth/logout" => auth::logout, {
        "summary": "Revoke the token used for this request",
        "tags": ["auth"],
        "responses": answers(empty(204, "Revoked"), &[]),
    };
    post "/api/v1/auth/invitation/accept" => auth::accept_invitation, {
        "summary": "Accept an invitation by choosing a password (the token is the last part of the emailed link); then sign in",
        "tags": ["auth"], "security": [],
        "requestBody": d.body::<req::LinkPassword>(),
        "responses": answers(empty(204, "The password is set; the link is used up"), &[403]),
    };
    post "/api/v1/auth/password-reset" => auth::request_password_reset, {
        "summary": "Email a one-time link to choose a new password; the same answer whether or not the account exists",
        "tags": ["auth"], "security": [],
        "requestBody": d.body::<req::PasswordResetRequest>(),
        "responses": answers(ok(202, "Accepted", d.out::<res::Message>()), &[]),
    };
    post "/api/v1/auth/password-reset/confirm" => auth::reset_password, {
        "summary": "Set a new password with a reset link's token; every session and token of the account is revoked",
        "tags": ["auth"], "security": [],
        "requestBody": d.body::<req::LinkPassword>(),
        "responses": answers(empty(204, "The password is changed"), &[403]),
    };
    post "/api/v1/me/mfa/totp" => me::begin_totp, {
        "summary": "Start setting up two-step verification: a TOTP secret, its otpauth:// address and ten recovery codes, shown this once",
        "tags": ["me"],
        "responses": answers(ok(201, "The secret and the recovery codes", d.out::<res::TotpEnrolment>()), &[409]),
    };
    post "/api/v1/me/mfa/totp/confirm" => me::confirm_totp, {
        "summary": "Confirm the secret with a code from the authenticator app; two-step verification is then on",
        "tags": ["me"],
        "requestBody": d.body::<req::OtpConfirm>(),
        "responses": answers(empty(204, "Two-step verification is on"), &[409, 429]),
    };
    get "/api/v1/users" => users::list, {
        "summary": "Active users (programme manager, co-chairs, admins)",
        "tags": ["users"],
        "parameters": d.query::<req::UsersQuery>(),
        "responses": answers(ok(200, "Users", d.list::<res::UserSummary>()), &[]),
    };
    post "/api/v1/users" => users::invite, {
        "summary": "Add a user and email them an invitation to set up their own account (administrators)",
        "tags": ["users"],
        "requestBody": d.body::<req::NewUser>(),
        "responses": answers(ok(201, "The user, and when the invitation expires", d.out::<crate::app::accounts::Invited>()), &[409]),
    };
    post "/api/v1/users/{id}/invitation" => users::invite_again, {
        "summary": "Send a new invitation to a user who has not set up their account (administrators); the earlier link stops working",
        "tags": ["users"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The user, and when the invitation expires", d.out::<crate::app::accounts::Invited>()), &[409]),
    };
    post "/api/v1/users/{id}/mfa/reset" => users::reset_mfa, {
        "summary": "Reset a user's two-step verification (administrators): audited, the user is signed out everywhere and told by email",
        "tags": ["users"],
        "parameters": path(&["id"]),
        "responses": answers(empty(204, "Reset"), &[409]),
    };
    get "/api/v1/cases" => cases::list_cases, {
        "summary": "Cases visible to the user, filtered and sorted, one page at a time",
        "tags": ["cases"],
        "parameters": d.query::<req::CaseListQuery>(),
        "responses": answers(ok_or_file("A page of cases; with format=csv|xlsx every matching case", d.out::<crate::app::cases::list::Page>()), &[]),
    };
    post "/api/v1/cases" => cases::create_case, {
        "summary": "Open a case (programme manager, co-chairs); allocates its reference",
        "tags": ["cases"],
        "requestBody": d.body::<req::NewCase>(),
        "responses": answers(ok(201, "The case", d.out::<crate::app::cases::view::CaseView>()), &[]),
    };
    get "/api/v1/cases/{id}" => cases::get_case, {
        "summary": "One case with its events and deadlines (the read is audited)",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The case", d.out::<crate::app::cases::view::CaseView>()), &[]),
    };
    post "/api/v1/cases/{id}/events" => cases::record_event, {
        "summary": "Record one event; answers with the event, the case's stage and the deadlines that changed (Location: the case)",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "requestBody": d.event_body(),
        "responses": answers(ok(201, "The event recorded, the stage, the deadlines it changed", d.out::<crate::app::events::Recorded>()), &[409]),
    };
    patch "/api/v1/cases/{id}" => cases::change_case, {
        "summary": "Change a case's details with a reason (co-chairs, programme manager; the identity only by roles that see it); a changed awareness or incident date, harm or looked-after status corrects the case's first event and moves the deadlines counted from it",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::CaseChange>(),
        "responses": answers(ok(200, "The case", d.out::<crate::app::cases::view::CaseView>()), &[409]),
    };
    post "/api/v1/cases/{id}/events/{event_id}/correct" => cases::correct_event, {
        "summary": "Correct a recorded event (its date or fields) with a reason: a new entry supersedes it; the corrected history must replay validly (co-chairs, programme manager; a lead reviewer only events they recorded)",
        "tags": ["cases"],
        "parameters": path(&["id", "event_id"]),
        "requestBody": d.body::<req::Correction>(),
        "responses": answers(ok(201, "The corrected event, the stage, the deadlines it changed", d.out::<crate::app::events::Recorded>()), &[409]),
    };
    post "/api/v1/cases/{id}/events/{event_id}/void" => cases::void_event, {
        "summary": "Void a recorded event with a reason: it stays in the record, struck through, and no longer counts; the history without it must replay validly",
        "tags": ["cases"],
        "parameters": path(&["id", "event_id"]),
        "requestBody": d.body::<req::Reason>(),
        "responses": answers(ok(200, "The voided event, the stage, the deadlines it changed", d.out::<crate::app::events::Recorded>()), &[409]),
    };
    post "/api/v1/cases/{id}/conflict" => cases::declare_conflict, {
        "summary": "Declare a conflict of interest on a case (a sub-group member then no longer sees it)",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::Conflict>(),
        "responses": answers(empty(204, "Declared"), &[409]),
    };
    get "/api/v1/cases/{id}/deadlines" => cases::case_deadlines, {
        "summary": "A case's deadlines, each with its explanation; format=csv|xlsx for a file (audited)",
        "tags": ["cases"],
        "parameters": both(path(&["id"]), d.query::<req::FormatQuery>()),
        "responses": answers(ok_or_file("Deadlines", d.list::<crate::app::cases::view::DeadlineView>()), &[]),
    };
    get "/api/v1/cases/{id}/timeline.svg" => cases::timeline_svg, {
        "summary": "A case's statutory clocks as an SVG picture: each a bar from its trigger to its due date, the day it was met marked, today as a line, missed ones red and hatched; with <title> and <desc>",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "responses": answers(svg(), &[]),
    };
    get "/api/v1/cases/{id}/audit" => cases::case_audit, {
        "summary": "A case's audit trail (co-chairs, programme manager, business manager), oldest first, 50 a page (X-Total-Count: the matching entries; Link: first, prev, next, last), filtered by kind, user and date range; format=csv|xlsx for a file of every matching entry (audited with the filters)",
        "tags": ["cases"],
        "parameters": both(path(&["id"]), d.query::<req::AuditQuery>()),
        "responses": answers(ok_or_file("Entries, oldest first", d.list::<crate::app::cases::trail::AuditEntry>()), &[]),
    };
    post "/api/v1/cases/{id}/documents" => documents::upload, {
        "summary": "Upload a document, or a new version of one (same kind and title, or its document_id)",
        "tags": ["documents"],
        "parameters": path(&["id"]),
        "requestBody": d.multipart::<req::DocumentUpload>(),
        "responses": answers(ok(201, "The document with its versions, and any warnings", d.out::<crate::app::documents::Uploaded>()), &[409, 413, 415, 507]),
    };
    get "/api/v1/cases/{id}/documents" => documents::list, {
        "summary": "A case's documents, each with the event it belongs to (event_id) and its versions (number, sha256, size, uploader, time)",
        "tags": ["documents"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "Documents", d.list::<crate::app::documents::DocumentView>()), &[]),
    };
    get "/api/v1/documents/{id}/versions/{n}" => documents::download, {
        "summary": "Download one version (streamed, as an attachment; the read is audited)",
        "tags": ["documents"],
        "parameters": path(&["id", "n"]),
        "responses": answers(file("The file's bytes"), &[]),
    };
    post "/api/v1/documents/{id}/versions/{n}/delete" => documents::delete_version, {
        "summary": "Soft-delete a version, with a reason (a version sent before publication is locked)",
        "tags": ["documents"],
        "parameters": path(&["id", "n"]),
        "requestBody": d.body::<req::Reason>(),
        "responses": answers(ok(200, "Deleted", d.out::<res::Deleted>()), &[409]),
    };
    get "/api/v1/calendar/working-days" => calendar::working_days, {
        "summary": "Add working days to a date (negative counts back), with the explanation",
        "tags": ["calendar"],
        "parameters": d.query::<req::WorkingDaysQuery>(),
        "responses": answers(ok(200, "The date", d.out::<res::WorkingDays>()), &[]),
    };
    get "/api/v1/me/reminders" => me::get_reminders, {
        "summary": "How the signed-in user receives deadline reminders, and whether they have a calendar feed",
        "tags": ["me"],
        "responses": answers(ok(200, "The mode", d.out::<res::ReminderSettings>()), &[]),
    };
    put "/api/v1/me/reminders" => me::put_reminders, {
        "summary": "Choose an email for each reminder (immediate) or one daily digest; statutory reminders cannot be switched off",
        "tags": ["me"],
        "requestBody": d.body::<req::ReminderSetting>(),
        "responses": answers(ok(200, "The mode now", d.out::<res::ReminderModeOnly>()), &[]),
    };
    post "/api/v1/me/feed" => me::create_feed, {
        "summary": "Make a new secret iCalendar feed URL of the user's deadlines (revokes any earlier one)",
        "tags": ["me"],
        "responses": answers(ok(201, "The feed URL; shown once", d.out::<res::FeedUrl>()), &[]),
    };
    delete "/api/v1/me/feed" => me::delete_feed, {
        "summary": "Revoke the user's calendar feed URL",
        "tags": ["me"],
        "responses": answers(empty(204, "Revoked (or there was none)"), &[]),
    };
    get "/api/v1/admin/outbox" => admin::outbox_list, {
        "summary": "The outbox, newest first, 50 a page, with counts per status (administrators)",
        "tags": ["admin"],
        "parameters": d.query::<req::OutboxQuery>(),
        "responses": answers(ok(200, "Messages without their bodies", d.out::<res::OutboxPage>()), &[]),
    };
    get "/api/v1/admin/outbox/{id}" => admin::outbox_get, {
        "summary": "One outbox message with its bodies (administrators)",
        "tags": ["admin"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The message", d.out::<crate::app::outbox::OutboxMessage>()), &[]),
    };
    post "/api/v1/admin/outbox/{id}/retry" => admin::outbox_retry, {
        "summary": "Queue a failed or waiting message again, now (administrators); a sent message is not sent twice",
        "tags": ["admin"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The message", d.out::<crate::app::outbox::OutboxEntry>()), &[409]),
    };
    post "/api/v1/admin/test-email" => admin::test_email, {
        "summary": "Queue a test email to an address (administrators)",
        "tags": ["admin"],
        "requestBody": d.body::<req::TestEmail>(),
        "responses": answers(ok(202, "Queued", d.out::<crate::app::outbox::OutboxEntry>()), &[]),
    };
    get "/api/v1/agencies" => governance::list_agencies, {
        "summary": "Every agency, with its number of active users",
        "tags": ["governance"],
        "responses": answers(ok(200, "Agencies", d.list::<crate::app::agencies::AgencyView>()), &[]),
    };
    post "/api/v1/agencies" => governance::add_agency, {
        "summary": "Add an agency (administrators)",
        "tags": ["governance"],
        "requestBody": d.body::<req::AgencyName>(),
        "responses": answers(ok(201, "The agency", d.out::<crate::app::agencies::AgencyView>()), &[409]),
    };
    put "/api/v1/agencies/{id}" => governance::rename_agency, {
        "summary": "Rename an agency (administrators)",
        "tags": ["governance"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::AgencyName>(),
        "responses": answers(ok(200, "The agency", d.out::<crate::app::agencies::AgencyView>()), &[409]),
    };
    put "/api/v1/users/{id}/agency" => governance::set_user_agency, {
        "summary": "Put a user in an agency, by name; an agency named for the first time is created (administrators)",
        "tags": ["users"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::UserAgency>(),
        "responses": answers(ok(200, "The user", d.out::<res::UserSummary>()), &[]),
    };
    get "/api/v1/bodies/{body}/members" => governance::get_members, {
        "summary": "The core members and chairs of the Sub-Group (subgroup) or the Executive Board (board)",
        "tags": ["governance"],
        "parameters": path(&["body"]),
        "responses": answers(ok(200, "The membership", d.out::<crate::app::governance::bodies::Membership>()), &[]),
    };
    put "/api/v1/bodies/{body}/members" => governance::put_members, {
        "summary": "Set the core members and chairs (administrators); a chair is a member; the Sub-Group's chairs are co-chairs",
        "tags": ["governance"],
        "parameters": path(&["body"]),
        "requestBody": d.body::<req::MembersInput>(),
        "responses": answers(ok(200, "The membership", d.out::<crate::app::governance::bodies::Membership>()), &[]),
    };
    get "/api/v1/meetings" => governance::list_meetings, {
        "summary": "Meetings the user may see, earliest first",
        "tags": ["meetings"],
        "parameters": d.query::<req::MeetingsQuery>(),
        "responses": answers(ok(200, "Meetings", d.list::<crate::app::governance::view::MeetingSummary>()), &[]),
    };
    post "/api/v1/meetings" => governance::schedule_meeting, {
        "summary": "Schedule a meeting (co-chairs and programme manager: Sub-Group, Gold Group; business and programme managers: Board)",
        "tags": ["meetings"],
        "requestBody": d.body::<req::NewMeeting>(),
        "responses": answers(ok(201, "The meeting", d.out::<crate::app::governance::view::MeetingView>()), &[]),
    };
    get "/api/v1/meetings/{id}" => governance::get_meeting, {
        "summary": "One meeting: agenda, attendance, quorum, decisions, minutes, papers (the read is audited)",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The meeting", d.out::<crate::app::governance::view::MeetingView>()), &[]),
    };
    post "/api/v1/meetings/{id}/agenda" => governance::add_agenda, {
        "summary": "Put a case on the agenda (shown by reference and pseudonym only)",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::AgendaCase>(),
        "responses": answers(ok(201, "The agenda item", d.out::<crate::app::governance::view::AgendaItem>()), &[409]),
    };
    delete "/api/v1/meetings/{id}/agenda/{case_id}" => governance::remove_agenda, {
        "summary": "Take a case off the agenda (while nothing was decided or minuted about it)",
        "tags": ["meetings"],
        "parameters": path(&["id", "case_id"]),
        "responses": answers(empty(204, "Removed"), &[409]),
    };
    post "/api/v1/meetings/{id}/deputies" => governance::name_deputy, {
        "summary": "A core member names a deputy from their agency for a meeting not yet held (deputy_id null withdraws); organisers may name one for any member with member_id",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::NameDeputy>(),
        "responses": answers(ok(200, "The deputies named", d.out::<res::NamedDeputies>()), &[409]),
    };
    post "/api/v1/meetings/{id}/held" => governance::record_held, {
        "summary": "Record the attendance of a held meeting (held_on not in the future); may be corrected until a decision is made",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::Held>(),
        "responses": answers(ok(200, "The meeting, with its quorum", d.out::<crate::app::governance::view::MeetingView>()), &[409]),
    };
    put "/api/v1/meetings/{id}/minutes" => governance::write_minutes, {
        "summary": "Key points or minutes of the meeting, or of one agenda case (case_id); after the sign-off a correction needs a reason",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::Minutes>(),
        "responses": answers(ok(200, "The meeting", d.out::<crate::app::governance::view::MeetingView>()), &[409]),
    };
    post "/api/v1/meetings/{id}/sign-off" => governance::sign_off, {
        "summary": "A chair signs the record of a held meeting off; the minutes are then fixed",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The meeting", d.out::<crate::app::governance::view::MeetingView>()), &[409, 422]),
    };
    post "/api/v1/meetings/{id}/decisions" => governance::record_decision, {
        "summary": "Record a decision: by consensus, or by a vote of one per agency represented; conflicted members excluded; a split broken by the chair's casting vote; an inquorate meeting cannot decide",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::NewDecision>(),
        "responses": answers(ok(201, "The decision", d.out::<crate::app::governance::view::DecisionView>()), &[409]),
    };
    post "/api/v1/meetings/{id}/papers" => governance::upload_paper, {
        "summary": "Attach a paper to a meeting (multipart: title, file); members read it",
        "tags": ["meetings"],
        "parameters": path(&["id"]),
        "requestBody": d.multipart::<req::PaperUpload>(),
        "responses": answers(ok(201, "The paper", d.out::<crate::app::governance::view::PaperView>()), &[409, 413, 415, 507]),
    };
    get "/api/v1/meetings/{id}/papers/{paper_id}" => governance::download_paper, {
        "summary": "Download a paper (as an attachment; the read is audited)",
        "tags": ["meetings"],
        "parameters": path(&["id", "paper_id"]),
        "responses": answers(file("The file's bytes"), &[]),
    };
    post "/api/v1/meetings/{id}/papers/{paper_id}/delete" => governance::delete_paper, {
        "summary": "Remove a paper, with a reason (kept in the audit)",
        "tags": ["meetings"],
        "parameters": path(&["id", "paper_id"]),
        "requestBody": d.body::<req::Reason>(),
        "responses": answers(ok(200, "Removed", d.out::<res::Deleted>()), &[409]),
    };
    get "/api/v1/cases/{id}/meetings" => governance::case_meetings, {
        "summary": "The meetings a case was on, with the decisions about it",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "Meetings", d.list::<res::CaseMeeting>()), &[]),
    };
    get "/api/v1/reports/annual" => reports::annual_report, {
        "summary": "The annual figures on reviews for a financial year (year=2025 is April 2025 to March 2026, by the case's awareness date), over the cases the user sees; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": d.query::<req::AnnualQuery>(),
        "responses": answers(ok_or_file("The figures", d.out::<crate::app::reports::annual::AnnualFigures>()), &[]),
    };
    get "/api/v1/reports/board" => reports::board_report, {
        "summary": "The Sub-Group's report to the Executive Board: open cases by stage, deadlines missed since the date, deadlines due before the next Board meeting (else 8 weeks), decisions made, improvement actions overdue by agency; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": d.query::<req::BoardQuery>(),
        "responses": answers(ok_or_file("The report", d.out::<crate::app::reports::board::BoardReport>()), &[]),
    };
    get "/api/v1/reports/actions" => reports::improvement_actions, {
        "summary": "Improvement actions of the cases the user sees, with their owner agency, due date and whether done or overdue; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": d.query::<req::ActionsQuery>(),
        "responses": answers(ok_or_file("The actions", d.list::<res::ActionLine>()), &[]),
    };
    get "/api/v1/reports/themes" => reports::themes_report, {
        "summary": "Learning themes across cases and financial years: for each theme (the configured reports.themes first, then free tags) the tagged cases the user sees by financial year (by the case's awareness date)",
        "tags": ["reports"],
        "responses": answers(ok(200, "The themes", d.out::<crate::app::reports::themes::ThemesReport>()), &[]),
    };
    get "/api/v1/cases/{id}/themes" => reports::get_case_themes, {
        "summary": "A case's learning themes",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "responses": answers(ok(200, "The themes", d.out::<res::CaseThemes>()), &[]),
    };
    put "/api/v1/cases/{id}/themes" => reports::put_case_themes, {
        "summary": "Replace a case's learning themes (co-chairs, programme manager; audited with the reason): configured themes (reports.themes) and free tags, trimmed, the second spelling of one theme dropped (capitals ignored), at most 200 characters each and 20 a case; [] removes them all",
        "tags": ["cases"],
        "parameters": path(&["id"]),
        "requestBody": d.body::<req::ThemesChange>(),
        "responses": answers(ok(200, "The case's themes as they now are", d.out::<res::CaseThemes>()), &[]),
    };
    get "/api/v1/openapi.json" => openapi, {
        "summary": "This document", "tags": ["meta"], "security": [],
        "tags": ["meta"], "security": [],
        "responses": Value::Object(ok(200, "This OpenAPI 3.1 document", d.out::<OpenApiDocument>())),
    };
}

/// The errors every operation of a kind can answer: an authenticated one 401 and 403 (a role
/// that may not, or two-step verification not set up); one with a JSON body 400 (not JSON, or
/// not an object), 413 (over 1 MiB) and 422; one with parameters 400 and 422 (a path id with
/// a control character, a page out of range); one with a path id 404; all 405 (another method
/// on its path) and 503 (the database not answering).
fn common_errors(op: &Value) -> Vec<u16> {
    let mut codes = vec![405, 503];
    let public = op["security"].as_array().is_some_and(Vec::is_empty);
    if !public {
        codes.extend([401, 403]);
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        if content.contains_key("application/json") {
            codes.extend([400, 413, 422]);
        } else {
            codes.extend([400, 422]);
        }
    }
    if let Some(params) = op["parameters"].as_array() {
        if !params.is_empty() {
            codes.extend([400, 422]);
        }
        if params.iter().any(|p| p["in"] == "path") {
            codes.push(404);
        }
    }
    codes
}

/// The OpenAPI 3.1 document, generated from the route list and the types.
pub fn document() -> Value {
    let mut d = openapi::Doc::new();
    let mut paths = Map::new();
    for op in operations(&mut d) {
        let mut doc = op.doc;
        let common = errors(&common_errors(&doc));
        if let Some(responses) = doc["responses"].as_object_mut() {
            for (code, answer) in common {
                responses.entry(code).or_insert(answer);
            }
        }
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method] = doc;
    }
    let _ = d.out::<res::ErrorBody>();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "LCSPR Tracker API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Serious child safeguarding incidents and Local Child Safeguarding Practice Reviews, tracked against their statutory deadlines. Authenticate with POST /api/v1/auth/token, then send `Authorization: Bearer <token>`. A case the user may not see answers 404. Timestamps are RFC 3339 in UTC (`Z`); dates are YYYY-MM-DD.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
            "schemas": d.schemas(),
        },
        "paths": paths,
    })
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// JSON 404 for unknown /api paths.
pub async fn no_route() -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({ "error": { "code": "no_route", "message": "no such API endpoint" } }))
}
