-- A case's revision (issue 15): the triggers below bump `cases.rev` in the same transaction
-- as any change to what a case's page and view show beyond the case row itself (its events,
-- deadlines, people, documents and their versions, learning themes, meeting agendas), and the
-- `users_rev` setting when a person's name or whether their account is active changes. The
-- service keeps what it read of a case in memory (src/rev_cache.rs) and uses it only while
-- both revisions, read with the case row on every request, are the ones it was read at; so
-- every instance sharing the database sees each change at once, whoever made it.
ALTER TABLE cases ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER case_events_rev_insert AFTER INSERT ON case_events BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER case_events_rev_update AFTER UPDATE ON case_events BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_events_rev_delete AFTER DELETE ON case_events BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

CREATE TRIGGER deadlines_rev_insert AFTER INSERT ON deadlines BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER deadlines_rev_update AFTER UPDATE ON deadlines BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER deadlines_rev_delete AFTER DELETE ON deadlines BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

CREATE TRIGGER case_people_rev_insert AFTER INSERT ON case_people BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER case_people_rev_update AFTER UPDATE ON case_people BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_people_rev_delete AFTER DELETE ON case_people BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

CREATE TRIGGER documents_rev_insert AFTER INSERT ON documents BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER documents_rev_update AFTER UPDATE ON documents BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER documents_rev_delete AFTER DELETE ON documents BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

CREATE TRIGGER case_themes_rev_insert AFTER INSERT ON case_themes BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER case_themes_rev_update AFTER UPDATE ON case_themes BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER case_themes_rev_delete AFTER DELETE ON case_themes BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

CREATE TRIGGER meeting_agenda_rev_insert AFTER INSERT ON meeting_agenda BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
END;
CREATE TRIGGER meeting_agenda_rev_update AFTER UPDATE ON meeting_agenda BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
END;
CREATE TRIGGER meeting_agenda_rev_delete AFTER DELETE ON meeting_agenda BEGIN
    UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
END;

-- A version belongs to a case through its document.
CREATE TRIGGER document_versions_rev_insert AFTER INSERT ON document_versions BEGIN
    UPDATE cases SET rev = rev + 1
    WHERE id = (SELECT case_id FROM documents WHERE id = NEW.document_id);
END;
CREATE TRIGGER document_versions_rev_update AFTER UPDATE ON document_versions BEGIN
    UPDATE cases SET rev = rev + 1
    WHERE id IN (SELECT case_id FROM documents WHERE id IN (OLD.document_id, NEW.document_id));
END;
CREATE TRIGGER document_versions_rev_delete AFTER DELETE ON document_versions BEGIN
    UPDATE cases SET rev = rev + 1
    WHERE id = (SELECT case_id FROM documents WHERE id = OLD.document_id);
END;

-- Names and active accounts are shown on every case that mentions the person.
CREATE TRIGGER users_rev AFTER UPDATE OF name, active ON users
WHEN OLD.name IS NOT NEW.name OR OLD.active IS NOT NEW.active BEGIN
    INSERT INTO settings (key, value) VALUES ('users_rev', '1')
    ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT);
END;
