-- Invitations to join an organisation. Only the SHA-256 of an invitation's secret is kept;
-- `accepted_at` is set once, by the one request that accepts it, and names the user made.
CREATE TABLE invitations (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL,
    role_id UUID NOT NULL,
    group_id UUID,
    token_hash TEXT NOT NULL,
    invited_by UUID NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    user_id UUID,
    revoked_at BIGINT,
    revoked_by UUID,
    CONSTRAINT invitations_role_fkey FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE INDEX invitations_org_email_idx ON invitations (org_id, email);
