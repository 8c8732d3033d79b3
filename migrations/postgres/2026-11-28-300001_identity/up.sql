-- Identity (issue 13): how each token was obtained, TOTP second factors with recovery codes,
-- one-time links (invitations, password resets), single sign-on subjects, and the short-lived
-- state of a sign-in in progress (an SSO round trip, or a password waiting for its code).

-- password, password_otp, sso, setup, invitation
ALTER TABLE auth_tokens ADD COLUMN method TEXT NOT NULL DEFAULT 'password';

CREATE TABLE user_mfa (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    -- Base32 TOTP secrets: the confirmed one, and one being enrolled.
    secret TEXT,
    pending_secret TEXT,
    confirmed_at TIMESTAMP,
    -- The last 30-second step a code was accepted for: no code is accepted twice.
    last_step BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    -- Made with a secret not yet confirmed.
    pending BOOLEAN NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Only a hash of each link's token is kept. purpose: invitation, password_reset.
CREATE TABLE one_time_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose);

CREATE TABLE oidc_identities (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    bound_at TIMESTAMP NOT NULL,
    UNIQUE (issuer, subject)
);

-- kind: sso (state → nonce, PKCE verifier) or second_factor (password accepted, code awaited).
-- Keyed by a hash of the state or challenge; browser_hash binds it to the browser that began it.
CREATE TABLE sign_in_flows (
    id_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    browser_hash TEXT NOT NULL,
    nonce TEXT,
    pkce_verifier TEXT,
    next_path TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
