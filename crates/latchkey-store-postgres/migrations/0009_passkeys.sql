-- Passkeys (WebAuthn credentials) and the ceremonies that register and use them.
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

-- A registration or sign-in in progress: the server's half of the WebAuthn exchange, used
-- once (deleted by the request that finishes it) and valid a few minutes. Kept in the
-- store, not in memory, so that replicas can finish what another began.
CREATE TABLE webauthn_ceremonies (
    id UUID PRIMARY KEY,
    org_id UUID,
    user_id UUID,
    session_id UUID,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_idx ON webauthn_ceremonies (expires_at);

-- Whether a session's user proved a passkey in it (role policies may ask for one after a
-- magic-link sign-in).
ALTER TABLE sessions ADD COLUMN passkey_verified_at BIGINT;
