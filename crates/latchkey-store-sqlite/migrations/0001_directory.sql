-- Latchkey schema, SQLite flavour. The PostgreSQL twin has the same file name and the same
-- tables, columns, constraint names and indexes; only column types and the audit trigger
-- differ. Ids are BLOB (16-byte UUIDs), instants BIGINT microseconds since the Unix epoch
-- (UTC), JSON values TEXT. Text compares bytewise (BINARY), as the "C" collation does on
-- PostgreSQL. Every row carries org_id, and references between rows go through
-- (org_id, id) pairs so a row can never point into another organisation.

CREATE TABLE organisations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organisations_slug_key ON organisations (slug);

CREATE TABLE groups (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT,
    group_type TEXT,
    parent_id BLOB,
    disabled BOOLEAN NOT NULL,
    active_since BIGINT,
    active_until BIGINT,
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT groups_org_key UNIQUE (org_id, id),
    CONSTRAINT groups_parent_fkey FOREIGN KEY (org_id, parent_id) REFERENCES groups (org_id, id)
);
CREATE UNIQUE INDEX groups_name_key ON groups (org_id, name);
CREATE INDEX groups_parent_idx ON groups (org_id, parent_id);
CREATE INDEX groups_group_type_idx ON groups (org_id, group_type);
CREATE INDEX groups_disabled_idx ON groups (org_id, disabled);

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    user_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    middle_name TEXT,
    last_name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    email TEXT,
    mail_aliases TEXT NOT NULL,
    user_type TEXT,
    primary_group_id BLOB NOT NULL,
    enabled BOOLEAN NOT NULL,
    multi_session BOOLEAN NOT NULL,
    comments TEXT,
    attributes TEXT NOT NULL,
    installation_admin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT users_org_key UNIQUE (org_id, id),
    CONSTRAINT users_primary_group_fkey FOREIGN KEY (org_id, primary_group_id) REFERENCES groups (org_id, id)
);
CREATE UNIQUE INDEX users_user_name_key ON users (org_id, user_name);
CREATE UNIQUE INDEX users_email_key ON users (org_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX users_last_name_idx ON users (org_id, last_name, id);
CREATE INDEX users_created_at_idx ON users (org_id, created_at, id);
CREATE INDEX users_primary_group_idx ON users (org_id, primary_group_id);
CREATE INDEX users_user_type_idx ON users (org_id, user_type);
CREATE INDEX users_enabled_idx ON users (org_id, enabled);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    user_id BLOB NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    CONSTRAINT api_tokens_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (org_id, user_id, id);

CREATE TABLE memberships (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    user_id BLOB NOT NULL,
    group_id BLOB NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    comments TEXT,
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT memberships_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    CONSTRAINT memberships_group_fkey FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id)
);
CREATE INDEX memberships_org_idx ON memberships (org_id, id);
CREATE INDEX memberships_user_idx ON memberships (org_id, user_id, id);
CREATE INDEX memberships_group_idx ON memberships (org_id, group_id, id);

CREATE TABLE systems (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT,
    system_type TEXT NOT NULL CHECK (system_type IN ('application', 'container', 'business')),
    parent_id BLOB,
    owner_id BLOB,
    notification_emails TEXT NOT NULL,
    approval_process BOOLEAN NOT NULL,
    single_role BOOLEAN NOT NULL,
    builtin BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT systems_org_key UNIQUE (org_id, id),
    CONSTRAINT systems_parent_fkey FOREIGN KEY (org_id, parent_id) REFERENCES systems (org_id, id),
    CONSTRAINT systems_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE UNIQUE INDEX systems_name_key ON systems (org_id, name);
CREATE INDEX systems_parent_idx ON systems (org_id, parent_id);
CREATE INDEX systems_owner_idx ON systems (org_id, owner_id);

CREATE TABLE domains (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    system_id BLOB NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    domain_values TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT domains_org_key UNIQUE (org_id, id),
    CONSTRAINT domains_system_fkey FOREIGN KEY (org_id, system_id) REFERENCES systems (org_id, id)
);
CREATE UNIQUE INDEX domains_name_key ON domains (org_id, system_id, name);

CREATE TABLE roles (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    system_id BLOB NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    category TEXT,
    domain_type TEXT NOT NULL CHECK (domain_type IN ('none', 'groups', 'systems', 'custom')),
    domain_id BLOB,
    external_id TEXT,
    owner_id BLOB,
    privileged BOOLEAN NOT NULL,
    permissions TEXT NOT NULL,
    system_role BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT roles_org_key UNIQUE (org_id, id),
    CONSTRAINT roles_domain_check CHECK ((domain_type = 'custom') = (domain_id IS NOT NULL)),
    CONSTRAINT roles_system_fkey FOREIGN KEY (org_id, system_id) REFERENCES systems (org_id, id),
    CONSTRAINT roles_domain_fkey FOREIGN KEY (org_id, domain_id) REFERENCES domains (org_id, id),
    CONSTRAINT roles_owner_fkey FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE UNIQUE INDEX roles_name_key ON roles (org_id, system_id, name);
CREATE INDEX roles_sort_idx ON roles (org_id, name, id);
CREATE INDEX roles_domain_idx ON roles (org_id, domain_id);
CREATE INDEX roles_owner_idx ON roles (org_id, owner_id);
CREATE INDEX roles_privileged_idx ON roles (org_id, privileged);

CREATE TABLE role_inheritance (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    parent_role_id BLOB NOT NULL,
    child_role_id BLOB NOT NULL,
    mandatory BOOLEAN NOT NULL,
    scope_mode TEXT NOT NULL CHECK (scope_mode IN ('none', 'same', 'fixed')),
    scope_value TEXT,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT role_inheritance_scope_check CHECK ((scope_mode = 'fixed') = (scope_value IS NOT NULL)),
    CONSTRAINT role_inheritance_parent_fkey FOREIGN KEY (org_id, parent_role_id) REFERENCES roles (org_id, id),
    CONSTRAINT role_inheritance_child_fkey FOREIGN KEY (org_id, child_role_id) REFERENCES roles (org_id, id)
);
CREATE UNIQUE INDEX role_inheritance_child_role_id_key ON role_inheritance (org_id, parent_role_id, child_role_id);
CREATE INDEX role_inheritance_org_idx ON role_inheritance (org_id, id);
CREATE INDEX role_inheritance_child_idx ON role_inheritance (org_id, child_role_id, id);

CREATE TABLE grants (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    role_id BLOB NOT NULL,
    user_id BLOB,
    group_id BLOB,
    scope TEXT,
    starts_at BIGINT,
    ends_at BIGINT,
    status TEXT NOT NULL CHECK (status IN ('active', 'pending_approval', 'pending_revoke', 'scheduled', 'expired')),
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'rule', 'inheritance')),
    parent_grant_id BLOB,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL,
    CONSTRAINT grants_org_key UNIQUE (org_id, id),
    CONSTRAINT grants_grantee_check CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT grants_role_fkey FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id),
    CONSTRAINT grants_user_fkey FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    CONSTRAINT grants_group_fkey FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id),
    CONSTRAINT grants_parent_fkey FOREIGN KEY (org_id, parent_grant_id) REFERENCES grants (org_id, id)
);
CREATE INDEX grants_role_idx ON grants (org_id, role_id, id);
CREATE INDEX grants_user_idx ON grants (org_id, user_id, id);
CREATE INDEX grants_group_idx ON grants (org_id, group_id, id);
CREATE INDEX grants_status_idx ON grants (org_id, status, id);
CREATE INDEX grants_origin_idx ON grants (org_id, origin, id);
CREATE INDEX grants_parent_idx ON grants (org_id, parent_grant_id, id);

CREATE TABLE attribute_definitions (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    object_type TEXT NOT NULL CHECK (object_type IN ('user', 'group', 'membership')),
    name TEXT NOT NULL,
    label TEXT,
    data_type TEXT NOT NULL CHECK (data_type IN ('string', 'number', 'boolean', 'date', 'email', 'reference')),
    required BOOLEAN NOT NULL,
    is_unique BOOLEAN NOT NULL,
    allowed_values TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX attribute_definitions_name_key ON attribute_definitions (org_id, object_type, name);
CREATE INDEX attribute_definitions_position_idx ON attribute_definitions (org_id, position, name);

-- Custom-attribute values of users, groups and memberships, rendered as text, for unique
-- checks and attribute filters. No foreign key to the object (it may be of three tables);
-- the store deletes an object's values with the object.
CREATE TABLE attribute_values (
    org_id BLOB NOT NULL REFERENCES organisations (id),
    object_type TEXT NOT NULL CHECK (object_type IN ('user', 'group', 'membership')),
    object_id BLOB NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX attribute_values_object_idx ON attribute_values (org_id, object_type, object_id);
CREATE INDEX attribute_values_value_idx ON attribute_values (org_id, object_type, name, value);

CREATE TABLE user_types (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    code TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_types_code_key ON user_types (org_id, code);

CREATE TABLE mail_domains (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    code TEXT NOT NULL,
    description TEXT,
    obsolete BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BLOB,
    updated_at BIGINT NOT NULL,
    updated_by BLOB,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX mail_domains_code_key ON mail_domains (org_id, code);

-- The audit trail: append-only, one hash chain per organisation (see latchkey_model::audit).
-- actor_id has no foreign key: entries outlive the users they name.
CREATE TABLE audit (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    "before" TEXT,
    "after" TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_seq_key ON audit (org_id, seq);
CREATE INDEX audit_object_idx ON audit (org_id, object_type, object_id, seq);
CREATE INDEX audit_actor_idx ON audit (org_id, actor_id, seq);
CREATE INDEX audit_action_idx ON audit (org_id, action, seq);
CREATE INDEX audit_at_idx ON audit (org_id, at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
