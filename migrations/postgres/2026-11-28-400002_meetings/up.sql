-- Governance: the core members and chairs of the Sub-Group and the Board, their meetings
-- (agenda, attendance, deputies, guests, minutes, papers) and the decisions made at them,
-- with each agency's vote and the conflicts of interest that excluded members.

CREATE TABLE body_members (
    body TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    chair BOOLEAN NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (body, user_id)
);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    title TEXT NOT NULL,
    scheduled_on DATE NOT NULL,
    start_time TEXT,
    held_on DATE,
    quorum_needed INTEGER,
    signed_off_at TIMESTAMP,
    signed_off_by TEXT REFERENCES users (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX meetings_scheduled ON meetings (scheduled_on);

-- Who was there, as it stood when the attendance was recorded: the agency and core membership
-- are kept so the quorum of a past meeting never changes. kind: present, apologies, deputy
-- (for_member names the absent core member the deputy stood in for).
CREATE TABLE meeting_attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    for_member TEXT REFERENCES users (id),
    agency_id TEXT REFERENCES agencies (id),
    core_member BOOLEAN NOT NULL,
    chair BOOLEAN NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE meeting_guests (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    organisation TEXT NOT NULL
);
CREATE INDEX meeting_guests_meeting ON meeting_guests (meeting_id);

-- A deputy a core member named ahead of the meeting.
CREATE TABLE meeting_deputies (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    member_id TEXT NOT NULL REFERENCES users (id),
    deputy_id TEXT NOT NULL REFERENCES users (id),
    named_by TEXT NOT NULL REFERENCES users (id),
    named_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

CREATE TABLE meeting_agenda (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    position INTEGER NOT NULL,
    added_by TEXT NOT NULL REFERENCES users (id),
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);
CREATE INDEX meeting_agenda_case ON meeting_agenda (case_id);

-- Key points and minutes, per meeting (case_id NULL) and per agenda case. Every save is a new
-- revision; after the sign-off a revision is a correction and carries its reason.
CREATE TABLE meeting_minutes (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    case_id TEXT REFERENCES cases (id),
    revision INTEGER NOT NULL,
    text TEXT NOT NULL,
    correction_reason TEXT,
    written_by TEXT NOT NULL REFERENCES users (id),
    written_at TIMESTAMP NOT NULL
);
CREATE INDEX meeting_minutes_meeting ON meeting_minutes (meeting_id);

CREATE TABLE meeting_papers (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    deleted_by TEXT REFERENCES users (id),
    delete_reason TEXT
);
CREATE INDEX meeting_papers_meeting ON meeting_papers (meeting_id);
CREATE INDEX meeting_papers_sha ON meeting_papers (sha256);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    case_id TEXT REFERENCES cases (id),
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    outcome TEXT NOT NULL,
    votes_for INTEGER NOT NULL,
    votes_against INTEGER NOT NULL,
    abstentions INTEGER NOT NULL,
    casting_vote TEXT,
    casting_by TEXT REFERENCES users (id),
    tally TEXT NOT NULL,
    note TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX decisions_meeting ON decisions (meeting_id);
CREATE INDEX decisions_case ON decisions (case_id);

-- One vote per agency: the key says so.
CREATE TABLE decision_votes (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    vote TEXT NOT NULL,
    PRIMARY KEY (decision_id, agency_id)
);

-- Members excluded from a decision by a conflict of interest: declared at the meeting, or
-- earlier on the case.
CREATE TABLE decision_conflicts (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    declared TEXT NOT NULL,
    PRIMARY KEY (decision_id, user_id)
);
