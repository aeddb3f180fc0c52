-- Approvals. A system names the role whose holders decide its approval requests (with its
-- owner); the role cannot be deleted while a system names it (the foreign key).
ALTER TABLE systems ADD COLUMN approver_role_id UUID;
ALTER TABLE systems ADD CONSTRAINT systems_approver_role_fkey
    FOREIGN KEY (org_id, approver_role_id) REFERENCES roles (org_id, id);

-- One row per request to grant or revoke a role of a system with an approval process. The
-- row is history: it outlives its grant (a rejected grant or an approved revoke deletes
-- it), so it names the role, system and grantee itself, and it references grants and users
-- by id only, as the audit does. At most one request per grant is pending.
CREATE TABLE approval_requests (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    grant_id UUID NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
    system_id UUID NOT NULL,
    role_id UUID NOT NULL,
    user_id UUID,
    group_id UUID,
    scope TEXT,
    requested_by UUID,
    requested_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    decided_by UUID,
    decided_at BIGINT,
    comment TEXT,
    CONSTRAINT approval_requests_org_key UNIQUE (org_id, id),
    CONSTRAINT approval_requests_grantee_check CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT approval_requests_role_fkey FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE,
    CONSTRAINT approval_requests_system_fkey FOREIGN KEY (org_id, system_id) REFERENCES systems (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX approval_requests_pending_key ON approval_requests (org_id, grant_id) WHERE status = 'pending';
CREATE INDEX approval_requests_queue_idx ON approval_requests (org_id, status, system_id, id);
CREATE INDEX approval_requests_requester_idx ON approval_requests (org_id, requested_by, id);
CREATE INDEX approval_requests_grant_idx ON approval_requests (org_id, grant_id);
