-- Agencies as data: each user belongs to one (users.agency_id). The free-text agency names
-- users had are turned into agencies (one per name, compared without case or surrounding
-- spaces), then the text column goes.
CREATE TABLE agencies (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX agencies_name_key ON agencies (lower(name));

INSERT INTO agencies (id, name, created_at)
SELECT replace(gen_random_uuid()::text, '-', ''), min(trim(agency)), (now() AT TIME ZONE 'UTC')
FROM users
WHERE agency IS NOT NULL AND trim(agency) <> ''
GROUP BY lower(trim(agency));

ALTER TABLE users ADD COLUMN agency_id TEXT REFERENCES agencies (id);
UPDATE users SET agency_id = (
    SELECT a.id FROM agencies a WHERE lower(a.name) = lower(trim(users.agency))
);
ALTER TABLE users DROP COLUMN agency;
CREATE INDEX users_agency ON users (agency_id);
