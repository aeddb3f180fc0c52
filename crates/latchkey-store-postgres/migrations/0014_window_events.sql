-- The start and end of dated memberships as the scheduler recorded them, once each: the
-- audit trail says when a membership took effect and ended without anyone acting, and
-- rules re-run for its user then. (Dated grants record theirs in their status.)
CREATE TABLE window_events (
    org_id UUID NOT NULL REFERENCES organisations (id),
    object_id UUID NOT NULL,
    edge TEXT NOT NULL CHECK (edge IN ('start', 'end')),
    at BIGINT NOT NULL,
    PRIMARY KEY (object_id, edge)
);
