-- TOTP devices: a user's authenticator apps, a second factor at sign-in. The HMAC secret
-- is sealed (XChaCha20-Poly1305 under the installation's master key, the organisation and
-- device ids as associated data), never stored in the clear. `last_used_step` refuses a
-- replayed code; `failed_attempts` counts wrong codes since the last accepted one.
CREATE TABLE totp_devices (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    user_id BLOB NOT NULL,
    name TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    verified_at BIGINT,
    last_used_step BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    last_failure_at BIGINT,
    CONSTRAINT totp_devices_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX totp_devices_name_key ON totp_devices (org_id, user_id, name);
