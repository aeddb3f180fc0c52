-- Access history: every version of the rows the entitlement engine reads, so that effective
-- roles, memberships and holders can be answered as of any past instant, snapshots can be
-- exported and earlier states restored.
--
-- A version is the row as it was from revision `rev_from` (inclusive) to `rev_to`
-- (exclusive; NULL while it is current). Triggers keep the tables, in the same transaction
-- as the write, so no code path can forget them; a row changed twice within one revision
-- keeps only its last version. `revision_times` maps each revision to the instant of the
-- write that made it (the service's clock), which turns "as of T" into "as of the last
-- revision written at or before T".
--
-- The history of an organisation that existed before this migration begins at its revision
-- then: its rows are recorded as they were, at that revision and instant.
--
-- A migration that adds a column to one of these tables adds it to its history table and to
-- the trigger's column lists.

CREATE TABLE revision_times (
    org_id UUID NOT NULL REFERENCES organisations (id),
    revision BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (org_id, revision)
);
CREATE INDEX revision_times_at_idx ON revision_times (org_id, at, revision);

INSERT INTO revision_times (org_id, revision, at)
SELECT id, revision, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT FROM organisations;
CREATE TABLE history_users (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    user_name TEXT,
    first_name TEXT,
    middle_name TEXT,
    last_name TEXT,
    full_name TEXT,
    email TEXT,
    mail_aliases TEXT,
    user_type TEXT,
    primary_group_id UUID,
    enabled BOOLEAN,
    multi_session BOOLEAN,
    comments TEXT,
    attributes TEXT,
    installation_admin BOOLEAN,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT
);

CREATE INDEX history_users_id_idx ON history_users (org_id, id, rev_from);

CREATE INDEX history_users_primary_group_id_idx ON history_users (org_id, primary_group_id, rev_from);

INSERT INTO history_users (rev_from, rev_to, id, org_id, user_name, first_name, middle_name, last_name, full_name, email, mail_aliases, user_type, primary_group_id, enabled, multi_session, comments, attributes, installation_admin, created_at, created_by, updated_at, updated_by, version)
SELECT o.revision, NULL, t.id, t.org_id, t.user_name, t.first_name, t.middle_name, t.last_name, t.full_name, t.email, t.mail_aliases, t.user_type, t.primary_group_id, t.enabled, t.multi_session, t.comments, t.attributes, t.installation_admin, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version
FROM users t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_users_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_users WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_users SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_users (rev_from, rev_to, id, org_id, user_name, first_name, middle_name, last_name, full_name, email, mail_aliases, user_type, primary_group_id, enabled, multi_session, comments, attributes, installation_admin, created_at, created_by, updated_at, updated_by, version)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.user_name, NEW.first_name, NEW.middle_name, NEW.last_name, NEW.full_name, NEW.email, NEW.mail_aliases, NEW.user_type, NEW.primary_group_id, NEW.enabled, NEW.multi_session, NEW.comments, NEW.attributes, NEW.installation_admin, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_history AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION history_users_record();

CREATE TABLE history_groups (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    name TEXT,
    description TEXT,
    group_type TEXT,
    parent_id UUID,
    disabled BOOLEAN,
    active_since BIGINT,
    active_until BIGINT,
    attributes TEXT,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT
);

CREATE INDEX history_groups_id_idx ON history_groups (org_id, id, rev_from);

INSERT INTO history_groups (rev_from, rev_to, id, org_id, name, description, group_type, parent_id, disabled, active_since, active_until, attributes, created_at, created_by, updated_at, updated_by, version)
SELECT o.revision, NULL, t.id, t.org_id, t.name, t.description, t.group_type, t.parent_id, t.disabled, t.active_since, t.active_until, t.attributes, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version
FROM groups t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_groups_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_groups WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_groups SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_groups (rev_from, rev_to, id, org_id, name, description, group_type, parent_id, disabled, active_since, active_until, attributes, created_at, created_by, updated_at, updated_by, version)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.name, NEW.description, NEW.group_type, NEW.parent_id, NEW.disabled, NEW.active_since, NEW.active_until, NEW.attributes, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER groups_history AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION history_groups_record();

CREATE TABLE history_memberships (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    user_id UUID,
    group_id UUID,
    starts_at BIGINT,
    ends_at BIGINT,
    comments TEXT,
    attributes TEXT,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT
);

CREATE INDEX history_memberships_id_idx ON history_memberships (org_id, id, rev_from);

CREATE INDEX history_memberships_user_id_idx ON history_memberships (org_id, user_id, rev_from);

CREATE INDEX history_memberships_group_id_idx ON history_memberships (org_id, group_id, rev_from);

INSERT INTO history_memberships (rev_from, rev_to, id, org_id, user_id, group_id, starts_at, ends_at, comments, attributes, created_at, created_by, updated_at, updated_by, version)
SELECT o.revision, NULL, t.id, t.org_id, t.user_id, t.group_id, t.starts_at, t.ends_at, t.comments, t.attributes, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version
FROM memberships t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_memberships_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_memberships WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_memberships SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_memberships (rev_from, rev_to, id, org_id, user_id, group_id, starts_at, ends_at, comments, attributes, created_at, created_by, updated_at, updated_by, version)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.user_id, NEW.group_id, NEW.starts_at, NEW.ends_at, NEW.comments, NEW.attributes, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER memberships_history AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION history_memberships_record();

CREATE TABLE history_systems (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    name TEXT,
    description TEXT,
    system_type TEXT,
    parent_id UUID,
    owner_id UUID,
    notification_emails TEXT,
    approval_process BOOLEAN,
    single_role BOOLEAN,
    builtin BOOLEAN,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT,
    approver_role_id UUID
);

CREATE INDEX history_systems_id_idx ON history_systems (org_id, id, rev_from);

INSERT INTO history_systems (rev_from, rev_to, id, org_id, name, description, system_type, parent_id, owner_id, notification_emails, approval_process, single_role, builtin, created_at, created_by, updated_at, updated_by, version, approver_role_id)
SELECT o.revision, NULL, t.id, t.org_id, t.name, t.description, t.system_type, t.parent_id, t.owner_id, t.notification_emails, t.approval_process, t.single_role, t.builtin, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version, t.approver_role_id
FROM systems t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_systems_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_systems WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_systems SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_systems (rev_from, rev_to, id, org_id, name, description, system_type, parent_id, owner_id, notification_emails, approval_process, single_role, builtin, created_at, created_by, updated_at, updated_by, version, approver_role_id)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.name, NEW.description, NEW.system_type, NEW.parent_id, NEW.owner_id, NEW.notification_emails, NEW.approval_process, NEW.single_role, NEW.builtin, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version, NEW.approver_role_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER systems_history AFTER INSERT OR UPDATE OR DELETE ON systems
    FOR EACH ROW EXECUTE FUNCTION history_systems_record();

CREATE TABLE history_roles (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    system_id UUID,
    name TEXT,
    description TEXT,
    category TEXT,
    domain_type TEXT,
    domain_id UUID,
    external_id TEXT,
    owner_id UUID,
    privileged BOOLEAN,
    permissions TEXT,
    system_role BOOLEAN,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT
);

CREATE INDEX history_roles_id_idx ON history_roles (org_id, id, rev_from);

INSERT INTO history_roles (rev_from, rev_to, id, org_id, system_id, name, description, category, domain_type, domain_id, external_id, owner_id, privileged, permissions, system_role, created_at, created_by, updated_at, updated_by, version)
SELECT o.revision, NULL, t.id, t.org_id, t.system_id, t.name, t.description, t.category, t.domain_type, t.domain_id, t.external_id, t.owner_id, t.privileged, t.permissions, t.system_role, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version
FROM roles t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_roles_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_roles WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_roles SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_roles (rev_from, rev_to, id, org_id, system_id, name, description, category, domain_type, domain_id, external_id, owner_id, privileged, permissions, system_role, created_at, created_by, updated_at, updated_by, version)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.system_id, NEW.name, NEW.description, NEW.category, NEW.domain_type, NEW.domain_id, NEW.external_id, NEW.owner_id, NEW.privileged, NEW.permissions, NEW.system_role, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER roles_history AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION history_roles_record();

CREATE TABLE history_role_inheritance (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    parent_role_id UUID,
    child_role_id UUID,
    mandatory BOOLEAN,
    scope_mode TEXT,
    scope_value TEXT,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT
);

CREATE INDEX history_role_inheritance_id_idx ON history_role_inheritance (org_id, id, rev_from);

CREATE INDEX history_role_inheritance_parent_role_id_idx ON history_role_inheritance (org_id, parent_role_id, rev_from);

INSERT INTO history_role_inheritance (rev_from, rev_to, id, org_id, parent_role_id, child_role_id, mandatory, scope_mode, scope_value, created_at, created_by, updated_at, updated_by, version)
SELECT o.revision, NULL, t.id, t.org_id, t.parent_role_id, t.child_role_id, t.mandatory, t.scope_mode, t.scope_value, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version
FROM role_inheritance t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_role_inheritance_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_role_inheritance WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_role_inheritance SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_role_inheritance (rev_from, rev_to, id, org_id, parent_role_id, child_role_id, mandatory, scope_mode, scope_value, created_at, created_by, updated_at, updated_by, version)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.parent_role_id, NEW.child_role_id, NEW.mandatory, NEW.scope_mode, NEW.scope_value, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER role_inheritance_history AFTER INSERT OR UPDATE OR DELETE ON role_inheritance
    FOR EACH ROW EXECUTE FUNCTION history_role_inheritance_record();

CREATE TABLE history_grants (
    rev_from BIGINT NOT NULL,
    rev_to BIGINT,
    id UUID,
    org_id UUID,
    role_id UUID,
    user_id UUID,
    group_id UUID,
    scope TEXT,
    starts_at BIGINT,
    ends_at BIGINT,
    status TEXT,
    origin TEXT,
    parent_grant_id UUID,
    created_at BIGINT,
    created_by UUID,
    updated_at BIGINT,
    updated_by UUID,
    version BIGINT,
    rule_id UUID,
    last_recertified_at BIGINT
);

CREATE INDEX history_grants_id_idx ON history_grants (org_id, id, rev_from);

CREATE INDEX history_grants_user_id_idx ON history_grants (org_id, user_id, rev_from);

CREATE INDEX history_grants_group_id_idx ON history_grants (org_id, group_id, rev_from);

CREATE INDEX history_grants_role_id_idx ON history_grants (org_id, role_id, rev_from);

INSERT INTO history_grants (rev_from, rev_to, id, org_id, role_id, user_id, group_id, scope, starts_at, ends_at, status, origin, parent_grant_id, created_at, created_by, updated_at, updated_by, version, rule_id, last_recertified_at)
SELECT o.revision, NULL, t.id, t.org_id, t.role_id, t.user_id, t.group_id, t.scope, t.starts_at, t.ends_at, t.status, t.origin, t.parent_grant_id, t.created_at, t.created_by, t.updated_at, t.updated_by, t.version, t.rule_id, t.last_recertified_at
FROM grants t JOIN organisations o ON o.id = t.org_id;

CREATE FUNCTION history_grants_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rev BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT revision INTO rev FROM organisations WHERE id = NEW.org_id;
    ELSE
        SELECT revision INTO rev FROM organisations WHERE id = OLD.org_id;
        DELETE FROM history_grants WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL AND rev_from = rev;
        UPDATE history_grants SET rev_to = rev WHERE org_id = OLD.org_id AND id = OLD.id AND rev_to IS NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO history_grants (rev_from, rev_to, id, org_id, role_id, user_id, group_id, scope, starts_at, ends_at, status, origin, parent_grant_id, created_at, created_by, updated_at, updated_by, version, rule_id, last_recertified_at)
        VALUES (rev, NULL, NEW.id, NEW.org_id, NEW.role_id, NEW.user_id, NEW.group_id, NEW.scope, NEW.starts_at, NEW.ends_at, NEW.status, NEW.origin, NEW.parent_grant_id, NEW.created_at, NEW.created_by, NEW.updated_at, NEW.updated_by, NEW.version, NEW.rule_id, NEW.last_recertified_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER grants_history AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION history_grants_record();


-- Access snapshots: "who held what at `at`", pinned to the revision then in force; the
-- CSV is computed from the history above whenever it is downloaded.
CREATE TABLE access_snapshots (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    at BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    users BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by UUID
);
CREATE INDEX access_snapshots_org_idx ON access_snapshots (org_id, created_at, id);
