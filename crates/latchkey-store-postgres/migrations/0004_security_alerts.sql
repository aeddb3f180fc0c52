-- Security Center alerts: raised by rules from security events (an account locked, a
-- privileged role granted, a password policy weakened), then acknowledged and resolved.
CREATE TABLE security_alerts (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES organisations (id),
    raised_at BIGINT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary TEXT NOT NULL,
    user_id UUID,
    event_id UUID NOT NULL REFERENCES security_events (id),
    status TEXT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by UUID,
    resolved_at BIGINT,
    resolved_by UUID,
    note TEXT
);
CREATE INDEX security_alerts_org_idx ON security_alerts (org_id, id);
CREATE INDEX security_alerts_status_idx ON security_alerts (org_id, status, id);
