-- Plans that do not depend on statistics (issue 15): the case list's first page is read in the
-- order of an index, with or without a stage or year filter; a case's deadlines by status are
-- one index range (SQLite, having no statistics, walked every pending deadline of every case
-- through deadlines_status_due instead); the sweep and My work read the pending deadlines due
-- by a date through the partial index that replaces it.
DROP INDEX deadlines_status_due;
DROP INDEX cases_stage;
DROP INDEX cases_financial_year;
CREATE INDEX cases_list_next_due ON cases ((next_due_on IS NULL), next_due_on, reference);
CREATE INDEX cases_stage_next_due ON cases (stage, (next_due_on IS NULL), next_due_on, reference);
CREATE INDEX cases_year_next_due ON cases (financial_year, (next_due_on IS NULL), next_due_on, reference);
CREATE INDEX deadlines_case_status ON deadlines (case_id, status, due_on);
CREATE INDEX deadlines_pending_due ON deadlines (due_on, case_id) WHERE status = 'pending';
