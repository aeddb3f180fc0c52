-- Workspaces and their content. Every table carries org_id and workspace_id, and every
-- reference inside a workspace is a composite key with workspace_id in it, so a row of
-- one workspace can never point into another.
CREATE TABLE workspaces (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    owner_id UUID NOT NULL,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    created_by UUID NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT workspaces_org_key UNIQUE (org_id, id),
    CONSTRAINT workspaces_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE INDEX workspaces_owner_idx ON workspaces (org_id, owner_id);

-- Members, one role each. Removing a member removes them from the workspace's teams.
CREATE TABLE workspace_members (
    workspace_id UUID NOT NULL,
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    role TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    added_by UUID NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    CONSTRAINT workspace_members_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
    CONSTRAINT workspace_members_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX workspace_members_user_idx ON workspace_members (org_id, user_id);

CREATE TABLE workspace_teams (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT workspace_teams_ws_key UNIQUE (workspace_id, id),
    CONSTRAINT workspace_teams_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX workspace_teams_name_key ON workspace_teams (workspace_id, lower(name));

CREATE TABLE workspace_team_members (
    team_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    user_id UUID NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id),
    CONSTRAINT workspace_team_members_team_fkey FOREIGN KEY (workspace_id, team_id) REFERENCES workspace_teams (workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT workspace_team_members_member_fkey FOREIGN KEY (workspace_id, user_id) REFERENCES workspace_members (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX workspace_team_members_member_idx ON workspace_team_members (workspace_id, user_id);

-- Folders. `effective_rank` is the engine's effective minimum role (0 agent-only .. 4
-- owner), kept current by the service whenever a folder's tier or place changes: listing
-- queries filter on it.
CREATE TABLE folders (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    parent_id UUID,
    name TEXT NOT NULL,
    visibility TEXT NOT NULL,
    min_role TEXT,
    effective_rank BIGINT NOT NULL,
    owner_id UUID NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT folders_ws_key UNIQUE (workspace_id, id),
    CONSTRAINT folders_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
    CONSTRAINT folders_parent_fkey FOREIGN KEY (workspace_id, parent_id) REFERENCES folders (workspace_id, id),
    CONSTRAINT folders_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE INDEX folders_parent_idx ON folders (workspace_id, parent_id);
CREATE INDEX folders_owner_idx ON folders (org_id, owner_id);

CREATE TABLE documents (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    folder_id UUID NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    metadata TEXT NOT NULL,
    external_id TEXT,
    owner_id UUID NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    CONSTRAINT documents_folder_fkey FOREIGN KEY (workspace_id, folder_id) REFERENCES folders (workspace_id, id),
    CONSTRAINT documents_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
    CONSTRAINT documents_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE INDEX documents_workspace_idx ON documents (workspace_id, id);
CREATE INDEX documents_folder_idx ON documents (workspace_id, folder_id, id);
CREATE INDEX documents_owner_idx ON documents (org_id, owner_id);
CREATE UNIQUE INDEX documents_external_key ON documents (workspace_id, external_id) WHERE external_id IS NOT NULL;

-- Invitations into a workspace. Pending ones count against the plan's member limit.
CREATE TABLE workspace_invitations (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    invited_by UUID NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    user_id UUID,
    revoked_at BIGINT,
    CONSTRAINT workspace_invitations_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX workspace_invitations_token_hash_key ON workspace_invitations (token_hash);
CREATE INDEX workspace_invitations_email_idx ON workspace_invitations (workspace_id, lower(email));

-- Workspace API keys: read credentials, kept as the SHA-256 of their secret.
CREATE TABLE workspace_api_keys (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL,
    workspace_id UUID NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_by UUID NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    revoked_by UUID,
    CONSTRAINT workspace_api_keys_workspace_fkey FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX workspace_api_keys_token_hash_key ON workspace_api_keys (token_hash);
CREATE INDEX workspace_api_keys_workspace_idx ON workspace_api_keys (workspace_id);
CREATE INDEX workspace_api_keys_creator_idx ON workspace_api_keys (org_id, created_by);
