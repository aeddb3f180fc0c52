-- Role security policy: what holding a role asks of its holders' sign-ins. A role with no
-- row asks nothing. A holder of several roles gets the strictest combination.
CREATE TABLE role_security_policies (
    org_id UUID NOT NULL,
    role_id UUID NOT NULL,
    require_passkey BOOLEAN NOT NULL,
    passkey_after_magic_link BOOLEAN NOT NULL,
    idle_timeout_minutes BIGINT,
    PRIMARY KEY (org_id, role_id),
    CONSTRAINT role_security_policies_role_fkey FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);
