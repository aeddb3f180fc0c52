-- Segregation-of-duties rules. The role list and the matrix are kept on the rule as JSON
-- (what reads need, in the client's order); sod_rule_roles repeats the role list as rows
-- so that a role named by a rule cannot be deleted under it (the foreign key) and the
-- rules naming a role are found by index.
CREATE TABLE sod_rules (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    system_id UUID NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('all', 'some', 'matrix')),
    risk TEXT NOT NULL CHECK (risk IN ('none', 'low', 'high', 'forbidden')),
    role_ids TEXT NOT NULL,
    threshold BIGINT,
    matrix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by UUID,
    updated_at BIGINT NOT NULL,
    updated_by UUID,
    version BIGINT NOT NULL,
    CONSTRAINT sod_rules_org_key UNIQUE (org_id, id),
    CONSTRAINT sod_rules_threshold_check CHECK ((kind = 'some') = (threshold IS NOT NULL)),
    CONSTRAINT sod_rules_system_fkey FOREIGN KEY (org_id, system_id) REFERENCES systems (org_id, id)
);
CREATE UNIQUE INDEX sod_rules_name_key ON sod_rules (org_id, system_id, name);
CREATE INDEX sod_rules_sort_idx ON sod_rules (org_id, name, id);

CREATE TABLE sod_rule_roles (
    org_id UUID NOT NULL,
    rule_id UUID NOT NULL,
    role_id UUID NOT NULL,
    PRIMARY KEY (org_id, rule_id, role_id),
    CONSTRAINT sod_rule_roles_rule_fkey FOREIGN KEY (org_id, rule_id) REFERENCES sod_rules (org_id, id) ON DELETE CASCADE,
    CONSTRAINT sod_rule_roles_role_fkey FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id)
);
CREATE INDEX sod_rule_roles_role_idx ON sod_rule_roles (org_id, role_id);
