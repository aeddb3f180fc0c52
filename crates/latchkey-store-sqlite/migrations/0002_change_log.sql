-- The change log, SQLite flavour: every write to a table the entitlement engine reads
-- appends (kind, id, removed) at the organisation's current revision, in the same
-- transaction, through triggers, so that no code path can forget it. An engine catches up by
-- reading entries after the last `seq` it applied and re-reading the rows they name.

CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BLOB NOT NULL REFERENCES organisations (id),
    revision BIGINT NOT NULL,
    kind TEXT NOT NULL,
    object_id BLOB NOT NULL,
    removed BOOLEAN NOT NULL
);
CREATE INDEX change_log_org_seq_idx ON change_log (org_id, seq);

CREATE TRIGGER users_log_insert AFTER INSERT ON users BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'user', NEW.id, FALSE);
END;

CREATE TRIGGER users_log_update AFTER UPDATE ON users BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'user', NEW.id, FALSE);
END;

CREATE TRIGGER users_log_delete AFTER DELETE ON users BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'user', OLD.id, TRUE);
END;

CREATE TRIGGER groups_log_insert AFTER INSERT ON groups BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'group', NEW.id, FALSE);
END;

CREATE TRIGGER groups_log_update AFTER UPDATE ON groups BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'group', NEW.id, FALSE);
END;

CREATE TRIGGER groups_log_delete AFTER DELETE ON groups BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'group', OLD.id, TRUE);
END;

CREATE TRIGGER memberships_log_insert AFTER INSERT ON memberships BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'membership', NEW.id, FALSE);
END;

CREATE TRIGGER memberships_log_update AFTER UPDATE ON memberships BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'membership', NEW.id, FALSE);
END;

CREATE TRIGGER memberships_log_delete AFTER DELETE ON memberships BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'membership', OLD.id, TRUE);
END;

CREATE TRIGGER systems_log_insert AFTER INSERT ON systems BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'system', NEW.id, FALSE);
END;

CREATE TRIGGER systems_log_update AFTER UPDATE ON systems BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'system', NEW.id, FALSE);
END;

CREATE TRIGGER systems_log_delete AFTER DELETE ON systems BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'system', OLD.id, TRUE);
END;

CREATE TRIGGER roles_log_insert AFTER INSERT ON roles BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'role', NEW.id, FALSE);
END;

CREATE TRIGGER roles_log_update AFTER UPDATE ON roles BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'role', NEW.id, FALSE);
END;

CREATE TRIGGER roles_log_delete AFTER DELETE ON roles BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'role', OLD.id, TRUE);
END;

CREATE TRIGGER role_inheritance_log_insert AFTER INSERT ON role_inheritance BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'inheritance', NEW.id, FALSE);
END;

CREATE TRIGGER role_inheritance_log_update AFTER UPDATE ON role_inheritance BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'inheritance', NEW.id, FALSE);
END;

CREATE TRIGGER role_inheritance_log_delete AFTER DELETE ON role_inheritance BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'inheritance', OLD.id, TRUE);
END;

CREATE TRIGGER grants_log_insert AFTER INSERT ON grants BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'grant', NEW.id, FALSE);
END;

CREATE TRIGGER grants_log_update AFTER UPDATE ON grants BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (NEW.org_id, (SELECT revision FROM organisations WHERE id = NEW.org_id), 'grant', NEW.id, FALSE);
END;

CREATE TRIGGER grants_log_delete AFTER DELETE ON grants BEGIN
    INSERT INTO change_log (org_id, revision, kind, object_id, removed)
    VALUES (OLD.org_id, (SELECT revision FROM organisations WHERE id = OLD.org_id), 'grant', OLD.id, TRUE);
END;
