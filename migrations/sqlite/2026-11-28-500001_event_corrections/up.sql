-- Corrections, append-only (issue 10 §3): a correction or a void is a new entry that names the
-- entry it supersedes and why. A void is an entry of type 'void' (its data '{}'). Each entry is
-- superseded at most once; the replay uses the entries nothing supersedes.
ALTER TABLE case_events ADD COLUMN supersedes TEXT;
ALTER TABLE case_events ADD COLUMN change_reason TEXT;
CREATE UNIQUE INDEX case_events_supersedes ON case_events (supersedes);
