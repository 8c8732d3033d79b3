-- One row per accepted web form submission: a double submit (the same form_id) is recognised
-- and answered with the first submission's result instead of recording twice.
CREATE TABLE form_submissions (
    form_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    result_url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
