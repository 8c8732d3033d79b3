DROP INDEX deadlines_pending_due;
DROP INDEX deadlines_case_status;
DROP INDEX cases_year_next_due;
DROP INDEX cases_stage_next_due;
DROP INDEX cases_list_next_due;
CREATE INDEX cases_financial_year ON cases (financial_year);
CREATE INDEX cases_stage ON cases (stage);
CREATE INDEX deadlines_status_due ON deadlines (status, due_on);
