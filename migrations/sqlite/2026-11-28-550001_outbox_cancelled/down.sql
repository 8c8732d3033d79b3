UPDATE outbox SET status = 'failed', last_error = 'cancelled: ' || cancelled_reason WHERE status = 'cancelled';
ALTER TABLE outbox DROP COLUMN cancelled_reason;
