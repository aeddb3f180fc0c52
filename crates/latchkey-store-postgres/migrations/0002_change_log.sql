-- The change log, PostgreSQL flavour: every write to a table the entitlement engine reads
-- appends (kind, id, removed) at the organisation's current revision, in the same
-- transaction, through triggers, so that no code path can forget it; and notifies channel
-- `latchkey_changes` with `org_id:revision`, delivered at commit, so that every server
-- sharing the database wakes up to catch up. PostgreSQL folds identical notifications of one
-- transaction into one.

CREATE TABLE change_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    revision BIGINT NOT NULL,
    kind TEXT NOT NULL,
    object_id UUID NOT NULL,
    removed BOOLEAN NOT NULL
);
CREATE INDEX change_log_org_seq_idx ON change_log (org_id, seq);

CREATE FUNCTION change_log_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_org UUID;
    row_id UUID;
    rev BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_org := OLD.org_id;
        row_id := OLD.id;
    ELSE
        row_org := NEW.org_id;
        row_id := NEW.id;
    END IF;
    SELECT revision INTO rev FROM organisations WHERE id = row_org;
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (row_org, rev, TG_ARGV[0], row_id, TG_OP = 'DELETE');
    PERFORM pg_notify('latchkey_changes', row_org::text || ':' || rev::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_log AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION change_log_append('user');

CREATE TRIGGER groups_log AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION change_log_append('group');

CREATE TRIGGER memberships_log AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION change_log_append('membership');

CREATE TRIGGER systems_log AFTER INSERT OR UPDATE OR DELETE ON systems
    FOR EACH ROW EXECUTE FUNCTION change_log_append('system');

CREATE TRIGGER roles_log AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION change_log_append('role');

CREATE TRIGGER role_inheritance_log AFTER INSERT OR UPDATE OR DELETE ON role_inheritance
    FOR EACH ROW EXECUTE FUNCTION change_log_append('inheritance');

CREATE TRIGGER grants_log AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION change_log_append('grant');
