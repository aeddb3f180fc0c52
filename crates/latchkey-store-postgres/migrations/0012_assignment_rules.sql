-- Role assignment rules: a CEL expression over a user that, while true, grants the rule's
-- roles. The grants a rule makes carry its id (origin `rule`); a rule's runs record the
-- progress of applying it to every user.
CREATE TABLE assignment_rules (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT,
    expression TEXT NOT NULL,
    roles_expression TEXT,
    role_ids TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    created_by UUID,
    updated_at BIGINT NOT NULL,
    updated_by UUID,
    version BIGINT NOT NULL,
    CONSTRAINT assignment_rules_org_key UNIQUE (org_id, id),
    CONSTRAINT assignment_rules_name_key UNIQUE (org_id, name)
);

CREATE TABLE rule_runs (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    rule_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    total BIGINT NOT NULL,
    done BIGINT NOT NULL,
    granted BIGINT NOT NULL,
    revoked BIGINT NOT NULL,
    refused BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    message TEXT,
    started_by UUID,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    CONSTRAINT rule_runs_rule_fkey FOREIGN KEY (org_id, rule_id) REFERENCES assignment_rules (org_id, id) ON DELETE CASCADE
);
CREATE INDEX rule_runs_rule_idx ON rule_runs (org_id, rule_id, started_at);

-- No foreign key: SQLite cannot add a composite one to an existing table, and deleting a
-- rule revokes its grants first.
ALTER TABLE grants ADD COLUMN rule_id UUID;
CREATE INDEX grants_rule_idx ON grants (org_id, rule_id, user_id);
