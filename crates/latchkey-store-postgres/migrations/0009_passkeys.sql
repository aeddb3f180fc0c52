-- Passkeys (WebAuthn credentials) and the ceremonies that registered and used them.
-- `credential` is webauthn-rs's serialised credential: a public key and its counter, no
-- secret. A credential id is unique across the installation, since a discoverable sign-in
-- finds its passkey by it alone.
CREATE TABLE passkeys (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    user_id UUID NOT NULL,
    name TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    CONSTRAINT passkeys_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_idx ON passkeys (org_id, user_id);

-- The WebAuthn ceremonies already finished, until they expire: a ceremony's state travels
-- sealed to the client and back, and this is what makes each usable once.
CREATE TABLE webauthn_finished_ceremonies (
    id UUID PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_finished_ceremonies_expires_idx ON webauthn_finished_ceremonies (expires_at);

-- Whether a session's user proved a passkey in it (role policies may ask for one after a
-- magic-link sign-in).
ALTER TABLE sessions ADD COLUMN passkey_verified_at BIGINT;
