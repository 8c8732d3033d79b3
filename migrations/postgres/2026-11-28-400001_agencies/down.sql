ALTER TABLE users ADD COLUMN agency TEXT;
UPDATE users SET agency = (SELECT a.name FROM agencies a WHERE a.id = users.agency_id);
DROP INDEX users_agency;
ALTER TABLE users DROP COLUMN agency_id;
DROP INDEX agencies_name_key;
DROP TABLE agencies;
