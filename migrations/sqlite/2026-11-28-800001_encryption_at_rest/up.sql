-- Encryption at rest (issue 13 §4). The child's name and date of birth are kept in sealed
-- envelopes (AES-256-GCM under a data key wrapped by the master key); child_name_index is the
-- blind index of the name's words (HMAC tags). The plaintext columns child_name and child_dob
-- stay only for rows written before: start-up seals them and empties the plaintext.
ALTER TABLE cases ADD COLUMN child_name_sealed TEXT;
ALTER TABLE cases ADD COLUMN child_dob_sealed TEXT;
ALTER TABLE cases ADD COLUMN child_name_index TEXT;
ALTER TABLE cases ADD COLUMN identity_key_id TEXT;
CREATE INDEX cases_identity_key ON cases (identity_key_id);

-- One row per master key rotated to (`keys rotate`): its progress, so an interrupted rotation
-- resumes where it stopped.
CREATE TABLE key_rotations (
    key_id TEXT PRIMARY KEY NOT NULL,
    previous_key_id TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_done INTEGER NOT NULL,
    files_done INTEGER NOT NULL,
    file_cursor TEXT
);
