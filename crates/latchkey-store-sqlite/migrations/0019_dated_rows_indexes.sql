-- The scheduler asks every second which grants and memberships a start or an end has come
-- due for. Without an index on those instants each question read every grant and every
-- membership of the organisation: 320,000 and 150,000 rows at the benchmark's size, a
-- fifth of a core all the time. These index only the dated rows, and of grants only those
-- a start or an end can still change, so undated writes pay nothing for them.
CREATE INDEX grants_starts_idx ON grants (org_id, starts_at)
    WHERE starts_at IS NOT NULL AND status = 'scheduled';
CREATE INDEX grants_ends_idx ON grants (org_id, ends_at)
    WHERE ends_at IS NOT NULL AND status IN ('scheduled', 'active');
CREATE INDEX memberships_starts_idx ON memberships (org_id, starts_at)
    WHERE starts_at IS NOT NULL;
CREATE INDEX memberships_ends_idx ON memberships (org_id, ends_at)
    WHERE ends_at IS NOT NULL;
