ALTER TABLE documents DROP COLUMN event_id;
