-- Sign-in: password hashes (PHC strings) with their history, failed-attempt counters,
-- sessions (only the SHA-256 of a session's secret), password policies per user type, and
-- the Security Center's events. None of these feed the entitlement engine, so none appends
-- to the change log.
CREATE TABLE passwords (
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    hash TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id),
    CONSTRAINT passwords_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE password_history (
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    hash TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    CONSTRAINT password_history_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX password_history_user_idx ON password_history (org_id, user_id, set_at);

CREATE TABLE sign_in_failures (
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (org_id, user_id),
    CONSTRAINT sign_in_failures_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    user_id UUID NOT NULL,
    method TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    ip TEXT,
    user_agent TEXT,
    CONSTRAINT sessions_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_user_idx ON sessions (org_id, user_id, id);

CREATE TABLE password_policies (
    org_id UUID NOT NULL REFERENCES organisations (id),
    user_type_id UUID REFERENCES user_types (id) ON DELETE CASCADE,
    min_length BIGINT NOT NULL,
    require_lowercase BOOLEAN NOT NULL,
    require_uppercase BOOLEAN NOT NULL,
    require_digit BOOLEAN NOT NULL,
    require_symbol BOOLEAN NOT NULL,
    history BIGINT NOT NULL,
    expiry_days BIGINT
);
CREATE UNIQUE INDEX password_policies_type_key ON password_policies (org_id, user_type_id) WHERE user_type_id IS NOT NULL;
CREATE UNIQUE INDEX password_policies_default_key ON password_policies (org_id) WHERE user_type_id IS NULL;

CREATE TABLE security_events (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id UUID,
    actor_id UUID,
    ip TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX security_events_org_idx ON security_events (org_id, id);
CREATE INDEX security_events_kind_idx ON security_events (org_id, kind, id);
CREATE INDEX security_events_user_idx ON security_events (org_id, user_id, id);
