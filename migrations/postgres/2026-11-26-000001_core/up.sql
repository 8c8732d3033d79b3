-- Core tables. Ids are text (UUIDs), timestamps are naive UTC, enums are text:
-- the same column types on SQLite and PostgreSQL, so one schema.rs serves both.

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT,
    active BOOLEAN NOT NULL,
    password_hash TEXT NOT NULL,
    password_changed_at TIMESTAMP NOT NULL,
    reminder_mode TEXT NOT NULL,
    feed_token_hash TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE auth_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE login_failures (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    first_failure_at TIMESTAMP NOT NULL,
    last_failure_at TIMESTAMP NOT NULL
);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE TABLE case_counters (
    prefix TEXT PRIMARY KEY NOT NULL,
    last_sequence INTEGER NOT NULL
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    financial_year TEXT NOT NULL,
    child_pseudonym TEXT NOT NULL,
    child_name TEXT,
    child_dob DATE,
    aware_on DATE NOT NULL,
    incident_on DATE NOT NULL,
    harm TEXT NOT NULL,
    looked_after BOOLEAN NOT NULL,
    summary TEXT NOT NULL,
    division TEXT NOT NULL,
    stage TEXT NOT NULL,
    next_due_on DATE,
    event_count INTEGER NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_stage ON cases (stage);
CREATE INDEX cases_financial_year ON cases (financial_year);
CREATE INDEX cases_next_due ON cases (next_due_on);

CREATE TABLE case_events (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    sequence INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    data TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (case_id, sequence)
);

CREATE TABLE case_people (
    case_id TEXT NOT NULL REFERENCES cases (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    relation TEXT NOT NULL,
    since DATE NOT NULL,
    PRIMARY KEY (case_id, user_id, relation)
);
CREATE INDEX case_people_user ON case_people (user_id, relation);

CREATE TABLE deadlines (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    rule_id TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    instance INTEGER NOT NULL,
    label TEXT NOT NULL,
    role TEXT NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL,
    met_on DATE,
    trigger_event TEXT NOT NULL,
    trigger_on DATE NOT NULL,
    explanation TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (case_id, rule_id, instance)
);
CREATE INDEX deadlines_status_due ON deadlines (status, due_on);

CREATE TABLE calendar_days (
    id TEXT PRIMARY KEY NOT NULL,
    division TEXT,
    day DATE NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    notes TEXT NOT NULL,
    bunting BOOLEAN NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX calendar_days_day ON calendar_days (day);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    actor_role TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    case_id TEXT,
    subject TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_case ON audit_log (case_id, seq);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    recipient_id TEXT REFERENCES users (id),
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    case_id TEXT,
    deadline_id TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);
