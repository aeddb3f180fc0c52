-- App items (orchestrations, drafts, sheets, meetings, templates, sequences): typed
-- objects with an owner and collaborators, optionally in a workspace; orchestrations can
-- be published to the whole organisation.
CREATE TABLE items (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    workspace_id UUID,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    owner_id UUID NOT NULL,
    published_at BIGINT,
    published_by UUID,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT items_org_key UNIQUE (org_id, id),
    CONSTRAINT items_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    CONSTRAINT items_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE INDEX items_owner_idx ON items (org_id, owner_id);
CREATE INDEX items_published_idx ON items (org_id, published_at);

CREATE TABLE item_collaborators (
    item_id UUID NOT NULL,
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    added_at BIGINT NOT NULL,
    added_by UUID NOT NULL,
    PRIMARY KEY (item_id, user_id),
    CONSTRAINT item_collaborators_item_fkey FOREIGN KEY (org_id, item_id) REFERENCES items (org_id, id) ON DELETE CASCADE,
    CONSTRAINT item_collaborators_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX item_collaborators_user_idx ON item_collaborators (org_id, user_id);

-- Organisation sharing setting; no row means unrestricted sharing (the default).
CREATE TABLE org_sharing (
    org_id UUID PRIMARY KEY REFERENCES organisations (id),
    unrestricted BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by UUID
);

-- What is left of a deleted user: enough for audit and history to name them.
CREATE TABLE deleted_users (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    user_name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    email TEXT,
    deleted_at BIGINT NOT NULL,
    deleted_by UUID,
    reassigned_to UUID
);
CREATE INDEX deleted_users_org_idx ON deleted_users (org_id, deleted_at);
