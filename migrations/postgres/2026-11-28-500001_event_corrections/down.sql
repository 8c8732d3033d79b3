DROP INDEX case_events_supersedes;
ALTER TABLE case_events DROP COLUMN change_reason;
ALTER TABLE case_events DROP COLUMN supersedes;
