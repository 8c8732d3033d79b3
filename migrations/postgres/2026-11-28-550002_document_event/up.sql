-- A document may be linked to the case event it belongs to (the draft discussed at a review
-- meeting). Checked in code: the event must be one of the document's case.
ALTER TABLE documents ADD COLUMN event_id TEXT;
