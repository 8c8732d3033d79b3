-- Review documents and their versions. Files live in documents.dir named by their SHA-256;
-- a version sent to the Panel, Ofsted or the Secretary of State is locked.
CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_case ON documents (case_id);

CREATE TABLE document_versions (
    id TEXT PRIMARY KEY NOT NULL,
    document_id TEXT NOT NULL REFERENCES documents (id),
    number INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    locked_at TIMESTAMP,
    deleted_at TIMESTAMP,
    deleted_by TEXT REFERENCES users (id),
    delete_reason TEXT,
    UNIQUE (document_id, number)
);
CREATE INDEX document_versions_sha ON document_versions (sha256);
