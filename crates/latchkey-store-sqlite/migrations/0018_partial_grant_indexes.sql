-- Most grants are active, held by a user, made by hand or by a rule, and without a parent.
-- The indexes on the other values index only the rows a lookup by them looks for, so that
-- writing a grant (a rule run writes one per matching user) updates five fewer B-trees.
-- Lookups by a column (`group_id = $1`, `parent_grant_id = $1`) imply it is not null; the
-- status and origin filters say `status <> 'active'` and `origin = 'inheritance'` in words.
DROP INDEX grants_group_idx;
CREATE INDEX grants_group_idx ON grants (org_id, group_id, id) WHERE group_id IS NOT NULL;
DROP INDEX grants_parent_idx;
CREATE INDEX grants_parent_idx ON grants (org_id, parent_grant_id, id)
    WHERE parent_grant_id IS NOT NULL;
DROP INDEX grants_status_idx;
CREATE INDEX grants_status_idx ON grants (org_id, status, id) WHERE status <> 'active';
DROP INDEX grants_origin_idx;
CREATE INDEX grants_origin_idx ON grants (org_id, origin, id) WHERE origin = 'inheritance';
DROP INDEX history_grants_group_id_idx;
CREATE INDEX history_grants_group_id_idx ON history_grants (org_id, group_id, rev_from)
    WHERE group_id IS NOT NULL;
