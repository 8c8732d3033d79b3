DROP TABLE key_rotations;
DROP INDEX cases_identity_key;
ALTER TABLE cases DROP COLUMN identity_key_id;
ALTER TABLE cases DROP COLUMN child_name_index;
ALTER TABLE cases DROP COLUMN child_dob_sealed;
ALTER TABLE cases DROP COLUMN child_name_sealed;
