DROP TABLE sign_in_flows;
DROP TABLE oidc_identities;
DROP TABLE one_time_links;
DROP TABLE recovery_codes;
DROP TABLE user_mfa;
ALTER TABLE auth_tokens DROP COLUMN method;
