-- A case's revision (issue 15): the triggers below bump `cases.rev` in the same transaction
-- as any change to what a case's page and view show beyond the case row itself (its events,
-- deadlines, people, documents and their versions, learning themes, meeting agendas), and the
-- `users_rev` setting when a person's name or whether their account is active changes. The
-- service keeps what it read of a case in memory (src/rev_cache.rs) and uses it only while
-- both revisions, read with the case row on every request, are the ones it was read at; so
-- every instance sharing the database sees each change at once, whoever made it.
ALTER TABLE cases ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION case_rev_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE cases SET rev = rev + 1 WHERE id = NEW.case_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE cases SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id);
    ELSE
        UPDATE cases SET rev = rev + 1 WHERE id = OLD.case_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_events_rev AFTER INSERT OR UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();
CREATE TRIGGER deadlines_rev AFTER INSERT OR UPDATE OR DELETE ON deadlines
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();
CREATE TRIGGER case_people_rev AFTER INSERT OR UPDATE OR DELETE ON case_people
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();
CREATE TRIGGER documents_rev AFTER INSERT OR UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();
CREATE TRIGGER case_themes_rev AFTER INSERT OR UPDATE OR DELETE ON case_themes
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();
CREATE TRIGGER meeting_agenda_rev AFTER INSERT OR UPDATE OR DELETE ON meeting_agenda
    FOR EACH ROW EXECUTE FUNCTION case_rev_bump();

-- A version belongs to a case through its document.
CREATE FUNCTION document_version_rev_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE cases SET rev = rev + 1
        WHERE id = (SELECT case_id FROM documents WHERE id = NEW.document_id);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE cases SET rev = rev + 1
        WHERE id IN (SELECT case_id FROM documents WHERE id IN (OLD.document_id, NEW.document_id));
    ELSE
        UPDATE cases SET rev = rev + 1
        WHERE id = (SELECT case_id FROM documents WHERE id = OLD.document_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER document_versions_rev AFTER INSERT OR UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION document_version_rev_bump();

-- Names and active accounts are shown on every case that mentions the person.
CREATE FUNCTION users_rev_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO settings (key, value) VALUES ('users_rev', '1')
    ON CONFLICT (key) DO UPDATE SET value = (settings.value::bigint + 1)::text;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_rev AFTER UPDATE OF name, active ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION users_rev_bump();
