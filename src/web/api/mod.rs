//! The JSON API under /api/v1. Routes are declared once, in [`api!`]: the same list registers
//! the handlers and generates the OpenAPI document, so the two cannot drift apart.

mod admin;
mod auth;
mod calendar;
pub mod cases;
pub mod documents;
pub mod governance;
mod me;
pub mod reports;
mod users;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

/// One documented operation.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub doc: Value,
}

macro_rules! api {
    ($( $method:ident $path:literal => $handler:path, { $($doc:tt)* } );* $(;)?) => {
        /// Registers every API route, then, for each path, a 405 with `Allow` for the methods
        /// it does not take.
        pub fn register(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, web::$method().to($handler)); )*
            register_method_not_allowed(cfg);
        }

        /// Every API operation with its documentation.
        pub fn operations() -> Vec<Operation> {
            vec![$( Operation { method: stringify!($method), path: $path, doc: json!({ $($doc)* }) } ),*]
        }
    };
}

/// A path answers a method it does not take with 405, naming the ones it does in `Allow`,
/// as a JSON error. Registered after every route, so it is reached only when none matched.
fn register_method_not_allowed(cfg: &mut web::ServiceConfig) {
    let mut allowed: Vec<(&'static str, Vec<String>)> = vec![];
    for op in operations() {
        let method = op.method.to_ascii_uppercase();
        match allowed.iter_mut().find(|(p, _)| *p == op.path) {
            Some((_, methods)) => methods.push(method),
            None => allowed.push((op.path, vec![method])),
        }
    }
    for (path, methods) in allowed {
        let allow = methods.join(", ");
        cfg.route(
            path,
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

fn error_responses(codes: &[u16]) -> Value {
    let mut m = serde_json::Map::new();
    for code in codes {
        let description = match code {
            400 => "A parameter or the body cannot be parsed; `error.field` names it",
            401 => "No valid bearer token",
            403 => "The role may never do this",
            404 => "Not found, or not visible to this user",
            405 => "The path does not take this method; `Allow` names the ones it does",
            409 => "Conflicts with the current state",
            413 => "The upload is larger than documents.max_bytes, or the JSON body larger than 256 KiB",
            415 => "The file type is not accepted (decided by content); the message lists the accepted types",
            422 => "Refused: `error.fields` lists each field and the problem",
            429 => "Too many failed attempts; see Retry-After",
            503 => "The database is not answering; try again after Retry-After seconds",
            507 => "The document store is full; nothing was saved",
            _ => "Error",
        };
        m.insert(
            code.to_string(),
            json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }),
        );
    }
    Value::Object(m)
}

fn with_errors(ok: Value, codes: &[u16]) -> Value {
    let mut r = error_responses(codes);
    if let (Some(m), Some(ok)) = (r.as_object_mut(), ok.as_object()) {
        for (k, v) in ok {
            m.insert(k.clone(), v.clone());
        }
    }
    r
}

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }])
}

fn event_params() -> Value {
    json!([
        { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
        { "name": "event_id", "in": "path", "required": true, "schema": { "type": "string" }, "description": "The id of the event's current version" }
    ])
}

fn query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" }, "description": description })
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn ok(code: u16, description: &str, schema: Value) -> Value {
    json!({ code.to_string(): { "description": description, "content": { "application/json": { "schema": schema } } } })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

api! {
    post "/api/v1/auth/token" => auth::token, {
        "summary": "Sign in: exchange an email and password (and, once two-step verification is set up, \"otp\": a code or a recovery code) for a bearer token",
        "tags": ["auth"], "security": [],
        "requestBody": body("Credentials"),
        "responses": with_errors(ok(200, "A token", schema_ref("Token")), &[400, 401, 403, 422, 429]),
    };
    post "/api/v1/auth/logout" => auth::logout, {
        "summary": "Revoke the token used for this request",
        "tags": ["auth"],
        "responses": with_errors(json!({ "204": { "description": "Revoked" } }), &[401]),
    };
    post "/api/v1/auth/invitation/accept" => auth::accept_invitation, {
        "summary": "Accept an invitation by choosing a password (the token is the last part of the emailed link); then sign in",
        "tags": ["auth"], "security": [],
        "requestBody": body("LinkPassword"),
        "responses": with_errors(json!({ "204": { "description": "The password is set; the link is used up" } }), &[400, 403, 422]),
    };
    post "/api/v1/auth/password-reset" => auth::request_password_reset, {
        "summary": "Email a one-time link to choose a new password; the same answer whether or not the account exists",
        "tags": ["auth"], "security": [],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["email"], "properties": { "email": { "type": "string", "format": "email" } } } } } },
        "responses": with_errors(ok(202, "Accepted", json!({ "type": "object", "properties": { "message": { "type": "string" } } })), &[400, 422]),
    };
    post "/api/v1/auth/password-reset/confirm" => auth::reset_password, {
        "summary": "Set a new password with a reset link's token; every session and token of the account is revoked",
        "tags": ["auth"], "security": [],
        "requestBody": body("LinkPassword"),
        "responses": with_errors(json!({ "204": { "description": "The password is changed" } }), &[400, 403, 422]),
    };
    post "/api/v1/me/mfa/totp" => me::begin_totp, {
        "summary": "Start setting up two-step verification: a TOTP secret, its otpauth:// address and ten recovery codes, shown this once",
        "tags": ["me"],
        "responses": with_errors(ok(201, "The secret and the recovery codes", schema_ref("TotpEnrolment")), &[401, 409]),
    };
    post "/api/v1/me/mfa/totp/confirm" => me::confirm_totp, {
        "summary": "Confirm the secret with a code from the authenticator app; two-step verification is then on",
        "tags": ["me"],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["otp"], "properties": { "otp": { "type": "string", "pattern": "^[0-9]{6}$" } } } } } },
        "responses": with_errors(json!({ "204": { "description": "Two-step verification is on" } }), &[400, 401, 409, 422, 429]),
    };
    get "/api/v1/users" => users::list, {
        "summary": "Active users (programme manager, co-chairs, admins)",
        "tags": ["users"],
        "parameters": [query("role", "Only users with this role")],
        "responses": with_errors(ok(200, "Users", json!({ "type": "array", "items": schema_ref("User") })), &[400, 401, 403]),
    };
    post "/api/v1/users" => users::invite, {
        "summary": "Add a user and email them an invitation to set up their own account (administrators)",
        "tags": ["users"],
        "requestBody": body("NewUser"),
        "responses": with_errors(ok(201, "The user, and when the invitation expires", schema_ref("InvitedUser")), &[400, 401, 403, 422]),
    };
    post "/api/v1/users/{id}/invitation" => users::invite_again, {
        "summary": "Send a new invitation to a user who has not set up their account (administrators); the earlier link stops working",
        "tags": ["users"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The user, and when the invitation expires", schema_ref("InvitedUser")), &[401, 403, 404, 409]),
    };
    post "/api/v1/users/{id}/mfa/reset" => users::reset_mfa, {
        "summary": "Reset a user's two-step verification (administrators): audited, the user is signed out everywhere and told by email",
        "tags": ["users"], "parameters": id_param(),
        "responses": with_errors(json!({ "204": { "description": "Reset" } }), &[401, 403, 404, 409]),
    };
    get "/api/v1/cases" => cases::list_cases, {
        "summary": "Cases visible to the user, filtered and sorted, one page at a time",
        "tags": ["cases"],
        "parameters": [
            query("stage", "A stage code"), query("deadline_status", "pending, met, missed or waived"),
            query("year", "Financial year, e.g. 2025-26"), query("sort", "next_due, reference, aware_on, stage, updated"),
            query("order", "asc or desc"), query("page", "From 1"), query("per_page", "1 to 500, default 50"),
            query("q", "Search: the reference (whole or part), the pseudonym and, for the roles that see identity, the child's name; case-insensitive"),
            query("format", "json (default), csv or xlsx: every matching case as a file (audited)")
        ],
        "responses": with_errors(ok(200, "A page of cases", schema_ref("CasePage")), &[400, 401]),
    };
    post "/api/v1/cases" => cases::create_case, {
        "summary": "Open a case (programme manager, co-chairs); allocates its reference",
        "tags": ["cases"],
        "requestBody": body("NewCase"),
        "responses": with_errors(ok(201, "The case", schema_ref("Case")), &[400, 401, 403, 422]),
    };
    get "/api/v1/cases/{id}" => cases::get_case, {
        "summary": "One case with its events and deadlines (the read is audited)",
        "tags": ["cases"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The case", schema_ref("Case")), &[401, 404]),
    };
    post "/api/v1/cases/{id}/events" => cases::record_event, {
        "summary": "Record one event; answers with the event, the case's stage and the deadlines that changed (Location: the case)",
        "tags": ["cases"], "parameters": id_param(),
        "requestBody": body("NewEvent"),
        "responses": with_errors(ok(201, "The event recorded, the stage, the deadlines it changed", schema_ref("RecordedEvent")), &[400, 401, 403, 404, 422]),
    };
    patch "/api/v1/cases/{id}" => cases::change_case, {
        "summary": "Change a case's details with a reason (co-chairs, programme manager; the identity only by roles that see it); a changed awareness or incident date, harm or looked-after status corrects the case's first event and moves the deadlines counted from it",
        "tags": ["cases"], "parameters": id_param(),
        "requestBody": body("CaseChange"),
        "responses": with_errors(ok(200, "The case", schema_ref("Case")), &[400, 401, 403, 404, 422]),
    };
    post "/api/v1/cases/{id}/events/{event_id}/correct" => cases::correct_event, {
        "summary": "Correct a recorded event (its date or fields) with a reason: a new entry supersedes it; the corrected history must replay validly (co-chairs, programme manager; a lead reviewer only events they recorded)",
        "tags": ["cases"], "parameters": event_params(),
        "requestBody": body("Correction"),
        "responses": with_errors(ok(201, "The corrected event, the stage, the deadlines it changed", schema_ref("RecordedEvent")), &[400, 401, 403, 404, 409, 422]),
    };
    post "/api/v1/cases/{id}/events/{event_id}/void" => cases::void_event, {
        "summary": "Void a recorded event with a reason: it stays in the record, struck through, and no longer counts; the history without it must replay validly",
        "tags": ["cases"], "parameters": event_params(),
        "requestBody": body("Void"),
        "responses": with_errors(ok(200, "The voided event, the stage, the deadlines it changed", schema_ref("RecordedEvent")), &[400, 401, 403, 404, 409, 422]),
    };
    post "/api/v1/cases/{id}/conflict" => cases::declare_conflict, {
        "summary": "Declare a conflict of interest on a case (a sub-group member then no longer sees it)",
        "tags": ["cases"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["note"], "properties": { "note": { "type": "string" } } } } } },
        "responses": with_errors(json!({ "204": { "description": "Declared" } }), &[401, 404, 422]),
    };
    get "/api/v1/cases/{id}/deadlines" => cases::case_deadlines, {
        "summary": "A case's deadlines, each with its explanation; format=csv|xlsx for a file (audited)",
        "tags": ["cases"], "parameters": [id_param()[0].clone(), query("format", "json (default), csv or xlsx")],
        "responses": with_errors(ok(200, "Deadlines", json!({ "type": "array", "items": schema_ref("Deadline") })), &[401, 404]),
    };
    get "/api/v1/cases/{id}/timeline.svg" => cases::timeline_svg, {
        "summary": "A case's statutory clocks as an SVG picture: each a bar from its trigger to its due date, the day it was met marked, today as a line, missed ones red and hatched; with <title> and <desc>",
        "tags": ["cases"], "parameters": id_param(),
        "responses": with_errors(json!({ "200": { "description": "The picture", "content": { "image/svg+xml": { "schema": { "type": "string" } } } } }), &[401, 404]),
    };
    get "/api/v1/cases/{id}/audit" => cases::case_audit, {
        "summary": "A case's audit trail (co-chairs, programme manager, business manager), oldest first, 50 a page (X-Total-Count: the matching entries; Link: first, prev, next, last), filtered by kind, user and date range; format=csv|xlsx for a file of every matching entry (audited with the filters)",
        "tags": ["cases"], "parameters": [id_param()[0].clone(),
            query("kind", "The kind of entry (its action), e.g. event_recorded"), query("user", "The id of the user who acted"),
            query("from", "YYYY-MM-DD: entries on or after this UK day"), query("to", "YYYY-MM-DD: entries on or before this UK day"),
            query("page", "From 1"), query("per_page", "1 to 500, default 50"),
            query("format", "json (default), csv or xlsx")],
        "responses": with_errors(ok(200, "Entries, oldest first", json!({ "type": "array", "items": { "type": "object" } })), &[400, 401, 403, 404, 422]),
    };
    post "/api/v1/cases/{id}/documents" => documents::upload, {
        "summary": "Upload a document, or a new version of one (same kind and title, or its document_id)",
        "tags": ["documents"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": { "type": "object", "required": ["file"], "properties": {
            "kind": { "type": "string", "enum": crate::domain::documents::DocumentKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
            "title": { "type": "string" }, "document_id": { "type": "string" },
            "event_id": { "type": "string", "description": "The case event the document belongs to (e.g. the review meeting a draft was discussed at); with a new version, moves the link" },
            "file": { "type": "string", "format": "binary", "description": "PDF, DOCX, XLSX, PPTX, ODT or plain text (decided by content)" } } } } } },
        "responses": with_errors(ok(201, "The document with its versions, and any warnings", json!({ "type": "object" })), &[400, 401, 403, 404, 413, 415, 422, 507]),
    };
    get "/api/v1/cases/{id}/documents" => documents::list, {
        "summary": "A case's documents, each with the event it belongs to (event_id) and its versions (number, sha256, size, uploader, time)",
        "tags": ["documents"], "parameters": id_param(),
        "responses": with_errors(ok(200, "Documents", json!({ "type": "array", "items": { "type": "object" } })), &[401, 404]),
    };
    get "/api/v1/documents/{id}/versions/{n}" => documents::download, {
        "summary": "Download one version (streamed, as an attachment; the read is audited)",
        "tags": ["documents"],
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "n", "in": "path", "required": true, "schema": { "type": "integer" } }],
        "responses": with_errors(json!({ "200": { "description": "The file's bytes" } }), &[401, 404]),
    };
    post "/api/v1/documents/{id}/versions/{n}/delete" => documents::delete_version, {
        "summary": "Soft-delete a version, with a reason (a version sent before publication is locked)",
        "tags": ["documents"],
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "n", "in": "path", "required": true, "schema": { "type": "integer" } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } } } } },
        "responses": with_errors(ok(200, "Deleted", json!({ "type": "object" })), &[401, 403, 404, 409, 422]),
    };
    get "/api/v1/calendar/working-days" => calendar::working_days, {
        "summary": "Add working days to a date (negative counts back), with the explanation",
        "tags": ["calendar"],
        "parameters": [
            { "name": "from", "in": "query", "required": true, "schema": { "type": "string", "format": "date" } },
            { "name": "days", "in": "query", "required": true, "schema": { "type": "integer" } },
            query("division", "england-and-wales (default), scotland, northern-ireland")
        ],
        "responses": with_errors(ok(200, "The date", schema_ref("WorkingDays")), &[400, 401]),
    };
    get "/api/v1/me/reminders" => me::get_reminders, {
        "summary": "How the signed-in user receives deadline reminders, and whether they have a calendar feed",
        "tags": ["me"],
        "responses": with_errors(ok(200, "The mode", schema_ref("ReminderSettings")), &[401]),
    };
    put "/api/v1/me/reminders" => me::put_reminders, {
        "summary": "Choose an email for each reminder (immediate) or one daily digest; statutory reminders cannot be switched off",
        "tags": ["me"],
        "requestBody": body("ReminderMode"),
        "responses": with_errors(ok(200, "The mode now", schema_ref("ReminderMode")), &[400, 401, 422]),
    };
    post "/api/v1/me/feed" => me::create_feed, {
        "summary": "Make a new secret iCalendar feed URL of the user's deadlines (revokes any earlier one)",
        "tags": ["me"],
        "responses": with_errors(ok(201, "The feed URL; shown once", schema_ref("FeedUrl")), &[401]),
    };
    delete "/api/v1/me/feed" => me::delete_feed, {
        "summary": "Revoke the user's calendar feed URL",
        "tags": ["me"],
        "responses": with_errors(json!({ "204": { "description": "Revoked (or there was none)" } }), &[401]),
    };
    get "/api/v1/admin/outbox" => admin::outbox_list, {
        "summary": "The outbox, newest first, 50 a page, with counts per status (administrators)",
        "tags": ["admin"],
        "parameters": [query("status", "queued, sent, failed or cancelled"), query("page", "From 1"), query("per_page", "1 to 1000, default 50"), query("limit", "The older name of per_page")],
        "responses": with_errors(ok(200, "Messages without their bodies", schema_ref("Outbox")), &[400, 401, 403]),
    };
    get "/api/v1/admin/outbox/{id}" => admin::outbox_get, {
        "summary": "One outbox message with its bodies (administrators)",
        "tags": ["admin"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The message", schema_ref("OutboxMessage")), &[401, 403, 404]),
    };
    post "/api/v1/admin/outbox/{id}/retry" => admin::outbox_retry, {
        "summary": "Queue a failed or waiting message again, now (administrators); a sent message is not sent twice",
        "tags": ["admin"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The message", schema_ref("OutboxMessage")), &[401, 403, 404, 409]),
    };
    post "/api/v1/admin/test-email" => admin::test_email, {
        "summary": "Queue a test email to an address (administrators)",
        "tags": ["admin"],
        "requestBody": body("TestEmail"),
        "responses": with_errors(ok(202, "Queued", schema_ref("OutboxMessage")), &[400, 401, 403, 422]),
    };
    get "/api/v1/agencies" => governance::list_agencies, {
        "summary": "Every agency, with its number of active users",
        "tags": ["governance"],
        "responses": with_errors(ok(200, "Agencies", json!({ "type": "array", "items": schema_ref("Agency") })), &[401]),
    };
    post "/api/v1/agencies" => governance::add_agency, {
        "summary": "Add an agency (administrators)",
        "tags": ["governance"],
        "requestBody": body("AgencyName"),
        "responses": with_errors(ok(201, "The agency", schema_ref("Agency")), &[400, 401, 403, 422]),
    };
    put "/api/v1/agencies/{id}" => governance::rename_agency, {
        "summary": "Rename an agency (administrators)",
        "tags": ["governance"], "parameters": id_param(),
        "requestBody": body("AgencyName"),
        "responses": with_errors(ok(200, "The agency", schema_ref("Agency")), &[400, 401, 403, 404, 422]),
    };
    put "/api/v1/users/{id}/agency" => governance::set_user_agency, {
        "summary": "Put a user in an agency, by name; an agency named for the first time is created (administrators)",
        "tags": ["users"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["agency"], "properties": { "agency": { "type": "string" } } } } } },
        "responses": with_errors(ok(200, "The user", schema_ref("User")), &[400, 401, 403, 404, 422]),
    };
    get "/api/v1/bodies/{body}/members" => governance::get_members, {
        "summary": "The core members and chairs of the Sub-Group (subgroup) or the Executive Board (board)",
        "tags": ["governance"], "parameters": [{ "name": "body", "in": "path", "required": true, "schema": { "type": "string", "enum": ["subgroup", "board"] } }],
        "responses": with_errors(ok(200, "The membership", schema_ref("Membership")), &[401, 404, 422]),
    };
    put "/api/v1/bodies/{body}/members" => governance::put_members, {
        "summary": "Set the core members and chairs (administrators); a chair is a member; the Sub-Group's chairs are co-chairs",
        "tags": ["governance"], "parameters": [{ "name": "body", "in": "path", "required": true, "schema": { "type": "string", "enum": ["subgroup", "board"] } }],
        "requestBody": body("MembersInput"),
        "responses": with_errors(ok(200, "The membership", schema_ref("Membership")), &[400, 401, 403, 404, 422]),
    };
    get "/api/v1/meetings" => governance::list_meetings, {
        "summary": "Meetings the user may see, earliest first",
        "tags": ["meetings"],
        "parameters": [query("body", "subgroup, board or gold_group"), query("from", "On or after this date (YYYY-MM-DD)"), query("to", "On or before this date (YYYY-MM-DD)")],
        "responses": with_errors(ok(200, "Meetings", json!({ "type": "array", "items": { "type": "object" } })), &[400, 401]),
    };
    post "/api/v1/meetings" => governance::schedule_meeting, {
        "summary": "Schedule a meeting (co-chairs and programme manager: Sub-Group, Gold Group; business and programme managers: Board)",
        "tags": ["meetings"],
        "requestBody": body("NewMeeting"),
        "responses": with_errors(ok(201, "The meeting", schema_ref("Meeting")), &[400, 401, 403, 422]),
    };
    get "/api/v1/meetings/{id}" => governance::get_meeting, {
        "summary": "One meeting: agenda, attendance, quorum, decisions, minutes, papers (the read is audited)",
        "tags": ["meetings"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The meeting", schema_ref("Meeting")), &[401, 404]),
    };
    post "/api/v1/meetings/{id}/agenda" => governance::add_agenda, {
        "summary": "Put a case on the agenda (shown by reference and pseudonym only)",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["case_id"], "properties": { "case_id": { "type": "string" } } } } } },
        "responses": with_errors(ok(201, "The agenda item", json!({ "type": "object" })), &[400, 401, 403, 404, 422]),
    };
    delete "/api/v1/meetings/{id}/agenda/{case_id}" => governance::remove_agenda, {
        "summary": "Take a case off the agenda (while nothing was decided or minuted about it)",
        "tags": ["meetings"],
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "case_id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": with_errors(json!({ "204": { "description": "Removed" } }), &[401, 403, 404, 422]),
    };
    post "/api/v1/meetings/{id}/deputies" => governance::name_deputy, {
        "summary": "A core member names a deputy from their agency for a meeting not yet held (deputy_id null withdraws); organisers may name one for any member with member_id",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["deputy_id"], "properties": { "deputy_id": { "type": ["string", "null"] }, "member_id": { "type": "string" } } } } } },
        "responses": with_errors(ok(200, "The deputies named", json!({ "type": "object" })), &[400, 401, 403, 404, 422]),
    };
    post "/api/v1/meetings/{id}/held" => governance::record_held, {
        "summary": "Record the attendance of a held meeting (held_on not in the future); may be corrected until a decision is made",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": body("Held"),
        "responses": with_errors(ok(200, "The meeting, with its quorum", schema_ref("Meeting")), &[400, 401, 403, 404, 422]),
    };
    put "/api/v1/meetings/{id}/minutes" => governance::write_minutes, {
        "summary": "Key points or minutes of the meeting, or of one agenda case (case_id); after the sign-off a correction needs a reason",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["text"], "properties": { "case_id": { "type": "string" }, "text": { "type": "string" }, "reason": { "type": "string" } } } } } },
        "responses": with_errors(ok(200, "The meeting", schema_ref("Meeting")), &[400, 401, 403, 404, 422]),
    };
    post "/api/v1/meetings/{id}/sign-off" => governance::sign_off, {
        "summary": "A chair signs the record of a held meeting off; the minutes are then fixed",
        "tags": ["meetings"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The meeting", schema_ref("Meeting")), &[401, 403, 404, 422]),
    };
    post "/api/v1/meetings/{id}/decisions" => governance::record_decision, {
        "summary": "Record a decision: by consensus, or by a vote of one per agency represented; conflicted members excluded; a split broken by the chair's casting vote; an inquorate meeting cannot decide",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": body("NewDecision"),
        "responses": with_errors(ok(201, "The decision", schema_ref("Decision")), &[400, 401, 403, 404, 422]),
    };
    post "/api/v1/meetings/{id}/papers" => governance::upload_paper, {
        "summary": "Attach a paper to a meeting (multipart: title, file); members read it",
        "tags": ["meetings"], "parameters": id_param(),
        "requestBody": { "required": true, "content": { "multipart/form-data": { "schema": { "type": "object", "required": ["title", "file"], "properties": { "title": { "type": "string" }, "file": { "type": "string", "format": "binary" } } } } } },
        "responses": with_errors(ok(201, "The paper", json!({ "type": "object" })), &[400, 401, 403, 404, 413, 415, 422]),
    };
    get "/api/v1/meetings/{id}/papers/{paper_id}" => governance::download_paper, {
        "summary": "Download a paper (as an attachment; the read is audited)",
        "tags": ["meetings"],
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "paper_id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "responses": with_errors(json!({ "200": { "description": "The file's bytes" } }), &[401, 404]),
    };
    post "/api/v1/meetings/{id}/papers/{paper_id}/delete" => governance::delete_paper, {
        "summary": "Remove a paper, with a reason (kept in the audit)",
        "tags": ["meetings"],
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "paper_id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } } } } },
        "responses": with_errors(ok(200, "Removed", json!({ "type": "object" })), &[401, 403, 404, 422]),
    };
    get "/api/v1/cases/{id}/meetings" => governance::case_meetings, {
        "summary": "The meetings a case was on, with the decisions about it",
        "tags": ["cases"], "parameters": id_param(),
        "responses": with_errors(ok(200, "Meetings", json!({ "type": "array", "items": { "type": "object" } })), &[401, 404]),
    };
    get "/api/v1/reports/annual" => reports::annual_report, {
        "summary": "The annual figures on reviews for a financial year (year=2025 is April 2025 to March 2026, by the case's awareness date), over the cases the user sees; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": [query("year", "The year the financial year starts in, e.g. 2025"), query("format", "json (default), csv or xlsx")],
        "responses": with_errors(ok(200, "The figures", json!({ "type": "object" })), &[400, 401, 403]),
    };
    get "/api/v1/reports/board" => reports::board_report, {
        "summary": "The Sub-Group's report to the Executive Board: open cases by stage, deadlines missed since the date, deadlines due before the next Board meeting (else 8 weeks), decisions made, improvement actions overdue by agency; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": [query("since", "YYYY-MM-DD; default the last Board meeting held, else 8 weeks ago"), query("format", "json (default), csv or xlsx")],
        "responses": with_errors(ok(200, "The report", json!({ "type": "object" })), &[400, 401, 403, 422]),
    };
    get "/api/v1/reports/actions" => reports::improvement_actions, {
        "summary": "Improvement actions of the cases the user sees, with their owner agency, due date and whether done or overdue; format=csv|xlsx for a file (audited)",
        "tags": ["reports"],
        "parameters": [query("year", "Only the cases of this financial year, e.g. 2025"), query("format", "json (default), csv or xlsx")],
        "responses": with_errors(ok(200, "The actions", json!({ "type": "array", "items": { "type": "object" } })), &[400, 401, 403]),
    };
    get "/api/v1/reports/themes" => reports::themes_report, {
        "summary": "Learning themes across cases and financial years: for each theme (the configured reports.themes first, then free tags) the tagged cases the user sees by financial year (by the case's awareness date)",
        "tags": ["reports"],
        "responses": with_errors(ok(200, "The themes", schema_ref("ThemesReport")), &[401, 403]),
    };
    get "/api/v1/cases/{id}/themes" => reports::get_case_themes, {
        "summary": "A case's learning themes",
        "tags": ["cases"], "parameters": id_param(),
        "responses": with_errors(ok(200, "The themes", schema_ref("CaseThemes")), &[401, 404]),
    };
    put "/api/v1/cases/{id}/themes" => reports::put_case_themes, {
        "summary": "Replace a case's learning themes (co-chairs, programme manager; audited with the reason): configured themes (reports.themes) and free tags, trimmed, the second spelling of one theme dropped (capitals ignored), at most 200 characters each and 20 a case; [] removes them all",
        "tags": ["cases"], "parameters": id_param(),
        "requestBody": body("ThemesChange"),
        "responses": with_errors(ok(200, "The case's themes as they now are", schema_ref("CaseThemes")), &[400, 401, 403, 404, 422]),
    };
    get "/api/v1/openapi.json" => openapi, {
        "summary": "This document", "tags": ["meta"], "security": [],
        "responses": { "200": { "description": "OpenAPI 3 document" } },
    };
}

fn schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    let mut all = json!({
        "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" },
            "fields": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } },
            "id": { "type": "string", "description": "Quote it when reporting a 500" } } } } },
        "Credentials": { "type": "object", "required": ["email", "password"], "properties": { "email": { "type": "string" }, "password": { "type": "string" }, "otp": { "type": "string", "description": "A 6-digit TOTP code or a recovery code; required once two-step verification is set up (without it: 401 otp_required)" } } },
        "User": { "type": "object", "properties": { "id": { "type": "string" }, "email": { "type": "string" }, "name": { "type": "string" }, "role": { "type": "string" }, "agency": { "type": ["string", "null"], "description": "The agency's name" }, "agency_id": { "type": ["string", "null"] } } },
        "NewCase": { "type": "object", "required": ["child_pseudonym", "aware_on", "incident_on", "harm", "looked_after", "summary"], "properties": {
            "child_pseudonym": { "type": "string" }, "aware_on": date, "incident_on": date,
            "harm": { "type": "string", "enum": ["death", "serious_harm"] }, "looked_after": { "type": "boolean" },
            "summary": { "type": "string" }, "child_name": { "type": "string" }, "child_dob": date } },
        "NewEvent": { "type": "object", "required": ["type", "occurred_on"], "additionalProperties": true, "properties": {
            "type": { "type": "string", "enum": crate::domain::events::EventType::ALL.iter().filter(|t| !matches!(t, crate::domain::events::EventType::Aware | crate::domain::events::EventType::ReportVersionUploaded)).map(|t| t.as_str()).collect::<Vec<_>>() },
            "occurred_on": date } },
        "Deadline": { "type": "object", "required": ["rule", "label", "due_on", "status", "met_on", "explanation"], "properties": {
            "id": { "type": "string" }, "rule": { "type": "string" }, "rule_version": { "type": "integer" }, "label": { "type": "string" },
            "due_on": date, "status": { "type": "string", "enum": crate::domain::deadlines::DeadlineStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>() }, "met_on": { "type": ["string", "null"], "format": "date" },
            "working_days_left": { "type": "integer" }, "explanation": { "type": "object" } } },
        "Case": { "type": "object", "required": ["id", "reference", "child_pseudonym", "stage", "events", "deadlines"], "properties": {
            "id": { "type": "string" }, "reference": { "type": "string" }, "child_pseudonym": { "type": "string" },
            "child_name": { "type": "string", "description": "Only for co-chairs, the programme manager and the case's lead reviewer" },
            "child_dob": date, "stage": { "type": "string" }, "events": { "type": "array", "items": { "type": "object" } },
            "deadlines": { "type": "array", "items": schema_ref("Deadline") } } },
        "Event": { "type": "object", "required": ["id", "sequence", "type", "occurred_on", "recorded_by", "recorded_at", "fields"], "properties": {
            "id": { "type": "string" }, "sequence": { "type": "integer" }, "type": { "type": "string" }, "label": { "type": "string" },
            "occurred_on": date, "recorded_by": { "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" } } },
            "recorded_at": { "type": "string", "format": "date-time" },
            "recorded_days_later": { "type": "integer", "description": "Calendar days from occurred_on to the day it was entered" },
            "recorded_late": { "type": "string", "description": "\"recorded 3 days later\", when entered after the day it happened" },
            "fields": { "type": "object", "description": "The event's own fields" },
            "correction_reason": { "type": "string", "description": "This version corrects an earlier one, for this reason" },
            "earlier_versions": { "type": "array", "description": "The versions it superseded, each with the correction (by, at, reason)", "items": { "type": "object" } },
            "voided": { "type": "object", "description": "Voided (by, at, reason): it no longer counts" } } },
        "RecordedEvent": { "type": "object", "required": ["case_id", "reference", "stage", "previous_stage", "event", "deadlines"], "properties": {
            "case_id": { "type": "string" }, "reference": { "type": "string" },
            "stage": { "type": "string", "description": "The case's stage after the event" }, "stage_label": { "type": "string" },
            "previous_stage": { "type": "string" }, "event": schema_ref("Event"),
            "deadlines": { "type": "array", "description": "Only the deadlines the event changed; GET /api/v1/cases/{id}/deadlines lists them all", "items": { "allOf": [schema_ref("Deadline"), { "type": "object", "required": ["change"], "properties": {
                "change": { "type": "string", "enum": ["created", "moved", "status", "no_longer_applies", "removed"] },
                "previous_due_on": { "type": "string", "format": "date", "description": "When moved: the date before" } } }] } } } },
        "CasePage": { "type": "object", "properties": { "cases": { "type": "array", "items": { "type": "object" } }, "total": { "type": "integer", "description": "Matching cases, counted up to 1,000 (or the page after this one)" }, "total_exact": { "type": "boolean", "description": "false when more cases match than total" }, "page": { "type": "integer" }, "per_page": { "type": "integer" } } },
        "WorkingDays": { "type": "object", "required": ["date", "explanation"], "properties": { "date": date, "explanation": { "type": "object" } } },
        "ReminderMode": { "type": "object", "required": ["mode"], "properties": { "mode": { "type": "string", "enum": ["immediate", "daily"] } } },
        "ReminderSettings": { "type": "object", "required": ["mode", "feed"], "properties": { "mode": { "type": "string", "enum": ["immediate", "daily"] }, "feed": { "type": "boolean", "description": "A calendar feed URL exists" } } },
        "FeedUrl": { "type": "object", "required": ["url"], "properties": { "url": { "type": "string", "format": "uri", "description": "GET it without authentication: text/calendar" } } },
        "TestEmail": { "type": "object", "required": ["to"], "properties": { "to": { "type": "string", "format": "email" } } },
        "OutboxMessage": { "type": "object", "required": ["id", "kind", "status", "subject", "attempts"], "properties": {
            "id": { "type": "string" }, "kind": { "type": "string", "enum": ["reminder", "digest", "test", "invitation", "password_reset", "mfa_reset", "meeting_notice"] },
            "status": { "type": "string", "enum": ["queued", "sent", "failed", "cancelled"] }, "recipient_id": { "type": ["string", "null"] },
            "recipient_name": { "type": ["string", "null"] }, "to_address": { "type": "string" }, "subject": { "type": "string" },
            "case_id": { "type": ["string", "null"] }, "case_reference": { "type": ["string", "null"] }, "deadline_id": { "type": ["string", "null"] },
            "attempts": { "type": "integer" }, "next_attempt_at": { "type": "string", "format": "date-time" },
            "last_error": { "type": ["string", "null"] }, "created_at": { "type": "string", "format": "date-time" },
            "sent_at": { "type": ["string", "null"], "format": "date-time" },
            "cancelled_reason": { "type": ["string", "null"], "description": "Why a cancelled message was not sent (checked as it was about to go)" },
            "body_text": { "type": "string", "description": "Only from GET /api/v1/admin/outbox/{id}" },
            "body_html": { "type": "string", "description": "Only from GET /api/v1/admin/outbox/{id}" } } },
        "Outbox": { "type": "object", "required": ["counts", "messages", "total", "page", "per_page", "pages"], "properties": {
            "counts": { "type": "object", "additionalProperties": { "type": "integer" } },
            "total": { "type": "integer", "description": "Messages of the status asked for (all when none)" },
            "page": { "type": "integer" }, "per_page": { "type": "integer" }, "pages": { "type": "integer" },
            "messages": { "type": "array", "items": schema_ref("OutboxMessage") } } },
    });
    for more in [governance::schemas(), correction_schemas()] {
        if let (Some(all), Value::Object(more)) = (all.as_object_mut(), more) {
            all.extend(more);
        }
    }
    all
}

/// The schemas of corrections: a case's details changed, an event corrected or voided.
fn correction_schemas() -> Value {
    let date = json!({ "type": "string", "format": "date" });
    json!({
        "CaseChange": { "type": "object", "required": ["reason"], "properties": {
            "reason": { "type": "string" }, "child_pseudonym": { "type": "string" }, "summary": { "type": "string" },
            "harm": { "type": "string", "enum": ["death", "serious_harm"] }, "looked_after": { "type": "boolean" },
            "incident_on": date, "aware_on": date,
            "child_name": { "type": ["string", "null"], "description": "Only roles that see the identity" }, "child_dob": { "type": ["string", "null"], "format": "date" } } },
        "Correction": { "type": "object", "required": ["reason"], "additionalProperties": true, "properties": {
            "reason": { "type": "string" }, "occurred_on": date }, "description": "The event's fields to change (null clears an optional one); the others keep their recorded values" },
        "Void": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } },
        "ThemesChange": { "type": "object", "required": ["themes"], "additionalProperties": false, "properties": {
            "themes": { "type": "array", "maxItems": 20, "items": { "type": "string", "maxLength": 200 } },
            "reason": { "type": "string", "description": "Kept in the audit trail" } } },
        "CaseThemes": { "type": "object", "required": ["case_id", "themes"], "properties": {
            "case_id": { "type": "string" }, "themes": { "type": "array", "items": { "type": "string" } } } },
        "ThemesReport": { "type": "object", "required": ["years", "themes", "cases_tagged"], "properties": {
            "years": { "type": "array", "items": { "type": "string" }, "description": "Financial years (2025-26) with a tagged case, oldest first" },
            "cases_tagged": { "type": "integer" },
            "themes": { "type": "array", "items": { "type": "object", "properties": {
                "theme": { "type": "string" }, "key": { "type": "string", "description": "The theme in lower case: what two spellings share" },
                "configured": { "type": "boolean" }, "total": { "type": "integer" },
                "counts": { "type": "object", "additionalProperties": { "type": "integer" }, "description": "Tagged cases by financial year" } } } } } }
    })
}

/// The schemas of identity: invitations, reset links, two-step verification.
fn identity_schemas() -> Value {
    json!({
        "LinkPassword": { "type": "object", "required": ["token", "password"], "properties": { "token": { "type": "string", "pattern": "^[0-9a-f]{64}$" }, "password": { "type": "string", "minLength": 12 } } },
        "TotpEnrolment": { "type": "object", "required": ["secret", "otpauth_uri", "recovery_codes"], "properties": { "secret": { "type": "string", "description": "Base32" }, "otpauth_uri": { "type": "string" }, "recovery_codes": { "type": "array", "items": { "type": "string" }, "minItems": 10, "maxItems": 10 } } },
        "NewUser": { "type": "object", "required": ["email", "name", "role"], "properties": { "email": { "type": "string", "format": "email" }, "name": { "type": "string" }, "role": { "type": "string", "enum": crate::domain::roles::Role::ALL.map(|r| r.as_str()) }, "agency": { "type": "string" } } },
        "InvitedUser": { "type": "object", "required": ["id", "email", "name", "role", "active", "invitation_expires_at"], "properties": { "id": { "type": "string" }, "email": { "type": "string" }, "name": { "type": "string" }, "role": { "type": "string" }, "agency": { "type": ["string", "null"] }, "active": { "type": "boolean" }, "invitation_expires_at": { "type": "string", "format": "date-time" } } },
        "Token": { "type": "object", "required": ["token", "expires_at"], "properties": { "token": { "type": "string" }, "expires_at": { "type": "string", "format": "date-time" } } }
    })
}

/// The OpenAPI 3 document, generated from the route list.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in operations() {
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method] = op.doc;
    }
    let mut all_schemas = schemas();
    if let (Some(a), Value::Object(more)) = (all_schemas.as_object_mut(), identity_schemas()) {
        a.extend(more);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "LCSPR Tracker API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Serious child safeguarding incidents and Local Child Safeguarding Practice Reviews, tracked against their statutory deadlines. Authenticate with POST /api/v1/auth/token, then send `Authorization: Bearer <token>`. A case the user may not see answers 404.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
            "schemas": all_schemas,
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
