-- How far each organisation's membership edges are all recorded. A scheduler tick that
-- found everything that was due marks the organisation up to a minute before its clock,
-- and later ticks look only after the mark: without it, every tick read again every
-- start and end ever recorded, a cost growing with history. Edges at or before the mark
-- that are written later (dates set in the past) took effect when they were written.
CREATE TABLE schedule_marks (
    org_id BLOB NOT NULL PRIMARY KEY REFERENCES organisations (id),
    edges_through BIGINT NOT NULL
);
