-- Access reviews (recertification). A campaign covers the grants of a selection as they
-- were when it was created: each becomes an item that keeps what it reviewed (the grant's
-- id, role, grantee and scope, with names for display) even once the grant is revoked, so
-- items reference no grant, role or user by foreign key. The reviewers resolved for an
-- item are kept as JSON (what reads need) and as rows (a reviewer's queue by index).
-- grants.last_recertified_at is when a reviewer last confirmed the grant.
ALTER TABLE grants ADD COLUMN last_recertified_at BIGINT;

CREATE TABLE access_reviews (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT,
    selection_kind TEXT NOT NULL CHECK (selection_kind IN ('system', 'role', 'group', 'privileged')),
    selection_id BLOB,
    reviewer_kind TEXT NOT NULL CHECK (reviewer_kind IN ('role_owner', 'system_owner', 'manager')),
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    owner_id BLOB NOT NULL,
    closed_at BIGINT,
    closed_by BLOB,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT access_reviews_org_key UNIQUE (org_id, id),
    CONSTRAINT access_reviews_selection_check CHECK ((selection_kind = 'privileged') = (selection_id IS NULL))
);
CREATE INDEX access_reviews_sort_idx ON access_reviews (org_id, id);

CREATE TABLE access_review_items (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    campaign_id BLOB NOT NULL,
    grant_id BLOB NOT NULL,
    role_id BLOB NOT NULL,
    role_name TEXT NOT NULL,
    user_id BLOB,
    group_id BLOB,
    grantee_name TEXT NOT NULL,
    scope TEXT,
    reviewer_ids TEXT NOT NULL,
    reviewer_fallback BOOLEAN NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('pending', 'confirmed', 'revoked', 'not_reviewable')),
    decided_at BIGINT,
    decided_by BLOB,
    comment TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT access_review_items_org_key UNIQUE (org_id, id),
    CONSTRAINT access_review_items_grantee_check CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT access_review_items_campaign_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES access_reviews (org_id, id)
);
CREATE INDEX access_review_items_campaign_idx ON access_review_items (org_id, campaign_id, id);
CREATE INDEX access_review_items_decision_idx ON access_review_items (org_id, decision, id);

CREATE TABLE access_review_reviewers (
    org_id BLOB NOT NULL,
    item_id BLOB NOT NULL,
    reviewer_id BLOB NOT NULL,
    PRIMARY KEY (org_id, item_id, reviewer_id),
    CONSTRAINT access_review_reviewers_item_fkey FOREIGN KEY (org_id, item_id) REFERENCES access_review_items (org_id, id)
);
CREATE INDEX access_review_reviewers_reviewer_idx ON access_review_reviewers (org_id, reviewer_id, item_id);

-- Organisations seeded before this migration: their Administrator role (every product
-- permission) gains reviews.manage, as a new organisation's does.
UPDATE roles SET permissions = substr(permissions, 1, length(permissions) - 1) || ',"reviews.manage"]'
WHERE system_role AND name = 'Administrator' AND permissions <> '[]'
    AND permissions NOT LIKE '%"reviews.manage"%'
    AND system_id IN (SELECT id FROM systems WHERE builtin);
