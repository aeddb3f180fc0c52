-- Magic links: single-use sign-in links sent by mail. Only the SHA-256 of a link's secret
-- is kept; `used_at` is set once, by the one request that uses it.
CREATE TABLE magic_links (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    user_id UUID NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    ip TEXT,
    CONSTRAINT magic_links_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX magic_links_token_hash_key ON magic_links (token_hash);
